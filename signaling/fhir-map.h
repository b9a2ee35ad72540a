/* fhir-map.h — records structs ⇄ HL7 FHIR R4 JSON resources (jansson).
 * fhir-map.c writes resources; fhir-parse.c reads POSTed ones.
 *
 * Pure: no store, no I/O, no main loop.  signaling/fhir.c puts the HTTP
 * interactions on top (docs/api.md, "FHIR R4").
 *
 * Writers (records → FHIR) build a resource from a records struct; every
 * pointer field that is NULL is left out of the JSON, never written as
 * null.  Readers (FHIR → records) take a client's POSTed resource, check it
 * element by element — resourceType, required elements, JSON types, codes,
 * references of the form "Type/<id>" — and refuse any element they do not
 * know, naming its FHIRPath ("Encounter.participant[1].individual.reference")
 * in *@out_field.  They never look anything up: fhir.c checks that the
 * referenced resources exist and that the caller may write them.
 *
 * Element choices (all R4 4.0.1):
 *   Patient       identifier CCCD (use official) and BHYT with the systems of
 *                 records.h; name[0].text; gender; birthDate; telecom phone;
 *                 address[0].text; managingOrganization Organization/<facility>
 *   Practitioner  identifier urn:cau:username; name[0].text; active;
 *                 qualification[0].code.text = the role
 *   Organization  identifier urn:cau:facility-code; name; type urn:cau:facility-kind;
 *                 address[0].state = the 3-digit province code, country VN
 *   Encounter     status; class VR of v3-ActCode; subject Patient/<id>;
 *                 participant REF (the requester) and CON (specialists) of
 *                 v3-ParticipationType with Practitioner references;
 *                 serviceProvider Organization/<requesting facility>;
 *                 period start/end (when it started / ended); reasonCode[0].text;
 *                 the scheduled time in the R5 cross-version extension
 *                 Encounter.plannedStartDate (R4 has no element for it)
 *   Consent       status active (granted) / rejected (refused or withdrawn);
 *                 scope consentscope; category LOINC 59284-0; patient;
 *                 dateTime; performer (Practitioner, or the Patient itself);
 *                 policyRule OPTIN/OPTOUT (invariant ppc-1 needs one);
 *                 provision.type permit/deny, provision.purpose in
 *                 urn:cau:consent-purpose, provision.data Encounter/<id> when
 *                 it applies to one consultation; the method (verbal, written,
 *                 electronic) in extension urn:cau:fhir:extension:consent-method
 *   Media         status (recording in-progress, complete completed,
 *                 interrupted stopped, failed not-done); type video of
 *                 media-type; identifier urn:cau:recording = the recording
 *                 (session) the file belongs to; subject Patient; encounter;
 *                 createdPeriod start/end; duration (seconds); content
 *                 contentType video/webm, url the REST content path, size,
 *                 title (the participant, or "composed"); the SHA-256 of the
 *                 encrypted file in extension urn:cau:fhir:extension:recording-sha256
 *                 (Attachment.hash is SHA-1 of the plain bytes: not what we keep)
 *   AuditEvent    id = seq; type DICOM 110110/110114 or rest; subtype the
 *                 action word; action C/R/U/D/E; recorded; outcome 0 (success),
 *                 4 (failure), 8 (denied); agent who + requestor + network;
 *                 source caud; entity what + the patient; the hash chain in
 *                 extension urn:cau:fhir:extension:audit-chain
 */
#pragma once

#include <glib.h>
#include <jansson.h>

#include "records.h"

G_BEGIN_DECLS

#define SIGNALING_FHIR_CONTENT_TYPE "application/fhir+json"

/* Code systems and extensions of our own. */
#define SIGNALING_FHIR_SYSTEM_ERROR          "urn:cau:error"
#define SIGNALING_FHIR_SYSTEM_USERNAME       "urn:cau:username"
#define SIGNALING_FHIR_SYSTEM_FACILITY_CODE  "urn:cau:facility-code"
#define SIGNALING_FHIR_SYSTEM_FACILITY_KIND  "urn:cau:facility-kind"
#define SIGNALING_FHIR_SYSTEM_PURPOSE        "urn:cau:consent-purpose"
#define SIGNALING_FHIR_SYSTEM_AUDIT_ACTION   "urn:cau:audit-action"
#define SIGNALING_FHIR_SYSTEM_INVITATION     "urn:cau:invitation"
#define SIGNALING_FHIR_EXT_CONSENT_METHOD    "urn:cau:fhir:extension:consent-method"
#define SIGNALING_FHIR_EXT_AUDIT_CHAIN       "urn:cau:fhir:extension:audit-chain"
#define SIGNALING_FHIR_EXT_RECORDING_SHA256  "urn:cau:fhir:extension:recording-sha256"
#define SIGNALING_FHIR_SYSTEM_RECORDING      "urn:cau:recording"
#define SIGNALING_FHIR_EXT_PLANNED_START \
  "http://hl7.org/fhir/5.0/StructureDefinition/extension-Encounter.plannedStartDate"
/* HL7 terminology. */
#define SIGNALING_FHIR_SYSTEM_ACT_CODE       "http://terminology.hl7.org/CodeSystem/v3-ActCode"
#define SIGNALING_FHIR_SYSTEM_PARTICIPATION \
  "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
#define SIGNALING_FHIR_SYSTEM_CONSENT_SCOPE  "http://terminology.hl7.org/CodeSystem/consentscope"

#define SIGNALING_FHIR_ERROR (signaling_fhir_error_quark ())
GQuark signaling_fhir_error_quark (void);

/* The error codes of docs/api.md that FHIR handlers send. */
typedef enum {
  SIGNALING_FHIR_ERROR_BAD_JSON,        /* 400 bad-json       */
  SIGNALING_FHIR_ERROR_INVALID_FIELD,   /* 400 invalid-field  */
  SIGNALING_FHIR_ERROR_INVALID_CCCD,    /* 400 invalid-cccd   */
  SIGNALING_FHIR_ERROR_INVALID_BHYT,    /* 400 invalid-bhyt   */
  SIGNALING_FHIR_ERROR_FORBIDDEN,       /* 403 forbidden      */
  SIGNALING_FHIR_ERROR_NOT_FOUND,       /* 404 not-found      */
  SIGNALING_FHIR_ERROR_METHOD_NOT_ALLOWED,   /* 405 method-not-allowed */
  SIGNALING_FHIR_ERROR_CONFLICT,        /* 409 conflict       */
  SIGNALING_FHIR_ERROR_TOO_LARGE,       /* 413 too-large      */
  SIGNALING_FHIR_ERROR_INTERNAL,        /* 500 internal       */
  SIGNALING_FHIR_ERROR_N_CODES
} SignalingFhirError;

/* "bad-json", "invalid-field", ... (static strings) and the HTTP status. */
const char *signaling_fhir_error_to_code (SignalingFhirError error);
guint signaling_fhir_error_to_status (SignalingFhirError error);

/* ---- records → FHIR (each returns a new reference; caller owns it) ---- */

json_t *signaling_fhir_patient_to_json (const RecordsPatient *patient);
/* Never writes the password hash or the login state. */
json_t *signaling_fhir_practitioner_to_json (const RecordsUser *user);
json_t *signaling_fhir_organization_to_json (const RecordsFacility *facility);
json_t *signaling_fhir_encounter_to_json (const RecordsConsultation *consultation);
json_t *signaling_fhir_consent_to_json (const RecordsConsent *consent);
json_t *signaling_fhir_audit_event_to_json (const RecordsAuditEvent *event);
/* A recorded file as a Media; its content.url is the REST content path,
 * made absolute with @base_url ("https://host:port", may be NULL = relative). */
json_t *signaling_fhir_media_to_json (const RecordsRecording *recording, const char *base_url);

/* An OperationOutcome with one error issue: details.coding[0] = {system
 * "urn:cau:error", code @code}, details.text and diagnostics = @message,
 * expression [@field] when @field is not NULL, and the issue type that
 * fits @code (invalid, structure, value, login, forbidden, not-found,
 * not-supported, conflict, too-long, exception).  The texts may come from
 * the network: they are made valid UTF-8 and bounded (message 1000
 * characters, field 200). */
json_t *signaling_fhir_outcome_new (const char *code, const char *message, const char *field);

/* A Bundle of type searchset with total 0, link self = @self_url and no
 * entries yet. */
json_t *signaling_fhir_bundle_new (const char *self_url);
/* Appends an entry {fullUrl @base_url/<type>/<id>, resource, search.mode
 * match} and counts it in total.  Steals @resource. */
void signaling_fhir_bundle_add (json_t *bundle, const char *base_url, json_t *resource);

/* The CapabilityStatement of GET /fhir/metadata (@base_url in
 * implementation.url). */
json_t *signaling_fhir_capability_statement (const char *base_url);

/* ---- FHIR → records ---------------------------------------------------- */

/* A POSTed Encounter (create).  Required: resourceType "Encounter", status
 * "planned", class VR, subject Patient/<id>, reasonCode[0].text, the
 * scheduled time (plannedStartDate extension, or period.start).  Optional:
 * participant (type REF → requester_id, CON or none → specialist_ids),
 * serviceProvider (→ requesting_facility_id); id, meta and text are
 * ignored (RFC: a server ignores the id of a create).  Times are returned
 * normalised to UTC with milliseconds.  Returns (transfer full) a
 * consultation with id and created_at NULL, or NULL + SIGNALING_FHIR_ERROR
 * (INVALID_FIELD) and *@out_field (transfer full, may be NULL) set to the
 * element's path. */
RecordsConsultation *signaling_fhir_encounter_parse (const json_t *resource, char **out_field,
                                                     GError **error);

/* A POSTed Consent (create).  Required: resourceType "Consent", status
 * active/rejected, scope, category, patient Patient/<id>, provision.type
 * agreeing with status (permit/deny), provision.purpose[0] of
 * urn:cau:consent-purpose, the method extension.  Optional: dateTime (→ at,
 * normalised), performer[0] (Practitioner/<id> → recorded_by <id>;
 * Patient/<the same patient> → "patient"), provision.data[0].reference
 * Encounter/<id> (→ consultation_id), policyRule; id, meta, text ignored.
 * Returns (transfer full) a consent with id NULL, or NULL as above. */
RecordsConsent *signaling_fhir_consent_parse (const json_t *resource, char **out_field,
                                              GError **error);

/* ---- small helpers shared with fhir.c ---------------------------------- */

/* Consent.scope code for a consent purpose: "treatment" for treatment,
 * "patient-privacy" for recording and sharing (static string). */
const char *signaling_fhir_consent_scope (const char *purpose);

/* TRUE when @id is a FHIR id: [A-Za-z0-9-.]{1,64}. */
gboolean signaling_fhir_id_valid (const char *id);

/* "Patient/<id>" with @type "Patient" → (transfer full) "<id>"; with
 * @allow_bare, a bare "<id>" too (search parameters).  NULL when it is not
 * such a reference. */
char *signaling_fhir_reference_parse (const char *reference, const char *type,
                                      gboolean allow_bare);

/* A FHIR dateTime with a time and a zone (YYYY-MM-DDThh:mm:ss[.f](Z|±hh:mm))
 * → (transfer full) UTC "YYYY-MM-DDThh:mm:ss.mmmZ"; NULL when it is not one. */
char *signaling_fhir_datetime_normalize (const char *text);

G_END_DECLS
