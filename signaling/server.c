/* server.c — SoupServer set-up, HTTP endpoints, WebSocket admission. */
#include "server.h"

#include "fhir.h"

#include <openssl/crypto.h>
#include <string.h>

#include "session.h"
#include "static.h"
#include "whip.h"

struct SignalingServer {
  SoupServer *soup;
  SignalingContext context;
  char *listen_address;
  char *web_client_dir;
  guint port;
  guint bound_port;
  gboolean shut_down;
  SignalingApi *api;           /* borrowed; its consent listener is ours */
};

static void
set_json (SoupServerMessage *msg, guint status, const char *body)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Cache-Control",
                                "no-cache");
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, body,
                                    strlen (body));
}

static void
handle_healthz (SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
                gpointer user_data)
{
  set_json (msg, SOUP_STATUS_OK, "{\"status\":\"ok\"}\n");
}

static void
handle_metrics (SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
                gpointer user_data)
{
  SignalingServer *server = user_data;
  MediaStats stats;
  g_autofree char *text = NULL;

  if (server->context.engine)
    media_engine_get_stats (server->context.engine, &stats);
  text = signaling_metrics_render (&server->context.metrics,
                                   server->context.engine ? &stats : NULL);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Cache-Control",
                                "no-cache");
  soup_server_message_set_response (msg, "text/plain; version=0.0.4; charset=utf-8",
                                    SOUP_MEMORY_COPY, text, strlen (text));
}

static void
handle_static (SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
               gpointer user_data)
{
  SignalingServer *server = user_data;

  signaling_static_serve (msg, server->web_client_dir);
}

/* "host:port" in lower case, with the scheme's default port when absent and
 * IPv6 hosts in brackets; NULL when it does not parse. */
static char *
normalize_authority (const char *host, int port, const char *scheme)
{
  if (host == NULL || *host == '\0')
    return NULL;
  if (port <= 0)
    port = g_strcmp0 (scheme, "http") == 0 || g_strcmp0 (scheme, "ws") == 0 ? 80 : 443;
  g_autofree char *joined = strchr (host, ':') && host[0] != '['
                                ? g_strdup_printf ("[%s]:%d", host, port)
                                : g_strdup_printf ("%s:%d", host, port);
  return g_ascii_strdown (joined, -1);
}

/* Cross-site WebSocket hijacking guard: a browser always sends Origin on a
 * WebSocket handshake (RFC 6455 §4.1 item 8), so a page from another site
 * driving a logged-in user's browser shows a foreign Origin.  Non-browser
 * clients send none and are let through (they get authenticated later). */
gboolean
signaling_server_origin_allowed (const char *origin, const char *host_header)
{
  g_autoptr (GUri) origin_uri = NULL;
  g_autoptr (GUri) host_uri = NULL;
  g_autofree char *host_uri_text = NULL;
  g_autofree char *left = NULL;
  g_autofree char *right = NULL;

  if (origin == NULL)
    return TRUE;
  if (host_header == NULL)
    return FALSE;
  origin_uri = g_uri_parse (origin, G_URI_FLAGS_NONE, NULL);
  if (origin_uri == NULL || g_uri_get_host (origin_uri) == NULL)
    return FALSE;
  /* Parse Host with the Origin's scheme so that the same defaults apply. */
  host_uri_text = g_strdup_printf ("%s://%s", g_uri_get_scheme (origin_uri), host_header);
  host_uri = g_uri_parse (host_uri_text, G_URI_FLAGS_NONE, NULL);
  if (host_uri == NULL || g_uri_get_path (host_uri)[0] != '\0')
    return FALSE;
  left = normalize_authority (g_uri_get_host (origin_uri), g_uri_get_port (origin_uri),
                              g_uri_get_scheme (origin_uri));
  right = normalize_authority (g_uri_get_host (host_uri), g_uri_get_port (host_uri),
                               g_uri_get_scheme (origin_uri));
  return left && right && strcmp (left, right) == 0;
}

static void
handle_ws_early (SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
                 gpointer user_data)
{
  SignalingServer *server = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *origin = soup_message_headers_get_one (headers, "Origin");

  if (!signaling_server_origin_allowed (origin, soup_message_headers_get_one (headers, "Host"))) {
    server->context.metrics.sockets_refused_origin++;
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MESSAGE",
                      "refused a WebSocket whose Origin does not match its Host");
    /* A status set here makes libsoup skip the WebSocket handler. */
    set_json (msg, SOUP_STATUS_FORBIDDEN,
              "{\"type\":\"error\",\"code\":\"unauthorized\",\"message\":\"Origin not allowed\"}\n");
  }
}

static void
handle_ws (SoupServer *soup, SoupServerMessage *msg, const char *path,
           SoupWebsocketConnection *connection, gpointer user_data)
{
  SignalingServer *server = user_data;
  const char *remote = soup_server_message_get_remote_host (msg);

  if (server->shut_down) {
    soup_websocket_connection_close (connection, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
    return;
  }
  signaling_session_new (&server->context, connection, remote);
}

SignalingServer *
signaling_server_new (const SignalingServerOptions *options, MediaEngine *engine,
                      RecordsStore *store)
{
  SignalingServer *server;

  g_return_val_if_fail (options != NULL, NULL);
  g_return_val_if_fail (G_IS_TLS_CERTIFICATE (options->certificate), NULL);

  server = g_new0 (SignalingServer, 1);
  server->listen_address = g_strdup (options->listen_address ? options->listen_address : "::");
  server->web_client_dir = g_strdup (options->web_client_dir);
  server->port = options->port;
  server->context.engine = engine;
  server->context.store = store;
  server->context.api = options->api;
  server->context.anonymous_rooms = options->anonymous_rooms;
  server->context.max_participants = options->max_participants ? options->max_participants : 12;
  server->context.max_briefing_viewers = options->max_briefing_viewers
                                             ? options->max_briefing_viewers
                                             : SIGNALING_BRIEFING_DEFAULT_VIEWERS;
  server->context.rooms = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                                 (GDestroyNotify) signaling_room_free);
  server->context.participants = g_hash_table_new (g_str_hash, g_str_equal);
  server->context.sessions = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL,
                                                    (GDestroyNotify) signaling_session_unref);
  server->context.lobbies = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                   (GDestroyNotify) g_ptr_array_unref);
  signaling_recording_context_init (&server->context);
  signaling_whip_context_init (&server->context);
  if (options->recording.directory && options->recording.server_key) {
    server->context.recording_directory = g_strdup (options->recording.directory);
    memcpy (server->context.recording_key, options->recording.server_key, 32);
    server->context.recording_key_id = g_strdup (options->recording.key_id);
    server->context.recording_min_free_bytes = options->recording.min_free_bytes;
    if (options->api)
      signaling_api_set_recordings (options->api, options->recording.directory,
                                    options->recording.server_key);
  }
  if (options->api) {
    server->api = options->api;
    signaling_api_set_consent_listener (options->api, signaling_recording_consent_changed,
                                        &server->context);
    signaling_api_set_briefing_listener (options->api, signaling_whip_briefing_ended,
                                         &server->context);
  }

  server->soup = soup_server_new ("tls-certificate", options->certificate,
                                  "server-header", "caud", NULL);
  soup_server_add_handler (server->soup, "/healthz", handle_healthz, server, NULL);
  soup_server_add_handler (server->soup, "/metrics", handle_metrics, server, NULL);
  if (options->api && store) {
    signaling_api_attach (options->api, server->soup);
    signaling_fhir_attach (options->api, store, server->soup);
    signaling_whip_attach (&server->context, server->soup);
  }
  soup_server_add_early_handler (server->soup, "/ws", handle_ws_early, server, NULL);
  soup_server_add_websocket_handler (server->soup, "/ws", NULL, NULL, handle_ws, server, NULL);
  soup_server_add_handler (server->soup, NULL, handle_static, server, NULL);
  return server;
}

static gboolean
listen_on (SignalingServer *server, const char *address_text, GError **error)
{
  g_autoptr (GInetAddress) address = g_inet_address_new_from_string (address_text);
  g_autoptr (GSocketAddress) socket_address = NULL;

  if (address == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "\"%s\" is not an IP address",
                 address_text);
    return FALSE;
  }
  socket_address = g_inet_socket_address_new (address, server->port);
  return soup_server_listen (server->soup, socket_address, SOUP_SERVER_LISTEN_HTTPS, error);
}

gboolean
signaling_server_listen (SignalingServer *server, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  GSList *listeners;

  g_return_val_if_fail (server != NULL, FALSE);

  if (strcmp (server->listen_address, "::") == 0) {
    /* libsoup binds "::" IPv6-only: listen_all gives one IPv4 and one IPv6
     * socket on the same port (and falls back to IPv4 alone without IPv6),
     * so both https://127.0.0.1 and https://[::1] (what "localhost" may
     * resolve to first) reach us. */
    if (!soup_server_listen_all (server->soup, server->port, SOUP_SERVER_LISTEN_HTTPS, error))
      return FALSE;
  } else if (!listen_on (server, server->listen_address, &local_error)) {
    g_propagate_error (error, g_steal_pointer (&local_error));
    return FALSE;
  }

  listeners = soup_server_get_listeners (server->soup);
  for (GSList *l = listeners; l; l = l->next) {
    g_autoptr (GSocketAddress) local = g_socket_get_local_address (l->data, NULL);

    if (G_IS_INET_SOCKET_ADDRESS (local))
      server->bound_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  }
  g_slist_free (listeners);
  return TRUE;
}

guint
signaling_server_get_port (SignalingServer *server)
{
  g_return_val_if_fail (server != NULL, 0);
  return server->bound_port;
}

void
signaling_server_shutdown (SignalingServer *server)
{
  GHashTableIter iter;
  gpointer value;
  g_autoptr (GPtrArray) sessions = NULL;

  if (server == NULL || server->shut_down)
    return;
  server->shut_down = TRUE;
  server->context.shutting_down = TRUE;

  sessions = g_ptr_array_new_with_free_func ((GDestroyNotify) signaling_session_unref);
  g_hash_table_iter_init (&iter, server->context.sessions);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (sessions, signaling_session_ref (value));
  for (guint i = 0; i < sessions->len; i++)
    signaling_session_close (g_ptr_array_index (sessions, i), SOUP_WEBSOCKET_CLOSE_GOING_AWAY,
                             "server shutting down");
  /* Rooms whose last member has not left yet (a WHIP publisher, a
   * WebSocket still closing) keep recording: stop them too. */
  signaling_recording_stop_all (&server->context, "shutdown");
  soup_server_disconnect (server->soup);
}

static gboolean
wake_up (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

gboolean
signaling_server_wait_recordings (SignalingServer *server, guint timeout_ms)
{
  gint64 deadline;
  guint tick;

  g_return_val_if_fail (server != NULL, FALSE);
  deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  /* The engine's report is posted to this context from the thread that
   * closed the last file; the tick bounds each wait for it. */
  tick = g_timeout_add (50, wake_up, NULL);
  while (signaling_recording_count_open (&server->context) > 0
         && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (tick);
  return signaling_recording_count_open (&server->context) == 0;
}

void
signaling_server_resume_compositions (SignalingServer *server)
{
  g_return_if_fail (server != NULL);
  signaling_recording_resume_compositions (&server->context);
}

void
signaling_server_free (SignalingServer *server)
{
  if (server == NULL)
    return;
  signaling_server_shutdown (server);
  g_clear_object (&server->soup);
  /* Sessions still waiting for the peer's close frame: detach them. */
  {
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init (&iter, server->context.sessions);
    while (g_hash_table_iter_next (&iter, NULL, &value)) {
      SignalingSession *session = value;

      if (session->connection)
        g_signal_handlers_disconnect_by_data (session->connection, session);
    }
  }
  /* WHIP/WHEP sessions left their rooms at shutdown; drop them first. */
  signaling_whip_context_clear (&server->context);
  g_hash_table_destroy (server->context.sessions);
  g_hash_table_destroy (server->context.lobbies);
  g_hash_table_destroy (server->context.participants);
  g_hash_table_destroy (server->context.rooms);
  if (server->api) {
    signaling_api_set_consent_listener (server->api, NULL, NULL);
    signaling_api_set_briefing_listener (server->api, NULL, NULL);
  }
  signaling_recording_context_clear (&server->context);
  g_free (server->context.recording_directory);
  g_free (server->context.recording_key_id);
  OPENSSL_cleanse (server->context.recording_key, sizeof server->context.recording_key);
  g_free (server->listen_address);
  g_free (server->web_client_dir);
  g_free (server);
}
