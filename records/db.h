/* db.h — records' internal database layer: one small interface over SQLite
 * and PostgreSQL (libpq), so the rest of records/ writes its SQL once.
 *
 * SQL is written with "?" placeholders; every parameter is text (or NULL)
 * and every result column comes back as text (or NULL).  The PostgreSQL
 * back end rewrites "?" into $1..$n (outside quoted literals and
 * identifiers) and lets the server infer each parameter's type from its
 * context, so SQL must give every "?" a typed context (a column it is
 * compared with or inserted into).  No SQL is ever built from values.
 *
 * Errors are in the RECORDS_ERROR domain: a unique violation is
 * RECORDS_ERROR_CONFLICT (SQLITE_CONSTRAINT_UNIQUE / _PRIMARYKEY, SQLSTATE
 * 23505), a foreign-key or check violation RECORDS_ERROR_INVALID, anything
 * else RECORDS_ERROR_QUERY.
 *
 * Threads: a RecordsDb is used from one thread.
 */
#pragma once

#include <glib.h>

#include "store.h"

G_BEGIN_DECLS

typedef enum {
  RECORDS_DB_SQLITE,
  RECORDS_DB_POSTGRESQL,
} RecordsDbBackend;

typedef struct RecordsDb RecordsDb;

/* Query results: rows of text columns. */
typedef struct {
  guint n_rows;
  guint n_columns;
  char **values;         /* n_rows × n_columns, row-major; NULL = SQL NULL */
} RecordsDbRows;

/* TRUE when @location is a "postgresql://" or "postgres://" URI. */
gboolean records_db_location_is_uri (const char *location);

/* Opens the SQLite file @location (created when absent; WAL, foreign keys,
 * 5 s busy timeout) or, when @location is a PostgreSQL URI, connects to it.
 * (transfer full) or NULL + RECORDS_ERROR_OPEN. */
RecordsDb *records_db_open (const char *location, GError **error);
void records_db_close (RecordsDb *db);

RecordsDbBackend records_db_get_backend (RecordsDb *db);

/* Runs one statement with @n_params text parameters (NULL entries = SQL
 * NULL).  With @n_params == 0 @sql may hold several statements (DDL).
 * *@out_changes (may be NULL) = rows inserted, updated or deleted. */
gboolean records_db_exec (RecordsDb *db, const char *sql, const char *const *params,
                          int n_params, gint64 *out_changes, GError **error);

/* Runs one query; (transfer full) its rows, or NULL + @error. */
RecordsDbRows *records_db_query (RecordsDb *db, const char *sql, const char *const *params,
                                 int n_params, GError **error);

/* Column @column of row @row (transfer none); NULL for SQL NULL. */
const char *records_db_rows_get (const RecordsDbRows *rows, guint row, guint column);
void records_db_rows_free (RecordsDbRows *rows);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecordsDbRows, records_db_rows_free)

/* Begins a write transaction.  SQLite: BEGIN IMMEDIATE (the database's write
 * lock, so writers are serialised).  PostgreSQL: BEGIN and, when
 * @lock_table is not NULL, LOCK TABLE @lock_table IN EXCLUSIVE MODE (readers
 * go on; other writers of that table wait).  @lock_table is an identifier
 * from the code, never a value. */
gboolean records_db_begin (RecordsDb *db, const char *lock_table, GError **error);
/* Begins a read transaction that sees one snapshot (SQLite BEGIN DEFERRED in
 * WAL mode; PostgreSQL REPEATABLE READ, READ ONLY). */
gboolean records_db_begin_read (RecordsDb *db, GError **error);
gboolean records_db_commit (RecordsDb *db, GError **error);
/* Never fails loudly: used on error paths. */
void records_db_rollback (RecordsDb *db);

/* "?" → "$1".."$n" outside '…' literals, "…" identifiers and comments.
 * (transfer full).  Exposed for the unit test. */
char *records_db_rewrite_placeholders (const char *sql);

/* Parameter arrays: DB_PARAMS (a, b, c) expands to the array and its count. */
#define DB_PARAMS(...) \
  ((const char *const[]) { __VA_ARGS__ }), \
  ((int) (sizeof ((const char *const[]) { __VA_ARGS__ }) / sizeof (const char *)))
#define DB_NO_PARAMS NULL, 0

G_END_DECLS
