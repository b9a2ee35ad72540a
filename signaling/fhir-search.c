/* fhir-search.c — the FHIR search interactions (GET /fhir/<type>?...): each
 * returns a searchset Bundle of only what the caller may read; see fhir.h. */
#include <string.h>

#include "fhir-priv.h"

/* ---- query parameters -------------------------------------------------- */

/* _count: 1..FHIR_MAX_COUNT, default FHIR_DEFAULT_COUNT. */
static gboolean
get_count (FhirRequest *req, guint *out)
{
  const char *text = fhir_param (req, "_count");
  guint64 value;

  *out = FHIR_DEFAULT_COUNT;
  if (text == NULL)
    return TRUE;
  if (!g_ascii_string_to_unsigned (text, 10, 1, FHIR_MAX_COUNT, &value, NULL)) {
    fhir_reply_error (req, SIGNALING_FHIR_ERROR_INVALID_FIELD, "_count must be 1 to 500", "_count");
    return FALSE;
  }
  *out = (guint) value;
  return TRUE;
}

/* A reference parameter ("<id>" or "<type>/<id>"); (transfer full) id, or
 * NULL after replying 400. */
static char *
get_reference_param (FhirRequest *req, const char *name, const char *type)
{
  char *id = signaling_fhir_reference_parse (fhir_param (req, name), type, TRUE);

  if (id == NULL) {
    g_autofree char *message = g_strdup_printf ("%s must be an id or %s/<id>", name, type);
    fhir_reply_error (req, SIGNALING_FHIR_ERROR_INVALID_FIELD, message, name);
  }
  return id;
}

/* "<system>|<value>" → the two parts; FALSE after replying 400. */
static gboolean
split_identifier (FhirRequest *req, const char *text, char **system, char **value)
{
  const char *bar = strchr (text, '|');

  if (bar == NULL || bar == text || bar[1] == '\0') {
    fhir_reply_error (req, SIGNALING_FHIR_ERROR_INVALID_FIELD,
                 "identifier must be <system>|<value>", "identifier");
    return FALSE;
  }
  *system = g_strndup (text, (gsize) (bar - text));
  *value = g_strdup (bar + 1);
  return TRUE;
}

/* ---- searches ---------------------------------------------------------- */

static json_t *
bundle_new (FhirRequest *req)
{
  return signaling_fhir_bundle_new (req->self_url);
}

/* The start of every search: only @allowed parameters, a valid _count and,
 * when @id is not NULL, _id (if given) a FHIR id.  FALSE after replying
 * 400. */
static gboolean
search_begin (FhirRequest *req, const char *const *allowed, guint *count, const char **id)
{
  if (!fhir_check_params (req, allowed) || !get_count (req, count))
    return FALSE;
  if (id == NULL)
    return TRUE;
  *id = fhir_param (req, "_id");
  if (*id != NULL && !signaling_fhir_id_valid (*id)) {
    fhir_reply_error (req, SIGNALING_FHIR_ERROR_INVALID_FIELD, "_id is not a FHIR id", "_id");
    return FALSE;
  }
  return TRUE;
}

/* Nothing to find (no such patient or resource): an empty searchset,
 * audited with @detail. */
static void
reply_nothing (FhirRequest *req, const char *type, const char *detail)
{
  fhir_audit (req, "search", type, NULL, NULL, "success", detail);
  fhir_reply (req->msg, SOUP_STATUS_OK, bundle_new (req));
}

/* Audits how many @type resources were found (about @patient_id, may be
 * NULL) and sends @bundle (taken). */
static void
reply_found (FhirRequest *req, json_t *bundle, const char *type, const char *patient_id)
{
  g_autofree char *detail = g_strdup_printf (
    "fhir search: %" JSON_INTEGER_FORMAT " found",
    json_integer_value (json_object_get (bundle, "total")));

  fhir_audit (req, "search", type, NULL, patient_id, "success", detail);
  fhir_reply (req->msg, SOUP_STATUS_OK, bundle);
}

/* Case-insensitive "contains" on Unicode text (Vietnamese names). */
static gboolean
name_matches (const char *name, const char *part)
{
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;

  if (part == NULL)
    return TRUE;
  if (name == NULL)
    return FALSE;
  a = g_utf8_casefold (name, -1);
  b = g_utf8_casefold (part, -1);
  return strstr (a, b) != NULL;
}

/* Patients a specialist may see: those of the consultations they are on. */
static GPtrArray *
specialist_patients (FhirRequest *req, GError **error)
{
  g_autoptr (RecordsUser) user = records_user_get (req->store, req->who->user_id, error);
  g_autoptr (GPtrArray) consultations = NULL;
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GPtrArray) patients = g_ptr_array_new_with_free_func (
    (GDestroyNotify) records_patient_free);

  if (user == NULL)
    return NULL;
  consultations = records_consultation_list_for_user (req->store, user, NULL, NULL, error);
  if (consultations == NULL)
    return NULL;
  for (guint i = 0; i < consultations->len; i++) {
    RecordsConsultation *c = consultations->pdata[i];
    RecordsPatient *patient;

    if (g_hash_table_contains (seen, c->patient_id))
      continue;
    g_hash_table_add (seen, c->patient_id);
    patient = records_patient_get (req->store, c->patient_id, error);
    if (patient == NULL)
      return NULL;
    g_ptr_array_add (patients, patient);
  }
  return g_steal_pointer (&patients);
}

void
fhir_search_patients (FhirRequest *req)
{
  static const char *const allowed[] = { "_id", "identifier", "name", "_count", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) candidates = g_ptr_array_new_with_free_func (
    (GDestroyNotify) records_patient_free);
  const char *id = fhir_param (req, "_id");
  const char *identifier = fhir_param (req, "identifier");
  const char *name = fhir_param (req, "name");
  const char *kind = "list";
  const char *single_patient = NULL;
  g_autofree char *detail = NULL;
  json_t *bundle;
  guint count;

  if (!search_begin (req, allowed, &count, NULL))
    return;
  if (!signaling_policy_allows (req->who, SIGNALING_OP_PATIENT_SEARCH, NULL)) {
    fhir_reply_forbidden (req, SIGNALING_OP_PATIENT_SEARCH, "search", "Patient", NULL, NULL);
    return;
  }
  if (id && !signaling_fhir_id_valid (id)) {
    fhir_reply_error (req, SIGNALING_FHIR_ERROR_INVALID_FIELD, "_id is not a FHIR id", "_id");
    return;
  }

  if (identifier) {
    g_autofree char *system = NULL;
    g_autofree char *value = NULL;
    RecordsPatient *patient;

    if (!split_identifier (req, identifier, &system, &value))
      return;
    /* The REST API's short names are accepted as well. */
    if (strcmp (system, "cccd") == 0 || strcmp (system, "bhyt") == 0) {
      g_autofree char *short_name = g_steal_pointer (&system);
      system = g_strdup (strcmp (short_name, "cccd") == 0 ? RECORDS_SYSTEM_CCCD
                                                           : RECORDS_SYSTEM_BHYT);
    }
    if (strcmp (system, RECORDS_SYSTEM_CCCD) == 0) {
      if (!records_cccd_validate (value, 0, &error)) {
        fhir_reply_error (req, SIGNALING_FHIR_ERROR_INVALID_CCCD, error->message, "identifier");
        return;
      }
      kind = "identifier cccd";
    } else if (strcmp (system, RECORDS_SYSTEM_BHYT) == 0) {
      if (!records_bhyt_validate (value, &error)) {
        fhir_reply_error (req, SIGNALING_FHIR_ERROR_INVALID_BHYT, error->message, "identifier");
        return;
      }
      kind = "identifier bhyt";
    } else {
      fhir_reply_error (req, SIGNALING_FHIR_ERROR_INVALID_FIELD,
                   "identifier system must be " RECORDS_SYSTEM_CCCD " (CCCD) or "
                   RECORDS_SYSTEM_BHYT " (BHYT)", "identifier");
      return;
    }
    patient = records_patient_find_by_identifier (req->store, system, value, &error);
    if (patient)
      g_ptr_array_add (candidates, patient);
    else if (!g_error_matches (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND)) {
      fhir_reply_records_error (req, error, "identifier");
      return;
    }
    g_clear_error (&error);
  } else if (id) {
    RecordsPatient *patient = records_patient_get (req->store, id, &error);

    if (patient)
      g_ptr_array_add (candidates, patient);
    else if (!g_error_matches (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND)) {
      fhir_reply_records_error (req, error, "_id");
      return;
    }
    g_clear_error (&error);
    kind = "_id";
  } else if (req->who->role == RECORDS_ROLE_SPECIALIST) {
    g_autoptr (GPtrArray) mine = specialist_patients (req, &error);

    if (mine == NULL) {
      fhir_reply_records_error (req, error, NULL);
      return;
    }
    g_ptr_array_extend_and_steal (candidates, g_steal_pointer (&mine));
    kind = name ? "name" : "list";
  } else {
    /* Clinicians and nurses: their facility's patients. */
    g_autoptr (GPtrArray) found = records_patient_search (req->store, name, req->who->facility_id,
                                                          count, &error);
    if (found == NULL) {
      fhir_reply_records_error (req, error, "name");
      return;
    }
    g_ptr_array_extend_and_steal (candidates, g_steal_pointer (&found));
    kind = name ? "name" : "list";
  }

  bundle = bundle_new (req);
  for (guint i = 0; i < candidates->len; i++) {
    RecordsPatient *patient = candidates->pdata[i];

    if ((id && strcmp (patient->id, id) != 0) || !name_matches (patient->name, name))
      continue;
    if (!fhir_may_read_patient (req, patient->id, &error)) {
      if (error) {
        json_decref (bundle);
        fhir_reply_records_error (req, error, NULL);
        return;
      }
      continue;
    }
    if (json_integer_value (json_object_get (bundle, "total")) >= count)
      break;
    signaling_fhir_bundle_add (bundle, req->base_url, signaling_fhir_patient_to_json (patient));
    single_patient = single_patient ? "" : patient->id;
  }
  detail = g_strdup_printf ("fhir search by %s: %" JSON_INTEGER_FORMAT " found", kind,
                            json_integer_value (json_object_get (bundle, "total")));
  fhir_audit (req, "search", "Patient", NULL,
         single_patient && *single_patient ? single_patient : NULL, "success", detail);
  fhir_reply (req->msg, SOUP_STATUS_OK, bundle);
}

void
fhir_search_encounters (FhirRequest *req)
{
  static const char *const allowed[] = { "patient", "_id", "_count", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) candidates = NULL;
  g_autofree char *patient_id = NULL;
  const char *id = NULL;
  const char *single_patient = NULL;
  json_t *bundle;
  guint count;

  if (!search_begin (req, allowed, &count, &id))
    return;
  if (fhir_param (req, "patient")) {
    if (!(patient_id = get_reference_param (req, "patient", "Patient")))
      return;
    if (!fhir_may_read_patient (req, patient_id, &error)) {
      if (g_error_matches (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND)) {
        /* Nothing to find for a patient that does not exist. */
        reply_nothing (req, "Encounter", "fhir search: no such patient");
      } else if (error) {
        fhir_reply_records_error (req, error, NULL);
      } else {
        fhir_reply_forbidden (req, SIGNALING_OP_PATIENT_READ, "search", "Encounter", NULL,
                              patient_id);
      }
      return;
    }
    candidates = records_consultation_list_for_patient (req->store, patient_id, &error);
  } else if (id) {
    RecordsConsultation *c = records_consultation_get (req->store, id, &error);

    candidates = g_ptr_array_new_with_free_func ((GDestroyNotify) records_consultation_free);
    if (c)
      g_ptr_array_add (candidates, c);
    else if (g_error_matches (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND))
      g_clear_error (&error);
    else
      g_clear_pointer (&candidates, g_ptr_array_unref);
  } else {
    g_autoptr (RecordsUser) user = NULL;

    if (!signaling_policy_allows (req->who, SIGNALING_OP_CONSULTATION_LIST, NULL)) {
      fhir_reply_forbidden (req, SIGNALING_OP_CONSULTATION_LIST, "search", "Encounter", NULL, NULL);
      return;
    }
    user = records_user_get (req->store, req->who->user_id, &error);
    if (user)
      candidates = records_consultation_list_for_user (req->store, user, NULL, NULL, &error);
  }
  if (candidates == NULL) {
    fhir_reply_records_error (req, error, NULL);
    return;
  }

  bundle = bundle_new (req);
  for (guint i = 0; i < candidates->len; i++) {
    RecordsConsultation *c = candidates->pdata[i];

    if ((id && strcmp (c->id, id) != 0) || !fhir_may_read_consultation (req, c))
      continue;
    if (json_integer_value (json_object_get (bundle, "total")) >= count)
      break;
    signaling_fhir_bundle_add (bundle, req->base_url, signaling_fhir_encounter_to_json (c));
    if (single_patient == NULL)
      single_patient = c->patient_id;
    else if (strcmp (single_patient, c->patient_id) != 0)
      single_patient = "";
  }
  reply_found (req, bundle, "Encounter",
               patient_id ? patient_id
                          : (single_patient && *single_patient ? single_patient : NULL));
}

void
fhir_search_consents (FhirRequest *req)
{
  static const char *const allowed[] = { "patient", "_id", "_count", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) consents = NULL;
  g_autofree char *patient_id = NULL;
  g_auto (PatientTarget) t = { 0 };
  const char *id = NULL;
  json_t *bundle;
  guint count;

  if (!search_begin (req, allowed, &count, &id))
    return;
  if (fhir_param (req, "patient")) {
    if (!(patient_id = get_reference_param (req, "patient", "Patient")))
      return;
  } else if (id) {
    g_autoptr (RecordsConsent) consent = records_consent_get (req->store, id, &error);

    if (consent == NULL && !g_error_matches (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND)) {
      fhir_reply_records_error (req, error, NULL);
      return;
    }
    if (consent == NULL) {
      reply_nothing (req, "Consent", "fhir search: 0 found");
      return;
    }
    patient_id = g_strdup (consent->patient_id);
  } else {
    fhir_reply_error (req, SIGNALING_FHIR_ERROR_INVALID_FIELD,
                 "a Consent search needs the patient parameter", "patient");
    return;
  }

  if (!fhir_patient_target_load (req->store, patient_id, &t, &error)) {
    if (!g_error_matches (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND)) {
      fhir_reply_records_error (req, error, NULL);
      return;
    }
    reply_nothing (req, "Consent", "fhir search: no such patient");
    return;
  }
  if (!signaling_policy_allows (req->who, SIGNALING_OP_CONSENT_READ, &t.target)) {
    fhir_reply_forbidden (req, SIGNALING_OP_CONSENT_READ, "search", "Consent", NULL, patient_id);
    return;
  }
  consents = records_consent_list_for_patient (req->store, patient_id, &error);
  if (consents == NULL) {
    fhir_reply_records_error (req, error, NULL);
    return;
  }
  bundle = bundle_new (req);
  for (guint i = 0; i < consents->len; i++) {
    RecordsConsent *consent = consents->pdata[i];

    if (id && strcmp (consent->id, id) != 0)
      continue;
    if (json_integer_value (json_object_get (bundle, "total")) >= count)
      break;
    signaling_fhir_bundle_add (bundle, req->base_url, signaling_fhir_consent_to_json (consent));
  }
  reply_found (req, bundle, "Consent", patient_id);
}

void
fhir_search_audit_events (FhirRequest *req)
{
  static const char *const allowed[] = { "patient", "agent", "subtype", "after", "_count",
                                         NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) events = NULL;
  g_autofree char *patient_id = NULL;
  g_autofree char *agent_id = NULL;
  g_autofree char *detail = NULL;
  const char *subtype = fhir_param (req, "subtype");
  guint64 after = 0;
  guint count;
  json_t *bundle;

  if (!search_begin (req, allowed, &count, NULL) ||
      !fhir_allow_audit_read (req, "search", NULL))
    return;
  if (fhir_param (req, "patient") &&
      !(patient_id = get_reference_param (req, "patient", "Patient")))
    return;
  if (fhir_param (req, "agent") && !(agent_id = get_reference_param (req, "agent", "Practitioner")))
    return;
  if (subtype && !signaling_fhir_id_valid (subtype)) {
    fhir_reply_error (req, SIGNALING_FHIR_ERROR_INVALID_FIELD, "subtype is not an action word",
                 "subtype");
    return;
  }
  if (fhir_param (req, "after") &&
      !g_ascii_string_to_unsigned (fhir_param (req, "after"), 10, 0, G_MAXINT64, &after, NULL)) {
    fhir_reply_error (req, SIGNALING_FHIR_ERROR_INVALID_FIELD, "after must be a sequence number",
                 "after");
    return;
  }
  events = records_audit_list (req->store, (gint64) after, agent_id, patient_id, subtype, count,
                               &error);
  if (events == NULL) {
    fhir_reply_records_error (req, error, NULL);
    return;
  }
  bundle = bundle_new (req);
  for (guint i = 0; i < events->len; i++)
    signaling_fhir_bundle_add (bundle, req->base_url,
                               signaling_fhir_audit_event_to_json (events->pdata[i]));
  if (events->len == count) {
    /* A full page: the next one starts after its last event. */
    RecordsAuditEvent *last = events->pdata[events->len - 1];
    g_autoptr (GString) next = g_string_new (req->base_url);

    g_string_append_printf (next, "/AuditEvent?after=%" G_GINT64_FORMAT "&_count=%u", last->seq,
                            count);
    if (patient_id)
      g_string_append_printf (next, "&patient=%s", patient_id);
    if (agent_id)
      g_string_append_printf (next, "&agent=%s", agent_id);
    if (subtype)
      g_string_append_printf (next, "&subtype=%s", subtype);
    json_array_append_new (json_object_get (bundle, "link"),
                           json_pack ("{s:s, s:s}", "relation", "next", "url", next->str));
  }
  detail = g_strdup_printf ("fhir search: %u found", events->len);
  fhir_audit (req, "search", "AuditEvent", NULL, patient_id, "success", detail);
  fhir_reply (req->msg, SOUP_STATUS_OK, bundle);
}

void
fhir_search_practitioners (FhirRequest *req)
{
  static const char *const allowed[] = { "_id", "identifier", "_count", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) users = NULL;
  g_autofree char *system = NULL;
  g_autofree char *username = NULL;
  const char *id = NULL;
  json_t *bundle;
  guint count;

  if (!search_begin (req, allowed, &count, &id) ||
      !fhir_allow_directory (req, "search", "Practitioner", NULL))
    return;
  if (fhir_param (req, "identifier")) {
    if (!split_identifier (req, fhir_param (req, "identifier"), &system, &username))
      return;
    if (strcmp (system, SIGNALING_FHIR_SYSTEM_USERNAME) != 0) {
      fhir_reply_error (req, SIGNALING_FHIR_ERROR_INVALID_FIELD,
                   "identifier system must be " SIGNALING_FHIR_SYSTEM_USERNAME, "identifier");
      return;
    }
  }
  users = records_user_list (req->store, NULL, &error);
  if (users == NULL) {
    fhir_reply_records_error (req, error, NULL);
    return;
  }
  bundle = bundle_new (req);
  for (guint i = 0; i < users->len; i++) {
    RecordsUser *user = users->pdata[i];

    if ((id && strcmp (user->id, id) != 0) || (username && strcmp (user->username, username) != 0))
      continue;
    if (json_integer_value (json_object_get (bundle, "total")) >= count)
      break;
    signaling_fhir_bundle_add (bundle, req->base_url, signaling_fhir_practitioner_to_json (user));
  }
  fhir_reply (req->msg, SOUP_STATUS_OK, bundle);
}

void
fhir_search_organizations (FhirRequest *req)
{
  static const char *const allowed[] = { "_id", "identifier", "_count", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) facilities = NULL;
  g_autofree char *system = NULL;
  g_autofree char *code = NULL;
  const char *id = NULL;
  json_t *bundle;
  guint count;

  if (!search_begin (req, allowed, &count, &id) ||
      !fhir_allow_directory (req, "search", "Organization", NULL))
    return;
  if (fhir_param (req, "identifier")) {
    if (!split_identifier (req, fhir_param (req, "identifier"), &system, &code))
      return;
    if (strcmp (system, SIGNALING_FHIR_SYSTEM_FACILITY_CODE) != 0) {
      fhir_reply_error (req, SIGNALING_FHIR_ERROR_INVALID_FIELD,
                   "identifier system must be " SIGNALING_FHIR_SYSTEM_FACILITY_CODE,
                   "identifier");
      return;
    }
  }
  facilities = records_facility_list (req->store, &error);
  if (facilities == NULL) {
    fhir_reply_records_error (req, error, NULL);
    return;
  }
  bundle = bundle_new (req);
  for (guint i = 0; i < facilities->len; i++) {
    RecordsFacility *facility = facilities->pdata[i];

    if ((id && strcmp (facility->id, id) != 0) || (code && strcmp (facility->code, code) != 0))
      continue;
    if (json_integer_value (json_object_get (bundle, "total")) >= count)
      break;
    signaling_fhir_bundle_add (bundle, req->base_url,
                               signaling_fhir_organization_to_json (facility));
  }
  fhir_reply (req->msg, SOUP_STATUS_OK, bundle);
}

/* Media?patient=<id>: the recordings of the patient's consultations the
 * caller may read (a patient token sees its own consultation's only). */
void
fhir_search_media (FhirRequest *req)
{
  static const char *const allowed[] = { "patient", "_id", "_count", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) recordings = NULL;
  g_autofree char *patient_id = NULL;
  const char *id = NULL;
  json_t *bundle;
  guint count;

  if (!search_begin (req, allowed, &count, &id))
    return;
  if (fhir_param (req, "patient")) {
    if (!(patient_id = get_reference_param (req, "patient", "Patient")))
      return;
  } else if (id) {
    g_autoptr (RecordsRecording) recording = records_recording_get (req->store, id, &error);

    if (recording == NULL && !g_error_matches (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND)) {
      fhir_reply_records_error (req, error, NULL);
      return;
    }
    if (recording == NULL) {
      reply_nothing (req, "Media", "fhir search: 0 found");
      return;
    }
    patient_id = g_strdup (recording->patient_id);
  } else {
    fhir_reply_error (req, SIGNALING_FHIR_ERROR_INVALID_FIELD,
                      "a Media search needs the patient parameter", "patient");
    return;
  }
  if (!fhir_may_read_patient (req, patient_id, &error)) {
    if (g_error_matches (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND)) {
      reply_nothing (req, "Media", "fhir search: no such patient");
    } else if (error) {
      fhir_reply_records_error (req, error, NULL);
    } else {
      fhir_reply_forbidden (req, SIGNALING_OP_PATIENT_READ, "search", "Media", NULL, patient_id);
    }
    return;
  }
  recordings = records_recording_list_for_patient (req->store, patient_id, &error);
  if (recordings == NULL) {
    fhir_reply_records_error (req, error, NULL);
    return;
  }
  bundle = bundle_new (req);
  for (guint i = 0; i < recordings->len; i++) {
    RecordsRecording *recording = recordings->pdata[i];

    if (id && strcmp (recording->id, id) != 0)
      continue;
    if (!fhir_may_read_recording (req, recording, &error)) {
      if (error) {
        json_decref (bundle);
        fhir_reply_records_error (req, error, NULL);
        return;
      }
      continue;
    }
    if (json_integer_value (json_object_get (bundle, "total")) >= count)
      break;
    signaling_fhir_bundle_add (bundle, req->base_url, fhir_media_json (req, recording));
  }
  reply_found (req, bundle, "Media", patient_id);
}
