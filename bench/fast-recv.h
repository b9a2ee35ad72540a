/* fast-recv.h — cau-bench's receive path without libnice (--recv-mmsg).
 *
 * With hundreds of subscribers in one process, libnice reads each socket
 * through its own GSource: every main-loop iteration polls every socket,
 * and every datagram goes through libnice's locking and address handling.
 * Here the subscribers' sockets, once their peer is connected, are taken
 * from libnice (media_peer_take_socket()) and put in one epoll set behind
 * one GSource; each ready socket is drained with recvmmsg(), the kernel's
 * receive time of each datagram comes as a SO_TIMESTAMPNS control message,
 * and every datagram but STUN goes to media_peer_receive().  STUN binding
 * requests (the server's RFC 7675 consent checks) are answered here with
 * libnice's libstun, with the peer's own ICE credentials; other STUN
 * (keepalive indications, responses) is dropped.  Peers must be made with
 * MediaPeerConfig.external_receive (no consent checks of their own, whose
 * answers would arrive here).
 *
 * Everything runs on the GMainContext given to fast_recv_new().  Not
 * thread-safe.  Load generator only. */
#pragma once

#include <glib.h>

#include "peer.h"

G_BEGIN_DECLS

typedef struct FastRecv FastRecv;

FastRecv *fast_recv_new (GMainContext *context);
/* Takes @peer's socket (connected over a direct UDP socket) into the set.
 * FALSE (nothing changed, libnice keeps reading) when it cannot. */
gboolean fast_recv_add (FastRecv *fr, MediaPeer *peer);
/* Before media_peer_free(@peer); no-op for a peer not in the set. */
void fast_recv_remove (FastRecv *fr, MediaPeer *peer);
/* During a callback from media_peer_receive(): the kernel's receive time
 * (CLOCK_REALTIME, µs) of that datagram.  FALSE outside one, or unknown. */
gboolean fast_recv_get_receive_time (FastRecv *fr, gint64 *realtime_us);
/* Datagrams read, STUN requests answered (since creation). */
void fast_recv_get_counts (FastRecv *fr, guint64 *datagrams, guint64 *stun_answered);
void fast_recv_free (FastRecv *fr);

G_END_DECLS
