/* vault-cat.c — decrypts a vault file (records/vault.h) for the recording
 * integration tests, independent of cau and the store:
 *   vault-cat KEY_DIR IN OUT
 * writes the plaintext to OUT and prints {"complete":B,"size":N}.  Exit 0,
 * 2 on an integrity failure (nothing trustworthy written), 1 otherwise. */
#include <stdio.h>
#include <glib.h>

#include "vault.h"

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CauVaultReader) r = NULL;
  g_autofree char *key_id = NULL;
  g_autofree guint8 *buf = g_malloc (1 << 20);
  guint8 key[32];
  guint64 offset = 0;
  FILE *out;

  if (argc != 4) {
    fprintf (stderr, "usage: vault-cat KEY_DIR IN OUT\n");
    return 1;
  }
  if (!cau_vault_key_load (argv[1], key, &key_id, &error) ||
      (r = cau_vault_reader_open (argv[2], key, &error)) == NULL) {
    fprintf (stderr, "vault-cat: %s\n", error->message);
    return 1;
  }
  out = fopen (argv[3], "wb");
  if (out == NULL) {
    perror (argv[3]);
    return 1;
  }
  for (;;) {
    gssize n = cau_vault_reader_read (r, offset, buf, 1 << 20, &error);

    if (n < 0) {
      fprintf (stderr, "vault-cat: %s\n", error->message);
      fclose (out);
      return error->code == CAU_VAULT_ERROR_INTEGRITY ? 2 : 1;
    }
    if (n == 0)
      break;
    if (fwrite (buf, 1, (size_t) n, out) != (size_t) n) {
      perror (argv[3]);
      fclose (out);
      return 1;
    }
    offset += (guint64) n;
  }
  fclose (out);
  printf ("{\"complete\":%s,\"size\":%" G_GUINT64_FORMAT "}\n",
          cau_vault_reader_is_complete (r) ? "true" : "false", offset);
  return 0;
}
