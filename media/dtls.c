/* dtls.c — DTLS-SRTP handshake on OpenSSL 3 with a callback BIO. */
#include "dtls.h"

#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

/* RFC 6347 §4.1 record header: type(1) version(2) epoch(2) seq(6) length(2). */
#define DTLS_RECORD_HEADER_LEN 13
/* RFC 6347 §4.1.2.1 / RFC 5246 §6.2.3: TLSCiphertext.length <= 2^14 + 2048. */
#define DTLS_RECORD_MAX_LEN (16384 + 2048)
#define DTLS_MAX_DATAGRAM 65535
/* Records that reach us before media_dtls_start(), e.g. a ClientHello that
 * beats the SDP answer (RFC 8842 §5). */
#define DTLS_MAX_EARLY_PACKETS 8
/* First retransmission after 400 ms, doubling up to 6 s: six or seven
 * tries inside the 30 s deadline, quicker than OpenSSL's 1 s start on the
 * lossy links of district clinics. */
#define DTLS_INITIAL_RETRANSMIT_US 400000
#define DTLS_MAX_RETRANSMIT_US 6000000

#define DTLS_CIPHERS \
  "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
  "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
  "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:" \
  "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA"

typedef enum {
  DTLS_STATE_NEW,
  DTLS_STATE_HANDSHAKING,
  DTLS_STATE_AWAIT_FINGERPRINT,   /* handshake done, SDP fingerprint not yet */
  DTLS_STATE_ESTABLISHED,
  DTLS_STATE_FAILED,
  DTLS_STATE_CLOSED,
} DtlsState;

struct MediaDtls {
  MediaCertificate *cert;
  GMainContext *context;
  MediaDtlsSendFunc send;
  MediaDtlsDoneFunc done;
  MediaDtlsClosedFunc closed;
  gpointer user_data;

  SSL_CTX *ctx;
  SSL *ssl;
  GError *init_error;          /* set-up failure, reported at start */

  MediaDtlsRole role;
  DtlsState state;
  gboolean done_called;
  gboolean fingerprint_rejected; /* set by the verify callback */

  const EVP_MD *remote_md;     /* NULL until the SDP fingerprint is known */
  guint8 remote_digest[EVP_MAX_MD_SIZE];
  guint remote_digest_len;

  /* The datagram being fed to OpenSSL through the BIO, or NULL. */
  const uint8_t *in_buf;
  size_t in_len;

  GQueue early;                /* GBytes received before start */
  guint handshake_timeout_ms;
  GSource *retransmit_source;
  GSource *deadline_source;
  GSource *verify_source;      /* late fingerprint check */

  guint64 dropped;
};

G_DEFINE_QUARK (media-dtls-error-quark, media_dtls_error)

static gboolean dtls_process (MediaDtls *dtls);

/* ---- the callback BIO --------------------------------------------------
 * A BIO whose write hands each write straight to send() (OpenSSL's DTLS
 * writes one datagram per BIO_write: whole records, packed up to the MTU,
 * then a flush) and whose read
 * returns the one datagram being processed, so datagram boundaries are kept
 * in both directions without copies into a memory BIO. */

static int
bio_write (BIO *bio, const char *buf, int len)
{
  MediaDtls *dtls = BIO_get_data (bio);

  BIO_clear_retry_flags (bio);
  if (len <= 0)
    return 0;
  dtls->send ((const uint8_t *) buf, (size_t) len, dtls->user_data);
  return len;
}

static int
bio_read (BIO *bio, char *buf, int size)
{
  MediaDtls *dtls = BIO_get_data (bio);
  size_t n;

  BIO_clear_retry_flags (bio);
  if (dtls->in_buf == NULL)
    {
      BIO_set_retry_read (bio);
      return -1;
    }
  /* OpenSSL reads DTLS with a buffer for the largest record; a larger
   * datagram is cut and its broken record dropped by OpenSSL. */
  n = MIN (dtls->in_len, (size_t) MAX (size, 0));
  memcpy (buf, dtls->in_buf, n);
  dtls->in_buf = NULL;
  dtls->in_len = 0;
  return (int) n;
}

static long
bio_ctrl (BIO *bio, int cmd, long num, void *ptr)
{
  switch (cmd)
    {
    case BIO_CTRL_FLUSH:
      return 1;               /* every write is already on the wire */
    case BIO_CTRL_PENDING:
      {
        MediaDtls *dtls = BIO_get_data (bio);
        return dtls->in_buf != NULL ? (long) dtls->in_len : 0;
      }
    case BIO_CTRL_WPENDING:
      return 0;
    case BIO_CTRL_DGRAM_QUERY_MTU:
    case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
      return MEDIA_DTLS_MTU;
    default:
      return 0;               /* peer address, timeouts: not ours */
    }
}

static int
bio_create (BIO *bio)
{
  BIO_set_init (bio, 1);
  return 1;
}

static BIO_METHOD *bio_method;

static gpointer
bio_method_once (gpointer data)
{
  BIO_METHOD *m = BIO_meth_new (BIO_get_new_index () | BIO_TYPE_SOURCE_SINK,
                                "cau dtls datagram");
  if (m == NULL)
    return NULL;
  BIO_meth_set_write (m, bio_write);
  BIO_meth_set_read (m, bio_read);
  BIO_meth_set_ctrl (m, bio_ctrl);
  BIO_meth_set_create (m, bio_create);
  bio_method = m;
  return m;
}

static BIO_METHOD *
get_bio_method (void)
{
  static GOnce once = G_ONCE_INIT;

  return g_once (&once, bio_method_once, NULL);
}

/* ---- errors ----------------------------------------------------------- */

/* The one place OpenSSL's error queue becomes text.  Clears the queue. */
static char *
take_openssl_error (void)
{
  unsigned long code = ERR_get_error ();
  char buf[256];

  if (code == 0)
    {
      ERR_clear_error ();
      return g_strdup ("no OpenSSL error recorded");
    }
  ERR_error_string_n (code, buf, sizeof buf);
  ERR_clear_error ();
  return g_strdup (buf);
}

/* ---- fingerprints ----------------------------------------------------- */

static const EVP_MD *
md_for_hash_name (const char *hash)
{
  if (g_ascii_strcasecmp (hash, "sha-256") == 0)
    return EVP_sha256 ();
  if (g_ascii_strcasecmp (hash, "sha-1") == 0)
    return EVP_sha1 ();
  if (g_ascii_strcasecmp (hash, "sha-384") == 0)
    return EVP_sha384 ();
  if (g_ascii_strcasecmp (hash, "sha-512") == 0)
    return EVP_sha512 ();
  return NULL;
}

/* "AB:cd:..." -> bytes; exactly @want pairs. */
static gboolean
parse_fingerprint (const char *text, guint8 *out, guint want)
{
  const char *p = text;

  while (*p == ' ' || *p == '\t')
    p++;
  for (guint i = 0; i < want; i++)
    {
      int hi, lo;

      if (i > 0 && *p++ != ':')
        return FALSE;
      hi = g_ascii_xdigit_value (p[0]);
      lo = hi >= 0 ? g_ascii_xdigit_value (p[1]) : -1;
      if (lo < 0)
        return FALSE;
      out[i] = (guint8) (hi << 4 | lo);
      p += 2;
    }
  while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
    p++;
  return *p == '\0';
}

/* Constant-time: the comparison does not leak how many leading bytes of a
 * forged certificate's digest matched. */
static gboolean
certificate_matches (MediaDtls *dtls, X509 *peer)
{
  guint8 digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;

  if (peer == NULL || dtls->remote_md == NULL)
    return FALSE;
  if (X509_digest (peer, dtls->remote_md, digest, &len) != 1
      || len != dtls->remote_digest_len)
    return FALSE;
  return CRYPTO_memcmp (digest, dtls->remote_digest, len) == 0;
}

/* Replaces chain verification: WebRTC certificates are self-signed and
 * trusted only through the SDP fingerprint.  When the fingerprint is known
 * already, a mismatch aborts the handshake with a bad_certificate alert so
 * the peer fails too; when it is not, the check waits for it. */
static int
verify_certificate (X509_STORE_CTX *store, void *arg)
{
  SSL *ssl = X509_STORE_CTX_get_ex_data (store, SSL_get_ex_data_X509_STORE_CTX_idx ());
  MediaDtls *dtls = ssl != NULL ? SSL_get_app_data (ssl) : NULL;
  X509 *peer = X509_STORE_CTX_get0_cert (store);

  if (dtls == NULL || peer == NULL)
    return 0;
  if (dtls->remote_md == NULL)
    return 1;
  if (!certificate_matches (dtls, peer))
    {
      dtls->fingerprint_rejected = TRUE;
      X509_STORE_CTX_set_error (store, X509_V_ERR_CERT_REJECTED);
      return 0;
    }
  return 1;
}

/* ---- timers ----------------------------------------------------------- */

static void
clear_source (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_source_unref (*source);
      *source = NULL;
    }
}

static unsigned int
retransmit_timer_cb (SSL *ssl, unsigned int previous_us)
{
  if (previous_us == 0)
    return DTLS_INITIAL_RETRANSMIT_US;
  return MIN (previous_us * 2, DTLS_MAX_RETRANSMIT_US);
}

static gboolean on_retransmit (gpointer data);

/* Arms the retransmission timer for whatever OpenSSL waits for next. */
static void
schedule_retransmit (MediaDtls *dtls)
{
  struct timeval tv;
  guint ms;

  clear_source (&dtls->retransmit_source);
  if (dtls->ssl == NULL || DTLSv1_get_timeout (dtls->ssl, &tv) != 1)
    return;
  /* Round up: OpenSSL ignores a timer that fires a little early. */
  ms = (guint) tv.tv_sec * 1000 + (guint) (tv.tv_usec + 999) / 1000;
  dtls->retransmit_source = g_timeout_source_new (ms);
  g_source_set_callback (dtls->retransmit_source, on_retransmit, dtls, NULL);
  g_source_attach (dtls->retransmit_source, dtls->context);
}

/* Ends the handshake: cancels timers and calls done() as the very last
 * action (done() may free @dtls).  Takes @error.  Returns FALSE ("the
 * instance may be gone") so callers can `return finish (...)`. */
static gboolean
finish (MediaDtls *dtls, GError *error)
{
  gboolean ok = error == NULL;

  clear_source (&dtls->deadline_source);
  clear_source (&dtls->verify_source);
  if (!ok)
    {
      clear_source (&dtls->retransmit_source);
      dtls->state = DTLS_STATE_FAILED;
      g_info ("DTLS %s handshake failed: %s",
              dtls->role == MEDIA_DTLS_ROLE_CLIENT ? "client" : "server",
              error->message);
    }
  else
    {
      dtls->state = DTLS_STATE_ESTABLISHED;
      /* A server that finished may still need to resend its last flight;
       * OpenSSL tells through the timer. */
      schedule_retransmit (dtls);
    }
  if (dtls->done_called)
    {
      g_clear_error (&error);
      return TRUE;
    }
  dtls->done_called = TRUE;
  dtls->done (dtls, ok, error, dtls->user_data);
  if (error != NULL)
    g_error_free (error);
  return FALSE;
}

static gboolean
on_retransmit (gpointer data)
{
  MediaDtls *dtls = data;
  GSource *self = dtls->retransmit_source;

  dtls->retransmit_source = NULL;
  g_source_unref (self);

  ERR_clear_error ();
  if (DTLSv1_handle_timeout (dtls->ssl) < 0)
    {
      if (dtls->state == DTLS_STATE_HANDSHAKING)
        {
          g_autofree char *why = take_openssl_error ();
          finish (dtls, g_error_new (MEDIA_DTLS_ERROR, MEDIA_DTLS_ERROR_TIMEOUT,
                                     "retransmissions exhausted: %s", why));
          return G_SOURCE_REMOVE;
        }
      ERR_clear_error ();
      return G_SOURCE_REMOVE;
    }
  schedule_retransmit (dtls);
  return G_SOURCE_REMOVE;
}

static gboolean
on_deadline (gpointer data)
{
  MediaDtls *dtls = data;
  GSource *self = dtls->deadline_source;

  dtls->deadline_source = NULL;
  g_source_unref (self);
  finish (dtls, g_error_new (MEDIA_DTLS_ERROR, MEDIA_DTLS_ERROR_TIMEOUT,
                             dtls->state == DTLS_STATE_AWAIT_FINGERPRINT
                             ? "no remote fingerprint within %u ms"
                             : "handshake not complete within %u ms",
                             dtls->handshake_timeout_ms));
  return G_SOURCE_REMOVE;
}

/* ---- handshake -------------------------------------------------------- */

/* The handshake finished in OpenSSL: check SRTP and the fingerprint. */
static gboolean
check_completed (MediaDtls *dtls)
{
  X509 *peer;
  gboolean match;

  if (SSL_get_selected_srtp_profile (dtls->ssl) == NULL)
    return finish (dtls, g_error_new (MEDIA_DTLS_ERROR, MEDIA_DTLS_ERROR_NO_SRTP,
                                      "peer negotiated no SRTP protection profile"));
  if (dtls->remote_md == NULL)
    {
      dtls->state = DTLS_STATE_AWAIT_FINGERPRINT;
      schedule_retransmit (dtls);
      return TRUE;
    }
  peer = SSL_get0_peer_certificate (dtls->ssl);
  match = certificate_matches (dtls, peer);
  if (!match)
    {
      /* Tell the peer, which considers itself connected. */
      SSL_shutdown (dtls->ssl);
      ERR_clear_error ();
      return finish (dtls, g_error_new (MEDIA_DTLS_ERROR, MEDIA_DTLS_ERROR_FINGERPRINT,
                                        "peer certificate does not match the "
                                        "SDP fingerprint"));
    }
  return finish (dtls, NULL);
}

static GError *
handshake_error (MediaDtls *dtls, int ssl_error)
{
  g_autofree char *why = take_openssl_error ();

  if (dtls->fingerprint_rejected)
    return g_error_new (MEDIA_DTLS_ERROR, MEDIA_DTLS_ERROR_FINGERPRINT,
                        "peer certificate does not match the SDP fingerprint");
  if (ssl_error == SSL_ERROR_ZERO_RETURN)
    return g_error_new (MEDIA_DTLS_ERROR, MEDIA_DTLS_ERROR_CLOSED,
                        "peer closed before the handshake completed");
  return g_error_new (MEDIA_DTLS_ERROR, MEDIA_DTLS_ERROR_HANDSHAKE,
                      "handshake failed (SSL error %d): %s", ssl_error, why);
}

/* After the handshake: lets OpenSSL answer retransmitted handshake
 * records, discards application data (no data channel here yet), and
 * notices close_notify or a fatal alert. */
static gboolean
read_established (MediaDtls *dtls)
{
  guint8 sink[2048];
  int n, err;

  while ((n = SSL_read (dtls->ssl, sink, sizeof sink)) > 0)
    g_debug ("DTLS: discarded %d bytes of application data", n);
  err = SSL_get_error (dtls->ssl, n);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
    {
      ERR_clear_error ();
      return TRUE;
    }
  {
    g_autofree char *why = take_openssl_error ();
    g_info ("DTLS closed by peer: %s (SSL error %d)",
            err == SSL_ERROR_ZERO_RETURN ? "close_notify" : why, err);
  }
  if (dtls->state == DTLS_STATE_AWAIT_FINGERPRINT)
    return finish (dtls, g_error_new (MEDIA_DTLS_ERROR, MEDIA_DTLS_ERROR_CLOSED,
                                      "peer closed before its fingerprint arrived"));
  dtls->state = DTLS_STATE_CLOSED;
  clear_source (&dtls->retransmit_source);
  if (dtls->closed != NULL)
    {
      dtls->closed (dtls, dtls->user_data);
      return FALSE;
    }
  return TRUE;
}

/* Runs OpenSSL on the datagram in dtls->in_buf (or on none, to start).
 * Returns FALSE if a callback that may have freed @dtls was called. */
static gboolean
dtls_process (MediaDtls *dtls)
{
  int r, err;

  ERR_clear_error ();
  if (dtls->state == DTLS_STATE_HANDSHAKING)
    {
      r = SSL_do_handshake (dtls->ssl);
      if (r == 1)
        {
          dtls->in_buf = NULL;
          return check_completed (dtls);
        }
      err = SSL_get_error (dtls->ssl, r);
      dtls->in_buf = NULL;
      if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE)
        return finish (dtls, handshake_error (dtls, err));
      ERR_clear_error ();
      schedule_retransmit (dtls);
      return TRUE;
    }

  if (dtls->state == DTLS_STATE_ESTABLISHED || dtls->state == DTLS_STATE_AWAIT_FINGERPRINT)
    {
      gboolean alive = read_established (dtls);
      if (alive)
        {
          dtls->in_buf = NULL;
          schedule_retransmit (dtls);
        }
      return alive;
    }

  dtls->in_buf = NULL;
  return TRUE;
}

/* Smallest possible protected record (epoch >= 1) for the negotiated
 * cipher: explicit nonce + tag for AES-GCM (RFC 5288 §3), the tag for
 * ChaCha20-Poly1305 (RFC 7905), IV + one padded SHA-1 MAC block for the
 * CBC suites we offer.  OpenSSL 3.0 answers a shorter record with a fatal
 * internal_error alert instead of discarding it, so one forged 9-byte
 * datagram would tear down an established call. */
static size_t
min_protected_record_len (MediaDtls *dtls)
{
  const SSL_CIPHER *cipher = dtls->ssl != NULL ? SSL_get_current_cipher (dtls->ssl) : NULL;

  if (cipher == NULL)
    return 16;
  switch (SSL_CIPHER_get_cipher_nid (cipher))
    {
    case NID_aes_128_gcm:
    case NID_aes_256_gcm:
      return 8 + 16;
    case NID_chacha20_poly1305:
      return 16;
    default:
      return 16 + 32;
    }
}

/* RFC 6347 §4.1: a datagram is one or more whole records.  Anything else
 * never reaches OpenSSL: it is noise on the 5-tuple, not a protocol
 * event. */
static gboolean
looks_like_dtls (MediaDtls *dtls, const uint8_t *buf, size_t len)
{
  size_t off = 0;

  if (len < DTLS_RECORD_HEADER_LEN || len > DTLS_MAX_DATAGRAM)
    return FALSE;
  while (off < len)
    {
      size_t record_len;
      uint8_t type;

      if (len - off < DTLS_RECORD_HEADER_LEN)
        return FALSE;
      type = buf[off];
      /* change_cipher_spec, alert, handshake, application_data */
      if (type < 20 || type > 23)
        return FALSE;
      /* DTLS 1.0 (0xfeff, allowed in a ClientHello record) or 1.2 (0xfefd) */
      if (buf[off + 1] != 0xfe || (buf[off + 2] != 0xff && buf[off + 2] != 0xfd))
        return FALSE;
      record_len = (size_t) buf[off + 11] << 8 | buf[off + 12];
      if (record_len > DTLS_RECORD_MAX_LEN
          || record_len > len - off - DTLS_RECORD_HEADER_LEN)
        return FALSE;
      if ((buf[off + 3] != 0 || buf[off + 4] != 0)          /* epoch >= 1 */
          && record_len < min_protected_record_len (dtls))
        return FALSE;
      off += DTLS_RECORD_HEADER_LEN + record_len;
    }
  return TRUE;
}

/* ---- public API ------------------------------------------------------- */

static gboolean
setup_openssl (MediaDtls *dtls, GError **error)
{
  g_autofree char *profiles = NULL;
  GString *list;
  BIO *bio;

  ERR_clear_error ();
  dtls->ctx = SSL_CTX_new (DTLS_method ());
  if (dtls->ctx == NULL)
    goto fail;
  /* OpenSSL 3.0 has no DTLS 1.3; browsers fall back to 1.2. */
  if (SSL_CTX_set_min_proto_version (dtls->ctx, DTLS1_2_VERSION) != 1
      || SSL_CTX_set_max_proto_version (dtls->ctx, DTLS1_2_VERSION) != 1
      || SSL_CTX_use_certificate (dtls->ctx, media_certificate_get_x509 (dtls->cert)) != 1
      || SSL_CTX_use_PrivateKey (dtls->ctx, media_certificate_get_private_key (dtls->cert)) != 1
      || SSL_CTX_check_private_key (dtls->ctx) != 1
      || SSL_CTX_set_cipher_list (dtls->ctx, DTLS_CIPHERS) != 1
      || SSL_CTX_set1_groups_list (dtls->ctx, "X25519:P-256:P-384") != 1)
    goto fail;

  /* Offer only what this process's libsrtp can run (RFC 5764 §4.1.2,
   * RFC 7714 §14.2), preferring AEAD. */
  list = g_string_new (NULL);
  if (media_srtp_profile_is_supported (MEDIA_SRTP_AEAD_AES_128_GCM))
    g_string_append (list, "SRTP_AEAD_AES_128_GCM:");
  if (media_srtp_profile_is_supported (MEDIA_SRTP_AES128_CM_SHA1_80))
    g_string_append (list, "SRTP_AES128_CM_SHA1_80:");
  if (list->len == 0)
    {
      g_string_free (list, TRUE);
      g_set_error (error, MEDIA_DTLS_ERROR, MEDIA_DTLS_ERROR_INIT,
                   "libsrtp supports no SRTP profile we offer");
      return FALSE;
    }
  g_string_truncate (list, list->len - 1);
  profiles = g_string_free (list, FALSE);
  /* Returns 0 on success, unlike most of OpenSSL. */
  if (SSL_CTX_set_tlsext_use_srtp (dtls->ctx, profiles) != 0)
    goto fail;

  SSL_CTX_set_verify (dtls->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
  SSL_CTX_set_cert_verify_callback (dtls->ctx, verify_certificate, NULL);
  SSL_CTX_set_options (dtls->ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET
                       | SSL_OP_NO_RENEGOTIATION);

  dtls->ssl = SSL_new (dtls->ctx);
  if (dtls->ssl == NULL)
    goto fail;
  SSL_set_app_data (dtls->ssl, dtls);
  DTLS_set_timer_cb (dtls->ssl, retransmit_timer_cb);

  if (get_bio_method () == NULL || (bio = BIO_new (bio_method)) == NULL)
    goto fail;
  BIO_set_data (bio, dtls);
  SSL_set_bio (dtls->ssl, bio, bio);   /* one reference, taken by the SSL */
  /* After the BIO (OpenSSL asks it for its overhead); returns the MTU. */
  if (SSL_set_mtu (dtls->ssl, MEDIA_DTLS_MTU) != MEDIA_DTLS_MTU)
    goto fail;
  return TRUE;

fail:
  {
    g_autofree char *why = take_openssl_error ();
    g_set_error (error, MEDIA_DTLS_ERROR, MEDIA_DTLS_ERROR_INIT,
                 "OpenSSL DTLS set-up failed: %s", why);
  }
  return FALSE;
}

MediaDtls *
media_dtls_new (MediaCertificate *cert, GMainContext *context,
                MediaDtlsSendFunc send, MediaDtlsDoneFunc done, gpointer user_data)
{
  MediaDtls *dtls;

  g_return_val_if_fail (cert != NULL, NULL);
  g_return_val_if_fail (send != NULL, NULL);
  g_return_val_if_fail (done != NULL, NULL);

  dtls = g_new0 (MediaDtls, 1);
  dtls->cert = media_certificate_ref (cert);
  dtls->context = context != NULL ? g_main_context_ref (context)
                                  : g_main_context_ref_thread_default ();
  dtls->send = send;
  dtls->done = done;
  dtls->user_data = user_data;
  dtls->state = DTLS_STATE_NEW;
  dtls->handshake_timeout_ms = MEDIA_DTLS_HANDSHAKE_TIMEOUT_MS;
  g_queue_init (&dtls->early);

  if (!setup_openssl (dtls, &dtls->init_error))
    g_warning ("%s", dtls->init_error->message);
  return dtls;
}

void
media_dtls_free (MediaDtls *dtls)
{
  if (dtls == NULL)
    return;
  clear_source (&dtls->retransmit_source);
  clear_source (&dtls->deadline_source);
  clear_source (&dtls->verify_source);
  g_queue_clear_full (&dtls->early, (GDestroyNotify) g_bytes_unref);
  SSL_free (dtls->ssl);          /* frees the BIO */
  SSL_CTX_free (dtls->ctx);
  g_clear_error (&dtls->init_error);
  media_certificate_unref (dtls->cert);
  g_main_context_unref (dtls->context);
  OPENSSL_cleanse (dtls->remote_digest, sizeof dtls->remote_digest);
  g_free (dtls);
}

void
media_dtls_set_closed_func (MediaDtls *dtls, MediaDtlsClosedFunc closed)
{
  g_return_if_fail (dtls != NULL);
  dtls->closed = closed;
}

void
media_dtls_set_handshake_timeout (MediaDtls *dtls, guint timeout_ms)
{
  g_return_if_fail (dtls != NULL);
  g_return_if_fail (timeout_ms > 0);
  dtls->handshake_timeout_ms = timeout_ms;
}

static gboolean
on_verify_late (gpointer data)
{
  MediaDtls *dtls = data;
  GSource *self = dtls->verify_source;

  dtls->verify_source = NULL;
  g_source_unref (self);
  if (dtls->state == DTLS_STATE_AWAIT_FINGERPRINT)
    check_completed (dtls);
  return G_SOURCE_REMOVE;
}

gboolean
media_dtls_set_remote_fingerprint (MediaDtls *dtls, const char *hash,
                                   const char *fingerprint, GError **error)
{
  const EVP_MD *md;
  guint8 digest[EVP_MAX_MD_SIZE];
  guint len;

  g_return_val_if_fail (dtls != NULL, FALSE);
  g_return_val_if_fail (hash != NULL, FALSE);
  g_return_val_if_fail (fingerprint != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  md = md_for_hash_name (hash);
  if (md == NULL)
    {
      g_set_error (error, MEDIA_DTLS_ERROR, MEDIA_DTLS_ERROR_INVALID_FINGERPRINT,
                   "unsupported fingerprint hash \"%.16s\"", hash);
      return FALSE;
    }
  len = (guint) EVP_MD_get_size (md);
  if (!parse_fingerprint (fingerprint, digest, len))
    {
      g_set_error (error, MEDIA_DTLS_ERROR, MEDIA_DTLS_ERROR_INVALID_FINGERPRINT,
                   "malformed %s fingerprint (want %u colon-separated hex pairs)",
                   hash, len);
      return FALSE;
    }

  if (dtls->state == DTLS_STATE_ESTABLISHED || dtls->state == DTLS_STATE_CLOSED)
    {
      /* Already checked: a re-offer may repeat it, not change it. */
      if (md == dtls->remote_md && len == dtls->remote_digest_len
          && memcmp (digest, dtls->remote_digest, len) == 0)
        return TRUE;
      g_set_error (error, MEDIA_DTLS_ERROR, MEDIA_DTLS_ERROR_STATE,
                   "remote fingerprint changed after the handshake");
      return FALSE;
    }

  dtls->remote_md = md;
  memcpy (dtls->remote_digest, digest, len);
  dtls->remote_digest_len = len;

  if (dtls->state == DTLS_STATE_AWAIT_FINGERPRINT && dtls->verify_source == NULL)
    {
      dtls->verify_source = g_idle_source_new ();
      g_source_set_callback (dtls->verify_source, on_verify_late, dtls, NULL);
      g_source_attach (dtls->verify_source, dtls->context);
    }
  return TRUE;
}

void
media_dtls_start (MediaDtls *dtls, MediaDtlsRole role)
{
  GBytes *early;

  g_return_if_fail (dtls != NULL);
  g_return_if_fail (role == MEDIA_DTLS_ROLE_CLIENT || role == MEDIA_DTLS_ROLE_SERVER);
  g_return_if_fail (dtls->state == DTLS_STATE_NEW);

  dtls->role = role;
  dtls->state = DTLS_STATE_HANDSHAKING;
  if (dtls->init_error != NULL)
    {
      GError *e = dtls->init_error;
      dtls->init_error = NULL;
      finish (dtls, e);
      return;
    }

  dtls->deadline_source = g_timeout_source_new (dtls->handshake_timeout_ms);
  g_source_set_callback (dtls->deadline_source, on_deadline, dtls, NULL);
  g_source_attach (dtls->deadline_source, dtls->context);

  if (role == MEDIA_DTLS_ROLE_CLIENT)
    {
      SSL_set_connect_state (dtls->ssl);
      if (!dtls_process (dtls))     /* sends the ClientHello */
        return;
    }
  else
    SSL_set_accept_state (dtls->ssl);

  while ((early = g_queue_pop_head (&dtls->early)) != NULL)
    {
      gsize len;
      gboolean alive;

      dtls->in_buf = g_bytes_get_data (early, &len);
      dtls->in_len = len;
      alive = dtls_process (dtls);
      g_bytes_unref (early);
      if (!alive)
        return;
    }
}

void
media_dtls_handle_packet (MediaDtls *dtls, const uint8_t *buf, size_t len)
{
  g_return_if_fail (dtls != NULL);
  g_return_if_fail (buf != NULL || len == 0);

  if (!looks_like_dtls (dtls, buf, len))
    {
      dtls->dropped++;
      g_debug ("DTLS: dropped a malformed %zu-byte datagram", len);
      return;
    }

  switch (dtls->state)
    {
    case DTLS_STATE_NEW:
      if (g_queue_get_length (&dtls->early) >= DTLS_MAX_EARLY_PACKETS)
        {
          dtls->dropped++;
          return;
        }
      g_queue_push_tail (&dtls->early, g_bytes_new (buf, len));
      return;
    case DTLS_STATE_FAILED:
    case DTLS_STATE_CLOSED:
      dtls->dropped++;
      return;
    case DTLS_STATE_HANDSHAKING:
    case DTLS_STATE_AWAIT_FINGERPRINT:
    case DTLS_STATE_ESTABLISHED:
      dtls->in_buf = buf;
      dtls->in_len = len;
      dtls_process (dtls);
      return;
    }
}

void
media_dtls_close (MediaDtls *dtls)
{
  g_return_if_fail (dtls != NULL);

  if (dtls->state != DTLS_STATE_ESTABLISHED && dtls->state != DTLS_STATE_AWAIT_FINGERPRINT)
    return;
  ERR_clear_error ();
  SSL_shutdown (dtls->ssl);        /* close_notify through send() */
  ERR_clear_error ();
  dtls->state = DTLS_STATE_CLOSED;
  clear_source (&dtls->retransmit_source);
  clear_source (&dtls->deadline_source);
  clear_source (&dtls->verify_source);
}

gboolean
media_dtls_is_established (MediaDtls *dtls)
{
  g_return_val_if_fail (dtls != NULL, FALSE);
  return dtls->state == DTLS_STATE_ESTABLISHED;
}

guint64
media_dtls_get_dropped_packets (MediaDtls *dtls)
{
  g_return_val_if_fail (dtls != NULL, 0);
  return dtls->dropped;
}

gboolean
media_dtls_get_srtp_keys (MediaDtls *dtls, MediaSrtpProfile *profile,
                          uint8_t *local_key, uint8_t *remote_key, size_t *key_len)
{
  /* RFC 5764 §4.2: client_write_key | server_write_key |
   * client_write_salt | server_write_salt. */
  static const char label[] = "EXTRACTOR-dtls_srtp";
  uint8_t material[2 * MEDIA_SRTP_MAX_KEY_SALT_LEN];
  const SRTP_PROTECTION_PROFILE *selected;
  size_t k, s;
  const uint8_t *client_key, *server_key, *client_salt, *server_salt;
  uint8_t *client_out, *server_out;

  g_return_val_if_fail (dtls != NULL, FALSE);
  g_return_val_if_fail (local_key != NULL && remote_key != NULL && key_len != NULL, FALSE);

  if (dtls->state != DTLS_STATE_ESTABLISHED)
    return FALSE;
  selected = SSL_get_selected_srtp_profile (dtls->ssl);
  if (selected == NULL
      || !media_srtp_profile_get_key_lengths ((MediaSrtpProfile) selected->id, &k, &s)
      || *key_len < k + s)
    return FALSE;

  ERR_clear_error ();
  if (SSL_export_keying_material (dtls->ssl, material, 2 * (k + s),
                                  label, sizeof label - 1, NULL, 0, 0) != 1)
    {
      g_autofree char *why = take_openssl_error ();
      g_warning ("DTLS-SRTP key export failed: %s", why);
      return FALSE;
    }

  client_key = material;
  server_key = material + k;
  client_salt = material + 2 * k;
  server_salt = material + 2 * k + s;
  client_out = dtls->role == MEDIA_DTLS_ROLE_CLIENT ? local_key : remote_key;
  server_out = dtls->role == MEDIA_DTLS_ROLE_CLIENT ? remote_key : local_key;
  memcpy (client_out, client_key, k);
  memcpy (client_out + k, client_salt, s);
  memcpy (server_out, server_key, k);
  memcpy (server_out + k, server_salt, s);
  OPENSSL_cleanse (material, sizeof material);

  if (profile != NULL)
    *profile = (MediaSrtpProfile) selected->id;
  *key_len = k + s;
  return TRUE;
}
