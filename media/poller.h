/* poller.h — one worker's receive loop for connected peers' sockets.
 *
 * While ICE and DTLS are being set up, libnice reads a peer's sockets on the
 * worker's GMainContext, one GSource per socket.  GLib prepares, polls and
 * checks every one of those sources at each wake-up of the loop: with
 * hundreds of subscribers that walk was about a quarter of the relay's CPU
 * (docs/performance.md, step 3).  Once a peer is connected it hands the
 * selected pair's socket to its worker's MediaPoller: all of them sit in one
 * epoll set behind one GSource, and a ready socket is drained with
 * recvmmsg().  The poller also ticks once a second for the peers' RFC 7675
 * consent checks, so that they need no timer source of their own.
 *
 * Everything here runs on the worker's context (the one given to
 * media_poller_new()); not thread-safe.
 */
#pragma once

#include <glib.h>
#include <stdint.h>
#include <sys/socket.h>

G_BEGIN_DECLS

typedef struct MediaPoller MediaPoller;
typedef struct MediaPollerEntry MediaPollerEntry;

typedef struct {
  /* One datagram read from the entry's socket, with its source address.
   * @buf is the poller's and valid only during the call; its capacity is at
   * least MEDIA_PEER_BUFFER_SIZE, so the callee may decrypt it in place. */
  void (*datagram) (gpointer user_data, uint8_t *buf, size_t len,
                    const struct sockaddr *from, socklen_t from_len);
  /* About once a second, with g_get_monotonic_time(). */
  void (*tick)     (gpointer user_data, gint64 now_us);
} MediaPollerFuncs;

MediaPoller *media_poller_new (GMainContext *context);
/* Every entry must have been removed. */
void media_poller_free (MediaPoller *poller);

/* Starts reading @fd (not owned: the caller closes it after removing the
 * entry).  NULL if the kernel refuses (logged). */
MediaPollerEntry *media_poller_add (MediaPoller *poller, int fd,
                                    const MediaPollerFuncs *funcs, gpointer user_data);
/* Stops reading; no callback for @entry is invoked after this returns, even
 * when called from one of its own callbacks. */
void media_poller_remove (MediaPoller *poller, MediaPollerEntry *entry);

/* A context that is never iterated.  A peer moves libnice's socket sources
 * there when it hands its socket to the poller, so that they are neither
 * polled nor freed before the agent is. */
GMainContext *media_poller_get_park_context (void);

G_END_DECLS
