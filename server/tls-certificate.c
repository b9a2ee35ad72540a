/* tls-certificate.c — self-signed ECDSA P-256 certificate with OpenSSL 3. */
#include "tls-certificate.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <unistd.h>

/* OpenSSL's error queue into one message, in one place (STYLE §3). */
static void
set_openssl_error (GError **error, const char *what)
{
  char buffer[256] = "unknown error";
  unsigned long code = ERR_get_error ();

  if (code != 0)
    ERR_error_string_n (code, buffer, sizeof buffer);
  ERR_clear_error ();
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", what, buffer);
}

static gboolean
add_extension (X509 *cert, int nid, const char *value)
{
  X509V3_CTX ctx;
  X509_EXTENSION *extension;
  gboolean ok;

  X509V3_set_ctx_nodb (&ctx);
  X509V3_set_ctx (&ctx, cert, cert, NULL, NULL, 0);
  extension = X509V3_EXT_conf_nid (NULL, &ctx, nid, value);
  if (extension == NULL)
    return FALSE;
  ok = X509_add_ext (cert, extension, -1) == 1;
  X509_EXTENSION_free (extension);
  return ok;
}

static X509 *
make_certificate (EVP_PKEY *key, GError **error)
{
  X509 *cert = X509_new ();
  X509_NAME *name;
  unsigned char serial[16];
  BIGNUM *serial_bn = NULL;

  if (cert == NULL)
    goto fail;
  if (RAND_bytes (serial, sizeof serial) != 1)
    goto fail;
  serial[0] &= 0x7f;     /* RFC 5280 §4.1.2.2: positive */
  serial_bn = BN_bin2bn (serial, sizeof serial, NULL);
  if (serial_bn == NULL || BN_to_ASN1_INTEGER (serial_bn, X509_get_serialNumber (cert)) == NULL)
    goto fail;
  if (X509_set_version (cert, 2) != 1
      || X509_gmtime_adj (X509_getm_notBefore (cert), -60 * 60) == NULL
      || X509_gmtime_adj (X509_getm_notAfter (cert), 365L * 24 * 60 * 60) == NULL
      || X509_set_pubkey (cert, key) != 1)
    goto fail;
  name = X509_get_subject_name (cert);
  if (X509_NAME_add_entry_by_txt (name, "O", MBSTRING_UTF8, (const unsigned char *) "Cầu", -1, -1, 0) != 1
      || X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_ASC, (const unsigned char *) "localhost", -1, -1, 0) != 1
      || X509_set_issuer_name (cert, name) != 1)
    goto fail;
  if (!add_extension (cert, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1")
      || !add_extension (cert, NID_basic_constraints, "critical,CA:FALSE")
      || !add_extension (cert, NID_key_usage, "critical,digitalSignature")
      || !add_extension (cert, NID_ext_key_usage, "serverAuth")
      || !add_extension (cert, NID_subject_key_identifier, "hash"))
    goto fail;
  if (X509_sign (cert, key, EVP_sha256 ()) == 0)
    goto fail;
  BN_free (serial_bn);
  return cert;

fail:
  set_openssl_error (error, "cannot make a certificate");
  BN_free (serial_bn);
  X509_free (cert);
  return NULL;
}

/* Opens @path for writing a new file with @mode; refuses to follow an
 * existing file or link. */
static FILE *
create_file (const char *path, int mode, GError **error)
{
  int fd = g_open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  FILE *file;

  if (fd < 0) {
    int saved = errno;
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "cannot create %s: %s", path,
                 g_strerror (saved));
    return NULL;
  }
  file = fdopen (fd, "w");
  if (file == NULL) {
    close (fd);
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot open %s", path);
  }
  return file;
}

gboolean
server_certificate_ensure (const char *cert_path, const char *key_path, gboolean *generated,
                           GError **error)
{
  gboolean have_cert, have_key, ok = FALSE;
  EVP_PKEY *key = NULL;
  X509 *cert = NULL;
  FILE *file = NULL;
  g_autofree char *cert_dir = NULL;
  g_autofree char *key_dir = NULL;

  g_return_val_if_fail (cert_path != NULL && key_path != NULL, FALSE);

  if (generated)
    *generated = FALSE;
  have_cert = g_file_test (cert_path, G_FILE_TEST_EXISTS);
  have_key = g_file_test (key_path, G_FILE_TEST_EXISTS);
  if (have_cert && have_key)
    return TRUE;
  if (have_cert != have_key) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                 "%s exists but %s does not; provide both or neither",
                 have_cert ? cert_path : key_path, have_cert ? key_path : cert_path);
    return FALSE;
  }

  cert_dir = g_path_get_dirname (cert_path);
  key_dir = g_path_get_dirname (key_path);
  if (g_mkdir_with_parents (cert_dir, 0700) != 0 || g_mkdir_with_parents (key_dir, 0700) != 0) {
    int saved = errno;
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "cannot create %s: %s",
                 key_dir, g_strerror (saved));
    return FALSE;
  }

  key = EVP_EC_gen ("P-256");
  if (key == NULL) {
    set_openssl_error (error, "cannot generate a P-256 key");
    goto out;
  }
  cert = make_certificate (key, error);
  if (cert == NULL)
    goto out;

  file = create_file (key_path, 0600, error);
  if (file == NULL)
    goto out;
  if (PEM_write_PrivateKey (file, key, NULL, NULL, 0, NULL, NULL) != 1) {
    set_openssl_error (error, "cannot write the key");
    goto out;
  }
  if (fclose (file) != 0) {
    file = NULL;
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot write %s", key_path);
    goto out;
  }
  file = create_file (cert_path, 0644, error);
  if (file == NULL)
    goto out;
  if (PEM_write_X509 (file, cert) != 1) {
    set_openssl_error (error, "cannot write the certificate");
    goto out;
  }
  if (fclose (file) != 0) {
    file = NULL;
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot write %s", cert_path);
    goto out;
  }
  file = NULL;
  if (generated)
    *generated = TRUE;
  ok = TRUE;

out:
  if (file)
    fclose (file);
  if (!ok) {
    /* Leave no half pair behind: the next start would refuse it. */
    if (!have_key)
      g_unlink (key_path);
    if (!have_cert)
      g_unlink (cert_path);
  }
  X509_free (cert);
  EVP_PKEY_free (key);
  return ok;
}
