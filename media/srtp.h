/* srtp.h — SRTP/SRTCP sessions (RFC 3711), keyed by DTLS-SRTP.
 *
 * A MediaSrtp is one direction pair of one transport: inbound (any SSRC,
 * the remote master key) and outbound (any SSRC, the local master key).
 * Protect runs once per subscriber per forwarded packet, so both
 * directions use the OpenSSL transform of srtp-openssl.h, byte-identical
 * to libsrtp2's output and faster, with libsrtp2's verdicts on what it
 * receives (SRTP and SRTCP; checked packet for packet in the unit tests).
 * libsrtp2 (two sessions, one per direction) takes a profile whose ciphers
 * OpenSSL's provider does not export, and everything when the environment
 * variable CAU_SRTP_BACKEND=libsrtp (read by media_srtp_new()) says so.  Protect and unprotect work in place on a caller's
 * buffer and return libsrtp's status (0 = srtp_err_status_ok), so that the
 * packet path allocates nothing and builds no GError: count and drop.
 *
 * Threads.  A MediaSrtp is used only on the thread running its peer
 * connection's context; it takes no lock.  media_srtp_global_init() may be
 * called from any thread, any number of times.
 */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

/* IANA DTLS-SRTP protection profile ids (RFC 5764 §4.1.2, RFC 7714 §14.2). */
typedef enum {
  MEDIA_SRTP_AES128_CM_SHA1_80 = 1,
  MEDIA_SRTP_AES128_CM_SHA1_32 = 2,
  MEDIA_SRTP_AEAD_AES_128_GCM = 7,
  MEDIA_SRTP_AEAD_AES_256_GCM = 8,
} MediaSrtpProfile;

/* Spare bytes a buffer needs after the packet for protect: libsrtp's
 * SRTP_MAX_TRAILER_LEN (largest tag + largest MKI).  The real trailer is
 * at most 4 + 16 bytes (SRTCP index + GCM tag); the bound is libsrtp's
 * documented contract, so we require it. */
#define MEDIA_SRTP_MAX_TRAILER 144

/* Largest master key || master salt of any profile (AES-256-GCM: 32 + 12). */
#define MEDIA_SRTP_MAX_KEY_SALT_LEN 44

#define MEDIA_SRTP_REPLAY_WINDOW 1024

typedef struct MediaSrtp MediaSrtp;

/* srtp_init() once per process (g_once); FALSE + @error (MEDIA_DTLS_ERROR)
 * if libsrtp fails to start.  media_srtp_new() calls it itself. */
gboolean media_srtp_global_init (GError **error);

/* Master key length and master salt length of @profile; FALSE for an
 * unknown id. */
gboolean media_srtp_profile_get_key_lengths (MediaSrtpProfile profile,
                                             size_t *key_len,
                                             size_t *salt_len);

/* TRUE if this process's libsrtp can create, protect and unprotect with
 * @profile (probed once and cached: a libsrtp built without GCM support
 * fails here, not in the middle of a call). */
gboolean media_srtp_profile_is_supported (MediaSrtpProfile profile);

/* "SRTP_AES128_CM_SHA1_80", ... (the names of RFC 5764 / RFC 7714), or
 * "unknown". */
const char *media_srtp_profile_to_string (MediaSrtpProfile profile);

/* One session: inbound = remote key for ssrc_any_inbound, outbound = local
 * key for ssrc_any_outbound with allow_repeat_tx (a NACK retransmission
 * re-protects the same sequence number), replay window
 * MEDIA_SRTP_REPLAY_WINDOW packets.  Each key is master key || master salt
 * and must be exactly the profile's length.  The keys are copied; the
 * caller may wipe its buffers afterwards.  (transfer full); NULL + @error
 * (MEDIA_DTLS_ERROR_SRTP) on a bad profile, key length or libsrtp error. */
MediaSrtp *media_srtp_new (MediaSrtpProfile profile,
                           const uint8_t *local_key, size_t local_key_len,
                           const uint8_t *remote_key, size_t remote_key_len,
                           GError **error);
void media_srtp_free (MediaSrtp *srtp);

MediaSrtpProfile media_srtp_get_profile (MediaSrtp *srtp);

/* Fills a libsrtp2 policy for one direction exactly as media_srtp_new()
 * does (inbound: ssrc_any_inbound; outbound: ssrc_any_outbound with
 * allow_repeat_tx), with @key (master key || salt, the profile's length,
 * read when the policy is used).  For tests and fuzzers that compare the
 * OpenSSL transform with libsrtp2.  FALSE for an unknown profile. */
struct srtp_policy_t;
gboolean media_srtp_policy_init (struct srtp_policy_t *policy, MediaSrtpProfile profile,
                                 uint8_t *key, gboolean outbound);

/* Which code protects (and unprotects SRTP): "openssl" or "libsrtp".
 * Static string. */
const char *media_srtp_get_backend (MediaSrtp *srtp);

/* In place; *len is updated.  Return 0 (srtp_err_status_ok) or a libsrtp
 * srtp_err_status_t; media_srtp_status_to_string() names it.
 * Protect needs @cap >= *len + MEDIA_SRTP_MAX_TRAILER (else
 * srtp_err_status_bad_param, buffer untouched).  Unprotect validates the
 * length before libsrtp reads the header: RTP shorter than 12 bytes or
 * RTCP shorter than 8 is srtp_err_status_bad_param.  On failure the buffer
 * content is unspecified and the packet must be dropped. */
int media_srtp_protect_rtp (MediaSrtp *srtp, uint8_t *buf, size_t *len, size_t cap);
/* Protects the packet buf[0 .. @head) ‖ @rest[0 .. @rest_len) into @buf
 * (media_srtp_openssl_protect_rtp_split(); libsrtp2 copies @rest after the
 * head and protects in place).  @cap >= @head + @rest_len +
 * MEDIA_SRTP_MAX_TRAILER; *len is set to the protected length.  Same
 * status codes as media_srtp_protect_rtp(). */
int media_srtp_protect_rtp_split (MediaSrtp *srtp, uint8_t *buf, size_t head,
                                  const uint8_t *rest, size_t rest_len, size_t *len,
                                  size_t cap);
int media_srtp_unprotect_rtp (MediaSrtp *srtp, uint8_t *buf, size_t *len);
int media_srtp_protect_rtcp (MediaSrtp *srtp, uint8_t *buf, size_t *len, size_t cap);
int media_srtp_unprotect_rtcp (MediaSrtp *srtp, uint8_t *buf, size_t *len);

/* The one place libsrtp status codes become text (STYLE §3).  Static
 * string, never NULL. */
const char *media_srtp_status_to_string (int status);

G_END_DECLS
