/* peer.c — ICE (libnice) + DTLS (OpenSSL) + SRTP (libsrtp2) for one peer
 * connection.  See peer.h for the contract. */
#include "peer.h"

#include <errno.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include <time.h>
#include <agent.h>
#include <stun/stunagent.h>
#include <stun/usages/ice.h>

#include "dtls.h"
#include "media-priv.h"
#include "poller.h"
#include "rtp.h"
#include "srtp.h"

/* RFC 7675 §5.1: a consent check every 5 s (± 20 %), consent lost 30 s
 * after the last answer. */
#define CONSENT_INTERVAL_US (5 * G_USEC_PER_SEC)
#define CONSENT_TIMEOUT_US (30 * G_USEC_PER_SEC)
/* PRIORITY of our checks: a peer-reflexive candidate's (RFC 8445 §7.1.1). */
#define CONSENT_CHECK_PRIORITY ((110u << 24) | (65535u << 8) | 255u)

struct MediaPeer {
  GMainContext *context;
  MediaCertificate *certificate;
  MediaStats *stats;
  MediaPeerCallbacks callbacks;
  gpointer user_data;

  NiceAgent *agent;
  guint stream_id;
  gchar *local_ufrag;
  gchar *local_pwd;
  gboolean remote_set;
  gchar *remote_ufrag;
  gchar *remote_pwd;
  gboolean controlling;

  MediaDtls *dtls;
  gboolean dtls_client;
  gboolean dtls_started;
  MediaSrtp *srtp;
  gboolean rtp_encrypted;

  NiceComponentState ice_state;
  MediaState state;
  gboolean closing;

  /* The selected pair's socket and remote address, for sending media
   * without libnice's per-packet locking (see peer_on_selected_pair). */
  GSocket *send_socket;
  int send_fd;
  struct sockaddr_storage send_addr;
  socklen_t send_addr_len;

  /* Once connected, the worker's poller reads the selected pair's socket
   * instead of libnice (poller.h), and this peer answers and makes the
   * RFC 7675 consent checks itself with libnice's STUN library. */
  MediaPoller *poller;
  GSource *take_source;          /* idle: hand the socket over */
  MediaPollerEntry *poll_entry;  /* non-NULL while the poller reads */
  StunAgent stun;
  guint64 tie_breaker;
  gint64 consent_at;             /* monotonic µs of the last answer */
  gint64 next_check_at;
  gboolean check_pending;
  StunTransactionId check_id;
};

static void peer_schedule_take (MediaPeer *peer);

static void
peer_set_state (MediaPeer *peer, MediaState state)
{
  if (peer->state == state || peer->closing)
    return;
  /* FAILED and CLOSED are final. */
  if (peer->state == MEDIA_STATE_FAILED || peer->state == MEDIA_STATE_CLOSED)
    return;
  peer->state = state;
  if (peer->callbacks.state_changed != NULL)
    peer->callbacks.state_changed (peer, state, peer->user_data);
}

static void
peer_dtls_send (const uint8_t *buf, size_t len, gpointer user_data)
{
  MediaPeer *peer = user_data;

  if (peer->agent == NULL)
    return;
  nice_agent_send (peer->agent, peer->stream_id, 1, len, (const gchar *) buf);
}

static void
peer_dtls_done (MediaDtls *dtls, gboolean ok, const GError *error, gpointer user_data)
{
  MediaPeer *peer = user_data;
  g_autoptr (GError) local_error = NULL;
  MediaSrtpProfile profile;
  uint8_t local_key[64], remote_key[64];
  size_t key_len = sizeof local_key;

  if (!ok) {
    MEDIA_STAT_ADD (peer->stats, dtls_failures, 1);
    g_message ("DTLS failed: %s", error != NULL ? error->message : "unknown");
    peer_set_state (peer, MEDIA_STATE_FAILED);
    return;
  }

  if (!media_dtls_get_srtp_keys (dtls, &profile, local_key, remote_key, &key_len)) {
    MEDIA_STAT_ADD (peer->stats, dtls_failures, 1);
    g_warning ("DTLS done but no SRTP profile was negotiated");
    peer_set_state (peer, MEDIA_STATE_FAILED);
    return;
  }

  peer->srtp = media_srtp_new (profile, local_key, key_len, remote_key, key_len,
                               &local_error);
  memset (local_key, 0, sizeof local_key);
  memset (remote_key, 0, sizeof remote_key);
  if (peer->srtp == NULL) {
    g_warning ("SRTP session: %s", local_error->message);
    peer_set_state (peer, MEDIA_STATE_FAILED);
    return;
  }
  peer_schedule_take (peer);
  peer_set_state (peer, MEDIA_STATE_CONNECTED);
}

static void
peer_start_dtls_if_ready (MediaPeer *peer)
{
  if (peer->dtls_started || !peer->remote_set)
    return;
  if (!peer->dtls_client) {
    /* Server role: ready to answer a ClientHello whenever it arrives. */
    peer->dtls_started = TRUE;
    media_dtls_start (peer->dtls, MEDIA_DTLS_ROLE_SERVER);
    return;
  }
  if (peer->ice_state == NICE_COMPONENT_STATE_CONNECTED ||
      peer->ice_state == NICE_COMPONENT_STATE_READY) {
    peer->dtls_started = TRUE;
    media_dtls_start (peer->dtls, MEDIA_DTLS_ROLE_CLIENT);
  }
}

/* RFC 7983 §7: one 5-tuple carries STUN (answered by libnice, or by
 * peer_on_stun() once the poller reads), DTLS and SRTP/SRTCP; the first byte
 * tells them apart.  @buf is writable, with room for MEDIA_PEER_BUFFER_SIZE
 * bytes: SRTP is decrypted in place. */
static void
peer_handle_datagram (MediaPeer *peer, uint8_t *buf, size_t len)
{
  size_t n = len;
  int status;

  if (len == 0 || len > 1500) {
    MEDIA_STAT_ADD (peer->stats, dropped_malformed, 1);
    return;
  }

  switch (media_packet_classify (buf, len)) {
  case MEDIA_PACKET_DTLS:
    if (peer->dtls != NULL && peer->dtls_started) {
      guint64 dropped = media_dtls_get_dropped_packets (peer->dtls);

      /* peer_dtls_done() never frees the DTLS object: still valid after. */
      media_dtls_handle_packet (peer->dtls, buf, len);
      if (media_dtls_get_dropped_packets (peer->dtls) != dropped)
        MEDIA_STAT_ADD (peer->stats, dropped_malformed, 1);
    } else {
      MEDIA_STAT_ADD (peer->stats, dropped_malformed, 1);
    }
    return;

  case MEDIA_PACKET_RTP:
    if (peer->srtp == NULL) {
      MEDIA_STAT_ADD (peer->stats, dropped_srtp, 1);
      return;
    }
    if (peer->rtp_encrypted) {
      MEDIA_STAT_ADD (peer->stats, rtp_packets_in, 1);
      MEDIA_STAT_ADD (peer->stats, rtp_bytes_in, n);
      if (peer->callbacks.rtp != NULL)
        peer->callbacks.rtp (peer, buf, n, peer->user_data);
      return;
    }
    status = media_srtp_unprotect_rtp (peer->srtp, buf, &n);
    if (status != 0) {
      MEDIA_STAT_ADD (peer->stats, dropped_srtp, 1);
      g_debug ("SRTP unprotect: %s", media_srtp_status_to_string (status));
      return;
    }
    MEDIA_STAT_ADD (peer->stats, rtp_packets_in, 1);
    MEDIA_STAT_ADD (peer->stats, rtp_bytes_in, n);
    if (peer->callbacks.rtp != NULL)
      peer->callbacks.rtp (peer, buf, n, peer->user_data);
    return;

  case MEDIA_PACKET_RTCP:
    if (peer->srtp == NULL) {
      MEDIA_STAT_ADD (peer->stats, dropped_srtp, 1);
      return;
    }
    status = media_srtp_unprotect_rtcp (peer->srtp, buf, &n);
    if (status != 0) {
      MEDIA_STAT_ADD (peer->stats, dropped_srtp, 1);
      g_debug ("SRTCP unprotect: %s", media_srtp_status_to_string (status));
      return;
    }
    MEDIA_STAT_ADD (peer->stats, rtcp_packets_in, 1);
    if (peer->callbacks.rtcp != NULL)
      peer->callbacks.rtcp (peer, buf, n, peer->user_data);
    return;

  case MEDIA_PACKET_STUN:
  case MEDIA_PACKET_UNKNOWN:
  default:
    MEDIA_STAT_ADD (peer->stats, dropped_malformed, 1);
    return;
  }
}

static void
peer_on_recv (NiceAgent *agent, guint stream_id, guint component_id, guint len,
              gchar *data, gpointer user_data)
{
  MediaPeer *peer = user_data;
  uint8_t buf[MEDIA_PEER_BUFFER_SIZE];

  if (peer->closing)
    return;
  if (len == 0 || len > 1500) {
    MEDIA_STAT_ADD (peer->stats, dropped_malformed, 1);
    return;
  }
  memcpy (buf, data, len);
  peer_handle_datagram (peer, buf, len);
}

static void
peer_on_component_state (NiceAgent *agent, guint stream_id, guint component_id,
                         guint state, gpointer user_data)
{
  MediaPeer *peer = user_data;

  peer->ice_state = state;
  g_debug ("ICE state %s", nice_component_state_to_string (state));
  switch (state) {
  case NICE_COMPONENT_STATE_GATHERING:
  case NICE_COMPONENT_STATE_CONNECTING:
    if (peer->state == MEDIA_STATE_NEW)
      peer_set_state (peer, MEDIA_STATE_CONNECTING);
    break;
  case NICE_COMPONENT_STATE_CONNECTED:
  case NICE_COMPONENT_STATE_READY:
    if (peer->state == MEDIA_STATE_NEW)
      peer_set_state (peer, MEDIA_STATE_CONNECTING);
    peer_start_dtls_if_ready (peer);
    break;
  case NICE_COMPONENT_STATE_FAILED:
    peer_set_state (peer, MEDIA_STATE_FAILED);
    break;
  default:
    break;
  }
}

/* DF on every datagram, without path-MTU bookkeeping (IP_PMTUDISC_PROBE).
 * Linux's default for UDP (IP_PMTUDISC_WANT) also sets DF, but marks the
 * packet as fragmentable, so every datagram of an unconnected socket takes
 * __ip_select_ident(): a hash and an atomic on a table shared by the whole
 * host, 5 % of caud's fan-out profile (docs/performance.md).  With PROBE
 * the IPv4 ID is 0 (RFC 6864 §4.1: atomic datagrams).  RTP packets stay
 * under 1300 bytes (browsers packetise to 1200); a path whose MTU is
 * smaller drops them instead of fragmenting, as it does any DF packet.
 * IPv6 has no ID to choose: nothing to do. */
static void
peer_set_dont_fragment (int fd, int family)
{
  int v = IP_PMTUDISC_PROBE;

  if (family == AF_INET && setsockopt (fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof v) != 0)
    g_debug ("IP_MTU_DISCOVER: %s", g_strerror (errno));
}

/* A publisher's key frame arrives as one burst: 50 packets and more for a
 * detailed or shared screen.  With the default receive buffer (208 KiB,
 * about 90 datagrams of truesize) a burst that meets a busy worker
 * overflows it (RcvbufErrors); the lost packets cost the subscribers and
 * the recorder a key frame, i.e. a second or more of video.  Ask for 1 MiB;
 * the kernel caps it at net.core.rmem_max (docs/operations.md). */
#define PEER_RECEIVE_BUFFER (1024 * 1024)

static void
peer_set_receive_buffer (int fd)
{
  int v = PEER_RECEIVE_BUFFER;

  if (setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v) != 0)
    g_debug ("SO_RCVBUF: %s", g_strerror (errno));
}

/* Media (not STUN) to the selected pair goes straight to its socket with
 * sendto(): nice_agent_send() takes the agent lock and walks GLib
 * bookkeeping per packet, a measurable share of the fan-out (see
 * docs/performance.md).  Only for a UDP pair whose local side is our own
 * socket (host or peer-reflexive): a relayed pair needs libnice's TURN
 * framing and keeps the libnice path. */
static void
peer_on_selected_pair (NiceAgent *agent, guint stream_id, guint component_id,
                       NiceCandidate *local, NiceCandidate *remote, gpointer user_data)
{
  MediaPeer *peer = user_data;

  /* The poller reads (and is connected to) the pair chosen before. */
  if (peer->poll_entry != NULL) {
    g_debug ("ICE selected another pair after the hand-over; media stays on the first");
    return;
  }
  g_clear_object (&peer->send_socket);
  peer->send_fd = -1;
  if (local->type == NICE_CANDIDATE_TYPE_RELAYED ||
      local->transport != NICE_CANDIDATE_TRANSPORT_UDP || g_getenv ("CAU_NICE_SEND") != NULL)
    return;
  peer->send_socket = nice_agent_get_selected_socket (agent, stream_id, component_id);
  if (peer->send_socket == NULL)
    return;
  peer->send_fd = g_socket_get_fd (peer->send_socket);
  peer_set_dont_fragment (peer->send_fd, local->addr.s.addr.sa_family);
  peer_set_receive_buffer (peer->send_fd);
  memset (&peer->send_addr, 0, sizeof peer->send_addr);
  nice_address_copy_to_sockaddr (&remote->addr, (struct sockaddr *) &peer->send_addr);
  peer->send_addr_len = peer->send_addr.ss_family == AF_INET6 ? sizeof (struct sockaddr_in6)
                                                               : sizeof (struct sockaddr_in);
}

/* One datagram of protected media to the peer. */
static gboolean
peer_send_datagram (MediaPeer *peer, const uint8_t *buf, size_t len)
{
  if (peer->poll_entry != NULL)
    return media_poller_send (peer->poller, peer->poll_entry, buf, len);
  if (peer->send_fd >= 0) {
    ssize_t sent = sendto (peer->send_fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL,
                           (const struct sockaddr *) &peer->send_addr, peer->send_addr_len);

    /* EAGAIN: the socket buffer is full; the packet is lost like any
     * other on a congested path (NACK may repair it). */
    return sent == (ssize_t) len;
  }
  return nice_agent_send (peer->agent, peer->stream_id, 1, len, (const gchar *) buf) ==
         (gint) len;
}

/* ---- after connecting: the worker's poller reads the socket ------------ */

static gboolean
peer_is_remote (MediaPeer *peer, const struct sockaddr *from, socklen_t from_len)
{
  if (from->sa_family != peer->send_addr.ss_family)
    return FALSE;
  if (from->sa_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *) from;
    const struct sockaddr_in *b = (const struct sockaddr_in *) &peer->send_addr;

    return from_len >= sizeof *a && a->sin_port == b->sin_port &&
           a->sin_addr.s_addr == b->sin_addr.s_addr;
  }
  if (from->sa_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *) from;
    const struct sockaddr_in6 *b = (const struct sockaddr_in6 *) &peer->send_addr;

    return from_len >= sizeof *a && a->sin6_port == b->sin6_port &&
           memcmp (&a->sin6_addr, &b->sin6_addr, sizeof a->sin6_addr) == 0;
  }
  return FALSE;
}

static void
peer_stop_polling (MediaPeer *peer)
{
  if (peer->poll_entry == NULL)
    return;
  media_poller_remove (peer->poller, peer->poll_entry);
  peer->poll_entry = NULL;
}

/* libstun's check of a request's MESSAGE-INTEGRITY: short-term credentials
 * (RFC 8445 §7.2.2), USERNAME "ours:theirs", key our password. */
static bool
peer_stun_credentials (StunAgent *agent, StunMessage *message, uint8_t *username,
                       uint16_t username_len, uint8_t **password, size_t *password_len,
                       void *user_data)
{
  MediaPeer *peer = user_data;
  size_t n = strlen (peer->local_ufrag);

  if (username_len < n + 1 || memcmp (username, peer->local_ufrag, n) != 0 ||
      username[n] != ':')
    return false;
  *password = (uint8_t *) peer->local_pwd;
  *password_len = strlen (peer->local_pwd);
  return true;
}

/* A STUN message on the connected socket: the other side's consent checks
 * (answered as libnice would) and the answers to ours. */
static void
peer_on_stun (MediaPeer *peer, const uint8_t *buf, size_t len, const struct sockaddr *from,
              socklen_t from_len)
{
  StunMessage msg, reply;
  StunValidationStatus valid;
  uint8_t out[512];
  size_t out_len = sizeof out;
  bool control = peer->controlling;
  StunUsageIceReturn ret;

  valid = stun_agent_validate (&peer->stun, &msg, buf, len, peer_stun_credentials, peer);
  if (valid != STUN_VALIDATION_SUCCESS) {
    /* Unauthenticated, or an answer to a check we gave up on. */
    if (valid != STUN_VALIDATION_UNMATCHED_RESPONSE)
      MEDIA_STAT_ADD (peer->stats, dropped_malformed, 1);
    return;
  }
  if (stun_message_get_method (&msg) != STUN_BINDING)
    return;

  switch (stun_message_get_class (&msg)) {
  case STUN_REQUEST:
    ret = stun_usage_ice_conncheck_create_reply (&peer->stun, &msg, &reply, out, &out_len,
                                                 (const struct sockaddr_storage *) from,
                                                 from_len, &control, peer->tie_breaker,
                                                 STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
    /* The socket is connected: only the selected remote reaches us, and a
     * nomination of another pair cannot (see peer_take_receive()). */
    if (out_len > 0)
      sendto (peer->send_fd, out, out_len, MSG_DONTWAIT | MSG_NOSIGNAL, from, from_len);
    if (ret == STUN_USAGE_ICE_RETURN_ROLE_CONFLICT)
      g_debug ("consent check with a role conflict answered with 487");
    return;

  case STUN_RESPONSE:
    if (!peer_is_remote (peer, from, from_len))
      return;
    /* RFC 7675 §5.1: an authenticated answer from where we send is consent. */
    peer->consent_at = g_get_monotonic_time ();
    peer->check_pending = FALSE;
    return;

  case STUN_ERROR:     /* e.g. 487 role conflict: no consent */
  case STUN_INDICATION:
  default:
    return;
  }
}

static void
peer_send_consent_check (MediaPeer *peer, gint64 now)
{
  g_autofree gchar *username = g_strconcat (peer->remote_ufrag, ":", peer->local_ufrag, NULL);
  StunMessage msg;
  uint8_t out[512];
  size_t len;

  /* One check in flight: the agent remembers a bounded number of them. */
  if (peer->check_pending)
    stun_agent_forget_transaction (&peer->stun, peer->check_id);
  peer->check_pending = FALSE;
  peer->next_check_at = now + (gint64) (CONSENT_INTERVAL_US * g_random_double_range (0.8, 1.2));
  len = stun_usage_ice_conncheck_create (&peer->stun, &msg, out, sizeof out,
                                         (const uint8_t *) username, strlen (username),
                                         (const uint8_t *) peer->remote_pwd,
                                         strlen (peer->remote_pwd), FALSE, peer->controlling,
                                         CONSENT_CHECK_PRIORITY, peer->tie_breaker, NULL,
                                         STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
  if (len == 0) {
    g_debug ("consent check: libstun built no request");
    return;
  }
  stun_message_id (&msg, peer->check_id);
  peer->check_pending = TRUE;
  peer_send_datagram (peer, out, len);
}

static void
peer_on_poller_datagram (gpointer user_data, uint8_t *buf, size_t len,
                         const struct sockaddr *from, socklen_t from_len)
{
  MediaPeer *peer = user_data;

  if (len > 0 && buf[0] < 4) {       /* RFC 7983 §7: STUN */
    peer_on_stun (peer, buf, len, from, from_len);
    return;
  }
  /* As libnice: data only from the selected remote candidate. */
  if (!peer_is_remote (peer, from, from_len)) {
    MEDIA_STAT_ADD (peer->stats, dropped_malformed, 1);
    return;
  }
  peer_handle_datagram (peer, buf, len);
}

static void
peer_on_poller_tick (gpointer user_data, gint64 now)
{
  MediaPeer *peer = user_data;

  /* Closed by the other side (a DTLS close_notify): nothing more to check. */
  if (peer->state != MEDIA_STATE_CONNECTED)
    return;
  if (now - peer->consent_at > CONSENT_TIMEOUT_US) {
    /* RFC 7675 §5.1: stop sending.  FAILED is final; the room and the
     * signaling plane hear of it and end the connection. */
    g_message ("ICE: no answer to consent checks for %d s; the peer is gone",
               (int) (CONSENT_TIMEOUT_US / G_USEC_PER_SEC));
    MEDIA_STAT_ADD (peer->stats, consent_expired, 1);
    peer_stop_polling (peer);
    peer_set_state (peer, MEDIA_STATE_FAILED);   /* may free @peer */
    return;
  }
  if (now >= peer->next_check_at)
    peer_send_consent_check (peer, now);
}

/* Protects the RTP packet buf[0 .. @head_len) ‖ @rest into @buf (of @cap
 * bytes) for this connected peer.  The protected length, or 0 when not
 * connected or when protection fails (counted and logged). */
static size_t
peer_protect_rtp (MediaPeer *peer, uint8_t *buf, size_t head_len, const uint8_t *rest,
                  size_t rest_len, size_t cap)
{
  size_t n = 0;
  int status;

  if (peer->srtp == NULL || peer->state != MEDIA_STATE_CONNECTED)
    return 0;
  status = media_srtp_protect_rtp_split (peer->srtp, buf, head_len, rest, rest_len, &n, cap);
  if (status != 0) {
    MEDIA_STAT_ADD (peer->stats, dropped_srtp, 1);
    g_debug ("SRTP protect: %s", media_srtp_status_to_string (status));
    return 0;
  }
  return n;
}

static void
peer_count_rtp_out (MediaPeer *peer, size_t n)
{
  MEDIA_STAT_ADD (peer->stats, rtp_packets_out, 1);
  MEDIA_STAT_ADD (peer->stats, rtp_bytes_out, n);
}

/* A forwarded packet queued split (media_peer_send_rtp_split()), protected
 * now that its batch is sent. */
static size_t
peer_on_poller_seal (gpointer user_data, uint8_t *buf, size_t head_len, size_t cap,
                     const uint8_t *rest, size_t rest_len)
{
  MediaPeer *peer = user_data;
  size_t n = peer_protect_rtp (peer, buf, head_len, rest, rest_len, cap);

  if (n > 0)
    peer_count_rtp_out (peer, n);
  return n;
}

static gboolean
peer_take_receive (gpointer user_data)
{
  static const MediaPollerFuncs funcs = {
    .datagram = peer_on_poller_datagram,
    .tick = peer_on_poller_tick,
    .seal = peer_on_poller_seal,
  };
  MediaPeer *peer = user_data;
  gint64 now = g_get_monotonic_time ();

  g_clear_pointer (&peer->take_source, g_source_unref);
  if (peer->closing || peer->state != MEDIA_STATE_CONNECTED || peer->send_fd < 0 ||
      peer->poll_entry != NULL)
    return G_SOURCE_REMOVE;
  /* Connected to the selected remote: the kernel keeps the route (no
   * lookup per datagram) and drops what other addresses send, which
   * libnice would drop too (data only from a valid remote candidate).  A
   * later nomination of another pair (RFC 8445 §8.1.1 lets the controlling
   * side switch) is not followed: clients restart ICE instead, which caud
   * does not support yet (a rejoin). */
  if (connect (peer->send_fd, (const struct sockaddr *) &peer->send_addr,
               peer->send_addr_len) != 0) {
    g_message ("connect (socket %d): %s; libnice goes on reading it", peer->send_fd,
               g_strerror (errno));
    return G_SOURCE_REMOVE;
  }
  peer->poll_entry = media_poller_add (peer->poller, peer->send_fd, &funcs, peer);
  if (peer->poll_entry == NULL)
    return G_SOURCE_REMOVE;   /* libnice goes on reading */
  /* libnice's sources on its sockets go where nobody polls them. */
  nice_agent_attach_recv (peer->agent, peer->stream_id, 1, media_poller_get_park_context (),
                          NULL, NULL);
  peer->consent_at = now;
  peer->next_check_at = now + (gint64) (CONSENT_INTERVAL_US * g_random_double_range (0.8, 1.2));
  g_debug ("socket %d: read by the worker's poller from now on", peer->send_fd);
  return G_SOURCE_REMOVE;
}

/* Called when DTLS is done.  Not at once: this runs inside libnice's receive
 * callback, whose sources must not be moved under it. */
static void
peer_schedule_take (MediaPeer *peer)
{
  if (peer->poller == NULL || peer->send_fd < 0 || peer->take_source != NULL)
    return;
  peer->take_source = g_idle_source_new ();
  g_source_set_priority (peer->take_source, G_PRIORITY_DEFAULT);
  g_source_set_callback (peer->take_source, peer_take_receive, peer, NULL);
  g_source_attach (peer->take_source, peer->context);
}

static void
peer_on_new_candidate (NiceAgent *agent, NiceCandidate *candidate, gpointer user_data)
{
  MediaPeer *peer = user_data;
  g_autofree gchar *sdp = NULL;

  if (peer->callbacks.local_candidate == NULL)
    return;
  sdp = nice_agent_generate_local_candidate_sdp (agent, candidate);
  if (sdp != NULL)
    peer->callbacks.local_candidate (peer, g_str_has_prefix (sdp, "a=") ? sdp + 2 : sdp,
                                     peer->user_data);
}

static void
peer_on_gathering_done (NiceAgent *agent, guint stream_id, gpointer user_data)
{
  MediaPeer *peer = user_data;

  if (peer->callbacks.local_candidate != NULL)
    peer->callbacks.local_candidate (peer, NULL, peer->user_data);
}

MediaPeer *
media_peer_new (const MediaPeerConfig *config, const MediaPeerCallbacks *callbacks,
                gpointer user_data, GError **error)
{
  MediaPeer *peer;
  guint n_addresses = 0;

  g_return_val_if_fail (config != NULL && config->context != NULL, NULL);
  g_return_val_if_fail (config->certificate != NULL, NULL);

  peer = g_new0 (MediaPeer, 1);
  peer->context = g_main_context_ref (config->context);
  peer->certificate = media_certificate_ref (config->certificate);
  peer->stats = config->stats;
  if (callbacks != NULL)
    peer->callbacks = *callbacks;
  peer->user_data = user_data;
  peer->rtp_encrypted = config->rtp_encrypted;
  peer->state = MEDIA_STATE_NEW;
  peer->send_fd = -1;
  peer->ice_state = NICE_COMPONENT_STATE_DISCONNECTED;

  peer->poller = config->poller;
  peer->controlling = config->controlling;
  peer->tie_breaker = ((guint64) g_random_int () << 32) | g_random_int ();
  stun_agent_init (&peer->stun, STUN_ALL_KNOWN_ATTRIBUTES, STUN_COMPATIBILITY_RFC5389,
                   STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
  /* RFC 7675 consent checks: libnice's while it reads the socket; with a
   * poller, this peer's own once connected (peer_on_poller_tick), because
   * the answers then no longer reach libnice. */
  peer->agent = nice_agent_new_full (peer->context, NICE_COMPATIBILITY_RFC5245,
                                     NICE_AGENT_OPTION_ICE_TRICKLE |
                                     (config->poller != NULL
                                        ? 0 : NICE_AGENT_OPTION_CONSENT_FRESHNESS));
  /* LAB-NOTES: UPnP is on by default and sends SSDP multicast off-host. */
  g_object_set (peer->agent,
                "upnp", FALSE,
                "ice-tcp", FALSE,
                "controlling-mode", config->controlling,
                NULL);

  for (guint i = 0; config->addresses != NULL && config->addresses[i] != NULL; i++) {
    NiceAddress addr;

    nice_address_init (&addr);
    if (!nice_address_set_from_string (&addr, config->addresses[i])) {
      g_warning ("ignoring ICE address '%s': not an IP address", config->addresses[i]);
      continue;
    }
    nice_agent_add_local_address (peer->agent, &addr);
    n_addresses++;
  }
  if (n_addresses == 0) {
    g_set_error (error, MEDIA_ERROR, MEDIA_ERROR_INTERNAL, "no usable ICE address");
    goto fail;
  }

  peer->stream_id = nice_agent_add_stream (peer->agent, 1);
  if (peer->stream_id == 0) {
    g_set_error (error, MEDIA_ERROR, MEDIA_ERROR_INTERNAL, "nice_agent_add_stream failed");
    goto fail;
  }
  if (config->port_min != 0 && config->port_max >= config->port_min)
    nice_agent_set_port_range (peer->agent, peer->stream_id, 1,
                               config->port_min, config->port_max);

  g_signal_connect (peer->agent, "component-state-changed",
                    G_CALLBACK (peer_on_component_state), peer);
  g_signal_connect (peer->agent, "new-candidate-full",
                    G_CALLBACK (peer_on_new_candidate), peer);
  g_signal_connect (peer->agent, "new-selected-pair-full",
                    G_CALLBACK (peer_on_selected_pair), peer);
  g_signal_connect (peer->agent, "candidate-gathering-done",
                    G_CALLBACK (peer_on_gathering_done), peer);

  if (!nice_agent_attach_recv (peer->agent, peer->stream_id, 1, peer->context,
                               peer_on_recv, peer)) {
    g_set_error (error, MEDIA_ERROR, MEDIA_ERROR_INTERNAL, "nice_agent_attach_recv failed");
    goto fail;
  }
  if (!nice_agent_gather_candidates (peer->agent, peer->stream_id)) {
    g_set_error (error, MEDIA_ERROR, MEDIA_ERROR_INTERNAL,
                 "ICE gathering failed (no free UDP port in %u-%u?)",
                 config->port_min, config->port_max);
    goto fail;
  }
  nice_agent_get_local_credentials (peer->agent, peer->stream_id,
                                    &peer->local_ufrag, &peer->local_pwd);

  peer->dtls = media_dtls_new (peer->certificate, peer->context,
                               peer_dtls_send, peer_dtls_done, peer);
  if (peer->dtls == NULL) {
    g_set_error (error, MEDIA_ERROR, MEDIA_ERROR_INTERNAL, "DTLS context failed");
    goto fail;
  }
  MEDIA_STAT_ADD (peer->stats, peers, 1);
  return peer;

fail:
  peer->closing = TRUE;
  if (peer->agent != NULL) {
    g_signal_handlers_disconnect_by_data (peer->agent, peer);
    if (peer->stream_id != 0)
      nice_agent_attach_recv (peer->agent, peer->stream_id, 1, peer->context, NULL, NULL);
    g_object_unref (peer->agent);
  }
  media_certificate_unref (peer->certificate);
  g_main_context_unref (peer->context);
  g_free (peer->local_ufrag);
  g_free (peer->local_pwd);
  g_free (peer);
  return NULL;
}

void
media_peer_free (MediaPeer *peer)
{
  if (peer == NULL)
    return;
  peer->closing = TRUE;
  if (peer->take_source != NULL) {
    g_source_destroy (peer->take_source);
    g_clear_pointer (&peer->take_source, g_source_unref);
  }
  peer_stop_polling (peer);
  if (peer->dtls != NULL)
    media_dtls_free (peer->dtls);
  if (peer->srtp != NULL)
    media_srtp_free (peer->srtp);
  g_clear_object (&peer->send_socket);
  peer->send_fd = -1;
  if (peer->agent != NULL) {
    g_signal_handlers_disconnect_by_data (peer->agent, peer);
    nice_agent_attach_recv (peer->agent, peer->stream_id, 1, peer->context, NULL, NULL);
    nice_agent_remove_stream (peer->agent, peer->stream_id);
    g_object_unref (peer->agent);
  }
  MEDIA_STAT_SUB (peer->stats, peers, 1);
  media_certificate_unref (peer->certificate);
  g_main_context_unref (peer->context);
  g_free (peer->local_ufrag);
  g_free (peer->local_pwd);
  g_free (peer->remote_ufrag);
  g_free (peer->remote_pwd);
  g_free (peer);
}

void
media_peer_get_local_credentials (MediaPeer *peer, const char **ufrag, const char **pwd)
{
  g_return_if_fail (peer != NULL);
  *ufrag = peer->local_ufrag;
  *pwd = peer->local_pwd;
}

gchar **
media_peer_get_local_candidates (MediaPeer *peer)
{
  GPtrArray *out = g_ptr_array_new ();
  GSList *list, *l;

  list = nice_agent_get_local_candidates (peer->agent, peer->stream_id, 1);
  for (l = list; l != NULL; l = l->next) {
    gchar *sdp = nice_agent_generate_local_candidate_sdp (peer->agent, l->data);

    if (sdp == NULL)
      continue;
    if (g_str_has_prefix (sdp, "a=")) {
      g_ptr_array_add (out, g_strdup (sdp + 2));
      g_free (sdp);
    } else {
      g_ptr_array_add (out, sdp);
    }
  }
  g_slist_free_full (list, (GDestroyNotify) nice_candidate_free);
  g_ptr_array_add (out, NULL);
  return (gchar **) g_ptr_array_free (out, FALSE);
}

gboolean
media_peer_set_remote (MediaPeer *peer, const char *ufrag, const char *pwd,
                       const char *fingerprint_hash, const char *fingerprint,
                       gboolean dtls_client, GError **error)
{
  g_return_val_if_fail (peer != NULL, FALSE);
  g_return_val_if_fail (ufrag != NULL && pwd != NULL && fingerprint != NULL, FALSE);

  if (peer->remote_set) {
    if (g_strcmp0 (peer->remote_ufrag, ufrag) != 0) {
      /* RFC 8839 §4.4.1.1.1: a new ufrag is an ICE restart.  Not yet
       * supported: a client that needs one reconnects. */
      g_set_error (error, MEDIA_ERROR, MEDIA_ERROR_STATE,
                   "ICE restart is not supported; rejoin instead");
      return FALSE;
    }
    return TRUE;
  }

  if (!media_dtls_set_remote_fingerprint (peer->dtls, fingerprint_hash != NULL ?
                                          fingerprint_hash : "sha-256",
                                          fingerprint, error))
    return FALSE;
  if (!nice_agent_set_remote_credentials (peer->agent, peer->stream_id, ufrag, pwd)) {
    g_set_error (error, MEDIA_ERROR, MEDIA_ERROR_BAD_SDP, "ICE credentials refused");
    return FALSE;
  }
  peer->remote_ufrag = g_strdup (ufrag);
  peer->remote_pwd = g_strdup (pwd);
  peer->dtls_client = dtls_client;
  peer->remote_set = TRUE;
  peer_start_dtls_if_ready (peer);
  return TRUE;
}

gboolean
media_peer_add_remote_candidate (MediaPeer *peer, const char *candidate)
{
  g_autofree gchar *line = NULL;
  NiceCandidate *cand;
  GSList *list;
  int added;

  g_return_val_if_fail (peer != NULL && candidate != NULL, FALSE);

  if (g_str_has_prefix (candidate, "a="))
    candidate += 2;
  /* mDNS names (RFC 8828 .local) cannot be resolved here; the peer's checks
   * reach us anyway and become peer-reflexive candidates. */
  if (strstr (candidate, ".local ") != NULL)
    return FALSE;
  line = g_strconcat ("a=", candidate, NULL);
  cand = nice_agent_parse_remote_candidate_sdp (peer->agent, peer->stream_id, line);
  if (cand == NULL)
    return FALSE;
  if (cand->transport != NICE_CANDIDATE_TRANSPORT_UDP) {
    nice_candidate_free (cand);
    return FALSE;
  }
  list = g_slist_append (NULL, cand);
  added = nice_agent_set_remote_candidates (peer->agent, peer->stream_id, 1, list);
  g_slist_free_full (list, (GDestroyNotify) nice_candidate_free);
  return added > 0;
}

void
media_peer_remote_gathering_done (MediaPeer *peer)
{
  g_return_if_fail (peer != NULL);
  nice_agent_peer_candidate_gathering_done (peer->agent, peer->stream_id);
}

MediaState
media_peer_get_state (MediaPeer *peer)
{
  return peer->state;
}

gboolean
media_peer_send_rtp (MediaPeer *peer, uint8_t *buf, size_t len)
{
  size_t n = peer_protect_rtp (peer, buf, len, NULL, 0, MEDIA_PEER_BUFFER_SIZE);

  if (n == 0 || !peer_send_datagram (peer, buf, n))
    return FALSE;
  peer_count_rtp_out (peer, n);
  return TRUE;
}

gboolean
media_peer_send_rtp_split (MediaPeer *peer, uint8_t *head, size_t head_len, const uint8_t *rest,
                           size_t rest_len)
{
  if (peer->srtp == NULL || peer->state != MEDIA_STATE_CONNECTED)
    return FALSE;
  if (peer->poll_entry != NULL &&
      media_poller_send_split (peer->poller, peer->poll_entry, head, head_len, rest, rest_len))
    return TRUE;
  if (head_len + rest_len > MEDIA_PEER_BUFFER_SIZE - MEDIA_SRTP_MAX_TRAILER)
    return FALSE;
  memcpy (head + head_len, rest, rest_len);
  return media_peer_send_rtp (peer, head, head_len + rest_len);
}

gboolean
media_peer_unprotect_rtp (MediaPeer *peer, uint8_t *buf, size_t *len)
{
  int status;

  g_return_val_if_fail (peer != NULL && buf != NULL && len != NULL, FALSE);
  if (peer->srtp == NULL) {
    MEDIA_STAT_ADD (peer->stats, dropped_srtp, 1);
    return FALSE;
  }
  status = media_srtp_unprotect_rtp (peer->srtp, buf, len);
  if (status != 0) {
    MEDIA_STAT_ADD (peer->stats, dropped_srtp, 1);
    g_debug ("SRTP unprotect: %s", media_srtp_status_to_string (status));
    return FALSE;
  }
  return TRUE;
}

gboolean
media_peer_send_rtcp (MediaPeer *peer, uint8_t *buf, size_t len)
{
  size_t n = len;
  int status;

  if (peer->srtp == NULL || peer->state != MEDIA_STATE_CONNECTED)
    return FALSE;
  status = media_srtp_protect_rtcp (peer->srtp, buf, &n, MEDIA_PEER_BUFFER_SIZE);
  if (status != 0) {
    g_debug ("SRTCP protect: %s", media_srtp_status_to_string (status));
    return FALSE;
  }
  if (!peer_send_datagram (peer, buf, n))
    return FALSE;
  MEDIA_STAT_ADD (peer->stats, rtcp_packets_out, 1);
  return TRUE;
}

gboolean
media_peer_get_receive_time (MediaPeer *peer, gint64 *realtime_us)
{
  struct timespec ts;

  g_return_val_if_fail (peer != NULL && realtime_us != NULL, FALSE);
  if (peer->poll_entry != NULL)
    return media_poller_get_receive_time (peer->poller, realtime_us);
  if (peer->send_fd < 0 || ioctl (peer->send_fd, SIOCGSTAMPNS, &ts) != 0)
    return FALSE;
  *realtime_us = (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
  return TRUE;
}

gboolean
media_peer_is_polled (MediaPeer *peer)
{
  g_return_val_if_fail (peer != NULL, FALSE);
  return peer->poll_entry != NULL;
}

gchar *
media_peer_describe_selected_pair (MediaPeer *peer)
{
  NiceCandidate *local = NULL, *remote = NULL;
  gchar ip[NICE_ADDRESS_STRING_LEN];

  if (!nice_agent_get_selected_pair (peer->agent, peer->stream_id, 1, &local, &remote))
    return NULL;
  nice_address_to_string (&remote->addr, ip);
  return g_strdup_printf ("%s:%u", ip, nice_address_get_port (&remote->addr));
}
