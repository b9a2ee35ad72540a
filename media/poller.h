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
 * Sending: the socket is connected to the remote address when handed over,
 * so the kernel keeps the route.  While the poller dispatches a batch of
 * received datagrams, what the callbacks send to polled sockets is queued
 * and sent when the batch has been handled, each socket's consecutive
 * packets of one size as one UDP GSO datagram (UDP_SEGMENT): the fan-out of
 * a frame's packets to one subscriber then crosses the kernel's stack once
 * (docs/performance.md, step 5).  A forwarded packet is queued split
 * (media_poller_send_split()): the subscriber's rewritten header, and a
 * pointer into the received datagram; its protection runs when it is sent,
 * into a buffer that stays in the cache (step 9).
 *
 * Everything here runs on the worker's context (the one given to
 * media_poller_new()); not thread-safe.
 */
#pragma once

#include <glib.h>
#include <stdint.h>
#include <sys/socket.h>

#include "media.h"

G_BEGIN_DECLS

typedef struct MediaPoller MediaPoller;
typedef struct MediaPollerEntry MediaPollerEntry;

typedef struct {
  /* One datagram read from the entry's socket, with its source address.
   * @buf is the poller's and valid only during the call (except for what
   * media_poller_send_split() reads of it, which the poller keeps unchanged
   * until the batch is sent; so the callee must not change @buf after
   * queuing such a datagram).  Its capacity is at least
   * MEDIA_PEER_BUFFER_SIZE, so the callee may decrypt it in place. */
  void (*datagram) (gpointer user_data, uint8_t *buf, size_t len,
                    const struct sockaddr *from, socklen_t from_len);
  /* About once a second, with g_get_monotonic_time(). */
  void (*tick)     (gpointer user_data, gint64 now_us);
  /* Optional: completes a datagram queued with media_poller_send_split(),
   * just before it is sent.  @buf holds its @head_len head bytes and has
   * room for @cap; the callee writes the datagram made of them and @rest
   * into @buf and returns its length, or 0 to drop it. */
  size_t (*seal)   (gpointer user_data, uint8_t *buf, size_t head_len, size_t cap,
                    const uint8_t *rest, size_t rest_len);
} MediaPollerFuncs;

/* @stats: the engine's counters (GSO sends), or NULL. */
MediaPoller *media_poller_new (GMainContext *context, MediaStats *stats);
/* Every entry must have been removed. */
void media_poller_free (MediaPoller *poller);

/* Asks the kernel for each datagram's receive time (SO_TIMESTAMPNS on the
 * sockets added from now on): the load generator's relay latency.  Off by
 * default (caud has no use for it). */
void media_poller_set_receive_timestamps (MediaPoller *poller, gboolean on);
/* During a datagram callback: that datagram's kernel receive time
 * (CLOCK_REALTIME, µs).  FALSE outside one, or when unknown. */
gboolean media_poller_get_receive_time (MediaPoller *poller, gint64 *realtime_us);

/* Starts reading @fd, a UDP socket connected to the peer (not owned: the
 * caller closes it after removing the entry).  NULL if the kernel refuses
 * (logged). */
MediaPollerEntry *media_poller_add (MediaPoller *poller, int fd,
                                    const MediaPollerFuncs *funcs, gpointer user_data);
/* Stops reading; no callback for @entry is invoked after this returns, even
 * when called from one of its own callbacks. */
void media_poller_remove (MediaPoller *poller, MediaPollerEntry *entry);

/* One datagram to @entry's peer: queued while the poller dispatches (sent
 * at the end of the batch), otherwise sent at once.  FALSE when it could
 * not be sent or queued (socket buffer full: lost, like any packet on a
 * congested path). */
gboolean media_poller_send (MediaPoller *poller, MediaPollerEntry *entry,
                            const uint8_t *buf, size_t len);

/* A datagram made of @head (copied now) and @rest, completed by the
 * entry's seal function when the batch is sent (for a subscriber: the SRTP
 * protection, which then reads the received payload straight into the
 * buffer that goes to the kernel).  Only while a datagram callback runs,
 * and only for a @rest inside the datagrams of the batch being dispatched
 * (they stay unchanged until the batch is sent).  FALSE, with nothing
 * queued, when that does not hold, when the entry has no seal function or
 * is removed, or when the datagram would be longer than
 * MEDIA_PEER_BUFFER_SIZE: the caller then joins the datagram and sends it
 * with media_poller_send(). */
gboolean media_poller_send_split (MediaPoller *poller, MediaPollerEntry *entry,
                                  const uint8_t *head, size_t head_len,
                                  const uint8_t *rest, size_t rest_len);
/* A context that is never iterated.  A peer moves libnice's socket sources
 * there when it hands its socket to the poller, so that they are neither
 * polled nor freed before the agent is. */
GMainContext *media_poller_get_park_context (void);

G_END_DECLS
