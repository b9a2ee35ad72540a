/* records.h — Cầu's records: facilities, users, patients, consultations,
 * consents, invitations, login sessions, recordings and the audit log.
 *
 * One interface, two back ends behind it (records/db.h): SQLite (the
 * embedded default: <data_dir>/cau.db, WAL) and PostgreSQL (libpq, chosen
 * by a "postgresql://" or "postgres://" URI).  The same SQL text serves both:
 * it is written with "?" placeholders, which the PostgreSQL back end turns
 * into $1..$n, and uses only types both share (TEXT, BIGINT).  Identifiers
 * are random UUID strings made here, so no back end's autoincrement is
 * needed; timestamps are UTC ISO-8601 text with milliseconds, which sorts.
 *
 * Briefings (briefings.c) are the rooms of issue 6's hospital briefings.
 *
 * This header extends store.h (RecordsStore, its open/close and call events).
 *
 * Ownership: every getter returns (transfer full) structs freed with their
 * _free function (g_autoptr works); lists are GPtrArray with that free
 * function set.  A getter that finds nothing returns NULL and sets
 * RECORDS_ERROR_NOT_FOUND.  Writers validate their input (identifiers,
 * enumerations, lengths) and refuse bad values with RECORDS_ERROR_INVALID
 * and a message naming the field; nothing is stored then.
 *
 * Threads: a RecordsStore is used from one thread.
 */
#pragma once

#include <glib.h>

#include "store.h"

G_BEGIN_DECLS

/* ---- identifiers (identifiers.c; pure, no store needed) ---------------- */

/* CCCD (Căn cước công dân): 12 digits.  Digits 1–3: province code (one of
 * the 63 codes of Decree 137/2015 annex, 001–096 with gaps); digit 4: century
 * and sex (0/1 = 20th century male/female, 2/3 = 21st, 4/5 = 22nd, 6/7 =
 * 23rd, 8/9 = 24th); digits 5–6: last two digits of the birth year; digits
 * 7–12: random.  When @birth_year > 0 it must agree with digits 4–6.
 * FALSE + RECORDS_ERROR_INVALID with a message saying which part is wrong. */
gboolean records_cccd_validate (const char *cccd, int birth_year, GError **error);

/* BHYT card number: 15 characters.  Characters 1–2: beneficiary group code
 * (two capital letters from the list of Circular 01/2021 annex: DN, HX, CH,
 * NN, TK, HC, XK, CA, HT, TB, MS, XB, XN, TN, CC, CK, CB, KC, HD, TE, BT,
 * HN, DT, DK, XD, TS, TC, TQ, TA, TY, HG, LS, PV, CN, HS, SV, GB, GD, NO,
 * QN, CY, XV); character 3: benefit level 1–5; characters 4–5: province code
 * (two digits, 01–99); characters 6–15: the 10-digit social-insurance
 * number. */
gboolean records_bhyt_validate (const char *bhyt, GError **error);

/* FHIR identifier systems used for patients. */
#define RECORDS_SYSTEM_CCCD "urn:oid:2.16.704.1.1.1"   /* Vietnam citizen ID */
#define RECORDS_SYSTEM_BHYT "urn:oid:2.16.704.1.1.2"   /* Vietnam health insurance */

/* ---- enumerations ----------------------------------------------------- */

typedef enum {
  RECORDS_ROLE_CLINICIAN,        /* district clinic doctor                 */
  RECORDS_ROLE_SPECIALIST,       /* provincial/national hospital doctor    */
  RECORDS_ROLE_NURSE,
  RECORDS_ROLE_ADMINISTRATOR,
  RECORDS_ROLE_AUDITOR,
  RECORDS_ROLE_PATIENT,          /* never a user row; used by the policy   */
} RecordsRole;

/* "clinician", "specialist", ... ; parse returns FALSE for anything else. */
const char *records_role_to_string (RecordsRole role);
gboolean records_role_from_string (const char *text, RecordsRole *out_role);

/* Facility kinds: "district-clinic", "provincial-hospital", "national-hospital". */
gboolean records_facility_kind_valid (const char *kind);

/* Consultation status, FHIR Encounter.status values:
 * "planned" (scheduled), "arrived" (patient waiting in the lobby),
 * "in-progress", "finished", "cancelled". */
gboolean records_consultation_status_valid (const char *status);

/* ---- facilities -------------------------------------------------------- */

typedef struct {
  char *id;
  char *code;            /* unique, e.g. "38-DONGSON", [A-Za-z0-9-]{1,32}   */
  char *name;
  char *kind;            /* see records_facility_kind_valid                  */
  char *province_code;   /* 3-digit CCCD province code, e.g. "038"          */
  char *created_at;
} RecordsFacility;

void records_facility_free (RecordsFacility *facility);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecordsFacility, records_facility_free)

/* Fills facility->id and created_at.  Duplicate code → RECORDS_ERROR_CONFLICT. */
gboolean records_facility_create (RecordsStore *store, RecordsFacility *facility,
                                  const char *actor_id, GError **error);
RecordsFacility *records_facility_get (RecordsStore *store, const char *id, GError **error);
RecordsFacility *records_facility_get_by_code (RecordsStore *store, const char *code,
                                               GError **error);
GPtrArray *records_facility_list (RecordsStore *store, GError **error);

/* ---- users (staff) ----------------------------------------------------- */

typedef struct {
  char *id;
  char *username;        /* unique, [a-z0-9._-]{3,64}                         */
  char *display_name;
  RecordsRole role;      /* never RECORDS_ROLE_PATIENT                        */
  char *facility_id;     /* may be NULL for administrators and auditors       */
  char *password_hash;   /* PHC string (argon2id); never logged or sent       */
  int failed_logins;     /* consecutive                                       */
  gint64 locked_until;   /* unix seconds; 0 = not locked                      */
  gboolean disabled;
  char *created_at;
} RecordsUser;

void records_user_free (RecordsUser *user);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecordsUser, records_user_free)

gboolean records_user_create (RecordsStore *store, RecordsUser *user, const char *actor_id,
                              GError **error);
RecordsUser *records_user_get (RecordsStore *store, const char *id, GError **error);
RecordsUser *records_user_get_by_username (RecordsStore *store, const char *username,
                                           GError **error);
/* All users, or those of one facility when @facility_id is not NULL. */
GPtrArray *records_user_list (RecordsStore *store, const char *facility_id, GError **error);
gboolean records_user_set_login_state (RecordsStore *store, const char *user_id,
                                       int failed_logins, gint64 locked_until,
                                       GError **error);
gboolean records_user_set_password_hash (RecordsStore *store, const char *user_id,
                                         const char *password_hash, GError **error);

/* ---- patients ---------------------------------------------------------- */

typedef struct {
  char *id;
  char *cccd;            /* unique, validated                                 */
  char *bhyt;            /* NULL or unique, validated                         */
  char *name;
  char *birth_date;      /* YYYY-MM-DD, agrees with the CCCD's year digits    */
  char *sex;             /* "male", "female", "other", "unknown"; agrees with
                          * the CCCD's sex digit when male/female              */
  char *phone;           /* may be NULL                                       */
  char *address;         /* may be NULL                                       */
  char *facility_id;     /* the registering facility                          */
  char *created_at;
} RecordsPatient;

void records_patient_free (RecordsPatient *patient);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecordsPatient, records_patient_free)

gboolean records_patient_create (RecordsStore *store, RecordsPatient *patient,
                                 const char *actor_id, GError **error);
RecordsPatient *records_patient_get (RecordsStore *store, const char *id, GError **error);
/* @system is RECORDS_SYSTEM_CCCD or RECORDS_SYSTEM_BHYT (or "cccd"/"bhyt"). */
RecordsPatient *records_patient_find_by_identifier (RecordsStore *store, const char *system,
                                                    const char *value, GError **error);
/* Patients whose name contains @name_part (case-insensitive, Unicode
 * casefolding; NULL = all), registered at @facility_id (NULL = any); at most
 * @limit rows (0 = 100; never more than 1000), by name. */
GPtrArray *records_patient_search (RecordsStore *store, const char *name_part,
                                   const char *facility_id, guint limit, GError **error);

/* ---- consultations ----------------------------------------------------- */

typedef struct {
  char *id;
  char *patient_id;
  char *requester_id;            /* the requesting clinician (user id)         */
  char *requesting_facility_id;
  GStrv specialist_ids;          /* invited specialists (user ids), may be empty */
  char *scheduled_at;            /* ISO-8601 UTC                                */
  char *status;                  /* see records_consultation_status_valid     */
  char *reason;
  char *notes;                   /* may be NULL                                 */
  char *outcome;                 /* may be NULL                                 */
  char *started_at;              /* NULL until in-progress                      */
  char *ended_at;                /* NULL until finished/cancelled               */
  char *created_at;
} RecordsConsultation;

void records_consultation_free (RecordsConsultation *consultation);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecordsConsultation, records_consultation_free)

gboolean records_consultation_create (RecordsStore *store, RecordsConsultation *consultation,
                                      const char *actor_id, GError **error);
RecordsConsultation *records_consultation_get (RecordsStore *store, const char *id,
                                               GError **error);
/* Consultations the user is on the care team of (requester or invited
 * specialist) or, for nurses and clinicians, of their facility, scheduled in
 * [@from, @to) (ISO-8601; either may be NULL = open), by scheduled_at. */
GPtrArray *records_consultation_list_for_user (RecordsStore *store, const RecordsUser *user,
                                               const char *from, const char *to,
                                               GError **error);
GPtrArray *records_consultation_list_for_patient (RecordsStore *store, const char *patient_id,
                                                  GError **error);
/* Moves the status on (planned → arrived → in-progress → finished;
 * planned → in-progress when no patient waits in a lobby; any → cancelled
 * except finished; finished and cancelled are final); sets started_at on
 * in-progress, ended_at on finished/cancelled.  Setting the current status
 * again is a no-op (TRUE).  A move the FHIR state machine does not allow →
 * RECORDS_ERROR_INVALID; unknown id → NOT_FOUND. */
gboolean records_consultation_set_status (RecordsStore *store, const char *id,
                                          const char *status, const char *actor_id,
                                          GError **error);
/* Either may be NULL = unchanged. */
gboolean records_consultation_update_notes (RecordsStore *store, const char *id,
                                            const char *notes, const char *outcome,
                                            const char *actor_id, GError **error);
gboolean records_consultation_add_specialist (RecordsStore *store, const char *id,
                                              const char *specialist_id, const char *actor_id,
                                              GError **error);
/* TRUE when @user_id is the requester or an invited specialist. */
gboolean records_consultation_has_member (const RecordsConsultation *consultation,
                                          const char *user_id);

/* ---- consents ---------------------------------------------------------- */

typedef struct {
  char *id;
  char *patient_id;
  char *consultation_id; /* NULL = applies to every consultation of the patient */
  char *purpose;         /* "recording", "sharing", "treatment"               */
  gboolean granted;      /* FALSE = withdrawn / refused                       */
  char *recorded_by;     /* user id, or "patient" when the patient chose       */
  char *method;          /* "verbal", "written", "electronic"                 */
  char *at;
} RecordsConsent;

void records_consent_free (RecordsConsent *consent);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecordsConsent, records_consent_free)

/* Consents are append-only: a withdrawal is a new row with granted = FALSE. */
gboolean records_consent_create (RecordsStore *store, RecordsConsent *consent,
                                 GError **error);
RecordsConsent *records_consent_get (RecordsStore *store, const char *id, GError **error);
GPtrArray *records_consent_list_for_patient (RecordsStore *store, const char *patient_id,
                                             GError **error);
/* The latest decision for @purpose that applies to @consultation_id (a row for
 * that consultation, else a patient-wide row); NULL + NOT_FOUND when none. */
RecordsConsent *records_consent_current (RecordsStore *store, const char *patient_id,
                                         const char *consultation_id, const char *purpose,
                                         GError **error);

/* ---- patient invitations ---------------------------------------------- */

typedef struct {
  char *id;
  char *consultation_id;
  char *patient_id;
  char *created_by;
  char *expires_at;
  char *revoked_at;      /* NULL unless revoked                               */
  char *created_at;
} RecordsInvitation;

void records_invitation_free (RecordsInvitation *invitation);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecordsInvitation, records_invitation_free)

/* Creates an invitation valid for @lifetime_seconds (1 s to 30 days) for
 * the consultation's patient and returns (transfer full) its secret: 32
 * random bytes, base64url without padding (43 characters), shown once; the
 * store keeps only its SHA-256.  @out_invitation may be NULL. */
char *records_invitation_create (RecordsStore *store, const char *consultation_id,
                                 gint64 lifetime_seconds, const char *actor_id,
                                 RecordsInvitation **out_invitation, GError **error);
/* The invitation whose secret is @secret, whatever its state (the caller
 * checks expires_at and revoked_at: they are different errors to a user). */
RecordsInvitation *records_invitation_find (RecordsStore *store, const char *secret,
                                            GError **error);
gboolean records_invitation_revoke (RecordsStore *store, const char *id, const char *actor_id,
                                    GError **error);
GPtrArray *records_invitation_list_for_consultation (RecordsStore *store,
                                                     const char *consultation_id,
                                                     GError **error);

/* ---- login sessions (token revocation) -------------------------------- */

typedef struct {
  char *id;              /* the token's "jti"                                  */
  char *user_id;
  gint64 expires_at;     /* unix seconds                                       */
  gboolean revoked;
} RecordsLoginSession;

void records_login_session_free (RecordsLoginSession *session);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecordsLoginSession, records_login_session_free)

gboolean records_login_session_create (RecordsStore *store, const char *id,
                                       const char *user_id, gint64 expires_at,
                                       GError **error);
RecordsLoginSession *records_login_session_get (RecordsStore *store, const char *id,
                                                GError **error);
gboolean records_login_session_revoke (RecordsStore *store, const char *id, GError **error);

/* ---- recordings (recordings.c) ---------------------------------------- */

/* One row per recorded file: a participant's file (their audio and video,
 * kind "participant") or the composed file of the whole consultation (kind
 * "composed").  The files of one recording — from `record start` to its
 * stop — share @session_id, the id the WebSocket events and the media
 * engine call "the recording".  Files live in <data_dir>/recordings,
 * encrypted (records/vault.h); @sha256 is of the encrypted file.
 *
 * Status: "recording" while the file is written (and, for a composed row,
 * while it is composed: @compose_progress 0–100); "complete" when closed
 * with its digest; "interrupted" when caud stopped without closing it (the
 * file is readable up to its last whole chunk); "failed" when it could not
 * be written. */
typedef struct {
  char *id;
  char *consultation_id;
  char *patient_id;        /* the consultation's; filled by create           */
  char *session_id;        /* the recording session; create: NULL = a new one */
  char *kind;              /* "participant" or "composed"                    */
  char *participant_id;    /* the signaling participant; NULL when composed  */
  char *participant_name;  /* display name at the time; NULL when composed    */
  char *file_name;         /* relative to the recordings directory, one
                            * component: [A-Za-z0-9._-], no leading '.'       */
  char *status;            /* see above                                      */
  char *started_at;        /* create: NULL = now                             */
  char *ended_at;          /* NULL while recording                           */
  gint64 duration_ms;
  gint64 size;             /* bytes of the (encrypted) file                  */
  int compose_progress;    /* 0–100 while composing, else -1 (SQL NULL)      */
  char *sha256;            /* 64 lower-case hex digits, NULL until known     */
  char *key_id;            /* the server key that wraps the file's key       */
} RecordsRecording;

void records_recording_free (RecordsRecording *recording);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecordsRecording, records_recording_free)

/* "recording", "complete", "interrupted", "failed". */
gboolean records_recording_status_valid (const char *status);

/* Validates and inserts @recording; fills id, patient_id (from the
 * consultation), session_id (only when NULL: a new one; a given one is left
 * untouched), started_at and ended_at (replaced by their normalised text).
 * Unknown consultation → RECORDS_ERROR_INVALID "consultation_id". */
gboolean records_recording_create (RecordsStore *store, RecordsRecording *recording,
                                   GError **error);
RecordsRecording *records_recording_get (RecordsStore *store, const char *id, GError **error);
/* Writes what changes over a file's life: file_name, status, ended_at,
 * duration_ms, size, compose_progress, sha256, key_id (validated as on
 * create).  Unknown id → NOT_FOUND. */
gboolean records_recording_update (RecordsStore *store, const RecordsRecording *recording,
                                   GError **error);
/* Deletes one row (a participant's file that never got opened). */
gboolean records_recording_delete (RecordsStore *store, const char *id, GError **error);
/* By started_at, then id. */
GPtrArray *records_recording_list_for_consultation (RecordsStore *store,
                                                    const char *consultation_id,
                                                    GError **error);
GPtrArray *records_recording_list_for_patient (RecordsStore *store, const char *patient_id,
                                               GError **error);
GPtrArray *records_recording_list_for_session (RecordsStore *store, const char *session_id,
                                               GError **error);
/* The composed files' rows with @status (one of the statuses above), by
 * started_at, then id: at start, the compositions a stop left undone. */
GPtrArray *records_recording_list_compositions (RecordsStore *store, const char *status,
                                                GError **error);
/* At start, before any recording can run: every row still "recording" was
 * left so by a crash.  Marks them "interrupted" (ended_at = now when
 * unset, compose_progress cleared) in one transaction and returns them as
 * they are now ((transfer full), possibly empty) so that the caller can fill
 * size, digest and duration from the files it can read. */
GPtrArray *records_recording_mark_interrupted_all (RecordsStore *store, GError **error);

/* ---- briefings (briefings.c) ------------------------------------------ */

/* A hospital's online briefing (giao ban trực tuyến): a staff host, a few
 * presenters and many viewing sites.  Its id is also the id of its
 * signaling room.  Status: "planned" until it first goes live, "live"
 * while it runs (a WHIP publisher or the host started it), "ended" (final:
 * nobody joins or publishes any more).  A briefing names no patient. */
typedef struct {
  char *id;
  char *title;           /* 1..200 characters, one line                       */
  char *host_id;         /* the creating user                                 */
  char *facility_id;     /* the host's facility; may be NULL                  */
  char *scheduled_at;    /* ISO-8601 UTC                                      */
  char *status;          /* "planned", "live", "ended"                        */
  char *created_at;
} RecordsBriefing;

void records_briefing_free (RecordsBriefing *briefing);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecordsBriefing, records_briefing_free)

/* "planned", "live", "ended". */
gboolean records_briefing_status_valid (const char *status);

/* Validates and inserts @briefing (status must be NULL or "planned");
 * fills id, status, created_at and replaces scheduled_at with its
 * normalised UTC text.  Unknown host or facility → RECORDS_ERROR_INVALID
 * naming the field. */
gboolean records_briefing_create (RecordsStore *store, RecordsBriefing *briefing,
                                  const char *actor_id, GError **error);
RecordsBriefing *records_briefing_get (RecordsStore *store, const char *id, GError **error);
/* Briefings scheduled in [@from, @to) (ISO-8601; either may be NULL =
 * open), by scheduled_at then id; with @upcoming only those not ended
 * (planned or live, whatever their date).  At most 1000 rows. */
GPtrArray *records_briefing_list (RecordsStore *store, const char *from, const char *to,
                                  gboolean upcoming, GError **error);
/* planned → live → ended, planned → ended; ended is final.  Setting the
 * current status again is a no-op (TRUE).  A move backwards →
 * RECORDS_ERROR_INVALID; unknown id → NOT_FOUND; a concurrent writer that
 * won the race → CONFLICT. */
gboolean records_briefing_set_status (RecordsStore *store, const char *id, const char *status,
                                      const char *actor_id, GError **error);

/* ---- audit log (append-only, hash-chained) ---------------------------- */

typedef struct {
  gint64 seq;            /* 1, 2, 3, ... with no gaps                          */
  char *at;
  char *actor_id;        /* user id, invitation id for patients, "system"      */
  char *actor_role;      /* records_role_to_string, or "system" / "anonymous"  */
  char *action;          /* "login", "logout", "join", "leave", "read",
                          * "create", "update", "search", "admit",
                          * "playback", "export"                               */
  char *entity_type;     /* "Patient", "Encounter", "Consent", "User",
                          * "Organization", "AuditEvent", "Room", ...          */
  char *entity_id;       /* may be NULL                                        */
  char *patient_id;      /* the patient whose data it is, may be NULL          */
  char *outcome;         /* "success", "failure", "denied"                     */
  char *source;          /* client address, may be NULL                        */
  char *detail;          /* short text, never a secret or a patient name       */
  char *prev_hash;       /* hex SHA-256 of the previous event ("0"×64 first)   */
  char *hash;            /* hex SHA-256 over prev_hash and every field above   */
} RecordsAuditEvent;

void records_audit_event_free (RecordsAuditEvent *event);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecordsAuditEvent, records_audit_event_free)

/* Appends one event: fills seq, at, prev_hash and hash.  Serialised against
 * concurrent writers (SQLite BEGIN IMMEDIATE; PostgreSQL a table lock), so
 * several caud nodes on one PostgreSQL keep one chain. */
gboolean records_audit_append (RecordsStore *store, RecordsAuditEvent *event,
                               GError **error);
/* Events with seq > @after_seq (0 = from the start), filtered by whichever
 * of @actor_id, @patient_id, @action is not NULL; at most @limit (0 = 100;
 * never more than 1000), by seq. */
GPtrArray *records_audit_list (RecordsStore *store, gint64 after_seq, const char *actor_id,
                               const char *patient_id, const char *action, guint limit,
                               GError **error);
/* Walks the whole chain: every row's hash recomputed, every prev_hash linked,
 * seq contiguous from 1, and the last row equal to the head kept apart
 * (table audit_head, updated in the same transaction as each append), so an
 * edited, deleted or truncated row is found.  FALSE + RECORDS_ERROR_TAMPERED
 * with the first bad seq in the message and in @out_bad_seq (may be NULL);
 * *@out_count (may be NULL) = events checked. */
gboolean records_audit_verify (RecordsStore *store, gint64 *out_count, gint64 *out_bad_seq,
                               GError **error);

G_END_DECLS
