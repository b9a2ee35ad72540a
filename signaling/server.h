/* server.h — Cầu's HTTPS + WebSocket front door (libsoup-3.0).
 *
 * Serves:  /ws       the signaling WebSocket (docs/protocol.md)
 *          /api/...  the REST API, /fhir/... FHIR R4 (docs/api.md)
 *          /healthz  {"status":"ok"}
 *          /metrics  Prometheus text (signaling + media counters)
 *          /...      the web client's static files
 * Everything runs on the thread-default main context of the caller.
 */
#pragma once

#include <gio/gio.h>

#include "api.h"
#include "media.h"
#include "recording.h"
#include "store.h"

G_BEGIN_DECLS

typedef struct SignalingServer SignalingServer;

typedef struct {
  const char *listen_address;      /* IP literal; "::" falls back to 0.0.0.0 */
  guint port;                      /* 0 = any free port                      */
  GTlsCertificate *certificate;    /* with its private key                   */
  const char *web_client_dir;      /* may be NULL: no static files          */
  guint max_participants;          /* per consult room (at most 12 apply)    */
  guint max_briefing_viewers;      /* per briefing room; 0 = 200              */
  SignalingApi *api;               /* borrowed, may be NULL: no /api, /fhir,
                                    * nor authenticated (consultation) rooms  */
  gboolean anonymous_rooms;        /* allow token-less joins of rooms that are
                                    * not consultations (tests, benchmarks)   */
  SignalingRecordingOptions recording;  /* copied; directory NULL = no recording */
} SignalingServerOptions;

/* @engine and @store are borrowed and may be NULL (no media plane / no
 * records); they must outlive the server's callbacks: free the engine
 * before the server.  (transfer full) */
SignalingServer *signaling_server_new (const SignalingServerOptions *options,
                                       MediaEngine *engine, RecordsStore *store);

/* Starts listening.  FALSE + @error when the address cannot be bound. */
gboolean signaling_server_listen (SignalingServer *server, GError **error);

/* The TCP port actually bound (after listen). */
guint signaling_server_get_port (SignalingServer *server);

/* Composes again the recordings whose composition the last stop left
 * undone (docs/operations.md "Stopping").  Call once, after listen. */
void signaling_server_resume_compositions (SignalingServer *server);

/* Closes every WebSocket (1001 going away), leaving every room (media
 * participants removed, leave events recorded), stops every recording
 * still running and stops listening.  From here on no composition starts:
 * a recording stopped now is composed at the next start.  Safe to call
 * more than once. */
void signaling_server_shutdown (SignalingServer *server);

/* After shutdown, before the media engine is freed: runs the default main
 * context until the media engine has reported every stopped recording's
 * files (their rows filed complete) or @timeout_ms passed.  TRUE when none
 * is left open. */
gboolean signaling_server_wait_recordings (SignalingServer *server, guint timeout_ms);

/* The WebSocket Origin rule: TRUE when @origin is NULL (not a browser) or
 * its host:port equals the request's Host header (scheme default ports
 * filled in, case-insensitive).  Pure; exposed for tests. */
gboolean signaling_server_origin_allowed (const char *origin, const char *host_header);

/* Shuts down if needed and frees.  NULL is allowed. */
void signaling_server_free (SignalingServer *server);

G_END_DECLS
