/* session.h — one benchmark participant's signaling, behind one interface
 * with two back ends: caud's WSS protocol (docs/protocol.md) and Janus's
 * VideoRoom over its HTTP API.  The load generator (bench/) drives media;
 * a session only moves SDP.
 *
 * Everything runs on the thread-default GMainContext of the caller of
 * bench_session_new(); callbacks are invoked there. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  BENCH_BACKEND_CAUD,   /* url: wss://HOST:PORT/ws                  */
  BENCH_BACKEND_JANUS,  /* url: http://HOST:PORT/janus (VideoRoom)  */
} BenchBackend;

typedef enum {
  BENCH_ROLE_PUBLISHER,  /* offers sendonly media, gets an answer      */
  BENCH_ROLE_SUBSCRIBER, /* gets the server's offer for the room's
                          * publisher(s), answers recvonly            */
} BenchRole;

typedef struct BenchSession BenchSession;

typedef struct {
  /* Joined the room; a publisher may now call bench_session_publish(). */
  void (*ready)           (BenchSession *session, gpointer user_data);
  /* The answer to bench_session_publish()'s offer. */
  void (*publish_answer)  (BenchSession *session, const char *sdp, gpointer user_data);
  /* A subscriber's offer from the server (may come again on renegotiation);
   * reply with bench_session_answer(). */
  void (*subscribe_offer) (BenchSession *session, const char *sdp, gpointer user_data);
  /* Fatal for this session (signaling refused, socket closed, timeout). */
  void (*failed)          (BenchSession *session, const GError *error, gpointer user_data);
} BenchSessionCallbacks;

/* Starts connecting and joining @room at once.  For Janus, the first
 * publisher session creates the room if it does not exist; a subscriber
 * session waits (polling at most every 200 ms, up to 30 s) until a
 * publisher in @room is up (webrtcup) before asking for its offer.
 * @room_kind (may be NULL): caud's room kind for the join ("briefing",
 * "consult"; docs/protocol.md); a caud that refuses the member as unknown
 * (no room kinds) is asked again without it.  Janus ignores it. */
BenchSession *bench_session_new (BenchBackend backend, const char *url,
                                 const char *room, const char *room_kind, BenchRole role,
                                 const BenchSessionCallbacks *callbacks,
                                 gpointer user_data);
void bench_session_publish (BenchSession *session, const char *offer_sdp);
void bench_session_answer (BenchSession *session, const char *answer_sdp);
/* Leaves politely (best effort) and frees; no callback after this. */
void bench_session_free (BenchSession *session);

/* TRUE once joined when the server said it accepts simulcast publishing
 * (caud: `joined.simulcast`); FALSE for Janus (not driven with simulcast). */
gboolean bench_session_get_simulcast (BenchSession *session);

const char *bench_backend_to_string (BenchBackend backend);

G_END_DECLS
