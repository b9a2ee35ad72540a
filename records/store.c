/* store.c — the records store: open (SQLite or PostgreSQL), migrate, call
 * events. */
#include "store.h"

#include "store-priv.h"

G_DEFINE_QUARK (records-error-quark, records_error)

struct RecordsStore {
  RecordsDb *db;
};

/* Migration N brings the schema from version N-1 to N.  Append only: a
 * released migration is never edited, a fix is a new migration.  One text
 * serves both back ends unless .postgresql is set (DDL that must differ:
 * SQLite's INTEGER PRIMARY KEY rowid versus an identity column; byte-order
 * collation, which is SQLite's default and PostgreSQL's "C"). */
typedef struct {
  const char *sqlite;
  const char *postgresql;     /* NULL = the same as .sqlite */
} Migration;

#define CALL_EVENTS_TABLE(id_column) \
  "CREATE TABLE call_events (" \
  "  id " id_column "," \
  "  room TEXT NOT NULL," \
  "  participant TEXT NOT NULL," \
  "  event TEXT NOT NULL CHECK (event IN ('join', 'leave'))," \
  "  display_name TEXT," \
  "  at TEXT NOT NULL" /* UTC ISO-8601 */ \
  ");" \
  "CREATE INDEX call_events_room_at ON call_events (room, at);"

/* Migration 2: the records of issue 4.  Identifiers are UUID text made by
 * records/, timestamps UTC ISO-8601 text with milliseconds, booleans
 * BIGINT 0/1.  @BYTES is the collation clause that makes ORDER BY on a
 * name compare bytes on both back ends. */
#define RECORDS_TABLES(BYTES) \
  "CREATE TABLE facilities (" \
  "  id TEXT PRIMARY KEY," \
  "  code TEXT NOT NULL UNIQUE," \
  "  name TEXT NOT NULL," \
  "  kind TEXT NOT NULL CHECK (kind IN ('district-clinic', 'provincial-hospital'," \
  "                                     'national-hospital'))," \
  "  province_code TEXT NOT NULL," \
  "  created_at TEXT NOT NULL" \
  ");" \
  "CREATE TABLE users (" \
  "  id TEXT PRIMARY KEY," \
  "  username TEXT NOT NULL UNIQUE," \
  "  display_name TEXT NOT NULL," \
  "  role TEXT NOT NULL CHECK (role IN ('clinician', 'specialist', 'nurse'," \
  "                                     'administrator', 'auditor'))," \
  "  facility_id TEXT REFERENCES facilities (id)," \
  "  password_hash TEXT," \
  "  failed_logins BIGINT NOT NULL DEFAULT 0," \
  "  locked_until BIGINT NOT NULL DEFAULT 0," \
  "  disabled BIGINT NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1))," \
  "  created_at TEXT NOT NULL" \
  ");" \
  "CREATE INDEX users_facility ON users (facility_id);" \
  "CREATE TABLE patients (" \
  "  id TEXT PRIMARY KEY," \
  "  cccd TEXT NOT NULL UNIQUE," \
  "  bhyt TEXT UNIQUE," \
  "  name TEXT NOT NULL," \
  "  name_fold TEXT " BYTES " NOT NULL," /* casefolded name, for search */ \
  "  birth_date TEXT NOT NULL," \
  "  sex TEXT NOT NULL CHECK (sex IN ('male', 'female', 'other', 'unknown'))," \
  "  phone TEXT," \
  "  address TEXT," \
  "  facility_id TEXT NOT NULL REFERENCES facilities (id)," \
  "  created_at TEXT NOT NULL" \
  ");" \
  "CREATE INDEX patients_name ON patients (name_fold, id);" \
  "CREATE INDEX patients_facility ON patients (facility_id, name_fold);" \
  "CREATE TABLE consultations (" \
  "  id TEXT PRIMARY KEY," \
  "  patient_id TEXT NOT NULL REFERENCES patients (id)," \
  "  requester_id TEXT NOT NULL REFERENCES users (id)," \
  "  requesting_facility_id TEXT NOT NULL REFERENCES facilities (id)," \
  "  scheduled_at TEXT NOT NULL," \
  "  status TEXT NOT NULL CHECK (status IN ('planned', 'arrived', 'in-progress'," \
  "                                         'finished', 'cancelled'))," \
  "  reason TEXT NOT NULL," \
  "  notes TEXT," \
  "  outcome TEXT," \
  "  started_at TEXT," \
  "  ended_at TEXT," \
  "  created_at TEXT NOT NULL" \
  ");" \
  "CREATE INDEX consultations_patient ON consultations (patient_id, scheduled_at);" \
  "CREATE INDEX consultations_requester ON consultations (requester_id, scheduled_at);" \
  "CREATE INDEX consultations_facility ON consultations (requesting_facility_id, scheduled_at);" \
  "CREATE TABLE consultation_specialists (" \
  "  consultation_id TEXT NOT NULL REFERENCES consultations (id)," \
  "  user_id TEXT NOT NULL REFERENCES users (id)," \
  "  position BIGINT NOT NULL," /* 1, 2, ... in the order invited */ \
  "  added_at TEXT NOT NULL," \
  "  PRIMARY KEY (consultation_id, user_id)" \
  ");" \
  "CREATE INDEX consultation_specialists_user ON consultation_specialists (user_id);" \
  "CREATE TABLE consents (" \
  "  id TEXT PRIMARY KEY," \
  "  seq BIGINT NOT NULL UNIQUE," /* order of recording; consents are append-only */ \
  "  patient_id TEXT NOT NULL REFERENCES patients (id)," \
  "  consultation_id TEXT REFERENCES consultations (id)," \
  "  purpose TEXT NOT NULL CHECK (purpose IN ('recording', 'sharing', 'treatment'))," \
  "  granted BIGINT NOT NULL CHECK (granted IN (0, 1))," \
  "  recorded_by TEXT NOT NULL," \
  "  method TEXT NOT NULL CHECK (method IN ('verbal', 'written', 'electronic'))," \
  "  at TEXT NOT NULL" \
  ");" \
  "CREATE INDEX consents_patient ON consents (patient_id, purpose, seq);" \
  "CREATE TABLE invitations (" \
  "  id TEXT PRIMARY KEY," \
  "  secret_sha256 TEXT NOT NULL UNIQUE," \
  "  consultation_id TEXT NOT NULL REFERENCES consultations (id)," \
  "  patient_id TEXT NOT NULL REFERENCES patients (id)," \
  "  created_by TEXT NOT NULL," \
  "  expires_at TEXT NOT NULL," \
  "  revoked_at TEXT," \
  "  created_at TEXT NOT NULL" \
  ");" \
  "CREATE INDEX invitations_consultation ON invitations (consultation_id, created_at);" \
  "CREATE TABLE login_sessions (" \
  "  id TEXT PRIMARY KEY," \
  "  user_id TEXT NOT NULL REFERENCES users (id)," \
  "  expires_at BIGINT NOT NULL," \
  "  revoked BIGINT NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1))," \
  "  created_at TEXT NOT NULL" \
  ");" \
  "CREATE TABLE recordings (" \
  "  id TEXT PRIMARY KEY," \
  "  consultation_id TEXT NOT NULL REFERENCES consultations (id)," \
  "  path TEXT NOT NULL," \
  "  status TEXT NOT NULL CHECK (status IN ('recording', 'complete', 'failed'))," \
  "  started_at TEXT NOT NULL," \
  "  ended_at TEXT," \
  "  duration_ms BIGINT NOT NULL DEFAULT 0," \
  "  sha256 TEXT," \
  "  key_id TEXT" \
  ");" \
  "CREATE INDEX recordings_consultation ON recordings (consultation_id, started_at);" \
  /* The audit chain; no foreign keys: events outlive what they name. */ \
  "CREATE TABLE audit_events (" \
  "  seq BIGINT PRIMARY KEY," \
  "  at TEXT NOT NULL," \
  "  actor_id TEXT NOT NULL," \
  "  actor_role TEXT NOT NULL," \
  "  action TEXT NOT NULL," \
  "  entity_type TEXT NOT NULL," \
  "  entity_id TEXT," \
  "  patient_id TEXT," \
  "  outcome TEXT NOT NULL," \
  "  source TEXT," \
  "  detail TEXT," \
  "  prev_hash TEXT NOT NULL," \
  "  hash TEXT NOT NULL" \
  ");" \
  "CREATE INDEX audit_events_actor ON audit_events (actor_id, seq);" \
  "CREATE INDEX audit_events_patient ON audit_events (patient_id, seq);" \
  "CREATE INDEX audit_events_action ON audit_events (action, seq);" \
  /* The chain's head, kept apart so that deleting the last rows shows. */ \
  "CREATE TABLE audit_head (" \
  "  id BIGINT PRIMARY KEY CHECK (id = 1)," \
  "  seq BIGINT NOT NULL," \
  "  hash TEXT NOT NULL" \
  ");" \
  "INSERT INTO audit_head (id, seq, hash) VALUES (1, 0," \
  "  '0000000000000000000000000000000000000000000000000000000000000000');"

/* Recordings as issue 5 files them: one row per file (a participant's
 * track file or the composed file of the whole consultation), grouped by
 * the recording session, with the patient, size, integrity digest and the
 * composition's progress; status gains "interrupted" (a file left open by a
 * crash).  SQLite cannot change a CHECK constraint in place: the table is
 * rebuilt, rows kept (path becomes file_name; the session of an old row is
 * the row itself). */
#define RECORDINGS_V3 \
  "CREATE TABLE recordings_v3 (" \
  "  id TEXT PRIMARY KEY," \
  "  consultation_id TEXT NOT NULL REFERENCES consultations (id)," \
  "  patient_id TEXT NOT NULL REFERENCES patients (id)," \
  "  session_id TEXT NOT NULL," \
  "  kind TEXT NOT NULL CHECK (kind IN ('participant', 'composed'))," \
  "  participant_id TEXT," \
  "  participant_name TEXT," \
  "  file_name TEXT NOT NULL," \
  "  status TEXT NOT NULL" \
  "    CHECK (status IN ('recording', 'complete', 'interrupted', 'failed'))," \
  "  started_at TEXT NOT NULL," \
  "  ended_at TEXT," \
  "  duration_ms BIGINT NOT NULL DEFAULT 0," \
  "  size BIGINT NOT NULL DEFAULT 0," \
  "  compose_progress BIGINT CHECK (compose_progress BETWEEN 0 AND 100)," \
  "  sha256 TEXT," \
  "  key_id TEXT" \
  ");" \
  "INSERT INTO recordings_v3 (id, consultation_id, patient_id, session_id, kind, file_name," \
  "  status, started_at, ended_at, duration_ms, sha256, key_id)" \
  "  SELECT r.id, r.consultation_id, c.patient_id, r.id, 'participant', r.path, r.status," \
  "         r.started_at, r.ended_at, r.duration_ms, r.sha256, r.key_id" \
  "  FROM recordings r JOIN consultations c ON c.id = r.consultation_id;" \
  "DROP TABLE recordings;" \
  "ALTER TABLE recordings_v3 RENAME TO recordings;" \
  "CREATE INDEX recordings_consultation ON recordings (consultation_id, started_at);" \
  "CREATE INDEX recordings_patient ON recordings (patient_id, started_at);" \
  "CREATE INDEX recordings_session ON recordings (session_id);" \
  "CREATE INDEX recordings_status ON recordings (status);"

/* Briefings (issue 6): a hospital's online briefing (giao ban), hosted by
 * a staff member of a facility; its id is the id of its signaling room.
 * No patient data: a briefing names no patient. */
#define BRIEFINGS_TABLE \
  "CREATE TABLE briefings (" \
  "  id TEXT PRIMARY KEY," \
  "  title TEXT NOT NULL," \
  "  host_id TEXT NOT NULL REFERENCES users (id)," \
  "  facility_id TEXT REFERENCES facilities (id)," \
  "  scheduled_at TEXT NOT NULL," \
  "  status TEXT NOT NULL CHECK (status IN ('planned', 'live', 'ended'))," \
  "  created_at TEXT NOT NULL" \
  ");" \
  "CREATE INDEX briefings_scheduled ON briefings (scheduled_at, id);" \
  "CREATE INDEX briefings_status ON briefings (status, scheduled_at);"

static const Migration migrations[] = {
  /* 1: call events, one row per join or leave of a participant. */
  { CALL_EVENTS_TABLE ("INTEGER PRIMARY KEY"),
    CALL_EVENTS_TABLE ("BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY") },
  /* 2: facilities, users, patients, consultations, consents, invitations,
   * login sessions, recordings, the audit log. */
  { RECORDS_TABLES (""), RECORDS_TABLES ("COLLATE \"C\"") },
  /* 3: recordings per file, with patient, kind, size, progress, interrupted. */
  { RECORDINGS_V3, NULL },
  /* 4: briefings. */
  { BRIEFINGS_TABLE, NULL },
};

int
records_store_get_latest_schema_version (void)
{
  return (int) G_N_ELEMENTS (migrations);
}

RecordsDb *
records_store_get_db (RecordsStore *store)
{
  return store->db;
}

char *
records_timestamp_now (void)
{
  return records_timestamp_from_unix_ms (g_get_real_time () / 1000);
}

char *
records_timestamp_from_unix_ms (gint64 unix_ms)
{
  g_autoptr (GDateTime) time = g_date_time_new_from_unix_utc (unix_ms / 1000);
  g_autofree char *seconds = NULL;

  if (time == NULL)
    return g_strdup ("1970-01-01T00:00:00.000Z");
  seconds = g_date_time_format (time, "%Y-%m-%dT%H:%M:%S");
  return g_strdup_printf ("%s.%03dZ", seconds, (int) (unix_ms % 1000));
}

const char *
records_store_get_backend (RecordsStore *store)
{
  g_return_val_if_fail (store != NULL, NULL);
  return records_db_get_backend (store->db) == RECORDS_DB_SQLITE ? "sqlite" : "postgresql";
}

static int
read_schema_version (RecordsStore *store, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (RecordsDbRows) rows = NULL;
  const char *value;

  rows = records_db_query (store->db, "SELECT MAX(version) FROM schema_version", DB_NO_PARAMS,
                           &local_error);
  if (rows == NULL || rows->n_rows != 1) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_MIGRATE, "cannot read schema version: %s",
                 local_error ? local_error->message : "no row");
    return -1;
  }
  value = records_db_rows_get (rows, 0, 0);
  return value ? (int) g_ascii_strtoll (value, NULL, 10) : 0;
}

/* Applies one pending migration, if any, in one transaction.  *@out_done is
 * set when the schema is up to date.  On PostgreSQL the transaction locks
 * schema_version first, so nodes starting together migrate one at a time and
 * each sees the others' work. */
static gboolean
migrate_step (RecordsStore *store, gboolean *out_done, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autofree char *next_text = NULL;
  g_autofree char *now = records_timestamp_now ();
  const Migration *migration;
  int version, next;

  *out_done = FALSE;
  if (!records_db_begin (store->db, "schema_version", error))
    return FALSE;
  version = read_schema_version (store, error);
  if (version < 0)
    goto rollback_plain;
  if (version > records_store_get_latest_schema_version ()) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_TOO_NEW,
                 "database schema version %d is newer than this caud knows (%d)",
                 version, records_store_get_latest_schema_version ());
    goto rollback_plain;
  }
  if (version == records_store_get_latest_schema_version ()) {
    *out_done = TRUE;
    return records_db_commit (store->db, error);
  }

  next = version + 1;
  next_text = g_strdup_printf ("%d", next);
  migration = &migrations[next - 1];
  if (!records_db_exec (store->db,
                        records_db_get_backend (store->db) == RECORDS_DB_POSTGRESQL
                            && migration->postgresql ? migration->postgresql
                                                     : migration->sqlite,
                        DB_NO_PARAMS, NULL, &local_error)
      || !records_db_exec (store->db,
                           "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                           DB_PARAMS (next_text, now), NULL,
                           &local_error)
      || !records_db_commit (store->db, &local_error)) {
    records_db_rollback (store->db);
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_MIGRATE, "migration %d failed: %s", next,
                 local_error->message);
    return FALSE;
  }
  g_debug ("records: schema migrated to version %d", next);
  return TRUE;

rollback_plain:
  records_db_rollback (store->db);
  return FALSE;
}

/* PostgreSQL: one session-level advisory lock (an arbitrary constant,
 * "cau" in ASCII) around the whole migration, so that nodes opening a new
 * database together do not race on CREATE TABLE IF NOT EXISTS. */
#define MIGRATION_LOCK "SELECT pg_advisory_lock(6513013)"
#define MIGRATION_UNLOCK "SELECT pg_advisory_unlock(6513013)"

static gboolean
migrate (RecordsStore *store, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  gboolean postgresql = records_db_get_backend (store->db) == RECORDS_DB_POSTGRESQL;
  gboolean done = FALSE, ok = TRUE;

  if (postgresql && !records_db_exec (store->db, MIGRATION_LOCK, DB_NO_PARAMS, NULL,
                                      &local_error)) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_MIGRATE, "%s", local_error->message);
    return FALSE;
  }
  if (!records_db_exec (store->db,
                        "CREATE TABLE IF NOT EXISTS schema_version ("
                        "  version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
                        DB_NO_PARAMS, NULL, &local_error)) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_MIGRATE, "%s", local_error->message);
    ok = FALSE;
  }
  while (ok && !done)
    ok = migrate_step (store, &done, error);
  if (postgresql)
    records_db_exec (store->db, MIGRATION_UNLOCK, DB_NO_PARAMS, NULL, NULL);
  return ok;
}

RecordsStore *
records_store_open_uri (const char *location, GError **error)
{
  g_autofree char *path = NULL;
  RecordsStore *store;

  g_return_val_if_fail (location != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  store = g_new0 (RecordsStore, 1);
  if (!records_db_location_is_uri (location))
    path = g_build_filename (location, "cau.db", NULL);
  store->db = records_db_open (path ? path : location, error);
  if (store->db == NULL || !migrate (store, error)) {
    records_store_close (store);
    return NULL;
  }
  return store;
}

RecordsStore *
records_store_open (const char *data_dir, GError **error)
{
  g_return_val_if_fail (data_dir != NULL, NULL);
  return records_store_open_uri (data_dir, error);
}

void
records_store_close (RecordsStore *store)
{
  if (store == NULL)
    return;
  records_db_close (store->db);
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
  g_autoptr (GError) local_error = NULL;

  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail (room != NULL && participant != NULL, FALSE);

  now = g_date_time_new_now_utc ();
  at = g_date_time_format (now, "%Y-%m-%dT%H:%M:%S.%fZ");
  if (!records_db_exec (store->db,
                        "INSERT INTO call_events (room, participant, event, display_name, at) "
                        "VALUES (?, ?, ?, ?, ?)",
                        DB_PARAMS (room, participant,
                                   event == RECORDS_CALL_EVENT_JOIN ? "join" : "leave",
                                   display_name, at),
                        NULL, &local_error)) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_QUERY, "cannot record call event: %s",
                 local_error->message);
    return FALSE;
  }
  return TRUE;
}
