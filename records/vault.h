/* vault.h — recordings encrypted at rest: chunked AES-256-GCM files.
 *
 * Layout (all integers big-endian):
 *
 *   header  "CAUVAULT" | u8 version (1) | u8 key id length (1..64) | key id
 *           | 12-byte wrap nonce | 32-byte wrapped file key | 16-byte wrap tag
 *           | 4-byte chunk nonce prefix
 *   chunk i u32 plaintext length (<= 1 MiB) | u8 flags (bit 0: final)
 *           | ciphertext | 16-byte GCM tag
 *
 * The per-file key is random and wrapped with AES-256-GCM under the server
 * key; the wrap's AAD is the header up to the wrap nonce, so the key id is
 * bound to it.  Chunk i is encrypted with nonce = prefix ‖ u64 i and
 * AAD = SHA-256(header) ‖ u64 i ‖ flags: chunks cannot be reordered, moved
 * to another file or dropped in the middle without a tag failing, and a
 * forged "final" flag fails too.  A file whose last chunk is not final was
 * cut (crash, kill -9): it is readable up to its last whole chunk and
 * reported incomplete.
 *
 * Threads: a writer or a reader is used from one thread at a time; the
 * functions keep no global state.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CAU_VAULT_ERROR (cau_vault_error_quark ())
GQuark cau_vault_error_quark (void);

typedef enum {
  CAU_VAULT_ERROR_IO,         /* open/read/write/fsync failed */
  CAU_VAULT_ERROR_FORMAT,     /* not a vault file, bad lengths, trailing bytes */
  CAU_VAULT_ERROR_INTEGRITY,  /* a GCM tag or the SHA-256 does not match: never play it */
  CAU_VAULT_ERROR_KEY,        /* the server key is not the one the file was written with */
} CauVaultError;

#define CAU_VAULT_KEY_ID_MAX 64
#define CAU_VAULT_CHUNK_MAX (1024 * 1024)

typedef struct CauVaultWriter CauVaultWriter;
typedef struct CauVaultReader CauVaultReader;

/* Loads <data_dir>/recording.key (32 bytes), creating it with random bytes
 * and mode 0600 when absent.  Refused (IO) when the file is readable by
 * group or others, or is not exactly 32 bytes.  @key_id: (out) (transfer
 * full) a name derived from the key ("k1-" + 16 hex digits of its SHA-256),
 * never the key itself. */
gboolean cau_vault_key_load (const char *data_dir, guint8 key[32], char **key_id,
                             GError **error);

/* Creates @path (must not exist; mode 0600) and writes the header.
 * (transfer full) or NULL + IO error. */
CauVaultWriter *cau_vault_writer_new (const char *path, const guint8 server_key[32],
                                      const char *key_id, GError **error);
/* Buffers @data; a chunk is written when 1 MiB is buffered or when the last
 * chunk is over a second old (then also fsync'd). */
gboolean cau_vault_writer_write (CauVaultWriter *w, const void *data, gsize len,
                                 GError **error);
/* Ends the current chunk (if it has data) and fsyncs. */
gboolean cau_vault_writer_flush (CauVaultWriter *w, GError **error);
/* Writes the final chunk, fsyncs and closes.  @out_sha256_hex: (out)
 * (optional) (transfer full) SHA-256 of the whole file; @out_size (optional)
 * its size in bytes.  The writer must still be freed. */
gboolean cau_vault_writer_close (CauVaultWriter *w, char **out_sha256_hex, guint64 *out_size,
                                 GError **error);
/* Plaintext bytes accepted so far. */
guint64 cau_vault_writer_get_plain_size (CauVaultWriter *w);
/* Closes the file without a final chunk when not closed (the file then
 * reads as interrupted). */
void cau_vault_writer_free (CauVaultWriter *w);

/* Opens @path, unwraps its key (KEY on a wrong server key) and indexes its
 * chunks by walking their headers (FORMAT on impossible lengths or bytes
 * after the final chunk; a cut last chunk is ignored).  Tags are checked
 * when a chunk is read, and those of empty chunks (the final chunk often
 * is one) here: INTEGRITY if one fails, so that a cut file cannot be made
 * to look complete. */
CauVaultReader *cau_vault_reader_open (const char *path, const guint8 server_key[32],
                                       GError **error);
guint64 cau_vault_reader_get_size (CauVaultReader *r);        /* plaintext bytes */
gboolean cau_vault_reader_is_complete (CauVaultReader *r);    /* final chunk present */
const char *cau_vault_reader_get_key_id (CauVaultReader *r);
/* Reads up to @len plaintext bytes at @offset, decrypting only the chunks
 * touched.  Returns the count (0 at or past the end) or -1 + error
 * (INTEGRITY when a tag fails). */
gssize cau_vault_reader_read (CauVaultReader *r, guint64 offset, void *buf, gsize len,
                              GError **error);
/* Decrypts every chunk once (INTEGRITY on the first that fails). */
gboolean cau_vault_reader_verify (CauVaultReader *r, GError **error);
void cau_vault_reader_free (CauVaultReader *r);

/* SHA-256 of the file's bytes as lowercase hex. */
gboolean cau_vault_file_sha256 (const char *path, char **out_hex, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CauVaultWriter, cau_vault_writer_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CauVaultReader, cau_vault_reader_free)

G_END_DECLS
