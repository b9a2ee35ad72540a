/* test-vault.c — records/vault.c: round trip, random-offset reads across
 * chunk borders, cut files, tampering, wrong keys, the server key file. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "vault.h"

typedef struct {
  char *dir;
  guint8 key[32];
  char *key_id;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("test-vault-XXXXXX", &error);
  g_assert_no_error (error);
  g_assert_true (cau_vault_key_load (f->dir, f->key, &f->key_id, &error));
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_autoptr (GDir) d = g_dir_open (f->dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL) {
    g_autofree char *p = g_build_filename (f->dir, name, NULL);

    g_unlink (p);
  }
  g_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->key_id);
}

static guint8 *
pattern (gsize len, guint32 seed)
{
  guint8 *p = g_malloc (len);
  GRand *rand = g_rand_new_with_seed (seed);

  for (gsize i = 0; i < len; i++)
    p[i] = (guint8) g_rand_int (rand);
  g_rand_free (rand);
  return p;
}

/* Writes @len bytes of pattern(@seed) in pieces of @piece, calling flush
 * every @flush_every bytes (0: never), closing unless @cut. */
static char *
write_file (Fixture *f, const char *name, const guint8 *data, gsize len, gsize piece,
            gsize flush_every, gboolean close_it, char **sha)
{
  g_autoptr (GError) error = NULL;
  char *path = g_build_filename (f->dir, name, NULL);
  g_autoptr (CauVaultWriter) w = cau_vault_writer_new (path, f->key, f->key_id, &error);
  gsize since_flush = 0;

  g_assert_no_error (error);
  for (gsize off = 0; off < len; off += piece) {
    gsize n = MIN (piece, len - off);

    g_assert_true (cau_vault_writer_write (w, data + off, n, &error));
    g_assert_no_error (error);
    since_flush += n;
    if (flush_every > 0 && since_flush >= flush_every) {
      g_assert_true (cau_vault_writer_flush (w, &error));
      since_flush = 0;
    }
  }
  g_assert_cmpuint (cau_vault_writer_get_plain_size (w), ==, len);
  if (close_it) {
    guint64 size = 0;
    struct stat st;

    g_assert_true (cau_vault_writer_close (w, sha, &size, &error));
    g_assert_no_error (error);
    g_assert_cmpint (g_stat (path, &st), ==, 0);
    g_assert_cmpuint (size, ==, (guint64) st.st_size);
    g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  } else {
    /* The last flush is the last thing on disk. */
    g_assert_true (cau_vault_writer_flush (w, &error));
  }
  return path;
}

static void
assert_reads (CauVaultReader *r, const guint8 *data, gsize len)
{
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *all = g_malloc (len + 16);

  g_assert_cmpuint (cau_vault_reader_get_size (r), ==, len);
  g_assert_cmpint (cau_vault_reader_read (r, 0, all, len + 16, &error), ==, (gssize) len);
  g_assert_no_error (error);
  g_assert_cmpmem (all, len, data, len);
  g_assert_cmpint (cau_vault_reader_read (r, len, all, 16, &error), ==, 0);
  g_assert_cmpint (cau_vault_reader_read (r, len + 1000, all, 16, &error), ==, 0);
}

static void
test_round_trip (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gsize len = 3 * 1024 * 1024 + 12345;    /* three full chunks and a part */
  g_autofree guint8 *plain = pattern (len, 1);
  g_autofree char *sha = NULL, *sha2 = NULL;
  g_autofree char *path = write_file (f, "a.cauv", plain, len, 70000, 0, TRUE, &sha);
  g_autoptr (CauVaultReader) r = cau_vault_reader_open (path, f->key, &error);
  g_autofree char *raw = NULL;
  gsize raw_len = 0;

  g_assert_no_error (error);
  g_assert_true (cau_vault_reader_is_complete (r));
  g_assert_cmpstr (cau_vault_reader_get_key_id (r), ==, f->key_id);
  assert_reads (r, plain, len);
  g_assert_true (cau_vault_reader_verify (r, &error));
  g_assert_no_error (error);
  g_assert_true (cau_vault_file_sha256 (path, &sha2, &error));
  g_assert_cmpstr (sha, ==, sha2);
  g_assert_cmpuint (strlen (sha), ==, 64);
  /* Encrypted: no 64-byte run of the plaintext appears in the file. */
  g_assert_true (g_file_get_contents (path, &raw, &raw_len, NULL));
  g_assert_null (memmem (raw, raw_len, plain + 5000, 64));
}

static void
test_empty (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = write_file (f, "e.cauv", NULL, 0, 1, 0, TRUE, NULL);
  g_autoptr (CauVaultReader) r = cau_vault_reader_open (path, f->key, &error);
  guint8 b[4];

  g_assert_no_error (error);
  g_assert_true (cau_vault_reader_is_complete (r));
  g_assert_cmpuint (cau_vault_reader_get_size (r), ==, 0);
  g_assert_cmpint (cau_vault_reader_read (r, 0, b, sizeof b, &error), ==, 0);
}

static void
test_random_offsets (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gsize len = 600000;
  g_autofree guint8 *plain = pattern (len, 2);
  /* Flushes every ~10 kB: chunks of uneven sizes, many borders. */
  g_autofree char *path = write_file (f, "b.cauv", plain, len, 3333, 10000, TRUE, NULL);
  g_autoptr (CauVaultReader) r = cau_vault_reader_open (path, f->key, &error);
  GRand *rand = g_rand_new_with_seed (3);
  g_autofree guint8 *buf = g_malloc (50000);

  g_assert_no_error (error);
  for (int i = 0; i < 2000; i++) {
    guint64 off = g_rand_int_range (rand, 0, (gint32) len + 10);
    gsize want = g_rand_int_range (rand, 1, 50000);
    gsize expect = off >= len ? 0 : MIN (want, len - off);
    gssize got = cau_vault_reader_read (r, off, buf, want, &error);

    g_assert_no_error (error);
    g_assert_cmpint (got, ==, (gssize) expect);
    if (expect > 0)
      g_assert_cmpmem (buf, expect, plain + off, expect);
  }
  g_rand_free (rand);
}

static void
test_truncated (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gsize len = 100000;
  g_autofree guint8 *plain = pattern (len, 4);
  g_autofree char *path = write_file (f, "c.cauv", plain, len, 1000, 20000, FALSE, NULL);
  struct stat st;

  /* Not closed: five flushed chunks of 20000, no final chunk. */
  {
    g_autoptr (CauVaultReader) r = cau_vault_reader_open (path, f->key, &error);

    g_assert_no_error (error);
    g_assert_false (cau_vault_reader_is_complete (r));
    assert_reads (r, plain, len);
  }
  /* Cut inside the last chunk (as a kill -9 mid-write would): readable up to
   * the last whole chunk. */
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (truncate (path, st.st_size - 7), ==, 0);
  {
    g_autoptr (CauVaultReader) r = cau_vault_reader_open (path, f->key, &error);

    g_assert_no_error (error);
    g_assert_false (cau_vault_reader_is_complete (r));
    assert_reads (r, plain, 80000);
  }
  /* Cut inside a chunk header too. */
  g_assert_cmpint (truncate (path, st.st_size - 20016 - 2), ==, 0);
  {
    g_autoptr (CauVaultReader) r = cau_vault_reader_open (path, f->key, &error);

    g_assert_no_error (error);
    assert_reads (r, plain, 80000);
  }
}

static void
flip_byte (const char *path, goffset at)
{
  int fd = open (path, O_RDWR);
  guint8 b;

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (pread (fd, &b, 1, at), ==, 1);
  b ^= 0x10;
  g_assert_cmpint (pwrite (fd, &b, 1, at), ==, 1);
  close (fd);
}

static void
test_flipped_bit (Fixture *f, gconstpointer data)
{
  gsize len = 50000;
  g_autofree guint8 *plain = pattern (len, 5);
  g_autofree char *path = write_file (f, "d.cauv", plain, len, 5000, 10000, TRUE, NULL);
  g_autofree guint8 *buf = g_malloc (len);
  struct stat st;

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  /* A byte in the middle of the file's ciphertext. */
  flip_byte (path, st.st_size / 2);
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (CauVaultReader) r = cau_vault_reader_open (path, f->key, &error);

    g_assert_no_error (error);
    g_assert_cmpint (cau_vault_reader_read (r, 0, buf, len, &error), ==, -1);
    g_assert_error (error, CAU_VAULT_ERROR, CAU_VAULT_ERROR_INTEGRITY);
    g_clear_error (&error);
    g_assert_false (cau_vault_reader_verify (r, &error));
    g_assert_error (error, CAU_VAULT_ERROR, CAU_VAULT_ERROR_INTEGRITY);
  }
  flip_byte (path, st.st_size / 2);
  /* The final flag of the last chunk (5 + 0 + 16 bytes from the end). */
  flip_byte (path, st.st_size - 17);
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (CauVaultReader) r = cau_vault_reader_open (path, f->key, &error);

    /* Either refused as a format error or the tag fails (the last chunk
     * is empty, so already when the file is opened): never accepted. */
    if (r != NULL) {
      g_assert_false (cau_vault_reader_verify (r, &error));
      g_assert_error (error, CAU_VAULT_ERROR, CAU_VAULT_ERROR_INTEGRITY);
    } else {
      g_assert_true (g_error_matches (error, CAU_VAULT_ERROR, CAU_VAULT_ERROR_FORMAT) ||
                     g_error_matches (error, CAU_VAULT_ERROR, CAU_VAULT_ERROR_INTEGRITY));
    }
  }
  flip_byte (path, st.st_size - 17);
  /* The nonce prefix in the header: every chunk fails, the empty final one
   * already when the file is opened. */
  flip_byte (path, 8 + 2 + strlen (f->key_id) + 12 + 32 + 16);
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (CauVaultReader) r = cau_vault_reader_open (path, f->key, &error);

    g_assert_null (r);
    g_assert_error (error, CAU_VAULT_ERROR, CAU_VAULT_ERROR_INTEGRITY);
  }
}

static void
test_reordered (Fixture *f, gconstpointer data)
{
  gsize len = 40000;
  g_autofree guint8 *plain = pattern (len, 6);
  /* Four chunks of 10000 plus an empty final one. */
  g_autofree char *path = write_file (f, "r.cauv", plain, len, 10000, 10000, TRUE, NULL);
  g_autofree char *path2 = write_file (f, "r2.cauv", plain, len, 10000, 10000, TRUE, NULL);
  g_autofree char *raw = NULL, *raw2 = NULL;
  gsize raw_len = 0, raw2_len = 0;
  gsize header = 8 + 2 + strlen (f->key_id) + 12 + 32 + 16 + 4;
  gsize chunk = 5 + 10000 + 16;
  g_autofree guint8 *buf = g_malloc (len);

  g_assert_true (g_file_get_contents (path, &raw, &raw_len, NULL));
  g_assert_true (g_file_get_contents (path2, &raw2, &raw2_len, NULL));
  g_assert_cmpuint (raw_len, ==, header + 4 * chunk + 5 + 16);

  /* Swap chunks 1 and 2. */
  {
    g_autofree char *swapped = g_memdup2 (raw, raw_len);
    g_autoptr (GError) error = NULL;
    g_autoptr (CauVaultReader) r = NULL;

    memcpy (swapped + header + chunk, raw + header + 2 * chunk, chunk);
    memcpy (swapped + header + 2 * chunk, raw + header + chunk, chunk);
    g_assert_true (g_file_set_contents (path, swapped, raw_len, NULL));
    r = cau_vault_reader_open (path, f->key, &error);
    g_assert_no_error (error);
    /* Chunk 0 is intact, chunk 1 is not where it belongs. */
    g_assert_cmpint (cau_vault_reader_read (r, 0, buf, 10000, &error), ==, 10000);
    g_assert_cmpint (cau_vault_reader_read (r, 10000, buf, 10, &error), ==, -1);
    g_assert_error (error, CAU_VAULT_ERROR, CAU_VAULT_ERROR_INTEGRITY);
  }
  /* Drop chunk 1. */
  {
    g_autofree char *dropped = g_malloc (raw_len);
    g_autoptr (GError) error = NULL;
    g_autoptr (CauVaultReader) r = NULL;

    memcpy (dropped, raw, header + chunk);
    memcpy (dropped + header + chunk, raw + header + 2 * chunk, raw_len - header - 2 * chunk);
    g_assert_true (g_file_set_contents (path, dropped, raw_len - chunk, NULL));
    /* the empty final chunk is now chunk 3, its tag says 4: refused as soon
     * as the file is opened */
    r = cau_vault_reader_open (path, f->key, &error);
    g_assert_null (r);
    g_assert_error (error, CAU_VAULT_ERROR, CAU_VAULT_ERROR_INTEGRITY);
  }
  /* Chunk 1 of another file (same key, same plaintext) in its place. */
  {
    g_autofree char *mixed = g_memdup2 (raw, raw_len);
    g_autoptr (GError) error = NULL;
    g_autoptr (CauVaultReader) r = NULL;

    memcpy (mixed + header + chunk, raw2 + header + chunk, chunk);
    g_assert_true (g_file_set_contents (path, mixed, raw_len, NULL));
    r = cau_vault_reader_open (path, f->key, &error);
    g_assert_no_error (error);
    g_assert_false (cau_vault_reader_verify (r, &error));
    g_assert_error (error, CAU_VAULT_ERROR, CAU_VAULT_ERROR_INTEGRITY);
  }
  /* The final chunk removed: reads as interrupted, the rest intact. */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (CauVaultReader) r = NULL;

    g_assert_true (g_file_set_contents (path, raw, raw_len - 21, NULL));
    r = cau_vault_reader_open (path, f->key, &error);
    g_assert_no_error (error);
    g_assert_false (cau_vault_reader_is_complete (r));
    g_assert_true (cau_vault_reader_verify (r, &error));
    assert_reads (r, plain, len);
  }
  /* Bytes after the final chunk. */
  {
    g_autofree char *longer = g_malloc (raw_len + 30);
    g_autoptr (GError) error = NULL;

    memcpy (longer, raw, raw_len);
    memset (longer + raw_len, 0, 30);
    g_assert_true (g_file_set_contents (path, longer, raw_len + 30, NULL));
    g_assert_null (cau_vault_reader_open (path, f->key, &error));
    g_assert_error (error, CAU_VAULT_ERROR, CAU_VAULT_ERROR_FORMAT);
  }
}

static void
test_wrong_key (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *plain = pattern (1000, 7);
  g_autofree char *path = write_file (f, "k.cauv", plain, 1000, 100, 0, TRUE, NULL);
  guint8 other[32];

  memcpy (other, f->key, 32);
  other[31] ^= 1;
  g_assert_null (cau_vault_reader_open (path, other, &error));
  g_assert_error (error, CAU_VAULT_ERROR, CAU_VAULT_ERROR_KEY);
}

static void
test_not_vault (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (f->dir, "n.cauv", NULL);
  g_autofree char *missing = g_build_filename (f->dir, "missing", NULL);

  g_assert_true (g_file_set_contents (path, "CAUVAULT\x01\x00", 10, NULL));
  g_assert_null (cau_vault_reader_open (path, f->key, &error));
  g_assert_error (error, CAU_VAULT_ERROR, CAU_VAULT_ERROR_FORMAT);
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (path, "not a vault", -1, NULL));
  g_assert_null (cau_vault_reader_open (path, f->key, &error));
  g_assert_error (error, CAU_VAULT_ERROR, CAU_VAULT_ERROR_FORMAT);
  g_clear_error (&error);
  g_assert_null (cau_vault_reader_open (missing, f->key, &error));
  g_assert_error (error, CAU_VAULT_ERROR, CAU_VAULT_ERROR_IO);
  g_clear_error (&error);
  /* The writer never overwrites. */
  g_assert_null (cau_vault_writer_new (path, f->key, f->key_id, &error));
  g_assert_error (error, CAU_VAULT_ERROR, CAU_VAULT_ERROR_IO);
  g_clear_error (&error);
  g_assert_null (cau_vault_writer_new (missing, f->key, "", &error));
  g_assert_error (error, CAU_VAULT_ERROR, CAU_VAULT_ERROR_KEY);
}

static void
test_key_file (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (f->dir, "recording.key", NULL);
  g_autofree char *id = NULL;
  guint8 again[32];
  struct stat st;

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_cmpint (st.st_size, ==, 32);
  g_assert_true (g_str_has_prefix (f->key_id, "k1-"));
  /* Loading again gives the same key and id. */
  g_assert_true (cau_vault_key_load (f->dir, again, &id, &error));
  g_assert_cmpmem (again, 32, f->key, 32);
  g_assert_cmpstr (id, ==, f->key_id);
  /* Group-readable: refused. */
  g_assert_cmpint (g_chmod (path, 0640), ==, 0);
  g_assert_false (cau_vault_key_load (f->dir, again, NULL, &error));
  g_assert_error (error, CAU_VAULT_ERROR, CAU_VAULT_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "chmod 600"));
  g_clear_error (&error);
  /* Wrong length: refused. */
  g_assert_cmpint (g_chmod (path, 0600), ==, 0);
  g_assert_cmpint (truncate (path, 31), ==, 0);
  g_assert_false (cau_vault_key_load (f->dir, again, NULL, &error));
  g_assert_error (error, CAU_VAULT_ERROR, CAU_VAULT_ERROR_IO);
}

/* The final chunk is often empty (a flush, then close), and no read loads
 * an empty chunk: its tag is checked when the file is opened.  A genuine
 * one passes; a forged one appended to a cut file (to make it look
 * complete) is refused. */
static void
test_forged_final (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gsize len = 60000;
  g_autofree guint8 *plain = pattern (len, 6);
  /* flushed every 20000: the close writes an empty final chunk */
  g_autofree char *closed = write_file (f, "e.cauv", plain, len, 1000, 20000, TRUE, NULL);
  g_autofree char *cut = write_file (f, "f.cauv", plain, len, 1000, 20000, FALSE, NULL);
  static const guint8 forged[5 + 16] = { 0, 0, 0, 0, 0x01 };   /* length 0, final */

  {
    g_autoptr (CauVaultReader) r = cau_vault_reader_open (closed, f->key, &error);

    g_assert_no_error (error);
    g_assert_true (cau_vault_reader_is_complete (r));
    assert_reads (r, plain, len);
  }
  {
    FILE *fp = fopen (cut, "ab");

    g_assert_nonnull (fp);
    g_assert_cmpuint (fwrite (forged, 1, sizeof forged, fp), ==, sizeof forged);
    g_assert_cmpint (fclose (fp), ==, 0);
  }
  g_assert_null (cau_vault_reader_open (cut, f->key, &error));
  g_assert_error (error, CAU_VAULT_ERROR, CAU_VAULT_ERROR_INTEGRITY);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(name, fn) g_test_add ("/vault/" name, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("round-trip", test_round_trip);
  ADD ("empty", test_empty);
  ADD ("random-offsets", test_random_offsets);
  ADD ("truncated", test_truncated);
  ADD ("forged-final", test_forged_final);
  ADD ("flipped-bit", test_flipped_bit);
  ADD ("reordered", test_reordered);
  ADD ("wrong-key", test_wrong_key);
  ADD ("not-vault", test_not_vault);
  ADD ("key-file", test_key_file);
#undef ADD
  return g_test_run ();
}
