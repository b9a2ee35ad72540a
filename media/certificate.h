/* certificate.h — the DTLS certificate of the media plane.
 *
 * WebRTC peers do not use a PKI: each side presents a self-signed
 * certificate and the other side checks its digest against the
 * a=fingerprint line of the SDP (RFC 8122 §5, RFC 8827 §6.5).  One
 * certificate is typically made at engine start and shared by every peer
 * connection of every worker.
 *
 * Threads.  A MediaCertificate is immutable after creation; it may be used
 * from any thread, and ref/unref are atomic.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* OpenSSL's own struct tags, so this header does not pull in OpenSSL. */
struct x509_st;
struct evp_pkey_st;

typedef struct MediaCertificate MediaCertificate;

/* A fresh ECDSA P-256 key and a self-signed X.509 v3 certificate for it:
 * random 64-bit serial, subject = issuer = CN "cau", valid from one hour
 * ago (tolerates a peer's clock skew) until 30 days from now, signed with
 * ECDSA-SHA256.  (transfer full); NULL + @error (MEDIA_DTLS_ERROR) if
 * OpenSSL fails. */
MediaCertificate *media_certificate_new (GError **error);

MediaCertificate *media_certificate_ref (MediaCertificate *cert);
void media_certificate_unref (MediaCertificate *cert);

/* SHA-256 digest of the DER certificate as in "a=fingerprint:sha-256 ..."
 * (RFC 8122 §5): 32 uppercase hex pairs separated by ':'.
 * (transfer none): valid while @cert lives. */
const char *media_certificate_get_fingerprint (MediaCertificate *cert);

/* For the DTLS layer.  (transfer none): take your own reference
 * (X509_up_ref / EVP_PKEY_up_ref) to keep them past @cert. */
struct x509_st *media_certificate_get_x509 (MediaCertificate *cert);
struct evp_pkey_st *media_certificate_get_private_key (MediaCertificate *cert);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MediaCertificate, media_certificate_unref)

G_END_DECLS
