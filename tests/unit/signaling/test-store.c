/* Tests records/store.c: migrations on a fresh directory, reopening, a
 * database made by an older caud (schema version 1) brought up to date, a
 * newer schema refused, call events inserted (with hostile strings kept
 * verbatim: no SQL is built from strings), open by URI.  The full records
 * suite, on both back ends, is tests/unit/records/test-records.c. */
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "store.h"

static char *
make_dir (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("cau-store-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static void
remove_dir (const char *dir)
{
  const char *names[] = { "cau.db", "cau.db-wal", "cau.db-shm" };

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++) {
    g_autofree char *path = g_build_filename (dir, names[i], NULL);
    g_unlink (path);
  }
  g_rmdir (dir);
}

static void
test_migrate_and_insert (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *db_path = g_build_filename (dir, "cau.db", NULL);
  g_autoptr (GError) error = NULL;
  RecordsStore *store;
  sqlite3 *db;
  sqlite3_stmt *stmt;

  store = records_store_open (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (records_store_get_schema_version (store), ==,
                   records_store_get_latest_schema_version ());
  g_assert_cmpint (records_store_get_latest_schema_version (), >=, 1);
  g_assert_true (records_store_add_call_event (store, "room-1", "p000000000001",
                                               RECORDS_CALL_EVENT_JOIN,
                                               "Robert'); DROP TABLE call_events;--", &error));
  g_assert_true (records_store_add_call_event (store, "room-1", "p000000000001",
                                               RECORDS_CALL_EVENT_LEAVE, NULL, &error));
  g_assert_no_error (error);
  records_store_close (store);

  /* Reopen: no migration runs twice. */
  store = records_store_open (dir, &error);
  g_assert_no_error (error);
  records_store_close (store);

  g_assert_cmpint (sqlite3_open (db_path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT COUNT(*) FROM schema_version", -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpint (sqlite3_column_int (stmt, 0), ==, records_store_get_latest_schema_version ());
  sqlite3_finalize (stmt);

  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT event, display_name, at FROM call_events ORDER BY id", -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==, "join");
  g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 1), ==, "Robert'); DROP TABLE call_events;--");
  /* UTC ISO-8601: 2025-01-02T03:04:05.123456Z */
  g_assert_true (g_regex_match_simple ("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z$",
                                       (const char *) sqlite3_column_text (stmt, 2), 0, 0));
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==, "leave");
  g_assert_cmpint (sqlite3_column_type (stmt, 1), ==, SQLITE_NULL);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_DONE);
  sqlite3_finalize (stmt);

  g_assert_cmpint (sqlite3_prepare_v2 (db, "PRAGMA journal_mode", -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==, "wal");
  sqlite3_finalize (stmt);

  /* A database from a newer caud is refused, not "migrated". */
  g_assert_cmpint (sqlite3_exec (db, "INSERT INTO schema_version VALUES (999, 'x')", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
  store = records_store_open (dir, &error);
  g_assert_null (store);
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_TOO_NEW);
  remove_dir (dir);
}

static void
test_open_fails (void)
{
  g_autoptr (GError) error = NULL;
  RecordsStore *store = records_store_open ("/nonexistent/cau-data", &error);

  g_assert_null (store);
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_OPEN);
}

/* A cau.db as the first released caud left it (migration 1 only, its
 * applied_at from SQLite's strftime) keeps its rows and gains the rest. */
static void
test_upgrade_from_version_1 (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *db_path = g_build_filename (dir, "cau.db", NULL);
  g_autoptr (GError) error = NULL;
  RecordsStore *store;
  sqlite3 *db;
  sqlite3_stmt *stmt;

  g_assert_cmpint (sqlite3_open (db_path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db,
    "PRAGMA journal_mode = WAL;"
    "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);"
    "CREATE TABLE call_events ("
    "  id INTEGER PRIMARY KEY,"
    "  room TEXT NOT NULL,"
    "  participant TEXT NOT NULL,"
    "  event TEXT NOT NULL CHECK (event IN ('join', 'leave')),"
    "  display_name TEXT,"
    "  at TEXT NOT NULL"
    ");"
    "CREATE INDEX call_events_room_at ON call_events (room, at);"
    "INSERT INTO schema_version VALUES (1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));"
    "INSERT INTO call_events (room, participant, event, display_name, at)"
    "  VALUES ('old-room', 'p1', 'join', 'Old', '2025-01-01T00:00:00.000000Z');",
    NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);

  store = records_store_open (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (records_store_get_schema_version (store), ==,
                   records_store_get_latest_schema_version ());
  g_assert_cmpstr (records_store_get_backend (store), ==, "sqlite");
  g_assert_true (records_store_add_call_event (store, "old-room", "p1", RECORDS_CALL_EVENT_LEAVE,
                                               NULL, &error));
  g_assert_no_error (error);
  records_store_close (store);

  g_assert_cmpint (sqlite3_open (db_path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT COUNT(*) FROM call_events WHERE room = 'old-room'", -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpint (sqlite3_column_int (stmt, 0), ==, 2);
  sqlite3_finalize (stmt);
  /* The tables of migration 2 exist. */
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT seq, hash FROM audit_head", -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpint (sqlite3_column_int (stmt, 0), ==, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  remove_dir (dir);
}

static void
test_open_uri_fails (void)
{
  g_autoptr (GError) error = NULL;
  /* Port 1 on loopback: nothing listens there. */
  RecordsStore *store =
    records_store_open_uri ("postgresql://nobody@127.0.0.1:1/cau?connect_timeout=5", &error);

  g_assert_null (store);
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_OPEN);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/records/store/migrate-and-insert", test_migrate_and_insert);
  g_test_add_func ("/records/store/open-fails", test_open_fails);
  g_test_add_func ("/records/store/upgrade-from-version-1", test_upgrade_from_version_1);
  g_test_add_func ("/records/store/open-uri-fails", test_open_uri_fails);
  return g_test_run ();
}
