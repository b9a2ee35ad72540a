/* Tests signaling/ end to end in one process: the real SoupServer over TLS
 * with a generated certificate, the real media engine and records store,
 * driven by libsoup's WebSocket client on 127.0.0.1. */
#include <glib/gstdio.h>
#include <jansson.h>
#include <libsoup/soup.h>
#include <sqlite3.h>
#include <string.h>

#include "api.h"
#include "media.h"
#include "password.h"
#include "records.h"
#include "server.h"
#include "store.h"
#include "tls-certificate.h"

typedef struct {
  char *dir;
  char *web_dir;
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

/* Viewers of the briefing-viewers test (and the fixture's briefing-viewers
 * setting).  Its broadcasts grow with the square of the viewers: under
 * ASan (debug, slow unwinding, a loaded CI machine) 100 take minutes, so
 * sanitizer builds check the same with fewer. */
#if defined(__SANITIZE_ADDRESS__)
#define BRIEFING_VIEWERS 25
#else
#define BRIEFING_VIEWERS 100
#endif

#define TIMEOUT_SECONDS 60   /* a hang guard: ASan without fast unwinding is slow on a loaded machine */

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
  write_file (f->web_dir, "api.js", "export const y = 2;\n");
  write_file (f->web_dir, "fhir.js", "export const z = 3;\n");
  write_file (f->dir, "secret.txt", "not for the web\n");

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
  options.max_briefing_viewers = BRIEFING_VIEWERS;
  options.anonymous_rooms = TRUE;
  options.api = f->api;
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

static void
wait_closed (Client *client)
{
  g_assert_true (wait_for (&client->closed));
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

static void
test_http (Fixture *f, gconstpointer data)
{
  guint status;
  g_autofree char *type = NULL;
  g_autofree char *body = NULL;

  body = http_get (f, "/healthz", &status, NULL);
  g_assert_cmpuint (status, ==, 200);
  g_assert_cmpstr (body, ==, "{\"status\":\"ok\"}\n");
  g_free (body);

  body = http_get (f, "/metrics", &status, &type);
  g_assert_cmpuint (status, ==, 200);
  g_assert_true (g_str_has_prefix (type, "text/plain"));
  g_assert_nonnull (strstr (body, "cau_signaling_sockets 0"));
  g_assert_nonnull (strstr (body, "cau_signaling_errors_total{code=\"bad-json\"}"));
  g_assert_nonnull (strstr (body, "cau_media_rtp_packets_total{direction=\"in\"}"));
  g_free (body);
  g_free (type);

  body = http_get (f, "/", &status, &type);
  g_assert_cmpuint (status, ==, 200);
  g_assert_cmpstr (type, ==, "text/html; charset=utf-8");
  g_assert_nonnull (strstr (body, "Cầu"));
  g_free (body);
  g_free (type);

  body = http_get (f, "/app.js", &status, &type);
  g_assert_cmpuint (status, ==, 200);
  g_assert_cmpstr (type, ==, "text/javascript; charset=utf-8");

  const char *refused[] = { "/missing.js", "/%2e%2e/secret.txt", "/..%2fsecret.txt",
                            "/.%2e/secret.txt", "/web/../secret.txt" };
  for (gsize i = 0; i < G_N_ELEMENTS (refused); i++) {
    g_free (body);
    body = http_get (f, refused[i], &status, NULL);
    /* libsoup itself answers 400 to some ".." forms; we answer 404. */
    if (status != 400)
      g_assert_cmpuint (status, ==, 404);
    g_assert_null (strstr (body, "not for the web"));
  }
}

static void
test_origin (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *same = g_strdup_printf ("https://127.0.0.1:%u", f->port);
  Client *client;

  client = client_connect (f, "https://evil.example", &error);
  g_assert_null (client);
  g_assert_nonnull (error);
  g_clear_error (&error);

  client = client_connect (f, "https://127.0.0.1:1", &error);
  g_assert_null (client);
  g_clear_error (&error);

  client = client_connect (f, same, &error);
  g_assert_no_error (error);
  client_send (client, "{\"type\":\"ping\",\"id\":1}");
  json_decref (expect_message (client, "pong", NULL));
  client_free (client);

  g_assert_true (signaling_server_origin_allowed (NULL, "x:1"));
  g_assert_true (signaling_server_origin_allowed ("https://LocalHost:8443", "localhost:8443"));
  g_assert_true (signaling_server_origin_allowed ("https://localhost", "localhost:443"));
  g_assert_true (signaling_server_origin_allowed ("https://[::1]:8443", "[::1]:8443"));
  g_assert_false (signaling_server_origin_allowed ("https://localhost:8443", "localhost:9443"));
  g_assert_false (signaling_server_origin_allowed ("null", "localhost:8443"));
  g_assert_false (signaling_server_origin_allowed ("https://localhost:8443", NULL));
  g_assert_false (signaling_server_origin_allowed ("https://a.example:8443", "b.example:8443"));
  g_assert_false (signaling_server_origin_allowed ("https://localhost:8443", "localhost:8443/x"));
}

static int
count_events (Fixture *f, const char *event)
{
  g_autofree char *path = g_build_filename (f->dir, "cau.db", NULL);
  sqlite3 *db;
  sqlite3_stmt *stmt;
  int count;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT COUNT(*) FROM call_events WHERE event = ?1",
                                       -1, &stmt, NULL), ==, SQLITE_OK);
  sqlite3_bind_text (stmt, 1, event, -1, SQLITE_STATIC);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  count = sqlite3_column_int (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return count;
}

static void
test_session (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  Client *alice = client_connect (f, NULL, &error);
  Client *bob;
  json_t *message, *participants;
  g_autofree char *alice_id = NULL;
  g_autofree char *big = NULL;

  g_assert_no_error (error);

  /* Before join. */
  client_send (alice, "{\"type\":\"publish\",\"id\":1,\"sdp\":\"v=0\"}");
  expect_error_message (alice, "not-joined", 1, NULL);
  client_send (alice, "{\"type\":\"join\",");
  expect_error_message (alice, "bad-json", -1, NULL);
  client_send (alice, "[1]");
  expect_error_message (alice, "bad-json", -1, NULL);
  client_send (alice, "{\"type\":\"dance\",\"id\":2}");
  expect_error_message (alice, "unknown-type", 2, "type");
  client_send (alice, "{\"type\":\"join\",\"id\":3,\"room\":\"a b\",\"name\":\"Lan\"}");
  expect_error_message (alice, "invalid-field", 3, "room");
  client_send (alice, "{\"type\":\"join\",\"id\":4,\"room\":\"r1\",\"name\":\"Lan\",\"nmae\":1}");
  expect_error_message (alice, "invalid-field", 4, "nmae");

  /* Join. */
  client_send (alice, "{\"type\":\"join\",\"id\":5,\"room\":\"r1\",\"name\":\"BS. Lan\"}");
  message = expect_message (alice, "joined", NULL);
  g_assert_cmpint (json_integer_value (json_object_get (message, "ref")), ==, 5);
  g_assert_cmpstr (json_string_value (json_object_get (message, "room")), ==, "r1");
  alice_id = g_strdup (json_string_value (json_object_get (message, "participant")));
  g_assert_true (g_regex_match_simple ("^p[0-9a-f]{12}$", alice_id, 0, 0));
  g_assert_cmpuint (json_array_size (json_object_get (message, "participants")), ==, 0);
  g_assert_true (json_is_array (json_object_get (message, "ice_servers")));
  json_decref (message);

  client_send (alice, "{\"type\":\"join\",\"id\":\"again\",\"room\":\"r1\",\"name\":\"x\"}");
  message = expect_message (alice, "error", "already-joined");
  g_assert_cmpstr (json_string_value (json_object_get (message, "ref")), ==, "again");
  json_decref (message);

  client_send (alice, "{\"type\":\"subscribe-answer\",\"id\":6,\"sdp\":\"v=0\",\"version\":1}");
  expect_error_message (alice, "bad-state", 6, NULL);
  client_send (alice, "{\"type\":\"keyframe\",\"id\":7,\"participant\":\"p000000000000\"}");
  expect_error_message (alice, "invalid-field", 7, "participant");
  client_send (alice, "{\"type\":\"publish\",\"id\":8,\"sdp\":\"this is not SDP\"}");
  expect_error_message (alice, "bad-sdp", 8, "sdp");

  /* A second participant sees the first, and the first hears of it. */
  bob = client_connect (f, NULL, &error);
  g_assert_no_error (error);
  client_send (bob, "{\"type\":\"join\",\"room\":\"r1\",\"name\":\"BS. Minh\"}");
  message = expect_message (bob, "joined", NULL);
  participants = json_object_get (message, "participants");
  g_assert_cmpuint (json_array_size (participants), ==, 1);
  g_assert_cmpstr (json_string_value (json_object_get (json_array_get (participants, 0), "id")),
                   ==, alice_id);
  g_assert_cmpstr (json_string_value (json_object_get (json_array_get (participants, 0), "name")),
                   ==, "BS. Lan");
  json_decref (message);
  message = expect_message (alice, "participant-joined", NULL);
  g_assert_cmpstr (json_string_value (json_object_get (json_object_get (message, "participant"),
                                                       "name")), ==, "BS. Minh");
  json_decref (message);

  /* Mute: ok to the sender, participant-updated to the other. */
  client_send (alice, "{\"type\":\"mute\",\"id\":9,\"kind\":\"audio\",\"muted\":true}");
  json_decref (expect_message (alice, "ok", NULL));
  message = expect_message (bob, "participant-updated", NULL);
  g_assert_true (json_is_true (json_object_get (json_object_get (message, "participant"),
                                                "audio_muted")));
  json_decref (message);

  /* After join 64 KiB is the limit: 70 000 bytes → too-large, close 1009. */
  big = g_strnfill (70000, 'x');
  memcpy (big, "{\"type\":\"ping\",\"pad\":\"", 22);
  big[69998] = '"';
  big[69999] = '}';
  client_send (alice, big);
  expect_error_message (alice, "too-large", -1, NULL);
  wait_closed (alice);
  g_assert_cmpuint (soup_websocket_connection_get_close_code (alice->connection), ==,
                    SOUP_WEBSOCKET_CLOSE_TOO_BIG);
  message = expect_message (bob, "participant-left", NULL);
  g_assert_cmpstr (json_string_value (json_object_get (message, "participant")), ==, alice_id);
  json_decref (message);
  client_free (alice);
  /* Alice was the plain room's host (its first joiner): Bob is now. */
  message = expect_message (bob, "participant-updated", NULL);
  g_assert_cmpstr (json_string_value (json_object_get (json_object_get (message, "participant"),
                                                       "role")), ==, "host");
  json_decref (message);

  /* The server still serves: leave → left, then the socket closes. */
  client_send (bob, "{\"type\":\"ping\",\"id\":10}");
  json_decref (expect_message (bob, "pong", NULL));
  client_send (bob, "{\"type\":\"leave\",\"id\":11}");
  json_decref (expect_message (bob, "left", NULL));
  wait_closed (bob);
  client_free (bob);

  g_assert_cmpint (count_events (f, "join"), ==, 2);
  g_assert_cmpint (count_events (f, "leave"), ==, 2);
}

static void
test_limits (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *big = NULL;
  Client *client, *others[3];
  int pongs = 0, limited = 0;

  /* Before join the limit is 4 KiB. */
  client = client_connect (f, NULL, &error);
  g_assert_no_error (error);
  big = g_strnfill (5000, ' ');
  memcpy (big, "{\"type\":\"ping\"}", 15);
  client_send (client, big);
  expect_error_message (client, "too-large", -1, NULL);
  wait_closed (client);
  client_free (client);

  /* Far over the limit: libsoup itself closes with 1009. */
  client = client_connect (f, NULL, &error);
  g_assert_no_error (error);
  g_free (big);
  big = g_strnfill (100000, ' ');
  client_send (client, big);
  wait_closed (client);
  /* libsoup sends 1009 and drops the connection at once; while the client is
   * still writing, the close frame can be lost to the TCP reset (code 0). */
  {
    gushort code = soup_websocket_connection_get_close_code (client->connection);
    g_assert_true (code == SOUP_WEBSOCKET_CLOSE_TOO_BIG || code == 0);
  }
  client_free (client);

  /* Rate limit: 60 pings at once → 50 pongs and one rate-limited. */
  client = client_connect (f, NULL, &error);
  g_assert_no_error (error);
  for (int i = 0; i < 60; i++)
    client_send (client, "{\"type\":\"ping\"}");
  for (int i = 0; i < 51; i++) {
    json_t *message = client_receive (client);
    const char *type = json_string_value (json_object_get (message, "type"));

    if (g_strcmp0 (type, "pong") == 0)
      pongs++;
    else if (g_strcmp0 (json_string_value (json_object_get (message, "code")), "rate-limited") == 0)
      limited++;
    json_decref (message);
  }
  g_assert_cmpint (pongs, ==, 50);
  g_assert_cmpint (limited, ==, 1);
  client_free (client);

  /* Room full at max-participants (3 here). */
  for (int i = 0; i < 3; i++) {
    others[i] = client_connect (f, NULL, &error);
    g_assert_no_error (error);
    client_send (others[i], "{\"type\":\"join\",\"room\":\"full\",\"name\":\"n\"}");
    json_decref (expect_message (others[i], "joined", NULL));
  }
  client = client_connect (f, NULL, &error);
  client_send (client, "{\"type\":\"join\",\"id\":1,\"room\":\"full\",\"name\":\"n\"}");
  expect_error_message (client, "room-full", 1, NULL);
  client_free (client);
  for (int i = 0; i < 3; i++)
    client_free (others[i]);
}


/* ---- consultation rooms: tokens, the care team, the lobby ---- */

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

static guint
count_audit (Fixture *f, const char *action, const char *outcome)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) events = records_audit_list (f->store, 0, NULL, NULL, action, 1000,
                                                     &error);
  guint count = 0;

  g_assert_no_error (error);
  for (guint i = 0; i < events->len; i++) {
    RecordsAuditEvent *event = g_ptr_array_index (events, i);

    if (g_strcmp0 (event->outcome, outcome) == 0)
      count++;
  }
  return count;
}

static void
test_consultation_room (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *clinic = create_facility (f, "38-DONGSON", "district-clinic");
  g_autofree char *hospital = create_facility (f, "38-BVDK", "provincial-hospital");
  g_autofree char *clinician = create_user (f, "bs.lan", RECORDS_ROLE_CLINICIAN, clinic);
  g_autofree char *specialist = create_user (f, "bs.minh", RECORDS_ROLE_SPECIALIST, hospital);
  g_autofree char *outsider = create_user (f, "bs.khac", RECORDS_ROLE_SPECIALIST, hospital);
  g_autofree char *admin = create_user (f, "quan.tri", RECORDS_ROLE_ADMINISTRATOR, NULL);
  g_autofree char *t_clinician = NULL, *t_specialist = NULL, *t_outsider = NULL;
  g_autofree char *t_admin = NULL, *t_patient = NULL, *t_patient2 = NULL;
  g_autofree char *patient_pid = NULL;
  g_autoptr (RecordsPatient) patient = g_new0 (RecordsPatient, 1);
  g_autoptr (RecordsConsultation) consultation = g_new0 (RecordsConsultation, 1);
  g_autoptr (RecordsConsultation) reread = NULL;
  Client *doctor, *patient_client, *patient_again, *other, *expert;
  json_t *message, *body;
  gint64 checked = 0;
  guint status;

  patient->cccd = g_strdup ("038080123456");
  patient->bhyt = g_strdup ("DN4380380123456");
  patient->name = g_strdup ("Bệnh nhân Thử");
  patient->birth_date = g_strdup ("1980-05-01");
  patient->sex = g_strdup ("male");
  patient->facility_id = g_strdup (clinic);
  g_assert_true (records_patient_create (f->store, patient, "test", &error));
  g_assert_no_error (error);
  consultation->patient_id = g_strdup (patient->id);
  consultation->requester_id = g_strdup (clinician);
  consultation->requesting_facility_id = g_strdup (clinic);
  consultation->specialist_ids = g_strsplit (specialist, ",", -1);
  consultation->scheduled_at = g_strdup ("2026-11-22T08:00:00.000Z");
  consultation->status = g_strdup ("planned");
  consultation->reason = g_strdup ("Đau ngực");
  g_assert_true (records_consultation_create (f->store, consultation, clinician, &error));
  g_assert_no_error (error);

  /* The REST and FHIR APIs are mounted on the same server, behind tokens. */
  json_decref (http_json (f, "GET", "/api/me", NULL, NULL, &status));
  g_assert_cmpuint (status, ==, 401);
  json_decref (http_json (f, "GET", "/fhir/Patient?identifier=cccd|038080123456", NULL, NULL,
                          &status));
  g_assert_cmpuint (status, ==, 401);
  /* Static files whose names start like the API paths stay static files. */
  {
    g_autofree char *api_js = http_get (f, "/api.js", &status, NULL);
    g_autofree char *fhir_js = NULL;

    g_assert_cmpuint (status, ==, 200);
    g_assert_cmpstr (api_js, ==, "export const y = 2;\n");
    fhir_js = http_get (f, "/fhir.js", &status, NULL);
    g_assert_cmpuint (status, ==, 200);
    g_assert_cmpstr (fhir_js, ==, "export const z = 3;\n");
  }
  message = http_json (f, "GET", "/fhir/metadata", NULL, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  g_assert_cmpstr (json_string_value (json_object_get (message, "resourceType")), ==,
                   "CapabilityStatement");
  json_decref (message);

  t_clinician = login (f, "bs.lan");
  t_specialist = login (f, "bs.minh");
  t_outsider = login (f, "bs.khac");
  t_admin = login (f, "quan.tri");
  t_patient = patient_token (f, t_clinician, consultation->id);

  /* Refusals: no token, a bad token, not on the care team, an administrator,
   * a plain room name with a patient token. */
  client_free (connect_and_join (f, consultation->id, NULL, "error", "unauthenticated"));
  client_free (connect_and_join (f, consultation->id, "e30.e30.AAAA", "error", "token-invalid"));
  {
    g_autofree char *tampered = g_strdup (t_clinician);
    char *last = tampered + strlen (tampered) - 2;

    *last = *last == 'A' ? 'B' : 'A';
    client_free (connect_and_join (f, consultation->id, tampered, "error", "token-invalid"));
  }
  client_free (connect_and_join (f, consultation->id, t_outsider, "error", "forbidden"));
  client_free (connect_and_join (f, consultation->id, t_admin, "error", "forbidden"));
  client_free (connect_and_join (f, "plain-room", t_patient, "error", "forbidden"));
  g_assert_cmpuint (count_audit (f, "join", "denied"), >=, 5);

  /* The patient waits in the lobby; the consultation is now "arrived". */
  patient_client = connect_and_join (f, consultation->id, t_patient, "lobby", NULL);
  reread = records_consultation_get (f->store, consultation->id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (reread->status, ==, "arrived");
  g_clear_pointer (&reread, records_consultation_free);
  client_send (patient_client, "{\"type\":\"publish\",\"id\":2,\"sdp\":\"v=0\"}");
  expect_error_message (patient_client, "not-joined", 2, NULL);

  /* The clinician joins, sees the patient waiting; in-progress now. */
  {
    g_autoptr (GError) connect_error = NULL;

    doctor = client_connect (f, NULL, &connect_error);
    g_assert_no_error (connect_error);
  }
  send_join (doctor, 1, consultation->id, t_clinician);
  message = expect_message (doctor, "joined", NULL);
  g_assert_cmpuint (json_array_size (json_object_get (message, "lobby")), ==, 1);
  patient_pid = g_strdup (json_string_value (
      json_object_get (json_array_get (json_object_get (message, "lobby"), 0), "id")));
  g_assert_cmpstr (json_string_value (json_object_get (
                       json_array_get (json_object_get (message, "lobby"), 0), "name")),
                   ==, "Bệnh nhân Thử");
  json_decref (message);
  reread = records_consultation_get (f->store, consultation->id, &error);
  g_assert_cmpstr (reread->status, ==, "in-progress");

  /* The same invitation again: the first connection is replaced. */
  patient_again = connect_and_join (f, consultation->id, t_patient, "lobby", NULL);
  expect_error_message (patient_client, "replaced", -1, NULL);
  wait_closed (patient_client);
  client_free (patient_client);
  /* The doctor saw the list shrink (old one gone) and grow (new one). */
  message = expect_message (doctor, "lobby-updated", NULL);
  json_decref (message);
  message = expect_message (doctor, "lobby-updated", NULL);
  g_assert_cmpuint (json_array_size (json_object_get (message, "waiting")), ==, 1);
  g_free (patient_pid);
  patient_pid = g_strdup (json_string_value (
      json_object_get (json_array_get (json_object_get (message, "waiting"), 0), "id")));
  json_decref (message);

  /* Only someone waiting can be admitted; then the patient joins. */
  client_send (doctor, "{\"type\":\"admit\",\"id\":3,\"participant\":\"p000000000000\"}");
  expect_error_message (doctor, "not-in-lobby", 3, "participant");
  {
    g_autofree char *admit = g_strdup_printf ("{\"type\":\"admit\",\"id\":4,"
                                              "\"participant\":\"%s\"}", patient_pid);
    client_send (doctor, admit);
  }
  json_decref (expect_message (doctor, "ok", NULL));
  message = expect_message (patient_again, "joined", NULL);
  g_assert_cmpstr (json_string_value (json_object_get (message, "participant")), ==, patient_pid);
  g_assert_null (json_object_get (message, "lobby"));      /* patients see no lobby */
  g_assert_cmpuint (json_array_size (json_object_get (message, "participants")), ==, 1);
  json_decref (message);
  message = expect_message (doctor, "lobby-updated", NULL);
  g_assert_cmpuint (json_array_size (json_object_get (message, "waiting")), ==, 0);
  json_decref (message);
  message = expect_message (doctor, "participant-joined", NULL);
  g_assert_cmpstr (json_string_value (json_object_get (json_object_get (message, "participant"),
                                                       "name")), ==, "Bệnh nhân Thử");
  json_decref (message);
  /* A patient cannot admit anyone. */
  client_send (patient_again, "{\"type\":\"admit\",\"id\":5,\"participant\":\"p000000000000\"}");
  expect_error_message (patient_again, "forbidden", 5, NULL);

  /* The invited specialist joins straight in. */
  expert = connect_and_join (f, consultation->id, t_specialist, "joined", NULL);
  json_decref (expect_message (doctor, "participant-joined", NULL));
  json_decref (expect_message (patient_again, "participant-joined", NULL));

  /* A second invitation, turned away. */
  t_patient2 = patient_token (f, t_clinician, consultation->id);
  other = connect_and_join (f, consultation->id, t_patient2, "lobby", NULL);
  message = expect_message (doctor, "lobby-updated", NULL);
  g_assert_cmpuint (json_array_size (json_object_get (message, "waiting")), ==, 1);
  {
    g_autofree char *deny = g_strdup_printf (
        "{\"type\":\"deny\",\"id\":6,\"participant\":\"%s\"}",
        json_string_value (json_object_get (json_array_get (json_object_get (message, "waiting"),
                                                            0), "id")));
    client_send (doctor, deny);
  }
  json_decref (message);
  json_decref (expect_message (doctor, "ok", NULL));
  expect_error_message (other, "admission-denied", -1, NULL);
  wait_closed (other);
  client_free (other);

  /* Logging out revokes the token for the WebSocket too. */
  body = json_object ();
  json_decref (http_json (f, "POST", "/api/auth/logout", t_outsider, body, &status));
  json_decref (body);
  g_assert_cmpuint (status, ==, 204);
  client_free (connect_and_join (f, consultation->id, t_outsider, "error", "token-revoked"));

  client_free (expert);
  client_free (patient_again);
  client_free (doctor);

  /* Everything above is in the audit log, and the chain holds. */
  g_assert_cmpuint (count_audit (f, "admit", "success"), ==, 1);
  g_assert_cmpuint (count_audit (f, "deny", "success"), ==, 1);
  g_assert_cmpuint (count_audit (f, "join", "success"), >=, 4);
  g_assert_true (records_audit_verify (f->store, &checked, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (checked, >, 10);

}


/* ---- issue 6: room kinds, roles, floor control, moderation ---- */

/* Messages that come whenever media is involved, in no fixed order with
 * the ones the tests look at. */
static gboolean
is_noise (json_t *message)
{
  const char *type = json_string_value (json_object_get (message, "type"));

  return g_strcmp0 (type, "trickle") == 0 || g_strcmp0 (type, "connection-state") == 0
         || g_strcmp0 (type, "subscribe-offer") == 0 || g_strcmp0 (type, "active-speaker") == 0;
}

static gboolean
is_broadcast (json_t *message)
{
  static const char *const types[] = { "participant-joined", "participant-left",
                                       "participant-updated", "room-updated", "track-added",
                                       "track-removed", "lobby-updated" };
  const char *type = json_string_value (json_object_get (message, "type"));

  for (gsize i = 0; i < G_N_ELEMENTS (types); i++)
    if (g_strcmp0 (type, types[i]) == 0)
      return TRUE;
  return FALSE;
}

/* The next message that is neither noise nor a room broadcast of another
 * type; checks its type (and code). */
static json_t *
expect_signal (Client *client, const char *type, const char *code)
{
  for (;;) {
    json_t *message = client_receive (client);
    g_autofree char *text = NULL;

    /* Room broadcasts come in between too: those not asked for are checked
     * elsewhere (skip_until, expect_updated). */
    if (is_noise (message) || (g_strcmp0 (type, json_string_value (json_object_get (message, "type"))) != 0
                               && is_broadcast (message))) {
      json_decref (message);
      continue;
    }
    text = json_dumps (message, JSON_COMPACT);
    if (g_strcmp0 (json_string_value (json_object_get (message, "type")), type) != 0
        || (code && g_strcmp0 (json_string_value (json_object_get (message, "code")), code) != 0))
      g_error ("expected %s %s, got %s", type, code ? code : "", text);
    g_test_message ("got %s", text);
    return message;
  }
}

/* Discards messages until one of @type arrives (the others' joins and the
 * like, when only the end state matters). */
static json_t *
skip_until (Client *client, const char *type)
{
  for (;;) {
    json_t *message = client_receive (client);

    if (g_strcmp0 (json_string_value (json_object_get (message, "type")), type) == 0)
      return message;
    json_decref (message);
  }
}

static void
expect_signal_error (Client *client, const char *code, json_int_t ref, const char *field)
{
  json_t *message = expect_signal (client, "error", code);

  g_assert_true (json_is_string (json_object_get (message, "message")));
  g_assert_cmpint (json_integer_value (json_object_get (message, "ref")), ==, ref);
  g_assert_cmpstr (json_string_value (json_object_get (message, "field")), ==, field);
  json_decref (message);
}

static void
expect_ok (Client *client, json_int_t ref)
{
  json_t *message = expect_signal (client, "ok", NULL);

  g_assert_cmpint (json_integer_value (json_object_get (message, "ref")), ==, ref);
  json_decref (message);
}

static void send_text (Client *client, const char *format, ...) G_GNUC_PRINTF (2, 3);

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

/* Connects and joins plain room @room (with @kind when not NULL); checks
 * the joined reply's kind and role; *@id_out gets the participant id. */
static Client *
join_plain (Fixture *f, const char *room, const char *kind, const char *name,
            const char *expect_kind, const char *expect_role, char **id_out)
{
  g_autoptr (GError) error = NULL;
  Client *client = client_connect (f, NULL, &error);
  json_t *join, *message;
  char *text;

  g_assert_no_error (error);
  join = json_pack ("{s:s, s:i, s:s, s:s}", "type", "join", "id", 1, "room", room, "name", name);
  if (kind)
    json_object_set_new (join, "kind", json_string (kind));
  text = json_dumps (join, JSON_COMPACT);
  client_send (client, text);
  free (text);
  json_decref (join);
  message = expect_signal (client, "joined", NULL);
  g_assert_cmpstr (json_string_value (json_object_get (message, "kind")), ==, expect_kind);
  g_assert_cmpstr (json_string_value (json_object_get (message, "role")), ==, expect_role);
  g_assert_true (json_is_true (json_object_get (message, "simulcast")));
  g_assert_true (json_is_object (json_object_get (message, "room_state")));
  if (id_out)
    *id_out = g_strdup (json_string_value (json_object_get (message, "participant")));
  json_decref (message);
  return client;
}

/* A real browser offer (Chromium: Opus mid 0, VP8 mid 1, data channel). */
static char *
chromium_offer (void)
{
  g_autofree char *path = g_build_filename (CAU_SOURCE_ROOT, "tests", "unit", "media", "sdp",
                                            "chromium-156-opus-vp8-h264-datachannel.sdp", NULL);
  g_autoptr (GError) error = NULL;
  char *sdp = NULL;

  g_assert_true (g_file_get_contents (path, &sdp, NULL, &error));
  g_assert_no_error (error);
  return sdp;
}

/* `publish` of @sdp with the optional @sources (JSON text or NULL). */
static void
send_publish (Client *client, int id, const char *sdp, const char *sources)
{
  json_t *publish = json_pack ("{s:s, s:i, s:s}", "type", "publish", "id", id, "sdp", sdp);
  char *text;

  if (sources)
    json_object_set_new (publish, "sources", json_loads (sources, 0, NULL));
  text = json_dumps (publish, JSON_COMPACT);
  client_send (client, text);
  free (text);
  json_decref (publish);
}

/* participant-updated about @id (skipping others' joins and updates). */
static json_t *
expect_updated (Client *client, const char *id)
{
  for (;;) {
    json_t *message = skip_until (client, "participant-updated");
    json_t *participant = json_object_get (message, "participant");

    if (g_strcmp0 (json_string_value (json_object_get (participant, "id")), id) == 0) {
      json_incref (participant);
      json_decref (message);
      return participant;
    }
    json_decref (message);
  }
}

static void
test_briefing_floor (Fixture *f, gconstpointer data)
{
  g_autofree char *sdp = chromium_offer ();
  g_autofree char *host_id = NULL;
  char *viewer_ids[5] = { NULL };
  Client *host, *viewers[5];
  json_t *message, *participant, *state, *track;

  host = join_plain (f, "giao-ban", "briefing", "BV tỉnh", "briefing", "host", &host_id);
  for (int i = 0; i < 5; i++) {
    g_autofree char *name = g_strdup_printf ("TTYT %d", i);

    /* `kind` is ignored once the room exists. */
    viewers[i] = join_plain (f, "giao-ban", i == 0 ? "consult" : NULL, name, "briefing",
                             "viewer", &viewer_ids[i]);
  }
  for (int i = 0; i < 5; i++)
    json_decref (skip_until (host, "participant-joined"));

  /* A viewer receives only: publish → floor-required (a real offer). */
  send_publish (viewers[0], 2, sdp, NULL);
  expect_signal_error (viewers[0], "floor-required", 2, NULL);

  /* Raised hand: ok, and the host sees it. */
  send_text (viewers[0], "{\"type\":\"raise-hand\",\"id\":3,\"raised\":true}");
  expect_ok (viewers[0], 3);
  participant = expect_updated (host, viewer_ids[0]);
  g_assert_true (json_is_true (json_object_get (participant, "hand_raised")));
  g_assert_cmpstr (json_string_value (json_object_get (participant, "role")), ==, "viewer");
  json_decref (participant);

  /* Only the host gives the floor. */
  send_text (viewers[1], "{\"type\":\"floor\",\"id\":4,\"action\":\"grant\",\"participant\":\"%s\"}",
             viewer_ids[1]);
  expect_signal_error (viewers[1], "not-host", 4, NULL);

  /* Bad input: unknown participant, wrong types, unknown members, the host. */
  send_text (host, "{\"type\":\"floor\",\"id\":5,\"action\":\"grant\",\"participant\":\"p000000000000\"}");
  expect_signal_error (host, "invalid-field", 5, "participant");
  send_text (host, "{\"type\":\"floor\",\"id\":6,\"action\":\"grant\",\"participant\":5}");
  expect_signal_error (host, "invalid-field", 6, "participant");
  send_text (host, "{\"type\":\"floor\",\"id\":7,\"action\":\"give\",\"participant\":\"%s\"}",
             viewer_ids[0]);
  expect_signal_error (host, "invalid-field", 7, "action");
  send_text (host, "{\"type\":\"floor\",\"id\":8,\"action\":\"grant\",\"participant\":\"%s\","
             "\"until\":60}", viewer_ids[0]);
  expect_signal_error (host, "invalid-field", 8, "until");
  send_text (host, "{\"type\":\"floor\",\"id\":9,\"action\":\"revoke\",\"participant\":\"%s\"}",
             host_id);
  expect_signal_error (host, "invalid-field", 9, "participant");
  send_text (host, "{\"type\":\"last-n\",\"id\":10,\"n\":101}");
  expect_signal_error (host, "invalid-field", 10, "n");
  send_text (host, "{\"type\":\"raise-hand\",\"id\":11,\"raised\":1}");
  expect_signal_error (host, "invalid-field", 11, "raised");
  send_text (host, "{\"type\":\"publish\",\"id\":12,\"sdp\":\"v=0\",\"sources\":{\"1\":\"tv\"}}");
  expect_signal_error (host, "invalid-field", 12, "sources.1");

  /* The host gives viewer 0 the floor: it becomes a presenter (hand
   * lowered), told to itself and to everyone else. */
  send_text (host, "{\"type\":\"floor\",\"id\":13,\"action\":\"grant\",\"participant\":\"%s\"}",
             viewer_ids[0]);
  expect_ok (host, 13);
  participant = expect_updated (viewers[0], viewer_ids[0]);
  g_assert_cmpstr (json_string_value (json_object_get (participant, "role")), ==, "presenter");
  g_assert_true (json_is_false (json_object_get (participant, "hand_raised")));
  json_decref (participant);
  participant = expect_updated (viewers[2], viewer_ids[0]);     /* the raised hand */
  g_assert_true (json_is_true (json_object_get (participant, "hand_raised")));
  json_decref (participant);
  participant = expect_updated (viewers[2], viewer_ids[0]);
  g_assert_cmpstr (json_string_value (json_object_get (participant, "role")), ==, "presenter");
  json_decref (participant);
  message = skip_until (host, "room-updated");
  state = json_object_get (message, "room_state");
  g_assert_cmpuint (json_array_size (json_object_get (state, "presenters")), ==, 2);
  g_assert_cmpstr (json_string_value (json_array_get (json_object_get (state, "presenters"), 0)),
                   ==, host_id);
  g_assert_cmpstr (json_string_value (json_array_get (json_object_get (state, "presenters"), 1)),
                   ==, viewer_ids[0]);
  json_decref (message);

  /* Now its publish is accepted; video mid 1 declared a screen share. */
  send_publish (viewers[0], 14, sdp, "{\"1\":\"screen\"}");
  message = expect_signal (viewers[0], "publish-answer", NULL);
  g_assert_cmpint (json_integer_value (json_object_get (message, "ref")), ==, 14);
  g_assert_true (g_str_has_prefix (json_string_value (json_object_get (message, "sdp")), "v=0"));
  json_decref (message);
  for (int n = 0; n < 2; n++) {
    message = skip_until (host, "track-added");
    g_assert_cmpstr (json_string_value (json_object_get (message, "participant")), ==,
                     viewer_ids[0]);
    track = json_object_get (message, "track");
    if (g_strcmp0 (json_string_value (json_object_get (track, "kind")), "audio") == 0) {
      g_assert_cmpstr (json_string_value (json_object_get (track, "source")), ==, "microphone");
    } else {
      g_assert_cmpstr (json_string_value (json_object_get (track, "source")), ==, "screen");
      g_assert_cmpstr (json_string_value (json_object_get (track, "codec")), ==, "VP8");
    }
    g_assert_cmpint (json_integer_value (json_object_get (track, "layers")), ==, 1);
    json_decref (message);
  }

  /* A layer request for that video is accepted; for a track it does not
   * publish, refused. */
  send_text (host, "{\"type\":\"layer\",\"id\":15,\"participant\":\"%s\",\"track\":\"v1\","
             "\"layer\":\"low\"}", viewer_ids[0]);
  expect_ok (host, 15);
  send_text (host, "{\"type\":\"layer\",\"id\":16,\"participant\":\"%s\",\"track\":\"a0\","
             "\"layer\":\"high\"}", viewer_ids[0]);
  expect_signal_error (host, "invalid-field", 16, "track");

  /* Up to 4 presenters, the host included: the 5th is refused. */
  for (int i = 1; i <= 2; i++) {
    send_text (host, "{\"type\":\"floor\",\"id\":%d,\"action\":\"grant\",\"participant\":\"%s\"}",
               20 + i, viewer_ids[i]);
    expect_ok (host, 20 + i);
  }
  send_text (host, "{\"type\":\"floor\",\"id\":23,\"action\":\"grant\",\"participant\":\"%s\"}",
             viewer_ids[3]);
  expect_signal_error (host, "presenters-full", 23, NULL);

  /* Revoke: back to viewer, its media unpublished (track-removed to the
   * others), and it may not publish again. */
  send_text (host, "{\"type\":\"floor\",\"id\":24,\"action\":\"revoke\",\"participant\":\"%s\"}",
             viewer_ids[0]);
  expect_ok (host, 24);
  participant = expect_updated (viewers[0], viewer_ids[0]);
  g_assert_cmpstr (json_string_value (json_object_get (participant, "role")), ==, "viewer");
  json_decref (participant);
  for (int n = 0; n < 2; n++) {
    message = skip_until (viewers[4], "track-removed");
    g_assert_cmpstr (json_string_value (json_object_get (message, "participant")), ==,
                     viewer_ids[0]);
    json_decref (message);
  }
  send_publish (viewers[0], 25, sdp, NULL);
  expect_signal_error (viewers[0], "floor-required", 25, NULL);
  /* ... and the freed seat can be given again. */
  send_text (host, "{\"type\":\"floor\",\"id\":26,\"action\":\"grant\",\"participant\":\"%s\"}",
             viewer_ids[3]);
  expect_ok (host, 26);

  /* Last-N: host only, broadcast in room-updated. */
  send_text (viewers[4], "{\"type\":\"last-n\",\"id\":27,\"n\":3}");
  expect_signal_error (viewers[4], "not-host", 27, NULL);
  send_text (host, "{\"type\":\"last-n\",\"id\":28,\"n\":3}");
  expect_ok (host, 28);
  for (;;) {
    message = skip_until (viewers[4], "room-updated");
    state = json_object_get (message, "room_state");
    if (json_integer_value (json_object_get (state, "last_n")) == 3)
      break;
    json_decref (message);
  }
  g_assert_cmpuint (json_array_size (json_object_get (state, "presenters")), ==, 4);
  g_assert_true (json_is_false (json_object_get (state, "locked")));
  g_assert_true (json_is_null (json_object_get (state, "active_speaker")));
  json_decref (message);

  /* A late viewer's joined carries the room state and everyone's role. */
  {
    g_autoptr (GError) error = NULL;
    Client *late = client_connect (f, NULL, &error);
    json_t *participants;
    guint presenters = 0, viewers_seen = 0, hosts = 0;

    g_assert_no_error (error);
    client_send (late, "{\"type\":\"join\",\"room\":\"giao-ban\",\"name\":\"late\"}");
    message = expect_signal (late, "joined", NULL);
    g_assert_cmpstr (json_string_value (json_object_get (message, "role")), ==, "viewer");
    state = json_object_get (message, "room_state");
    g_assert_cmpint (json_integer_value (json_object_get (state, "last_n")), ==, 3);
    g_assert_cmpuint (json_array_size (json_object_get (state, "presenters")), ==, 4);
    participants = json_object_get (message, "participants");
    g_assert_cmpuint (json_array_size (participants), ==, 6);
    for (gsize i = 0; i < json_array_size (participants); i++) {
      const char *role = json_string_value (json_object_get (json_array_get (participants, i),
                                                              "role"));

      g_assert_true (json_is_boolean (json_object_get (json_array_get (participants, i),
                                                       "hand_raised")));
      hosts += g_strcmp0 (role, "host") == 0;
      presenters += g_strcmp0 (role, "presenter") == 0;
      viewers_seen += g_strcmp0 (role, "viewer") == 0;
    }
    g_assert_cmpuint (hosts, ==, 1);
    g_assert_cmpuint (presenters, ==, 3);
    g_assert_cmpuint (viewers_seen, ==, 2);
    json_decref (message);
    client_free (late);
  }

  /* The host leaves this plain briefing: the next member in join order
   * (viewer 0, a viewer again) hosts, and holds the floor with the three
   * presenters. */
  client_send (host, "{\"type\":\"leave\",\"id\":29}");
  json_decref (skip_until (host, "left"));
  participant = expect_updated (viewers[4], viewer_ids[0]);
  g_assert_cmpstr (json_string_value (json_object_get (participant, "role")), ==, "host");
  json_decref (participant);
  for (;;) {
    message = skip_until (viewers[4], "room-updated");
    state = json_object_get (message, "room_state");
    if (g_strcmp0 (json_string_value (json_array_get (json_object_get (state, "presenters"), 0)),
                   viewer_ids[0]) == 0)
      break;
    json_decref (message);
  }
  g_assert_cmpuint (json_array_size (json_object_get (state, "presenters")), ==, 4);
  json_decref (message);
  send_text (viewers[0], "{\"type\":\"lock\",\"id\":30,\"locked\":true}");
  expect_ok (viewers[0], 30);

  client_free (host);
  for (int i = 0; i < 5; i++) {
    client_free (viewers[i]);
    g_free (viewer_ids[i]);
  }
}

static void
test_moderation (Fixture *f, gconstpointer data)
{
  g_autofree char *host_id = NULL, *a_id = NULL, *b_id = NULL;
  Client *host, *a, *b, *newcomer;
  json_t *message, *participant;

  /* A plain consult room (max-participants is 3 here). */
  host = join_plain (f, "hop", NULL, "Host", "consult", "host", &host_id);
  a = join_plain (f, "hop", NULL, "A", "consult", "participant", &a_id);
  message = expect_signal (host, "participant-joined", NULL);
  g_assert_cmpstr (json_string_value (json_object_get (json_object_get (message, "participant"),
                                                       "role")), ==, "participant");
  json_decref (message);

  /* Host-only messages from a participant. */
  send_text (a, "{\"type\":\"mute-participant\",\"id\":1,\"participant\":\"%s\",\"kind\":\"audio\"}",
             host_id);
  expect_signal_error (a, "not-host", 1, NULL);
  send_text (a, "{\"type\":\"remove-participant\",\"id\":2,\"participant\":\"%s\"}", host_id);
  expect_signal_error (a, "not-host", 2, NULL);
  send_text (a, "{\"type\":\"lock\",\"id\":3,\"locked\":true}");
  expect_signal_error (a, "not-host", 3, NULL);
  /* Floor control is for briefings. */
  send_text (host, "{\"type\":\"floor\",\"id\":4,\"action\":\"grant\",\"participant\":\"%s\"}",
             a_id);
  expect_signal_error (host, "bad-state", 4, NULL);
  /* Everyone in a consult may publish: a participant's offer is answered. */
  {
    g_autofree char *sdp = chromium_offer ();

    send_publish (a, 5, sdp, NULL);
    json_decref (expect_signal (a, "publish-answer", NULL));
    message = skip_until (host, "track-added");
    g_assert_cmpstr (json_string_value (json_object_get (json_object_get (message, "track"),
                                                         "source")), ==, "microphone");
    json_decref (message);
    message = skip_until (host, "track-added");
    g_assert_cmpstr (json_string_value (json_object_get (json_object_get (message, "track"),
                                                         "source")), ==, "camera");
    json_decref (message);
  }

  /* Host mute: the target is told who muted what; everyone sees the state. */
  send_text (host, "{\"type\":\"mute-participant\",\"id\":6,\"participant\":\"p000000000000\","
             "\"kind\":\"audio\"}");
  expect_signal_error (host, "invalid-field", 6, "participant");
  send_text (host, "{\"type\":\"mute-participant\",\"id\":7,\"participant\":\"%s\","
             "\"kind\":\"mic\"}", a_id);
  expect_signal_error (host, "invalid-field", 7, "kind");
  send_text (host, "{\"type\":\"mute-participant\",\"id\":8,\"participant\":\"%s\","
             "\"kind\":\"audio\"}", a_id);
  expect_ok (host, 8);
  message = expect_signal (a, "muted-by-host", NULL);
  g_assert_cmpstr (json_string_value (json_object_get (message, "kind")), ==, "audio");
  g_assert_cmpstr (json_string_value (json_object_get (message, "by")), ==, host_id);
  json_decref (message);
  participant = expect_updated (a, a_id);
  g_assert_true (json_is_true (json_object_get (participant, "audio_muted")));
  json_decref (participant);
  participant = expect_updated (host, a_id);
  g_assert_true (json_is_true (json_object_get (participant, "audio_muted")));
  g_assert_true (json_is_false (json_object_get (participant, "video_muted")));
  json_decref (participant);
  /* Only the participant unmutes itself. */
  send_text (a, "{\"type\":\"mute\",\"id\":9,\"kind\":\"audio\",\"muted\":false}");
  expect_ok (a, 9);
  participant = expect_updated (host, a_id);
  g_assert_true (json_is_false (json_object_get (participant, "audio_muted")));
  json_decref (participant);

  /* Lock: room-updated to all; a newcomer gets room-locked. */
  send_text (host, "{\"type\":\"lock\",\"id\":10,\"locked\":true}");
  expect_ok (host, 10);
  message = skip_until (a, "room-updated");
  g_assert_true (json_is_true (json_object_get (json_object_get (message, "room_state"),
                                                "locked")));
  json_decref (message);
  {
    g_autoptr (GError) error = NULL;

    newcomer = client_connect (f, NULL, &error);
    g_assert_no_error (error);
    client_send (newcomer, "{\"type\":\"join\",\"id\":1,\"room\":\"hop\",\"name\":\"N\"}");
    expect_signal_error (newcomer, "room-locked", 1, NULL);
    client_free (newcomer);
  }
  send_text (host, "{\"type\":\"lock\",\"id\":11,\"locked\":false}");
  expect_ok (host, 11);
  b = join_plain (f, "hop", NULL, "B", "consult", "participant", &b_id);

  /* Remove: the target gets `removed` and a normal close; the others
   * participant-left. */
  send_text (host, "{\"type\":\"remove-participant\",\"id\":12,\"participant\":\"%s\"}", host_id);
  expect_signal_error (host, "invalid-field", 12, "participant");
  send_text (host, "{\"type\":\"remove-participant\",\"id\":13,\"participant\":\"%s\"}", a_id);
  expect_ok (host, 13);
  message = skip_until (a, "error");
  g_assert_cmpstr (json_string_value (json_object_get (message, "code")), ==, "removed");
  g_assert_null (json_object_get (message, "ref"));
  json_decref (message);
  wait_closed (a);
  g_assert_cmpuint (soup_websocket_connection_get_close_code (a->connection), ==,
                    SOUP_WEBSOCKET_CLOSE_NORMAL);
  message = skip_until (b, "participant-left");
  g_assert_cmpstr (json_string_value (json_object_get (message, "participant")), ==, a_id);
  json_decref (message);
  client_free (a);

  /* The plain room's host leaves: the next in join order takes over. */
  client_send (host, "{\"type\":\"leave\",\"id\":14}");
  json_decref (skip_until (host, "left"));
  participant = expect_updated (b, b_id);
  g_assert_cmpstr (json_string_value (json_object_get (participant, "role")), ==, "host");
  json_decref (participant);
  send_text (b, "{\"type\":\"lock\",\"id\":15,\"locked\":true}");
  expect_ok (b, 15);
  client_free (host);
  client_free (b);
}

/* Moderation in a consultation room: the care team hosts, the patient is a
 * participant; lock keeps newcomers (the patient too) out but not the care
 * team; every moderation step is audited. */
static void
test_consultation_moderation (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *clinic = create_facility (f, "38-NHUXUAN", "district-clinic");
  g_autofree char *hospital = create_facility (f, "38-BVDK", "provincial-hospital");
  g_autofree char *clinician = create_user (f, "bs.hoa", RECORDS_ROLE_CLINICIAN, clinic);
  g_autofree char *specialist = create_user (f, "bs.tuan", RECORDS_ROLE_SPECIALIST, hospital);
  g_autofree char *t_clinician = NULL, *t_specialist = NULL, *t_patient = NULL;
  g_autofree char *patient_pid = NULL, *doctor_id = NULL;
  g_autoptr (RecordsPatient) patient = g_new0 (RecordsPatient, 1);
  g_autoptr (RecordsConsultation) consultation = g_new0 (RecordsConsultation, 1);
  Client *doctor, *patient_client, *expert;
  json_t *message, *participant;
  gint64 checked = 0;

  patient->cccd = g_strdup ("038080123456");
  patient->bhyt = g_strdup ("DN4380380123456");
  patient->name = g_strdup ("Bệnh nhân Hai");
  patient->birth_date = g_strdup ("1980-02-03");
  patient->sex = g_strdup ("male");
  patient->facility_id = g_strdup (clinic);
  if (!records_patient_create (f->store, patient, "test", &error))
    g_error ("%s", error->message);
  g_assert_no_error (error);
  consultation->patient_id = g_strdup (patient->id);
  consultation->requester_id = g_strdup (clinician);
  consultation->requesting_facility_id = g_strdup (clinic);
  consultation->specialist_ids = g_strsplit (specialist, ",", -1);
  consultation->scheduled_at = g_strdup ("2026-11-22T08:00:00.000Z");
  consultation->status = g_strdup ("planned");
  consultation->reason = g_strdup ("Khó thở");
  g_assert_true (records_consultation_create (f->store, consultation, clinician, &error));
  g_assert_no_error (error);
  t_clinician = login (f, "bs.hoa");
  t_specialist = login (f, "bs.tuan");
  t_patient = patient_token (f, t_clinician, consultation->id);

  /* The clinician hosts; the admitted patient is a participant. */
  doctor = client_connect (f, NULL, &error);
  g_assert_no_error (error);
  send_join (doctor, 1, consultation->id, t_clinician);
  message = expect_signal (doctor, "joined", NULL);
  g_assert_cmpstr (json_string_value (json_object_get (message, "kind")), ==, "consult");
  g_assert_cmpstr (json_string_value (json_object_get (message, "role")), ==, "host");
  doctor_id = g_strdup (json_string_value (json_object_get (message, "participant")));
  json_decref (message);
  patient_client = connect_and_join (f, consultation->id, t_patient, "lobby", NULL);
  message = skip_until (doctor, "lobby-updated");
  patient_pid = g_strdup (json_string_value (
      json_object_get (json_array_get (json_object_get (message, "waiting"), 0), "id")));
  json_decref (message);
  send_text (doctor, "{\"type\":\"admit\",\"id\":2,\"participant\":\"%s\"}", patient_pid);
  expect_ok (doctor, 2);
  message = expect_signal (patient_client, "joined", NULL);
  g_assert_cmpstr (json_string_value (json_object_get (message, "role")), ==, "participant");
  json_decref (message);

  /* The patient moderates nothing. */
  send_text (patient_client, "{\"type\":\"lock\",\"id\":3,\"locked\":true}");
  expect_signal_error (patient_client, "not-host", 3, NULL);
  send_text (patient_client, "{\"type\":\"mute-participant\",\"id\":4,\"participant\":\"%s\","
             "\"kind\":\"video\"}", doctor_id);
  expect_signal_error (patient_client, "not-host", 4, NULL);

  /* Host mute of the patient's camera. */
  send_text (doctor, "{\"type\":\"mute-participant\",\"id\":5,\"participant\":\"%s\","
             "\"kind\":\"video\"}", patient_pid);
  expect_ok (doctor, 5);
  message = expect_signal (patient_client, "muted-by-host", NULL);
  g_assert_cmpstr (json_string_value (json_object_get (message, "kind")), ==, "video");
  g_assert_cmpstr (json_string_value (json_object_get (message, "by")), ==, doctor_id);
  json_decref (message);
  participant = expect_updated (doctor, patient_pid);
  g_assert_true (json_is_true (json_object_get (participant, "video_muted")));
  json_decref (participant);

  /* Locked: the care team still gets in, a patient does not. */
  send_text (doctor, "{\"type\":\"lock\",\"id\":6,\"locked\":true}");
  expect_ok (doctor, 6);
  expert = client_connect (f, NULL, &error);
  g_assert_no_error (error);
  send_join (expert, 1, consultation->id, t_specialist);
  message = expect_signal (expert, "joined", NULL);
  g_assert_cmpstr (json_string_value (json_object_get (message, "role")), ==, "host");
  g_assert_true (json_is_true (json_object_get (json_object_get (message, "room_state"),
                                                "locked")));
  json_decref (message);

  /* Removal: `removed`, a normal close, participant-left to the others. */
  send_text (doctor, "{\"type\":\"remove-participant\",\"id\":7,\"participant\":\"%s\"}",
             patient_pid);
  expect_ok (doctor, 7);
  message = skip_until (patient_client, "error");
  g_assert_cmpstr (json_string_value (json_object_get (message, "code")), ==, "removed");
  json_decref (message);
  wait_closed (patient_client);
  g_assert_cmpuint (soup_websocket_connection_get_close_code (patient_client->connection), ==,
                    SOUP_WEBSOCKET_CLOSE_NORMAL);
  client_free (patient_client);
  message = skip_until (expert, "participant-left");
  g_assert_cmpstr (json_string_value (json_object_get (message, "participant")), ==, patient_pid);
  json_decref (message);
  /* ... and cannot come back while the room is locked. */
  client_free (connect_and_join (f, consultation->id, t_patient, "error", "room-locked"));

  client_free (expert);
  client_free (doctor);
  g_assert_cmpuint (count_audit (f, "mute-participant", "success"), ==, 1);
  g_assert_cmpuint (count_audit (f, "lock", "success"), ==, 1);
  g_assert_cmpuint (count_audit (f, "remove-participant", "success"), ==, 1);
  g_assert_cmpuint (count_audit (f, "join", "denied"), >=, 1);
  g_assert_true (records_audit_verify (f->store, &checked, NULL, &error));
  g_assert_no_error (error);
}

/* A briefing of the records store: its creator hosts (and the briefing
 * goes live), other clinical staff view, administrators are refused, and
 * nobody gets in without a token. */
static void
test_stored_briefing (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *hospital = create_facility (f, "38-BVDK", "provincial-hospital");
  g_autofree char *clinic = create_facility (f, "38-NHUTHANH", "district-clinic");
  g_autofree char *host_user = create_user (f, "bs.giang", RECORDS_ROLE_SPECIALIST, hospital);
  g_autofree char *site_user = create_user (f, "bs.xa", RECORDS_ROLE_CLINICIAN, clinic);
  g_autofree char *admin = create_user (f, "quan.tri2", RECORDS_ROLE_ADMINISTRATOR, NULL);
  g_autofree char *t_host = NULL, *t_site = NULL, *t_admin = NULL, *site_id = NULL;
  g_autofree char *host_id = NULL;
  g_autoptr (RecordsBriefing) briefing = g_new0 (RecordsBriefing, 1);
  g_autoptr (RecordsBriefing) reread = NULL;
  g_autofree char *sdp = chromium_offer ();
  Client *host, *site;
  json_t *message;

  briefing->title = g_strdup ("Giao ban tuyến tỉnh");
  briefing->host_id = g_strdup (host_user);
  briefing->facility_id = g_strdup (hospital);
  briefing->scheduled_at = g_strdup ("2026-11-22T07:00:00.000Z");
  if (!records_briefing_create (f->store, briefing, host_user, &error))
    g_error ("%s", error->message);
  t_host = login (f, "bs.giang");
  t_site = login (f, "bs.xa");
  t_admin = login (f, "quan.tri2");

  client_free (connect_and_join (f, briefing->id, NULL, "error", "unauthenticated"));
  client_free (connect_and_join (f, briefing->id, t_admin, "error", "forbidden"));

  site = client_connect (f, NULL, &error);
  g_assert_no_error (error);
  send_join (site, 1, briefing->id, t_site);
  message = expect_signal (site, "joined", NULL);
  g_assert_cmpstr (json_string_value (json_object_get (message, "kind")), ==, "briefing");
  g_assert_cmpstr (json_string_value (json_object_get (message, "role")), ==, "viewer");
  site_id = g_strdup (json_string_value (json_object_get (message, "participant")));
  json_decref (message);
  send_publish (site, 2, sdp, NULL);
  expect_signal_error (site, "floor-required", 2, NULL);

  host = client_connect (f, NULL, &error);
  g_assert_no_error (error);
  send_join (host, 1, briefing->id, t_host);
  message = expect_signal (host, "joined", NULL);
  g_assert_cmpstr (json_string_value (json_object_get (message, "role")), ==, "host");
  host_id = g_strdup (json_string_value (json_object_get (message, "participant")));
  json_decref (message);
  reread = records_briefing_get (f->store, briefing->id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (reread->status, ==, "live");
  message = skip_until (site, "room-updated");          /* the host holds the floor */
  g_assert_cmpuint (json_array_size (json_object_get (json_object_get (message, "room_state"),
                                                      "presenters")), ==, 1);
  json_decref (message);

  send_text (host, "{\"type\":\"floor\",\"id\":2,\"action\":\"grant\",\"participant\":\"%s\"}",
             site_id);
  expect_ok (host, 2);
  /* presenters: the host first, though the site joined earlier. */
  message = skip_until (site, "room-updated");
  {
    json_t *presenters = json_object_get (json_object_get (message, "room_state"), "presenters");

    g_assert_cmpuint (json_array_size (presenters), ==, 2);
    g_assert_cmpstr (json_string_value (json_array_get (presenters, 0)), ==, host_id);
    g_assert_cmpstr (json_string_value (json_array_get (presenters, 1)), ==, site_id);
  }
  json_decref (message);
  send_publish (site, 3, sdp, NULL);
  json_decref (expect_signal (site, "publish-answer", NULL));

  client_free (site);
  client_free (host);
  g_assert_cmpuint (count_audit (f, "floor-grant", "success"), ==, 1);
}

/* 100 viewers in one briefing (WSS only, no media); max-participants (3
 * here) does not apply to briefings, briefing-viewers (100 here) does.
 * (BRIEFING_VIEWERS: fewer under ASan.) */
static void
test_briefing_viewers (Fixture *f, gconstpointer data)
{
  Client *host, *viewers[BRIEFING_VIEWERS], *extra;
  guint joined_notices = 0;

  host = join_plain (f, "giao-ban-100", "briefing", "BV tỉnh", "briefing", "host", NULL);
  for (int i = 0; i < BRIEFING_VIEWERS; i++) {
    g_autofree char *name = g_strdup_printf ("Trạm y tế %d", i);

    viewers[i] = join_plain (f, "giao-ban-100", NULL, name, "briefing", "viewer", NULL);
  }
  while (joined_notices < BRIEFING_VIEWERS) {
    json_decref (skip_until (host, "participant-joined"));
    joined_notices++;
  }
  {
    g_autoptr (GError) error = NULL;

    extra = client_connect (f, NULL, &error);
    g_assert_no_error (error);
    client_send (extra, "{\"type\":\"join\",\"id\":1,\"room\":\"giao-ban-100\",\"name\":\"x\"}");
    expect_signal_error (extra, "room-full", 1, NULL);
    client_free (extra);
  }
  for (int i = 0; i < BRIEFING_VIEWERS; i++)
    client_free (viewers[i]);
  client_free (host);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/signaling/server/http", Fixture, NULL, fixture_set_up, test_http, fixture_tear_down);
  g_test_add ("/signaling/server/origin", Fixture, NULL, fixture_set_up, test_origin, fixture_tear_down);
  g_test_add ("/signaling/server/session", Fixture, NULL, fixture_set_up, test_session, fixture_tear_down);
  g_test_add ("/signaling/server/limits", Fixture, NULL, fixture_set_up, test_limits, fixture_tear_down);
  g_test_add ("/signaling/server/consultation-room", Fixture, NULL, fixture_set_up,
              test_consultation_room, fixture_tear_down);
  g_test_add ("/signaling/rooms/briefing-floor", Fixture, NULL, fixture_set_up,
              test_briefing_floor, fixture_tear_down);
  g_test_add ("/signaling/rooms/moderation", Fixture, NULL, fixture_set_up, test_moderation,
              fixture_tear_down);
  g_test_add ("/signaling/rooms/consultation-moderation", Fixture, NULL, fixture_set_up,
              test_consultation_moderation, fixture_tear_down);
  g_test_add ("/signaling/rooms/stored-briefing", Fixture, NULL, fixture_set_up,
              test_stored_briefing, fixture_tear_down);
  g_test_add ("/signaling/rooms/briefing-viewers", Fixture, NULL, fixture_set_up,
              test_briefing_viewers, fixture_tear_down);
  return g_test_run ();
}
