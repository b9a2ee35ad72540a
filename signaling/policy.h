/* policy.h — who may do what: Cầu's authorisation rules, pure.
 *
 * A principal is an authenticated caller (a staff user through a login
 * token, or a patient through an invitation token bound to one
 * consultation).  An operation is every REST, FHIR and WebSocket action
 * that touches a consultation, a patient or the administration.  The
 * decision depends only on the principal, the operation and the target's
 * context the caller loaded from the store (the consultation's care team,
 * the patient's facility and consultations): no I/O here, so the whole
 * matrix is unit-tested (tests/unit/signaling/test-policy.c).
 *
 * The rules (docs/api.md):
 * - A consultation's care team is its requester, its invited specialists,
 *   and the clinicians and nurses of its requesting facility.  Only the care
 *   team and the consultation's own patient (through that consultation's
 *   token) may join its room or read it; a token for one consultation opens
 *   no other.
 * - A patient sees only their own data, and only through their
 *   consultation's token.
 * - Clinicians and nurses see the patients of their facility; specialists
 *   the patients of consultations they are on the care team of.
 * - An auditor reads audit events and the staff directory, never patient
 *   data and never media.  An administrator manages users and facilities and
 *   reads audit events, joins no room and reads no patient data.
 * - Briefings (issue 6) hold no patient data.  Clinicians and specialists
 *   of a facility schedule them (and host them); every clinical staff
 *   account (clinician, specialist, nurse) lists, reads and joins them;
 *   only the host ends one or publishes into it over WHIP (a site given
 *   the floor publishes too: that is room state, checked by signaling).
 *   Patients, administrators and auditors do none of this.
 */
#pragma once

#include <glib.h>

#include "records.h"

G_BEGIN_DECLS

/* An authenticated caller.  Staff: @user_id, @role, @facility_id (NULL for
 * administrators and auditors without one), @session_id = the token's jti.
 * Patient: @role RECORDS_ROLE_PATIENT, @invitation_id, @consultation_id,
 * @patient_id; @user_id NULL.  @expires_at: the token's exp (unix seconds).
 * Every string is owned by the struct. */
typedef struct {
  RecordsRole role;
  char *user_id;
  char *username;          /* staff only */
  char *display_name;      /* staff only */
  char *facility_id;
  char *session_id;        /* staff: login session (jti) */
  char *invitation_id;     /* patient: the invitation redeemed */
  char *consultation_id;   /* patient: the one consultation the token opens */
  char *patient_id;        /* patient: who they are */
  gint64 expires_at;
} SignalingPrincipal;

void signaling_principal_free (SignalingPrincipal *principal);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignalingPrincipal, signaling_principal_free)

/* (transfer full) deep copy. */
SignalingPrincipal *signaling_principal_copy (const SignalingPrincipal *principal);

/* The audit log's actor id: the user id, or the invitation id for a patient. */
const char *signaling_principal_actor_id (const SignalingPrincipal *principal);

typedef enum {
  SIGNALING_OP_ROOM_JOIN,              /* enter a consultation's room (WSS)      */
  SIGNALING_OP_ROOM_ADMIT,             /* admit a patient from the lobby         */
  SIGNALING_OP_RECORD,                 /* start/stop recording a consultation    */
  SIGNALING_OP_RECORDING_PLAYBACK,     /* play a consultation's recording        */
  SIGNALING_OP_PATIENT_SEARCH,         /* list/search patients (results filtered) */
  SIGNALING_OP_PATIENT_READ,           /* read one patient and its chart         */
  SIGNALING_OP_PATIENT_CREATE,         /* register a patient at one's facility   */
  SIGNALING_OP_CONSULTATION_LIST,      /* the worklist (results filtered)        */
  SIGNALING_OP_CONSULTATION_READ,
  SIGNALING_OP_CONSULTATION_CREATE,    /* target: the patient                    */
  SIGNALING_OP_CONSULTATION_UPDATE,    /* status, notes, outcome                 */
  SIGNALING_OP_SPECIALIST_INVITE,      /* add a specialist to the care team      */
  SIGNALING_OP_INVITATION_CREATE,      /* a patient invitation link              */
  SIGNALING_OP_INVITATION_REVOKE,
  SIGNALING_OP_CONSENT_READ,           /* target: the patient                    */
  SIGNALING_OP_CONSENT_CREATE,         /* target: the patient (+ consultation)   */
  SIGNALING_OP_AUDIT_READ,
  SIGNALING_OP_USER_LIST,              /* every user                             */
  SIGNALING_OP_USER_MANAGE,            /* create users                           */
  SIGNALING_OP_SPECIALIST_LIST,        /* the specialists one may invite         */
  SIGNALING_OP_DIRECTORY_READ,         /* facilities, practitioners (FHIR)       */
  SIGNALING_OP_FACILITY_MANAGE,        /* create facilities                      */
  SIGNALING_OP_BRIEFING_CREATE,        /* schedule a briefing (host = caller)    */
  SIGNALING_OP_BRIEFING_READ,          /* list and read briefings                */
  SIGNALING_OP_BRIEFING_JOIN,          /* enter a briefing's room (WSS, WHEP)    */
  SIGNALING_OP_BRIEFING_END,           /* target: the briefing                   */
  SIGNALING_OP_BRIEFING_PUBLISH,       /* WHIP into a briefing; target: it       */
  SIGNALING_OP_COUNT
} SignalingOperation;

/* "room-join", "patient-read", ... (stable; used in audit details). */
const char *signaling_operation_to_string (SignalingOperation op);

/* The target of an operation; fields an operation does not need are NULL.
 * Consultation-scoped operations (room, record, playback, consultation
 * read/update, specialist invite, invitation create/revoke) need
 * @consultation.  Patient-scoped ones (patient read, consent read/create,
 * consultation create) need @patient_id, @patient_facility_id and
 * @patient_consultations (every consultation of that patient, RecordsConsultation*,
 * may be NULL = none); consent create may also name @consultation (a consent
 * for that consultation only; it must be the patient's).  Briefing end and
 * publish need @briefing (its host decides). */
typedef struct {
  const RecordsConsultation *consultation;
  const char *patient_id;
  const char *patient_facility_id;
  const GPtrArray *patient_consultations;
  const RecordsBriefing *briefing;
} SignalingPolicyTarget;

/* TRUE when @principal is on @consultation's care team (staff), or is the
 * consultation's own patient with that consultation's token. */
gboolean signaling_policy_in_consultation (const SignalingPrincipal *principal,
                                           const RecordsConsultation *consultation);

/* TRUE when @principal may do @op on @target.  A target missing what @op
 * needs is a denial, never an allowance.  Pure. */
gboolean signaling_policy_allows (const SignalingPrincipal *principal, SignalingOperation op,
                                  const SignalingPolicyTarget *target);

G_END_DECLS
