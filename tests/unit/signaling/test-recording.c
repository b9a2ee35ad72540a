/* Tests recording over the real WSS/HTTPS server in one process (like
 * test-server.c): the recording rows' restart recovery
 * (signaling/recording-files.c), playback over HTTPS with tickets, ranges
 * and integrity checks (signaling/recording-api.c), and the WebSocket
 * `record` / `consent` messages with the real media engine
 * (signaling/recording.c).  Vault files are written here with
 * records/vault.h. */
#include <glib/gstdio.h>
#include <jansson.h>
#include <libsoup/soup.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api.h"
#include "auth.h"
#include "media.h"
#include "password.h"
#include "records.h"
#include "recording.h"
#include "server.h"
#include "store.h"
#include "tls-certificate.h"
#include "vault.h"

typedef struct {
  char *dir;
  char *web_dir;
  char *recordings_dir;
  guint8 key[32];
  char *key_id;
  MediaEngine *engine;
  RecordsStore *store;
  SignalingApi *api;
  SignalingServer *server;
  SoupSession *session;
  guint port;
} Fixture;

typedef struct {
  SoupWebsocketConnection *connection;
  GQueue messages;              /* json_t* */
  gboolean closed;
  GError *error;
  gboolean done;
} Client;

#define TIMEOUT_SECONDS 30

static gboolean
on_timeout (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the default context until *@flag or the timeout; FALSE on timeout. */
static gboolean
wait_for (gboolean *flag)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (TIMEOUT_SECONDS, on_timeout, &timed_out);

  while (!*flag && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  return *flag;
}

static void
write_file (const char *dir, const char *name, const char *contents)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_assert_true (g_file_set_contents (path, contents, -1, NULL));
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *cert = NULL, *key = NULL;
  g_autoptr (GTlsCertificate) certificate = NULL;
  MediaConfig media_config = { .workers = 1, .max_bitrate_kbps = 1500, .max_participants = 3 };
  g_auto (GStrv) loopback = g_strsplit ("127.0.0.1", ",", -1);
  SignalingServerOptions options = { 0 };
  gboolean generated;

  f->dir = g_dir_make_tmp ("cau-server-XXXXXX", &error);
  g_assert_no_error (error);
  cert = g_build_filename (f->dir, "tls", "cert.pem", NULL);
  key = g_build_filename (f->dir, "tls", "key.pem", NULL);
  g_assert_true (server_certificate_ensure (cert, key, &generated, &error));
  g_assert_no_error (error);
  g_assert_true (generated);
  certificate = g_tls_certificate_new_from_files (cert, key, &error);
  g_assert_no_error (error);

  f->web_dir = g_build_filename (f->dir, "web", NULL);
  g_mkdir (f->web_dir, 0700);
  write_file (f->web_dir, "index.html", "<!doctype html><title>Cầu</title>");
  write_file (f->web_dir, "app.js", "export const x = 1;\n");

  f->recordings_dir = g_build_filename (f->dir, "recordings", NULL);
  g_assert_cmpint (g_mkdir (f->recordings_dir, 0700), ==, 0);
  g_assert_true (cau_vault_key_load (f->dir, f->key, &f->key_id, &error));
  g_assert_no_error (error);

  f->store = records_store_open (f->dir, &error);
  g_assert_no_error (error);
  f->api = signaling_api_new (f->store, f->dir, &error);
  g_assert_no_error (error);
  media_config.ice_addresses = loopback;
  f->engine = media_engine_new (&media_config, &error);
  g_assert_no_error (error);

  options.listen_address = "127.0.0.1";
  options.port = 0;
  options.certificate = certificate;
  options.web_client_dir = f->web_dir;
  options.max_participants = 3;
  options.anonymous_rooms = TRUE;
  options.api = f->api;
  options.recording.directory = f->recordings_dir;
  options.recording.server_key = f->key;
  options.recording.key_id = f->key_id;
  /* data != NULL: more free space than any disk has. */
  options.recording.min_free_bytes = data ? G_MAXUINT64 / 2 : 1024 * 1024;
  f->server = signaling_server_new (&options, f->engine, f->store);
  g_assert_true (signaling_server_listen (f->server, &error));
  g_assert_no_error (error);
  f->port = signaling_server_get_port (f->server);
  g_assert_cmpuint (f->port, >, 0);
  f->session = soup_session_new ();
}

static void
remove_tree (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir) {
    while ((name = g_dir_read_name (dir))) {
      g_autofree char *child = g_build_filename (path, name, NULL);
      remove_tree (child);
    }
    g_dir_close (dir);
    g_rmdir (path);
  } else {
    g_unlink (path);
  }
}

static char *http_get (Fixture *f, const char *path, guint *status, char **content_type);

/* Every test closes its clients; the server must have seen every close
 * (its socket gauge back at 0) before it is torn down, or libsoup may still
 * hold accepted connections mid-close (LeakSanitizer then reports them). */
static void
assert_all_sockets_closed (Fixture *f)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_TIME_SPAN_SECOND;
  gboolean closed = FALSE;

  while (!closed && g_get_monotonic_time () < deadline) {
    guint status;
    g_autofree char *body = http_get (f, "/metrics", &status, NULL);

    closed = strstr (body, "\ncau_signaling_sockets 0\n") != NULL;
    if (!closed) {
      gint64 pause = g_get_monotonic_time () + 50 * G_TIME_SPAN_MILLISECOND;

      while (g_get_monotonic_time () < pause)
        if (!g_main_context_iteration (NULL, FALSE))
          g_usleep (1000);
    }
  }
  g_assert_true (closed);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  gint64 settle_until;

  assert_all_sockets_closed (f);
  g_clear_object (&f->session);
  signaling_server_shutdown (f->server);
  /* Let the WebSocket close handshakes of the sockets the test (or the
   * server, on too-large) closed finish on loopback, so that libsoup drops
   * its accepted connections before the server goes away (LeakSanitizer
   * otherwise reports them, depending on timing). */
  settle_until = g_get_monotonic_time () + 500 * G_TIME_SPAN_MILLISECOND;
  while (g_get_monotonic_time () < settle_until) {
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (1000);
  }
  media_engine_free (f->engine);
  signaling_server_free (f->server);
  signaling_api_free (f->api);
  records_store_close (f->store);
  /* Let closures and closing sockets settle. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->web_dir);
  g_free (f->recordings_dir);
  g_free (f->key_id);
}

static gboolean
accept_any_certificate (SoupMessage *msg, GTlsCertificate *certificate,
                        GTlsCertificateFlags errors, gpointer user_data)
{
  return TRUE;   /* our own self-signed test certificate */
}

static void
on_client_message (SoupWebsocketConnection *connection, gint type, GBytes *data, gpointer user_data)
{
  Client *client = user_data;
  gsize size;
  const char *bytes = g_bytes_get_data (data, &size);
  json_t *message = json_loadb (bytes, size, 0, NULL);

  g_assert_nonnull (message);
  g_queue_push_tail (&client->messages, message);
}

static void
on_client_closed (SoupWebsocketConnection *connection, gpointer user_data)
{
  ((Client *) user_data)->closed = TRUE;
}

static void
on_connected (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Client *client = user_data;

  client->connection = soup_session_websocket_connect_finish (SOUP_SESSION (source), result,
                                                              &client->error);
  client->done = TRUE;
}

static SoupMessage *
new_message (Fixture *f, const char *method, const char *path)
{
  g_autofree char *uri = g_strdup_printf ("https://127.0.0.1:%u%s", f->port, path);
  SoupMessage *msg = soup_message_new (method, uri);

  g_signal_connect (msg, "accept-certificate", G_CALLBACK (accept_any_certificate), NULL);
  return msg;
}

/* (transfer full) a connected client, or NULL with *@error. */
static Client *
client_connect (Fixture *f, const char *origin, GError **error)
{
  Client *client = g_new0 (Client, 1);
  g_autoptr (SoupMessage) msg = new_message (f, "GET", "/ws");

  soup_session_websocket_connect_async (f->session, msg, origin, NULL, G_PRIORITY_DEFAULT, NULL,
                                        on_connected, client);
  g_assert_true (wait_for (&client->done));
  if (client->connection == NULL) {
    g_propagate_error (error, client->error);
    g_free (client);
    return NULL;
  }
  g_signal_connect (client->connection, "message", G_CALLBACK (on_client_message), client);
  g_signal_connect (client->connection, "closed", G_CALLBACK (on_client_closed), client);
  return client;
}

static void
client_free (Client *client)
{
  if (client == NULL)
    return;
  if (client->connection) {
    g_signal_handlers_disconnect_by_data (client->connection, client);
    if (soup_websocket_connection_get_state (client->connection) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (client->connection, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
    g_object_unref (client->connection);
  }
  g_queue_clear_full (&client->messages, (GDestroyNotify) json_decref);
  g_free (client);
}

static void
client_send (Client *client, const char *text)
{
  soup_websocket_connection_send_text (client->connection, text);
}

static gboolean
has_message (Client *client)
{
  return !g_queue_is_empty (&client->messages);
}

/* The next message (transfer full); fails the test on timeout. */
static json_t *
client_receive (Client *client)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (TIMEOUT_SECONDS, on_timeout, &timed_out);

  while (!has_message (client) && !timed_out && !client->closed)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  if (!has_message (client))
    g_error ("no message (closed=%d)", client->closed);
  return g_queue_pop_head (&client->messages);
}

/* Receives the next message and checks its type (and code for errors). */
static json_t *
expect_message (Client *client, const char *type, const char *code)
{
  json_t *message = client_receive (client);
  g_autofree char *text = json_dumps (message, JSON_COMPACT);

  if (g_strcmp0 (json_string_value (json_object_get (message, "type")), type) != 0
      || (code && g_strcmp0 (json_string_value (json_object_get (message, "code")), code) != 0))
    g_error ("expected %s %s, got %s", type, code ? code : "", text);
  g_test_message ("got %s", text);
  return message;
}

static void
expect_error_message (Client *client, const char *code, json_int_t ref, const char *field)
{
  json_t *message = expect_message (client, "error", code);

  g_assert_true (json_is_string (json_object_get (message, "message")));
  if (ref >= 0)
    g_assert_cmpint (json_integer_value (json_object_get (message, "ref")), ==, ref);
  else
    g_assert_null (json_object_get (message, "ref"));
  g_assert_cmpstr (json_string_value (json_object_get (message, "field")), ==, field);
  json_decref (message);
}

typedef struct {
  GBytes *body;
  GError *error;
  gboolean done;
} HttpResult;

static void
on_http_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  HttpResult *http = user_data;

  http->body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &http->error);
  http->done = TRUE;
}

/* GET @path; returns the body (transfer full) and the status/type.  Async:
 * the server runs on this same thread. */
static char *
http_get (Fixture *f, const char *path, guint *status, char **content_type)
{
  g_autoptr (SoupMessage) msg = new_message (f, "GET", path);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = NULL;
  HttpResult http = { 0 };

  soup_session_send_and_read_async (f->session, msg, G_PRIORITY_DEFAULT, NULL, on_http_done,
                                    &http);
  g_assert_true (wait_for (&http.done));
  body = http.body;
  error = http.error;

  g_assert_no_error (error);
  *status = soup_message_get_status (msg);
  if (content_type)
    *content_type = g_strdup (soup_message_headers_get_one (
        soup_message_get_response_headers (msg), "Content-Type"));
  if (*status == 200 || *status == 404)
    g_assert_cmpstr (soup_message_headers_get_one (soup_message_get_response_headers (msg),
                                                   "Cache-Control"), ==, "no-cache");
  return g_strndup (g_bytes_get_size (body) ? g_bytes_get_data (body, NULL) : "",
                    g_bytes_get_size (body));
}

/* @method @path with an optional bearer @token and JSON @body (borrowed);
 * returns the parsed answer (transfer full; NULL for an empty body). */
static json_t *
http_json (Fixture *f, const char *method, const char *path, const char *token, json_t *body,
           guint *status)
{
  g_autoptr (SoupMessage) msg = new_message (f, method, path);
  g_autoptr (GBytes) answer = NULL;
  HttpResult http = { 0 };

  if (token) {
    g_autofree char *bearer = g_strconcat ("Bearer ", token, NULL);
    soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                  bearer);
  }
  if (body) {
    char *text = json_dumps (body, JSON_COMPACT);
    g_autoptr (GBytes) bytes = g_bytes_new_take (text, strlen (text));

    soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
  }
  soup_session_send_and_read_async (f->session, msg, G_PRIORITY_DEFAULT, NULL, on_http_done,
                                    &http);
  g_assert_true (wait_for (&http.done));
  g_assert_no_error (http.error);
  answer = http.body;
  *status = soup_message_get_status (msg);
  if (g_bytes_get_size (answer) == 0)
    return NULL;
  return json_loadb (g_bytes_get_data (answer, NULL), g_bytes_get_size (answer), 0, NULL);
}

static char *
create_facility (Fixture *f, const char *code, const char *kind)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RecordsFacility) facility = g_new0 (RecordsFacility, 1);

  facility->code = g_strdup (code);
  facility->name = g_strdup (code);
  facility->kind = g_strdup (kind);
  facility->province_code = g_strdup ("038");
  g_assert_true (records_facility_create (f->store, facility, "test", &error));
  g_assert_no_error (error);
  return g_strdup (facility->id);
}

static char *
create_user (Fixture *f, const char *username, RecordsRole role, const char *facility_id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RecordsUser) user = g_new0 (RecordsUser, 1);

  user->username = g_strdup (username);
  user->display_name = g_strdup (username);
  user->role = role;
  user->facility_id = g_strdup (facility_id);
  user->password_hash = records_password_hash_with_cost ("correct horse 1", 1, 1024, &error);
  g_assert_no_error (error);
  g_assert_true (records_user_create (f->store, user, "test", &error));
  g_assert_no_error (error);
  return g_strdup (user->id);
}

static char *
login (Fixture *f, const char *username)
{
  json_t *body = json_pack ("{s:s, s:s}", "username", username, "password", "correct horse 1");
  guint status;
  json_t *answer = http_json (f, "POST", "/api/auth/login", NULL, body, &status);
  char *token;

  json_decref (body);
  g_assert_cmpuint (status, ==, 200);
  token = g_strdup (json_string_value (json_object_get (answer, "token")));
  g_assert_nonnull (token);
  json_decref (answer);
  return token;
}

/* Redeems a fresh invitation to @consultation_id made by @staff_token. */
static char *
patient_token (Fixture *f, const char *staff_token, const char *consultation_id)
{
  g_autofree char *path = g_strdup_printf ("/api/consultations/%s/invitations", consultation_id);
  json_t *empty = json_object ();
  guint status;
  json_t *invitation = http_json (f, "POST", path, staff_token, empty, &status);
  json_t *body, *answer;
  char *token;

  json_decref (empty);
  g_assert_cmpuint (status, ==, 201);
  body = json_pack ("{s:O}", "secret", json_object_get (invitation, "secret"));
  answer = http_json (f, "POST", "/api/invitations/redeem", NULL, body, &status);
  g_assert_cmpuint (status, ==, 200);
  token = g_strdup (json_string_value (json_object_get (answer, "token")));
  g_assert_nonnull (token);
  json_decref (invitation);
  json_decref (body);
  json_decref (answer);
  return token;
}

static void
send_join (Client *client, int id, const char *room, const char *token)
{
  json_t *join = json_pack ("{s:s, s:i, s:s, s:s}", "type", "join", "id", id, "room", room,
                            "name", "ignored");
  char *text;

  if (token)
    json_object_set_new (join, "token", json_string (token));
  text = json_dumps (join, JSON_COMPACT);
  client_send (client, text);
  free (text);
  json_decref (join);
}

static Client *
connect_and_join (Fixture *f, const char *room, const char *token, const char *expect_type,
                  const char *expect_code)
{
  g_autoptr (GError) error = NULL;
  Client *client = client_connect (f, NULL, &error);

  g_assert_no_error (error);
  send_join (client, 1, room, token);
  json_decref (expect_message (client, expect_type, expect_code));
  return client;
}

/* ---- the world ---------------------------------------------------------- */

typedef struct {
  char *clinic, *hospital, *other_clinic;
  char *clinician, *specialist, *outsider, *other_nurse;
  char *t_clinician, *t_specialist, *t_outsider, *t_other_nurse;
  RecordsPatient *patient;
  RecordsConsultation *consultation, *second;
} World;

static RecordsConsultation *
make_consultation (Fixture *f, World *w)
{
  g_autoptr (GError) error = NULL;
  RecordsConsultation *consultation = g_new0 (RecordsConsultation, 1);

  consultation->patient_id = g_strdup (w->patient->id);
  consultation->requester_id = g_strdup (w->clinician);
  consultation->requesting_facility_id = g_strdup (w->clinic);
  consultation->specialist_ids = g_strsplit (w->specialist, ",", -1);
  consultation->scheduled_at = g_strdup ("2026-11-22T08:00:00.000Z");
  consultation->status = g_strdup ("planned");
  consultation->reason = g_strdup ("Đau ngực");
  g_assert_true (records_consultation_create (f->store, consultation, w->clinician, &error));
  g_assert_no_error (error);
  return consultation;
}

static void
world_init (Fixture *f, World *w)
{
  g_autoptr (GError) error = NULL;

  w->clinic = create_facility (f, "38-DONGSON", "district-clinic");
  w->hospital = create_facility (f, "38-BVDK", "provincial-hospital");
  w->other_clinic = create_facility (f, "38-NGASON", "district-clinic");
  w->clinician = create_user (f, "bs.lan", RECORDS_ROLE_CLINICIAN, w->clinic);
  w->specialist = create_user (f, "bs.minh", RECORDS_ROLE_SPECIALIST, w->hospital);
  w->outsider = create_user (f, "bs.khac", RECORDS_ROLE_SPECIALIST, w->hospital);
  w->other_nurse = create_user (f, "dd.hoa", RECORDS_ROLE_NURSE, w->other_clinic);
  w->patient = g_new0 (RecordsPatient, 1);
  w->patient->cccd = g_strdup ("038080123456");
  w->patient->name = g_strdup ("Bệnh nhân Thử");
  w->patient->birth_date = g_strdup ("1980-05-01");
  w->patient->sex = g_strdup ("male");
  w->patient->facility_id = g_strdup (w->clinic);
  g_assert_true (records_patient_create (f->store, w->patient, "test", &error));
  g_assert_no_error (error);
  w->consultation = make_consultation (f, w);
  w->second = make_consultation (f, w);
  w->t_clinician = login (f, "bs.lan");
  w->t_specialist = login (f, "bs.minh");
  w->t_outsider = login (f, "bs.khac");
  w->t_other_nurse = login (f, "dd.hoa");
}

static void
world_clear (World *w)
{
  g_free (w->clinic);
  g_free (w->hospital);
  g_free (w->other_clinic);
  g_free (w->clinician);
  g_free (w->specialist);
  g_free (w->outsider);
  g_free (w->other_nurse);
  g_free (w->t_clinician);
  g_free (w->t_specialist);
  g_free (w->t_outsider);
  g_free (w->t_other_nurse);
  records_patient_free (w->patient);
  records_consultation_free (w->consultation);
  records_consultation_free (w->second);
}

/* @length pseudo-random bytes (transfer full). */
static guint8 *
pattern (gsize length, guint32 seed)
{
  guint8 *bytes = g_malloc (length);
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);

  for (gsize i = 0; i < length; i++)
    bytes[i] = (guint8) g_rand_int (rand);
  return bytes;
}

/* Writes @plain into a new vault file @name of the recordings directory and
 * files a complete participant row for it in @consultation_id.  (transfer
 * full) the row. */
static RecordsRecording *
file_recording (Fixture *f, const char *consultation_id, const char *name, const guint8 *plain,
                gsize length, gboolean close_it)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (f->recordings_dir, name, NULL);
  g_autoptr (CauVaultWriter) writer = cau_vault_writer_new (path, f->key, f->key_id, &error);
  RecordsRecording *recording = g_new0 (RecordsRecording, 1);
  guint64 size = 0;

  g_assert_no_error (error);
  /* In pieces, flushed now and then, as the recorder writes. */
  for (gsize offset = 0; offset < length; offset += 300000) {
    g_assert_true (cau_vault_writer_write (writer, plain + offset, MIN (300000, length - offset),
                                           &error));
    g_assert_true (cau_vault_writer_flush (writer, &error));
  }
  recording->consultation_id = g_strdup (consultation_id);
  recording->kind = g_strdup ("participant");
  recording->participant_id = g_strdup ("p0123456789ab");
  recording->participant_name = g_strdup ("bs.lan");
  recording->file_name = g_strdup (name);
  recording->compose_progress = -1;
  recording->key_id = g_strdup (f->key_id);
  if (close_it) {
    g_assert_true (cau_vault_writer_close (writer, &recording->sha256, &size, &error));
    g_assert_no_error (error);
    recording->status = g_strdup ("complete");
    recording->size = (gint64) size;
    recording->duration_ms = 10000;
    recording->ended_at = g_strdup ("2026-11-22T08:10:00Z");
  } else {
    recording->status = g_strdup ("recording");
  }
  g_assert_true (records_recording_create (f->store, recording, &error));
  g_assert_no_error (error);
  return recording;
}

typedef struct {
  guint status;
  GBytes *body;
  char *content_range;
  char *content_type;
  gint64 content_length;
} RawReply;

static void
raw_reply_free (RawReply *reply)
{
  g_bytes_unref (reply->body);
  g_free (reply->content_range);
  g_free (reply->content_type);
  g_free (reply);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RawReply, raw_reply_free)

/* @method @path (the query included) with an optional bearer @token and
 * Range header. */
static RawReply *
http_raw (Fixture *f, const char *method, const char *path, const char *token, const char *range)
{
  g_autoptr (SoupMessage) msg = new_message (f, method, path);
  SoupMessageHeaders *headers;
  HttpResult http = { 0 };
  RawReply *reply = g_new0 (RawReply, 1);

  if (token) {
    g_autofree char *bearer = g_strconcat ("Bearer ", token, NULL);
    soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                  bearer);
  }
  if (range)
    soup_message_headers_replace (soup_message_get_request_headers (msg), "Range", range);
  soup_session_send_and_read_async (f->session, msg, G_PRIORITY_DEFAULT, NULL, on_http_done,
                                    &http);
  g_assert_true (wait_for (&http.done));
  g_assert_no_error (http.error);
  headers = soup_message_get_response_headers (msg);
  reply->status = soup_message_get_status (msg);
  reply->body = http.body;
  reply->content_range = g_strdup (soup_message_headers_get_one (headers, "Content-Range"));
  reply->content_type = g_strdup (soup_message_headers_get_content_type (headers, NULL));
  reply->content_length = soup_message_headers_get_content_length (headers);
  return reply;
}

static const char *
json_code (json_t *answer)
{
  return json_string_value (json_object_get (answer, "code"));
}

/* POST /api/recordings/ID/playback as @token; the content URL
 * (transfer full), or NULL with *@status set. */
static char *
playback_url (Fixture *f, const char *recording_id, const char *token, guint *status,
              char **code)
{
  g_autofree char *path = g_strdup_printf ("/api/recordings/%s/playback", recording_id);
  json_t *empty = json_object ();
  json_t *answer = http_json (f, "POST", path, token, empty, status);
  char *url = NULL;

  json_decref (empty);
  if (*status == 200) {
    url = g_strdup (json_string_value (json_object_get (answer, "url")));
    g_assert_nonnull (json_string_value (json_object_get (answer, "expires_at")));
  } else if (code) {
    *code = g_strdup (json_code (answer));
  }
  json_decref (answer);
  return url;
}

static guint
count_audit_entity (Fixture *f, const char *action, const char *outcome, const char *entity_id,
                    const char *actor_id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) events = records_audit_list (f->store, 0, actor_id, NULL, action, 1000,
                                                     &error);
  guint count = 0;

  g_assert_no_error (error);
  for (guint i = 0; i < events->len; i++) {
    RecordsAuditEvent *event = g_ptr_array_index (events, i);

    if (g_strcmp0 (event->outcome, outcome) == 0
        && (entity_id == NULL || g_strcmp0 (event->entity_id, entity_id) == 0))
      count++;
  }
  return count;
}

static void
assert_range_as (Fixture *f, const char *url, const char *token, const char *range,
                 const guint8 *plain, gsize plain_length, guint64 first, guint64 last)
{
  g_autoptr (RawReply) reply = http_raw (f, "GET", url, token, range);
  g_autofree char *expected_range = g_strdup_printf (
      "bytes %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT "/%" G_GSIZE_FORMAT, first, last,
      plain_length);
  gsize size;
  const guint8 *data = g_bytes_get_data (reply->body, &size);

  if (reply->status != 206)
    g_printerr ("%s %s: %u %.*s\n", url, range, reply->status, (int) size, (const char *) data);
  g_assert_cmpuint (reply->status, ==, 206);
  g_assert_cmpstr (reply->content_range, ==, expected_range);
  g_assert_cmpstr (reply->content_type, ==, "video/webm");
  g_assert_cmpuint (size, ==, last - first + 1);
  g_assert_true (memcmp (data, plain + first, size) == 0);
}

static void
assert_range (Fixture *f, const char *url, const char *range, const guint8 *plain,
              gsize plain_length, guint64 first, guint64 last)
{
  assert_range_as (f, url, NULL, range, plain, plain_length, first, last);
}

/* A ticket as recording-api.c makes them, for a chosen expiry. */
static char *
forge_ticket (Fixture *f, const char *recording_id, const char *user_id, const char *token,
              gint64 expires_at)
{
  static const char label[] = "cau recording playback ticket v1";
  const guint8 *token_key = signaling_auth_get_key (signaling_api_get_auth (f->api));
  guint8 ticket_key[32], mac[32];
  unsigned int length = sizeof ticket_key;
  g_autoptr (GError) error = NULL;
  g_autoptr (SignalingPrincipal) who = signaling_api_authenticate_token (f->api, token, &error);
  g_autofree char *payload = NULL;
  GString *ticket;

  g_assert_no_error (error);
  HMAC (EVP_sha256 (), token_key, SIGNALING_TOKEN_KEY_BYTES, (const unsigned char *) label,
        sizeof label - 1, ticket_key, &length);
  payload = g_strdup_printf ("%s.%s.%s.%" G_GINT64_FORMAT, recording_id, user_id,
                             who->session_id, expires_at);
  length = sizeof mac;
  HMAC (EVP_sha256 (), ticket_key, sizeof ticket_key, (const unsigned char *) payload,
        strlen (payload), mac, &length);
  ticket = g_string_new (payload);
  g_string_append_c (ticket, '.');
  for (guint i = 0; i < length; i++)
    g_string_append_printf (ticket, "%02x", mac[i]);
  return g_string_free (ticket, FALSE);
}

/* ---- playback ----------------------------------------------------------- */

static void
test_playback (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  World w = { 0 };
  const gsize length = 3 * 1024 * 1024 + 12345;   /* four vault chunks and a bit */
  g_autofree guint8 *plain = pattern (length, 7);
  g_autofree guint8 *other_plain = pattern (1000, 8);
  g_autoptr (RecordsRecording) recording = NULL;
  g_autoptr (RecordsRecording) other = NULL;
  g_autoptr (RecordsRecording) running = NULL;
  g_autofree char *url = NULL;
  g_autofree char *other_url = NULL;
  g_autofree char *code = NULL;
  g_autofree char *path = NULL;
  json_t *answer;
  guint status;
  gint64 checked = 0;

  world_init (f, &w);
  recording = file_recording (f, w.consultation->id, "r1-p1.mkv.cauv", plain, length, TRUE);
  other = file_recording (f, w.second->id, "r2-p1.mkv.cauv", other_plain, 1000, TRUE);
  running = file_recording (f, w.consultation->id, "r3-p1.mkv.cauv", other_plain, 1000, FALSE);

  /* The consultation's list, for its care team. */
  path = g_strdup_printf ("/api/consultations/%s/recordings", w.consultation->id);
  answer = http_json (f, "GET", path, w.t_specialist, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  g_assert_cmpuint (json_array_size (answer), ==, 2);
  {
    json_t *first = json_array_get (answer, 0);

    g_assert_cmpstr (json_string_value (json_object_get (first, "id")), ==, recording->id);
    g_assert_cmpstr (json_string_value (json_object_get (first, "status")), ==, "complete");
    g_assert_cmpstr (json_string_value (json_object_get (first, "kind")), ==, "participant");
    g_assert_cmpstr (json_string_value (json_object_get (first, "patient_id")), ==,
                     w.patient->id);
    g_assert_cmpstr (json_string_value (json_object_get (first, "sha256")), ==,
                     recording->sha256);
    g_assert_true (json_is_null (json_object_get (first, "compose_progress")));
    g_assert_cmpint (json_integer_value (json_object_get (first, "duration_ms")), ==, 10000);
  }
  json_decref (answer);
  json_decref (http_json (f, "GET", path, w.t_outsider, NULL, &status));
  g_assert_cmpuint (status, ==, 403);
  json_decref (http_json (f, "GET", path, NULL, NULL, &status));
  g_assert_cmpuint (status, ==, 401);

  /* FHIR Media: search by patient, read; content.url is the REST path. */
  {
    g_autofree char *search = g_strdup_printf ("/fhir/Media?patient=Patient/%s", w.patient->id);
    g_autofree char *read = g_strdup_printf ("/fhir/Media/%s", recording->id);
    g_autofree char *content_url = g_strdup_printf ("https://127.0.0.1:%u/api/recordings/%s/content",
                                                    f->port, recording->id);
    json_t *resource;

    answer = http_json (f, "GET", search, w.t_clinician, NULL, &status);
    g_assert_cmpuint (status, ==, 200);
    g_assert_cmpstr (json_string_value (json_object_get (answer, "resourceType")), ==, "Bundle");
    g_assert_cmpint (json_integer_value (json_object_get (answer, "total")), ==, 3);
    json_decref (answer);
    answer = http_json (f, "GET", read, w.t_clinician, NULL, &status);
    g_assert_cmpuint (status, ==, 200);
    g_assert_cmpstr (json_string_value (json_object_get (answer, "resourceType")), ==, "Media");
    g_assert_cmpstr (json_string_value (json_object_get (answer, "status")), ==, "completed");
    resource = json_object_get (answer, "content");
    g_assert_cmpstr (json_string_value (json_object_get (resource, "url")), ==, content_url);
    g_assert_cmpstr (json_string_value (json_object_get (resource, "contentType")), ==,
                     "video/webm");
    g_assert_true (g_str_has_suffix (json_string_value (json_object_get (
                                         json_object_get (answer, "encounter"), "reference")),
                                     w.consultation->id));
    g_assert_cmpstr (json_string_value (json_object_get (
                         json_array_get (json_object_get (answer, "extension"), 0),
                         "valueString")), ==, recording->sha256);
    json_decref (answer);
    json_decref (http_json (f, "GET", read, w.t_outsider, NULL, &status));
    g_assert_cmpuint (status, ==, 403);
    json_decref (http_json (f, "GET", search, w.t_outsider, NULL, &status));
    g_assert_cmpuint (status, ==, 403);
  }

  /* Outside the care team: 403, audited; neither a ticket nor the bytes. */
  g_assert_null (playback_url (f, recording->id, w.t_outsider, &status, &code));
  g_assert_cmpuint (status, ==, 403);
  g_assert_cmpstr (code, ==, "forbidden");
  g_assert_null (playback_url (f, recording->id, w.t_other_nurse, &status, NULL));
  g_assert_cmpuint (status, ==, 403);
  {
    g_autofree char *content = g_strdup_printf ("/api/recordings/%s/content", recording->id);
    g_autoptr (RawReply) reply = http_raw (f, "GET", content, w.t_outsider, NULL);

    g_assert_cmpuint (reply->status, ==, 403);
  }
  g_assert_cmpuint (count_audit_entity (f, "playback", "denied", recording->id, w.outsider), ==,
                    2);
  g_assert_cmpuint (count_audit_entity (f, "playback", "denied", recording->id, w.other_nurse),
                    ==, 1);

  /* The care team gets a ticket; the whole file decrypts to what was written. */
  url = playback_url (f, recording->id, w.t_specialist, &status, NULL);
  g_assert_cmpuint (status, ==, 200);
  g_assert_true (g_str_has_prefix (url, "/api/recordings/"));
  g_assert_nonnull (strstr (url, "/content?ticket="));
  {
    g_autoptr (RawReply) reply = http_raw (f, "GET", url, NULL, NULL);
    gsize size;
    const guint8 *bytes = g_bytes_get_data (reply->body, &size);

    g_assert_cmpuint (reply->status, ==, 200);
    g_assert_cmpstr (reply->content_type, ==, "video/webm");
    g_assert_null (reply->content_range);
    g_assert_cmpuint (size, ==, length);
    g_assert_true (memcmp (bytes, plain, length) == 0);
  }
  /* HEAD: the length, no body. */
  {
    g_autoptr (RawReply) reply = http_raw (f, "HEAD", url, NULL, NULL);

    g_assert_cmpuint (reply->status, ==, 200);
    g_assert_cmpint (reply->content_length, ==, (gint64) length);
    g_assert_cmpuint (g_bytes_get_size (reply->body), ==, 0);
  }
  /* Ranges: the first bytes, across a chunk border, open-ended, a suffix,
   * one past the end (clamped), and out of range. */
  assert_range (f, url, "bytes=0-99", plain, length, 0, 99);
  assert_range (f, url, "bytes=1048570-1048600", plain, length, 1048570, 1048600);
  assert_range (f, url, "bytes=2097152-", plain, length, 2097152, length - 1);
  assert_range (f, url, "bytes=-500", plain, length, length - 500, length - 1);
  assert_range (f, url, "bytes=100-99999999", plain, length, 100, length - 1);
  {
    g_autofree char *beyond = g_strdup_printf ("bytes=%" G_GSIZE_FORMAT "-", length);
    g_autofree char *expected = g_strdup_printf ("bytes */%" G_GSIZE_FORMAT, length);
    g_autoptr (RawReply) reply = http_raw (f, "GET", url, NULL, beyond);

    g_assert_cmpuint (reply->status, ==, 416);
    g_assert_cmpstr (reply->content_range, ==, expected);
  }
  /* Bearer tokens work too (curl, scripts). */
  {
    g_autofree char *content = g_strdup_printf ("/api/recordings/%s/content", recording->id);

    assert_range_as (f, content, w.t_specialist, "bytes=5-9", plain, length, 5, 9);
  }
  /* One playback audited per ticket, not per range request. */
  g_assert_cmpuint (count_audit_entity (f, "playback", "success", recording->id, w.specialist),
                    ==, 1 /* ticket */ + 1 /* its first request */ + 1 /* bearer */);

  /* A ticket opens its own recording only. */
  other_url = playback_url (f, other->id, w.t_clinician, &status, NULL);
  g_assert_cmpuint (status, ==, 200);
  {
    g_autofree char *swapped = g_strdup_printf ("/api/recordings/%s/content%s", recording->id,
                                                strchr (other_url, '?'));
    g_autoptr (RawReply) reply = http_raw (f, "GET", swapped, NULL, NULL);

    g_assert_cmpuint (reply->status, ==, 401);
  }
  /* A tampered ticket, an expired one, no ticket at all. */
  {
    g_autofree char *tampered = g_strdup (url);
    char *last = tampered + strlen (tampered) - 1;
    g_autoptr (RawReply) reply = NULL;

    *last = *last == '0' ? '1' : '0';
    reply = http_raw (f, "GET", tampered, NULL, NULL);
    g_assert_cmpuint (reply->status, ==, 401);
  }
  {
    g_autofree char *ticket = forge_ticket (f, recording->id, w.specialist, w.t_specialist,
                                            g_get_real_time () / G_USEC_PER_SEC - 1);
    g_autofree char *expired = g_strdup_printf ("/api/recordings/%s/content?ticket=%s",
                                                recording->id, ticket);
    g_autoptr (RawReply) reply = http_raw (f, "GET", expired, NULL, "bytes=0-9");
    g_autoptr (SignalingJson) body = json_loadb (g_bytes_get_data (reply->body, NULL),
                                                 g_bytes_get_size (reply->body), 0, NULL);

    g_assert_cmpuint (reply->status, ==, 401);
    g_assert_cmpstr (json_code (body), ==, "ticket-expired");
    g_clear_pointer (&ticket, g_free);
    /* The same forging with a live expiry is accepted: the test knows the format. */
    ticket = forge_ticket (f, recording->id, w.specialist, w.t_specialist,
                           g_get_real_time () / G_USEC_PER_SEC + 60);
    g_free (expired);
    expired = g_strdup_printf ("/api/recordings/%s/content?ticket=%s", recording->id, ticket);
    assert_range (f, expired, "bytes=0-9", plain, length, 0, 9);
  }
  g_assert_cmpuint (count_audit_entity (f, "playback", "denied", recording->id, NULL), >=, 5);

  /* A recording still being written has no digest yet: not played. */
  g_clear_pointer (&code, g_free);
  g_assert_null (playback_url (f, running->id, w.t_clinician, &status, &code));
  g_assert_cmpuint (status, ==, 409);
  g_assert_cmpstr (code, ==, "not-ready");
  g_clear_pointer (&code, g_free);

  /* Logging out kills the session's tickets. */
  {
    json_t *empty = json_object ();
    g_autoptr (RawReply) reply = NULL;

    json_decref (http_json (f, "POST", "/api/auth/logout", w.t_specialist, empty, &status));
    json_decref (empty);
    g_assert_cmpuint (status, ==, 204);
    reply = http_raw (f, "GET", url, NULL, "bytes=0-9");
    g_assert_cmpuint (reply->status, ==, 401);
  }

  /* One byte changed on disk: 409 integrity-failed, never played. */
  {
    g_autofree char *file = g_build_filename (f->recordings_dir, "r1-p1.mkv.cauv", NULL);
    g_autofree char *contents = NULL;
    g_autofree char *content = g_strdup_printf ("/api/recordings/%s/content", recording->id);
    gsize size;
    g_autoptr (RawReply) reply = NULL;
    g_autoptr (SignalingJson) body = NULL;

    g_assert_true (g_file_get_contents (file, &contents, &size, &error));
    contents[size / 2] ^= 0x01;
    g_assert_true (g_file_set_contents (file, contents, (gssize) size, &error));
    g_test_expect_message ("cau-signaling", G_LOG_LEVEL_WARNING, "*integrity check failed*");
    g_test_expect_message ("cau-signaling", G_LOG_LEVEL_WARNING, "*integrity check failed*");
    g_assert_null (playback_url (f, recording->id, w.t_clinician, &status, &code));
    g_assert_cmpuint (status, ==, 409);
    g_assert_cmpstr (code, ==, "integrity-failed");
    reply = http_raw (f, "GET", content, w.t_clinician, "bytes=0-9");
    g_assert_cmpuint (reply->status, ==, 409);
    body = json_loadb (g_bytes_get_data (reply->body, NULL), g_bytes_get_size (reply->body), 0,
                       NULL);
    g_assert_cmpstr (json_code (body), ==, "integrity-failed");
    g_test_assert_expected_messages ();
    g_assert_cmpuint (count_audit_entity (f, "playback", "failure", recording->id, w.clinician),
                      ==, 2);
  }

  g_assert_true (records_audit_verify (f->store, &checked, NULL, &error));
  g_assert_no_error (error);
  world_clear (&w);
}

/* ---- restart recovery ------------------------------------------------- */

static void
test_recover (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  World w = { 0 };
  g_autofree guint8 *plain = pattern (700000, 9);
  g_autoptr (RecordsRecording) cut = NULL;
  g_autoptr (RecordsRecording) lost = NULL;
  g_autoptr (RecordsRecording) done = NULL;
  g_autoptr (RecordsRecording) got = NULL;
  g_autofree char *digest = NULL;
  g_autofree char *cut_path = NULL;
  guint count = 0;

  world_init (f, &w);
  /* A file the writer never closed (the crash), a row whose file never
   * appeared, and a complete one that must stay as it is. */
  cut = file_recording (f, w.consultation->id, "c1-p1.mkv.cauv", plain, 700000, FALSE);
  lost = file_recording (f, w.consultation->id, "c1-p2.mkv.cauv", plain, 10, FALSE);
  {
    g_autofree char *lost_path = g_build_filename (f->recordings_dir, "c1-p2.mkv.cauv", NULL);
    g_assert_cmpint (g_unlink (lost_path), ==, 0);
  }
  done = file_recording (f, w.consultation->id, "c1-p3.mkv.cauv", plain, 1000, TRUE);

  g_assert_true (signaling_recording_recover (f->store, f->recordings_dir, f->key, &count,
                                              &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count, ==, 2);

  cut_path = g_build_filename (f->recordings_dir, "c1-p1.mkv.cauv", NULL);
  g_assert_true (cau_vault_file_sha256 (cut_path, &digest, &error));
  got = records_recording_get (f->store, cut->id, &error);
  g_assert_cmpstr (got->status, ==, "interrupted");
  g_assert_nonnull (got->ended_at);
  g_assert_cmpstr (got->sha256, ==, digest);
  g_assert_cmpint (got->size, >, 700000);
  g_clear_pointer (&got, records_recording_free);
  got = records_recording_get (f->store, lost->id, &error);
  g_assert_cmpstr (got->status, ==, "interrupted");
  g_assert_null (got->sha256);
  g_clear_pointer (&got, records_recording_free);
  got = records_recording_get (f->store, done->id, &error);
  g_assert_cmpstr (got->status, ==, "complete");
  g_assert_cmpstr (got->sha256, ==, done->sha256);
  g_clear_pointer (&got, records_recording_free);

  /* The interrupted file plays up to its last whole chunk. */
  {
    g_autofree char *url = NULL;
    guint status;

    url = playback_url (f, cut->id, w.t_clinician, &status, NULL);
    g_assert_cmpuint (status, ==, 200);
    assert_range (f, url, "bytes=0-699999", plain, 700000, 0, 699999);
  }

  /* Nothing left to recover the second time. */
  g_assert_true (signaling_recording_recover (f->store, f->recordings_dir, f->key, &count,
                                              &error));
  g_assert_cmpuint (count, ==, 0);
  world_clear (&w);
}

/* ---- compositions left undone, composed at the next start -------------- */

/* Messages of cau-signaling, kept for the test to read. */
static GPtrArray *captured;

static void
capture_log (const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
  g_ptr_array_add (captured, g_strdup (message));
}

/* Compositions here fail (the files hold no media): not fatal. */
static gboolean
composition_failure_not_fatal (const char *domain, GLogLevelFlags level, const char *message,
                               gpointer data)
{
  return !(g_strcmp0 (domain, "cau-signaling") == 0 && strstr (message, "composition failed"));
}

static gsize
count_captured (const char *pattern)
{
  gsize n = 0;

  for (guint i = 0; i < captured->len; i++)
    n += g_pattern_match_simple (pattern, captured->pdata[i]);
  return n;
}

/* A composed row of @participant's recording, with @status. */
static RecordsRecording *
composed_for (Fixture *f, const RecordsRecording *participant, const char *status)
{
  g_autoptr (GError) error = NULL;
  RecordsRecording *composed = g_new0 (RecordsRecording, 1);

  composed->consultation_id = g_strdup (participant->consultation_id);
  composed->session_id = g_strdup (participant->session_id);
  composed->kind = g_strdup ("composed");
  composed->file_name = signaling_recording_composed_file (participant->session_id);
  composed->status = g_strdup (status);
  composed->compose_progress = -1;
  composed->key_id = g_strdup (f->key_id);
  g_assert_true (records_recording_create (f->store, composed, &error));
  g_assert_no_error (error);
  return composed;
}

static void
assert_status (Fixture *f, const RecordsRecording *recording, const char *status)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RecordsRecording) row = records_recording_get (f->store, recording->id, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (row->status, ==, status);
}

static void
test_resume (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  World w = { 0 };
  g_autofree guint8 *plain = pattern (4000, 3);
  g_autoptr (RecordsRecording) pa = NULL, pb = NULL, pc = NULL, pd = NULL;
  g_autoptr (RecordsRecording) ca = NULL, cb = NULL, cc = NULL, cd = NULL;
  g_autofree char *c_path = NULL;
  guint handler;
  gint64 deadline;

  world_init (f, &w);
  /* A and B: a stop left their composition undone; their files are whole. */
  pa = file_recording (f, w.consultation->id, "ra-p1.mkv.cauv", plain, 4000, TRUE);
  ca = composed_for (f, pa, "interrupted");
  pb = file_recording (f, w.consultation->id, "rb-p1.mkv.cauv", plain, 4000, TRUE);
  cb = composed_for (f, pb, "interrupted");
  /* C: a composition that died with the process left its file. */
  pc = file_recording (f, w.consultation->id, "rc-p1.mkv.cauv", plain, 4000, TRUE);
  cc = composed_for (f, pc, "interrupted");
  c_path = g_build_filename (f->recordings_dir, cc->file_name, NULL);
  g_assert_true (g_file_set_contents (c_path, "partial", -1, &error));
  /* D: a participant file that could not be read after a crash. */
  pd = file_recording (f, w.consultation->id, "rd-p1.mkv.cauv", plain, 4000, FALSE);
  g_free (pd->status);
  pd->status = g_strdup ("interrupted");
  g_assert_true (records_recording_update (f->store, pd, &error));
  cd = composed_for (f, pd, "interrupted");

  captured = g_ptr_array_new_with_free_func (g_free);
  /* Warnings are fatal in tests: their level carries G_LOG_FLAG_FATAL,
   * which the handler's mask must hold to be chosen. */
  handler = g_log_set_handler ("cau-signaling",
                               G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_WARNING | G_LOG_FLAG_FATAL,
                               capture_log, NULL);
  g_test_log_set_fatal_handler (composition_failure_not_fatal, NULL);
  signaling_server_resume_compositions (f->server);

  /* A runs, B waits behind it; C and D are left as they are. */
  g_assert_cmpuint (count_captured ("recording *: composing its 1 file(s) again*"), ==, 2);
  g_assert_cmpuint (count_captured ("recording *: composition queued behind 1 running and 0 "
                                    "waiting"), ==, 1);
  g_assert_cmpuint (count_captured ("*not composed again: participant file rd-p1.mkv.cauv is "
                                    "interrupted and unreadable"), ==, 1);
  assert_status (f, ca, "recording");
  assert_status (f, cb, "recording");
  assert_status (f, cc, "interrupted");
  assert_status (f, cd, "interrupted");

  /* Each ends (failed: the files hold no media), B only after A. */
  deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while (count_captured ("recording *: composition failed*") < 2
         && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (count_captured ("recording *: composition failed*"), ==, 2);
  {
    /* In the order they were started and queued (A and B were filed in
     * the same millisecond: by id). */
    g_autoptr (GPtrArray) started = g_ptr_array_new ();
    guint ended = 0;

    for (guint i = 0; i < captured->len; i++) {
      const char *line = captured->pdata[i];
      const char *id = strstr (line, pa->session_id) ? pa->session_id
                       : strstr (line, pb->session_id) ? pb->session_id : NULL;

      if (strstr (line, "composing its"))
        g_ptr_array_add (started, (gpointer) id);
      else if (strstr (line, "composition failed"))
        g_assert_true (id != NULL && id == g_ptr_array_index (started, ended++));
    }
    g_assert_cmpuint (started->len, ==, 2);
    g_assert_true (started->pdata[0] != started->pdata[1]);
    g_assert_cmpuint (ended, ==, 2);
  }
  assert_status (f, ca, "failed");
  assert_status (f, cb, "failed");
  g_assert_true (g_file_test (c_path, G_FILE_TEST_EXISTS));   /* not touched */

  g_log_remove_handler ("cau-signaling", handler);
  g_clear_pointer (&captured, g_ptr_array_unref);
  world_clear (&w);
}

/* ---- record and consent over WSS --------------------------------------- */

static void
send_text (Client *client, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
send_text (Client *client, const char *format, ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  client_send (client, text);
}

/* The patient joins through the lobby, admitted by @doctor. */
static Client *
patient_joins (Fixture *f, Client *doctor, const char *room, const char *token)
{
  Client *patient = connect_and_join (f, room, token, "lobby", NULL);
  json_t *message = expect_message (doctor, "lobby-updated", NULL);
  const char *waiting = json_string_value (
      json_object_get (json_array_get (json_object_get (message, "waiting"), 0), "id"));

  send_text (doctor, "{\"type\":\"admit\",\"id\":50,\"participant\":\"%s\"}", waiting);
  json_decref (message);
  json_decref (expect_message (doctor, "ok", NULL));
  message = expect_message (patient, "joined", NULL);
  g_assert_true (json_is_null (json_object_get (message, "recording")));
  json_decref (message);
  json_decref (expect_message (doctor, "lobby-updated", NULL));
  json_decref (expect_message (doctor, "participant-joined", NULL));
  return patient;
}

static RecordsRecording *
composed_row (Fixture *f, const char *recording_id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rows = records_recording_list_for_session (f->store, recording_id,
                                                                   &error);

  g_assert_no_error (error);
  for (guint i = 0; i < rows->len; i++) {
    RecordsRecording *row = rows->pdata[i];

    if (strcmp (row->kind, "composed") == 0)
      return g_ptr_array_steal_index (rows, i);
  }
  return NULL;
}

/* Runs the loop until the recording's rows are gone (nobody published:
 * the media engine reported no file and the composed row was dropped). */
static gboolean
wait_rows_gone (Fixture *f, const char *recording_id)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;

  while (g_get_monotonic_time () < deadline) {
    g_autoptr (GError) error = NULL;
    g_autoptr (GPtrArray) rows = records_recording_list_for_session (f->store, recording_id,
                                                                     &error);

    g_assert_no_error (error);
    if (rows->len == 0)
      return TRUE;
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (2000);
  }
  return FALSE;
}

static void
test_record (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  World w = { 0 };
  g_autofree char *t_patient = NULL;
  g_autofree char *recording_id = NULL;
  g_autoptr (RecordsRecording) composed = NULL;
  g_autoptr (RecordsConsent) consent = NULL;
  Client *doctor, *patient, *expert;
  json_t *message;
  gint64 checked = 0;

  world_init (f, &w);
  t_patient = patient_token (f, w.t_clinician, w.consultation->id);
  doctor = connect_and_join (f, w.consultation->id, w.t_clinician, "joined", NULL);
  patient = patient_joins (f, doctor, w.consultation->id, t_patient);

  /* Without consent: refused, and the patient is asked. */
  client_send (doctor, "{\"type\":\"record\",\"id\":1,\"action\":\"start\"}");
  expect_error_message (doctor, "consent-required", 1, NULL);
  message = expect_message (patient, "consent-request", NULL);
  g_assert_cmpstr (json_string_value (json_object_get (message, "purpose")), ==, "recording");
  g_assert_cmpstr (json_string_value (json_object_get (message, "by_name")), ==, "bs.lan");
  json_decref (message);
  g_assert_cmpuint (count_audit_entity (f, "record", "denied", w.consultation->id, w.clinician),
                    ==, 1);

  /* Only the care team records; only the patient consents. */
  client_send (patient, "{\"type\":\"record\",\"id\":2,\"action\":\"start\"}");
  expect_error_message (patient, "forbidden", 2, NULL);
  client_send (doctor, "{\"type\":\"consent\",\"id\":3,\"purpose\":\"recording\",\"granted\":true}");
  expect_error_message (doctor, "forbidden", 3, NULL);
  client_send (doctor, "{\"type\":\"record\",\"id\":4,\"action\":\"stop\"}");
  expect_error_message (doctor, "bad-state", 4, NULL);

  /* The patient grants: stored as an electronic Consent for this consultation. */
  client_send (patient, "{\"type\":\"consent\",\"id\":5,\"purpose\":\"recording\",\"granted\":true}");
  json_decref (expect_message (patient, "ok", NULL));
  message = expect_message (patient, "consent-updated", NULL);
  g_assert_true (json_is_true (json_object_get (message, "granted")));
  json_decref (message);
  json_decref (expect_message (doctor, "consent-updated", NULL));
  consent = records_consent_current (f->store, w.patient->id, w.consultation->id, "recording",
                                     &error);
  g_assert_no_error (error);
  g_assert_true (consent->granted);
  g_assert_cmpstr (consent->consultation_id, ==, w.consultation->id);
  g_assert_cmpstr (consent->recorded_by, ==, "patient");
  g_assert_cmpstr (consent->method, ==, "electronic");
  g_clear_pointer (&consent, records_consent_free);

  /* Now it starts: everyone is told; the composed file's row exists. */
  client_send (doctor, "{\"type\":\"record\",\"id\":6,\"action\":\"start\"}");
  json_decref (expect_message (doctor, "ok", NULL));
  message = expect_message (doctor, "recording-started", NULL);
  recording_id = g_strdup (json_string_value (json_object_get (message, "recording")));
  g_assert_nonnull (recording_id);
  g_assert_nonnull (json_string_value (json_object_get (message, "started_at")));
  json_decref (message);
  message = expect_message (patient, "recording-started", NULL);
  g_assert_cmpstr (json_string_value (json_object_get (message, "recording")), ==, recording_id);
  json_decref (message);
  composed = composed_row (f, recording_id);
  g_assert_nonnull (composed);
  g_assert_cmpstr (composed->status, ==, "recording");
  g_assert_cmpstr (composed->consultation_id, ==, w.consultation->id);
  g_assert_cmpstr (composed->patient_id, ==, w.patient->id);
  g_clear_pointer (&composed, records_recording_free);
  client_send (doctor, "{\"type\":\"record\",\"id\":7,\"action\":\"start\"}");
  expect_error_message (doctor, "bad-state", 7, NULL);

  /* Someone joining now learns a recording is running. */
  expert = connect_and_join (f, w.consultation->id, w.t_specialist, "joined", NULL);
  json_decref (expect_message (doctor, "participant-joined", NULL));
  json_decref (expect_message (patient, "participant-joined", NULL));

  /* The patient withdraws: the recording stops for everyone. */
  client_send (patient, "{\"type\":\"consent\",\"id\":8,\"purpose\":\"recording\",\"granted\":false}");
  json_decref (expect_message (patient, "ok", NULL));
  json_decref (expect_message (patient, "consent-updated", NULL));
  message = expect_message (patient, "recording-stopped", NULL);
  g_assert_cmpstr (json_string_value (json_object_get (message, "recording")), ==, recording_id);
  g_assert_cmpstr (json_string_value (json_object_get (message, "reason")), ==,
                   "consent-withdrawn");
  json_decref (message);
  json_decref (expect_message (doctor, "consent-updated", NULL));
  message = expect_message (doctor, "recording-stopped", NULL);
  g_assert_cmpstr (json_string_value (json_object_get (message, "reason")), ==,
                   "consent-withdrawn");
  json_decref (message);
  json_decref (expect_message (expert, "consent-updated", NULL));
  json_decref (expect_message (expert, "recording-stopped", NULL));
  /* Nobody published: the engine reports no file, the rows go. */
  g_assert_true (wait_rows_gone (f, recording_id));

  /* Withdrawn: a new start is refused again. */
  client_send (expert, "{\"type\":\"record\",\"id\":9,\"action\":\"start\"}");
  expect_error_message (expert, "consent-required", 9, NULL);
  json_decref (expect_message (patient, "consent-request", NULL));

  /* Granted again, started by the specialist, stopped by the clinician. */
  client_send (patient, "{\"type\":\"consent\",\"id\":10,\"purpose\":\"recording\",\"granted\":true}");
  json_decref (expect_message (patient, "ok", NULL));
  json_decref (expect_message (patient, "consent-updated", NULL));
  json_decref (expect_message (doctor, "consent-updated", NULL));
  json_decref (expect_message (expert, "consent-updated", NULL));
  client_send (expert, "{\"type\":\"record\",\"id\":11,\"action\":\"start\"}");
  json_decref (expect_message (expert, "ok", NULL));
  message = expect_message (expert, "recording-started", NULL);
  g_free (recording_id);
  recording_id = g_strdup (json_string_value (json_object_get (message, "recording")));
  json_decref (message);
  json_decref (expect_message (doctor, "recording-started", NULL));
  json_decref (expect_message (patient, "recording-started", NULL));
  client_send (doctor, "{\"type\":\"record\",\"id\":12,\"action\":\"stop\"}");
  json_decref (expect_message (doctor, "ok", NULL));
  message = expect_message (doctor, "recording-stopped", NULL);
  g_assert_cmpstr (json_string_value (json_object_get (message, "reason")), ==, "stopped");
  json_decref (message);
  json_decref (expect_message (patient, "recording-stopped", NULL));
  json_decref (expect_message (expert, "recording-stopped", NULL));
  g_assert_true (wait_rows_gone (f, recording_id));

  /* A withdrawal the clinician files over REST (the patient said so) stops it too. */
  client_send (doctor, "{\"type\":\"record\",\"id\":14,\"action\":\"start\"}");
  json_decref (expect_message (doctor, "ok", NULL));
  message = expect_message (doctor, "recording-started", NULL);
  g_free (recording_id);
  recording_id = g_strdup (json_string_value (json_object_get (message, "recording")));
  json_decref (message);
  json_decref (expect_message (patient, "recording-started", NULL));
  json_decref (expect_message (expert, "recording-started", NULL));
  {
    g_autofree char *path = g_strdup_printf ("/api/patients/%s/consents", w.patient->id);
    json_t *body = json_pack ("{s:s, s:b, s:s, s:s}", "purpose", "recording", "granted", 0,
                              "method", "verbal", "consultation_id", w.consultation->id);
    guint status;

    json_decref (http_json (f, "POST", path, w.t_clinician, body, &status));
    g_assert_cmpuint (status, ==, 201);
    json_decref (expect_message (patient, "consent-updated", NULL));
    message = expect_message (patient, "recording-stopped", NULL);
    g_assert_cmpstr (json_string_value (json_object_get (message, "reason")), ==,
                     "consent-withdrawn");
    json_decref (message);
    json_decref (expect_message (doctor, "consent-updated", NULL));
    json_decref (expect_message (doctor, "recording-stopped", NULL));
    json_decref (expect_message (expert, "consent-updated", NULL));
    json_decref (expect_message (expert, "recording-stopped", NULL));
    g_assert_true (wait_rows_gone (f, recording_id));
    /* And granted again over REST (a grant stops nothing). */
    json_object_set_new (body, "granted", json_true ());
    json_decref (http_json (f, "POST", path, w.t_clinician, body, &status));
    g_assert_cmpuint (status, ==, 201);
    json_decref (body);
  }

  /* Started again; the care team leaves: it ends for the patient left behind. */
  client_send (doctor, "{\"type\":\"record\",\"id\":13,\"action\":\"start\"}");
  json_decref (expect_message (doctor, "ok", NULL));
  message = expect_message (patient, "recording-started", NULL);
  g_free (recording_id);
  recording_id = g_strdup (json_string_value (json_object_get (message, "recording")));
  json_decref (message);
  json_decref (expect_message (expert, "recording-started", NULL));
  client_free (expert);
  json_decref (expect_message (patient, "participant-left", NULL));
  g_assert_false (has_message (patient));
  client_free (doctor);
  message = expect_message (patient, "recording-stopped", NULL);
  g_assert_cmpstr (json_string_value (json_object_get (message, "reason")), ==, "ended");
  json_decref (message);
  json_decref (expect_message (patient, "participant-left", NULL));
  g_assert_true (wait_rows_gone (f, recording_id));
  client_free (patient);

  /* Audited: four starts and four stops, the refusals, the consents. */
  g_assert_cmpuint (count_audit_entity (f, "record", "success", w.consultation->id, NULL), ==, 8);
  g_assert_cmpuint (count_audit_entity (f, "record", "success", w.consultation->id, "system"),
                    ==, 2 /* withdrawal over REST, the care team gone */);
  g_assert_cmpuint (count_audit_entity (f, "record", "denied", w.consultation->id, NULL), ==, 3);
  g_assert_cmpuint (count_audit_entity (f, "create", "success", NULL, NULL), >=, 3);
  g_assert_true (records_audit_verify (f->store, &checked, NULL, &error));
  g_assert_no_error (error);
  world_clear (&w);
}

/* Too little free space: refused before anything is filed. */
static void
test_record_disk_low (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  World w = { 0 };
  g_autoptr (RecordsConsent) consent = g_new0 (RecordsConsent, 1);
  g_autoptr (GPtrArray) rows = NULL;
  Client *doctor;

  world_init (f, &w);
  consent->patient_id = g_strdup (w.patient->id);
  consent->consultation_id = g_strdup (w.consultation->id);
  consent->purpose = g_strdup ("recording");
  consent->granted = TRUE;
  consent->recorded_by = g_strdup (w.clinician);
  consent->method = g_strdup ("verbal");
  g_assert_true (records_consent_create (f->store, consent, &error));
  doctor = connect_and_join (f, w.consultation->id, w.t_clinician, "joined", NULL);
  g_test_expect_message ("cau-signaling", G_LOG_LEVEL_WARNING, "*recording refused*MiB free*");
  client_send (doctor, "{\"type\":\"record\",\"id\":1,\"action\":\"start\"}");
  expect_error_message (doctor, "disk-low", 1, NULL);
  g_test_assert_expected_messages ();
  rows = records_recording_list_for_consultation (f->store, w.consultation->id, &error);
  g_assert_cmpuint (rows->len, ==, 0);
  g_assert_cmpuint (count_audit_entity (f, "record", "failure", w.consultation->id, NULL), ==, 1);
  client_free (doctor);
  world_clear (&w);
}

/* ---- cau recordings --------------------------------------------------- */

/* Runs the real `cau` on the fixture's data directory; its exit status. */
static int
run_cau (Fixture *f, char **out, char **err, ...)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  const char *arg;
  int wait_status = 0;
  va_list ap;

  g_ptr_array_add (args, (gpointer) CAU_EXE);
  va_start (ap, err);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (args, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (args, (gpointer) "--data-dir");
  g_ptr_array_add (args, f->dir);
  g_ptr_array_add (args, NULL);
  g_assert_true (g_spawn_sync (NULL, (char **) args->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               out, err, &wait_status, &error));
  g_assert_no_error (error);
  return WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : -1;
}

static void
test_cau (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  World w = { 0 };
  const gsize length = 2 * 1024 * 1024 + 777;
  g_autofree guint8 *plain = pattern (length, 11);
  g_autoptr (RecordsRecording) recording = NULL;
  g_autofree char *target = NULL;
  g_autofree char *second = NULL;
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *copy = NULL;
  gsize copy_length;

  world_init (f, &w);
  recording = file_recording (f, w.consultation->id, "e1-p1.mkv.cauv", plain, length, TRUE);
  target = g_build_filename (f->dir, "copy.webm", NULL);
  second = g_build_filename (f->dir, "second.webm", NULL);

  g_assert_cmpint (run_cau (f, &out, &err, "recordings", "list", "--consultation",
                            w.consultation->id, NULL), ==, 0);
  g_assert_nonnull (strstr (out, recording->id));
  g_assert_nonnull (strstr (out, "complete"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* A decrypted copy; not a terminal, so plain percentages. */
  g_assert_cmpint (run_cau (f, &out, &err, "recordings", "export", recording->id, "--out",
                            target, NULL), ==, 0);
  g_assert_nonnull (strstr (err, "0%\n"));
  g_assert_nonnull (strstr (err, "100%\n"));
  g_assert_null (strstr (err, "["));
  g_assert_nonnull (strstr (out, "exported"));
  g_assert_true (g_file_get_contents (target, &copy, &copy_length, &error));
  g_assert_cmpuint (copy_length, ==, length);
  g_assert_true (memcmp (copy, plain, length) == 0);
  g_assert_cmpuint (count_audit_entity (f, "export", "success", recording->id, "cli"), ==, 1);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* On a terminal: a progress bar on stderr, ending at 100 %. */
  {
    g_autofree char *third = g_build_filename (f->dir, "third.webm", NULL);
    const char *argv[] = { CAU_EXE, "recordings", "export", recording->id, "--out", third,
                           "--data-dir", f->dir, NULL };
    GString *seen = g_string_new (NULL);
    int master, slave, wait_status = 0;
    GPid pid;
    char buffer[4096];
    ssize_t n;

    g_assert_cmpint (openpty (&master, &slave, NULL, NULL, NULL), ==, 0);
    g_assert_true (g_spawn_async_with_fds (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                           NULL, NULL, &pid, -1, -1, slave, &error));
    g_assert_no_error (error);
    close (slave);
    while ((n = read (master, buffer, sizeof buffer)) > 0)
      g_string_append_len (seen, buffer, n);
    close (master);
    g_assert_cmpint (waitpid (pid, &wait_status, 0), ==, pid);
    g_spawn_close_pid (pid);
    g_assert_true (WIFEXITED (wait_status) && WEXITSTATUS (wait_status) == 0);
    g_assert_nonnull (strstr (seen->str, "\r["));
    g_assert_nonnull (strstr (seen->str, "########################################] 100%"));
    g_assert_true (g_file_test (third, G_FILE_TEST_EXISTS));
    g_string_free (seen, TRUE);
  }

  /* Usage errors exit 2; an unknown id 1. */
  g_assert_cmpint (run_cau (f, &out, &err, "recordings", "export", recording->id, NULL), ==, 2);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_cau (f, &out, &err, "recordings", "export",
                            "00000000-0000-4000-8000-000000000000", "--out", second, NULL), ==,
                   1);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* A changed byte: exit 1, nothing at --out, no temporary left. */
  {
    g_autofree char *file = g_build_filename (f->recordings_dir, "e1-p1.mkv.cauv", NULL);
    g_autofree char *contents = NULL;
    gsize size;
    GDir *dir;
    const char *name;

    g_assert_true (g_file_get_contents (file, &contents, &size, &error));
    contents[size - 40] ^= 0x80;
    g_assert_true (g_file_set_contents (file, contents, (gssize) size, &error));
    g_assert_cmpint (run_cau (f, &out, &err, "recordings", "export", recording->id, "--out",
                              second, NULL), ==, 1);
    g_assert_nonnull (strstr (err, "integrity check failed"));
    g_assert_false (g_file_test (second, G_FILE_TEST_EXISTS));
    dir = g_dir_open (f->dir, 0, NULL);
    while ((name = g_dir_read_name (dir)) != NULL)
      g_assert_false (g_str_has_prefix (name, ".cau-export-"));
    g_dir_close (dir);
  }
  world_clear (&w);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/signaling/recording/playback", Fixture, NULL, fixture_set_up, test_playback,
              fixture_tear_down);
  g_test_add ("/signaling/recording/resume", Fixture, NULL, fixture_set_up, test_resume,
              fixture_tear_down);
  g_test_add ("/signaling/recording/recover", Fixture, NULL, fixture_set_up, test_recover,
              fixture_tear_down);
  g_test_add ("/signaling/recording/cau", Fixture, NULL, fixture_set_up, test_cau,
              fixture_tear_down);
  g_test_add ("/signaling/recording/record", Fixture, NULL, fixture_set_up, test_record,
              fixture_tear_down);
  g_test_add ("/signaling/recording/record-disk-low", Fixture, GINT_TO_POINTER (1),
              fixture_set_up, test_record_disk_low, fixture_tear_down);
  return g_test_run ();
}
