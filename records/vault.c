/* vault.c — chunked AES-256-GCM recording files (vault.h). */
#include "vault.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define MAGIC "CAUVAULT"
#define MAGIC_LEN 8
#define VERSION 1
#define NONCE_LEN 12
#define TAG_LEN 16
#define KEY_LEN 32
#define PREFIX_LEN 4
#define CHUNK_HEADER_LEN 5
#define FLAG_FINAL 0x01
#define HEADER_MAX (MAGIC_LEN + 2 + CAU_VAULT_KEY_ID_MAX + NONCE_LEN + KEY_LEN + TAG_LEN + PREFIX_LEN)
#define AUTO_FLUSH_US G_USEC_PER_SEC

G_DEFINE_QUARK (cau-vault-error-quark, cau_vault_error)

/* ---- helpers ------------------------------------------------------------ */

static void
put_u32 (guint8 *p, guint32 v)
{
  p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}

static void
put_u64 (guint8 *p, guint64 v)
{
  for (int i = 0; i < 8; i++)
    p[i] = (guint8) (v >> (56 - 8 * i));
}

static guint32
get_u32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

static gboolean
set_io_error (GError **error, const char *what, const char *path, int err)
{
  g_set_error (error, CAU_VAULT_ERROR, CAU_VAULT_ERROR_IO, "%s %s: %s", what, path,
               g_strerror (err));
  return FALSE;
}

static gboolean
write_all (int fd, const guint8 *p, gsize len, const char *path, GError **error)
{
  while (len > 0) {
    ssize_t n = write (fd, p, len);

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return set_io_error (error, "writing", path, n < 0 ? errno : ENOSPC);
    p += n;
    len -= (gsize) n;
  }
  return TRUE;
}

/* Reads exactly @len bytes at @offset: 1, 0 at a short read (end of file),
 * -1 on error. */
static int
pread_all (int fd, guint8 *p, gsize len, guint64 offset)
{
  while (len > 0) {
    ssize_t n = pread (fd, p, len, (off_t) offset);

    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    if (n == 0)
      return 0;
    p += n;
    len -= (gsize) n;
    offset += (guint64) n;
  }
  return 1;
}

/* AES-256-GCM in one call.  Returns FALSE on any OpenSSL failure, and for
 * decryption when the tag does not match. */
static gboolean
gcm (gboolean encrypt, const guint8 key[KEY_LEN], const guint8 nonce[NONCE_LEN],
     const guint8 *aad, gsize aad_len, const guint8 *in, gsize len, guint8 *out,
     guint8 tag[TAG_LEN])
{
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new ();
  int n = 0;
  gboolean ok = FALSE;

  if (ctx == NULL)
    return FALSE;
  if (EVP_CipherInit_ex (ctx, EVP_aes_256_gcm (), NULL, NULL, NULL, encrypt) != 1 ||
      EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) != 1 ||
      EVP_CipherInit_ex (ctx, NULL, NULL, key, nonce, encrypt) != 1)
    goto out;
  if (aad_len > 0 && EVP_CipherUpdate (ctx, NULL, &n, aad, (int) aad_len) != 1)
    goto out;
  if (len > 0 && EVP_CipherUpdate (ctx, out, &n, in, (int) len) != 1)
    goto out;
  if (!encrypt && EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) != 1)
    goto out;
  if (EVP_CipherFinal_ex (ctx, out + n, &n) != 1)
    goto out;
  if (encrypt && EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) != 1)
    goto out;
  ok = TRUE;
out:
  EVP_CIPHER_CTX_free (ctx);
  return ok;
}

static void
chunk_nonce (const guint8 prefix[PREFIX_LEN], guint64 index, guint8 nonce[NONCE_LEN])
{
  memcpy (nonce, prefix, PREFIX_LEN);
  put_u64 (nonce + PREFIX_LEN, index);
}

/* AAD of chunk @index: header digest ‖ u64 index ‖ flags. */
static void
chunk_aad (const guint8 digest[32], guint64 index, guint8 flags, guint8 aad[41])
{
  memcpy (aad, digest, 32);
  put_u64 (aad + 32, index);
  aad[40] = flags;
}

static gboolean
key_id_valid (const char *key_id)
{
  gsize len = key_id != NULL ? strlen (key_id) : 0;

  if (len == 0 || len > CAU_VAULT_KEY_ID_MAX)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isgraph (key_id[i]))
      return FALSE;
  return TRUE;
}

/* ---- server key --------------------------------------------------------- */

gboolean
cau_vault_key_load (const char *data_dir, guint8 key[32], char **key_id, GError **error)
{
  g_autofree char *path = NULL;
  guint8 digest[32];
  unsigned int digest_len = 0;
  struct stat st;
  int fd;

  g_return_val_if_fail (data_dir != NULL && key != NULL, FALSE);
  path = g_build_filename (data_dir, "recording.key", NULL);

  fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0 && errno == ENOENT) {
    guint8 fresh[KEY_LEN];

    if (RAND_bytes (fresh, KEY_LEN) != 1) {
      g_set_error (error, CAU_VAULT_ERROR, CAU_VAULT_ERROR_IO, "RAND_bytes failed");
      return FALSE;
    }
    fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
      return set_io_error (error, "creating", path, errno);
    if (!write_all (fd, fresh, KEY_LEN, path, error) || fsync (fd) != 0) {
      int err = errno;

      close (fd);
      g_unlink (path);
      OPENSSL_cleanse (fresh, sizeof fresh);
      if (error != NULL && *error == NULL)
        set_io_error (error, "syncing", path, err);
      return FALSE;
    }
    close (fd);
    OPENSSL_cleanse (fresh, sizeof fresh);
    fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  }
  if (fd < 0)
    return set_io_error (error, "opening", path, errno);
  if (fstat (fd, &st) != 0) {
    int err = errno;

    close (fd);
    return set_io_error (error, "reading", path, err);
  }
  if ((st.st_mode & 077) != 0) {
    close (fd);
    g_set_error (error, CAU_VAULT_ERROR, CAU_VAULT_ERROR_IO,
                 "%s is readable by group or others (mode %03o); chmod 600 it", path,
                 (unsigned) (st.st_mode & 0777));
    return FALSE;
  }
  if (st.st_size != KEY_LEN || pread_all (fd, key, KEY_LEN, 0) != 1) {
    close (fd);
    g_set_error (error, CAU_VAULT_ERROR, CAU_VAULT_ERROR_IO,
                 "%s must hold exactly %d bytes", path, KEY_LEN);
    return FALSE;
  }
  close (fd);
  if (key_id != NULL) {
    g_autofree char *hex = NULL;

    EVP_Digest (key, KEY_LEN, digest, &digest_len, EVP_sha256 (), NULL);
    hex = g_malloc (17);
    for (int i = 0; i < 8; i++)
      g_snprintf (hex + 2 * i, 3, "%02x", digest[i]);
    *key_id = g_strconcat ("k1-", hex, NULL);
  }
  return TRUE;
}

/* ---- writer ------------------------------------------------------------- */

struct CauVaultWriter {
  char *path;
  int fd;
  guint8 file_key[KEY_LEN];
  guint8 prefix[PREFIX_LEN];
  guint8 header_digest[32];
  guint64 next_chunk;
  guint8 *buf;              /* CAU_VAULT_CHUNK_MAX + header + tag */
  gsize buffered;
  guint64 plain_size;
  guint64 file_size;
  gint64 last_chunk_us;
  EVP_MD_CTX *sha;          /* over every byte written */
  gboolean closed;
};

static gboolean
writer_emit (CauVaultWriter *w, const guint8 *p, gsize len, GError **error)
{
  if (!write_all (w->fd, p, len, w->path, error))
    return FALSE;
  EVP_DigestUpdate (w->sha, p, len);
  w->file_size += len;
  return TRUE;
}

CauVaultWriter *
cau_vault_writer_new (const char *path, const guint8 server_key[32], const char *key_id,
                      GError **error)
{
  g_autoptr (CauVaultWriter) w = NULL;
  guint8 header[HEADER_MAX];
  gsize key_id_len, n = 0;
  guint8 *wrap_nonce;
  unsigned int digest_len = 0;

  g_return_val_if_fail (path != NULL && server_key != NULL, NULL);
  if (!key_id_valid (key_id)) {
    g_set_error (error, CAU_VAULT_ERROR, CAU_VAULT_ERROR_KEY,
                 "key id must be 1..%d printable characters", CAU_VAULT_KEY_ID_MAX);
    return NULL;
  }
  key_id_len = strlen (key_id);

  w = g_new0 (CauVaultWriter, 1);
  w->fd = -1;
  w->path = g_strdup (path);
  w->sha = EVP_MD_CTX_new ();
  w->buf = g_malloc (CHUNK_HEADER_LEN + CAU_VAULT_CHUNK_MAX + TAG_LEN);
  if (w->sha == NULL || EVP_DigestInit_ex (w->sha, EVP_sha256 (), NULL) != 1 ||
      RAND_bytes (w->file_key, KEY_LEN) != 1 || RAND_bytes (w->prefix, PREFIX_LEN) != 1) {
    g_set_error (error, CAU_VAULT_ERROR, CAU_VAULT_ERROR_IO, "OpenSSL initialisation failed");
    return NULL;
  }

  memcpy (header, MAGIC, MAGIC_LEN);
  n = MAGIC_LEN;
  header[n++] = VERSION;
  header[n++] = (guint8) key_id_len;
  memcpy (header + n, key_id, key_id_len);
  n += key_id_len;
  wrap_nonce = header + n;
  if (RAND_bytes (wrap_nonce, NONCE_LEN) != 1 ||
      !gcm (TRUE, server_key, wrap_nonce, header, n, w->file_key, KEY_LEN,
            header + n + NONCE_LEN, header + n + NONCE_LEN + KEY_LEN)) {
    g_set_error (error, CAU_VAULT_ERROR, CAU_VAULT_ERROR_IO, "wrapping the file key failed");
    return NULL;
  }
  n += NONCE_LEN + KEY_LEN + TAG_LEN;
  memcpy (header + n, w->prefix, PREFIX_LEN);
  n += PREFIX_LEN;
  EVP_Digest (header, n, w->header_digest, &digest_len, EVP_sha256 (), NULL);

  w->fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (w->fd < 0) {
    set_io_error (error, "creating", path, errno);
    return NULL;
  }
  if (!writer_emit (w, header, n, error))
    return NULL;
  w->last_chunk_us = g_get_monotonic_time ();
  return g_steal_pointer (&w);
}

/* Encrypts the buffered bytes (buf + CHUNK_HEADER_LEN) as the next chunk. */
static gboolean
writer_end_chunk (CauVaultWriter *w, guint8 flags, GError **error)
{
  guint8 nonce[NONCE_LEN], aad[41];
  guint8 *payload = w->buf + CHUNK_HEADER_LEN;

  put_u32 (w->buf, (guint32) w->buffered);
  w->buf[4] = flags;
  chunk_nonce (w->prefix, w->next_chunk, nonce);
  chunk_aad (w->header_digest, w->next_chunk, flags, aad);
  if (!gcm (TRUE, w->file_key, nonce, aad, sizeof aad, payload, w->buffered, payload,
            payload + w->buffered)) {
    g_set_error (error, CAU_VAULT_ERROR, CAU_VAULT_ERROR_IO, "encrypting a chunk failed");
    return FALSE;
  }
  if (!writer_emit (w, w->buf, CHUNK_HEADER_LEN + w->buffered + TAG_LEN, error))
    return FALSE;
  w->next_chunk++;
  w->buffered = 0;
  w->last_chunk_us = g_get_monotonic_time ();
  return TRUE;
}

gboolean
cau_vault_writer_flush (CauVaultWriter *w, GError **error)
{
  g_return_val_if_fail (w != NULL && !w->closed, FALSE);
  if (w->buffered > 0 && !writer_end_chunk (w, 0, error))
    return FALSE;
  w->last_chunk_us = g_get_monotonic_time ();
  if (fsync (w->fd) != 0)
    return set_io_error (error, "syncing", w->path, errno);
  return TRUE;
}

gboolean
cau_vault_writer_write (CauVaultWriter *w, const void *data, gsize len, GError **error)
{
  const guint8 *p = data;

  g_return_val_if_fail (w != NULL && !w->closed, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  while (len > 0) {
    gsize take = MIN (len, CAU_VAULT_CHUNK_MAX - w->buffered);

    memcpy (w->buf + CHUNK_HEADER_LEN + w->buffered, p, take);
    w->buffered += take;
    w->plain_size += take;
    p += take;
    len -= take;
    if (w->buffered == CAU_VAULT_CHUNK_MAX && !writer_end_chunk (w, 0, error))
      return FALSE;
  }
  if (g_get_monotonic_time () - w->last_chunk_us >= AUTO_FLUSH_US)
    return cau_vault_writer_flush (w, error);
  return TRUE;
}

guint64
cau_vault_writer_get_plain_size (CauVaultWriter *w)
{
  g_return_val_if_fail (w != NULL, 0);
  return w->plain_size;
}

gboolean
cau_vault_writer_close (CauVaultWriter *w, char **out_sha256_hex, guint64 *out_size,
                        GError **error)
{
  guint8 digest[32];
  unsigned int digest_len = 0;
  int fd;

  g_return_val_if_fail (w != NULL && !w->closed, FALSE);
  if (!writer_end_chunk (w, FLAG_FINAL, error))
    return FALSE;
  if (fsync (w->fd) != 0)
    return set_io_error (error, "syncing", w->path, errno);
  fd = w->fd;
  w->fd = -1;
  w->closed = TRUE;
  if (close (fd) != 0)
    return set_io_error (error, "closing", w->path, errno);
  EVP_DigestFinal_ex (w->sha, digest, &digest_len);
  if (out_sha256_hex != NULL) {
    char *hex = g_malloc (65);

    for (int i = 0; i < 32; i++)
      g_snprintf (hex + 2 * i, 3, "%02x", digest[i]);
    *out_sha256_hex = hex;
  }
  if (out_size != NULL)
    *out_size = w->file_size;
  return TRUE;
}

void
cau_vault_writer_free (CauVaultWriter *w)
{
  if (w == NULL)
    return;
  if (w->fd >= 0)
    close (w->fd);
  OPENSSL_cleanse (w->file_key, sizeof w->file_key);
  if (w->buf != NULL) {
    OPENSSL_cleanse (w->buf, CHUNK_HEADER_LEN + CAU_VAULT_CHUNK_MAX + TAG_LEN);
    g_free (w->buf);
  }
  EVP_MD_CTX_free (w->sha);
  g_free (w->path);
  g_free (w);
}

/* ---- reader ------------------------------------------------------------- */

typedef struct {
  guint64 file_offset;      /* of the chunk header */
  guint64 plain_offset;
  guint32 len;
  guint8 flags;
} ChunkEntry;

struct CauVaultReader {
  int fd;
  char *path;
  char *key_id;
  guint8 file_key[KEY_LEN];
  guint8 prefix[PREFIX_LEN];
  guint8 header_digest[32];
  GArray *chunks;           /* ChunkEntry, in order */
  guint64 size;
  gboolean complete;
  gssize cached;            /* index of the chunk in @plain, or -1 */
  guint8 *plain;
  guint8 *cipher;
};

static gboolean
format_error (GError **error, const char *path, const char *what)
{
  g_set_error (error, CAU_VAULT_ERROR, CAU_VAULT_ERROR_FORMAT, "%s: %s", path, what);
  return FALSE;
}

static gboolean
reader_parse_header (CauVaultReader *r, const guint8 server_key[32], guint64 *header_len,
                     GError **error)
{
  guint8 header[HEADER_MAX];
  guint8 *wrap;
  gsize n, key_id_len;
  unsigned int digest_len = 0;
  int got;

  got = pread_all (r->fd, header, MAGIC_LEN + 2, 0);
  if (got < 0)
    return set_io_error (error, "reading", r->path, errno);
  if (got == 0 || memcmp (header, MAGIC, MAGIC_LEN) != 0)
    return format_error (error, r->path, "not a vault file");
  if (header[MAGIC_LEN] != VERSION)
    return format_error (error, r->path, "unknown vault version");
  key_id_len = header[MAGIC_LEN + 1];
  if (key_id_len == 0 || key_id_len > CAU_VAULT_KEY_ID_MAX)
    return format_error (error, r->path, "bad key id length");
  n = MAGIC_LEN + 2 + key_id_len + NONCE_LEN + KEY_LEN + TAG_LEN + PREFIX_LEN;
  got = pread_all (r->fd, header, n, 0);
  if (got < 0)
    return set_io_error (error, "reading", r->path, errno);
  if (got == 0)
    return format_error (error, r->path, "truncated header");
  r->key_id = g_strndup ((const char *) header + MAGIC_LEN + 2, key_id_len);
  if (!key_id_valid (r->key_id) || strlen (r->key_id) != key_id_len)
    return format_error (error, r->path, "bad key id");
  wrap = header + MAGIC_LEN + 2 + key_id_len;
  if (!gcm (FALSE, server_key, wrap, header, MAGIC_LEN + 2 + key_id_len, wrap + NONCE_LEN,
            KEY_LEN, r->file_key, wrap + NONCE_LEN + KEY_LEN)) {
    g_set_error (error, CAU_VAULT_ERROR, CAU_VAULT_ERROR_KEY,
                 "%s: the server key does not open this file (key id %s)", r->path,
                 r->key_id);
    return FALSE;
  }
  memcpy (r->prefix, wrap + NONCE_LEN + KEY_LEN + TAG_LEN, PREFIX_LEN);
  EVP_Digest (header, n, r->header_digest, &digest_len, EVP_sha256 (), NULL);
  *header_len = n;
  return TRUE;
}

/* Walks the chunk headers; a chunk cut short ends the walk (incomplete). */
static gboolean
reader_index (CauVaultReader *r, guint64 offset, GError **error)
{
  struct stat st;
  guint64 file_size;

  if (fstat (r->fd, &st) != 0)
    return set_io_error (error, "reading", r->path, errno);
  file_size = (guint64) st.st_size;
  while (offset < file_size) {
    guint8 h[CHUNK_HEADER_LEN];
    ChunkEntry e;

    if (r->complete)
      return format_error (error, r->path, "bytes after the final chunk");
    if (file_size - offset < CHUNK_HEADER_LEN)
      break;
    if (pread_all (r->fd, h, CHUNK_HEADER_LEN, offset) != 1)
      return set_io_error (error, "reading", r->path, errno != 0 ? errno : EIO);
    e.file_offset = offset;
    e.plain_offset = r->size;
    e.len = get_u32 (h);
    e.flags = h[4];
    if (e.len > CAU_VAULT_CHUNK_MAX)
      return format_error (error, r->path, "chunk longer than 1 MiB");
    if ((e.flags & ~FLAG_FINAL) != 0)
      return format_error (error, r->path, "unknown chunk flags");
    if (file_size - offset - CHUNK_HEADER_LEN < (guint64) e.len + TAG_LEN)
      break;
    g_array_append_val (r->chunks, e);
    r->size += e.len;
    offset += CHUNK_HEADER_LEN + (guint64) e.len + TAG_LEN;
    if (e.flags & FLAG_FINAL)
      r->complete = TRUE;
  }
  return TRUE;
}

static gboolean reader_check_empty_chunks (CauVaultReader *r, GError **error);

CauVaultReader *
cau_vault_reader_open (const char *path, const guint8 server_key[32], GError **error)
{
  g_autoptr (CauVaultReader) r = NULL;
  guint64 header_len = 0;

  g_return_val_if_fail (path != NULL && server_key != NULL, NULL);
  r = g_new0 (CauVaultReader, 1);
  r->path = g_strdup (path);
  r->cached = -1;
  r->chunks = g_array_new (FALSE, FALSE, sizeof (ChunkEntry));
  r->fd = open (path, O_RDONLY | O_CLOEXEC);
  if (r->fd < 0) {
    set_io_error (error, "opening", path, errno);
    return NULL;
  }
  if (!reader_parse_header (r, server_key, &header_len, error) ||
      !reader_index (r, header_len, error) || !reader_check_empty_chunks (r, error))
    return NULL;
  return g_steal_pointer (&r);
}

guint64
cau_vault_reader_get_size (CauVaultReader *r)
{
  g_return_val_if_fail (r != NULL, 0);
  return r->size;
}

gboolean
cau_vault_reader_is_complete (CauVaultReader *r)
{
  g_return_val_if_fail (r != NULL, FALSE);
  return r->complete;
}

const char *
cau_vault_reader_get_key_id (CauVaultReader *r)
{
  g_return_val_if_fail (r != NULL, NULL);
  return r->key_id;
}

/* Reads chunk @index's ciphertext and tag into @cipher (its length + 16
 * bytes) and authenticates and decrypts it into @plain. */
static gboolean
reader_open_chunk (CauVaultReader *r, guint index, guint8 *cipher, guint8 *plain,
                   GError **error)
{
  const ChunkEntry *e = &g_array_index (r->chunks, ChunkEntry, index);
  guint8 nonce[NONCE_LEN], aad[41];
  int got;

  got = pread_all (r->fd, cipher, (gsize) e->len + TAG_LEN, e->file_offset + CHUNK_HEADER_LEN);
  if (got < 0)
    return set_io_error (error, "reading", r->path, errno);
  if (got == 0)
    return format_error (error, r->path, "file shrank while open");
  chunk_nonce (r->prefix, index, nonce);
  chunk_aad (r->header_digest, index, e->flags, aad);
  if (!gcm (FALSE, r->file_key, nonce, aad, sizeof aad, cipher, e->len, plain, cipher + e->len)) {
    g_set_error (error, CAU_VAULT_ERROR, CAU_VAULT_ERROR_INTEGRITY,
                 "%s: chunk %u failed its integrity check", r->path, index);
    return FALSE;
  }
  return TRUE;
}

/* Makes chunk @index the reader's cached plaintext. */
static gboolean
reader_load_chunk (CauVaultReader *r, guint index, GError **error)
{
  if (r->cached == (gssize) index)
    return TRUE;
  if (r->plain == NULL) {
    r->plain = g_malloc (CAU_VAULT_CHUNK_MAX);
    r->cipher = g_malloc (CAU_VAULT_CHUNK_MAX + TAG_LEN);
  }
  r->cached = -1;
  if (!reader_open_chunk (r, index, r->cipher, r->plain, error))
    return FALSE;
  r->cached = index;
  return TRUE;
}

/* Checks the tags of the empty chunks, which no read ever loads (a read
 * of the data before and after them does not pass through them).  The
 * final chunk is often empty: without this a cut file with a forged empty
 * final chunk would read in full and say it is complete.  An empty chunk
 * is only its tag, so this needs none of the reader's chunk buffers: a
 * file opened only for its size and completeness (crash recovery) does
 * not allocate them. */
static gboolean
reader_check_empty_chunks (CauVaultReader *r, GError **error)
{
  guint8 tag[TAG_LEN], none[1];

  for (guint i = 0; i < r->chunks->len; i++)
    if (g_array_index (r->chunks, ChunkEntry, i).len == 0 &&
        !reader_open_chunk (r, i, tag, none, error))
      return FALSE;
  return TRUE;
}

/* The chunk holding plaintext byte @offset (< size). */
static guint
reader_find_chunk (CauVaultReader *r, guint64 offset)
{
  guint lo = 0, hi = r->chunks->len;

  while (hi - lo > 1) {
    guint mid = lo + (hi - lo) / 2;

    if (g_array_index (r->chunks, ChunkEntry, mid).plain_offset <= offset)
      lo = mid;
    else
      hi = mid;
  }
  return lo;
}

gssize
cau_vault_reader_read (CauVaultReader *r, guint64 offset, void *buf, gsize len,
                       GError **error)
{
  guint8 *out = buf;
  gsize done = 0;
  guint index;

  g_return_val_if_fail (r != NULL, -1);
  g_return_val_if_fail (buf != NULL || len == 0, -1);
  if (offset >= r->size || len == 0)
    return 0;
  len = (gsize) MIN ((guint64) len, r->size - offset);
  len = MIN (len, (gsize) G_MAXSSIZE);
  index = reader_find_chunk (r, offset);
  while (done < len && index < r->chunks->len) {
    const ChunkEntry *e = &g_array_index (r->chunks, ChunkEntry, index);
    guint64 within = offset + done - e->plain_offset;
    gsize take;

    if (e->len > 0) {
      if (!reader_load_chunk (r, index, error))
        return -1;
      take = (gsize) MIN ((guint64) (len - done), e->len - within);
      memcpy (out + done, r->plain + within, take);
      done += take;
    }
    index++;
  }
  return (gssize) done;
}

gboolean
cau_vault_reader_verify (CauVaultReader *r, GError **error)
{
  g_return_val_if_fail (r != NULL, FALSE);
  for (guint i = 0; i < r->chunks->len; i++)
    if (!reader_load_chunk (r, i, error))
      return FALSE;
  return TRUE;
}

void
cau_vault_reader_free (CauVaultReader *r)
{
  if (r == NULL)
    return;
  if (r->fd >= 0)
    close (r->fd);
  OPENSSL_cleanse (r->file_key, sizeof r->file_key);
  if (r->plain != NULL) {
    OPENSSL_cleanse (r->plain, CAU_VAULT_CHUNK_MAX);
    g_free (r->plain);
  }
  g_free (r->cipher);
  if (r->chunks != NULL)
    g_array_unref (r->chunks);
  g_free (r->key_id);
  g_free (r->path);
  g_free (r);
}

/* ---- whole-file digest ---------------------------------------------------- */

gboolean
cau_vault_file_sha256 (const char *path, char **out_hex, GError **error)
{
  g_autofree guint8 *buf = NULL;
  EVP_MD_CTX *sha;
  guint8 digest[32];
  unsigned int digest_len = 0;
  int fd;

  g_return_val_if_fail (path != NULL && out_hex != NULL, FALSE);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return set_io_error (error, "opening", path, errno);
  sha = EVP_MD_CTX_new ();
  EVP_DigestInit_ex (sha, EVP_sha256 (), NULL);
  buf = g_malloc (64 * 1024);
  for (;;) {
    ssize_t n = read (fd, buf, 64 * 1024);

    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int err = errno;

      EVP_MD_CTX_free (sha);
      close (fd);
      return set_io_error (error, "reading", path, err);
    }
    if (n == 0)
      break;
    EVP_DigestUpdate (sha, buf, (size_t) n);
  }
  close (fd);
  EVP_DigestFinal_ex (sha, digest, &digest_len);
  EVP_MD_CTX_free (sha);
  *out_hex = g_malloc (65);
  for (int i = 0; i < 32; i++)
    g_snprintf (*out_hex + 2 * i, 3, "%02x", digest[i]);
  return TRUE;
}
