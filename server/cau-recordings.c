/* cau-recordings.c — `cau recordings list` and `cau recordings export`:
 * a consultation's recorded files, and a decrypted copy of one of them
 * (docs/operations.md "Recordings").
 *
 * export checks the file's SHA-256 against the row before writing a byte,
 * decrypts into a temporary file next to the destination (every chunk's
 * GCM tag checked on the way) and renames it into place only when all of
 * it decrypted: an integrity failure leaves nothing at --out. */
#include "cau.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vault.h"

#define EXPORT_PIECE (1024 * 1024)

int
cau_recordings_list (int argc, char **argv)
{
  static const CauCommand self = { "recordings list", "",
    "Lists the recorded files of a consultation: one per participant and the\n"
    "composed file of each recording, with status, duration and size.", NULL };
  g_autofree char *consultation_id = NULL;
  const GOptionEntry entries[] = {
    { "consultation", 0, 0, G_OPTION_ARG_STRING, &consultation_id, "The consultation's id",
      "ID" },
    { NULL }
  };
  g_autoptr (RecordsStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) recordings = NULL;
  g_autoptr (RecordsConsultation) consultation = NULL;

  if (!cau_parse_command (&self, entries, &argc, &argv))
    return CAU_EXIT_USAGE;
  if (argc > 1)
    return cau_usage_error (&self, "unexpected argument");
  if (consultation_id == NULL)
    return cau_usage_error (&self, "--consultation ID is required");
  if ((store = cau_open_store (FALSE)) == NULL)
    return CAU_EXIT_USAGE;
  if ((consultation = records_consultation_get (store, consultation_id, &error)) == NULL
      || (recordings = records_recording_list_for_consultation (store, consultation_id,
                                                                &error)) == NULL)
    return cau_records_failure ("recordings list", error);
  if (!cau_audit (store, "read", "Media", consultation_id, consultation->patient_id,
                  "cau recordings list", &error))
    return cau_records_failure ("audit", error);
  g_print ("%-36s %-11s %-11s %-24s %10s %12s %s\n", "ID", "KIND", "STATUS", "STARTED",
           "SECONDS", "BYTES", "PARTICIPANT");
  for (guint i = 0; i < recordings->len; i++) {
    RecordsRecording *r = recordings->pdata[i];

    g_print ("%-36s %-11s %-11s %-24s %10.1f %12" G_GINT64_FORMAT " %s\n", r->id, r->kind,
             r->status, r->started_at, r->duration_ms / 1000.0, r->size,
             cau_or_dash (r->participant_name));
  }
  return 0;
}

/* Progress on stderr: a bar on a terminal, a line per 10 % otherwise (logs
 * and pipes stay readable). */
typedef struct {
  gboolean tty;
  int last;
} Progress;

static void
progress_show (Progress *progress, guint64 done, guint64 total)
{
  int percent = total ? (int) (done * 100 / total) : 100;

  if (progress->tty) {
    char bar[41];
    int filled = percent * 40 / 100;

    if (percent == progress->last)
      return;
    memset (bar, '#', (size_t) filled);
    memset (bar + filled, '.', (size_t) (40 - filled));
    bar[40] = '\0';
    g_printerr ("\r[%s] %3d%% %.1f/%.1f MiB", bar, percent, done / 1048576.0,
                total / 1048576.0);
    if (done >= total)
      g_printerr ("\n");
  } else {
    if (percent / 10 == progress->last / 10 && progress->last >= 0)
      return;
    g_printerr ("%d%%\n", percent / 10 * 10);
  }
  progress->last = percent;
}

/* Decrypts @reader into @fd with progress.  FALSE + @error. */
static gboolean
copy_plain (CauVaultReader *reader, int fd, Progress *progress, GError **error)
{
  guint64 total = cau_vault_reader_get_size (reader), offset = 0;
  g_autofree guint8 *buffer = g_malloc (EXPORT_PIECE);

  progress_show (progress, 0, total);
  while (offset < total) {
    gssize n = cau_vault_reader_read (reader, offset, buffer, EXPORT_PIECE, error);

    if (n < 0)
      return FALSE;
    if (n == 0) {
      g_set_error (error, CAU_VAULT_ERROR, CAU_VAULT_ERROR_FORMAT, "the file ends early");
      return FALSE;
    }
    for (gssize written = 0; written < n;) {
      ssize_t w = write (fd, buffer + written, (size_t) (n - written));

      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0) {
        int saved = errno;

        g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "write: %s",
                     g_strerror (saved));
        return FALSE;
      }
      written += w;
    }
    offset += (guint64) n;
    progress_show (progress, offset, total);
  }
  OPENSSL_cleanse (buffer, EXPORT_PIECE);
  if (fsync (fd) != 0) {
    int saved = errno;

    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "fsync: %s",
                 g_strerror (saved));
    return FALSE;
  }
  return TRUE;
}

int
cau_recordings_export (int argc, char **argv)
{
  static const CauCommand self = { "recordings export", "ID",
    "Writes a decrypted copy of recorded file ID (a WebM/Matroska video) to FILE.\n"
    "The file's SHA-256 is checked against its record first, and every chunk's\n"
    "tag while decrypting; on any failure exit 1 and nothing is left at FILE.\n"
    "Progress goes to stderr (a bar on a terminal).  The export is audited.", NULL };
  g_autofree char *out = NULL;
  const GOptionEntry entries[] = {
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Where to write the decrypted copy", "FILE" },
    { NULL }
  };
  g_autoptr (RecordsStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (RecordsRecording) recording = NULL;
  g_autoptr (CauVaultReader) reader = NULL;
  g_autofree char *data_dir = NULL;
  g_autofree char *key_path = NULL;
  g_autofree char *key_id = NULL;
  g_autofree char *path = NULL;
  g_autofree char *digest = NULL;
  g_autofree char *out_dir = NULL;
  g_autofree char *temporary = NULL;
  g_autofree char *detail = NULL;
  Progress progress = { .tty = isatty (STDERR_FILENO), .last = -1 };
  guint8 key[32];
  int fd, status = CAU_EXIT_REFUSED;

  if (!cau_parse_command (&self, entries, &argc, &argv))
    return CAU_EXIT_USAGE;
  if (argc != 2)
    return cau_usage_error (&self, "give one recording ID");
  if (out == NULL || out[0] == '\0')
    return cau_usage_error (&self, "--out FILE is required");
  if ((data_dir = cau_data_dir ()) == NULL || (store = cau_open_store (FALSE)) == NULL)
    return CAU_EXIT_USAGE;
  if ((recording = records_recording_get (store, argv[1], &error)) == NULL)
    return cau_records_failure ("recordings export", error);
  if (recording->sha256 == NULL) {
    g_printerr ("cau: recordings export: recording %s is %s and has no SHA-256 yet\n",
                recording->id, recording->status);
    return CAU_EXIT_REFUSED;
  }
  /* Never make a new server key here: a missing one means the wrong data
   * directory, and a new key would open nothing. */
  key_path = g_build_filename (data_dir, "recording.key", NULL);
  if (!g_file_test (key_path, G_FILE_TEST_EXISTS)) {
    g_printerr ("cau: recordings export: no recording key at %s (wrong --data-dir?)\n",
                key_path);
    return CAU_EXIT_USAGE;
  }
  if (!cau_vault_key_load (data_dir, key, &key_id, &error)) {
    g_printerr ("cau: recordings export: %s\n", error->message);
    return CAU_EXIT_USAGE;
  }
  path = g_build_filename (data_dir, "recordings", recording->file_name, NULL);
  if (!cau_vault_file_sha256 (path, &digest, &error)) {
    g_printerr ("cau: recordings export: %s\n", error->message);
    goto out;
  }
  if (strcmp (digest, recording->sha256) != 0) {
    g_printerr ("cau: recordings export: integrity check failed: %s does not match the "
                "SHA-256 recorded for %s; nothing written\n", path, recording->id);
    goto out;
  }
  reader = cau_vault_reader_open (path, key, &error);
  if (reader == NULL) {
    g_printerr ("cau: recordings export: %s\n", error->message);
    goto out;
  }

  out_dir = g_path_get_dirname (out);
  temporary = g_build_filename (out_dir, ".cau-export-XXXXXX", NULL);
  fd = g_mkstemp_full (temporary, O_WRONLY, 0600);
  if (fd < 0) {
    g_printerr ("cau: recordings export: cannot create a file in %s: %s\n", out_dir,
                g_strerror (errno));
    status = CAU_EXIT_USAGE;
    goto out;
  }
  if (!copy_plain (reader, fd, &progress, &error)) {
    if (progress.tty)
      g_printerr ("\n");
    close (fd);
    g_unlink (temporary);
    g_printerr ("cau: recordings export: %s%s; nothing written\n",
                g_error_matches (error, CAU_VAULT_ERROR, CAU_VAULT_ERROR_INTEGRITY)
                    ? "integrity check failed: " : "",
                error->message);
    goto out;
  }
  if (close (fd) != 0 || g_rename (temporary, out) != 0) {
    g_printerr ("cau: recordings export: cannot write %s: %s\n", out, g_strerror (errno));
    g_unlink (temporary);
    status = CAU_EXIT_USAGE;
    goto out;
  }
  detail = g_strdup_printf ("cau recordings export (%" G_GUINT64_FORMAT " bytes)",
                            cau_vault_reader_get_size (reader));
  if (!cau_audit (store, "export", "Media", recording->id, recording->patient_id, detail,
                  &error)) {
    status = cau_records_failure ("audit", error);
    goto out;
  }
  g_print ("exported %s: %" G_GUINT64_FORMAT " bytes to %s%s\n", recording->id,
           cau_vault_reader_get_size (reader), out,
           cau_vault_reader_is_complete (reader) ? "" : " (interrupted recording: up to its "
                                                        "last whole chunk)");
  status = 0;

out:
  OPENSSL_cleanse (key, sizeof key);
  return status;
}
