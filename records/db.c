/* db.c — SQLite and PostgreSQL behind records/db.h. */
#include "db.h"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <string.h>

struct RecordsDb {
  RecordsDbBackend backend;
  sqlite3 *sqlite;
  GHashTable *statements;     /* SQLite: SQL text → sqlite3_stmt, prepared once */
  PGconn *pg;
  GHashTable *rewritten;      /* PostgreSQL: SQL text → its $n form             */
  gboolean in_transaction;    /* between begin and commit/rollback              */
};

gboolean
records_db_location_is_uri (const char *location)
{
  return location != NULL
         && (g_str_has_prefix (location, "postgresql://")
             || g_str_has_prefix (location, "postgres://"));
}

/* ---- placeholders ------------------------------------------------------ */

char *
records_db_rewrite_placeholders (const char *sql)
{
  GString *out = g_string_sized_new (strlen (sql) + 16);
  int n = 0;

  for (const char *p = sql; *p != '\0'; p++) {
    if (*p == '\'' || *p == '"') {
      /* A quoted literal or identifier; a doubled quote stays inside. */
      char quote = *p;

      g_string_append_c (out, *p);
      for (p++; *p != '\0'; p++) {
        g_string_append_c (out, *p);
        if (*p == quote) {
          if (p[1] == quote) {
            g_string_append_c (out, *++p);
            continue;
          }
          break;
        }
      }
      if (*p == '\0')
        break;
    } else if (p[0] == '-' && p[1] == '-') {
      for (; *p != '\0' && *p != '\n'; p++)
        g_string_append_c (out, *p);
      if (*p == '\0')
        break;
      g_string_append_c (out, *p);
    } else if (*p == '?') {
      g_string_append_printf (out, "$%d", ++n);
    } else {
      g_string_append_c (out, *p);
    }
  }
  return g_string_free (out, FALSE);
}

/* ---- rows -------------------------------------------------------------- */

static RecordsDbRows *
rows_new (guint n_rows, guint n_columns)
{
  RecordsDbRows *rows = g_new0 (RecordsDbRows, 1);

  rows->n_rows = n_rows;
  rows->n_columns = n_columns;
  rows->values = g_new0 (char *, (gsize) n_rows * n_columns + 1);
  return rows;
}

const char *
records_db_rows_get (const RecordsDbRows *rows, guint row, guint column)
{
  g_return_val_if_fail (rows != NULL, NULL);
  g_return_val_if_fail (row < rows->n_rows && column < rows->n_columns, NULL);
  return rows->values[(gsize) row * rows->n_columns + column];
}

void
records_db_rows_free (RecordsDbRows *rows)
{
  if (rows == NULL)
    return;
  for (gsize i = 0; i < (gsize) rows->n_rows * rows->n_columns; i++)
    g_free (rows->values[i]);
  g_free (rows->values);
  g_free (rows);
}

/* ---- SQLite ------------------------------------------------------------ */

static void
sqlite_set_error (RecordsDb *db, int rc, GError **error)
{
  RecordsError code = RECORDS_ERROR_QUERY;

  switch (rc) {
  case SQLITE_CONSTRAINT_UNIQUE:
  case SQLITE_CONSTRAINT_PRIMARYKEY:
    code = RECORDS_ERROR_CONFLICT;
    break;
  case SQLITE_CONSTRAINT_FOREIGNKEY:
  case SQLITE_CONSTRAINT_CHECK:
  case SQLITE_CONSTRAINT_NOTNULL:
    code = RECORDS_ERROR_INVALID;
    break;
  default:
    break;
  }
  g_set_error (error, RECORDS_ERROR, code, "%s", sqlite3_errmsg (db->sqlite));
}

static sqlite3_stmt *
sqlite_prepare (RecordsDb *db, const char *sql, const char *const *params, int n_params,
                GError **error)
{
  sqlite3_stmt *stmt = g_hash_table_lookup (db->statements, sql);
  int rc;

  if (stmt == NULL) {
    rc = sqlite3_prepare_v3 (db->sqlite, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
    if (rc != SQLITE_OK) {
      sqlite_set_error (db, rc, error);
      return NULL;
    }
    g_hash_table_insert (db->statements, g_strdup (sql), stmt);
  }
  if (sqlite3_bind_parameter_count (stmt) != n_params) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_QUERY,
                 "statement wants %d parameters, %d given",
                 sqlite3_bind_parameter_count (stmt), n_params);
    return NULL;
  }
  for (int i = 0; i < n_params; i++) {
    rc = params[i] ? sqlite3_bind_text (stmt, i + 1, params[i], -1, SQLITE_TRANSIENT)
                   : sqlite3_bind_null (stmt, i + 1);
    if (rc != SQLITE_OK) {
      sqlite_set_error (db, rc, error);
      sqlite3_clear_bindings (stmt);
      return NULL;
    }
  }
  return stmt;
}

static void
sqlite_finish (sqlite3_stmt *stmt)
{
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
}

static gboolean
sqlite_exec (RecordsDb *db, const char *sql, const char *const *params, int n_params,
             gint64 *out_changes, GError **error)
{
  sqlite3_stmt *stmt;
  int rc;

  if (n_params == 0 && strchr (sql, ';') != NULL) {
    char *message = NULL;

    if (sqlite3_exec (db->sqlite, sql, NULL, NULL, &message) != SQLITE_OK) {
      int code = sqlite3_extended_errcode (db->sqlite);

      sqlite3_free (message);
      sqlite_set_error (db, code, error);
      return FALSE;
    }
  } else {
    stmt = sqlite_prepare (db, sql, params, n_params, error);
    if (stmt == NULL)
      return FALSE;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
      ;
    if (rc != SQLITE_DONE) {
      sqlite_set_error (db, sqlite3_extended_errcode (db->sqlite), error);
      sqlite_finish (stmt);
      return FALSE;
    }
    sqlite_finish (stmt);
  }
  if (out_changes)
    *out_changes = sqlite3_changes64 (db->sqlite);
  return TRUE;
}

static RecordsDbRows *
sqlite_query (RecordsDb *db, const char *sql, const char *const *params, int n_params,
              GError **error)
{
  g_autoptr (GPtrArray) values = g_ptr_array_new ();
  sqlite3_stmt *stmt;
  RecordsDbRows *rows;
  guint n_columns, n_rows = 0;
  int rc;

  stmt = sqlite_prepare (db, sql, params, n_params, error);
  if (stmt == NULL)
    return NULL;
  n_columns = (guint) sqlite3_column_count (stmt);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    for (guint c = 0; c < n_columns; c++)
      g_ptr_array_add (values, sqlite3_column_type (stmt, (int) c) == SQLITE_NULL
                                 ? NULL
                                 : g_strdup ((const char *) sqlite3_column_text (stmt, (int) c)));
    n_rows++;
  }
  if (rc != SQLITE_DONE) {
    sqlite_set_error (db, sqlite3_extended_errcode (db->sqlite), error);
    sqlite_finish (stmt);
    g_ptr_array_set_free_func (values, g_free);
    return NULL;
  }
  sqlite_finish (stmt);
  rows = rows_new (n_rows, n_columns);
  if (values->len > 0)
    memcpy (rows->values, values->pdata, values->len * sizeof (char *));
  return rows;
}

static void
finalize_statement (gpointer stmt)
{
  sqlite3_finalize (stmt);
}

/* How long a statement waits for another connection's lock. */
#define SQLITE_BUSY_TIMEOUT_MS 5000

static gboolean
sqlite_open (RecordsDb *db, const char *path, GError **error)
{
  char *message = NULL;

  if (sqlite3_open_v2 (path, &db->sqlite,
                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                       NULL) != SQLITE_OK) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_OPEN, "cannot open %s: %s", path,
                 db->sqlite ? sqlite3_errmsg (db->sqlite) : "out of memory");
    return FALSE;
  }
  sqlite3_busy_timeout (db->sqlite, SQLITE_BUSY_TIMEOUT_MS);
  sqlite3_extended_result_codes (db->sqlite, 1);
  /* Switching a new database to WAL while other connections open it can
   * return SQLITE_BUSY without consulting the busy handler (the lock
   * upgrade would deadlock; seen about once in 40 runs of
   * /records/store/concurrent-open): retry for as long as the handler
   * would have waited.  The pragmas are idempotent. */
  for (gint64 deadline = g_get_monotonic_time () + SQLITE_BUSY_TIMEOUT_MS * 1000;;) {
    int rc = sqlite3_exec (db->sqlite, "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;"
                           " PRAGMA synchronous = NORMAL;", NULL, NULL, &message);

    if (rc == SQLITE_OK)
      break;
    if ((rc & 0xff) == SQLITE_BUSY && g_get_monotonic_time () < deadline) {
      sqlite3_free (message);
      message = NULL;
      g_usleep (2000 + g_random_int_range (0, 8000));
      continue;
    }
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_OPEN, "cannot open %s: %s", path,
                 message ? message : sqlite3_errmsg (db->sqlite));
    sqlite3_free (message);
    return FALSE;
  }
  db->statements = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, finalize_statement);
  return TRUE;
}

/* ---- PostgreSQL -------------------------------------------------------- */

static void
pg_notice (void *data, const char *message)
{
  /* Notices such as "relation already exists, skipping" are not news. */
  g_debug ("records: postgresql: %s", message);
}

static void
pg_set_error (RecordsDb *db, PGresult *result, GError **error)
{
  const char *state = result ? PQresultErrorField (result, PG_DIAG_SQLSTATE) : NULL;
  const char *message = result ? PQresultErrorField (result, PG_DIAG_MESSAGE_PRIMARY) : NULL;
  RecordsError code = RECORDS_ERROR_QUERY;

  if (state != NULL) {
    if (strcmp (state, "23505") == 0)
      code = RECORDS_ERROR_CONFLICT;
    else if (strcmp (state, "23503") == 0 || strcmp (state, "23514") == 0
             || strcmp (state, "23502") == 0)
      code = RECORDS_ERROR_INVALID;
  }
  if (message == NULL)
    message = PQerrorMessage (db->pg);
  g_set_error (error, RECORDS_ERROR, code, "%s%s%s", message, state ? " SQLSTATE " : "",
               state ? state : "");
}

static gboolean pg_exec (RecordsDb *db, const char *sql, const char *const *params,
                         int n_params, gint64 *out_changes, GError **error);

/* Reconnects after a lost connection (a restarted server, a failover), but
 * never inside a transaction: its earlier statements are gone with the old
 * connection, so the caller must see the error and roll back first. */
static void
pg_reconnect_if_lost (RecordsDb *db)
{
  if (PQstatus (db->pg) != CONNECTION_BAD || db->in_transaction)
    return;
  g_message ("records: PostgreSQL connection lost; reconnecting");
  PQreset (db->pg);
  if (PQstatus (db->pg) == CONNECTION_OK)
    pg_exec (db, "SET client_encoding = 'UTF8'; SET TIME ZONE 'UTC'", NULL, 0, NULL, NULL);
}

static PGresult *
pg_run (RecordsDb *db, const char *sql, const char *const *params, int n_params,
        GError **error)
{
  PGresult *result;
  ExecStatusType status;

  pg_reconnect_if_lost (db);

  if (n_params == 0) {
    result = PQexec (db->pg, sql);
  } else {
    const char *text = g_hash_table_lookup (db->rewritten, sql);

    if (text == NULL) {
      char *rewritten = records_db_rewrite_placeholders (sql);

      g_hash_table_insert (db->rewritten, g_strdup (sql), rewritten);
      text = rewritten;
    }
    result = PQexecParams (db->pg, text, n_params, NULL, params, NULL, NULL, 0);
  }
  status = result ? PQresultStatus (result) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    pg_set_error (db, result, error);
    PQclear (result);
    return NULL;
  }
  return result;
}

static gboolean
pg_exec (RecordsDb *db, const char *sql, const char *const *params, int n_params,
         gint64 *out_changes, GError **error)
{
  PGresult *result = pg_run (db, sql, params, n_params, error);

  if (result == NULL)
    return FALSE;
  if (out_changes) {
    const char *tuples = PQcmdTuples (result);

    *out_changes = tuples[0] ? g_ascii_strtoll (tuples, NULL, 10) : 0;
  }
  PQclear (result);
  return TRUE;
}

static RecordsDbRows *
pg_query (RecordsDb *db, const char *sql, const char *const *params, int n_params,
          GError **error)
{
  PGresult *result = pg_run (db, sql, params, n_params, error);
  RecordsDbRows *rows;
  int n_rows, n_columns;

  if (result == NULL)
    return NULL;
  n_rows = PQntuples (result);
  n_columns = PQnfields (result);
  rows = rows_new ((guint) n_rows, (guint) n_columns);
  for (int r = 0; r < n_rows; r++)
    for (int c = 0; c < n_columns; c++)
      rows->values[(gsize) r * (gsize) n_columns + (gsize) c] =
        PQgetisnull (result, r, c) ? NULL : g_strdup (PQgetvalue (result, r, c));
  PQclear (result);
  return rows;
}

static gboolean
pg_open (RecordsDb *db, const char *uri, GError **error)
{
  db->pg = PQconnectdb (uri);
  if (db->pg == NULL || PQstatus (db->pg) != CONNECTION_OK) {
    /* The message names host and port, never the password. */
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_OPEN, "cannot connect to PostgreSQL: %s",
                 db->pg ? g_strchomp (PQerrorMessage (db->pg)) : "out of memory");
    return FALSE;
  }
  PQsetNoticeProcessor (db->pg, pg_notice, NULL);
  db->rewritten = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  /* Timestamps and text are made by us; the session's settings must not
   * change what the server sends back. */
  return pg_exec (db, "SET client_encoding = 'UTF8'; SET TIME ZONE 'UTC'", NULL, 0, NULL,
                  error);
}

/* ---- the interface ----------------------------------------------------- */

RecordsDb *
records_db_open (const char *location, GError **error)
{
  RecordsDb *db;
  gboolean ok;

  g_return_val_if_fail (location != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  db = g_new0 (RecordsDb, 1);
  if (records_db_location_is_uri (location)) {
    db->backend = RECORDS_DB_POSTGRESQL;
    ok = pg_open (db, location, error);
  } else {
    db->backend = RECORDS_DB_SQLITE;
    ok = sqlite_open (db, location, error);
  }
  if (!ok) {
    records_db_close (db);
    return NULL;
  }
  return db;
}

void
records_db_close (RecordsDb *db)
{
  if (db == NULL)
    return;
  g_clear_pointer (&db->statements, g_hash_table_unref);
  if (db->sqlite)
    sqlite3_close (db->sqlite);
  g_clear_pointer (&db->rewritten, g_hash_table_unref);
  if (db->pg)
    PQfinish (db->pg);
  g_free (db);
}

RecordsDbBackend
records_db_get_backend (RecordsDb *db)
{
  return db->backend;
}

gboolean
records_db_exec (RecordsDb *db, const char *sql, const char *const *params, int n_params,
                 gint64 *out_changes, GError **error)
{
  g_return_val_if_fail (db != NULL && sql != NULL, FALSE);
  g_return_val_if_fail (n_params == 0 || params != NULL, FALSE);

  if (db->backend == RECORDS_DB_SQLITE)
    return sqlite_exec (db, sql, params, n_params, out_changes, error);
  return pg_exec (db, sql, params, n_params, out_changes, error);
}

RecordsDbRows *
records_db_query (RecordsDb *db, const char *sql, const char *const *params, int n_params,
                  GError **error)
{
  g_return_val_if_fail (db != NULL && sql != NULL, NULL);
  g_return_val_if_fail (n_params == 0 || params != NULL, NULL);

  if (db->backend == RECORDS_DB_SQLITE)
    return sqlite_query (db, sql, params, n_params, error);
  return pg_query (db, sql, params, n_params, error);
}

gboolean
records_db_begin (RecordsDb *db, const char *lock_table, GError **error)
{
  g_autofree char *lock = NULL;

  if (db->backend == RECORDS_DB_SQLITE)
    return sqlite_exec (db, "BEGIN IMMEDIATE", NULL, 0, NULL, error);

  if (!pg_exec (db, "BEGIN", NULL, 0, NULL, error))
    return FALSE;
  db->in_transaction = TRUE;
  if (lock_table == NULL)
    return TRUE;
  /* An identifier from our own code (checked), never a value. */
  for (const char *p = lock_table; *p; p++)
    g_return_val_if_fail (g_ascii_isalnum (*p) || *p == '_', FALSE);
  lock = g_strdup_printf ("LOCK TABLE %s IN EXCLUSIVE MODE", lock_table);
  if (!pg_exec (db, lock, NULL, 0, NULL, error)) {
    records_db_rollback (db);
    return FALSE;
  }
  return TRUE;
}

gboolean
records_db_begin_read (RecordsDb *db, GError **error)
{
  if (db->backend == RECORDS_DB_SQLITE)
    return sqlite_exec (db, "BEGIN DEFERRED", NULL, 0, NULL, error);
  if (!pg_exec (db, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", NULL, 0, NULL, error))
    return FALSE;
  db->in_transaction = TRUE;
  return TRUE;
}

gboolean
records_db_commit (RecordsDb *db, GError **error)
{
  if (!records_db_exec (db, "COMMIT", NULL, 0, NULL, error)) {
    records_db_rollback (db);
    return FALSE;
  }
  db->in_transaction = FALSE;
  return TRUE;
}

void
records_db_rollback (RecordsDb *db)
{
  g_autoptr (GError) error = NULL;

  if (db->backend == RECORDS_DB_SQLITE && sqlite3_get_autocommit (db->sqlite))
    return;
  if (db->backend == RECORDS_DB_POSTGRESQL && PQstatus (db->pg) == CONNECTION_BAD) {
    db->in_transaction = FALSE;   /* the server dropped the transaction */
    return;
  }
  if (!records_db_exec (db, "ROLLBACK", NULL, 0, NULL, &error))
    g_debug ("records: rollback: %s", error->message);
  db->in_transaction = FALSE;
}
