/* api-briefings.c — the briefing endpoints of the REST API (docs/api.md
 * "Briefings"): schedule, list, read and end a hospital briefing.  Each
 * handler: authenticate (done by the dispatcher), validate the whole
 * input, load the target, ask the policy, act, audit, reply.  A briefing
 * holds no patient data; its audit events name entity "Briefing". */
#include "api-priv.h"

#include <string.h>

#define BRIEFING_TITLE_MAX 200
/* Scheduling sanity: a briefing between these years (UTC). */
#define BRIEFING_YEAR_MIN 2000
#define BRIEFING_YEAR_MAX 2100

static json_t *
string_or_null (const char *text)
{
  return text ? json_string (text) : json_null ();
}

json_t *
api_briefing_json (const RecordsBriefing *briefing)
{
  return json_pack ("{s:s, s:s, s:s, s:o, s:s, s:s, s:o}", "id", briefing->id, "title",
                    briefing->title, "host_id", briefing->host_id, "facility_id",
                    string_or_null (briefing->facility_id), "scheduled_at",
                    briefing->scheduled_at, "status", briefing->status, "created_at",
                    string_or_null (briefing->created_at));
}

/* api_briefing_json with the host's display name (null when the host cannot
 * be read) and the briefing's WHIP and WHEP paths.  @names (may be NULL)
 * caches host id → name over a list. */
static json_t *
briefing_json_full (ApiRequest *request, const RecordsBriefing *briefing, GHashTable *names)
{
  json_t *out = api_briefing_json (briefing);
  g_autofree char *name = NULL;

  if (names != NULL && g_hash_table_contains (names, briefing->host_id)) {
    name = g_strdup (g_hash_table_lookup (names, briefing->host_id));
  } else {
    g_autoptr (RecordsUser) host = records_user_get (request->api->store, briefing->host_id,
                                                     NULL);

    name = host ? g_strdup (host->display_name) : NULL;
    if (names != NULL)
      g_hash_table_insert (names, g_strdup (briefing->host_id), g_strdup (name));
  }
  json_object_set_new (out, "host_name", string_or_null (name));
  json_object_set_new (out, "whip_path", json_sprintf ("/whip/%s", briefing->id));
  json_object_set_new (out, "whep_path", json_sprintf ("/whep/%s", briefing->id));
  return out;
}

static const char *
query_get (ApiRequest *request, const char *name)
{
  return request->query ? g_hash_table_lookup (request->query, name) : NULL;
}

/* @text passed FIELD_TIME (or signaling_auth_parse_time); TRUE when its
 * year is within the bounds. */
static gboolean
year_in_bounds (const char *text)
{
  g_autoptr (GDateTime) time = g_date_time_new_from_iso8601 (text, NULL);
  g_autoptr (GDateTime) utc = time ? g_date_time_to_utc (time) : NULL;
  int year = utc ? g_date_time_get_year (utc) : 0;

  return year >= BRIEFING_YEAR_MIN && year <= BRIEFING_YEAR_MAX;
}

/* The briefing @id, or NULL after replying 404 (or 500). */
static RecordsBriefing *
load_briefing (ApiRequest *request, const char *id)
{
  g_autoptr (GError) error = NULL;
  RecordsBriefing *briefing;

  if (!api_is_uuid (id)) {
    signaling_api_reply_error (request->msg, SOUP_STATUS_NOT_FOUND, "not-found",
                               "no such briefing", NULL);
    return NULL;
  }
  briefing = records_briefing_get (request->api->store, id, &error);
  if (briefing == NULL)
    api_reply_records_error (request, error, FALSE);
  return briefing;
}

static void
briefings_create (ApiRequest *request)
{
  static const FieldSpec fields[] = {
    { "title", FIELD_STRING, TRUE, 1, BRIEFING_TITLE_MAX },
    { "scheduled_at", FIELD_TIME, TRUE, 0, 0 },
  };
  g_autoptr (SignalingJson) body = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (RecordsBriefing) briefing = NULL;
  const char *title, *scheduled_at;

  if (!api_check_query (request, NULL)
      || !api_allow (request, SIGNALING_OP_BRIEFING_CREATE, NULL, "create", "Briefing", NULL,
                     NULL))
    return;
  body = api_read_valid_body (request, fields, G_N_ELEMENTS (fields));
  if (body == NULL)
    return;
  title = json_string_value (json_object_get (body, "title"));
  scheduled_at = json_string_value (json_object_get (body, "scheduled_at"));
  /* One line: api_validate lets \n and \t through for multi-line texts. */
  if (strpbrk (title, "\n\t") != NULL) {
    signaling_api_reply_error (request->msg, SOUP_STATUS_BAD_REQUEST, "invalid-field",
                               "must be one line", "title");
    return;
  }
  if (!year_in_bounds (scheduled_at)) {
    signaling_api_reply_error (request->msg, SOUP_STATUS_BAD_REQUEST, "invalid-field",
                               "must be between the years 2000 and 2100", "scheduled_at");
    return;
  }

  briefing = g_new0 (RecordsBriefing, 1);
  briefing->title = g_strdup (title);
  briefing->host_id = g_strdup (request->who->user_id);
  briefing->facility_id = g_strdup (request->who->facility_id);
  briefing->scheduled_at = g_strdup (scheduled_at);
  if (!records_briefing_create (request->api->store, briefing, request->who->user_id, &error)) {
    api_reply_records_error (request, error, FALSE);
    return;
  }
  api_audit (request, "create", "Briefing", briefing->id, NULL, "success", NULL);
  signaling_api_reply_json (request->msg, SOUP_STATUS_CREATED,
                            briefing_json_full (request, briefing, NULL));
}

static void
briefings_list (ApiRequest *request)
{
  static const char *const allowed[] = { "from", "to", NULL };
  const char *from = query_get (request, "from"), *to = query_get (request, "to");
  g_autoptr (GPtrArray) briefings = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autofree char *detail = NULL;
  gint64 seconds;
  json_t *list;

  if (!api_check_query (request, allowed)
      || !api_allow (request, SIGNALING_OP_BRIEFING_READ, NULL, "search", "Briefing", NULL, NULL))
    return;
  if (from && !signaling_auth_parse_time (from, &seconds)) {
    signaling_api_reply_error (request->msg, SOUP_STATUS_BAD_REQUEST, "invalid-field",
                               "an ISO-8601 time with a zone", "from");
    return;
  }
  if (to && !signaling_auth_parse_time (to, &seconds)) {
    signaling_api_reply_error (request->msg, SOUP_STATUS_BAD_REQUEST, "invalid-field",
                               "an ISO-8601 time with a zone", "to");
    return;
  }
  /* Without a range: the upcoming ones (planned or live, whatever their
   * date); with one: every briefing scheduled in it, ended ones too. */
  briefings = records_briefing_list (request->api->store, from, to, from == NULL && to == NULL,
                                     &error);
  if (briefings == NULL) {
    api_reply_records_error (request, error, FALSE);
    return;
  }
  list = json_array ();
  for (guint i = 0; i < briefings->len; i++)
    json_array_append_new (list, briefing_json_full (request, briefings->pdata[i], names));
  detail = g_strdup_printf ("%s; %zu found", from || to ? "range" : "upcoming",
                            json_array_size (list));
  api_audit (request, "search", "Briefing", NULL, NULL, "success", detail);
  signaling_api_reply_json (request->msg, SOUP_STATUS_OK, list);
}

static void
briefing_read (ApiRequest *request, const char *id)
{
  g_autoptr (RecordsBriefing) briefing = NULL;
  SignalingPolicyTarget target = { 0 };

  if (!api_check_query (request, NULL))
    return;
  briefing = load_briefing (request, id);
  if (briefing == NULL)
    return;
  target.briefing = briefing;
  if (!api_allow (request, SIGNALING_OP_BRIEFING_READ, &target, "read", "Briefing", id, NULL))
    return;
  api_audit (request, "read", "Briefing", id, NULL, "success", NULL);
  signaling_api_reply_json (request->msg, SOUP_STATUS_OK,
                            briefing_json_full (request, briefing, NULL));
}

/* The body of POST .../end: none, or an empty JSON object. */
static gboolean
read_empty_body (ApiRequest *request)
{
  SoupMessageBody *body = soup_server_message_get_request_body (request->msg);
  g_autoptr (SignalingJson) json = NULL;

  if (body == NULL || body->length == 0)
    return TRUE;
  json = api_read_valid_body (request, NULL, 0);
  return json != NULL;
}

static void
briefing_end (ApiRequest *request, const char *id)
{
  g_autoptr (RecordsBriefing) briefing = NULL;
  g_autoptr (RecordsBriefing) ended = NULL;
  g_autoptr (GError) error = NULL;
  SignalingPolicyTarget target = { 0 };
  gboolean was_ended;

  if (!api_check_query (request, NULL))
    return;
  briefing = load_briefing (request, id);
  if (briefing == NULL)
    return;
  target.briefing = briefing;
  if (!api_allow (request, SIGNALING_OP_BRIEFING_END, &target, "update", "Briefing", id, NULL)
      || !read_empty_body (request))
    return;
  was_ended = g_strcmp0 (briefing->status, "ended") == 0;
  if (!records_briefing_set_status (request->api->store, id, "ended", request->who->user_id,
                                    &error)) {
    api_reply_records_error (request, error, TRUE);
    return;
  }
  ended = records_briefing_get (request->api->store, id, &error);
  if (ended == NULL) {
    api_reply_records_error (request, error, FALSE);
    return;
  }
  if (!was_ended) {
    api_audit (request, "update", "Briefing", id, NULL, "success", "ended");
    signaling_api_notify_briefing (request->api, ended);
  }
  signaling_api_reply_json (request->msg, SOUP_STATUS_OK,
                            briefing_json_full (request, ended, NULL));
}

gboolean
api_briefings_dispatch (ApiRequest *request, char **segments, guint n)
{
  const char *allow = NULL;
  gboolean get = strcmp (request->method, "GET") == 0;
  gboolean post = strcmp (request->method, "POST") == 0;

  if (strcmp (segments[0], "briefings") != 0 || n > 3)
    return FALSE;
  if (n == 3 && strcmp (segments[2], "end") != 0)
    return FALSE;
  if (n == 1 && !get && !post)
    allow = "GET, POST";
  else if (n == 2 && !get)
    allow = "GET";
  else if (n == 3 && !post)
    allow = "POST";
  if (allow != NULL) {
    soup_message_headers_replace (soup_server_message_get_response_headers (request->msg),
                                  "Allow", allow);
    signaling_api_reply_error (request->msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method-not-allowed",
                               "method not allowed on this path", NULL);
    return TRUE;
  }
  /* 401 comes before anything about the request's content. */
  if (!api_require_principal (request))
    return TRUE;
  if (n == 1 && get)
    briefings_list (request);
  else if (n == 1)
    briefings_create (request);
  else if (n == 2)
    briefing_read (request, segments[1]);
  else
    briefing_end (request, segments[1]);
  return TRUE;
}
