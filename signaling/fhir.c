/* fhir.c — the /fhir interactions: routing, access, audit; see fhir.h.
 * fhir-map.c does the JSON; this file decides who may see what and asks
 * the store. */
#include "fhir.h"

#include <stdlib.h>
#include <string.h>

#include "fhir-priv.h"

/* Reads and creates take no query parameters. */
static const char *const no_params[] = { NULL };

/* ---- replies ----------------------------------------------------------- */

/* Replies @status with @body (stolen) as application/fhir+json. */
void
fhir_reply (SoupServerMessage *msg, guint status, json_t *body)
{
  g_autofree char *text = body ? json_dumps (body, JSON_COMPACT) : NULL;

  json_decref (body);
  if (text == NULL) {
    /* Only a bug gets here (a value jansson refused): still a valid answer. */
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "MESSAGE",
                      "fhir: a reply could not be written as JSON");
    status = SOUP_STATUS_INTERNAL_SERVER_ERROR;
    text = g_strdup ("{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":"
                     "\"error\",\"code\":\"exception\",\"details\":{\"coding\":[{\"system\":"
                     "\"urn:cau:error\",\"code\":\"internal\"}]},\"diagnostics\":"
                     "\"internal error\"}]}");
  }
  soup_server_message_set_status (msg, status, NULL);
  /* Patient data: never kept by a cache on the way. */
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Cache-Control",
                                "no-store");
  soup_server_message_set_response (msg, SIGNALING_FHIR_CONTENT_TYPE, SOUP_MEMORY_COPY, text,
                                    strlen (text));
}

static void
reply_outcome (SoupServerMessage *msg, guint status, const char *code, const char *message,
               const char *field)
{
  fhir_reply (msg, status, signaling_fhir_outcome_new (code, message, field));
}

void
fhir_reply_error (FhirRequest *req, SignalingFhirError error, const char *message,
                  const char *field)
{
  reply_outcome (req->msg, signaling_fhir_error_to_status (error),
                 signaling_fhir_error_to_code (error), message, field);
}

void
fhir_audit (FhirRequest *req, const char *action, const char *entity_type, const char *entity_id,
            const char *patient_id, const char *outcome, const char *detail)
{
  signaling_api_audit (req->fhir->api, req->who, req->source, action, entity_type, entity_id,
                       patient_id, outcome, detail);
}

/* Audits a refusal and replies 403 forbidden. */
void
fhir_reply_forbidden (FhirRequest *req, SignalingOperation op, const char *action,
                      const char *entity_type, const char *entity_id, const char *patient_id)
{
  g_autofree char *detail = g_strdup_printf ("fhir %s refused", signaling_operation_to_string (op));

  fhir_audit (req, action, entity_type, entity_id, patient_id, "denied", detail);
  fhir_reply_error (req, SIGNALING_FHIR_ERROR_FORBIDDEN, "not allowed for this caller", NULL);
}

/* Replies for a records error: NOT_FOUND 404, CONFLICT 409, INVALID 400
 * invalid-field (naming @field), anything else 500 (logged, not sent). */
void
fhir_reply_records_error (FhirRequest *req, const GError *error, const char *field)
{
  if (g_error_matches (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND))
    fhir_reply_error (req, SIGNALING_FHIR_ERROR_NOT_FOUND, error->message, NULL);
  else if (g_error_matches (error, RECORDS_ERROR, RECORDS_ERROR_CONFLICT))
    fhir_reply_error (req, SIGNALING_FHIR_ERROR_CONFLICT, error->message, NULL);
  else if (g_error_matches (error, RECORDS_ERROR, RECORDS_ERROR_INVALID))
    fhir_reply_error (req, SIGNALING_FHIR_ERROR_INVALID_FIELD, error->message, field);
  else {
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE", "fhir: store error: %s",
                      error ? error->message : "unknown");
    fhir_reply_error (req, SIGNALING_FHIR_ERROR_INTERNAL, "internal error", NULL);
  }
}

/* signaling_api_authenticate answered 401 in the REST shape
 * {code, message}; FHIR clients get the same status and code as an
 * OperationOutcome. */
static void
rewrite_as_outcome (SoupServerMessage *msg)
{
  SoupMessageBody *body = soup_server_message_get_response_body (msg);
  g_autoptr (GBytes) bytes = soup_message_body_flatten (body);
  gsize size = 0;
  const char *data = g_bytes_get_data (bytes, &size);
  json_t *json = data ? json_loadb (data, size, 0, NULL) : NULL;
  const char *code = json_string_value (json_object_get (json, "code"));
  const char *message = json_string_value (json_object_get (json, "message"));
  guint status = soup_server_message_get_status (msg);

  soup_message_body_truncate (body);
  reply_outcome (msg, status ? status : SOUP_STATUS_UNAUTHORIZED,
                 code ? code : "unauthenticated", message ? message : "authentication required",
                 NULL);
  json_decref (json);
}

/* ---- query parameters -------------------------------------------------- */

const char *
fhir_param (FhirRequest *req, const char *name)
{
  return req->query ? g_hash_table_lookup (req->query, name) : NULL;
}

/* Only @allowed (NULL-terminated) may appear; FALSE after replying 400. */
gboolean
fhir_check_params (FhirRequest *req, const char *const *allowed)
{
  GHashTableIter iter;
  gpointer key, value;

  if (req->query == NULL)
    return TRUE;
  g_hash_table_iter_init (&iter, req->query);
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    if (!g_strv_contains (allowed, key)) {
      g_autofree char *message = g_strdup_printf ("unknown search parameter \"%s\"",
                                                  (const char *) key);
      fhir_reply_error (req, SIGNALING_FHIR_ERROR_INVALID_FIELD, message, key);
      return FALSE;
    }
    if (*(const char *) value == '\0') {
      fhir_reply_error (req, SIGNALING_FHIR_ERROR_INVALID_FIELD, "empty search parameter", key);
      return FALSE;
    }
  }
  return TRUE;
}

/* ---- loading targets ---------------------------------------------------- */

void
fhir_patient_target_clear (PatientTarget *t)
{
  g_clear_pointer (&t->patient, records_patient_free);
  g_clear_pointer (&t->consultations, g_ptr_array_unref);
}

gboolean
fhir_patient_target_load (RecordsStore *store, const char *patient_id, PatientTarget *t,
                          GError **error)
{
  t->patient = records_patient_get (store, patient_id, error);
  if (t->patient == NULL)
    return FALSE;
  t->consultations = records_consultation_list_for_patient (store, patient_id, error);
  if (t->consultations == NULL)
    return FALSE;
  t->target.patient_id = t->patient->id;
  t->target.patient_facility_id = t->patient->facility_id;
  t->target.patient_consultations = t->consultations;
  return TRUE;
}

gboolean
fhir_may_read_patient (FhirRequest *req, const char *patient_id, GError **error)
{
  g_auto (PatientTarget) t = { 0 };

  if (!fhir_patient_target_load (req->store, patient_id, &t, error))
    return FALSE;
  return signaling_policy_allows (req->who, SIGNALING_OP_PATIENT_READ, &t.target);
}

gboolean
fhir_may_read_consultation (FhirRequest *req, const RecordsConsultation *consultation)
{
  SignalingPolicyTarget target = { .consultation = consultation };

  return signaling_policy_allows (req->who, SIGNALING_OP_CONSULTATION_READ, &target);
}

/* ---- reads ------------------------------------------------------------- */

static void
read_patient (FhirRequest *req, const char *id)
{
  g_autoptr (GError) error = NULL;
  g_auto (PatientTarget) t = { 0 };

  if (!fhir_patient_target_load (req->store, id, &t, &error)) {
    fhir_reply_records_error (req, error, NULL);
    return;
  }
  if (!signaling_policy_allows (req->who, SIGNALING_OP_PATIENT_READ, &t.target)) {
    fhir_reply_forbidden (req, SIGNALING_OP_PATIENT_READ, "read", "Patient", id, id);
    return;
  }
  fhir_audit (req, "read", "Patient", id, id, "success", "fhir read");
  fhir_reply (req->msg, SOUP_STATUS_OK, signaling_fhir_patient_to_json (t.patient));
}

static void
read_encounter (FhirRequest *req, const char *id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RecordsConsultation) c = records_consultation_get (req->store, id, &error);

  if (c == NULL) {
    fhir_reply_records_error (req, error, NULL);
    return;
  }
  if (!fhir_may_read_consultation (req, c)) {
    fhir_reply_forbidden (req, SIGNALING_OP_CONSULTATION_READ, "read", "Encounter", id,
                          c->patient_id);
    return;
  }
  fhir_audit (req, "read", "Encounter", id, c->patient_id, "success", "fhir read");
  fhir_reply (req->msg, SOUP_STATUS_OK, signaling_fhir_encounter_to_json (c));
}

json_t *
fhir_media_json (FhirRequest *req, const RecordsRecording *recording)
{
  g_autofree char *origin = g_strdup (req->base_url);

  if (origin && g_str_has_suffix (origin, "/fhir"))
    origin[strlen (origin) - strlen ("/fhir")] = '\0';
  return signaling_fhir_media_to_json (recording, origin);
}

gboolean
fhir_may_read_recording (FhirRequest *req, const RecordsRecording *recording, GError **error)
{
  g_autoptr (RecordsConsultation) c = records_consultation_get (req->store,
                                                                recording->consultation_id, error);

  return c != NULL && fhir_may_read_consultation (req, c);
}

static void
read_media (FhirRequest *req, const char *id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RecordsRecording) recording = records_recording_get (req->store, id, &error);

  if (recording == NULL) {
    fhir_reply_records_error (req, error, NULL);
    return;
  }
  if (!fhir_may_read_recording (req, recording, &error)) {
    if (error)
      fhir_reply_records_error (req, error, NULL);
    else
      fhir_reply_forbidden (req, SIGNALING_OP_CONSULTATION_READ, "read", "Media", id,
                            recording->patient_id);
    return;
  }
  fhir_audit (req, "read", "Media", id, recording->patient_id, "success", "fhir read");
  fhir_reply (req->msg, SOUP_STATUS_OK, fhir_media_json (req, recording));
}

static void
read_consent (FhirRequest *req, const char *id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RecordsConsent) consent = records_consent_get (req->store, id, &error);
  g_auto (PatientTarget) t = { 0 };

  if (consent == NULL || !fhir_patient_target_load (req->store, consent->patient_id, &t, &error)) {
    fhir_reply_records_error (req, error, NULL);
    return;
  }
  if (!signaling_policy_allows (req->who, SIGNALING_OP_CONSENT_READ, &t.target)) {
    fhir_reply_forbidden (req, SIGNALING_OP_CONSENT_READ, "read", "Consent", id,
                          consent->patient_id);
    return;
  }
  fhir_audit (req, "read", "Consent", id, consent->patient_id, "success", "fhir read");
  fhir_reply (req->msg, SOUP_STATUS_OK, signaling_fhir_consent_to_json (consent));
}

gboolean
fhir_allow_directory (FhirRequest *req, const char *action, const char *type, const char *id)
{
  if (signaling_policy_allows (req->who, SIGNALING_OP_DIRECTORY_READ, NULL))
    return TRUE;
  fhir_reply_forbidden (req, SIGNALING_OP_DIRECTORY_READ, action, type, id, NULL);
  return FALSE;
}

static void
read_practitioner (FhirRequest *req, const char *id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RecordsUser) user = NULL;

  if (!fhir_allow_directory (req, "read", "Practitioner", id))
    return;
  user = records_user_get (req->store, id, &error);
  if (user == NULL) {
    fhir_reply_records_error (req, error, NULL);
    return;
  }
  fhir_reply (req->msg, SOUP_STATUS_OK, signaling_fhir_practitioner_to_json (user));
}

static void
read_organization (FhirRequest *req, const char *id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RecordsFacility) facility = NULL;

  if (!fhir_allow_directory (req, "read", "Organization", id))
    return;
  facility = records_facility_get (req->store, id, &error);
  if (facility == NULL) {
    fhir_reply_records_error (req, error, NULL);
    return;
  }
  fhir_reply (req->msg, SOUP_STATUS_OK, signaling_fhir_organization_to_json (facility));
}

gboolean
fhir_allow_audit_read (FhirRequest *req, const char *action, const char *id)
{
  if (signaling_policy_allows (req->who, SIGNALING_OP_AUDIT_READ, NULL))
    return TRUE;
  fhir_reply_forbidden (req, SIGNALING_OP_AUDIT_READ, action, "AuditEvent", id, NULL);
  return FALSE;
}

static void
read_audit_event (FhirRequest *req, const char *id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) events = NULL;
  guint64 seq;
  RecordsAuditEvent *event;

  if (!fhir_allow_audit_read (req, "read", id))
    return;
  if (!g_ascii_string_to_unsigned (id, 10, 1, G_MAXINT64, &seq, NULL)) {
    fhir_reply_error (req, SIGNALING_FHIR_ERROR_NOT_FOUND, "no such AuditEvent", NULL);
    return;
  }
  events = records_audit_list (req->store, (gint64) seq - 1, NULL, NULL, NULL, 1, &error);
  if (events == NULL) {
    fhir_reply_records_error (req, error, NULL);
    return;
  }
  event = events->len > 0 ? events->pdata[0] : NULL;
  if (event == NULL || event->seq != (gint64) seq) {
    fhir_reply_error (req, SIGNALING_FHIR_ERROR_NOT_FOUND, "no such AuditEvent", NULL);
    return;
  }
  fhir_audit (req, "read", "AuditEvent", id, NULL, "success", "fhir read");
  fhir_reply (req->msg, SOUP_STATUS_OK, signaling_fhir_audit_event_to_json (event));
}

/* ---- creates ----------------------------------------------------------- */

/* The path of the participant whose individual is Practitioner/@user_id. */
static char *
participant_path (const json_t *resource, const char *user_id)
{
  const json_t *participants = json_object_get (resource, "participant");
  g_autofree char *reference = g_strdup_printf ("Practitioner/%s", user_id);

  for (size_t i = 0; i < json_array_size (participants); i++) {
    const json_t *individual = json_object_get (json_array_get (participants, i), "individual");
    if (g_strcmp0 (json_string_value (json_object_get (individual, "reference")), reference) == 0)
      return g_strdup_printf ("Encounter.participant[%zu].individual.reference", i);
  }
  return g_strdup ("Encounter.participant");
}

/* Reads the body as JSON; NULL after replying 400/413. */
static json_t *
read_body (FhirRequest *req, const char *type)
{
  g_autoptr (GError) error = NULL;
  json_t *body = signaling_api_read_body (req->msg, &error);

  if (body == NULL) {
    gboolean too_large = g_error_matches (error, SIGNALING_API_ERROR,
                                          SIGNALING_API_ERROR_TOO_LARGE);
    fhir_audit (req, "create", type, NULL, NULL, "failure",
                too_large ? "fhir too-large" : "fhir bad-json");
    fhir_reply_error (req,
                      too_large ? SIGNALING_FHIR_ERROR_TOO_LARGE : SIGNALING_FHIR_ERROR_BAD_JSON,
                      error ? error->message : "the body is not a JSON object", NULL);
  }
  return body;
}

/* A refused create: audited as a failure, answered 400 invalid-field. */
static void
reply_invalid (FhirRequest *req, const char *type, const char *patient_id, const char *field,
               const char *message)
{
  fhir_audit (req, "create", type, NULL, patient_id, "failure", "fhir invalid-field");
  fhir_reply_error (req, SIGNALING_FHIR_ERROR_INVALID_FIELD, message, field);
}

static void
reply_created (FhirRequest *req, const char *type, const char *id, json_t *resource)
{
  g_autofree char *location = g_strdup_printf ("%s/%s/%s", req->base_url, type, id);

  soup_message_headers_replace (soup_server_message_get_response_headers (req->msg), "Location",
                                location);
  fhir_reply (req->msg, SOUP_STATUS_CREATED, resource);
}

static void
create_encounter (FhirRequest *req)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RecordsConsultation) c = NULL;
  g_autoptr (RecordsConsultation) stored = NULL;
  g_autofree char *field = NULL;
  g_auto (PatientTarget) t = { 0 };
  json_t *body;

  if (!fhir_check_params (req, no_params) || !(body = read_body (req, "Encounter")))
    return;
  c = signaling_fhir_encounter_parse (body, &field, &error);
  if (c == NULL) {
    reply_invalid (req, "Encounter", NULL, field, error->message);
    goto out;
  }
  /* The requester and its facility are the caller's own. */
  if (c->requester_id && g_strcmp0 (c->requester_id, req->who->user_id) != 0) {
    g_autofree char *path = participant_path (body, c->requester_id);
    reply_invalid (req, "Encounter", NULL, path,
                   "the requester (REF) must be the authenticated user");
    goto out;
  }
  if (c->requesting_facility_id &&
      g_strcmp0 (c->requesting_facility_id, req->who->facility_id) != 0) {
    reply_invalid (req, "Encounter", NULL, "Encounter.serviceProvider.reference",
                   "the serviceProvider must be the requester's own facility");
    goto out;
  }
  if (!fhir_patient_target_load (req->store, c->patient_id, &t, &error)) {
    if (g_error_matches (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND))
      reply_invalid (req, "Encounter", NULL, "Encounter.subject.reference", "no such Patient");
    else
      fhir_reply_records_error (req, error, NULL);
    goto out;
  }
  if (!signaling_policy_allows (req->who, SIGNALING_OP_CONSULTATION_CREATE, &t.target)) {
    fhir_reply_forbidden (req, SIGNALING_OP_CONSULTATION_CREATE, "create", "Encounter", NULL,
                     c->patient_id);
    goto out;
  }
  for (guint i = 0; c->specialist_ids[i]; i++) {
    g_autoptr (RecordsUser) user = records_user_get (req->store, c->specialist_ids[i], &error);

    if (user == NULL && !g_error_matches (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND)) {
      fhir_reply_records_error (req, error, NULL);
      goto out;
    }
    if (user == NULL || user->role != RECORDS_ROLE_SPECIALIST || user->disabled) {
      g_autofree char *path = participant_path (body, c->specialist_ids[i]);
      reply_invalid (req, "Encounter", c->patient_id, path,
                     user ? "that Practitioner is not an active specialist"
                          : "no such Practitioner");
      goto out;
    }
  }
  g_free (c->requester_id);
  c->requester_id = g_strdup (req->who->user_id);
  g_free (c->requesting_facility_id);
  c->requesting_facility_id = g_strdup (req->who->facility_id);
  if (!records_consultation_create (req->store, c, req->who->user_id, &error)) {
    fhir_audit (req, "create", "Encounter", NULL, c->patient_id, "failure", "fhir store refused");
    fhir_reply_records_error (req, error, NULL);
    goto out;
  }
  fhir_audit (req, "create", "Encounter", c->id, c->patient_id, "success", "fhir create");
  stored = records_consultation_get (req->store, c->id, &error);
  reply_created (req, "Encounter", c->id, signaling_fhir_encounter_to_json (stored ? stored : c));
out:
  json_decref (body);
}

static void
create_consent (FhirRequest *req)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RecordsConsent) consent = NULL;
  g_autoptr (RecordsConsultation) consultation = NULL;
  g_autofree char *field = NULL;
  g_auto (PatientTarget) t = { 0 };
  const char *caller;
  json_t *body;

  if (!fhir_check_params (req, no_params) || !(body = read_body (req, "Consent")))
    return;
  consent = signaling_fhir_consent_parse (body, &field, &error);
  if (consent == NULL) {
    reply_invalid (req, "Consent", NULL, field, error->message);
    goto out;
  }
  /* Who recorded it is the caller: the patient themselves or a user. */
  caller = req->who->role == RECORDS_ROLE_PATIENT ? "patient" : req->who->user_id;
  if (consent->recorded_by && g_strcmp0 (consent->recorded_by, caller) != 0) {
    reply_invalid (req, "Consent", NULL, "Consent.performer[0].reference",
                   "the performer must be the authenticated caller");
    goto out;
  }
  if (!fhir_patient_target_load (req->store, consent->patient_id, &t, &error)) {
    if (g_error_matches (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND))
      reply_invalid (req, "Consent", NULL, "Consent.patient.reference", "no such Patient");
    else
      fhir_reply_records_error (req, error, NULL);
    goto out;
  }
  if (consent->consultation_id) {
    consultation = records_consultation_get (req->store, consent->consultation_id, &error);
    if (consultation == NULL && !g_error_matches (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND)) {
      fhir_reply_records_error (req, error, NULL);
      goto out;
    }
    if (consultation == NULL || strcmp (consultation->patient_id, consent->patient_id) != 0) {
      reply_invalid (req, "Consent", consent->patient_id,
                     "Consent.provision.data[0].reference.reference",
                     "no such Encounter of this patient");
      goto out;
    }
    t.target.consultation = consultation;
  }
  if (!signaling_policy_allows (req->who, SIGNALING_OP_CONSENT_CREATE, &t.target)) {
    fhir_reply_forbidden (req, SIGNALING_OP_CONSENT_CREATE, "create", "Consent", NULL,
                     consent->patient_id);
    goto out;
  }
  g_free (consent->recorded_by);
  consent->recorded_by = g_strdup (caller);
  if (!records_consent_create (req->store, consent, &error)) {
    fhir_audit (req, "create", "Consent", NULL, consent->patient_id, "failure",
                "fhir store refused");
    fhir_reply_records_error (req, error, NULL);
    goto out;
  }
  fhir_audit (req, "create", "Consent", consent->id, consent->patient_id, "success", "fhir create");
  signaling_api_notify_consent (req->fhir->api, consent);
  reply_created (req, "Consent", consent->id, signaling_fhir_consent_to_json (consent));
out:
  json_decref (body);
}

/* ---- routing ----------------------------------------------------------- */

typedef struct {
  const char *type;
  void (*read) (FhirRequest *req, const char *id);
  void (*search) (FhirRequest *req);
  void (*create) (FhirRequest *req);
} ResourceRoute;

static const ResourceRoute routes[] = {
  { "Patient", read_patient, fhir_search_patients, NULL },
  { "Practitioner", read_practitioner, fhir_search_practitioners, NULL },
  { "Organization", read_organization, fhir_search_organizations, NULL },
  { "Encounter", read_encounter, fhir_search_encounters, create_encounter },
  { "Consent", read_consent, fhir_search_consents, create_consent },
  { "AuditEvent", read_audit_event, fhir_search_audit_events, NULL },
  { "Media", read_media, fhir_search_media, NULL },
};

static char *
base_url_of (SoupServerMessage *msg)
{
  GUri *uri = soup_server_message_get_uri (msg);

  return g_uri_join (G_URI_FLAGS_NONE, g_uri_get_scheme (uri), NULL, g_uri_get_host (uri),
                     g_uri_get_port (uri), "/fhir", NULL, NULL);
}

static void
handle_fhir (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
             gpointer user_data)
{
  FhirContext *fhir = user_data;
  const char *method = soup_server_message_get_method (msg);
  g_auto (GStrv) parts = NULL;
  guint n_parts;
  const ResourceRoute *route = NULL;
  FhirRequest req = { .fhir = fhir, .store = fhir->store, .msg = msg, .query = query };

  /* path is "/fhir" or "/fhir/..." (libsoup matched the prefix). */
  parts = g_strsplit (path + strlen ("/fhir") + (path[strlen ("/fhir")] == '/'), "/", 4);
  n_parts = g_strv_length (parts);
  req.base_url = base_url_of (msg);
  req.self_url = g_uri_to_string (soup_server_message_get_uri (msg));

  if (n_parts == 1 && strcmp (parts[0], "metadata") == 0) {
    if (strcmp (method, SOUP_METHOD_GET) == 0)
      fhir_reply (msg, SOUP_STATUS_OK, signaling_fhir_capability_statement (req.base_url));
    else {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow",
                                    "GET");
      reply_outcome (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method-not-allowed",
                     "metadata is read with GET", NULL);
    }
    goto out;
  }

  req.who = signaling_api_authenticate (fhir->api, msg);
  if (req.who == NULL) {
    rewrite_as_outcome (msg);
    goto out;
  }
  req.source = signaling_api_client_address (msg);

  for (guint i = 0; n_parts >= 1 && i < G_N_ELEMENTS (routes); i++)
    if (strcmp (parts[0], routes[i].type) == 0)
      route = &routes[i];
  if (route == NULL || n_parts > 2 || (n_parts == 2 && !signaling_fhir_id_valid (parts[1]))) {
    fhir_reply_error (&req, SIGNALING_FHIR_ERROR_NOT_FOUND, "no such FHIR resource", NULL);
    goto out;
  }
  if (n_parts == 2 && strcmp (method, SOUP_METHOD_GET) == 0) {
    if (!fhir_check_params (&req, no_params))
      goto out;
    route->read (&req, parts[1]);
  } else if (n_parts == 1 && strcmp (method, SOUP_METHOD_GET) == 0) {
    route->search (&req);
  } else if (n_parts == 1 && strcmp (method, SOUP_METHOD_POST) == 0 && route->create) {
    route->create (&req);
  } else {
    g_autofree char *message = g_strdup_printf ("%s is not supported on this path", method);
    soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow",
                                  n_parts == 1 && route->create ? "GET, POST" : "GET");
    fhir_reply_error (&req, SIGNALING_FHIR_ERROR_METHOD_NOT_ALLOWED, message, NULL);
  }

out:
  g_clear_pointer (&req.who, signaling_principal_free);
  g_free (req.source);
  g_free (req.base_url);
  g_free (req.self_url);
}

/* Refuses a body over the limit from its headers, before libsoup reads it;
 * a chunked body has no length to check and is refused as well. */
static void
handle_fhir_early (SoupServer *server, SoupServerMessage *msg, const char *path,
                   GHashTable *query, gpointer user_data)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *message = NULL;

  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CHUNKED)
    message = "a request body needs a Content-Length";
  else if (soup_message_headers_get_content_length (headers) > SIGNALING_API_MAX_BODY)
    message = "the body is over 65536 bytes";
  if (message) {
    /* A status set here makes libsoup answer without the handler. */
    soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection",
                                  "close");
    reply_outcome (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too-large", message, NULL);
  }
}

void
signaling_fhir_attach (SignalingApi *api, RecordsStore *store, SoupServer *server)
{
  FhirContext *fhir;

  g_return_if_fail (api != NULL && store != NULL && SOUP_IS_SERVER (server));

  fhir = g_new0 (FhirContext, 1);
  fhir->api = api;
  fhir->store = store;
  soup_server_add_early_handler (server, "/fhir/", handle_fhir_early, NULL, NULL);
  /* "/fhir/": libsoup matches by prefix, "/fhir" would catch "/fhir.js". */
  soup_server_add_handler (server, "/fhir/", handle_fhir, fhir, g_free);
}
