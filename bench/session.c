/* session.c — picks the signaling back end; see session.h and
 * session-priv.h. */
#include "session-priv.h"

G_DEFINE_QUARK (bench-session-error-quark, bench_session_error)

void
bench_session_init_base (BenchSession *session, const BenchSessionOps *ops,
                         BenchBackend backend, const char *url, const char *room,
                         BenchRole role, const BenchSessionCallbacks *callbacks,
                         gpointer user_data)
{
  session->ops = ops;
  session->backend = backend;
  session->role = role;
  session->url = g_strdup (url);
  session->room = g_strdup (room);
  if (callbacks != NULL)
    session->callbacks = *callbacks;
  session->user_data = user_data;
}

void
bench_session_clear_base (BenchSession *session)
{
  g_clear_pointer (&session->url, g_free);
  g_clear_pointer (&session->room, g_free);
  g_clear_pointer (&session->room_kind, g_free);
}

void
bench_session_emit_failed (BenchSession *session, BenchSessionError code,
                           const char *format, ...)
{
  g_autoptr (GError) error = NULL;
  va_list args;

  if (session->failed)
    return;
  session->failed = TRUE;
  va_start (args, format);
  error = g_error_new_valist (BENCH_SESSION_ERROR, code, format, args);
  va_end (args);
  if (session->callbacks.failed != NULL)
    session->callbacks.failed (session, error, session->user_data);
}

BenchSession *
bench_session_new (BenchBackend backend, const char *url, const char *room,
                   const char *room_kind, BenchRole role,
                   const BenchSessionCallbacks *callbacks, gpointer user_data)
{
  BenchSession *session;

  g_return_val_if_fail (url != NULL && room != NULL, NULL);

  switch (backend) {
  case BENCH_BACKEND_CAUD:
    session = bench_session_caud_new (url, room, role, callbacks, user_data);
    break;
  case BENCH_BACKEND_JANUS:
    session = bench_session_janus_new (url, room, role, callbacks, user_data);
    break;
  default:
    g_return_val_if_reached (NULL);
  }
  /* Before any join goes out: the back ends join from the main loop, once
   * connected. */
  if (session != NULL)
    session->room_kind = g_strdup (room_kind);
  return session;
}

gboolean
bench_session_get_simulcast (BenchSession *session)
{
  g_return_val_if_fail (session != NULL, FALSE);
  return session->simulcast;
}

void
bench_session_publish (BenchSession *session, const char *offer_sdp)
{
  g_return_if_fail (session != NULL && offer_sdp != NULL);
  session->ops->publish (session, offer_sdp);
}

void
bench_session_answer (BenchSession *session, const char *answer_sdp)
{
  g_return_if_fail (session != NULL && answer_sdp != NULL);
  session->ops->answer (session, answer_sdp);
}

void
bench_session_free (BenchSession *session)
{
  if (session == NULL)
    return;
  session->ops->free (session);
}

const char *
bench_backend_to_string (BenchBackend backend)
{
  switch (backend) {
  case BENCH_BACKEND_CAUD:
    return "caud";
  case BENCH_BACKEND_JANUS:
    return "janus";
  default:
    return "unknown";
  }
}
