/* recording-api.c — recordings over HTTPS (docs/api.md "Recordings"):
 *
 *   GET  /api/consultations/{id}/recordings   the consultation's recorded files
 *   POST /api/recordings/{id}/playback        a 5-minute ticket for one file
 *   GET  /api/recordings/{id}/content         the file, decrypted on the fly,
 *   HEAD                                      with Range (RFC 9110 §14)
 *
 * A <video> element cannot send an Authorization header, so content takes a
 * ticket in the query instead: "<recording>.<user>.<login session>.<exp>.<mac>"
 * where mac = hex HMAC-SHA256 over the rest, keyed by a key derived from
 * the token key.  A ticket names one recording and one login session: it
 * opens no other recording, and dies with the session (logout) or after
 * five minutes.  The policy is asked again on every request.
 *
 * Before any byte is sent the file's SHA-256 must equal the row's (cached
 * per file size and mtime, since a player sends many range requests); a
 * mismatch is 409 integrity-failed and never played.  While streaming,
 * each chunk's GCM tag is checked by the vault reader; a failure there
 * aborts the connection (the status line is gone by then).
 */
#include "api-priv.h"

#include <glib/gstdio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#include "http-range.h"
#include "vault.h"

#define TICKET_SECONDS 300
#define STREAM_CHUNK (256 * 1024)
#define CONTENT_TYPE "video/webm"

static json_t *
string_or_null (const char *text)
{
  return text ? json_string (text) : json_null ();
}

json_t *
api_recording_json (const RecordsRecording *r)
{
  return json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:I, s:I, s:o, s:o, s:o}",
                    "id", r->id, "consultation_id", r->consultation_id, "patient_id",
                    r->patient_id, "recording", r->session_id, "kind", r->kind, "status",
                    r->status, "started_at", string_or_null (r->started_at), "ended_at",
                    string_or_null (r->ended_at), "duration_ms", (json_int_t) r->duration_ms,
                    "size", (json_int_t) r->size, "participant_name",
                    string_or_null (r->participant_name), "compose_progress",
                    r->compose_progress >= 0 ? json_integer (r->compose_progress) : json_null (),
                    "sha256", string_or_null (r->sha256));
}

void
signaling_api_set_recordings (SignalingApi *api, const char *directory,
                              const guint8 server_key[32])
{
  static const char label[] = "cau recording playback ticket v1";
  unsigned int length = sizeof api->recordings.ticket_key;

  g_return_if_fail (api != NULL && directory != NULL && server_key != NULL);
  api_recordings_clear (api);
  api->recordings.directory = g_strdup (directory);
  memcpy (api->recordings.key, server_key, 32);
  HMAC (EVP_sha256 (), signaling_auth_get_key (api->auth), SIGNALING_TOKEN_KEY_BYTES,
        (const unsigned char *) label, sizeof label - 1, api->recordings.ticket_key, &length);
  api->recordings.verified = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  api->recordings.tickets_used = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

void
api_recordings_clear (SignalingApi *api)
{
  g_clear_pointer (&api->recordings.directory, g_free);
  g_clear_pointer (&api->recordings.verified, g_hash_table_unref);
  g_clear_pointer (&api->recordings.tickets_used, g_hash_table_unref);
  OPENSSL_cleanse (api->recordings.key, sizeof api->recordings.key);
  OPENSSL_cleanse (api->recordings.ticket_key, sizeof api->recordings.ticket_key);
}

/* ---- loading and the policy ------------------------------------------- */

static RecordsRecording *
load_recording (ApiRequest *request, const char *id)
{
  g_autoptr (GError) error = NULL;
  RecordsRecording *recording;

  if (!api_is_uuid (id)) {
    signaling_api_reply_error (request->msg, SOUP_STATUS_NOT_FOUND, "not-found",
                               "no such recording", NULL);
    return NULL;
  }
  recording = records_recording_get (request->api->store, id, &error);
  if (recording == NULL)
    api_reply_records_error (request, error, FALSE);
  return recording;
}

/* Asks the policy for playback of @recording; replies 403 and audits the
 * refusal itself. */
static gboolean
allow_playback (ApiRequest *request, const RecordsRecording *recording)
{
  g_autoptr (RecordsConsultation) consultation = NULL;
  g_autoptr (GError) error = NULL;
  SignalingPolicyTarget target = { 0 };

  consultation = records_consultation_get (request->api->store, recording->consultation_id,
                                           &error);
  if (consultation == NULL) {
    api_reply_records_error (request, error, FALSE);
    return FALSE;
  }
  target.consultation = consultation;
  return api_allow (request, SIGNALING_OP_RECORDING_PLAYBACK, &target, "playback", "Media",
                    recording->id, recording->patient_id);
}

static char *
file_path (ApiRequest *request, const RecordsRecording *recording)
{
  return g_build_filename (request->api->recordings.directory, recording->file_name, NULL);
}

/* The file is the one whose digest the row keeps.  FALSE after replying
 * (409 not-ready without a digest, 404 file-missing, 409 integrity-failed,
 * audited as a failed playback). */
static gboolean
check_integrity (ApiRequest *request, const RecordsRecording *recording, const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *digest = NULL;
  g_autofree char *stamp = NULL;
  GStatBuf st;
  const char *known;

  if (recording->sha256 == NULL) {
    signaling_api_reply_error (request->msg, SOUP_STATUS_CONFLICT, "not-ready",
                               "the recording is not finished yet", NULL);
    return FALSE;
  }
  if (g_stat (path, &st) != 0) {
    api_audit (request, "playback", "Media", recording->id, recording->patient_id, "failure",
               "file missing");
    signaling_api_reply_error (request->msg, SOUP_STATUS_NOT_FOUND, "file-missing",
                               "the recording's file is missing", NULL);
    return FALSE;
  }
  stamp = g_strdup_printf ("%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT ":%s",
                           (gint64) st.st_size, (gint64) st.st_mtime, (gint64) st.st_ino,
                           recording->sha256);
  known = g_hash_table_lookup (request->api->recordings.verified, path);
  if (known && strcmp (known, stamp) == 0)
    return TRUE;
  if (!cau_vault_file_sha256 (path, &digest, &error) || strcmp (digest, recording->sha256) != 0) {
    g_warning ("recording %s: integrity check failed (%s)", recording->id,
               error ? error->message : "SHA-256 differs from the record");
    api_audit (request, "playback", "Media", recording->id, recording->patient_id, "failure",
               "integrity-failed");
    signaling_api_reply_error (request->msg, SOUP_STATUS_CONFLICT, "integrity-failed",
                               "the recording's file does not match its recorded SHA-256; "
                               "it is not played", NULL);
    return FALSE;
  }
  g_hash_table_replace (request->api->recordings.verified, g_strdup (path),
                        g_steal_pointer (&stamp));
  return TRUE;
}

/* ---- tickets ------------------------------------------------------------ */

static char *
ticket_mac (SignalingApi *api, const char *payload)
{
  guint8 mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;

  GString *hex = g_string_sized_new (2 * EVP_MAX_MD_SIZE);

  HMAC (EVP_sha256 (), api->recordings.ticket_key, sizeof api->recordings.ticket_key,
        (const unsigned char *) payload, strlen (payload), mac, &length);
  for (unsigned int i = 0; i < length; i++)
    g_string_append_printf (hex, "%02x", mac[i]);
  return g_string_free (hex, FALSE);
}

static char *
ticket_make (SignalingApi *api, const char *recording_id, const SignalingPrincipal *who,
             gint64 expires_at)
{
  g_autofree char *payload = g_strdup_printf ("%s.%s.%s.%" G_GINT64_FORMAT, recording_id,
                                              who->user_id, who->session_id, expires_at);
  g_autofree char *mac = ticket_mac (api, payload);

  return g_strdup_printf ("%s.%s", payload, mac);
}

typedef enum {
  TICKET_OK,
  TICKET_INVALID,
  TICKET_EXPIRED,
} TicketCheck;

/* Checks @ticket for @recording_id; on success *@out_who is the principal
 * of its login session as the store has it now. */
static TicketCheck
ticket_check (ApiRequest *request, const char *ticket, const char *recording_id,
              SignalingPrincipal **out_who)
{
  SignalingApi *api = request->api;
  g_auto (GStrv) parts = NULL;
  g_autofree char *payload = NULL;
  g_autofree char *mac = NULL;
  g_autoptr (RecordsUser) user = NULL;
  g_autoptr (RecordsLoginSession) session = NULL;
  SignalingPrincipal *who;
  gint64 expires_at, now = g_get_real_time () / G_USEC_PER_SEC;
  const char *dot;

  *out_who = NULL;
  if (strlen (ticket) > 256 || (dot = strrchr (ticket, '.')) == NULL)
    return TICKET_INVALID;
  payload = g_strndup (ticket, (gsize) (dot - ticket));
  mac = ticket_mac (api, payload);
  if (strlen (dot + 1) != strlen (mac) || CRYPTO_memcmp (dot + 1, mac, strlen (mac)) != 0)
    return TICKET_INVALID;
  parts = g_strsplit (payload, ".", -1);
  if (g_strv_length (parts) != 4 || strcmp (parts[0], recording_id) != 0)
    return TICKET_INVALID;
  expires_at = g_ascii_strtoll (parts[3], NULL, 10);
  if (now >= expires_at)
    return TICKET_EXPIRED;
  user = records_user_get (api->store, parts[1], NULL);
  session = records_login_session_get (api->store, parts[2], NULL);
  if (user == NULL || user->disabled || session == NULL || session->revoked
      || session->expires_at <= now || g_strcmp0 (session->user_id, user->id) != 0)
    return TICKET_INVALID;
  who = g_new0 (SignalingPrincipal, 1);
  who->role = user->role;
  who->user_id = g_strdup (user->id);
  who->username = g_strdup (user->username);
  who->display_name = g_strdup (user->display_name);
  who->facility_id = g_strdup (user->facility_id);
  who->session_id = g_strdup (session->id);
  who->expires_at = expires_at;
  *out_who = who;
  return TICKET_OK;
}

/* ---- handlers ----------------------------------------------------------- */

static void
recordings_list (ApiRequest *request, const char *consultation_id)
{
  g_autoptr (RecordsConsultation) consultation = NULL;
  g_autoptr (GPtrArray) recordings = NULL;
  g_autoptr (GError) error = NULL;
  SignalingPolicyTarget target = { 0 };
  json_t *list;

  if (!api_check_query (request, NULL))
    return;
  if (!api_is_uuid (consultation_id)) {
    signaling_api_reply_error (request->msg, SOUP_STATUS_NOT_FOUND, "not-found",
                               "no such consultation", NULL);
    return;
  }
  consultation = records_consultation_get (request->api->store, consultation_id, &error);
  if (consultation == NULL) {
    api_reply_records_error (request, error, FALSE);
    return;
  }
  target.consultation = consultation;
  if (!api_allow (request, SIGNALING_OP_CONSULTATION_READ, &target, "read", "Media",
                  consultation_id, consultation->patient_id))
    return;
  recordings = records_recording_list_for_consultation (request->api->store, consultation_id,
                                                        &error);
  if (recordings == NULL) {
    api_reply_records_error (request, error, FALSE);
    return;
  }
  list = json_array ();
  for (guint i = 0; i < recordings->len; i++)
    json_array_append_new (list, api_recording_json (recordings->pdata[i]));
  api_audit (request, "read", "Media", consultation_id, consultation->patient_id, "success",
             "recordings of the consultation");
  signaling_api_reply_json (request->msg, SOUP_STATUS_OK, list);
}

static void
recording_playback (ApiRequest *request, const char *id)
{
  g_autoptr (RecordsRecording) recording = NULL;
  g_autofree char *path = NULL;
  g_autofree char *ticket = NULL;
  g_autofree char *url = NULL;
  g_autofree char *expires = NULL;
  gint64 expires_at;

  if (!api_check_query (request, NULL) || (recording = load_recording (request, id)) == NULL
      || !allow_playback (request, recording))
    return;
  if (request->api->recordings.directory == NULL) {
    signaling_api_reply_error (request->msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "unavailable",
                               "recordings are not enabled on this server", NULL);
    return;
  }
  path = file_path (request, recording);
  if (!check_integrity (request, recording, path))
    return;
  /* A token with a shorter life than five minutes gives a shorter ticket. */
  expires_at = g_get_real_time () / G_USEC_PER_SEC + TICKET_SECONDS;
  if (request->who->expires_at > 0)
    expires_at = MIN (expires_at, request->who->expires_at);
  ticket = ticket_make (request->api, recording->id, request->who, expires_at);
  url = g_strdup_printf ("/api/recordings/%s/content?ticket=%s", recording->id, ticket);
  expires = signaling_auth_format_time (expires_at);
  api_audit (request, "playback", "Media", recording->id, recording->patient_id, "success",
             "ticket issued");
  signaling_api_reply_json (request->msg, SOUP_STATUS_OK,
                            json_pack ("{s:s, s:s}", "url", url, "expires_at", expires));
}

typedef struct {
  CauVaultReader *reader;
  guint64 offset;
  guint64 end;          /* exclusive */
  char *recording_id;
} ContentStream;

static void
content_stream_free (ContentStream *stream)
{
  cau_vault_reader_free (stream->reader);
  g_free (stream->recording_id);
  g_free (stream);
}

/* Appends the next piece of plaintext, or completes the body.  A chunk
 * whose tag fails cuts the connection: the client sees a short body,
 * never forged bytes. */
static void
content_stream_next (SoupServerMessage *msg, ContentStream *stream)
{
  SoupMessageBody *body = soup_server_message_get_response_body (msg);
  g_autoptr (GError) error = NULL;
  gsize want;
  guint8 *buffer;
  gssize n;

  if (stream->offset >= stream->end) {
    soup_message_body_complete (body);
    return;
  }
  want = (gsize) MIN ((guint64) STREAM_CHUNK, stream->end - stream->offset);
  buffer = g_malloc (want);
  n = cau_vault_reader_read (stream->reader, stream->offset, buffer, want, &error);
  if (n <= 0) {
    GSocket *socket = soup_server_message_get_socket (msg);

    g_free (buffer);
    g_warning ("recording %s: read at %" G_GUINT64_FORMAT " failed: %s; connection cut",
               stream->recording_id, stream->offset, error ? error->message : "short file");
    if (socket)
      g_socket_shutdown (socket, TRUE, TRUE, NULL);
    soup_message_body_complete (body);
    return;
  }
  stream->offset += (guint64) n;
  soup_message_body_append_take (body, buffer, (gsize) n);
}

static void
on_wrote_chunk (SoupServerMessage *msg, gpointer user_data)
{
  content_stream_next (msg, user_data);
}

/* Authenticates a content request: a ticket in the query, else a bearer
 * token.  FALSE after replying 401 (and auditing). */
static gboolean
content_authenticate (ApiRequest *request, const char *recording_id, gboolean *out_first_use)
{
  const char *ticket = request->query ? g_hash_table_lookup (request->query, "ticket") : NULL;
  TicketCheck check;

  *out_first_use = TRUE;
  if (ticket == NULL)
    return api_require_principal (request);
  check = ticket_check (request, ticket, recording_id, &request->who);
  if (check != TICKET_OK) {
    const char *code = check == TICKET_EXPIRED ? "ticket-expired" : "ticket-invalid";

    api_audit (request, "playback", "Media", recording_id, NULL, "denied", code);
    signaling_api_reply_error (request->msg, SOUP_STATUS_UNAUTHORIZED, code,
                               check == TICKET_EXPIRED ? "the playback ticket has expired"
                                                       : "the playback ticket is not valid "
                                                         "for this recording",
                               NULL);
    return FALSE;
  }
  /* One playback = one ticket: its first request is audited, the range
   * requests that follow are not. */
  {
    GHashTable *used = request->api->recordings.tickets_used;
    gint64 now = g_get_real_time () / G_USEC_PER_SEC;
    const char *mac = strrchr (ticket, '.') + 1;
    GHashTableIter iter;
    gpointer key, value;

    g_hash_table_iter_init (&iter, used);
    while (g_hash_table_iter_next (&iter, &key, &value))
      if (GPOINTER_TO_SIZE (value) <= (gsize) now)
        g_hash_table_iter_remove (&iter);
    *out_first_use = !g_hash_table_contains (used, mac);
    if (*out_first_use)
      g_hash_table_insert (used, g_strdup (mac),
                           GSIZE_TO_POINTER ((gsize) (now + TICKET_SECONDS + 1)));
  }
  return TRUE;
}

static void
recording_content (ApiRequest *request, const char *id)
{
  static const char *const allowed[] = { "ticket", NULL };
  g_autoptr (RecordsRecording) recording = NULL;
  g_autoptr (CauVaultReader) reader = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  SoupMessageHeaders *headers;
  ContentStream *stream;
  guint64 size, start = 0, end = 0;
  gboolean head = strcmp (request->method, "HEAD") == 0, first_use;
  SignalingRange range;

  if (!api_check_query (request, allowed)
      || (recording = load_recording (request, id)) == NULL
      || !content_authenticate (request, recording->id, &first_use)
      || !allow_playback (request, recording))
    return;
  if (request->api->recordings.directory == NULL) {
    signaling_api_reply_error (request->msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "unavailable",
                               "recordings are not enabled on this server", NULL);
    return;
  }
  path = file_path (request, recording);
  if (!check_integrity (request, recording, path))
    return;
  reader = cau_vault_reader_open (path, request->api->recordings.key, &error);
  if (reader == NULL) {
    gboolean integrity = error->domain == CAU_VAULT_ERROR && error->code != CAU_VAULT_ERROR_IO;

    g_warning ("recording %s: cannot open: %s", recording->id, error->message);
    api_audit (request, "playback", "Media", recording->id, recording->patient_id, "failure",
               integrity ? "integrity-failed" : "unreadable");
    signaling_api_reply_error (request->msg,
                               integrity ? SOUP_STATUS_CONFLICT : SOUP_STATUS_INTERNAL_SERVER_ERROR,
                               integrity ? "integrity-failed" : "internal",
                               integrity ? "the recording's file cannot be decrypted"
                                         : "internal error",
                               NULL);
    return;
  }
  size = cau_vault_reader_get_size (reader);
  headers = soup_server_message_get_response_headers (request->msg);
  soup_message_headers_replace (headers, "Accept-Ranges", "bytes");
  soup_message_headers_replace (headers, "Cache-Control", "no-store");
  soup_message_headers_replace (headers, "X-Content-Type-Options", "nosniff");
  range = signaling_http_range_parse (
      soup_message_headers_get_one (soup_server_message_get_request_headers (request->msg),
                                    "Range"),
      size, &start, &end);
  if (range == SIGNALING_RANGE_UNSATISFIABLE) {
    g_autofree char *content_range = g_strdup_printf ("bytes */%" G_GUINT64_FORMAT, size);

    soup_message_headers_replace (headers, "Content-Range", content_range);
    signaling_api_reply_error (request->msg, SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE,
                               "range-not-satisfiable", "the range is outside the recording",
                               NULL);
    return;
  }
  if (range == SIGNALING_RANGE_NONE) {
    start = 0;
    end = size ? size - 1 : 0;
  }
  if (first_use)
    api_audit (request, "playback", "Media", recording->id, recording->patient_id, "success",
               head ? "HEAD" : NULL);

  soup_message_headers_set_encoding (headers, SOUP_ENCODING_CONTENT_LENGTH);
  soup_message_headers_set_content_type (headers, CONTENT_TYPE, NULL);
  if (range == SIGNALING_RANGE_OK) {
    g_autofree char *content_range = g_strdup_printf (
        "bytes %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT, start, end, size);

    soup_message_headers_replace (headers, "Content-Range", content_range);
    soup_server_message_set_status (request->msg, SOUP_STATUS_PARTIAL_CONTENT, NULL);
  } else {
    soup_server_message_set_status (request->msg, SOUP_STATUS_OK, NULL);
  }
  soup_message_headers_set_content_length (headers, size ? end - start + 1 : 0);
  if (head || size == 0)
    return;

  stream = g_new0 (ContentStream, 1);
  stream->reader = g_steal_pointer (&reader);
  stream->offset = start;
  stream->end = end + 1;
  stream->recording_id = g_strdup (recording->id);
  g_object_set_data_full (G_OBJECT (request->msg), "cau-content-stream", stream,
                          (GDestroyNotify) content_stream_free);
  soup_message_body_set_accumulate (soup_server_message_get_response_body (request->msg), FALSE);
  g_signal_connect (request->msg, "wrote-chunk", G_CALLBACK (on_wrote_chunk), stream);
  content_stream_next (request->msg, stream);
}

/* ---- routing ------------------------------------------------------------ */

static void
reply_method_not_allowed (ApiRequest *request, const char *allow)
{
  soup_message_headers_replace (soup_server_message_get_response_headers (request->msg),
                                "Allow", allow);
  signaling_api_reply_error (request->msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method-not-allowed",
                             "method not allowed on this path", NULL);
}

gboolean
api_recordings_dispatch (ApiRequest *request, char **segments, guint n)
{
  const char *method = request->method;

  if (n == 3 && strcmp (segments[0], "consultations") == 0
      && strcmp (segments[2], "recordings") == 0) {
    if (strcmp (method, "GET") != 0)
      reply_method_not_allowed (request, "GET");
    else if (api_require_principal (request))
      recordings_list (request, segments[1]);
    return TRUE;
  }
  if (n != 3 || strcmp (segments[0], "recordings") != 0)
    return FALSE;
  if (strcmp (segments[2], "playback") == 0) {
    if (strcmp (method, "POST") != 0)
      reply_method_not_allowed (request, "POST");
    else if (api_require_principal (request))
      recording_playback (request, segments[1]);
    return TRUE;
  }
  if (strcmp (segments[2], "content") == 0) {
    /* Authenticated inside: a ticket or a bearer token. */
    if (strcmp (method, "GET") != 0 && strcmp (method, "HEAD") != 0)
      reply_method_not_allowed (request, "GET, HEAD");
    else
      recording_content (request, segments[1]);
    return TRUE;
  }
  return FALSE;
}
