/* tls-certificate.h — the HTTPS certificate for local use.
 *
 * When neither the certificate nor the key file exists, caud makes a
 * self-signed ECDSA P-256 certificate (SAN: localhost, 127.0.0.1, ::1,
 * valid one year) so that a first run serves HTTPS at once.  The key is
 * written with mode 0600.  A real deployment points tls-cert / tls-key at
 * its own files.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Ensures @cert_path and @key_path exist.  If both exist, does nothing.
 * If exactly one exists, fails (a half pair is an operator mistake that we
 * must not paper over by overwriting).  Otherwise creates parent
 * directories (0700) and writes a new pair.  Sets *@generated when it wrote
 * files.  OpenSSL errors are reported in @error (G_IO_ERROR). */
gboolean server_certificate_ensure (const char *cert_path, const char *key_path,
                                    gboolean *generated, GError **error);

G_END_DECLS
