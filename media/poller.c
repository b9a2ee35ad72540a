/* poller.c — see poller.h. */
#define _GNU_SOURCE     /* recvmmsg */
#include "poller.h"

#include <errno.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <glib-unix.h>

#include "media-priv.h"
#include "peer.h"

#define BATCH 32                 /* datagrams per recvmmsg() */
#define MAX_EVENTS 128           /* ready sockets per epoll_wait() */
#define MAX_DRAIN 4              /* recvmmsg() calls per socket per wake-up */
#define DATAGRAM_MAX 2048        /* ≥ MEDIA_PEER_BUFFER_SIZE */
#define SEND_SLOTS 8192          /* queued datagrams per batch, all sockets */
#define GSO_MAX_SEGMENTS 64      /* UDP_MAX_SEGMENTS of older kernels */
#define GSO_MAX_BYTES 60000      /* under the 64 KiB of one UDP datagram */

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103          /* Linux 4.18 */
#endif

G_STATIC_ASSERT (DATAGRAM_MAX >= MEDIA_PEER_BUFFER_SIZE);

typedef struct {
  guint16 len;                   /* of @data */
  guint16 rest_len;
  gint next;                     /* next queued slot of the same entry, -1 */
  /* media_poller_send_split(): @data is the datagram's head, and the entry's
   * seal function makes the datagram of it and @rest when the batch is sent.
   * NULL: @data is the datagram. */
  const uint8_t *rest;
  uint8_t data[MEDIA_PEER_BUFFER_SIZE];
} SendSlot;

struct MediaPollerEntry {
  MediaPoller *poller;
  int fd;
  MediaPollerFuncs funcs;
  gpointer user_data;
  gboolean removed;
  guint index;                   /* in poller->entries */
  /* Queued while dispatching: a chain of send slots. */
  gint queue_head, queue_tail;
  gboolean no_gso;               /* UDP GSO refused on this path */
};

struct MediaPoller {
  int epfd;
  GSource *io_source;
  GSource *tick_source;
  GPtrArray *entries;            /* MediaPollerEntry*, owned */
  guint dispatching;             /* > 0 inside a callback: removal deferred */
  gboolean sweep;                /* removed entries wait in @entries */

  uint8_t (*bufs)[DATAGRAM_MAX];
  struct mmsghdr msgs[BATCH];
  struct iovec iovs[BATCH];
  struct sockaddr_storage addrs[BATCH];
  gboolean timestamps;           /* SO_TIMESTAMPNS (media_poller_set_receive_timestamps) */
  union {
    char buf[CMSG_SPACE (sizeof (struct timespec))];
    struct cmsghdr align;
  } controls[BATCH];
  const struct msghdr *current;  /* the datagram being handed over, or NULL */

  /* The send queue: slots in use, and the entries that have some, in the
   * order they first queued. */
  SendSlot *slots;
  guint n_slots;
  GPtrArray *flush;
  /* Where split datagrams are sealed, one buffer per datagram of a GSO
   * send: reused for every entry, so they stay in the cache. */
  uint8_t (*sealed)[DATAGRAM_MAX];
  MediaStats *stats;
};

/* @n datagrams of one size (the last may be shorter) as one UDP GSO send. */
static gboolean
poller_send_gso (MediaPollerEntry *e, struct iovec *iov, guint n, guint16 segment)
{
  union {
    char buf[CMSG_SPACE (sizeof (guint16))];
    struct cmsghdr align;
  } control;
  struct msghdr h = {
    .msg_iov = iov,
    .msg_iovlen = n,
    .msg_control = control.buf,
    .msg_controllen = sizeof control.buf,
  };
  struct cmsghdr *c = CMSG_FIRSTHDR (&h);

  c->cmsg_level = SOL_UDP;
  c->cmsg_type = UDP_SEGMENT;
  c->cmsg_len = CMSG_LEN (sizeof segment);
  memcpy (CMSG_DATA (c), &segment, sizeof segment);
  return sendmsg (e->fd, &h, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0;
}

/* Sends @dg[0 .. @n), @e's next datagrams in order: runs of equal-sized
 * datagrams go as one GSO send; where the path refuses GSO (EIO/EINVAL: no
 * checksum offload, IPsec, an MTU below the segment), one at a time from
 * then on. */
static void
poller_send_runs (MediaPoller *poller, MediaPollerEntry *e, struct iovec *dg, guint n)
{
  guint k = 0;

  while (k < n) {
    struct iovec *run = dg + k;
    size_t segment = run[0].iov_len, bytes = 0;
    guint m = 0;

    /* A run: every datagram @segment long, except that the last may be
     * shorter (it ends the run). */
    while (k + m < n && bytes + run[m].iov_len <= GSO_MAX_BYTES && run[m].iov_len <= segment) {
      bytes += run[m].iov_len;
      m++;
      if (run[m - 1].iov_len < segment || e->no_gso)
        break;
    }
    k += m;
    if (m == 1) {
      send (e->fd, run[0].iov_base, run[0].iov_len, MSG_DONTWAIT | MSG_NOSIGNAL);
      continue;
    }
    if (poller_send_gso (e, run, m, (guint16) segment)) {
      if (poller->stats != NULL) {
        MEDIA_STAT_ADD (poller->stats, gso_sends, 1);
        MEDIA_STAT_ADD (poller->stats, gso_datagrams, m);
      }
      continue;
    }
    if (errno == EIO || errno == EINVAL) {
      g_message ("UDP GSO refused on a path (%s); sending one datagram at a time there",
                 g_strerror (errno));
      e->no_gso = TRUE;
    }
    for (guint j = 0; j < m; j++)
      send (e->fd, run[j].iov_base, run[j].iov_len, MSG_DONTWAIT | MSG_NOSIGNAL);
  }
}

/* Sends what @e queued, GSO_MAX_SEGMENTS datagrams at a time.  A split
 * datagram is sealed here, just before it is sent: its head is copied to a
 * buffer of @poller->sealed and the entry's seal function completes it
 * there (the subscriber's SRTP protection, reading the received packet
 * once more instead of a copy per subscriber made earlier). */
static void
poller_flush_entry (MediaPoller *poller, MediaPollerEntry *e)
{
  struct iovec dg[GSO_MAX_SEGMENTS];
  gint i = e->queue_head;

  e->queue_head = e->queue_tail = -1;
  if (e->removed)
    return;
  while (i >= 0) {
    guint n = 0;

    for (; i >= 0 && n < GSO_MAX_SEGMENTS; i = poller->slots[i].next) {
      SendSlot *s = &poller->slots[i];
      uint8_t *out;
      size_t len;

      if (s->rest == NULL) {
        dg[n].iov_base = s->data;
        dg[n].iov_len = s->len;
        n++;
        continue;
      }
      out = poller->sealed[n];
      memcpy (out, s->data, s->len);
      len = e->funcs.seal (e->user_data, out, s->len, DATAGRAM_MAX, s->rest, s->rest_len);
      if (len == 0)
        continue;
      dg[n].iov_base = out;
      dg[n].iov_len = len;
      n++;
    }
    poller_send_runs (poller, e, dg, n);
  }
}

static void
poller_flush (MediaPoller *poller)
{
  for (guint i = 0; i < poller->flush->len; i++)
    poller_flush_entry (poller, g_ptr_array_index (poller->flush, i));
  g_ptr_array_set_size (poller->flush, 0);
  poller->n_slots = 0;
}

static void
entry_unlink (MediaPoller *poller, MediaPollerEntry *e)
{
  MediaPollerEntry *last = g_ptr_array_index (poller->entries, poller->entries->len - 1);

  g_ptr_array_index (poller->entries, e->index) = last;
  last->index = e->index;
  g_ptr_array_set_size (poller->entries, poller->entries->len - 1);
  g_free (e);
}

static void
poller_sweep (MediaPoller *poller)
{
  if (!poller->sweep || poller->dispatching > 0)
    return;
  poller->sweep = FALSE;
  for (guint i = poller->entries->len; i-- > 0;) {
    MediaPollerEntry *e = g_ptr_array_index (poller->entries, i);

    if (e->removed)
      entry_unlink (poller, e);
  }
}

/* Reads @e's socket (at most MAX_DRAIN × BATCH datagrams: level-triggered
 * epoll brings the rest at the next wake-up, after the other sockets). */
static void
poller_drain (MediaPoller *poller, MediaPollerEntry *e)
{
  for (guint round = 0; round < MAX_DRAIN && !e->removed; round++) {
    int n;

    for (guint i = 0; i < BATCH; i++) {
      poller->msgs[i].msg_hdr.msg_namelen = sizeof poller->addrs[i];
      poller->msgs[i].msg_hdr.msg_flags = 0;
      if (poller->timestamps) {
        poller->msgs[i].msg_hdr.msg_control = poller->controls[i].buf;
        poller->msgs[i].msg_hdr.msg_controllen = sizeof poller->controls[i].buf;
      }
    }
    n = recvmmsg (e->fd, poller->msgs, BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0) {
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        g_debug ("recvmmsg: %s", g_strerror (errno));
      return;
    }
    for (int i = 0; i < n && !e->removed; i++) {
      const struct msghdr *h = &poller->msgs[i].msg_hdr;

      poller->current = h;
      /* Longer than any datagram we accept: the peer drops it as malformed
       * when it sees the (truncated) buffer's length. */
      if ((h->msg_flags & MSG_TRUNC) != 0)
        e->funcs.datagram (e->user_data, poller->bufs[i], DATAGRAM_MAX,
                           (const struct sockaddr *) &poller->addrs[i], h->msg_namelen);
      else
        e->funcs.datagram (e->user_data, poller->bufs[i], poller->msgs[i].msg_len,
                           (const struct sockaddr *) &poller->addrs[i], h->msg_namelen);
      poller->current = NULL;
    }
    /* What the batch made the callbacks send leaves now. */
    poller_flush (poller);
    if (n < BATCH)
      return;
  }
}

static gboolean
poller_on_ready (gint fd, GIOCondition condition, gpointer user_data)
{
  MediaPoller *poller = user_data;
  struct epoll_event events[MAX_EVENTS];
  int n = epoll_wait (poller->epfd, events, MAX_EVENTS, 0);

  poller->dispatching++;
  for (int i = 0; i < n; i++) {
    MediaPollerEntry *e = events[i].data.ptr;

    if (!e->removed)
      poller_drain (poller, e);
  }
  poller_flush (poller);
  poller->dispatching--;
  poller_sweep (poller);
  return G_SOURCE_CONTINUE;
}

static gboolean
poller_on_tick (gpointer user_data)
{
  MediaPoller *poller = user_data;
  gint64 now = g_get_monotonic_time ();

  poller->dispatching++;
  /* Entries added by a callback wait for the next tick. */
  for (guint i = 0, len = poller->entries->len; i < len; i++) {
    MediaPollerEntry *e = g_ptr_array_index (poller->entries, i);

    if (!e->removed && e->funcs.tick != NULL)
      e->funcs.tick (e->user_data, now);
  }
  poller_flush (poller);
  poller->dispatching--;
  poller_sweep (poller);
  return G_SOURCE_CONTINUE;
}

MediaPoller *
media_poller_new (GMainContext *context, MediaStats *stats)
{
  MediaPoller *poller = g_new0 (MediaPoller, 1);

  poller->stats = stats;
  poller->epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (poller->epfd < 0) {
    g_warning ("epoll_create1: %s", g_strerror (errno));
    g_free (poller);
    return NULL;
  }
  poller->entries = g_ptr_array_new ();
  poller->flush = g_ptr_array_new ();
  poller->slots = g_new (SendSlot, SEND_SLOTS);
  poller->sealed = g_malloc (GSO_MAX_SEGMENTS * sizeof *poller->sealed);
  poller->bufs = g_malloc (BATCH * sizeof *poller->bufs);
  for (guint i = 0; i < BATCH; i++) {
    poller->iovs[i].iov_base = poller->bufs[i];
    poller->iovs[i].iov_len = DATAGRAM_MAX;
    poller->msgs[i].msg_hdr.msg_iov = &poller->iovs[i];
    poller->msgs[i].msg_hdr.msg_iovlen = 1;
    poller->msgs[i].msg_hdr.msg_name = &poller->addrs[i];
  }

  poller->io_source = g_unix_fd_source_new (poller->epfd, G_IO_IN);
  g_source_set_callback (poller->io_source, (GSourceFunc) (void (*) (void)) poller_on_ready,
                         poller, NULL);
  g_source_set_name (poller->io_source, "cau-media-poller");
  g_source_attach (poller->io_source, context);

  poller->tick_source = g_timeout_source_new_seconds (1);
  g_source_set_callback (poller->tick_source, poller_on_tick, poller, NULL);
  g_source_set_name (poller->tick_source, "cau-media-poller-tick");
  g_source_attach (poller->tick_source, context);
  return poller;
}

void
media_poller_free (MediaPoller *poller)
{
  if (poller == NULL)
    return;
  g_warn_if_fail (poller->dispatching == 0);
  poller_sweep (poller);
  g_warn_if_fail (poller->entries->len == 0);
  g_source_destroy (poller->io_source);
  g_source_unref (poller->io_source);
  g_source_destroy (poller->tick_source);
  g_source_unref (poller->tick_source);
  close (poller->epfd);
  g_ptr_array_free (poller->entries, TRUE);
  g_ptr_array_free (poller->flush, TRUE);
  g_free (poller->slots);
  g_free (poller->sealed);
  g_free (poller->bufs);
  g_free (poller);
}

MediaPollerEntry *
media_poller_add (MediaPoller *poller, int fd, const MediaPollerFuncs *funcs,
                  gpointer user_data)
{
  struct epoll_event ev = { .events = EPOLLIN };
  MediaPollerEntry *e;

  g_return_val_if_fail (poller != NULL && fd >= 0 && funcs != NULL, NULL);
  g_return_val_if_fail (funcs->datagram != NULL, NULL);

  e = g_new0 (MediaPollerEntry, 1);
  e->poller = poller;
  e->fd = fd;
  e->funcs = *funcs;
  e->user_data = user_data;
  e->queue_head = e->queue_tail = -1;
  if (poller->timestamps) {
    int one = 1;

    if (setsockopt (fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) != 0)
      g_debug ("SO_TIMESTAMPNS: %s", g_strerror (errno));
  }
  ev.data.ptr = e;
  if (epoll_ctl (poller->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
    g_warning ("epoll_ctl (add %d): %s", fd, g_strerror (errno));
    g_free (e);
    return NULL;
  }
  e->index = poller->entries->len;
  g_ptr_array_add (poller->entries, e);
  return e;
}

void
media_poller_remove (MediaPoller *poller, MediaPollerEntry *entry)
{
  g_return_if_fail (poller != NULL && entry != NULL && entry->poller == poller);
  g_return_if_fail (!entry->removed);

  if (epoll_ctl (poller->epfd, EPOLL_CTL_DEL, entry->fd, NULL) != 0)
    g_debug ("epoll_ctl (del %d): %s", entry->fd, g_strerror (errno));
  entry->removed = TRUE;
  poller->sweep = TRUE;
  /* An epoll_wait() result of this dispatch may still point at @entry. */
  poller_sweep (poller);
}

void
media_poller_set_receive_timestamps (MediaPoller *poller, gboolean on)
{
  poller->timestamps = on;
}

gboolean
media_poller_get_receive_time (MediaPoller *poller, gint64 *realtime_us)
{
  const struct msghdr *h = poller->current;

  if (h == NULL || h->msg_control == NULL)
    return FALSE;
  for (struct cmsghdr *c = CMSG_FIRSTHDR (h); c != NULL; c = CMSG_NXTHDR ((struct msghdr *) h, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      struct timespec ts;

      memcpy (&ts, CMSG_DATA (c), sizeof ts);
      *realtime_us = (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
      return TRUE;
    }
  return FALSE;
}

/* Queues a datagram for @entry: @data[0 .. @len), then, for a split one,
 * @rest (read when the batch is sent). */
static void
poller_queue (MediaPoller *poller, MediaPollerEntry *entry, const uint8_t *data, size_t len,
              const uint8_t *rest, size_t rest_len)
{
  SendSlot *s;
  gint i;

  if (poller->n_slots == SEND_SLOTS)
    poller_flush (poller);
  i = (gint) poller->n_slots++;
  s = &poller->slots[i];
  s->len = (guint16) len;
  s->rest = rest;
  s->rest_len = (guint16) rest_len;
  s->next = -1;
  memcpy (s->data, data, len);
  if (entry->queue_head < 0) {
    entry->queue_head = i;
    g_ptr_array_add (poller->flush, entry);
  } else {
    poller->slots[entry->queue_tail].next = i;
  }
  entry->queue_tail = i;
}

gboolean
media_poller_send (MediaPoller *poller, MediaPollerEntry *entry, const uint8_t *buf,
                   size_t len)
{
  g_return_val_if_fail (len <= MEDIA_PEER_BUFFER_SIZE, FALSE);
  if (entry->removed)
    return FALSE;
  if (poller->dispatching == 0)
    return send (entry->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t) len;
  poller_queue (poller, entry, buf, len, NULL, 0);
  return TRUE;
}

gboolean
media_poller_send_split (MediaPoller *poller, MediaPollerEntry *entry, const uint8_t *head,
                         size_t head_len, const uint8_t *rest, size_t rest_len)
{
  guintptr from = (guintptr) poller->bufs, to = from + BATCH * DATAGRAM_MAX;

  /* @rest must still hold its bytes when the batch is sent: it must lie
   * in the datagrams of the batch being dispatched, whose buffers are
   * reused only after the flush at the end of the batch. */
  if (entry->removed || poller->current == NULL || entry->funcs.seal == NULL ||
      (guintptr) rest < from || (guintptr) rest + rest_len > to ||
      head_len + rest_len > MEDIA_PEER_BUFFER_SIZE)
    return FALSE;
  poller_queue (poller, entry, head, head_len, rest, rest_len);
  return TRUE;
}

GMainContext *
media_poller_get_park_context (void)
{
  static GMainContext *park;

  if (g_once_init_enter (&park))
    g_once_init_leave (&park, g_main_context_new ());
  return park;
}
