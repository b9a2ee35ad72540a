/* certificate.c — self-signed ECDSA certificate and its fingerprint. */
#include "certificate.h"
#include "dtls.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#define CERTIFICATE_VALID_DAYS 30
#define CERTIFICATE_SKEW_SECONDS 3600

struct MediaCertificate {
  gatomicrefcount ref_count;
  X509 *x509;
  EVP_PKEY *key;
  char fingerprint[32 * 3];   /* "AB:" x 32, last ':' becomes NUL */
};

/* Writes the last OpenSSL error of this thread into @error and clears the
 * queue, so that a later caller does not see a stale error. */
static void
set_openssl_error (GError **error, const char *what)
{
  unsigned long code = ERR_get_error ();
  char buf[256];

  if (code != 0)
    ERR_error_string_n (code, buf, sizeof buf);
  else
    g_strlcpy (buf, "unknown error", sizeof buf);
  ERR_clear_error ();
  g_set_error (error, MEDIA_DTLS_ERROR, MEDIA_DTLS_ERROR_CERTIFICATE,
               "%s: %s", what, buf);
}

static gboolean
set_random_serial (X509 *x509)
{
  unsigned char bytes[8];
  BIGNUM *bn = NULL;
  gboolean ok = FALSE;

  if (RAND_bytes (bytes, sizeof bytes) != 1)
    return FALSE;
  bytes[0] &= 0x7f;           /* positive INTEGER (RFC 5280 §4.1.2.2) */
  bytes[0] |= 0x01;           /* and never zero */
  bn = BN_bin2bn (bytes, sizeof bytes, NULL);
  if (bn != NULL && BN_to_ASN1_INTEGER (bn, X509_get_serialNumber (x509)) != NULL)
    ok = TRUE;
  BN_free (bn);
  return ok;
}

MediaCertificate *
media_certificate_new (GError **error)
{
  MediaCertificate *cert = NULL;
  EVP_PKEY *key = NULL;
  X509 *x509 = NULL;
  X509_NAME *name;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  ERR_clear_error ();
  key = EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-256");
  if (key == NULL)
    {
      set_openssl_error (error, "P-256 key generation failed");
      goto fail;
    }

  x509 = X509_new ();
  if (x509 == NULL
      || X509_set_version (x509, X509_VERSION_3) != 1
      || !set_random_serial (x509)
      || X509_gmtime_adj (X509_getm_notBefore (x509), -CERTIFICATE_SKEW_SECONDS) == NULL
      || X509_gmtime_adj (X509_getm_notAfter (x509),
                          (long) CERTIFICATE_VALID_DAYS * 24 * 3600) == NULL
      || X509_set_pubkey (x509, key) != 1)
    {
      set_openssl_error (error, "cannot fill certificate");
      goto fail;
    }

  name = X509_get_subject_name (x509);
  if (X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_ASC,
                                  (const unsigned char *) "cau", -1, -1, 0) != 1
      || X509_set_issuer_name (x509, name) != 1)
    {
      set_openssl_error (error, "cannot set certificate name");
      goto fail;
    }

  if (X509_sign (x509, key, EVP_sha256 ()) == 0)
    {
      set_openssl_error (error, "cannot sign certificate");
      goto fail;
    }

  if (X509_digest (x509, EVP_sha256 (), md, &md_len) != 1 || md_len != 32)
    {
      set_openssl_error (error, "cannot digest certificate");
      goto fail;
    }

  cert = g_new0 (MediaCertificate, 1);
  g_atomic_ref_count_init (&cert->ref_count);
  cert->x509 = x509;
  cert->key = key;
  for (unsigned int i = 0; i < md_len; i++)
    {
      static const char hex[] = "0123456789ABCDEF";
      cert->fingerprint[3 * i] = hex[md[i] >> 4];
      cert->fingerprint[3 * i + 1] = hex[md[i] & 0x0f];
      cert->fingerprint[3 * i + 2] = ':';
    }
  cert->fingerprint[3 * md_len - 1] = '\0';
  return cert;

fail:
  X509_free (x509);
  EVP_PKEY_free (key);
  return NULL;
}

MediaCertificate *
media_certificate_ref (MediaCertificate *cert)
{
  g_return_val_if_fail (cert != NULL, NULL);
  g_atomic_ref_count_inc (&cert->ref_count);
  return cert;
}

void
media_certificate_unref (MediaCertificate *cert)
{
  if (cert == NULL)
    return;
  if (!g_atomic_ref_count_dec (&cert->ref_count))
    return;
  X509_free (cert->x509);
  EVP_PKEY_free (cert->key);
  g_free (cert);
}

const char *
media_certificate_get_fingerprint (MediaCertificate *cert)
{
  g_return_val_if_fail (cert != NULL, NULL);
  return cert->fingerprint;
}

struct x509_st *
media_certificate_get_x509 (MediaCertificate *cert)
{
  g_return_val_if_fail (cert != NULL, NULL);
  return cert->x509;
}

struct evp_pkey_st *
media_certificate_get_private_key (MediaCertificate *cert)
{
  g_return_val_if_fail (cert != NULL, NULL);
  return cert->key;
}
