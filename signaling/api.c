/* api.c — the REST API's routing, authentication, audit, validation and
 * the /api/auth, /api/me and invitation-redeem endpoints (see api.h). */
#include "api-priv.h"

#include <stdlib.h>
#include <string.h>

#include "password.h"

G_DEFINE_QUARK (signaling-api-error-quark, signaling_api_error)

/* ---- replies ------------------------------------------------------------ */

void
signaling_api_reply_json (SoupServerMessage *msg, guint status, json_t *body)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);

  soup_message_headers_replace (headers, "Cache-Control", "no-store");
  soup_message_headers_replace (headers, "X-Content-Type-Options", "nosniff");
  soup_server_message_set_status (msg, status, NULL);
  if (body != NULL) {
    char *text = json_dumps (body, JSON_COMPACT | JSON_ENCODE_ANY);

    json_decref (body);
    soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, text,
                                      strlen (text));
  }
}

void
signaling_api_reply_error (SoupServerMessage *msg, guint status, const char *code,
                           const char *message, const char *field)
{
  g_autofree char *safe_message = NULL, *safe_field = NULL;
  json_t *body;

  g_return_if_fail (msg != NULL && code != NULL);
  /* A message or field may quote the caller's bytes (a query value, a
   * parameter name): jansson takes only UTF-8, and the reply must not be
   * lost for it. */
  safe_message = g_utf8_make_valid (message ? message : code, -1);
  safe_field = field ? g_utf8_make_valid (field, -1) : NULL;
  body = json_pack ("{s:s, s:s}", "code", code, "message", safe_message);
  if (safe_field != NULL)
    json_object_set_new (body, "field", json_string (safe_field));
  signaling_api_reply_json (msg, status, body);
}

char *
signaling_api_client_address (SoupServerMessage *msg)
{
  const char *host = soup_server_message_get_remote_host (msg);

  return g_strdup (host);
}

/* ---- audit ------------------------------------------------------------- */

/* A copy the audit log accepts: NULL for NULL or "", else at most @max
 * characters (records refuses longer fields, and a refused audit event
 * must never be the cost of a long value from a caller). */
static char *
audit_field (const char *text, glong max)
{
  if (text == NULL || *text == '\0' || !g_utf8_validate (text, -1, NULL))
    return NULL;
  return g_utf8_strlen (text, -1) > max ? g_utf8_substring (text, 0, max) : g_strdup (text);
}

static void
audit_append (SignalingApi *api, const char *actor_id, const char *actor_role,
              const char *source, const char *action, const char *entity_type,
              const char *entity_id, const char *patient_id, const char *outcome,
              const char *detail)
{
  g_autoptr (RecordsAuditEvent) event = g_new0 (RecordsAuditEvent, 1);
  g_autoptr (GError) error = NULL;

  event->actor_id = audit_field (actor_id ? actor_id : "anonymous", 128);
  event->actor_role = audit_field (actor_role ? actor_role : "anonymous", 32);
  event->action = audit_field (action, 64);
  event->entity_type = audit_field (entity_type, 64);
  event->entity_id = audit_field (entity_id, 128);
  event->patient_id = audit_field (patient_id, 64);
  event->outcome = audit_field (outcome, 32);
  event->source = audit_field (source, 200);
  event->detail = audit_field (detail, 1000);
  if (!records_audit_append (api->store, event, &error))
    g_warning ("audit append failed (%s %s %s): %s", action, entity_type,
               outcome ? outcome : "", error->message);
}

void
signaling_api_audit (SignalingApi *api, const SignalingPrincipal *who, const char *source,
                     const char *action, const char *entity_type, const char *entity_id,
                     const char *patient_id, const char *outcome, const char *detail)
{
  g_return_if_fail (api != NULL && action != NULL && outcome != NULL);
  audit_append (api, who ? signaling_principal_actor_id (who) : NULL,
                who ? records_role_to_string (who->role) : NULL, source, action, entity_type,
                entity_id, patient_id, outcome, detail);
}

void
signaling_api_set_consent_listener (SignalingApi *api, SignalingApiConsentFunc func,
                                    gpointer user_data)
{
  g_return_if_fail (api != NULL);
  api->consent_listener = func;
  api->consent_listener_data = user_data;
}

void
signaling_api_notify_consent (SignalingApi *api, const RecordsConsent *consent)
{
  g_return_if_fail (api != NULL && consent != NULL);
  if (api->consent_listener)
    api->consent_listener (consent, api->consent_listener_data);
}

void
signaling_api_set_briefing_listener (SignalingApi *api, SignalingApiBriefingFunc func,
                                     gpointer user_data)
{
  g_return_if_fail (api != NULL);
  api->briefing_listener = func;
  api->briefing_listener_data = user_data;
}

void
signaling_api_notify_briefing (SignalingApi *api, const RecordsBriefing *briefing)
{
  g_return_if_fail (api != NULL && briefing != NULL);
  if (api->briefing_listener)
    api->briefing_listener (briefing, api->briefing_listener_data);
}

void
signaling_api_audit_system (SignalingApi *api, const char *action, const char *entity_type,
                            const char *entity_id, const char *patient_id, const char *outcome,
                            const char *detail)
{
  g_return_if_fail (api != NULL && action != NULL && outcome != NULL);
  audit_append (api, "system", "system", NULL, action, entity_type, entity_id, patient_id,
                outcome, detail);
}

void
api_audit (ApiRequest *request, const char *action, const char *entity_type,
           const char *entity_id, const char *patient_id, const char *outcome,
           const char *detail)
{
  signaling_api_audit (request->api, request->who, request->source, action, entity_type,
                       entity_id, patient_id, outcome, detail);
}

/* ---- authentication ----------------------------------------------------- */

SignalingPrincipal *
signaling_api_authenticate_token (SignalingApi *api, const char *token, GError **error)
{
  g_return_val_if_fail (api != NULL, NULL);
  return signaling_auth_authenticate (api->auth, token, error);
}

const char *
signaling_api_bearer_token (SoupServerMessage *msg)
{
  const char *value = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                    "Authorization");

  if (value == NULL || g_ascii_strncasecmp (value, "Bearer ", 7) != 0)
    return NULL;
  value += 7;
  while (*value == ' ')
    value++;
  return *value ? value : NULL;
}

SignalingPrincipal *
signaling_api_authenticate (SignalingApi *api, SoupServerMessage *msg)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *source = NULL, *path = NULL;
  SignalingPrincipal *principal;
  const char *token;
  int code;

  g_return_val_if_fail (api != NULL && msg != NULL, NULL);

  token = signaling_api_bearer_token (msg);
  if (token == NULL)
    g_set_error_literal (&error, SIGNALING_AUTH_ERROR, SIGNALING_AUTH_ERROR_UNAUTHENTICATED,
                         "an Authorization: Bearer token is required");
  principal = token ? signaling_auth_authenticate (api->auth, token, &error) : NULL;
  if (principal != NULL)
    return principal;

  code = error->domain == SIGNALING_AUTH_ERROR ? error->code : SIGNALING_AUTH_ERROR_INTERNAL;
  source = signaling_api_client_address (msg);
  /* The path as the entity, cut to what the audit log keeps (128). */
  path = g_strndup (g_uri_get_path (soup_server_message_get_uri (msg)), 120);
  audit_append (api, NULL, NULL, source, "access", "Endpoint", path, NULL,
                code == SIGNALING_AUTH_ERROR_INTERNAL ? "failure" : "denied",
                signaling_auth_error_code_string (code));
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "WWW-Authenticate", "Bearer realm=\"cau\"");
  signaling_api_reply_error (msg, signaling_auth_error_http_status (code),
                             signaling_auth_error_code_string (code),
                             code == SIGNALING_AUTH_ERROR_INTERNAL ? "internal error"
                                                                   : error->message,
                             NULL);
  return NULL;
}

gboolean
api_require_principal (ApiRequest *request)
{
  if (request->who == NULL)
    request->who = signaling_api_authenticate (request->api, request->msg);
  return request->who != NULL;
}

gboolean
api_allow (ApiRequest *request, SignalingOperation op, const SignalingPolicyTarget *target,
           const char *action, const char *entity_type, const char *entity_id,
           const char *patient_id)
{
  if (signaling_policy_allows (request->who, op, target))
    return TRUE;
  api_audit (request, action, entity_type, entity_id, patient_id, "denied",
             signaling_operation_to_string (op));
  signaling_api_reply_error (request->msg, SOUP_STATUS_FORBIDDEN, "forbidden",
                             "not allowed for this account", NULL);
  return FALSE;
}

/* ---- request bodies ----------------------------------------------------- */

json_t *
signaling_api_read_body (SoupServerMessage *msg, GError **error)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr (GBytes) bytes = NULL;
  json_error_t json_error;
  json_t *value;
  gsize length;
  const char *data;

  bytes = body ? soup_message_body_flatten (body) : NULL;
  data = bytes ? g_bytes_get_data (bytes, &length) : NULL;
  if (data == NULL)
    length = 0;
  if (length > SIGNALING_API_MAX_BODY) {
    g_set_error (error, SIGNALING_API_ERROR, SIGNALING_API_ERROR_TOO_LARGE,
                 "the body is over %d bytes", SIGNALING_API_MAX_BODY);
    return NULL;
  }
  if (length == 0) {
    g_set_error_literal (error, SIGNALING_API_ERROR, SIGNALING_API_ERROR_BAD_JSON,
                         "a JSON object body is required");
    return NULL;
  }
  value = json_loadb (data, length, JSON_REJECT_DUPLICATES, &json_error);
  if (value == NULL) {
    g_set_error (error, SIGNALING_API_ERROR, SIGNALING_API_ERROR_BAD_JSON,
                 "malformed JSON at line %d column %d: %s", json_error.line, json_error.column,
                 json_error.text);
    return NULL;
  }
  if (!json_is_object (value)) {
    json_decref (value);
    g_set_error_literal (error, SIGNALING_API_ERROR, SIGNALING_API_ERROR_BAD_JSON,
                         "the body must be a JSON object");
    return NULL;
  }
  return value;
}

gboolean
api_is_uuid (const char *text)
{
  if (text == NULL || strlen (text) != 36)
    return FALSE;
  for (int i = 0; i < 36; i++) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-')
        return FALSE;
    } else if (!g_ascii_isxdigit (text[i])) {
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
is_date (const char *text)
{
  int year, month, day;
  static const char *const shape = "dddd-dd-dd";

  if (strlen (text) != 10)
    return FALSE;
  for (int i = 0; i < 10; i++)
    if (shape[i] == 'd' ? !g_ascii_isdigit (text[i]) : text[i] != '-')
      return FALSE;
  year = atoi (text);
  month = atoi (text + 5);
  day = atoi (text + 8);
  return year >= 1850 && g_date_valid_dmy (day, month, year);
}

static gboolean
invalid_field (ApiRequest *request, const char *field, const char *message)
{
  signaling_api_reply_error (request->msg, SOUP_STATUS_BAD_REQUEST, "invalid-field", message,
                             field);
  return FALSE;
}

gboolean
api_validate (ApiRequest *request, json_t *body, const FieldSpec *specs, gsize n_specs)
{
  const char *name;
  json_t *value;

  json_object_foreach (body, name, value) {
    gboolean known = FALSE;

    for (gsize i = 0; i < n_specs && !known; i++)
      known = strcmp (specs[i].name, name) == 0;
    if (!known) {
      g_autofree char *shown = g_utf8_make_valid (name, MIN (strlen (name), 64));

      return invalid_field (request, shown, "unknown member");
    }
  }

  for (gsize i = 0; i < n_specs; i++) {
    const FieldSpec *spec = &specs[i];
    const char *text;
    gint64 number;

    value = json_object_get (body, spec->name);
    if (value == NULL || json_is_null (value)) {
      if (spec->required)
        return invalid_field (request, spec->name, "required");
      continue;
    }
    switch (spec->type) {
    case FIELD_STRING:
    case FIELD_UUID:
    case FIELD_TIME:
    case FIELD_DATE:
      if (!json_is_string (value))
        return invalid_field (request, spec->name, "must be a string");
      text = json_string_value (value);
      if (strlen (text) != json_string_length (value))
        return invalid_field (request, spec->name, "must not contain NUL");
      if (spec->type == FIELD_UUID && !api_is_uuid (text))
        return invalid_field (request, spec->name, "must be an identifier (UUID)");
      if (spec->type == FIELD_TIME) {
        gint64 seconds;

        if (!signaling_auth_parse_time (text, &seconds))
          return invalid_field (request, spec->name,
                                "must be an ISO-8601 time with a zone, e.g. 2026-11-22T08:30:00Z");
      }
      if (spec->type == FIELD_DATE && !is_date (text))
        return invalid_field (request, spec->name, "must be a date YYYY-MM-DD");
      if (spec->type == FIELD_STRING) {
        glong characters = g_utf8_strlen (text, -1);

        if (characters < spec->min || characters > spec->max) {
          g_autofree char *message =
            g_strdup_printf ("must be %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT " characters",
                             spec->min, spec->max);

          return invalid_field (request, spec->name, message);
        }
        for (const char *p = text; *p; p++)
          if ((guchar) *p < 0x20 && *p != '\n' && *p != '\t')
            return invalid_field (request, spec->name, "must not contain control characters");
      }
      break;
    case FIELD_BOOLEAN:
      if (!json_is_boolean (value))
        return invalid_field (request, spec->name, "must be true or false");
      break;
    case FIELD_INTEGER:
      if (!json_is_integer (value))
        return invalid_field (request, spec->name, "must be an integer");
      number = json_integer_value (value);
      if (number < spec->min || number > spec->max) {
        g_autofree char *message =
          g_strdup_printf ("must be %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT, spec->min,
                           spec->max);

        return invalid_field (request, spec->name, message);
      }
      break;
    case FIELD_UUID_ARRAY:
      if (!json_is_array (value))
        return invalid_field (request, spec->name, "must be an array of identifiers");
      if ((gint64) json_array_size (value) > spec->max)
        return invalid_field (request, spec->name, "too many elements");
      for (gsize j = 0; j < json_array_size (value); j++) {
        json_t *element = json_array_get (value, j);

        if (!json_is_string (element) || !api_is_uuid (json_string_value (element)))
          return invalid_field (request, spec->name, "must be an array of identifiers");
        for (gsize k = 0; k < j; k++)
          if (g_ascii_strcasecmp (json_string_value (json_array_get (value, k)),
                                  json_string_value (element)) == 0)
            return invalid_field (request, spec->name, "duplicate identifier");
      }
      break;
    }
  }
  return TRUE;
}

json_t *
api_read_valid_body (ApiRequest *request, const FieldSpec *specs, gsize n_specs)
{
  g_autoptr (GError) error = NULL;
  json_t *body = signaling_api_read_body (request->msg, &error);

  if (body == NULL) {
    gboolean too_large = error->code == SIGNALING_API_ERROR_TOO_LARGE;

    signaling_api_reply_error (request->msg,
                               too_large ? SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE
                                         : SOUP_STATUS_BAD_REQUEST,
                               too_large ? "too-large" : "bad-json", error->message, NULL);
    return NULL;
  }
  if (!api_validate (request, body, specs, n_specs)) {
    json_decref (body);
    return NULL;
  }
  return body;
}

gboolean
api_check_query (ApiRequest *request, const char *const *allowed)
{
  GHashTableIter iter;
  gpointer key, value;

  if (request->query == NULL)
    return TRUE;
  g_hash_table_iter_init (&iter, request->query);
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    gboolean known = FALSE;

    for (guint i = 0; allowed && allowed[i] && !known; i++)
      known = strcmp (allowed[i], key) == 0;
    if (!known) {
      g_autofree char *shown = g_utf8_make_valid (key, MIN (strlen (key), 64));

      return invalid_field (request, shown, "unknown query parameter");
    }
    if (strlen (value) > 256)
      return invalid_field (request, key, "too long");
    if (!g_utf8_validate (value, -1, NULL))
      return invalid_field (request, key, "not valid UTF-8");
  }
  return TRUE;
}

void
api_reply_records_error (ApiRequest *request, const GError *error, gboolean invalid_is_conflict)
{
  if (error != NULL && error->domain == RECORDS_ERROR) {
    switch (error->code) {
    case RECORDS_ERROR_NOT_FOUND:
      signaling_api_reply_error (request->msg, SOUP_STATUS_NOT_FOUND, "not-found",
                                 error->message, NULL);
      return;
    case RECORDS_ERROR_CONFLICT:
      signaling_api_reply_error (request->msg, SOUP_STATUS_CONFLICT, "conflict", error->message,
                                 NULL);
      return;
    case RECORDS_ERROR_INVALID:
      if (invalid_is_conflict) {
        signaling_api_reply_error (request->msg, SOUP_STATUS_CONFLICT, "conflict",
                                   error->message, NULL);
      } else {
        /* records names the field first: "field: why". */
        const char *colon = strchr (error->message, ':');
        g_autofree char *field = colon ? g_strndup (error->message, colon - error->message)
                                       : NULL;

        if (field && strspn (field, "abcdefghijklmnopqrstuvwxyz_") != strlen (field))
          g_clear_pointer (&field, g_free);
        signaling_api_reply_error (request->msg, SOUP_STATUS_BAD_REQUEST, "invalid-field",
                                   error->message, field);
      }
      return;
    default:
      break;
    }
  }
  g_warning ("%s %s: store error: %s", request->method,
             g_uri_get_path (soup_server_message_get_uri (request->msg)),
             error ? error->message : "unknown");
  signaling_api_reply_error (request->msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal",
                             "internal error", NULL);
}

/* ---- JSON views ---------------------------------------------------------- */

static json_t *
string_or_null (const char *text)
{
  return text ? json_string (text) : json_null ();
}

json_t *
api_user_json (const RecordsUser *user)
{
  return json_pack ("{s:s, s:s, s:o, s:s, s:o}", "id", user->id, "username", user->username,
                    "display_name", string_or_null (user->display_name), "role",
                    records_role_to_string (user->role), "facility_id",
                    string_or_null (user->facility_id));
}

json_t *
api_facility_json (const RecordsFacility *facility)
{
  return json_pack ("{s:s, s:s, s:s, s:s, s:o, s:o}", "id", facility->id, "code", facility->code,
                    "name", facility->name, "kind", facility->kind, "province_code",
                    string_or_null (facility->province_code), "created_at",
                    string_or_null (facility->created_at));
}

json_t *
api_patient_json (const RecordsPatient *patient)
{
  return json_pack ("{s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "id", patient->id,
                    "cccd", patient->cccd, "bhyt", string_or_null (patient->bhyt), "name",
                    patient->name, "birth_date", string_or_null (patient->birth_date), "sex",
                    string_or_null (patient->sex), "phone", string_or_null (patient->phone),
                    "address", string_or_null (patient->address), "facility_id",
                    string_or_null (patient->facility_id), "created_at",
                    string_or_null (patient->created_at));
}

json_t *
api_consultation_json (const RecordsConsultation *c)
{
  json_t *specialists = json_array ();

  for (guint i = 0; c->specialist_ids && c->specialist_ids[i]; i++)
    json_array_append_new (specialists, json_string (c->specialist_ids[i]));
  return json_pack ("{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
                    c->id, "patient_id", c->patient_id, "requester_id",
                    string_or_null (c->requester_id), "requesting_facility_id",
                    string_or_null (c->requesting_facility_id), "specialist_ids", specialists,
                    "scheduled_at", string_or_null (c->scheduled_at), "status",
                    string_or_null (c->status), "reason", string_or_null (c->reason), "notes",
                    string_or_null (c->notes), "outcome", string_or_null (c->outcome),
                    "started_at", string_or_null (c->started_at), "ended_at",
                    string_or_null (c->ended_at), "created_at", string_or_null (c->created_at));
}

json_t *
api_consent_json (const RecordsConsent *consent)
{
  return json_pack ("{s:s, s:s, s:o, s:s, s:b, s:o, s:o, s:o}", "id", consent->id, "patient_id",
                    consent->patient_id, "consultation_id",
                    string_or_null (consent->consultation_id), "purpose", consent->purpose,
                    "granted", consent->granted, "recorded_by",
                    string_or_null (consent->recorded_by), "method",
                    string_or_null (consent->method), "at", string_or_null (consent->at));
}

json_t *
api_audit_event_json (const RecordsAuditEvent *e)
{
  return json_pack ("{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "seq",
                    (json_int_t) e->seq, "at", string_or_null (e->at), "actor_id",
                    string_or_null (e->actor_id), "actor_role", string_or_null (e->actor_role),
                    "action", string_or_null (e->action), "entity_type",
                    string_or_null (e->entity_type), "entity_id", string_or_null (e->entity_id),
                    "patient_id", string_or_null (e->patient_id), "outcome",
                    string_or_null (e->outcome), "source", string_or_null (e->source), "detail",
                    string_or_null (e->detail), "prev_hash", string_or_null (e->prev_hash),
                    "hash", string_or_null (e->hash));
}

/* ---- /api/auth, /api/me, /api/invitations/redeem ------------------------ */

static json_t *
token_json (const SignalingAuthResult *result)
{
  g_autofree char *expires = signaling_auth_format_time (result->expires_at);

  return json_pack ("{s:s, s:s}", "token", result->token, "expires_at", expires);
}

static void
reply_auth_error (ApiRequest *request, const GError *error)
{
  int code = error->domain == SIGNALING_AUTH_ERROR ? error->code : SIGNALING_AUTH_ERROR_INTERNAL;
  guint status = signaling_auth_error_http_status (code);

  signaling_api_reply_error (request->msg, status, signaling_auth_error_code_string (code),
                             status >= 500 ? "internal error" : error->message, NULL);
}

static void
login_reply (ApiRequest *request, gboolean ok, SignalingAuthResult *result, const GError *error)
{
  json_t *reply;

  if (!ok) {
    int code = error->domain == SIGNALING_AUTH_ERROR ? error->code : SIGNALING_AUTH_ERROR_INTERNAL;

    audit_append (request->api, result->user ? result->user->id : NULL,
                  result->user ? records_role_to_string (result->user->role) : NULL,
                  request->source, "login", "User", result->user ? result->user->id : NULL, NULL,
                  "failure",
                  result->user ? signaling_auth_error_code_string (code) : "unknown username");
    if (code == SIGNALING_AUTH_ERROR_ACCOUNT_LOCKED) {
      g_autofree char *seconds = g_strdup_printf ("%" G_GINT64_FORMAT, result->retry_after);

      reply = json_pack ("{s:s, s:s, s:I}", "code", "account-locked", "message",
                         "too many failed logins; try again later", "retry_after",
                         (json_int_t) result->retry_after);
      soup_message_headers_replace (soup_server_message_get_response_headers (request->msg),
                                    "Retry-After", seconds);
      signaling_api_reply_json (request->msg, 423, reply);
      return;
    }
    reply_auth_error (request, error);
    return;
  }
  request->who = g_steal_pointer (&result->principal);
  api_audit (request, "login", "User", request->who->user_id, NULL, "success", NULL);
  reply = token_json (result);
  json_object_set_new (reply, "user", api_user_json (result->user));
  signaling_api_reply_json (request->msg, SOUP_STATUS_OK, reply);
}

/* A login whose Argon2id check runs on a worker thread while the message
 * is paused: 0.2-0.4 s of hashing must not stall every WebSocket. */
typedef struct {
  SignalingApi *api;              /* not touched once api->cancellable fires */
  SoupServerMessage *msg;         /* a reference */
  char *source;
  SignalingLoginAttempt *attempt;
  char *password;                 /* wiped when freed */
  char *phc;
  gulong disconnected_id;
  gboolean disconnected;          /* the client went away meanwhile */
} PendingLogin;

static void
on_pending_login_disconnected (SoupServerMessage *msg, gpointer user_data)
{
  ((PendingLogin *) user_data)->disconnected = TRUE;
}

static void
pending_login_free (PendingLogin *pending)
{
  if (pending->disconnected_id)
    g_signal_handler_disconnect (pending->msg, pending->disconnected_id);
  g_object_unref (pending->msg);
  g_free (pending->source);
  signaling_login_attempt_free (pending->attempt);
  if (pending->password) {
    memset (pending->password, 0, strlen (pending->password));
    g_free (pending->password);
  }
  g_free (pending->phc);
  g_free (pending);
}

static void
login_verify_thread (GTask *task, gpointer source_object, gpointer task_data,
                     GCancellable *cancellable)
{
  PendingLogin *pending = task_data;

  g_task_return_boolean (task, records_password_verify (pending->password, pending->phc));
}

static void
on_login_verified (GObject *source_object, GAsyncResult *result, gpointer user_data)
{
  PendingLogin *pending = g_task_get_task_data (G_TASK (result));
  g_auto (SignalingAuthResult) login = { 0 };
  g_autoptr (GError) error = NULL;
  gboolean matches, ok;
  ApiRequest request = { 0 };

  matches = g_task_propagate_boolean (G_TASK (result), &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;   /* the API is gone; so is its server */
  g_clear_error (&error);
  request.api = pending->api;
  request.msg = pending->msg;
  request.method = "POST";
  request.source = pending->source;
  /* Counted and audited even when the client has gone (a failure still
   * counts towards the lock). */
  ok = signaling_auth_login_finish (pending->api->auth, pending->attempt, matches, &login, &error);
  login_reply (&request, ok, &login, error);
  signaling_principal_free (request.who);
  if (!pending->disconnected)
    soup_server_message_unpause (pending->msg);
}

static void
handle_login (ApiRequest *request)
{
  static const FieldSpec fields[] = {
    { "username", FIELD_STRING, TRUE, 1, 64 },
    { "password", FIELD_STRING, TRUE, 1, RECORDS_PASSWORD_MAX_BYTES },
  };
  g_autoptr (SignalingJson) body = NULL;
  g_autoptr (GTask) task = NULL;
  PendingLogin *pending;
  const char *phc;

  body = api_read_valid_body (request, fields, G_N_ELEMENTS (fields));
  if (body == NULL)
    return;
  pending = g_new0 (PendingLogin, 1);
  pending->api = request->api;
  pending->msg = g_object_ref (request->msg);
  pending->source = g_strdup (request->source);
  pending->attempt = signaling_auth_login_begin (request->api->auth,
                                                 json_string_value (json_object_get (body, "username")));
  phc = signaling_login_attempt_get_phc (pending->attempt);
  if (phc == NULL) {
    /* Locked (or the lookup failed): nothing to hash, answer now. */
    g_auto (SignalingAuthResult) login = { 0 };
    g_autoptr (GError) error = NULL;
    gboolean ok = signaling_auth_login_finish (request->api->auth, pending->attempt, FALSE,
                                               &login, &error);

    login_reply (request, ok, &login, error);
    pending_login_free (pending);
    return;
  }
  pending->password = g_strdup (json_string_value (json_object_get (body, "password")));
  pending->phc = g_strdup (phc);
  pending->disconnected_id = g_signal_connect (request->msg, "disconnected",
                                               G_CALLBACK (on_pending_login_disconnected),
                                               pending);
  soup_server_message_pause (request->msg);
  task = g_task_new (NULL, request->api->cancellable, on_login_verified, NULL);
  g_task_set_task_data (task, pending, (GDestroyNotify) pending_login_free);
  g_task_run_in_thread (task, login_verify_thread);
}

static void
handle_refresh (ApiRequest *request)
{
  g_auto (SignalingAuthResult) result = { 0 };
  g_autoptr (GError) error = NULL;

  if (!api_require_principal (request))
    return;
  if (!signaling_auth_refresh (request->api->auth, request->who, &result, &error)) {
    api_audit (request, "login", "User", request->who->user_id, request->who->patient_id,
               "denied", "refresh refused");
    reply_auth_error (request, error);
    return;
  }
  signaling_api_reply_json (request->msg, SOUP_STATUS_OK, token_json (&result));
}

static void
handle_logout (ApiRequest *request)
{
  g_autoptr (GError) error = NULL;

  if (!api_require_principal (request))
    return;
  if (!signaling_auth_logout (request->api->auth, request->who, &error)) {
    reply_auth_error (request, error);
    return;
  }
  api_audit (request, "logout", "User", request->who->user_id, NULL, "success", NULL);
  signaling_api_reply_json (request->msg, SOUP_STATUS_NO_CONTENT, NULL);
}

static void
handle_me (ApiRequest *request)
{
  SignalingPrincipal *who;

  if (!api_require_principal (request))
    return;
  who = request->who;
  if (who->role == RECORDS_ROLE_PATIENT) {
    signaling_api_reply_json (request->msg, SOUP_STATUS_OK,
                              json_pack ("{s:s, s:s, s:s}", "role", "patient", "consultation_id",
                                         who->consultation_id, "patient_id", who->patient_id));
    return;
  }
  signaling_api_reply_json (request->msg, SOUP_STATUS_OK,
                            json_pack ("{s:s, s:s, s:o, s:s, s:o}", "id", who->user_id,
                                       "username", who->username ? who->username : "",
                                       "display_name", string_or_null (who->display_name),
                                       "role", records_role_to_string (who->role),
                                       "facility_id", string_or_null (who->facility_id)));
}

static void
handle_redeem (ApiRequest *request)
{
  static const FieldSpec fields[] = {
    { "secret", FIELD_STRING, TRUE, 1, 256 },
  };
  g_auto (SignalingAuthResult) result = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (SignalingJson) body = NULL;
  g_autoptr (RecordsConsultation) consultation = NULL;
  g_autoptr (RecordsPatient) patient = NULL;
  json_t *reply;

  body = api_read_valid_body (request, fields, G_N_ELEMENTS (fields));
  if (body == NULL)
    return;
  if (!signaling_auth_redeem_invitation (request->api->auth,
                                         json_string_value (json_object_get (body, "secret")),
                                         &result, &error)) {
    int code = error->domain == SIGNALING_AUTH_ERROR ? error->code : SIGNALING_AUTH_ERROR_INTERNAL;

    audit_append (request->api, result.invitation ? result.invitation->id : NULL,
                  result.invitation ? "patient" : NULL, request->source, "login", "Encounter",
                  result.invitation ? result.invitation->consultation_id : NULL,
                  result.invitation ? result.invitation->patient_id : NULL,
                  code == SIGNALING_AUTH_ERROR_INTERNAL ? "failure" : "denied",
                  signaling_auth_error_code_string (code));
    reply_auth_error (request, error);
    return;
  }
  consultation = records_consultation_get (request->api->store, result.invitation->consultation_id,
                                           &error);
  if (consultation != NULL)
    patient = records_patient_get (request->api->store, result.invitation->patient_id, &error);
  if (patient == NULL) {
    api_reply_records_error (request, error, FALSE);
    return;
  }
  /* A link to a consultation that is over opens nothing any more. */
  if (g_strcmp0 (consultation->status, "finished") == 0
      || g_strcmp0 (consultation->status, "cancelled") == 0) {
    audit_append (request->api, result.invitation->id, "patient", request->source, "login",
                  "Encounter", consultation->id, patient->id, "denied", "consultation over");
    signaling_api_reply_error (request->msg, 410, "invitation-expired",
                               "the consultation is over", NULL);
    return;
  }
  request->who = g_steal_pointer (&result.principal);
  api_audit (request, "login", "Encounter", consultation->id, patient->id, "success",
             "invitation redeemed");
  reply = token_json (&result);
  json_object_set_new (reply, "consultation",
                       json_pack ("{s:s, s:o, s:o}", "id", consultation->id, "scheduled_at",
                                  string_or_null (consultation->scheduled_at), "status",
                                  string_or_null (consultation->status)));
  json_object_set_new (reply, "patient", json_pack ("{s:s}", "name", patient->name));
  signaling_api_reply_json (request->msg, SOUP_STATUS_OK, reply);
}

/* ---- routing -------------------------------------------------------------- */

static void
reply_method_not_allowed (ApiRequest *request, const char *allow)
{
  soup_message_headers_replace (soup_server_message_get_response_headers (request->msg),
                                "Allow", allow);
  signaling_api_reply_error (request->msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method-not-allowed",
                             "method not allowed on this path", NULL);
}

static gboolean
dispatch_auth (ApiRequest *request, char **segments, guint n)
{
  gboolean post = strcmp (request->method, "POST") == 0;

  if (n == 2 && strcmp (segments[0], "auth") == 0) {
    void (*handler) (ApiRequest *) = NULL;

    if (strcmp (segments[1], "login") == 0)
      handler = handle_login;
    else if (strcmp (segments[1], "refresh") == 0)
      handler = handle_refresh;
    else if (strcmp (segments[1], "logout") == 0)
      handler = handle_logout;
    if (handler == NULL)
      return FALSE;
    if (!post)
      reply_method_not_allowed (request, "POST");
    else
      handler (request);
    return TRUE;
  }
  if (n == 1 && strcmp (segments[0], "me") == 0) {
    if (strcmp (request->method, "GET") != 0)
      reply_method_not_allowed (request, "GET");
    else
      handle_me (request);
    return TRUE;
  }
  if (n == 2 && strcmp (segments[0], "invitations") == 0 && strcmp (segments[1], "redeem") == 0) {
    if (!post)
      reply_method_not_allowed (request, "POST");
    else
      handle_redeem (request);
    return TRUE;
  }
  return FALSE;
}

static void
handle_api (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
            gpointer user_data)
{
  SignalingApi *api = user_data;
  ApiRequest request = {
    .api = api,
    .msg = msg,
    .method = soup_server_message_get_method (msg),
    .query = query,
    .source = signaling_api_client_address (msg),
  };
  g_auto (GStrv) segments = NULL;
  guint n;
  gboolean handled;

  if (!g_str_has_prefix (path, "/api/") || strlen (path) > 512) {
    signaling_api_reply_error (msg, SOUP_STATUS_NOT_FOUND, "not-found", "no such endpoint", NULL);
    g_free (request.source);
    return;
  }
  segments = g_strsplit (path + 5, "/", 8);
  n = g_strv_length (segments);
  for (guint i = 0; i < n; i++)
    if (*segments[i] == '\0')
      n = 0;   /* "//" or a trailing "/": no such endpoint */
  handled = n > 0 && (dispatch_auth (&request, segments, n)
                      || api_recordings_dispatch (&request, segments, n)
                      || api_briefings_dispatch (&request, segments, n)
                      || api_records_dispatch (&request, segments, n));
  if (!handled)
    signaling_api_reply_error (msg, SOUP_STATUS_NOT_FOUND, "not-found", "no such endpoint", NULL);
  g_free (request.source);
  signaling_principal_free (request.who);
}

/* Refuses a body over the limit from its headers, before libsoup reads it
 * (a chunked body has no length to check: refused as well). */
static void
handle_api_early (SoupServer *server, SoupServerMessage *msg, const char *path,
                  GHashTable *query, gpointer user_data)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);

  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CHUNKED) {
    signaling_api_reply_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too-large",
                               "a request body needs a Content-Length", NULL);
    soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                  "Connection", "close");
    return;
  }
  if (soup_message_headers_get_content_length (headers) > SIGNALING_API_MAX_BODY) {
    signaling_api_reply_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too-large",
                               "the body is over 65536 bytes", NULL);
    soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                  "Connection", "close");
  }
}

/* ---- lifecycle ------------------------------------------------------------ */

SignalingApi *
signaling_api_new (RecordsStore *store, const char *data_dir, GError **error)
{
  SignalingApi *api;
  SignalingAuth *auth;

  g_return_val_if_fail (store != NULL && data_dir != NULL, NULL);
  auth = signaling_auth_new (store, data_dir, error);
  if (auth == NULL)
    return NULL;
  api = g_new0 (SignalingApi, 1);
  api->store = store;
  api->auth = auth;
  api->cancellable = g_cancellable_new ();
  return api;
}

void
signaling_api_attach (SignalingApi *api, SoupServer *server)
{
  g_return_if_fail (api != NULL && SOUP_IS_SERVER (server));
  soup_server_add_early_handler (server, "/api/", handle_api_early, api, NULL);
  /* "/api/", not "/api": libsoup matches by prefix, and "/api" would also
   * catch static files such as /api.js. */
  soup_server_add_handler (server, "/api/", handle_api, api, NULL);
}

SignalingAuth *
signaling_api_get_auth (SignalingApi *api)
{
  g_return_val_if_fail (api != NULL, NULL);
  return api->auth;
}

void
signaling_api_free (SignalingApi *api)
{
  if (api == NULL)
    return;
  api_recordings_clear (api);
  /* Logins still hashing on a worker finish without touching the API. */
  g_cancellable_cancel (api->cancellable);
  g_object_unref (api->cancellable);
  signaling_auth_free (api->auth);
  g_free (api);
}
