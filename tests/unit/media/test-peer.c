/* test-peer.c — two MediaPeers in one process (the GStreamer webrtcbin test
 * fixture idea): real libnice ICE on 127.0.0.1, real OpenSSL DTLS, real
 * libsrtp2.  Checks that they connect and that RTP and RTCP cross intact. */
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stun/stunagent.h>
#include <stun/usages/ice.h>

#include "certificate.h"
#include "peer.h"
#include "poller.h"
#include "rtp.h"
#include "srtp.h"

typedef struct {
  MediaPeer *peer;
  MediaState state;
  GPtrArray *candidates;
  gboolean gathering_done;
  guint rtp_received;
  guint rtcp_received;
  uint8_t last_rtp[1500];
  size_t last_rtp_len;
  guint rx_times;               /* media_peer_get_receive_time() answered */
  gint64 last_rx_time;
} Side;

static MediaStats stats;
/* Set by a test: new sides hand their socket to it once connected. */
static MediaPoller *poller;

static void
on_state (MediaPeer *peer, MediaState state, gpointer user_data)
{
  Side *side = user_data;

  side->state = state;
}

static void
on_rtp (MediaPeer *peer, uint8_t *buf, size_t len, gpointer user_data)
{
  Side *side = user_data;

  side->rtp_received++;
  if (media_peer_get_receive_time (peer, &side->last_rx_time))
    side->rx_times++;
  memcpy (side->last_rtp, buf, len);
  side->last_rtp_len = len;
}

static void
on_rtcp (MediaPeer *peer, uint8_t *buf, size_t len, gpointer user_data)
{
  Side *side = user_data;

  side->rtcp_received++;
}

static void
on_candidate (MediaPeer *peer, const char *candidate, gpointer user_data)
{
  Side *side = user_data;

  if (candidate == NULL)
    side->gathering_done = TRUE;
  else
    g_ptr_array_add (side->candidates, g_strdup (candidate));
}

static const MediaPeerCallbacks callbacks = {
  .state_changed = on_state,
  .rtp = on_rtp,
  .rtcp = on_rtcp,
  .local_candidate = on_candidate,
};

static gboolean
iterate_until (gboolean (*done) (Side *, Side *), Side *a, Side *b, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;

  while (!done (a, b)) {
    if (g_get_monotonic_time () > deadline)
      return FALSE;
    g_main_context_iteration (NULL, FALSE);
    g_usleep (1000);
  }
  return TRUE;
}

static gboolean
both_connected (Side *a, Side *b)
{
  return a->state == MEDIA_STATE_CONNECTED && b->state == MEDIA_STATE_CONNECTED;
}

static gboolean
one_failed_or_connected (Side *a, Side *b)
{
  return a->state == MEDIA_STATE_FAILED || b->state == MEDIA_STATE_FAILED ||
         both_connected (a, b);
}

static gboolean
rtp_arrived (Side *a, Side *b)
{
  return b->rtp_received > 0 && b->rtcp_received > 0;
}

static gboolean
first_rtp_arrived (Side *a, Side *b)
{
  return b->rtp_received > 0;
}

static gboolean
second_rtp_arrived (Side *a, Side *b)
{
  return b->rtp_received > 1;
}

static void
side_init_full (Side *side, MediaCertificate *cert, gboolean controlling,
                gboolean rtp_encrypted)
{
  static const char *const addresses[] = { "127.0.0.1", NULL };
  MediaPeerConfig config = {
    .context = g_main_context_default (),
    .certificate = cert,
    .port_min = 0,
    .port_max = 0,
    .addresses = addresses,
    .controlling = controlling,
    .stats = &stats,
    .rtp_encrypted = rtp_encrypted,
    .poller = poller,
  };
  g_autoptr (GError) error = NULL;

  memset (side, 0, sizeof *side);
  side->candidates = g_ptr_array_new_with_free_func (g_free);
  side->peer = media_peer_new (&config, &callbacks, side, &error);
  g_assert_no_error (error);
  g_assert_nonnull (side->peer);
}

static void
side_init (Side *side, MediaCertificate *cert, gboolean controlling)
{
  side_init_full (side, cert, controlling, FALSE);
}

static void
side_clear (Side *side)
{
  media_peer_free (side->peer);
  g_ptr_array_unref (side->candidates);
}

/* Hands @from's credentials, fingerprint and candidates to @to. */
static gboolean
connect_sides (Side *from, Side *to, const char *fingerprint, gboolean to_is_dtls_client,
               GError **error)
{
  const char *ufrag, *pwd;
  g_auto (GStrv) candidates = media_peer_get_local_candidates (from->peer);

  media_peer_get_local_credentials (from->peer, &ufrag, &pwd);
  if (!media_peer_set_remote (to->peer, ufrag, pwd, "sha-256", fingerprint,
                              to_is_dtls_client, error))
    return FALSE;
  g_assert_cmpuint (g_strv_length (candidates), >, 0);
  for (guint i = 0; candidates[i] != NULL; i++) {
    g_assert_true (g_str_has_prefix (candidates[i], "candidate:"));
    g_assert_true (media_peer_add_remote_candidate (to->peer, candidates[i]));
  }
  media_peer_remote_gathering_done (to->peer);
  return TRUE;
}

/* a offers, b answers with setup:passive, so b is the DTLS server; b checks
 * a's certificate against @a_fingerprint. */
static void
connect_both (Side *a, Side *b, const char *a_fingerprint, MediaCertificate *cert_b)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (connect_sides (a, b, a_fingerprint, FALSE, &error));
  g_assert_no_error (error);
  g_assert_true (connect_sides (b, a, media_certificate_get_fingerprint (cert_b), TRUE, &error));
  g_assert_no_error (error);
}

static void
test_peer_connect_and_relay (void)
{
  g_autoptr (GError) error = NULL;
  MediaCertificate *cert_a = media_certificate_new (&error);
  MediaCertificate *cert_b;
  Side a, b;
  uint8_t pkt[MEDIA_PEER_BUFFER_SIZE];
  /* RTP: V=2, PT 96, seq 0x1234, ts 0x01020304, SSRC 0xcafebabe, 100-byte payload */
  static const uint8_t header[12] = { 0x80, 0x60, 0x12, 0x34, 0x01, 0x02, 0x03, 0x04,
                                      0xca, 0xfe, 0xba, 0xbe };
  /* RTCP PLI: V=2 FMT=1, PT 206, length 2, sender 1, media 0xcafebabe */
  static const uint8_t pli[12] = { 0x81, 0xce, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01,
                                   0xca, 0xfe, 0xba, 0xbe };

  g_assert_no_error (error);
  cert_b = media_certificate_new (&error);
  g_assert_no_error (error);
  g_assert_true (media_srtp_global_init (&error));

  side_init (&a, cert_a, TRUE);
  side_init (&b, cert_b, FALSE);

  /* a offers, b answers with setup:passive → b is the DTLS server. */
  connect_both (&a, &b, media_certificate_get_fingerprint (cert_a), cert_b);
  g_assert_true (iterate_until (both_connected, &a, &b, 15000));

  memset (pkt, 0, sizeof pkt);
  memcpy (pkt, header, sizeof header);
  for (guint i = 0; i < 100; i++)
    pkt[12 + i] = (uint8_t) i;
  g_assert_true (media_peer_send_rtp (a.peer, pkt, 112));
  memcpy (pkt, pli, sizeof pli);
  g_assert_true (media_peer_send_rtcp (a.peer, pkt, sizeof pli));
  g_assert_true (iterate_until (rtp_arrived, &a, &b, 5000));

  g_assert_cmpuint (b.last_rtp_len, ==, 112);
  g_assert_cmpmem (b.last_rtp, sizeof header, header, sizeof header);
  for (guint i = 0; i < 100; i++)
    g_assert_cmpuint (b.last_rtp[12 + i], ==, i);
  {
    g_autofree gchar *pair = media_peer_describe_selected_pair (a.peer);

    g_assert_nonnull (pair);
    g_assert_true (g_str_has_prefix (pair, "127.0.0.1:"));
  }

  side_clear (&a);
  side_clear (&b);
  media_certificate_unref (cert_a);
  media_certificate_unref (cert_b);
}

static gboolean
rtcp_arrived_at_a (Side *a, Side *b)
{
  return a->rtcp_received > 0;
}

static gboolean
both_polled (Side *a, Side *b)
{
  return media_peer_is_polled (a->peer) && media_peer_is_polled (b->peer);
}

/* An RTP header and a PLI for the polled tests. */
static const uint8_t polled_rtp[12] = { 0x80, 0x60, 0x00, 0x07, 0x00, 0x00, 0x00, 0x09,
                                        0x12, 0x34, 0x56, 0x78 };
static const uint8_t polled_pli[12] = { 0x81, 0xce, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02,
                                        0x12, 0x34, 0x56, 0x78 };

/* a and b with a poller (new, in the global @poller), connected, and both
 * handed over to it; @certs[0] is a's, @certs[1] b's. */
static void
polled_pair_start (Side *a, Side *b, MediaCertificate *certs[2], gboolean timestamps)
{
  g_autoptr (GError) error = NULL;

  certs[0] = media_certificate_new (&error);
  g_assert_no_error (error);
  certs[1] = media_certificate_new (&error);
  g_assert_no_error (error);
  g_assert_true (media_srtp_global_init (&error));
  poller = media_poller_new (g_main_context_default (), &stats);
  media_poller_set_receive_timestamps (poller, timestamps);
  side_init (a, certs[0], TRUE);
  side_init (b, certs[1], FALSE);
  connect_both (a, b, media_certificate_get_fingerprint (certs[0]), certs[1]);
  g_assert_true (iterate_until (both_connected, a, b, 15000));
  g_assert_true (iterate_until (both_polled, a, b, 5000));
}

static void
polled_pair_stop (Side *a, Side *b, MediaCertificate *certs[2])
{
  side_clear (a);
  side_clear (b);
  media_poller_free (poller);
  poller = NULL;
  media_certificate_unref (certs[0]);
  media_certificate_unref (certs[1]);
}

/* With a poller: once connected both sides hand their sockets over (the
 * agents' sources parked), and RTP and RTCP still cross both ways, with
 * the poller's receive time. */
static void
test_peer_polled (void)
{
  MediaCertificate *certs[2];
  uint8_t pkt[MEDIA_PEER_BUFFER_SIZE];
  gint64 before = g_get_real_time ();
  Side a, b;

  polled_pair_start (&a, &b, certs, TRUE);

  memset (pkt, 0, sizeof pkt);
  memcpy (pkt, polled_rtp, sizeof polled_rtp);
  g_assert_true (media_peer_send_rtp (a.peer, pkt, 112));
  memcpy (pkt, polled_pli, sizeof polled_pli);
  g_assert_true (media_peer_send_rtcp (a.peer, pkt, sizeof polled_pli));
  g_assert_true (iterate_until (rtp_arrived, &a, &b, 5000));
  g_assert_cmpuint (b.last_rtp_len, ==, 112);
  g_assert_cmpmem (b.last_rtp, sizeof polled_rtp, polled_rtp, sizeof polled_rtp);
  g_assert_cmpuint (b.rx_times, ==, 1);
  g_assert_cmpint (b.last_rx_time, >=, before);
  g_assert_cmpint (b.last_rx_time, <=, g_get_real_time ());

  memcpy (pkt, polled_pli, sizeof polled_pli);
  g_assert_true (media_peer_send_rtcp (b.peer, pkt, sizeof polled_pli));
  g_assert_true (iterate_until (rtcp_arrived_at_a, &a, &b, 5000));
  g_assert_cmpint (media_peer_get_state (a.peer), ==, MEDIA_STATE_CONNECTED);
  g_assert_cmpint (media_peer_get_state (b.peer), ==, MEDIA_STATE_CONNECTED);

  polled_pair_stop (&a, &b, certs);
}

/* The socket, in this process, bound to @port on 127.0.0.1 and connected:
 * the polled socket of the peer whose selected local port is @port. */
static int
connected_socket_on_port (guint port)
{
  for (int fd = 3; fd < 4096; fd++) {
    struct sockaddr_in local, remote;
    socklen_t n = sizeof local, m = sizeof remote;

    if (getsockname (fd, (struct sockaddr *) &local, &n) == 0 && local.sin_family == AF_INET &&
        ntohs (local.sin_port) == port &&
        getpeername (fd, (struct sockaddr *) &remote, &m) == 0)
      return fd;
  }
  return -1;
}

typedef struct {
  guint64 malformed, srtp;
} Dropped;

static Dropped expected_dropped;

static gboolean
drops_counted (Side *a, Side *b)
{
  return stats.dropped_malformed >= expected_dropped.malformed &&
         stats.dropped_srtp >= expected_dropped.srtp;
}

static void
send_from (int fd, const void *buf, size_t len)
{
  g_assert_cmpint (send (fd, buf, len, 0), ==, (gssize) len);
}

/* Garbage on a polled peer's connected socket, sent from the one address the
 * kernel lets through (the other side's selected socket): every kind is
 * dropped and counted as malformed or as failed SRTP, an unauthenticated
 * consent check is not taken, and the call goes on both ways. */
static void
test_peer_polled_bad_input (void)
{
  MediaCertificate *certs[2];
  uint8_t pkt[3000], stun[512];
  g_autofree gchar *b_address = NULL;
  const char *a_ufrag, *a_pwd, *b_ufrag, *b_pwd;
  g_autofree gchar *username = NULL;
  StunAgent agent;
  StunMessage msg;
  size_t stun_len;
  const gchar *colon;
  int fd_b;
  guint rtp_before, rtcp_before;
  Side a, b;

  polled_pair_start (&a, &b, certs, FALSE);

  /* a's remote is b's polled socket. */
  b_address = media_peer_describe_selected_pair (a.peer);
  g_assert_nonnull (b_address);
  colon = strrchr (b_address, ':');
  g_assert_nonnull (colon);
  fd_b = connected_socket_on_port ((guint) g_ascii_strtoull (colon + 1, NULL, 10));
  g_assert_cmpint (fd_b, >=, 0);

  expected_dropped.malformed = stats.dropped_malformed;
  expected_dropped.srtp = stats.dropped_srtp;
  memset (pkt, 0xa5, sizeof pkt);

  /* Malformed: empty; a lone STUN-looking byte run; a STUN header whose
   * length runs past the datagram; an unknown first byte (RFC 7983); an
   * RTP-looking datagram longer than 1500 bytes; one longer than the
   * poller's buffer (truncated by the kernel). */
  send_from (fd_b, pkt, 0);
  memset (stun, 0, 10);
  send_from (fd_b, stun, 10);
  memset (stun, 0, 20);
  stun[1] = 0x01;                                       /* Binding request */
  stun[2] = 0x01, stun[3] = 0xf4;                       /* length 500 */
  stun[4] = 0x21, stun[5] = 0x12, stun[6] = 0xa4, stun[7] = 0x42;
  send_from (fd_b, stun, 24);
  pkt[0] = 0xff;
  send_from (fd_b, pkt, 50);
  pkt[0] = 0x80;
  pkt[1] = 0x60;
  send_from (fd_b, pkt, 1600);
  send_from (fd_b, pkt, 3000);
  expected_dropped.malformed += 6;

  /* STUN Binding requests to a: one without credentials, one with b's
   * username but the wrong password (MESSAGE-INTEGRITY fails). */
  stun_agent_init (&agent, STUN_ALL_KNOWN_ATTRIBUTES, STUN_COMPATIBILITY_RFC5389,
                   STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
  media_peer_get_local_credentials (a.peer, &a_ufrag, &a_pwd);
  media_peer_get_local_credentials (b.peer, &b_ufrag, &b_pwd);
  stun_len = stun_usage_ice_conncheck_create (&agent, &msg, stun, sizeof stun, NULL, 0, NULL,
                                              0, FALSE, FALSE, 1, 42, NULL,
                                              STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
  g_assert_cmpuint (stun_len, >, 0);
  send_from (fd_b, stun, stun_len);
  username = g_strconcat (a_ufrag, ":", b_ufrag, NULL);
  stun_len = stun_usage_ice_conncheck_create (&agent, &msg, stun, sizeof stun,
                                              (const uint8_t *) username, strlen (username),
                                              (const uint8_t *) "not-the-password", 16, FALSE,
                                              FALSE, 1, 42, NULL,
                                              STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
  g_assert_cmpuint (stun_len, >, 0);
  send_from (fd_b, stun, stun_len);
  expected_dropped.malformed += 2;

  /* SRTP and SRTCP that fail authentication. */
  pkt[0] = 0x80;
  pkt[1] = 0x60;
  send_from (fd_b, pkt, 1200);
  pkt[1] = 200;                                         /* SR */
  send_from (fd_b, pkt, 100);
  expected_dropped.srtp += 2;

  g_assert_true (iterate_until (drops_counted, &a, &b, 5000));
  /* Nothing else was counted (a little more time for a stray one). */
  for (int i = 0; i < 50; i++) {
    g_main_context_iteration (NULL, FALSE);
    g_usleep (1000);
  }
  g_assert_cmpuint (stats.dropped_malformed, ==, expected_dropped.malformed);
  g_assert_cmpuint (stats.dropped_srtp, ==, expected_dropped.srtp);

  /* A DTLS-looking record after the handshake: OpenSSL discards it; no
   * exact count (that is the DTLS layer's business), but no harm either. */
  pkt[0] = 23;
  send_from (fd_b, pkt, 60);

  /* The call goes on both ways (none of the garbage reached a callback). */
  g_assert_cmpuint (b.rtp_received, ==, 0);
  g_assert_cmpuint (a.rtp_received + a.rtcp_received + b.rtcp_received, ==, 0);
  rtp_before = b.rtp_received;
  rtcp_before = a.rtcp_received;
  memset (pkt, 0, sizeof pkt);
  memcpy (pkt, polled_rtp, sizeof polled_rtp);
  g_assert_true (media_peer_send_rtp (a.peer, pkt, 112));
  g_assert_true (iterate_until (first_rtp_arrived, &a, &b, 5000));
  g_assert_cmpuint (b.rtp_received, ==, rtp_before + 1);
  g_assert_cmpmem (b.last_rtp, sizeof polled_rtp, polled_rtp, sizeof polled_rtp);
  memcpy (pkt, polled_pli, sizeof polled_pli);
  g_assert_true (media_peer_send_rtcp (b.peer, pkt, sizeof polled_pli));
  g_assert_true (iterate_until (rtcp_arrived_at_a, &a, &b, 5000));
  g_assert_cmpuint (a.rtcp_received, ==, rtcp_before + 1);
  g_assert_cmpint (media_peer_get_state (a.peer), ==, MEDIA_STATE_CONNECTED);
  g_assert_cmpint (media_peer_get_state (b.peer), ==, MEDIA_STATE_CONNECTED);
  g_assert_true (media_peer_is_polled (a.peer));

  polled_pair_stop (&a, &b, certs);
}

/* b receives in rtp_encrypted mode: the callback sees the SRTP packet with
 * its header in the clear and the payload still encrypted (plus the auth
 * tag); media_peer_unprotect_rtp() then yields the original packet, and
 * refuses a tampered one. */
static void
test_peer_encrypted_rtp (void)
{
  g_autoptr (GError) error = NULL;
  MediaCertificate *cert_a = media_certificate_new (&error);
  MediaCertificate *cert_b = media_certificate_new (&error);
  Side a, b;
  uint8_t pkt[MEDIA_PEER_BUFFER_SIZE], copy[MEDIA_PEER_BUFFER_SIZE];
  size_t n;
  /* RTP: V=2, PT 96, seq 0x0001, ts 0x00000100, SSRC 0x11223344, 200-byte payload */
  static const uint8_t header[12] = { 0x80, 0x60, 0x00, 0x01, 0x00, 0x00, 0x01, 0x00,
                                      0x11, 0x22, 0x33, 0x44 };
  static const uint8_t rr[8] = { 0x80, 0xc9, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01 };

  g_assert_no_error (error);
  side_init_full (&a, cert_a, TRUE, FALSE);
  side_init_full (&b, cert_b, FALSE, TRUE);
  connect_both (&a, &b, media_certificate_get_fingerprint (cert_a), cert_b);
  g_assert_true (iterate_until (both_connected, &a, &b, 15000));

  memset (pkt, 0, sizeof pkt);
  memcpy (pkt, header, sizeof header);
  for (guint i = 0; i < 200; i++)
    pkt[12 + i] = (uint8_t) i;
  g_assert_true (media_peer_send_rtp (a.peer, pkt, 212));
  memcpy (pkt, rr, sizeof rr);
  g_assert_true (media_peer_send_rtcp (a.peer, pkt, sizeof rr));
  g_assert_true (iterate_until (rtp_arrived, &a, &b, 5000));

  /* Still SRTP: clear header, longer by the tag, payload not the plain one. */
  g_assert_cmpuint (b.last_rtp_len, >, 212);
  g_assert_cmpmem (b.last_rtp, sizeof header, header, sizeof header);
  g_assert_true (b.last_rtp[12] != 0 || b.last_rtp[13] != 1 || b.last_rtp[14] != 2);

  memcpy (copy, b.last_rtp, b.last_rtp_len);
  n = b.last_rtp_len;
  copy[20] ^= 0x01;
  g_assert_false (media_peer_unprotect_rtp (b.peer, copy, &n));

  memcpy (copy, b.last_rtp, b.last_rtp_len);
  n = b.last_rtp_len;
  g_assert_true (media_peer_unprotect_rtp (b.peer, copy, &n));
  g_assert_cmpuint (n, ==, 212);
  for (guint i = 0; i < 200; i++)
    g_assert_cmpuint (copy[12 + i], ==, i);

  /* The kernel's receive time: the first ask turned the socket's
   * timestamps on, so a later datagram has one. */
  memcpy (pkt, header, sizeof header);
  pkt[3] = 2;
  g_assert_true (media_peer_send_rtp (a.peer, pkt, 212));
  g_assert_true (iterate_until (second_rtp_arrived, &a, &b, 5000));
  g_assert_cmpuint (b.rx_times, >=, 1);
  g_assert_cmpint (b.last_rx_time, >, 0);

  side_clear (&a);
  side_clear (&b);
  media_certificate_unref (cert_a);
  media_certificate_unref (cert_b);
}

/* b is told a fingerprint that is not a's: DTLS must fail, never connect. */
static void
test_peer_fingerprint_mismatch (void)
{
  g_autoptr (GError) error = NULL;
  MediaCertificate *cert_a = media_certificate_new (&error);
  MediaCertificate *cert_b = media_certificate_new (&error);
  MediaCertificate *other = media_certificate_new (&error);
  Side a, b;

  g_assert_no_error (error);
  side_init (&a, cert_a, TRUE);
  side_init (&b, cert_b, FALSE);
  connect_both (&a, &b, media_certificate_get_fingerprint (other), cert_b);
  g_assert_true (iterate_until (one_failed_or_connected, &a, &b, 15000));
  g_assert_cmpint (b.state, ==, MEDIA_STATE_FAILED);
  g_assert_cmpint (a.state, !=, MEDIA_STATE_CONNECTED);
  /* Media cannot be sent on a peer that never connected. */
  {
    uint8_t pkt[MEDIA_PEER_BUFFER_SIZE] = { 0x80, 0x60 };

    g_assert_false (media_peer_send_rtp (b.peer, pkt, 12));
  }
  side_clear (&a);
  side_clear (&b);
  media_certificate_unref (cert_a);
  media_certificate_unref (cert_b);
  media_certificate_unref (other);
}

static void
test_peer_rejects_bad_candidates (void)
{
  g_autoptr (GError) error = NULL;
  MediaCertificate *cert = media_certificate_new (&error);
  Side a;

  g_assert_no_error (error);
  side_init (&a, cert, FALSE);
  g_assert_false (media_peer_add_remote_candidate (a.peer, "garbage"));
  g_assert_false (media_peer_add_remote_candidate (a.peer, "candidate:"));
  g_assert_false (media_peer_add_remote_candidate (
      a.peer, "candidate:1 1 udp 2122260223 3f1c6a2e-1a2b.local 50000 typ host"));
  g_assert_false (media_peer_add_remote_candidate (
      a.peer, "candidate:2 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active"));
  side_clear (&a);
  media_certificate_unref (cert);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/media/peer/connect-and-relay", test_peer_connect_and_relay);
  g_test_add_func ("/media/peer/fingerprint-mismatch", test_peer_fingerprint_mismatch);
  g_test_add_func ("/media/peer/bad-candidates", test_peer_rejects_bad_candidates);
  g_test_add_func ("/media/peer/encrypted-rtp", test_peer_encrypted_rtp);
  g_test_add_func ("/media/peer/polled", test_peer_polled);
  g_test_add_func ("/media/peer/polled-bad-input", test_peer_polled_bad_input);
  return g_test_run ();
}
