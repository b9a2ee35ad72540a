/* consultations.c — consultations (FHIR Encounter), consents, patient
 * invitations. */
#include "records.h"

#include <openssl/rand.h>
#include <string.h>

#include "records-priv.h"

/* ---- consultations ----------------------------------------------------- */

#define CONSULTATION_COLUMNS \
  "c.id, c.patient_id, c.requester_id, c.requesting_facility_id, c.scheduled_at, c.status," \
  " c.reason, c.notes, c.outcome, c.started_at, c.ended_at, c.created_at"

#define RECORDS_MAX_REASON 1000
#define RECORDS_TIME_MIN "0000-01-01T00:00:00.000Z"
#define RECORDS_TIME_MAX "9999-12-31T23:59:59.999Z"

void
records_consultation_free (RecordsConsultation *consultation)
{
  if (consultation == NULL)
    return;
  g_free (consultation->id);
  g_free (consultation->patient_id);
  g_free (consultation->requester_id);
  g_free (consultation->requesting_facility_id);
  g_strfreev (consultation->specialist_ids);
  g_free (consultation->scheduled_at);
  g_free (consultation->status);
  g_free (consultation->reason);
  g_free (consultation->notes);
  g_free (consultation->outcome);
  g_free (consultation->started_at);
  g_free (consultation->ended_at);
  g_free (consultation->created_at);
  g_free (consultation);
}

static GStrv
load_specialists (RecordsDb *db, const char *consultation_id, GError **error)
{
  g_autoptr (RecordsDbRows) rows = NULL;
  GStrv ids;

  rows = records_db_query (db, "SELECT user_id FROM consultation_specialists"
                               " WHERE consultation_id = ? ORDER BY position",
                           DB_PARAMS (consultation_id), error);
  if (rows == NULL)
    return NULL;
  ids = g_new0 (char *, rows->n_rows + 1);
  for (guint r = 0; r < rows->n_rows; r++)
    ids[r] = g_strdup (records_db_rows_get (rows, r, 0));
  return ids;
}

/* The consultations of @rows, each with its specialists. */
static GPtrArray *
consultations_from_rows (RecordsDb *db, const RecordsDbRows *rows, GError **error)
{
  g_autoptr (GPtrArray) list =
    g_ptr_array_new_with_free_func ((GDestroyNotify) records_consultation_free);

  for (guint r = 0; r < rows->n_rows; r++) {
    RecordsConsultation *c = g_new0 (RecordsConsultation, 1);

    g_ptr_array_add (list, c);
    c->id = g_strdup (records_db_rows_get (rows, r, 0));
    c->patient_id = g_strdup (records_db_rows_get (rows, r, 1));
    c->requester_id = g_strdup (records_db_rows_get (rows, r, 2));
    c->requesting_facility_id = g_strdup (records_db_rows_get (rows, r, 3));
    c->scheduled_at = g_strdup (records_db_rows_get (rows, r, 4));
    c->status = g_strdup (records_db_rows_get (rows, r, 5));
    c->reason = g_strdup (records_db_rows_get (rows, r, 6));
    c->notes = g_strdup (records_db_rows_get (rows, r, 7));
    c->outcome = g_strdup (records_db_rows_get (rows, r, 8));
    c->started_at = g_strdup (records_db_rows_get (rows, r, 9));
    c->ended_at = g_strdup (records_db_rows_get (rows, r, 10));
    c->created_at = g_strdup (records_db_rows_get (rows, r, 11));
    c->specialist_ids = load_specialists (db, c->id, error);
    if (c->specialist_ids == NULL)
      return NULL;
  }
  return g_steal_pointer (&list);
}

static gboolean
insert_specialist (RecordsDb *db, const char *consultation_id, const char *user_id,
                   const char *now, GError **error)
{
  g_autoptr (RecordsDbRows) rows = NULL;
  g_autofree char *position = NULL;

  rows = records_db_query (db, "SELECT COALESCE(MAX(position), 0) + 1"
                               " FROM consultation_specialists WHERE consultation_id = ?",
                           DB_PARAMS (consultation_id), error);
  if (rows == NULL)
    return FALSE;
  position = g_strdup (records_db_rows_get (rows, 0, 0));
  if (!records_db_exec (db, "INSERT INTO consultation_specialists"
                            " (consultation_id, user_id, position, added_at) VALUES (?, ?, ?, ?)",
                        DB_PARAMS (consultation_id, user_id, position, now), NULL, error)) {
    if (error && g_error_matches (*error, RECORDS_ERROR, RECORDS_ERROR_CONFLICT)) {
      g_clear_error (error);
      g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_CONFLICT,
                   "specialist_id: already on the consultation");
    }
    return FALSE;
  }
  return TRUE;
}

gboolean
records_consultation_create (RecordsStore *store, RecordsConsultation *consultation,
                             const char *actor_id, GError **error)
{
  RecordsDb *db;
  g_autofree char *id = NULL;
  g_autofree char *now = NULL;
  g_autofree char *scheduled_at = NULL;

  g_return_val_if_fail (store != NULL && consultation != NULL, FALSE);
  db = records_store_get_db (store);

  if (!records_check_reference (store, "SELECT 1 FROM patients WHERE id = ?", "patient_id",
                                consultation->patient_id, error)
      || !records_check_reference (store, "SELECT 1 FROM users WHERE id = ?", "requester_id",
                                   consultation->requester_id, error)
      || !records_check_reference (store, "SELECT 1 FROM facilities WHERE id = ?",
                                   "requesting_facility_id",
                                   consultation->requesting_facility_id, error))
    return FALSE;
  for (guint i = 0; consultation->specialist_ids && consultation->specialist_ids[i]; i++) {
    if (!records_check_reference (store, "SELECT 1 FROM users WHERE id = ?", "specialist_ids",
                                  consultation->specialist_ids[i], error))
      return FALSE;
    for (guint j = 0; j < i; j++)
      if (strcmp (consultation->specialist_ids[i], consultation->specialist_ids[j]) == 0) {
        g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID,
                     "specialist_ids: listed twice");
        return FALSE;
      }
  }
  scheduled_at = records_check_time ("scheduled_at", consultation->scheduled_at, error);
  if (scheduled_at == NULL)
    return FALSE;
  if (consultation->status != NULL && strcmp (consultation->status, "planned") != 0) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID,
                 "status: a new consultation is planned");
    return FALSE;
  }
  if (!records_check_text ("reason", consultation->reason, RECORDS_MAX_REASON,
                           RECORDS_TEXT_MULTILINE, error)
      || !records_check_text ("notes", consultation->notes, RECORDS_MAX_TEXT,
                              RECORDS_TEXT_MULTILINE | RECORDS_TEXT_OPTIONAL, error)
      || !records_check_text ("outcome", consultation->outcome, RECORDS_MAX_TEXT,
                              RECORDS_TEXT_MULTILINE | RECORDS_TEXT_OPTIONAL, error))
    return FALSE;

  id = records_new_id ();
  now = records_timestamp_now ();
  if (!records_db_begin (db, NULL, error))
    return FALSE;
  if (!records_db_exec (db, "INSERT INTO consultations (id, patient_id, requester_id,"
                            " requesting_facility_id, scheduled_at, status, reason, notes,"
                            " outcome, created_at) VALUES (?, ?, ?, ?, ?, 'planned', ?, ?, ?, ?)",
                        DB_PARAMS (id, consultation->patient_id, consultation->requester_id,
                                   consultation->requesting_facility_id, scheduled_at,
                                   consultation->reason, consultation->notes,
                                   consultation->outcome, now),
                        NULL, error))
    goto rollback;
  for (guint i = 0; consultation->specialist_ids && consultation->specialist_ids[i]; i++)
    if (!insert_specialist (db, id, consultation->specialist_ids[i], now, error))
      goto rollback;
  if (!records_db_commit (db, error))
    return FALSE;

  g_free (consultation->id);
  consultation->id = g_steal_pointer (&id);
  g_free (consultation->scheduled_at);
  consultation->scheduled_at = g_steal_pointer (&scheduled_at);
  g_free (consultation->status);
  consultation->status = g_strdup ("planned");
  g_clear_pointer (&consultation->started_at, g_free);
  g_clear_pointer (&consultation->ended_at, g_free);
  if (consultation->specialist_ids == NULL)
    consultation->specialist_ids = g_new0 (char *, 1);
  g_free (consultation->created_at);
  consultation->created_at = g_steal_pointer (&now);
  return TRUE;

rollback:
  records_db_rollback (db);
  return FALSE;
}

RecordsConsultation *
records_consultation_get (RecordsStore *store, const char *id, GError **error)
{
  g_autoptr (RecordsDbRows) rows = NULL;
  g_autoptr (GPtrArray) list = NULL;
  RecordsDb *db;

  g_return_val_if_fail (store != NULL, NULL);
  db = records_store_get_db (store);
  if (id == NULL) {
    records_set_not_found (error, "consultation", NULL);
    return NULL;
  }
  rows = records_db_query (db, "SELECT " CONSULTATION_COLUMNS " FROM consultations c"
                               " WHERE c.id = ?",
                           DB_PARAMS (id), error);
  if (rows == NULL)
    return NULL;
  if (rows->n_rows == 0) {
    records_set_not_found (error, "consultation", id);
    return NULL;
  }
  list = consultations_from_rows (db, rows, error);
  if (list == NULL)
    return NULL;
  return g_ptr_array_steal_index (list, 0);
}

GPtrArray *
records_consultation_list_for_user (RecordsStore *store, const RecordsUser *user,
                                    const char *from, const char *to, GError **error)
{
  g_autoptr (RecordsDbRows) rows = NULL;
  g_autofree char *from_text = NULL;
  g_autofree char *to_text = NULL;
  const char *facility_id = NULL;
  RecordsDb *db;

  g_return_val_if_fail (store != NULL && user != NULL && user->id != NULL, NULL);
  db = records_store_get_db (store);
  from_text = from ? records_check_time ("from", from, error) : g_strdup (RECORDS_TIME_MIN);
  if (from_text == NULL)
    return NULL;
  to_text = to ? records_check_time ("to", to, error) : g_strdup (RECORDS_TIME_MAX);
  if (to_text == NULL)
    return NULL;
  /* Nurses and clinicians also see their facility's consultations; for
   * others the facility clause compares with NULL, which never holds. */
  if (user->role == RECORDS_ROLE_NURSE || user->role == RECORDS_ROLE_CLINICIAN)
    facility_id = user->facility_id;

  rows = records_db_query (db, "SELECT " CONSULTATION_COLUMNS " FROM consultations c"
                               " WHERE (c.requester_id = ?"
                               "        OR EXISTS (SELECT 1 FROM consultation_specialists s"
                               "                   WHERE s.consultation_id = c.id"
                               "                     AND s.user_id = ?)"
                               "        OR c.requesting_facility_id = ?)"
                               "   AND c.scheduled_at >= ? AND c.scheduled_at < ?"
                               " ORDER BY c.scheduled_at, c.id",
                           DB_PARAMS (user->id, user->id, facility_id, from_text, to_text),
                           error);
  if (rows == NULL)
    return NULL;
  return consultations_from_rows (db, rows, error);
}

GPtrArray *
records_consultation_list_for_patient (RecordsStore *store, const char *patient_id,
                                       GError **error)
{
  g_autoptr (RecordsDbRows) rows = NULL;
  RecordsDb *db;

  g_return_val_if_fail (store != NULL, NULL);
  db = records_store_get_db (store);
  rows = records_db_query (db, "SELECT " CONSULTATION_COLUMNS " FROM consultations c"
                               " WHERE c.patient_id = ? ORDER BY c.scheduled_at, c.id",
                           DB_PARAMS (patient_id), error);
  if (rows == NULL)
    return NULL;
  return consultations_from_rows (db, rows, error);
}

/* FHIR R4 Encounter.status moves Cầu uses (a subset of the standard's
 * state machine: planned → arrived → in-progress → finished, arrived may
 * be skipped when no patient waits in a lobby; cancelled from any state but
 * finished; finished and cancelled are final). */
static gboolean
status_move_allowed (const char *from, const char *to)
{
  static const struct {
    const char *from;
    const char *to;
  } moves[] = {
    { "planned", "arrived" },     { "planned", "in-progress" }, { "planned", "cancelled" },
    { "arrived", "in-progress" }, { "arrived", "cancelled" },
    { "in-progress", "finished" }, { "in-progress", "cancelled" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (moves); i++)
    if (strcmp (moves[i].from, from) == 0 && strcmp (moves[i].to, to) == 0)
      return TRUE;
  return FALSE;
}

gboolean
records_consultation_set_status (RecordsStore *store, const char *id, const char *status,
                                 const char *actor_id, GError **error)
{
  g_autofree char *now = NULL;
  RecordsDb *db;
  gint64 changes = 0;

  g_return_val_if_fail (store != NULL, FALSE);
  db = records_store_get_db (store);
  if (!records_consultation_status_valid (status)) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID,
                 "status: must be planned, arrived, in-progress, finished or cancelled");
    return FALSE;
  }
  now = records_timestamp_now ();

  /* Compare-and-set on the status read, so two nodes moving the same
   * consultation cannot both win; one retry covers a lost race. */
  for (int attempt = 0; attempt < 2; attempt++) {
    g_autoptr (RecordsDbRows) rows = NULL;
    const char *current;

    rows = records_db_query (db, "SELECT status FROM consultations WHERE id = ?",
                             DB_PARAMS (id), error);
    if (rows == NULL)
      return FALSE;
    if (rows->n_rows == 0) {
      records_set_not_found (error, "consultation", id);
      return FALSE;
    }
    current = records_db_rows_get (rows, 0, 0);
    if (strcmp (current, status) == 0)
      return TRUE;   /* already there: nothing changes, not even the times */
    if (!status_move_allowed (current, status)) {
      g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID,
                   "status: cannot move from %s to %s", current, status);
      return FALSE;
    }
    if (!records_db_exec (db, "UPDATE consultations SET status = ?,"
                              " started_at = CASE WHEN ? = 'in-progress'"
                              "   THEN COALESCE(started_at, ?) ELSE started_at END,"
                              " ended_at = CASE WHEN ? IN ('finished', 'cancelled')"
                              "   THEN ? ELSE ended_at END"
                              " WHERE id = ? AND status = ?",
                          DB_PARAMS (status, status, now, status, now, id, current), &changes,
                          error))
      return FALSE;
    if (changes == 1)
      return TRUE;
  }
  g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_CONFLICT,
               "status: changed by another writer meanwhile");
  return FALSE;
}

gboolean
records_consultation_update_notes (RecordsStore *store, const char *id, const char *notes,
                                   const char *outcome, const char *actor_id, GError **error)
{
  gint64 changes = 0;

  g_return_val_if_fail (store != NULL, FALSE);
  if (!records_check_text ("notes", notes, RECORDS_MAX_TEXT,
                           RECORDS_TEXT_MULTILINE | RECORDS_TEXT_OPTIONAL, error)
      || !records_check_text ("outcome", outcome, RECORDS_MAX_TEXT,
                              RECORDS_TEXT_MULTILINE | RECORDS_TEXT_OPTIONAL, error))
    return FALSE;
  if (id == NULL) {
    records_set_not_found (error, "consultation", NULL);
    return FALSE;
  }
  if (!records_db_exec (records_store_get_db (store),
                        "UPDATE consultations SET notes = COALESCE(?, notes),"
                        " outcome = COALESCE(?, outcome) WHERE id = ?",
                        DB_PARAMS (notes, outcome, id), &changes, error))
    return FALSE;
  if (changes == 0) {
    records_set_not_found (error, "consultation", id);
    return FALSE;
  }
  return TRUE;
}

gboolean
records_consultation_add_specialist (RecordsStore *store, const char *id,
                                     const char *specialist_id, const char *actor_id,
                                     GError **error)
{
  g_autoptr (RecordsDbRows) rows = NULL;
  g_autofree char *now = NULL;
  RecordsDb *db;

  g_return_val_if_fail (store != NULL, FALSE);
  db = records_store_get_db (store);
  if (id == NULL) {
    records_set_not_found (error, "consultation", NULL);
    return FALSE;
  }
  rows = records_db_query (db, "SELECT 1 FROM consultations WHERE id = ?", DB_PARAMS (id),
                           error);
  if (rows == NULL)
    return FALSE;
  if (rows->n_rows == 0) {
    records_set_not_found (error, "consultation", id);
    return FALSE;
  }
  if (!records_check_reference (store, "SELECT 1 FROM users WHERE id = ?", "specialist_id",
                                specialist_id, error))
    return FALSE;
  now = records_timestamp_now ();
  /* Locked so that two invitations at once get distinct positions. */
  if (!records_db_begin (db, "consultation_specialists", error))
    return FALSE;
  if (!insert_specialist (db, id, specialist_id, now, error)) {
    records_db_rollback (db);
    return FALSE;
  }
  return records_db_commit (db, error);
}

gboolean
records_consultation_has_member (const RecordsConsultation *consultation, const char *user_id)
{
  g_return_val_if_fail (consultation != NULL, FALSE);
  if (user_id == NULL)
    return FALSE;
  if (g_strcmp0 (consultation->requester_id, user_id) == 0)
    return TRUE;
  return consultation->specialist_ids != NULL
         && g_strv_contains ((const char *const *) consultation->specialist_ids, user_id);
}

/* ---- consents ---------------------------------------------------------- */

#define CONSENT_COLUMNS \
  "id, patient_id, consultation_id, purpose, granted, recorded_by, method, at"

static const char *const consent_purposes[] = { "recording", "sharing", "treatment", NULL };
static const char *const consent_methods[] = { "verbal", "written", "electronic", NULL };

void
records_consent_free (RecordsConsent *consent)
{
  if (consent == NULL)
    return;
  g_free (consent->id);
  g_free (consent->patient_id);
  g_free (consent->consultation_id);
  g_free (consent->purpose);
  g_free (consent->recorded_by);
  g_free (consent->method);
  g_free (consent->at);
  g_free (consent);
}

static RecordsConsent *
consent_from_row (const RecordsDbRows *rows, guint r)
{
  RecordsConsent *consent = g_new0 (RecordsConsent, 1);

  consent->id = g_strdup (records_db_rows_get (rows, r, 0));
  consent->patient_id = g_strdup (records_db_rows_get (rows, r, 1));
  consent->consultation_id = g_strdup (records_db_rows_get (rows, r, 2));
  consent->purpose = g_strdup (records_db_rows_get (rows, r, 3));
  consent->granted = records_text_to_int (records_db_rows_get (rows, r, 4)) != 0;
  consent->recorded_by = g_strdup (records_db_rows_get (rows, r, 5));
  consent->method = g_strdup (records_db_rows_get (rows, r, 6));
  consent->at = g_strdup (records_db_rows_get (rows, r, 7));
  return consent;
}

gboolean
records_consent_create (RecordsStore *store, RecordsConsent *consent, GError **error)
{
  g_autoptr (RecordsDbRows) rows = NULL;
  g_autofree char *id = NULL;
  g_autofree char *at = NULL;
  g_autofree char *seq = NULL;
  RecordsDb *db;

  g_return_val_if_fail (store != NULL && consent != NULL, FALSE);
  db = records_store_get_db (store);
  if (!records_check_reference (store, "SELECT 1 FROM patients WHERE id = ?", "patient_id",
                                consent->patient_id, error)
      || !records_check_enum ("purpose", consent->purpose, consent_purposes, error)
      || !records_check_enum ("method", consent->method, consent_methods, error)
      || !records_check_text ("recorded_by", consent->recorded_by, RECORDS_MAX_SHORT, 0, error))
    return FALSE;
  if (consent->consultation_id != NULL) {
    rows = records_db_query (db, "SELECT patient_id FROM consultations WHERE id = ?",
                             DB_PARAMS (consent->consultation_id), error);
    if (rows == NULL)
      return FALSE;
    if (rows->n_rows == 0
        || g_strcmp0 (records_db_rows_get (rows, 0, 0), consent->patient_id) != 0) {
      g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID,
                   "consultation_id: no such consultation of this patient");
      return FALSE;
    }
    g_clear_pointer (&rows, records_db_rows_free);
  }
  at = consent->at ? records_check_time ("at", consent->at, error) : records_timestamp_now ();
  if (at == NULL)
    return FALSE;

  id = records_new_id ();
  /* seq orders decisions (timestamps may tie); the lock keeps it unique
   * across nodes. */
  if (!records_db_begin (db, "consents", error))
    return FALSE;
  rows = records_db_query (db, "SELECT COALESCE(MAX(seq), 0) + 1 FROM consents", DB_NO_PARAMS,
                           error);
  if (rows == NULL)
    goto rollback;
  seq = g_strdup (records_db_rows_get (rows, 0, 0));
  if (!records_db_exec (db, "INSERT INTO consents (" CONSENT_COLUMNS ", seq)"
                            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        DB_PARAMS (id, consent->patient_id, consent->consultation_id,
                                   consent->purpose, consent->granted ? "1" : "0",
                                   consent->recorded_by, consent->method, at, seq),
                        NULL, error)
      || !records_db_commit (db, error))
    goto rollback;

  g_free (consent->id);
  consent->id = g_steal_pointer (&id);
  g_free (consent->at);
  consent->at = g_steal_pointer (&at);
  return TRUE;

rollback:
  records_db_rollback (db);
  return FALSE;
}

RecordsConsent *
records_consent_get (RecordsStore *store, const char *id, GError **error)
{
  g_autoptr (RecordsDbRows) rows = NULL;

  g_return_val_if_fail (store != NULL, NULL);
  if (id == NULL) {
    records_set_not_found (error, "consent", NULL);
    return NULL;
  }
  rows = records_db_query (records_store_get_db (store),
                           "SELECT " CONSENT_COLUMNS " FROM consents WHERE id = ?",
                           DB_PARAMS (id), error);
  if (rows == NULL)
    return NULL;
  if (rows->n_rows == 0) {
    records_set_not_found (error, "consent", id);
    return NULL;
  }
  return consent_from_row (rows, 0);
}

GPtrArray *
records_consent_list_for_patient (RecordsStore *store, const char *patient_id, GError **error)
{
  g_autoptr (RecordsDbRows) rows = NULL;
  GPtrArray *list;

  g_return_val_if_fail (store != NULL, NULL);
  rows = records_db_query (records_store_get_db (store),
                           "SELECT " CONSENT_COLUMNS " FROM consents WHERE patient_id = ?"
                           " ORDER BY seq",
                           DB_PARAMS (patient_id), error);
  if (rows == NULL)
    return NULL;
  list = g_ptr_array_new_with_free_func ((GDestroyNotify) records_consent_free);
  for (guint r = 0; r < rows->n_rows; r++)
    g_ptr_array_add (list, consent_from_row (rows, r));
  return list;
}

RecordsConsent *
records_consent_current (RecordsStore *store, const char *patient_id,
                         const char *consultation_id, const char *purpose, GError **error)
{
  g_autoptr (RecordsDbRows) rows = NULL;
  RecordsDb *db;

  g_return_val_if_fail (store != NULL, NULL);
  db = records_store_get_db (store);
  if (!records_check_enum ("purpose", purpose, consent_purposes, error))
    return NULL;
  if (consultation_id != NULL) {
    rows = records_db_query (db, "SELECT " CONSENT_COLUMNS " FROM consents"
                                 " WHERE patient_id = ? AND purpose = ? AND consultation_id = ?"
                                 " ORDER BY seq DESC LIMIT 1",
                             DB_PARAMS (patient_id, purpose, consultation_id), error);
    if (rows == NULL)
      return NULL;
    if (rows->n_rows == 1)
      return consent_from_row (rows, 0);
    g_clear_pointer (&rows, records_db_rows_free);
  }
  rows = records_db_query (db, "SELECT " CONSENT_COLUMNS " FROM consents"
                               " WHERE patient_id = ? AND purpose = ?"
                               "   AND consultation_id IS NULL"
                               " ORDER BY seq DESC LIMIT 1",
                           DB_PARAMS (patient_id, purpose), error);
  if (rows == NULL)
    return NULL;
  if (rows->n_rows == 0) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND, "no %s consent recorded",
                 purpose);
    return NULL;
  }
  return consent_from_row (rows, 0);
}

/* ---- invitations ------------------------------------------------------- */

#define INVITATION_COLUMNS \
  "id, consultation_id, patient_id, created_by, expires_at, revoked_at, created_at"

/* At most 30 days: a link is for one consultation, not a standing pass. */
#define RECORDS_MAX_INVITATION_SECONDS (30 * 24 * 3600)

void
records_invitation_free (RecordsInvitation *invitation)
{
  if (invitation == NULL)
    return;
  g_free (invitation->id);
  g_free (invitation->consultation_id);
  g_free (invitation->patient_id);
  g_free (invitation->created_by);
  g_free (invitation->expires_at);
  g_free (invitation->revoked_at);
  g_free (invitation->created_at);
  g_free (invitation);
}

static RecordsInvitation *
invitation_from_row (const RecordsDbRows *rows, guint r)
{
  RecordsInvitation *invitation = g_new0 (RecordsInvitation, 1);

  invitation->id = g_strdup (records_db_rows_get (rows, r, 0));
  invitation->consultation_id = g_strdup (records_db_rows_get (rows, r, 1));
  invitation->patient_id = g_strdup (records_db_rows_get (rows, r, 2));
  invitation->created_by = g_strdup (records_db_rows_get (rows, r, 3));
  invitation->expires_at = g_strdup (records_db_rows_get (rows, r, 4));
  invitation->revoked_at = g_strdup (records_db_rows_get (rows, r, 5));
  invitation->created_at = g_strdup (records_db_rows_get (rows, r, 6));
  return invitation;
}

/* base64url without padding (RFC 4648 §5). */
static char *
base64url (const guint8 *data, gsize length)
{
  char *text = g_base64_encode (data, length);

  g_strdelimit (text, "+", '-');
  g_strdelimit (text, "/", '_');
  for (char *end = text + strlen (text); end > text && end[-1] == '='; end--)
    end[-1] = '\0';
  return text;
}

char *
records_invitation_create (RecordsStore *store, const char *consultation_id,
                           gint64 lifetime_seconds, const char *actor_id,
                           RecordsInvitation **out_invitation, GError **error)
{
  g_autoptr (RecordsDbRows) rows = NULL;
  g_autoptr (RecordsInvitation) invitation = NULL;
  g_autofree char *secret = NULL;
  g_autofree char *hash = NULL;
  guint8 bytes[32];
  gint64 now_ms;
  RecordsDb *db;

  g_return_val_if_fail (store != NULL, NULL);
  db = records_store_get_db (store);
  if (!records_check_text ("created_by", actor_id, RECORDS_MAX_SHORT, 0, error))
    return NULL;
  if (lifetime_seconds <= 0 || lifetime_seconds > RECORDS_MAX_INVITATION_SECONDS) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID,
                 "lifetime_seconds: must be 1 to %d", RECORDS_MAX_INVITATION_SECONDS);
    return NULL;
  }
  if (consultation_id == NULL) {
    records_set_not_found (error, "consultation", NULL);
    return NULL;
  }
  rows = records_db_query (db, "SELECT patient_id FROM consultations WHERE id = ?",
                           DB_PARAMS (consultation_id), error);
  if (rows == NULL)
    return NULL;
  if (rows->n_rows == 0) {
    records_set_not_found (error, "consultation", consultation_id);
    return NULL;
  }

  if (RAND_bytes (bytes, sizeof bytes) != 1) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_QUERY, "no random bytes for a secret");
    return NULL;
  }
  secret = base64url (bytes, sizeof bytes);
  explicit_bzero (bytes, sizeof bytes);
  hash = records_sha256_hex (secret, strlen (secret));

  now_ms = g_get_real_time () / 1000;
  invitation = g_new0 (RecordsInvitation, 1);
  invitation->id = records_new_id ();
  invitation->consultation_id = g_strdup (consultation_id);
  invitation->patient_id = g_strdup (records_db_rows_get (rows, 0, 0));
  invitation->created_by = g_strdup (actor_id);
  invitation->created_at = records_timestamp_from_unix_ms (now_ms);
  invitation->expires_at = records_timestamp_from_unix_ms (now_ms + lifetime_seconds * 1000);
  if (!records_db_exec (db, "INSERT INTO invitations (" INVITATION_COLUMNS ", secret_sha256)"
                            " VALUES (?, ?, ?, ?, ?, NULL, ?, ?)",
                        DB_PARAMS (invitation->id, invitation->consultation_id,
                                   invitation->patient_id, invitation->created_by,
                                   invitation->expires_at, invitation->created_at, hash),
                        NULL, error))
    return NULL;
  if (out_invitation)
    *out_invitation = g_steal_pointer (&invitation);
  return g_steal_pointer (&secret);
}

RecordsInvitation *
records_invitation_find (RecordsStore *store, const char *secret, GError **error)
{
  g_autoptr (RecordsDbRows) rows = NULL;
  g_autofree char *hash = NULL;

  g_return_val_if_fail (store != NULL, NULL);
  if (secret == NULL || strlen (secret) > 128) {
    records_set_not_found (error, "invitation", NULL);
    return NULL;
  }
  hash = records_sha256_hex (secret, strlen (secret));
  rows = records_db_query (records_store_get_db (store),
                           "SELECT " INVITATION_COLUMNS " FROM invitations"
                           " WHERE secret_sha256 = ?",
                           DB_PARAMS (hash), error);
  if (rows == NULL)
    return NULL;
  if (rows->n_rows == 0) {
    records_set_not_found (error, "invitation", NULL);
    return NULL;
  }
  return invitation_from_row (rows, 0);
}

gboolean
records_invitation_revoke (RecordsStore *store, const char *id, const char *actor_id,
                           GError **error)
{
  g_autofree char *now = NULL;
  gint64 changes = 0;

  g_return_val_if_fail (store != NULL, FALSE);
  if (id == NULL) {
    records_set_not_found (error, "invitation", NULL);
    return FALSE;
  }
  now = records_timestamp_now ();
  /* Revoking twice keeps the first time. */
  if (!records_db_exec (records_store_get_db (store),
                        "UPDATE invitations SET revoked_at = COALESCE(revoked_at, ?)"
                        " WHERE id = ?",
                        DB_PARAMS (now, id), &changes, error))
    return FALSE;
  if (changes == 0) {
    records_set_not_found (error, "invitation", id);
    return FALSE;
  }
  return TRUE;
}

GPtrArray *
records_invitation_list_for_consultation (RecordsStore *store, const char *consultation_id,
                                          GError **error)
{
  g_autoptr (RecordsDbRows) rows = NULL;
  GPtrArray *list;

  g_return_val_if_fail (store != NULL, NULL);
  rows = records_db_query (records_store_get_db (store),
                           "SELECT " INVITATION_COLUMNS " FROM invitations"
                           " WHERE consultation_id = ? ORDER BY created_at, id",
                           DB_PARAMS (consultation_id), error);
  if (rows == NULL)
    return NULL;
  list = g_ptr_array_new_with_free_func ((GDestroyNotify) records_invitation_free);
  for (guint r = 0; r < rows->n_rows; r++)
    g_ptr_array_add (list, invitation_from_row (rows, r));
  return list;
}
