/* session-priv.h — what the signaling back ends (session-caud.c,
 * session-janus.c) share with the dispatcher in session.c.
 *
 * A back end allocates a struct that begins with a BenchSession, fills it
 * with bench_session_init_base() and its ops, and runs everything on the
 * thread-default GMainContext of bench_session_new()'s caller. */
#pragma once

#include "session.h"

G_BEGIN_DECLS

#define BENCH_SESSION_ERROR (bench_session_error_quark ())
GQuark bench_session_error_quark (void);

typedef enum {
  BENCH_SESSION_ERROR_CONNECT,   /* socket or HTTP request failed        */
  BENCH_SESSION_ERROR_REFUSED,   /* the server answered with an error     */
  BENCH_SESSION_ERROR_PROTOCOL,  /* a reply we cannot understand          */
  BENCH_SESSION_ERROR_TIMEOUT,
  BENCH_SESSION_ERROR_UNSUPPORTED, /* back end not built in               */
} BenchSessionError;

typedef struct {
  void (*publish) (BenchSession *session, const char *offer_sdp);
  void (*answer)  (BenchSession *session, const char *answer_sdp);
  /* Leaves (best effort), then frees the back end's part and calls
   * bench_session_clear_base(), then g_free()s the session. */
  void (*free)    (BenchSession *session);
} BenchSessionOps;

struct BenchSession {
  const BenchSessionOps *ops;
  BenchBackend backend;
  BenchRole role;
  gchar *url;
  gchar *room;
  gchar *room_kind;       /* NULL: none asked */
  gboolean simulcast;     /* the server accepts simulcast publish */
  BenchSessionCallbacks callbacks;
  gpointer user_data;
  gboolean failed;        /* failed() was emitted: nothing more is emitted */
};

void bench_session_init_base (BenchSession *session, const BenchSessionOps *ops,
                              BenchBackend backend, const char *url, const char *room,
                              BenchRole role, const BenchSessionCallbacks *callbacks,
                              gpointer user_data);
void bench_session_clear_base (BenchSession *session);

/* Emits failed() once (later calls are ignored).  The callback may free
 * the session: return at once after calling this. */
void bench_session_emit_failed (BenchSession *session, BenchSessionError code,
                                const char *format, ...) G_GNUC_PRINTF (3, 4);

/* Each back end's constructor; same contract as bench_session_new(). */
BenchSession *bench_session_caud_new (const char *url, const char *room, BenchRole role,
                                      const BenchSessionCallbacks *callbacks,
                                      gpointer user_data);
BenchSession *bench_session_janus_new (const char *url, const char *room, BenchRole role,
                                       const BenchSessionCallbacks *callbacks,
                                       gpointer user_data);

G_END_DECLS
