/* recordings.c — recording rows: one per recorded file (records.h). */
#include "records.h"

#include <string.h>

#include "records-priv.h"

#define RECORDING_COLUMNS                                                                   \
  "id, consultation_id, patient_id, session_id, kind, participant_id, participant_name,"   \
  " file_name, status, started_at, ended_at, duration_ms, size, compose_progress, sha256,"  \
  " key_id"

static const char *const recording_statuses[] = {
  "recording", "complete", "interrupted", "failed", NULL
};
static const char *const recording_kinds[] = { "participant", "composed", NULL };

void
records_recording_free (RecordsRecording *recording)
{
  if (recording == NULL)
    return;
  g_free (recording->id);
  g_free (recording->consultation_id);
  g_free (recording->patient_id);
  g_free (recording->session_id);
  g_free (recording->kind);
  g_free (recording->participant_id);
  g_free (recording->participant_name);
  g_free (recording->file_name);
  g_free (recording->status);
  g_free (recording->started_at);
  g_free (recording->ended_at);
  g_free (recording->sha256);
  g_free (recording->key_id);
  g_free (recording);
}

gboolean
records_recording_status_valid (const char *status)
{
  if (status == NULL)
    return FALSE;
  for (guint i = 0; recording_statuses[i]; i++)
    if (strcmp (status, recording_statuses[i]) == 0)
      return TRUE;
  return FALSE;
}

/* One path component of the recordings directory: no separator, no
 * leading dot (so neither "." nor ".." nor a hidden file), a small
 * alphabet. */
static gboolean
file_name_valid (const char *name)
{
  gsize length;

  if (name == NULL || name[0] == '\0' || name[0] == '.')
    return FALSE;
  length = strlen (name);
  return length <= 200
         && strspn (name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")
                == length;
}

static gboolean
sha256_hex_valid (const char *text)
{
  if (strlen (text) != 64)
    return FALSE;
  for (int i = 0; i < 64; i++)
    if (!g_ascii_isxdigit (text[i]) || g_ascii_isupper (text[i]))
      return FALSE;
  return TRUE;
}

static RecordsRecording *
recording_from_row (const RecordsDbRows *rows, guint r)
{
  RecordsRecording *recording = g_new0 (RecordsRecording, 1);
  const char *progress = records_db_rows_get (rows, r, 13);

  recording->id = g_strdup (records_db_rows_get (rows, r, 0));
  recording->consultation_id = g_strdup (records_db_rows_get (rows, r, 1));
  recording->patient_id = g_strdup (records_db_rows_get (rows, r, 2));
  recording->session_id = g_strdup (records_db_rows_get (rows, r, 3));
  recording->kind = g_strdup (records_db_rows_get (rows, r, 4));
  recording->participant_id = g_strdup (records_db_rows_get (rows, r, 5));
  recording->participant_name = g_strdup (records_db_rows_get (rows, r, 6));
  recording->file_name = g_strdup (records_db_rows_get (rows, r, 7));
  recording->status = g_strdup (records_db_rows_get (rows, r, 8));
  recording->started_at = g_strdup (records_db_rows_get (rows, r, 9));
  recording->ended_at = g_strdup (records_db_rows_get (rows, r, 10));
  recording->duration_ms = records_text_to_int (records_db_rows_get (rows, r, 11));
  recording->size = records_text_to_int (records_db_rows_get (rows, r, 12));
  recording->compose_progress = progress ? (int) records_text_to_int (progress) : -1;
  recording->sha256 = g_strdup (records_db_rows_get (rows, r, 14));
  recording->key_id = g_strdup (records_db_rows_get (rows, r, 15));
  return recording;
}

static GPtrArray *
recordings_from_rows (const RecordsDbRows *rows)
{
  GPtrArray *list = g_ptr_array_new_with_free_func ((GDestroyNotify) records_recording_free);

  for (guint r = 0; r < rows->n_rows; r++)
    g_ptr_array_add (list, recording_from_row (rows, r));
  return list;
}

/* What create and update both check.  *@out_ended_at: the normalised
 * ended_at or NULL. */
static gboolean
check_mutable (const RecordsRecording *recording, char **out_ended_at, GError **error)
{
  *out_ended_at = NULL;
  if (!file_name_valid (recording->file_name)) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID,
                 "file_name: one name of letters, digits, '.', '_' and '-', not starting "
                 "with '.'");
    return FALSE;
  }
  if (!records_check_enum ("status", recording->status, recording_statuses, error))
    return FALSE;
  if (recording->duration_ms < 0 || recording->size < 0) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID, "%s: must not be negative",
                 recording->duration_ms < 0 ? "duration_ms" : "size");
    return FALSE;
  }
  if (recording->compose_progress < -1 || recording->compose_progress > 100) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID,
                 "compose_progress: 0 to 100, or -1 for none");
    return FALSE;
  }
  if (recording->sha256 != NULL && !sha256_hex_valid (recording->sha256)) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID,
                 "sha256: must be 64 lower-case hex digits");
    return FALSE;
  }
  if (!records_check_text ("key_id", recording->key_id, RECORDS_MAX_SHORT,
                           RECORDS_TEXT_OPTIONAL, error))
    return FALSE;
  if (recording->ended_at) {
    *out_ended_at = records_check_time ("ended_at", recording->ended_at, error);
    if (*out_ended_at == NULL)
      return FALSE;
  }
  return TRUE;
}

static char *
progress_text (int progress)
{
  return progress < 0 ? NULL : records_int_to_text (progress);
}

gboolean
records_recording_create (RecordsStore *store, RecordsRecording *recording, GError **error)
{
  g_autoptr (RecordsDbRows) rows = NULL;
  g_autofree char *id = NULL;
  g_autofree char *session_id = NULL;
  g_autofree char *started_at = NULL;
  g_autofree char *ended_at = NULL;
  g_autofree char *duration = NULL;
  g_autofree char *size = NULL;
  g_autofree char *progress = NULL;
  g_autofree char *patient_id = NULL;
  gboolean composed;

  g_return_val_if_fail (store != NULL && recording != NULL, FALSE);
  if (recording->consultation_id == NULL) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID, "consultation_id: required");
    return FALSE;
  }
  rows = records_db_query (records_store_get_db (store),
                           "SELECT patient_id FROM consultations WHERE id = ?",
                           DB_PARAMS (recording->consultation_id), error);
  if (rows == NULL)
    return FALSE;
  if (rows->n_rows == 0) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID,
                 "consultation_id: no such consultation");
    return FALSE;
  }
  patient_id = g_strdup (records_db_rows_get (rows, 0, 0));
  if (!records_check_enum ("kind", recording->kind, recording_kinds, error))
    return FALSE;
  composed = strcmp (recording->kind, "composed") == 0;
  if (!records_check_text ("participant_id", recording->participant_id, RECORDS_MAX_SHORT,
                           composed ? RECORDS_TEXT_OPTIONAL : 0, error)
      || !records_check_text ("participant_name", recording->participant_name,
                              RECORDS_MAX_NAME, RECORDS_TEXT_OPTIONAL, error)
      || !records_check_text ("session_id", recording->session_id, RECORDS_MAX_SHORT,
                              RECORDS_TEXT_OPTIONAL, error))
    return FALSE;
  if (!check_mutable (recording, &ended_at, error))
    return FALSE;
  started_at = recording->started_at
                 ? records_check_time ("started_at", recording->started_at, error)
                 : records_timestamp_now ();
  if (started_at == NULL)
    return FALSE;

  id = records_new_id ();
  session_id = recording->session_id ? g_strdup (recording->session_id) : records_new_id ();
  duration = records_int_to_text (recording->duration_ms);
  size = records_int_to_text (recording->size);
  progress = progress_text (recording->compose_progress);
  if (!records_db_exec (records_store_get_db (store),
                        "INSERT INTO recordings (" RECORDING_COLUMNS ")"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        DB_PARAMS (id, recording->consultation_id, patient_id, session_id,
                                   recording->kind, recording->participant_id,
                                   recording->participant_name, recording->file_name,
                                   recording->status, started_at, ended_at, duration, size,
                                   progress, recording->sha256, recording->key_id),
                        NULL, error))
    return FALSE;
  g_free (recording->id);
  recording->id = g_steal_pointer (&id);
  g_free (recording->patient_id);
  recording->patient_id = g_steal_pointer (&patient_id);
  /* A session id given by the caller is kept as it is (it may be borrowed). */
  if (recording->session_id == NULL)
    recording->session_id = g_steal_pointer (&session_id);
  g_free (recording->started_at);
  recording->started_at = g_steal_pointer (&started_at);
  g_free (recording->ended_at);
  recording->ended_at = g_steal_pointer (&ended_at);
  return TRUE;
}

RecordsRecording *
records_recording_get (RecordsStore *store, const char *id, GError **error)
{
  g_autoptr (RecordsDbRows) rows = NULL;

  g_return_val_if_fail (store != NULL, NULL);
  if (id == NULL) {
    records_set_not_found (error, "recording", NULL);
    return NULL;
  }
  rows = records_db_query (records_store_get_db (store),
                           "SELECT " RECORDING_COLUMNS " FROM recordings WHERE id = ?",
                           DB_PARAMS (id), error);
  if (rows == NULL)
    return NULL;
  if (rows->n_rows == 0) {
    records_set_not_found (error, "recording", id);
    return NULL;
  }
  return recording_from_row (rows, 0);
}

gboolean
records_recording_update (RecordsStore *store, const RecordsRecording *recording,
                          GError **error)
{
  g_autofree char *ended_at = NULL;
  g_autofree char *duration = NULL;
  g_autofree char *size = NULL;
  g_autofree char *progress = NULL;
  gint64 changes = 0;

  g_return_val_if_fail (store != NULL && recording != NULL, FALSE);
  if (!check_mutable (recording, &ended_at, error))
    return FALSE;
  duration = records_int_to_text (recording->duration_ms);
  size = records_int_to_text (recording->size);
  progress = progress_text (recording->compose_progress);
  if (!records_db_exec (records_store_get_db (store),
                        "UPDATE recordings SET file_name = ?, status = ?, ended_at = ?,"
                        " duration_ms = ?, size = ?, compose_progress = ?, sha256 = ?,"
                        " key_id = ? WHERE id = ?",
                        DB_PARAMS (recording->file_name, recording->status, ended_at, duration,
                                   size, progress, recording->sha256, recording->key_id,
                                   recording->id),
                        &changes, error))
    return FALSE;
  if (changes == 0) {
    records_set_not_found (error, "recording", recording->id);
    return FALSE;
  }
  return TRUE;
}

gboolean
records_recording_delete (RecordsStore *store, const char *id, GError **error)
{
  gint64 changes = 0;

  g_return_val_if_fail (store != NULL, FALSE);
  if (!records_db_exec (records_store_get_db (store), "DELETE FROM recordings WHERE id = ?",
                        DB_PARAMS (id), &changes, error))
    return FALSE;
  if (changes == 0) {
    records_set_not_found (error, "recording", id);
    return FALSE;
  }
  return TRUE;
}

static GPtrArray *
list_where (RecordsStore *store, const char *sql, const char *value, GError **error)
{
  g_autoptr (RecordsDbRows) rows = NULL;

  g_return_val_if_fail (store != NULL, NULL);
  rows = records_db_query (records_store_get_db (store), sql, DB_PARAMS (value), error);
  return rows ? recordings_from_rows (rows) : NULL;
}

GPtrArray *
records_recording_list_for_consultation (RecordsStore *store, const char *consultation_id,
                                         GError **error)
{
  return list_where (store,
                     "SELECT " RECORDING_COLUMNS " FROM recordings"
                     " WHERE consultation_id = ? ORDER BY started_at, id",
                     consultation_id, error);
}

GPtrArray *
records_recording_list_for_patient (RecordsStore *store, const char *patient_id,
                                    GError **error)
{
  return list_where (store,
                     "SELECT " RECORDING_COLUMNS " FROM recordings"
                     " WHERE patient_id = ? ORDER BY started_at, id",
                     patient_id, error);
}

GPtrArray *
records_recording_list_for_session (RecordsStore *store, const char *session_id,
                                    GError **error)
{
  return list_where (store,
                     "SELECT " RECORDING_COLUMNS " FROM recordings"
                     " WHERE session_id = ? ORDER BY started_at, id",
                     session_id, error);
}

GPtrArray *
records_recording_list_compositions (RecordsStore *store, const char *status, GError **error)
{
  return list_where (store,
                     "SELECT " RECORDING_COLUMNS " FROM recordings"
                     " WHERE kind = 'composed' AND status = ? ORDER BY started_at, id",
                     status, error);
}

GPtrArray *
records_recording_mark_interrupted_all (RecordsStore *store, GError **error)
{
  RecordsDb *db;
  g_autoptr (RecordsDbRows) rows = NULL;
  g_autofree char *now = records_timestamp_now ();
  GPtrArray *marked;

  g_return_val_if_fail (store != NULL, NULL);
  db = records_store_get_db (store);
  if (!records_db_begin (db, "recordings", error))
    return NULL;
  rows = records_db_query (db, "SELECT id FROM recordings WHERE status = 'recording'",
                           DB_NO_PARAMS, error);
  if (rows == NULL
      || !records_db_exec (db,
                           "UPDATE recordings SET status = 'interrupted',"
                           " ended_at = COALESCE(ended_at, ?), compose_progress = NULL"
                           " WHERE status = 'recording'",
                           DB_PARAMS (now), NULL, error)
      || !records_db_commit (db, error)) {
    records_db_rollback (db);
    return NULL;
  }
  marked = g_ptr_array_new_with_free_func ((GDestroyNotify) records_recording_free);
  for (guint r = 0; r < rows->n_rows; r++) {
    RecordsRecording *recording = records_recording_get (store, records_db_rows_get (rows, r, 0),
                                                         error);

    if (recording == NULL) {
      g_ptr_array_unref (marked);
      return NULL;
    }
    g_ptr_array_add (marked, recording);
  }
  return marked;
}
