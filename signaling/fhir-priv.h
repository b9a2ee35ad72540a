/* fhir-priv.h — shared between fhir.c (routing, reads, creates, replies)
 * and fhir-search.c (searches).  Not for other modules. */
#pragma once

#include "fhir-map.h"
#include "fhir.h"
#include "policy.h"

G_BEGIN_DECLS

typedef struct {
  SignalingApi *api;
  RecordsStore *store;
} FhirContext;

/* One request as the handlers see it. */
typedef struct {
  FhirContext *fhir;
  RecordsStore *store;
  SoupServerMessage *msg;
  GHashTable *query;            /* may be NULL */
  char *source;                 /* client address, may be NULL */
  SignalingPrincipal *who;      /* NULL before authentication */
  char *base_url;               /* https://host:port/fhir */
  char *self_url;               /* the request's URL */
} FhirRequest;

#define FHIR_DEFAULT_COUNT 100
#define FHIR_MAX_COUNT 500

/* ---- replies (each ends the request) ----------------------------------- */

/* Replies @status with @body (stolen) as application/fhir+json. */
void fhir_reply (SoupServerMessage *msg, guint status, json_t *body);
/* An OperationOutcome with @error's status and code. */
void fhir_reply_error (FhirRequest *req, SignalingFhirError error, const char *message,
                       const char *field);
/* Audits a refusal ("denied") and replies 403 forbidden. */
void fhir_reply_forbidden (FhirRequest *req, SignalingOperation op, const char *action,
                           const char *entity_type, const char *entity_id,
                           const char *patient_id);
/* NOT_FOUND 404, CONFLICT 409, INVALID 400 invalid-field (naming @field),
 * anything else 500 (logged, never sent). */
void fhir_reply_records_error (FhirRequest *req, const GError *error, const char *field);

void fhir_audit (FhirRequest *req, const char *action, const char *entity_type,
                 const char *entity_id, const char *patient_id, const char *outcome,
                 const char *detail);

/* ---- query parameters -------------------------------------------------- */

const char *fhir_param (FhirRequest *req, const char *name);
/* Only @allowed (NULL-terminated) may appear, none empty; FALSE after
 * replying 400 invalid-field naming the parameter. */
gboolean fhir_check_params (FhirRequest *req, const char *const *allowed);

/* ---- access ------------------------------------------------------------ */

/* What policy.h needs to decide on a patient: the row and its
 * consultations (target points into them). */
typedef struct {
  RecordsPatient *patient;
  GPtrArray *consultations;
  SignalingPolicyTarget target;
} PatientTarget;

void fhir_patient_target_clear (PatientTarget *t);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PatientTarget, fhir_patient_target_clear)

gboolean fhir_patient_target_load (RecordsStore *store, const char *patient_id,
                                   PatientTarget *t, GError **error);
/* FALSE with @error unset: refused; FALSE with @error: a store error (or
 * NOT_FOUND). */
gboolean fhir_may_read_patient (FhirRequest *req, const char *patient_id, GError **error);
gboolean fhir_may_read_consultation (FhirRequest *req, const RecordsConsultation *consultation);
/* FALSE after replying 403 (and auditing it). */
gboolean fhir_allow_directory (FhirRequest *req, const char *action, const char *type,
                               const char *id);
gboolean fhir_allow_audit_read (FhirRequest *req, const char *action, const char *id);

/* ---- searches (fhir-search.c) ------------------------------------------ */

void fhir_search_patients (FhirRequest *req);
void fhir_search_practitioners (FhirRequest *req);
void fhir_search_organizations (FhirRequest *req);
void fhir_search_encounters (FhirRequest *req);
void fhir_search_consents (FhirRequest *req);
void fhir_search_audit_events (FhirRequest *req);
void fhir_search_media (FhirRequest *req);

/* A recording as Media for @req (content.url on this server). */
json_t *fhir_media_json (FhirRequest *req, const RecordsRecording *recording);
/* The recording's consultation readable by the caller (care team, or the
 * consultation's own patient).  FALSE with @error unset: refused. */
gboolean fhir_may_read_recording (FhirRequest *req, const RecordsRecording *recording,
                                  GError **error);

G_END_DECLS
