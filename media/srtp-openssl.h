/* srtp-openssl.h — SRTP and SRTCP protect and unprotect on OpenSSL.
 *
 * The relay protects every forwarded RTP packet once per subscriber, so
 * protect is the hot path; libsrtp2 as Debian builds it (on NSS) takes
 * about five times as long as this for AES-CM + HMAC-SHA1 and twice as
 * long for GCM (docs/performance.md).  This transform does only what a
 * sender needs:
 *
 *   - RFC 3711 §4.3.1 key derivation (AES-CM PRF, key derivation rate 0);
 *   - RFC 3711 §4.1.1 AES-CM encryption and §4.2 HMAC-SHA1 tags (80 or 32
 *     bits for SRTP, 80 for SRTCP: RFC 5764 §4.1.2);
 *   - RFC 7714 AEAD_AES_128_GCM / AEAD_AES_256_GCM for SRTP and SRTCP;
 *   - the sender's packet index: ROC estimated per SSRC from the highest
 *     index sent (RFC 3711 §3.3.1, Appendix A), and a per-SSRC 31-bit SRTCP
 *     index with the E bit (§3.4).
 *
 * Its output is byte-identical to a libsrtp2 session with an
 * ssrc_any_outbound policy and allow_repeat_tx set (the unit tests check
 * this packet for packet): the first SRTCP index of an SSRC is 1; an RTP
 * sequence number at most 1023 behind the highest one sent for its SSRC is
 * protected again with the index it had (a NACK retransmission gives the
 * identical packet), one further behind is refused.  There is no MKI and no
 * header-extension encryption (RFC 6904): WebRTC uses neither.
 *
 * Unprotect (the receiving half) is here too: with a consultation's three
 * subscribers per packet, libsrtp2's NSS-backed GCM decrypt cost more than
 * the three protects together (docs/performance.md, step 8), and at a
 * briefing's fan-out its SRTCP unprotect took about 15 µs per packet with a
 * cold context (step 12).  It keeps libsrtp2's ssrc_any_inbound behaviour
 * exactly: a new SSRC is taken at ROC 0 and remembered only once a packet
 * of it authenticates; the RTP index is estimated as for protect; a replay
 * database of MEDIA_SRTP_REPLAY_WINDOW RTP indices and one of 128 SRTCP
 * indices per SSRC refuse repeats and older packets; the tag is checked
 * (in constant time) before anything is decrypted or remembered.
 *
 * Allocation.  Contexts and keys are set up in media_srtp_openssl_new();
 * protect allocates nothing, except when a packet brings an SSRC that does
 * not fit the SSRC table, which then doubles (a subscriber has a handful).
 * Unprotect allocates the replay databases (152 bytes) once per SSRC, when
 * the SSRC's first packet authenticates.
 *
 * Threads.  One thread at a time per session; no lock.
 */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

#include "srtp.h"

G_BEGIN_DECLS

typedef struct MediaSrtpOpenssl MediaSrtpOpenssl;

/* What protect returns.  media/srtp.c turns these into the libsrtp
 * statuses libsrtp2 would have returned for the same packet. */
typedef enum {
  MEDIA_SRTP_OPENSSL_OK = 0,
  /* RTP shorter than its header (12 + 4·CC, + 4 + 4·length with X), RTCP
   * shorter than 8, longer than 65535, or no room for the trailer. */
  MEDIA_SRTP_OPENSSL_BAD_PARAM,
  /* sequence number more than 1023 behind the highest sent for the SSRC */
  MEDIA_SRTP_OPENSSL_REPLAY_OLD,
  /* the SSRC's SRTCP index is used up (2^31 - 1 packets) */
  MEDIA_SRTP_OPENSSL_KEY_EXPIRED,
  /* an OpenSSL call failed, or the SSRC table could not grow */
  MEDIA_SRTP_OPENSSL_CIPHER_FAIL,
  /* unprotect: the index was received already (inside the window) */
  MEDIA_SRTP_OPENSSL_REPLAY_FAIL,
  /* unprotect: the tag does not match */
  MEDIA_SRTP_OPENSSL_AUTH_FAIL,
  /* unprotect: header and tag do not fit in the packet */
  MEDIA_SRTP_OPENSSL_PARSE_ERR,
  /* SRTCP unprotect, AES-CM: the E bit says "not encrypted", which the
   * session cannot check (it encrypts SRTCP) */
  MEDIA_SRTP_OPENSSL_CANT_CHECK,
} MediaSrtpOpensslStatus;

/* Largest trailer protect appends: SRTCP index (4) + GCM tag (16). */
#define MEDIA_SRTP_OPENSSL_MAX_TRAILER 20

/* TRUE for the four profiles of srtp.h. */
gboolean media_srtp_openssl_profile_is_supported (MediaSrtpProfile profile);

/* A sending session keyed by @key = master key || master salt, exactly the
 * profile's length (media_srtp_profile_get_key_lengths()).  The key is not
 * kept; only the derived session keys are (wiped on free).
 * (transfer full); NULL + @error (MEDIA_DTLS_ERROR_SRTP) on a bad profile
 * or key length, or if OpenSSL lacks a cipher. */
MediaSrtpOpenssl *media_srtp_openssl_new (MediaSrtpProfile profile,
                                          const uint8_t *key, size_t key_len,
                                          GError **error);

/* As media_srtp_openssl_new(), from session keys instead of a master key
 * (no derivation; RTCP uses the same keys as RTP).  For known-answer tests
 * such as RFC 7714 §16, whose vectors start from session keys.
 * @auth_key is the 20-byte HMAC key for the AES-CM profiles, NULL for GCM;
 * @salt is 14 bytes (AES-CM) or 12 (GCM). */
MediaSrtpOpenssl *media_srtp_openssl_new_from_session_keys (MediaSrtpProfile profile,
                                                            const uint8_t *cipher_key,
                                                            const uint8_t *salt,
                                                            const uint8_t *auth_key,
                                                            GError **error);
void media_srtp_openssl_free (MediaSrtpOpenssl *tx);

/* In place: *len grows by the tag (and for SRTCP the E bit + index).  The
 * buffer needs @cap >= *len + MEDIA_SRTP_OPENSSL_MAX_TRAILER; nothing is
 * read or written outside buf[0 .. *len + trailer).  After BAD_PARAM,
 * REPLAY_OLD or KEY_EXPIRED the buffer, *len and the SSRC's index are
 * untouched; after CIPHER_FAIL the buffer content is unspecified. */
MediaSrtpOpensslStatus media_srtp_openssl_protect_rtp (MediaSrtpOpenssl *tx,
                                                       uint8_t *buf, size_t *len,
                                                       size_t cap);
/* The same protection of the packet buf[0 .. @head) ‖ @rest[0 .. @rest_len),
 * written into @buf without joining the two first: the payload in @rest is
 * encrypted straight into buf[@head ..).  The relay keeps one copy of a
 * received packet and writes only each subscriber's rewritten header into
 * its own buffer (media/poller.c).  @rest must not overlap @buf; @cap >=
 * @head + @rest_len + MEDIA_SRTP_OPENSSL_MAX_TRAILER.  The result, *len and
 * the status are those of media_srtp_openssl_protect_rtp() on the joined
 * packet, except that after BAD_PARAM the bytes from @head on may have been
 * written (buf[0 .. @head) is untouched).  When @head does not hold the
 * whole RTP header the packet is joined in @buf and protected in place. */
MediaSrtpOpensslStatus media_srtp_openssl_protect_rtp_split (MediaSrtpOpenssl *tx,
                                                             uint8_t *buf, size_t head,
                                                             const uint8_t *rest,
                                                             size_t rest_len, size_t *len,
                                                             size_t cap);
MediaSrtpOpensslStatus media_srtp_openssl_protect_rtcp (MediaSrtpOpenssl *tx,
                                                        uint8_t *buf, size_t *len,
                                                        size_t cap);

/* In place: on OK, *len shrinks by the tag.  A session used for unprotect
 * (keyed with the remote key) is used for nothing else.  On any other
 * status the packet must be dropped; the buffer may then hold partly
 * decrypted bytes (GCM), but the SSRC's state is untouched. */
MediaSrtpOpensslStatus media_srtp_openssl_unprotect_rtp (MediaSrtpOpenssl *rx,
                                                         uint8_t *buf, size_t *len);
/* The same for SRTCP: on OK, *len shrinks by the E bit, index and tag.
 * The SRTCP index is checked against a window of 128 per SSRC, as
 * libsrtp2's srtp_rdb_t does; the SSRC's RTP and RTCP replay state are
 * separate, but a first packet of either kind makes the SSRC known. */
MediaSrtpOpensslStatus media_srtp_openssl_unprotect_rtcp (MediaSrtpOpenssl *rx,
                                                          uint8_t *buf, size_t *len);

/* ---- building blocks, public for the RFC 3711 Appendix B tests ---------- */

/* RFC 3711 §4.3.1 with key_derivation_rate 0: @out_len bytes of AES-CM
 * keystream under @master_key (16 or 32 bytes) with IV
 * ((label << 48) XOR master_salt) · 2^16; a @master_salt shorter than 14
 * bytes (GCM's 12) is padded with zeros on the right.  FALSE if OpenSSL
 * fails. */
gboolean media_srtp_openssl_derive (const uint8_t *master_key, size_t master_key_len,
                                    const uint8_t *master_salt, size_t master_salt_len,
                                    uint8_t label, uint8_t *out, size_t out_len);

/* RFC 3711 §4.1.1: @len bytes of AES-128-CM keystream for packet index
 * @index (48 bits) of @ssrc under session key @key and 14-byte session
 * salt @salt.  FALSE if OpenSSL fails. */
gboolean media_srtp_openssl_aes_cm_keystream (const uint8_t key[16], const uint8_t salt[14],
                                              uint32_t ssrc, uint64_t index,
                                              uint8_t *out, size_t len);

G_END_DECLS
