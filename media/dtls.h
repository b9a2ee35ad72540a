/* dtls.h — the DTLS 1.2 handshake of DTLS-SRTP (RFC 5764) on OpenSSL 3.
 *
 * Driven by datagrams, with no socket: the caller feeds every incoming DTLS
 * record (first byte 20..63, RFC 7983 §7) to media_dtls_handle_packet(),
 * and the instance hands each outgoing datagram to the send callback.  The
 * peer is authenticated by the SDP fingerprint of its self-signed
 * certificate (RFC 8122 §5), not by a PKI.  Once the handshake is done and
 * the fingerprint matched, the SRTP master keys are exported (RFC 5764
 * §4.2) for media_srtp_new().
 *
 * Threads.  An instance is used only on the thread running the
 * GMainContext given to media_dtls_new(); its retransmission and deadline
 * timers are attached there.  No locks.
 *
 * Callbacks.  send() is called synchronously from inside media_dtls_start(),
 * media_dtls_handle_packet(), media_dtls_close() and the timers, once per
 * datagram (one or more whole DTLS records, as OpenSSL packs a flight, at
 * most MEDIA_DTLS_MTU bytes); it must not call back into this MediaDtls.  done() is called exactly once, from
 * media_dtls_start(), media_dtls_handle_packet() or a source on the
 * context (never from media_dtls_set_remote_fingerprint()), as the last
 * thing the instance does in that call: done() may free it.
 */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

#include "certificate.h"
#include "srtp.h"

G_BEGIN_DECLS

#define MEDIA_DTLS_ERROR (media_dtls_error_quark ())
GQuark media_dtls_error_quark (void);

/* Shared by certificate.c and srtp.c: one error domain for the secure layer. */
typedef enum {
  MEDIA_DTLS_ERROR_CERTIFICATE,         /* making the certificate failed        */
  MEDIA_DTLS_ERROR_INIT,                /* OpenSSL context setup failed         */
  MEDIA_DTLS_ERROR_INVALID_FINGERPRINT, /* unknown hash or malformed value      */
  MEDIA_DTLS_ERROR_FINGERPRINT,         /* peer certificate does not match SDP  */
  MEDIA_DTLS_ERROR_HANDSHAKE,           /* alert received or protocol error     */
  MEDIA_DTLS_ERROR_NO_SRTP,             /* no common SRTP protection profile    */
  MEDIA_DTLS_ERROR_TIMEOUT,             /* no completion within the deadline    */
  MEDIA_DTLS_ERROR_CLOSED,              /* close_notify before completion       */
  MEDIA_DTLS_ERROR_STATE,               /* call out of order                    */
  MEDIA_DTLS_ERROR_SRTP,                /* libsrtp setup (srtp.c)               */
} MediaDtlsError;

/* Default for media_dtls_set_handshake_timeout(). */
#define MEDIA_DTLS_HANDSHAKE_TIMEOUT_MS 30000
/* Largest datagram we emit (SSL_set_mtu): fits any path MTU of 1280 with
 * IPv6 + UDP + TURN channel overhead. */
#define MEDIA_DTLS_MTU 1200

typedef struct MediaDtls MediaDtls;

typedef enum {
  MEDIA_DTLS_ROLE_CLIENT,   /* a=setup:active  */
  MEDIA_DTLS_ROLE_SERVER,   /* a=setup:passive */
} MediaDtlsRole;

/* One datagram to put on the wire.  @buf is valid only during the call. */
typedef void (*MediaDtlsSendFunc) (const uint8_t *buf, size_t len, gpointer user_data);

/* Called once: @ok = TRUE when the handshake finished, an SRTP profile was
 * negotiated and the peer's certificate matched the remote fingerprint;
 * FALSE + @error (MEDIA_DTLS_ERROR, owned by the instance, valid during the
 * call) on an alert, a fingerprint mismatch, no SRTP profile, a timeout or
 * an early close_notify. */
typedef void (*MediaDtlsDoneFunc) (MediaDtls *dtls, gboolean ok, const GError *error,
                                   gpointer user_data);

/* After done(TRUE): the peer sent close_notify or a fatal alert.  Called at
 * most once, and only after done(TRUE). */
typedef void (*MediaDtlsClosedFunc) (MediaDtls *dtls, gpointer user_data);

/* (transfer full).  Takes a reference on @cert and on @context (NULL = the
 * thread-default context).  @send and @done are required.  A failure to
 * set up OpenSSL is reported through done(FALSE) at media_dtls_start(). */
MediaDtls *media_dtls_new (MediaCertificate *cert, GMainContext *context,
                           MediaDtlsSendFunc send, MediaDtlsDoneFunc done,
                           gpointer user_data);

/* Cancels the timers; no callback after this.  Sends nothing: call
 * media_dtls_close() first for a polite close_notify. */
void media_dtls_free (MediaDtls *dtls);

/* Optional; same user_data as media_dtls_new(). */
void media_dtls_set_closed_func (MediaDtls *dtls, MediaDtlsClosedFunc closed);

/* Total time from media_dtls_start() to done() (default
 * MEDIA_DTLS_HANDSHAKE_TIMEOUT_MS), covering retransmissions and the wait
 * for a late remote fingerprint.  Call before media_dtls_start(). */
void media_dtls_set_handshake_timeout (MediaDtls *dtls, guint timeout_ms);

/* From "a=fingerprint:<hash> <fingerprint>" (RFC 8122 §5): @hash is one of
 * "sha-1", "sha-256", "sha-384", "sha-512" (any case); @fingerprint is
 * colon-separated hex pairs (any case) of that digest's length.  May come
 * before, during or after the handshake: a certificate that arrives first
 * is checked when the fingerprint arrives (done() then follows from a
 * source on the context).  FALSE + @error on a malformed value, or on a
 * different fingerprint once one has been checked. */
gboolean media_dtls_set_remote_fingerprint (MediaDtls *dtls, const char *hash,
                                            const char *fingerprint, GError **error);

/* CLIENT sends its ClientHello now; SERVER waits for one.  Records that
 * arrived before start (up to a few) are processed now.  Once only. */
void media_dtls_start (MediaDtls *dtls, MediaDtlsRole role);

/* One incoming datagram (@buf is not kept).  Malformed datagrams (not a
 * sequence of whole DTLS 1.x records) are dropped and counted without
 * reaching OpenSSL; after the handshake, retransmitted handshake records
 * are answered by OpenSSL, application data is discarded, close_notify
 * closes. */
void media_dtls_handle_packet (MediaDtls *dtls, const uint8_t *buf, size_t len);

/* Sends close_notify if the handshake completed and nothing closed yet.
 * No callback follows. */
void media_dtls_close (MediaDtls *dtls);

/* TRUE after done(TRUE) until a close. */
gboolean media_dtls_is_established (MediaDtls *dtls);

/* Datagrams dropped as malformed or after a failure. */
guint64 media_dtls_get_dropped_packets (MediaDtls *dtls);

/* After done(TRUE): RFC 5764 §4.2 export with label "EXTRACTOR-dtls_srtp",
 * split into this side's and the peer's master key || master salt
 * (client_write_* is local for the CLIENT role).  @key_len: in, the size
 * of each buffer (MEDIA_SRTP_MAX_KEY_SALT_LEN always suffices); out, the
 * key + salt length of the negotiated profile.  FALSE if not established
 * or a buffer is too small. */
gboolean media_dtls_get_srtp_keys (MediaDtls *dtls, MediaSrtpProfile *profile,
                                   uint8_t *local_key, uint8_t *remote_key,
                                   size_t *key_len);

G_END_DECLS
