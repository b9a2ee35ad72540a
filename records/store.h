/* store.h — Cầu's records store (SQLite back end).
 *
 * Thin for now: it opens <data_dir>/cau.db in WAL mode, brings the schema
 * up to date with numbered migrations (table schema_version), and records
 * call events (join / leave) for signaling.  Patients, consultations and the
 * audit log come later behind this same interface.
 *
 * Threads: a RecordsStore is used from one thread (signaling's main loop).
 * All SQL is prepared once with bound parameters; no SQL is built from
 * strings.
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

/* Finalises the statements and closes the database.  NULL is allowed. */
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
