/* store.h — Cầu's records store: open, migrate, call events.
 *
 * Two back ends behind one interface (records/db.h): SQLite (the embedded
 * default, <data_dir>/cau.db in WAL mode) and PostgreSQL (libpq, chosen by
 * a "postgresql://" or "postgres://" URI).  Opening brings the schema up to
 * date with numbered migrations (table schema_version), one transaction
 * each.  records.h declares the rest of the records interface.
 *
 * Threads: a RecordsStore is used from one thread (signaling's main loop).
 * All SQL has bound parameters; no SQL is built from values.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RECORDS_ERROR (records_error_quark ())
GQuark records_error_quark (void);

typedef enum {
  RECORDS_ERROR_OPEN,      /* the database file cannot be opened or created */
  RECORDS_ERROR_MIGRATE,   /* a schema migration failed                     */
  RECORDS_ERROR_TOO_NEW,   /* the database was written by a newer caud       */
  RECORDS_ERROR_QUERY,     /* a statement failed                            */
  RECORDS_ERROR_NOT_FOUND, /* no row with that id / key                      */
  RECORDS_ERROR_INVALID,   /* a value refused by validation (field named)    */
  RECORDS_ERROR_CONFLICT,  /* a unique value already taken                   */
  RECORDS_ERROR_TAMPERED,  /* the audit chain does not verify                */
} RecordsError;

typedef enum {
  RECORDS_CALL_EVENT_JOIN,
  RECORDS_CALL_EVENT_LEAVE,
} RecordsCallEvent;

typedef struct RecordsStore RecordsStore;

/* Opens (creating when absent) <data_dir>/cau.db and applies every pending
 * migration in one transaction each.  @data_dir must exist.
 * Returns (transfer full) a store, or NULL and sets @error. */
RecordsStore *records_store_open (const char *data_dir, GError **error);

/* Like records_store_open, where @location is either a data directory
 * (SQLite <location>/cau.db) or a PostgreSQL connection URI
 * ("postgresql://user:password@host:port/dbname?…" or "postgres://…").
 * Several caud nodes may share one PostgreSQL database: migrations and
 * audit appends are serialised by table locks. */
RecordsStore *records_store_open_uri (const char *location, GError **error);

/* "sqlite" or "postgresql" (transfer none). */
const char *records_store_get_backend (RecordsStore *store);

/* Closes the database (or connection).  NULL is allowed. */
void records_store_close (RecordsStore *store);

/* The schema version the database is at (after open: the latest known). */
int records_store_get_schema_version (RecordsStore *store);

/* The schema version this build knows how to migrate to. */
int records_store_get_latest_schema_version (void);

/* Appends one call event stamped with the current UTC time (ISO-8601).
 * @display_name may be NULL (it is for leave events). */
gboolean records_store_add_call_event (RecordsStore *store,
                                       const char *room,
                                       const char *participant,
                                       RecordsCallEvent event,
                                       const char *display_name,
                                       GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecordsStore, records_store_close)

G_END_DECLS
