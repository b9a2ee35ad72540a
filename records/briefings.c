/* briefings.c — hospital briefings (issue 6): create, get, list, status. */
#include "records.h"

#include <string.h>

#include "records-priv.h"

#define BRIEFING_COLUMNS "id, title, host_id, facility_id, scheduled_at, status, created_at"
#define BRIEFING_MAX_TITLE 200
#define BRIEFING_LIST_MAX "1000"
#define TIME_MIN "0000-01-01T00:00:00.000Z"
#define TIME_MAX "9999-12-31T23:59:59.999Z"

static const char *const briefing_statuses[] = { "planned", "live", "ended", NULL };

void
records_briefing_free (RecordsBriefing *briefing)
{
  if (briefing == NULL)
    return;
  g_free (briefing->id);
  g_free (briefing->title);
  g_free (briefing->host_id);
  g_free (briefing->facility_id);
  g_free (briefing->scheduled_at);
  g_free (briefing->status);
  g_free (briefing->created_at);
  g_free (briefing);
}

gboolean
records_briefing_status_valid (const char *status)
{
  return status != NULL && g_strv_contains (briefing_statuses, status);
}

static GPtrArray *
briefings_from_rows (const RecordsDbRows *rows)
{
  GPtrArray *list = g_ptr_array_new_with_free_func ((GDestroyNotify) records_briefing_free);

  for (guint r = 0; r < rows->n_rows; r++) {
    RecordsBriefing *b = g_new0 (RecordsBriefing, 1);

    b->id = g_strdup (records_db_rows_get (rows, r, 0));
    b->title = g_strdup (records_db_rows_get (rows, r, 1));
    b->host_id = g_strdup (records_db_rows_get (rows, r, 2));
    b->facility_id = g_strdup (records_db_rows_get (rows, r, 3));
    b->scheduled_at = g_strdup (records_db_rows_get (rows, r, 4));
    b->status = g_strdup (records_db_rows_get (rows, r, 5));
    b->created_at = g_strdup (records_db_rows_get (rows, r, 6));
    g_ptr_array_add (list, b);
  }
  return list;
}

gboolean
records_briefing_create (RecordsStore *store, RecordsBriefing *briefing, const char *actor_id,
                         GError **error)
{
  g_autofree char *id = NULL;
  g_autofree char *now = NULL;
  g_autofree char *scheduled_at = NULL;

  g_return_val_if_fail (store != NULL && briefing != NULL, FALSE);

  if (!records_check_text ("title", briefing->title, BRIEFING_MAX_TITLE, 0, error)
      || !records_check_reference (store, "SELECT 1 FROM users WHERE id = ?", "host_id",
                                   briefing->host_id, error))
    return FALSE;
  if (briefing->facility_id != NULL
      && !records_check_reference (store, "SELECT 1 FROM facilities WHERE id = ?",
                                   "facility_id", briefing->facility_id, error))
    return FALSE;
  scheduled_at = records_check_time ("scheduled_at", briefing->scheduled_at, error);
  if (scheduled_at == NULL)
    return FALSE;
  if (briefing->status != NULL && strcmp (briefing->status, "planned") != 0) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID,
                 "status: a new briefing is planned");
    return FALSE;
  }

  id = records_new_id ();
  now = records_timestamp_now ();
  if (!records_db_exec (records_store_get_db (store),
                        "INSERT INTO briefings (" BRIEFING_COLUMNS ")"
                        " VALUES (?, ?, ?, ?, ?, 'planned', ?)",
                        DB_PARAMS (id, briefing->title, briefing->host_id, briefing->facility_id,
                                   scheduled_at, now),
                        NULL, error))
    return FALSE;

  g_free (briefing->id);
  briefing->id = g_steal_pointer (&id);
  g_free (briefing->scheduled_at);
  briefing->scheduled_at = g_steal_pointer (&scheduled_at);
  g_free (briefing->status);
  briefing->status = g_strdup ("planned");
  g_free (briefing->created_at);
  briefing->created_at = g_steal_pointer (&now);
  return TRUE;
}

RecordsBriefing *
records_briefing_get (RecordsStore *store, const char *id, GError **error)
{
  g_autoptr (RecordsDbRows) rows = NULL;
  g_autoptr (GPtrArray) list = NULL;

  g_return_val_if_fail (store != NULL, NULL);
  if (id == NULL) {
    records_set_not_found (error, "briefing", NULL);
    return NULL;
  }
  rows = records_db_query (records_store_get_db (store),
                           "SELECT " BRIEFING_COLUMNS " FROM briefings WHERE id = ?",
                           DB_PARAMS (id), error);
  if (rows == NULL)
    return NULL;
  if (rows->n_rows == 0) {
    records_set_not_found (error, "briefing", id);
    return NULL;
  }
  list = briefings_from_rows (rows);
  return g_ptr_array_steal_index (list, 0);
}

GPtrArray *
records_briefing_list (RecordsStore *store, const char *from, const char *to, gboolean upcoming,
                       GError **error)
{
  g_autoptr (RecordsDbRows) rows = NULL;
  g_autofree char *from_text = NULL;
  g_autofree char *to_text = NULL;

  g_return_val_if_fail (store != NULL, NULL);
  from_text = from ? records_check_time ("from", from, error) : g_strdup (TIME_MIN);
  if (from_text == NULL)
    return NULL;
  to_text = to ? records_check_time ("to", to, error) : g_strdup (TIME_MAX);
  if (to_text == NULL)
    return NULL;
  /* "upcoming" compares with a status that never occurs when not asked. */
  rows = records_db_query (records_store_get_db (store),
                           "SELECT " BRIEFING_COLUMNS " FROM briefings"
                           " WHERE scheduled_at >= ? AND scheduled_at < ? AND status <> ?"
                           " ORDER BY scheduled_at, id LIMIT " BRIEFING_LIST_MAX,
                           DB_PARAMS (from_text, to_text, upcoming ? "ended" : "-"), error);
  if (rows == NULL)
    return NULL;
  return briefings_from_rows (rows);
}

static gboolean
status_move_allowed (const char *from, const char *to)
{
  return (strcmp (from, "planned") == 0 && (strcmp (to, "live") == 0 || strcmp (to, "ended") == 0))
         || (strcmp (from, "live") == 0 && strcmp (to, "ended") == 0);
}

gboolean
records_briefing_set_status (RecordsStore *store, const char *id, const char *status,
                             const char *actor_id, GError **error)
{
  RecordsDb *db;
  gint64 changes = 0;

  g_return_val_if_fail (store != NULL, FALSE);
  db = records_store_get_db (store);
  if (!records_briefing_status_valid (status)) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID,
                 "status: must be planned, live or ended");
    return FALSE;
  }
  /* Compare-and-set on the status read, as for consultations: two nodes
   * moving one briefing cannot both win; one retry covers a lost race. */
  for (int attempt = 0; attempt < 2; attempt++) {
    g_autoptr (RecordsDbRows) rows = NULL;
    const char *current;

    rows = records_db_query (db, "SELECT status FROM briefings WHERE id = ?", DB_PARAMS (id),
                             error);
    if (rows == NULL)
      return FALSE;
    if (rows->n_rows == 0) {
      records_set_not_found (error, "briefing", id);
      return FALSE;
    }
    current = records_db_rows_get (rows, 0, 0);
    if (strcmp (current, status) == 0)
      return TRUE;
    if (!status_move_allowed (current, status)) {
      g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID,
                   "status: cannot move from %s to %s", current, status);
      return FALSE;
    }
    if (!records_db_exec (db, "UPDATE briefings SET status = ? WHERE id = ? AND status = ?",
                          DB_PARAMS (status, id, current), &changes, error))
      return FALSE;
    if (changes == 1)
      return TRUE;
  }
  g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_CONFLICT,
               "status: changed by another writer meanwhile");
  return FALSE;
}
