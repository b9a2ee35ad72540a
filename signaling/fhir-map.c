/* fhir-map.c — records structs → FHIR R4 JSON (and the error codes);
 * see fhir-map.h. */
#include "fhir-map.h"

#include <string.h>

#include "cau-config.h"

G_DEFINE_QUARK (signaling-fhir-error-quark, signaling_fhir_error)

static const struct {
  const char *code;
  guint status;
} error_table[SIGNALING_FHIR_ERROR_N_CODES] = {
  [SIGNALING_FHIR_ERROR_BAD_JSON] = { "bad-json", 400 },
  [SIGNALING_FHIR_ERROR_INVALID_FIELD] = { "invalid-field", 400 },
  [SIGNALING_FHIR_ERROR_INVALID_CCCD] = { "invalid-cccd", 400 },
  [SIGNALING_FHIR_ERROR_INVALID_BHYT] = { "invalid-bhyt", 400 },
  [SIGNALING_FHIR_ERROR_FORBIDDEN] = { "forbidden", 403 },
  [SIGNALING_FHIR_ERROR_NOT_FOUND] = { "not-found", 404 },
  [SIGNALING_FHIR_ERROR_METHOD_NOT_ALLOWED] = { "method-not-allowed", 405 },
  [SIGNALING_FHIR_ERROR_CONFLICT] = { "conflict", 409 },
  [SIGNALING_FHIR_ERROR_TOO_LARGE] = { "too-large", 413 },
  [SIGNALING_FHIR_ERROR_INTERNAL] = { "internal", 500 },
};

const char *
signaling_fhir_error_to_code (SignalingFhirError error)
{
  if ((unsigned) error >= SIGNALING_FHIR_ERROR_N_CODES)
    return "internal";
  return error_table[error].code;
}

guint
signaling_fhir_error_to_status (SignalingFhirError error)
{
  if ((unsigned) error >= SIGNALING_FHIR_ERROR_N_CODES)
    return 500;
  return error_table[error].status;
}

/* ---- small helpers ------------------------------------------------------ */

/* Sets @key to a JSON string when @value is not NULL. */
static void
set_string (json_t *object, const char *key, const char *value)
{
  if (value != NULL)
    json_object_set_new (object, key, json_string (value));
}

static json_t *
reference_new (const char *type, const char *id)
{
  g_autofree char *text = g_strdup_printf ("%s/%s", type, id);

  return json_pack ("{s:s}", "reference", text);
}

static json_t *
coding_new (const char *system, const char *code, const char *display)
{
  json_t *coding = json_pack ("{s:s, s:s}", "system", system, "code", code);

  set_string (coding, "display", display);
  return coding;
}

static json_t *
concept_new (const char *system, const char *code, const char *display)
{
  return json_pack ("{s:[o]}", "coding", coding_new (system, code, display));
}

static json_t *
concept_text_new (const char *text)
{
  return json_pack ("{s:s}", "text", text);
}

/* ---- records → FHIR ---------------------------------------------------- */

json_t *
signaling_fhir_patient_to_json (const RecordsPatient *patient)
{
  json_t *resource, *identifiers;

  g_return_val_if_fail (patient != NULL, NULL);

  resource = json_pack ("{s:s}", "resourceType", "Patient");
  set_string (resource, "id", patient->id);
  identifiers = json_array ();
  if (patient->cccd)
    json_array_append_new (identifiers, json_pack ("{s:s, s:s, s:s}", "use", "official",
                                                   "system", RECORDS_SYSTEM_CCCD,
                                                   "value", patient->cccd));
  if (patient->bhyt)
    json_array_append_new (identifiers, json_pack ("{s:s, s:s}", "system", RECORDS_SYSTEM_BHYT,
                                                   "value", patient->bhyt));
  if (json_array_size (identifiers) > 0)
    json_object_set_new (resource, "identifier", identifiers);
  else
    json_decref (identifiers);
  if (patient->name)
    json_object_set_new (resource, "name",
                         json_pack ("[{s:s, s:s}]", "use", "official", "text", patient->name));
  if (patient->phone)
    json_object_set_new (resource, "telecom",
                         json_pack ("[{s:s, s:s}]", "system", "phone", "value", patient->phone));
  set_string (resource, "gender", patient->sex);
  set_string (resource, "birthDate", patient->birth_date);
  if (patient->address)
    json_object_set_new (resource, "address", json_pack ("[{s:s}]", "text", patient->address));
  if (patient->facility_id)
    json_object_set_new (resource, "managingOrganization",
                         reference_new ("Organization", patient->facility_id));
  return resource;
}

json_t *
signaling_fhir_practitioner_to_json (const RecordsUser *user)
{
  json_t *resource;

  g_return_val_if_fail (user != NULL, NULL);

  resource = json_pack ("{s:s}", "resourceType", "Practitioner");
  set_string (resource, "id", user->id);
  if (user->username)
    json_object_set_new (resource, "identifier",
                         json_pack ("[{s:s, s:s}]", "system", SIGNALING_FHIR_SYSTEM_USERNAME,
                                    "value", user->username));
  json_object_set_new (resource, "active", json_boolean (!user->disabled));
  if (user->display_name)
    json_object_set_new (resource, "name", json_pack ("[{s:s}]", "text", user->display_name));
  /* Without PractitionerRole the role is a qualification's text. */
  json_object_set_new (resource, "qualification",
                       json_pack ("[{s:o}]", "code",
                                  concept_text_new (records_role_to_string (user->role))));
  return resource;
}

json_t *
signaling_fhir_organization_to_json (const RecordsFacility *facility)
{
  json_t *resource;

  g_return_val_if_fail (facility != NULL, NULL);

  resource = json_pack ("{s:s}", "resourceType", "Organization");
  set_string (resource, "id", facility->id);
  if (facility->code)
    json_object_set_new (resource, "identifier",
                         json_pack ("[{s:s, s:s}]", "system", SIGNALING_FHIR_SYSTEM_FACILITY_CODE,
                                    "value", facility->code));
  json_object_set_new (resource, "active", json_true ());
  if (facility->kind) {
    json_t *type = concept_new (SIGNALING_FHIR_SYSTEM_FACILITY_KIND, facility->kind, NULL);
    json_object_set_new (type, "text", json_string (facility->kind));
    json_object_set_new (resource, "type", json_pack ("[o]", type));
  }
  set_string (resource, "name", facility->name);
  if (facility->province_code)
    json_object_set_new (resource, "address", json_pack ("[{s:s, s:s}]", "state",
                                                         facility->province_code,
                                                         "country", "VN"));
  return resource;
}

static json_t *
participant_new (const char *type_code, const char *display, const char *user_id)
{
  return json_pack ("{s:[o], s:o}",
                    "type", concept_new (SIGNALING_FHIR_SYSTEM_PARTICIPATION, type_code, display),
                    "individual", reference_new ("Practitioner", user_id));
}

json_t *
signaling_fhir_encounter_to_json (const RecordsConsultation *consultation)
{
  const RecordsConsultation *c = consultation;
  json_t *resource, *participants;

  g_return_val_if_fail (consultation != NULL, NULL);

  resource = json_pack ("{s:s}", "resourceType", "Encounter");
  set_string (resource, "id", c->id);
  if (c->scheduled_at)
    json_object_set_new (resource, "extension",
                         json_pack ("[{s:s, s:s}]", "url", SIGNALING_FHIR_EXT_PLANNED_START,
                                    "valueDateTime", c->scheduled_at));
  set_string (resource, "status", c->status);
  json_object_set_new (resource, "class",
                       coding_new (SIGNALING_FHIR_SYSTEM_ACT_CODE, "VR", "virtual"));
  if (c->patient_id)
    json_object_set_new (resource, "subject", reference_new ("Patient", c->patient_id));
  participants = json_array ();
  if (c->requester_id)
    json_array_append_new (participants, participant_new ("REF", "referrer", c->requester_id));
  for (guint i = 0; c->specialist_ids && c->specialist_ids[i]; i++)
    json_array_append_new (participants,
                           participant_new ("CON", "consultant", c->specialist_ids[i]));
  if (json_array_size (participants) > 0)
    json_object_set_new (resource, "participant", participants);
  else
    json_decref (participants);
  if (c->started_at || c->ended_at) {
    json_t *period = json_object ();
    set_string (period, "start", c->started_at);
    set_string (period, "end", c->ended_at);
    json_object_set_new (resource, "period", period);
  }
  if (c->reason)
    json_object_set_new (resource, "reasonCode", json_pack ("[o]", concept_text_new (c->reason)));
  if (c->requesting_facility_id)
    json_object_set_new (resource, "serviceProvider",
                         reference_new ("Organization", c->requesting_facility_id));
  return resource;
}

const char *
signaling_fhir_consent_scope (const char *purpose)
{
  return g_strcmp0 (purpose, "treatment") == 0 ? "treatment" : "patient-privacy";
}

json_t *
signaling_fhir_consent_to_json (const RecordsConsent *consent)
{
  json_t *resource, *provision;

  g_return_val_if_fail (consent != NULL, NULL);

  resource = json_pack ("{s:s}", "resourceType", "Consent");
  set_string (resource, "id", consent->id);
  if (consent->method)
    json_object_set_new (resource, "extension",
                         json_pack ("[{s:s, s:s}]", "url", SIGNALING_FHIR_EXT_CONSENT_METHOD,
                                    "valueCode", consent->method));
  json_object_set_new (resource, "status",
                       json_string (consent->granted ? "active" : "rejected"));
  json_object_set_new (resource, "scope",
                       concept_new (SIGNALING_FHIR_SYSTEM_CONSENT_SCOPE,
                                    signaling_fhir_consent_scope (consent->purpose), NULL));
  json_object_set_new (resource, "category",
                       json_pack ("[o]", concept_new ("http://loinc.org", "59284-0",
                                                      "Patient Consent")));
  if (consent->patient_id)
    json_object_set_new (resource, "patient", reference_new ("Patient", consent->patient_id));
  set_string (resource, "dateTime", consent->at);
  if (g_strcmp0 (consent->recorded_by, "patient") == 0 && consent->patient_id)
    json_object_set_new (resource, "performer",
                         json_pack ("[o]", reference_new ("Patient", consent->patient_id)));
  else if (consent->recorded_by)
    json_object_set_new (resource, "performer",
                         json_pack ("[o]", reference_new ("Practitioner", consent->recorded_by)));
  json_object_set_new (resource, "policyRule",
                       concept_new (SIGNALING_FHIR_SYSTEM_ACT_CODE,
                                    consent->granted ? "OPTIN" : "OPTOUT", NULL));
  provision = json_pack ("{s:s}", "type", consent->granted ? "permit" : "deny");
  if (consent->purpose)
    json_object_set_new (provision, "purpose",
                         json_pack ("[o]", coding_new (SIGNALING_FHIR_SYSTEM_PURPOSE,
                                                       consent->purpose, NULL)));
  if (consent->consultation_id)
    json_object_set_new (provision, "data",
                         json_pack ("[{s:s, s:o}]", "meaning", "related", "reference",
                                    reference_new ("Encounter", consent->consultation_id)));
  json_object_set_new (resource, "provision", provision);
  return resource;
}

static const char *
media_status (const char *status)
{
  if (g_strcmp0 (status, "recording") == 0)
    return "in-progress";
  if (g_strcmp0 (status, "complete") == 0)
    return "completed";
  if (g_strcmp0 (status, "interrupted") == 0)
    return "stopped";
  if (g_strcmp0 (status, "failed") == 0)
    return "not-done";
  return "unknown";
}

json_t *
signaling_fhir_media_to_json (const RecordsRecording *recording, const char *base_url)
{
  json_t *resource, *content, *period;
  g_autofree char *url = NULL;

  g_return_val_if_fail (recording != NULL, NULL);

  resource = json_pack ("{s:s}", "resourceType", "Media");
  set_string (resource, "id", recording->id);
  if (recording->sha256)
    json_object_set_new (resource, "extension",
                         json_pack ("[{s:s, s:s}]", "url", SIGNALING_FHIR_EXT_RECORDING_SHA256,
                                    "valueString", recording->sha256));
  if (recording->session_id)
    json_object_set_new (resource, "identifier",
                         json_pack ("[{s:s, s:s}]", "system", SIGNALING_FHIR_SYSTEM_RECORDING,
                                    "value", recording->session_id));
  json_object_set_new (resource, "status", json_string (media_status (recording->status)));
  json_object_set_new (resource, "type",
                       concept_new ("http://terminology.hl7.org/CodeSystem/media-type", "video",
                                    "Video"));
  if (recording->patient_id)
    json_object_set_new (resource, "subject", reference_new ("Patient", recording->patient_id));
  if (recording->consultation_id)
    json_object_set_new (resource, "encounter",
                         reference_new ("Encounter", recording->consultation_id));
  period = json_object ();
  set_string (period, "start", recording->started_at);
  set_string (period, "end", recording->ended_at);
  if (json_object_size (period) > 0)
    json_object_set_new (resource, "createdPeriod", period);
  else
    json_decref (period);
  if (recording->duration_ms > 0)
    json_object_set_new (resource, "duration", json_real (recording->duration_ms / 1000.0));
  url = g_strdup_printf ("%s/api/recordings/%s/content", base_url ? base_url : "",
                         recording->id);
  content = json_pack ("{s:s, s:s}", "contentType", "video/webm", "url", url);
  if (recording->size > 0)
    json_object_set_new (content, "size", json_integer (recording->size));
  if (g_strcmp0 (recording->kind, "composed") == 0)
    json_object_set_new (content, "title", json_string ("composed"));
  else
    set_string (content, "title", recording->participant_name);
  json_object_set_new (resource, "content", content);
  return resource;
}

/* Our entity types → FHIR resource types ("User" rows are Practitioners). */
static const char *
fhir_type_for_entity (const char *entity_type)
{
  static const char *const direct[] = { "Patient", "Practitioner", "Organization", "Encounter",
                                        "Consent", "AuditEvent", "Media", NULL };

  if (entity_type == NULL)
    return NULL;
  if (strcmp (entity_type, "User") == 0)
    return "Practitioner";
  for (guint i = 0; direct[i]; i++)
    if (strcmp (entity_type, direct[i]) == 0)
      return direct[i];
  return NULL;
}

static const char *
audit_action_code (const char *action)
{
  if (g_strcmp0 (action, "create") == 0)
    return "C";
  if (g_strcmp0 (action, "read") == 0 || g_strcmp0 (action, "playback") == 0 ||
      g_strcmp0 (action, "export") == 0)
    return "R";
  if (g_strcmp0 (action, "update") == 0)
    return "U";
  if (g_strcmp0 (action, "delete") == 0)
    return "D";
  return "E";   /* search, login, logout, join, leave, admit: "execute" */
}

/* AuditEvent.outcome (R4): 0 success, 4 minor failure, 8 serious failure. */
static const char *
audit_outcome_code (const char *outcome)
{
  if (g_strcmp0 (outcome, "success") == 0)
    return "0";
  if (g_strcmp0 (outcome, "denied") == 0)
    return "8";
  return "4";
}

static json_t *
audit_type_new (const char *action)
{
  const char *dcm = "http://dicom.nema.org/resources/ontology/DCM";

  if (g_strcmp0 (action, "login") == 0 || g_strcmp0 (action, "logout") == 0)
    return coding_new (dcm, "110114", "User Authentication");
  if (g_strcmp0 (action, "export") == 0)
    return coding_new (dcm, "110106", "Export");
  if (g_strcmp0 (action, "join") == 0 || g_strcmp0 (action, "leave") == 0 ||
      g_strcmp0 (action, "admit") == 0)
    return coding_new (dcm, "110100", "Application Activity");
  return coding_new (dcm, "110110", "Patient Record");
}

static json_t *
audit_agent_new (const RecordsAuditEvent *event)
{
  json_t *agent = json_object ();
  json_t *who;

  if (g_strcmp0 (event->actor_role, "patient") == 0 && event->actor_id)
    who = json_pack ("{s:{s:s, s:s}}", "identifier", "system", SIGNALING_FHIR_SYSTEM_INVITATION,
                     "value", event->actor_id);
  else if (event->actor_role &&
           records_role_from_string (event->actor_role, &(RecordsRole) { 0 }) &&
           event->actor_id && signaling_fhir_id_valid (event->actor_id))
    who = reference_new ("Practitioner", event->actor_id);
  else
    who = json_pack ("{s:s}", "display",
                     event->actor_id ? event->actor_id
                                     : (event->actor_role ? event->actor_role : "unknown"));
  if (event->actor_role)
    json_object_set_new (agent, "role", json_pack ("[o]", concept_text_new (event->actor_role)));
  json_object_set_new (agent, "who", who);
  json_object_set_new (agent, "requestor", json_true ());
  if (event->source)
    json_object_set_new (agent, "network", json_pack ("{s:s, s:s}", "address", event->source,
                                                      "type", "2"));
  return agent;
}

static json_t *
audit_entity_patient_new (const char *patient_id)
{
  return json_pack ("{s:o, s:o, s:o}", "what", reference_new ("Patient", patient_id),
                    "type", coding_new ("http://hl7.org/fhir/resource-types", "Patient", NULL),
                    "role", coding_new ("http://terminology.hl7.org/CodeSystem/object-role", "1",
                                        "Patient"));
}

json_t *
signaling_fhir_audit_event_to_json (const RecordsAuditEvent *event)
{
  json_t *resource, *entities, *chain;
  g_autofree char *id = NULL;
  const char *fhir_type;
  gboolean patient_is_entity = FALSE;

  g_return_val_if_fail (event != NULL, NULL);

  id = g_strdup_printf ("%" G_GINT64_FORMAT, event->seq);
  resource = json_pack ("{s:s, s:s}", "resourceType", "AuditEvent", "id", id);
  chain = json_array ();
  if (event->prev_hash)
    json_array_append_new (chain, json_pack ("{s:s, s:s}", "url", "prevHash",
                                             "valueString", event->prev_hash));
  if (event->hash)
    json_array_append_new (chain, json_pack ("{s:s, s:s}", "url", "hash",
                                             "valueString", event->hash));
  json_object_set_new (resource, "extension",
                       json_pack ("[{s:s, s:o}]", "url", SIGNALING_FHIR_EXT_AUDIT_CHAIN,
                                  "extension", chain));
  json_object_set_new (resource, "type", audit_type_new (event->action));
  if (event->action)
    json_object_set_new (resource, "subtype",
                         json_pack ("[o]", coding_new (SIGNALING_FHIR_SYSTEM_AUDIT_ACTION,
                                                       event->action, NULL)));
  json_object_set_new (resource, "action", json_string (audit_action_code (event->action)));
  set_string (resource, "recorded", event->at);
  json_object_set_new (resource, "outcome", json_string (audit_outcome_code (event->outcome)));
  set_string (resource, "outcomeDesc", event->detail);
  json_object_set_new (resource, "agent", json_pack ("[o]", audit_agent_new (event)));
  json_object_set_new (resource, "source",
                       json_pack ("{s:{s:s}, s:[o]}", "observer", "display", "caud", "type",
                                  coding_new ("http://terminology.hl7.org/CodeSystem/"
                                              "security-source-type", "4",
                                              "Application Server")));

  entities = json_array ();
  fhir_type = fhir_type_for_entity (event->entity_type);
  if (g_strcmp0 (fhir_type, "Patient") == 0 && event->entity_id &&
      g_strcmp0 (event->entity_id, event->patient_id) == 0) {
    patient_is_entity = TRUE;
    json_array_append_new (entities, audit_entity_patient_new (event->patient_id));
  } else if (event->entity_type) {
    json_t *entity = json_object ();
    if (fhir_type && event->entity_id && signaling_fhir_id_valid (event->entity_id))
      json_object_set_new (entity, "what", reference_new (fhir_type, event->entity_id));
    else if (event->entity_id)
      json_object_set_new (entity, "what", json_pack ("{s:{s:s}, s:s}", "identifier", "value",
                                                      event->entity_id, "display",
                                                      event->entity_type));
    json_object_set_new (entity, "type",
                         fhir_type ? coding_new ("http://hl7.org/fhir/resource-types", fhir_type,
                                                 NULL)
                                   : coding_new ("urn:cau:entity-type", event->entity_type, NULL));
    json_array_append_new (entities, entity);
  }
  if (event->patient_id && !patient_is_entity)
    json_array_append_new (entities, audit_entity_patient_new (event->patient_id));
  if (json_array_size (entities) > 0)
    json_object_set_new (resource, "entity", entities);
  else
    json_decref (entities);
  return resource;
}

/* IssueType (R4 valueset issue-type) that fits one of our error codes. */
static const char *
issue_type_for_code (const char *code)
{
  static const struct {
    const char *code;
    const char *type;
  } table[] = {
    { "bad-json", "structure" },
    { "invalid-field", "invalid" },
    { "invalid-cccd", "value" },
    { "invalid-bhyt", "value" },
    { "invalid-credentials", "login" },
    { "unauthenticated", "login" },
    { "token-invalid", "login" },
    { "token-expired", "login" },
    { "token-revoked", "login" },
    { "forbidden", "forbidden" },
    { "invitation-revoked", "forbidden" },
    { "not-found", "not-found" },
    { "invitation-not-found", "not-found" },
    { "method-not-allowed", "not-supported" },
    { "conflict", "conflict" },
    { "invitation-expired", "expired" },
    { "too-large", "too-long" },
    { "account-locked", "lock-error" },
    { "internal", "exception" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (table); i++)
    if (g_strcmp0 (code, table[i].code) == 0)
      return table[i].type;
  return "processing";
}

/* Text that may come from the network (a query parameter's name) as valid
 * UTF-8 of at most @max_chars characters: jansson refuses invalid UTF-8. */
static char *
safe_text (const char *text, glong max_chars)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);

  return g_utf8_substring (valid, 0, MIN (g_utf8_strlen (valid, -1), max_chars));
}

json_t *
signaling_fhir_outcome_new (const char *code, const char *message, const char *field)
{
  g_autofree char *safe_code = NULL;
  g_autofree char *safe_message = NULL;
  json_t *issue;

  g_return_val_if_fail (code != NULL, NULL);
  safe_code = safe_text (code, 64);
  safe_message = safe_text (message ? message : code, 1000);
  issue = json_pack ("{s:s, s:s, s:{s:[o], s:s}, s:s}", "severity", "error",
                     "code", issue_type_for_code (code),
                     "details", "coding",
                     coding_new (SIGNALING_FHIR_SYSTEM_ERROR, safe_code, NULL),
                     "text", safe_message,
                     "diagnostics", safe_message);
  if (field) {
    g_autofree char *safe_field = safe_text (field, 200);
    json_object_set_new (issue, "expression", json_pack ("[s]", safe_field));
  }
  return json_pack ("{s:s, s:[o]}", "resourceType", "OperationOutcome", "issue", issue);
}

json_t *
signaling_fhir_bundle_new (const char *self_url)
{
  json_t *bundle = json_pack ("{s:s, s:s, s:i, s:[]}", "resourceType", "Bundle",
                              "type", "searchset", "total", 0, "entry");

  if (self_url)
    json_object_set_new (bundle, "link",
                         json_pack ("[{s:s, s:s}]", "relation", "self", "url", self_url));
  return bundle;
}

void
signaling_fhir_bundle_add (json_t *bundle, const char *base_url, json_t *resource)
{
  json_t *entry;
  json_t *entries;
  const char *type, *id;

  g_return_if_fail (json_is_object (bundle) && json_is_object (resource));

  entries = json_object_get (bundle, "entry");
  type = json_string_value (json_object_get (resource, "resourceType"));
  id = json_string_value (json_object_get (resource, "id"));
  entry = json_object ();
  if (base_url && type && id) {
    g_autofree char *full_url = g_strdup_printf ("%s/%s/%s", base_url, type, id);
    json_object_set_new (entry, "fullUrl", json_string (full_url));
  }
  json_object_set_new (entry, "resource", resource);
  json_object_set_new (entry, "search", json_pack ("{s:s}", "mode", "match"));
  json_array_append_new (entries, entry);
  json_object_set_new (bundle, "total", json_integer ((json_int_t) json_array_size (entries)));
}

static json_t *
capability_resource_new (const char *type, gboolean create, const char *const *params)
{
  json_t *interactions = json_pack ("[{s:s}, {s:s}]", "code", "read", "code", "search-type");
  json_t *search = json_array ();

  if (create)
    json_array_append_new (interactions, json_pack ("{s:s}", "code", "create"));
  /* params: name, type pairs */
  for (guint i = 0; params && params[i]; i += 2)
    json_array_append_new (search, json_pack ("{s:s, s:s}", "name", params[i],
                                              "type", params[i + 1]));
  return json_pack ("{s:s, s:o, s:o}", "type", type, "interaction", interactions,
                    "searchParam", search);
}

json_t *
signaling_fhir_capability_statement (const char *base_url)
{
  static const char *const patient_params[] = { "_id", "token", "identifier", "token",
                                                "name", "string", NULL };
  static const char *const id_params[] = { "_id", "token", NULL };
  static const char *const by_patient[] = { "_id", "token", "patient", "reference", NULL };
  static const char *const audit_params[] = { "_id", "token", "patient", "reference",
                                              "agent", "reference", "subtype", "token", NULL };
  json_t *resources = json_array ();
  json_t *statement;

  json_array_append_new (resources, capability_resource_new ("Patient", FALSE, patient_params));
  json_array_append_new (resources, capability_resource_new ("Practitioner", FALSE, id_params));
  json_array_append_new (resources, capability_resource_new ("Organization", FALSE, id_params));
  json_array_append_new (resources, capability_resource_new ("Encounter", TRUE, by_patient));
  json_array_append_new (resources, capability_resource_new ("Consent", TRUE, by_patient));
  json_array_append_new (resources, capability_resource_new ("AuditEvent", FALSE, audit_params));
  json_array_append_new (resources, capability_resource_new ("Media", FALSE, by_patient));

  statement = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:s, s:[s, s],"
                         " s:[{s:s, s:{s:b, s:s}, s:o}]}",
                         "resourceType", "CapabilityStatement",
                         "status", "active",
                         "date", "2026-11-22",
                         "publisher", "Cầu",
                         "kind", "instance",
                         "software", "name", "caud", "version", CAU_VERSION,
                         "fhirVersion", "4.0.1",
                         "format", SIGNALING_FHIR_CONTENT_TYPE, "json",
                         "rest", "mode", "server",
                         "security", "cors", 0,
                         "description", "Every interaction but this one needs "
                                        "Authorization: Bearer <token> (docs/api.md)",
                         "resource", resources);
  json_object_set_new (statement, "implementation",
                       json_pack ("{s:s}", "description", "Cầu telehealth records"));
  if (base_url)
    json_object_set_new (json_object_get (statement, "implementation"), "url",
                         json_string (base_url));
  return statement;
}
