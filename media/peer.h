/* peer.h — one server-side WebRTC transport: ICE (libnice, bundled, rtcp-mux,
 * one component), DTLS (OpenSSL) and SRTP (libsrtp2).
 *
 * A MediaPeer knows nothing of rooms, tracks or SDP: it moves decrypted
 * RTP/RTCP packets in and out.  It lives on one worker's GMainContext: every
 * function must be called there, and every callback is invoked there.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "media.h"
#include "certificate.h"

G_BEGIN_DECLS

typedef struct MediaPeer MediaPeer;

/* Spare room a packet buffer needs after the packet for SRTP protection. */
#define MEDIA_PEER_BUFFER_SIZE (1500 + 256)

typedef struct {
  void (*state_changed)   (MediaPeer *peer, MediaState state, gpointer user_data);
  /* A decrypted, length-checked RTP packet.  @buf may be modified in place
   * and is valid only during the call; its capacity is MEDIA_PEER_BUFFER_SIZE.
   * With MediaPeerConfig.rtp_encrypted the packet is still SRTP (its header
   * is in the clear, RFC 3711 §3.1): see media_peer_unprotect_rtp(). */
  void (*rtp)             (MediaPeer *peer, uint8_t *buf, size_t len, gpointer user_data);
  void (*rtcp)            (MediaPeer *peer, uint8_t *buf, size_t len, gpointer user_data);
  /* "candidate:..." or NULL at end of gathering. */
  void (*local_candidate) (MediaPeer *peer, const char *candidate, gpointer user_data);
} MediaPeerCallbacks;

typedef struct {
  GMainContext *context;           /* the worker's context */
  MediaCertificate *certificate;   /* shared, reffed by the peer */
  guint port_min, port_max;
  const char *const *addresses;    /* local IPs to gather on (already resolved) */
  gboolean controlling;            /* RFC 8445 §6.1.1: the offerer controls */
  MediaStats *stats;               /* engine counters, updated atomically */
  /* Opt-in for receivers that only need most packets' headers (the load
   * generator in bench/): the rtp callback gets the SRTP packet as received,
   * not authenticated or decrypted, and may decrypt some of them with
   * media_peer_unprotect_rtp().  RTCP is always decrypted. */
  gboolean rtp_encrypted;
  /* The worker's receive loop (poller.h), or NULL: once connected over a
   * UDP pair the peer hands its socket to it and makes the RFC 7675
   * consent checks itself; a peer whose checks go unanswered for 30 s
   * becomes FAILED. */
  struct MediaPoller *poller;
} MediaPeerConfig;

/* (transfer full).  Gathers host candidates at once: after a successful
 * return, media_peer_get_local_candidates() lists them. */
MediaPeer *media_peer_new (const MediaPeerConfig *config,
                           const MediaPeerCallbacks *callbacks,
                           gpointer user_data, GError **error);

/* Closes ICE and DTLS; no callback is invoked after this returns. */
void media_peer_free (MediaPeer *peer);

void media_peer_get_local_credentials (MediaPeer *peer, const char **ufrag,
                                       const char **pwd);

/* (transfer full) NULL-terminated "candidate:..." strings. */
gchar **media_peer_get_local_candidates (MediaPeer *peer);

/* Remote ICE credentials, DTLS fingerprint and our DTLS role.  May be called
 * again with the same values (renegotiation without ICE restart). */
gboolean media_peer_set_remote (MediaPeer *peer, const char *ufrag,
                                const char *pwd, const char *fingerprint_hash,
                                const char *fingerprint, gboolean dtls_client,
                                GError **error);

/* "candidate:..." (with or without "a=").  FALSE for a candidate that does
 * not parse or that we deliberately skip (mDNS names, TCP). */
gboolean media_peer_add_remote_candidate (MediaPeer *peer, const char *candidate);
void media_peer_remote_gathering_done (MediaPeer *peer);

MediaState media_peer_get_state (MediaPeer *peer);

/* Protects @buf in place (needs MEDIA_PEER_BUFFER_SIZE capacity) and sends.
 * Returns FALSE, counting the drop, when not connected or protection fails. */
gboolean media_peer_send_rtp (MediaPeer *peer, uint8_t *buf, size_t len);
/* The RTP packet @head[0 .. @head_len) ‖ @rest[0 .. @rest_len), @head
 * holding at least the RTP header.  When the peer's socket is polled and
 * @rest lies in the datagram batch being dispatched, only @head is copied
 * now: the packet is protected straight from @rest when the batch is sent
 * (media_poller_send_split()), and a protection failure is counted then.
 * Otherwise @rest is copied after @head, which therefore needs
 * MEDIA_PEER_BUFFER_SIZE capacity, and sent as media_peer_send_rtp() does.
 * FALSE when not connected, or when the packet cannot be sent. */
gboolean media_peer_send_rtp_split (MediaPeer *peer, uint8_t *head, size_t head_len,
                                    const uint8_t *rest, size_t rest_len);
gboolean media_peer_send_rtcp (MediaPeer *peer, uint8_t *buf, size_t len);

/* For peers made with rtp_encrypted: authenticates and decrypts, in place,
 * an SRTP packet handed to the rtp callback (inside that call, or a copy
 * made there; *@len updated).  Packets must be unprotected in the order
 * they arrived (replay window MEDIA_SRTP_REPLAY_WINDOW, and the rollover
 * counter is guessed from the last decrypted one: leave gaps of far fewer
 * than 2^15 sequence numbers between two calls).  FALSE, counting the
 * drop, when authentication fails or the peer has no SRTP session. */
gboolean media_peer_unprotect_rtp (MediaPeer *peer, uint8_t *buf, size_t *len);

/* The kernel's receive time (CLOCK_REALTIME, µs) of the datagram whose rtp
 * or rtcp callback is running, for the load generator, to tell the relay's
 * latency from its own receive delay.  Once the poller reads the socket,
 * the poller's (media_poller_set_receive_timestamps()); before, SIOCGSTAMPNS
 * on the selected pair's socket, which libnice reads one datagram at a time
 * before each callback (the first call turns timestamps on, and a datagram
 * that arrived before gets the time of the call).  FALSE when unknown: no
 * direct socket (relayed pair, CAU_NICE_SEND), timestamps off. */
gboolean media_peer_get_receive_time (MediaPeer *peer, gint64 *realtime_us);

/* TRUE once the peer's socket is read by its poller (MediaPeerConfig.poller)
 * instead of libnice: the agent's context is then needed for nothing but
 * libnice's keepalive timer. */
gboolean media_peer_is_polled (MediaPeer *peer);

/* The selected pair's remote address, for logs ("ip:port"), or NULL. */
gchar *media_peer_describe_selected_pair (MediaPeer *peer);

G_END_DECLS
