/* fast-recv.c — see fast-recv.h. */
#define _GNU_SOURCE     /* recvmmsg */
#include "fast-recv.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <glib-unix.h>
#include <stun/stunagent.h>
#include <stun/usages/ice.h>

#define BATCH 32                 /* datagrams per recvmmsg() */
#define MAX_EVENTS 256           /* sockets per epoll_wait() */
#define MAX_DRAIN 8              /* recvmmsg() calls per socket per dispatch */
#define DATAGRAM_MAX 2048

typedef struct {
  MediaPeer *peer;               /* NULL once removed */
  int fd;
  gchar *ufrag, *pwd;            /* ours: the server's checks use them */
  StunAgent stun;
  guint64 tie;
} Entry;

struct FastRecv {
  int epfd;
  GSource *source;
  GPtrArray *entries;            /* Entry*, freed with the FastRecv */
  gboolean in_datagram;
  gint64 rx_realtime_us;         /* of the datagram being handled, 0 unknown */
  guint64 datagrams, stun_answered;
  /* receive buffers, reused */
  uint8_t bufs[BATCH][DATAGRAM_MAX];
  struct mmsghdr msgs[BATCH];
  struct iovec iovs[BATCH];
  struct sockaddr_storage addrs[BATCH];
  union {
    char buf[CMSG_SPACE (sizeof (struct timespec))];
    struct cmsghdr align;
  } controls[BATCH];
};

static void
entry_free (Entry *e)
{
  g_free (e->ufrag);
  g_free (e->pwd);
  g_free (e);
}

/* libstun's check of MESSAGE-INTEGRITY: the key is our ICE password
 * (RFC 8445 §7.2.2, short-term credentials); USERNAME is "ours:theirs". */
static bool
validate_username (StunAgent *agent, StunMessage *message, uint8_t *username,
                   uint16_t username_len, uint8_t **password, size_t *password_len,
                   void *user_data)
{
  Entry *e = user_data;
  size_t n = strlen (e->ufrag);

  if (username_len < n + 1 || memcmp (username, e->ufrag, n) != 0 || username[n] != ':')
    return false;
  *password = (uint8_t *) e->pwd;
  *password_len = strlen (e->pwd);
  return true;
}

/* A binding request from the server (a consent check, RFC 7675): a
 * success response with its XOR-MAPPED-ADDRESS, as libnice would send. */
static void
answer_stun (FastRecv *fr, Entry *e, const uint8_t *buf, size_t len,
             const struct sockaddr_storage *from, socklen_t from_len)
{
  StunMessage req, resp;
  uint8_t out[1024];
  size_t out_len = sizeof out;
  bool control = false;          /* subscribers answer offers: controlled */

  if (stun_agent_validate (&e->stun, &req, buf, len, validate_username, e) !=
      STUN_VALIDATION_SUCCESS)
    return;
  if (stun_message_get_class (&req) != STUN_REQUEST ||
      stun_message_get_method (&req) != STUN_BINDING)
    return;
  if (stun_usage_ice_conncheck_create_reply (&e->stun, &req, &resp, out, &out_len, from,
                                             from_len, &control, e->tie,
                                             STUN_USAGE_ICE_COMPATIBILITY_RFC5245) !=
          STUN_USAGE_ICE_RETURN_SUCCESS ||
      out_len == 0)
    return;
  if (sendto (e->fd, out, out_len, MSG_DONTWAIT | MSG_NOSIGNAL, (const struct sockaddr *) from,
              from_len) == (ssize_t) out_len)
    fr->stun_answered++;
}

static gint64
control_realtime_us (struct msghdr *h)
{
  for (struct cmsghdr *c = CMSG_FIRSTHDR (h); c != NULL; c = CMSG_NXTHDR (h, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      struct timespec ts;

      memcpy (&ts, CMSG_DATA (c), sizeof ts);
      return (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
    }
  return 0;
}

/* Reads @e's socket dry (at most MAX_DRAIN × BATCH datagrams; level-
 * triggered epoll brings the rest next time). */
static void
drain (FastRecv *fr, Entry *e)
{
  for (guint round = 0; round < MAX_DRAIN && e->peer != NULL; round++) {
    int n;

    for (guint i = 0; i < BATCH; i++) {
      fr->iovs[i].iov_base = fr->bufs[i];
      fr->iovs[i].iov_len = DATAGRAM_MAX;
      memset (&fr->msgs[i].msg_hdr, 0, sizeof fr->msgs[i].msg_hdr);
      fr->msgs[i].msg_hdr.msg_iov = &fr->iovs[i];
      fr->msgs[i].msg_hdr.msg_iovlen = 1;
      fr->msgs[i].msg_hdr.msg_name = &fr->addrs[i];
      fr->msgs[i].msg_hdr.msg_namelen = sizeof fr->addrs[i];
      fr->msgs[i].msg_hdr.msg_control = fr->controls[i].buf;
      fr->msgs[i].msg_hdr.msg_controllen = sizeof fr->controls[i].buf;
    }
    n = recvmmsg (e->fd, fr->msgs, BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0)
      return;   /* EAGAIN: dry; other errors: try again next time */
    for (int i = 0; i < n && e->peer != NULL; i++) {
      const uint8_t *d = fr->bufs[i];
      size_t len = fr->msgs[i].msg_len;

      fr->datagrams++;
      if (len == 0 || (fr->msgs[i].msg_hdr.msg_flags & MSG_TRUNC))
        continue;
      if (d[0] < 4) {   /* RFC 7983 §7: STUN */
        answer_stun (fr, e, d, len, &fr->addrs[i], fr->msgs[i].msg_hdr.msg_namelen);
        continue;
      }
      fr->in_datagram = TRUE;
      fr->rx_realtime_us = control_realtime_us (&fr->msgs[i].msg_hdr);
      media_peer_receive (e->peer, d, len);
      fr->in_datagram = FALSE;
    }
    if (n < BATCH)
      return;
  }
}

static gboolean
on_ready (gint fd, GIOCondition condition, gpointer user_data)
{
  FastRecv *fr = user_data;
  struct epoll_event events[MAX_EVENTS];
  int n = epoll_wait (fr->epfd, events, MAX_EVENTS, 0);

  for (int i = 0; i < n; i++)
    drain (fr, events[i].data.ptr);
  return G_SOURCE_CONTINUE;
}

FastRecv *
fast_recv_new (GMainContext *context)
{
  FastRecv *fr = g_new0 (FastRecv, 1);

  fr->epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (fr->epfd < 0) {
    g_free (fr);
    return NULL;
  }
  fr->entries = g_ptr_array_new_with_free_func ((GDestroyNotify) entry_free);
  fr->source = g_unix_fd_source_new (fr->epfd, G_IO_IN);
  g_source_set_callback (fr->source, (GSourceFunc) (void (*) (void)) on_ready, fr, NULL);
  g_source_attach (fr->source, context);
  return fr;
}

gboolean
fast_recv_add (FastRecv *fr, MediaPeer *peer)
{
  const char *ufrag = NULL, *pwd = NULL;
  struct epoll_event ev = { .events = EPOLLIN };
  int one = 1;
  Entry *e;
  int fd;

  media_peer_get_local_credentials (peer, &ufrag, &pwd);
  if (ufrag == NULL || pwd == NULL)
    return FALSE;
  fd = media_peer_take_socket (peer);
  if (fd < 0)
    return FALSE;
  e = g_new0 (Entry, 1);
  e->peer = peer;
  e->fd = fd;
  e->ufrag = g_strdup (ufrag);
  e->pwd = g_strdup (pwd);
  e->tie = ((guint64) g_random_int () << 32) | g_random_int ();
  stun_agent_init (&e->stun, STUN_ALL_KNOWN_ATTRIBUTES, STUN_COMPATIBILITY_RFC5389,
                   STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
  setsockopt (fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
  ev.data.ptr = e;
  if (epoll_ctl (fr->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
    g_warning ("fast-recv: epoll_ctl: %s", g_strerror (errno));
    entry_free (e);
    return FALSE;   /* libnice's source is gone: this peer receives nothing */
  }
  g_ptr_array_add (fr->entries, e);
  return TRUE;
}

void
fast_recv_remove (FastRecv *fr, MediaPeer *peer)
{
  for (guint i = 0; i < fr->entries->len; i++) {
    Entry *e = g_ptr_array_index (fr->entries, i);

    if (e->peer == peer) {
      epoll_ctl (fr->epfd, EPOLL_CTL_DEL, e->fd, NULL);
      e->peer = NULL;   /* freed with @fr: a dispatch may still hold it */
    }
  }
}

gboolean
fast_recv_get_receive_time (FastRecv *fr, gint64 *realtime_us)
{
  if (fr == NULL || !fr->in_datagram || fr->rx_realtime_us == 0)
    return FALSE;
  *realtime_us = fr->rx_realtime_us;
  return TRUE;
}

void
fast_recv_get_counts (FastRecv *fr, guint64 *datagrams, guint64 *stun_answered)
{
  *datagrams = fr->datagrams;
  *stun_answered = fr->stun_answered;
}

void
fast_recv_free (FastRecv *fr)
{
  if (fr == NULL)
    return;
  g_source_destroy (fr->source);
  g_source_unref (fr->source);
  close (fr->epfd);
  g_ptr_array_unref (fr->entries);
  g_free (fr);
}
