/* recording-files.c — recording rows and their files: names, free space,
 * and the restart recovery (recording.h). */
#include "recording.h"

#include <string.h>

#include <glib/gstdio.h>
#include <sys/statvfs.h>

#include "records.h"
#include "vault.h"

char *
signaling_recording_participant_file (const char *session_id, const char *participant_id)
{
  return g_strdup_printf ("%s-%s.mkv.cauv", session_id, participant_id);
}

char *
signaling_recording_composed_file (const char *session_id)
{
  return g_strdup_printf ("%s-composed.mkv.cauv", session_id);
}

guint64
signaling_recording_free_bytes (const char *directory)
{
  struct statvfs st;

  if (directory == NULL || statvfs (directory, &st) != 0)
    return G_MAXUINT64;
  return (guint64) st.f_bavail * (guint64) st.f_frsize;
}

/* Fills @recording's digest, size and duration from its file, if readable. */
static void
fill_from_file (RecordsStore *store, RecordsRecording *recording, const char *directory,
                const guint8 server_key[32])
{
  g_autofree char *path = g_build_filename (directory, recording->file_name, NULL);
  g_autoptr (CauVaultReader) reader = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *digest = NULL;
  g_autoptr (GDateTime) started = NULL;
  GStatBuf st;

  if (strcmp (recording->kind, "composed") == 0 && !g_file_test (path, G_FILE_TEST_EXISTS)) {
    g_message ("recording %s: its composed file (row %s) was not made before the stop; "
               "composed at this start if the participant files can be read",
               recording->session_id, recording->id);
    return;
  }
  reader = cau_vault_reader_open (path, server_key, &error);
  if (reader == NULL || !cau_vault_file_sha256 (path, &digest, &error) || g_stat (path, &st) != 0) {
    g_message ("recording %s: interrupted; its file is not readable (%s)", recording->id,
               error ? error->message : "stat failed");
    return;
  }
  g_free (recording->sha256);
  recording->sha256 = g_steal_pointer (&digest);
  recording->size = (gint64) st.st_size;
  started = g_date_time_new_from_iso8601 (recording->started_at, NULL);
  if (started && st.st_mtime > g_date_time_to_unix (started))
    recording->duration_ms = ((gint64) st.st_mtime - g_date_time_to_unix (started)) * 1000;
  if (!records_recording_update (store, recording, &error))
    g_warning ("recording %s: cannot record its interrupted file: %s", recording->id,
               error->message);
  else
    g_message ("recording %s: interrupted; %" G_GUINT64_FORMAT " bytes readable, %s",
               recording->id, cau_vault_reader_get_size (reader),
               cau_vault_reader_is_complete (reader) ? "complete" : "cut after its last chunk");
}

gboolean
signaling_recording_recover (RecordsStore *store, const char *directory,
                             const guint8 server_key[32], guint *out_count, GError **error)
{
  g_autoptr (GPtrArray) marked = NULL;

  g_return_val_if_fail (store != NULL && directory != NULL && server_key != NULL, FALSE);
  marked = records_recording_mark_interrupted_all (store, error);
  if (marked == NULL)
    return FALSE;
  for (guint i = 0; i < marked->len; i++)
    fill_from_file (store, marked->pdata[i], directory, server_key);
  if (out_count)
    *out_count = marked->len;
  return TRUE;
}
