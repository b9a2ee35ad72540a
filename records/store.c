/* store.c — SQLite records store: open, migrate, call events. */
#include "store.h"

#include <sqlite3.h>

G_DEFINE_QUARK (records-error-quark, records_error)

struct RecordsStore {
  sqlite3 *db;
  sqlite3_stmt *insert_call_event;
};

/* Migration N brings the schema from version N-1 to N.  Append only: a
 * released migration is never edited, a fix is a new migration. */
static const char *const migrations[] = {
  /* 1: call events, one row per join or leave of a participant. */
  "CREATE TABLE call_events ("
  "  id INTEGER PRIMARY KEY,"
  "  room TEXT NOT NULL,"
  "  participant TEXT NOT NULL,"
  "  event TEXT NOT NULL CHECK (event IN ('join', 'leave')),"
  "  display_name TEXT,"
  "  at TEXT NOT NULL"                       /* UTC ISO-8601 */
  ");"
  "CREATE INDEX call_events_room_at ON call_events (room, at);",
};

int
records_store_get_latest_schema_version (void)
{
  return (int) G_N_ELEMENTS (migrations);
}

static gboolean
exec_sql (RecordsStore *store, const char *sql, RecordsError code, GError **error)
{
  char *message = NULL;

  if (sqlite3_exec (store->db, sql, NULL, NULL, &message) != SQLITE_OK) {
    g_set_error (error, RECORDS_ERROR, code, "%s", message ? message : "unknown error");
    sqlite3_free (message);
    return FALSE;
  }
  return TRUE;
}

static int
read_schema_version (RecordsStore *store, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  int version = -1;

  if (sqlite3_prepare_v2 (store->db, "SELECT MAX(version) FROM schema_version",
                          -1, &stmt, NULL) != SQLITE_OK)
    goto fail;
  if (sqlite3_step (stmt) != SQLITE_ROW)
    goto fail;
  version = sqlite3_column_type (stmt, 0) == SQLITE_NULL ? 0 : sqlite3_column_int (stmt, 0);
  sqlite3_finalize (stmt);
  return version;

fail:
  g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_MIGRATE,
               "cannot read schema version: %s", sqlite3_errmsg (store->db));
  sqlite3_finalize (stmt);
  return -1;
}

static gboolean
migrate (RecordsStore *store, GError **error)
{
  int version;

  if (!exec_sql (store,
                 "CREATE TABLE IF NOT EXISTS schema_version ("
                 "  version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
                 RECORDS_ERROR_MIGRATE, error))
    return FALSE;

  version = read_schema_version (store, error);
  if (version < 0)
    return FALSE;
  if (version > records_store_get_latest_schema_version ()) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_TOO_NEW,
                 "database schema version %d is newer than this caud knows (%d)",
                 version, records_store_get_latest_schema_version ());
    return FALSE;
  }

  for (int next = version + 1; next <= records_store_get_latest_schema_version (); next++) {
    sqlite3_stmt *stmt = NULL;
    g_autoptr (GError) local_error = NULL;

    if (!exec_sql (store, "BEGIN IMMEDIATE", RECORDS_ERROR_MIGRATE, error))
      return FALSE;
    if (!exec_sql (store, migrations[next - 1], RECORDS_ERROR_MIGRATE, &local_error))
      goto rollback;
    if (sqlite3_prepare_v2 (store->db,
                            "INSERT INTO schema_version (version, applied_at) "
                            "VALUES (?1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                            -1, &stmt, NULL) != SQLITE_OK
        || sqlite3_bind_int (stmt, 1, next) != SQLITE_OK
        || sqlite3_step (stmt) != SQLITE_DONE) {
      g_set_error (&local_error, RECORDS_ERROR, RECORDS_ERROR_MIGRATE, "%s",
                   sqlite3_errmsg (store->db));
      sqlite3_finalize (stmt);
      goto rollback;
    }
    sqlite3_finalize (stmt);
    if (!exec_sql (store, "COMMIT", RECORDS_ERROR_MIGRATE, &local_error))
      goto rollback;
    g_debug ("records: schema migrated to version %d", next);
    continue;

  rollback:
    sqlite3_exec (store->db, "ROLLBACK", NULL, NULL, NULL);
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_MIGRATE,
                 "migration %d failed: %s", next, local_error->message);
    return FALSE;
  }
  return TRUE;
}

RecordsStore *
records_store_open (const char *data_dir, GError **error)
{
  g_autofree char *path = NULL;
  RecordsStore *store;

  g_return_val_if_fail (data_dir != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  store = g_new0 (RecordsStore, 1);
  path = g_build_filename (data_dir, "cau.db", NULL);
  if (sqlite3_open_v2 (path, &store->db,
                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                       NULL) != SQLITE_OK) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_OPEN, "cannot open %s: %s", path,
                 store->db ? sqlite3_errmsg (store->db) : "out of memory");
    goto fail;
  }
  sqlite3_busy_timeout (store->db, 5000);
  sqlite3_extended_result_codes (store->db, 1);

  if (!exec_sql (store, "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;"
                 " PRAGMA synchronous = NORMAL;", RECORDS_ERROR_OPEN, error))
    goto fail;
  if (!migrate (store, error))
    goto fail;

  if (sqlite3_prepare_v3 (store->db,
                          "INSERT INTO call_events (room, participant, event, display_name, at) "
                          "VALUES (?1, ?2, ?3, ?4, ?5)",
                          -1, SQLITE_PREPARE_PERSISTENT, &store->insert_call_event,
                          NULL) != SQLITE_OK) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_QUERY, "%s", sqlite3_errmsg (store->db));
    goto fail;
  }
  return store;

fail:
  records_store_close (store);
  return NULL;
}

void
records_store_close (RecordsStore *store)
{
  if (store == NULL)
    return;
  sqlite3_finalize (store->insert_call_event);
  sqlite3_close (store->db);
  g_free (store);
}

int
records_store_get_schema_version (RecordsStore *store)
{
  g_return_val_if_fail (store != NULL, -1);
  return read_schema_version (store, NULL);
}

gboolean
records_store_add_call_event (RecordsStore *store, const char *room, const char *participant,
                              RecordsCallEvent event, const char *display_name,
                              GError **error)
{
  g_autoptr (GDateTime) now = NULL;
  g_autofree char *at = NULL;
  sqlite3_stmt *stmt;
  gboolean ok;

  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail (room != NULL && participant != NULL, FALSE);

  now = g_date_time_new_now_utc ();
  at = g_date_time_format (now, "%Y-%m-%dT%H:%M:%S.%fZ");

  stmt = store->insert_call_event;
  ok = sqlite3_bind_text (stmt, 1, room, -1, SQLITE_TRANSIENT) == SQLITE_OK
       && sqlite3_bind_text (stmt, 2, participant, -1, SQLITE_TRANSIENT) == SQLITE_OK
       && sqlite3_bind_text (stmt, 3, event == RECORDS_CALL_EVENT_JOIN ? "join" : "leave",
                             -1, SQLITE_STATIC) == SQLITE_OK
       && (display_name
             ? sqlite3_bind_text (stmt, 4, display_name, -1, SQLITE_TRANSIENT)
             : sqlite3_bind_null (stmt, 4)) == SQLITE_OK
       && sqlite3_bind_text (stmt, 5, at, -1, SQLITE_TRANSIENT) == SQLITE_OK
       && sqlite3_step (stmt) == SQLITE_DONE;
  if (!ok)
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_QUERY, "cannot record call event: %s",
                 sqlite3_errmsg (store->db));
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
  return ok;
}
