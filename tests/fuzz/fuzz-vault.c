/* fuzz-vault.c — libFuzzer target for the reader of records/vault.c (the
 * header and the chunk walk of encrypted recording files).
 *
 * The input is a whole file, opened with a fixed server key (0x42 × 32; the
 * seeds in corpus/vault/ are written with it by make-vault-corpus.py, so
 * mutations reach the chunk walk and the tags).  Invariants (trap on
 * violation): opening either fails with FORMAT, KEY, IO or INTEGRITY (an
 * empty chunk's tag) or gives a plaintext size no larger than the input; a read never returns more than
 * asked or more than is left, and fails only with INTEGRITY (or IO);
 * reading everything succeeds exactly when verify does; a complete file
 * has no bytes after its final chunk. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vault.h"

#define CHECK(cond) do { if (!(cond)) __builtin_trap (); } while (0)

static guint8 out[64 * 1024];

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  guint8 key[32];
  char path[64];
  GError *error = NULL;
  CauVaultReader *r;
  int fd;

  if (size > 4 * 1024 * 1024)
    return 0;
  memset (key, 0x42, sizeof key);
  fd = memfd_create ("fuzz-vault", MFD_CLOEXEC);
  if (fd < 0)
    return 0;
  if (size > 0 && write (fd, data, size) != (ssize_t) size) {
    close (fd);
    return 0;
  }
  snprintf (path, sizeof path, "/proc/self/fd/%d", fd);

  r = cau_vault_reader_open (path, key, &error);
  if (r == NULL) {
    CHECK (error != NULL && error->domain == CAU_VAULT_ERROR);
    CHECK (error->code == CAU_VAULT_ERROR_FORMAT || error->code == CAU_VAULT_ERROR_KEY ||
           error->code == CAU_VAULT_ERROR_IO || error->code == CAU_VAULT_ERROR_INTEGRITY);
    g_clear_error (&error);
  } else {
    guint64 total = cau_vault_reader_get_size (r), done = 0;
    gboolean all_ok = TRUE, verified;

    CHECK (total <= size);
    while (done < total) {
      gssize n = cau_vault_reader_read (r, done, out, sizeof out, &error);

      if (n < 0) {
        CHECK (error != NULL && (error->code == CAU_VAULT_ERROR_INTEGRITY ||
                                 error->code == CAU_VAULT_ERROR_IO));
        g_clear_error (&error);
        all_ok = FALSE;
        break;
      }
      CHECK (n > 0 && (guint64) n <= MIN (sizeof out, total - done));
      done += (guint64) n;
    }
    CHECK (cau_vault_reader_read (r, total, out, sizeof out, NULL) == 0);
    /* A read straddling the middle. */
    if (total > 2) {
      gssize n = cau_vault_reader_read (r, total / 2, out, 3, &error);

      CHECK (n == -1 || (guint64) n == MIN (3, total - total / 2));
      g_clear_error (&error);
    }
    verified = cau_vault_reader_verify (r, &error);
    CHECK (verified == all_ok);
    CHECK (verified || error != NULL);
    g_clear_error (&error);
    cau_vault_reader_free (r);
  }
  close (fd);
  return 0;
}
