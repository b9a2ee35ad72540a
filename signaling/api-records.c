/* api-records.c — the records endpoints of the REST API: facilities,
 * users, patients, consents, consultations, invitations, audit
 * (docs/api.md "Records").  Each handler: authenticate, validate the whole
 * input, load the target, ask the policy, act, audit, reply. */
#include "api-priv.h"

#include <string.h>

#define LIST_LIMIT 100

static gboolean
is_method (ApiRequest *request, const char *method)
{
  return strcmp (request->method, method) == 0;
}

static const char *
body_string (json_t *body, const char *name)
{
  json_t *value = json_object_get (body, name);

  return json_is_string (value) ? json_string_value (value) : NULL;
}

static void
reply_not_found (ApiRequest *request, const char *what)
{
  signaling_api_reply_error (request->msg, SOUP_STATUS_NOT_FOUND, "not-found", what, NULL);
}

static void
reply_invalid (ApiRequest *request, const char *code, const char *message, const char *field)
{
  signaling_api_reply_error (request->msg, SOUP_STATUS_BAD_REQUEST, code, message, field);
}

static const char *
query_get (ApiRequest *request, const char *name)
{
  return request->query ? g_hash_table_lookup (request->query, name) : NULL;
}

/* The consultation @id, or NULL after replying 404 (or 500). */
static RecordsConsultation *
load_consultation (ApiRequest *request, const char *id)
{
  g_autoptr (GError) error = NULL;
  RecordsConsultation *consultation;

  if (!api_is_uuid (id)) {
    reply_not_found (request, "no such consultation");
    return NULL;
  }
  consultation = records_consultation_get (request->api->store, id, &error);
  if (consultation == NULL)
    api_reply_records_error (request, error, FALSE);
  return consultation;
}

/* A patient with everything the policy needs about them. */
typedef struct {
  RecordsPatient *patient;
  GPtrArray *consultations;
} PatientContext;

static void
patient_context_clear (PatientContext *context)
{
  g_clear_pointer (&context->patient, records_patient_free);
  g_clear_pointer (&context->consultations, g_ptr_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PatientContext, patient_context_clear)

static gboolean
load_patient (ApiRequest *request, const char *id, PatientContext *context)
{
  g_autoptr (GError) error = NULL;

  if (!api_is_uuid (id)) {
    reply_not_found (request, "no such patient");
    return FALSE;
  }
  context->patient = records_patient_get (request->api->store, id, &error);
  if (context->patient != NULL)
    context->consultations = records_consultation_list_for_patient (request->api->store, id,
                                                                    &error);
  if (context->consultations == NULL) {
    api_reply_records_error (request, error, FALSE);
    return FALSE;
  }
  return TRUE;
}

static SignalingPolicyTarget
patient_target (const PatientContext *context)
{
  return (SignalingPolicyTarget) {
    .patient_id = context->patient->id,
    .patient_facility_id = context->patient->facility_id,
    .patient_consultations = context->consultations,
  };
}

/* ---- facilities ---------------------------------------------------------- */

static void
facilities_list (ApiRequest *request)
{
  g_autoptr (GPtrArray) facilities = NULL;
  g_autoptr (GError) error = NULL;
  json_t *list;

  if (!api_check_query (request, NULL)
      || !api_allow (request, SIGNALING_OP_DIRECTORY_READ, NULL, "read", "Organization", NULL,
                     NULL))
    return;
  facilities = records_facility_list (request->api->store, &error);
  if (facilities == NULL) {
    api_reply_records_error (request, error, FALSE);
    return;
  }
  list = json_array ();
  for (guint i = 0; i < facilities->len; i++)
    json_array_append_new (list, api_facility_json (facilities->pdata[i]));
  signaling_api_reply_json (request->msg, SOUP_STATUS_OK, list);
}

static void
facilities_create (ApiRequest *request)
{
  static const FieldSpec fields[] = {
    { "code", FIELD_STRING, TRUE, 1, 32 },
    { "name", FIELD_STRING, TRUE, 1, 200 },
    { "kind", FIELD_STRING, TRUE, 1, 32 },
    { "province_code", FIELD_STRING, TRUE, 3, 3 },
  };
  g_autoptr (SignalingJson) body = NULL;
  g_autoptr (GError) error = NULL;
  RecordsFacility facility = { 0 };
  const char *code, *province;

  if (!api_allow (request, SIGNALING_OP_FACILITY_MANAGE, NULL, "create", "Organization", NULL,
                  NULL))
    return;
  body = api_read_valid_body (request, fields, G_N_ELEMENTS (fields));
  if (body == NULL)
    return;
  code = body_string (body, "code");
  province = body_string (body, "province_code");
  if (strspn (code, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-")
      != strlen (code)) {
    reply_invalid (request, "invalid-field", "letters, digits and '-' only", "code");
    return;
  }
  if (!records_facility_kind_valid (body_string (body, "kind"))) {
    reply_invalid (request, "invalid-field",
                   "district-clinic, provincial-hospital or national-hospital", "kind");
    return;
  }
  if (strspn (province, "0123456789") != 3) {
    reply_invalid (request, "invalid-field", "a 3-digit province code", "province_code");
    return;
  }
  facility.code = (char *) code;
  facility.name = (char *) body_string (body, "name");
  facility.kind = (char *) body_string (body, "kind");
  facility.province_code = (char *) province;
  if (!records_facility_create (request->api->store, &facility, request->who->user_id, &error)) {
    api_reply_records_error (request, error, FALSE);
    return;
  }
  api_audit (request, "create", "Organization", facility.id, NULL, "success", NULL);
  signaling_api_reply_json (request->msg, SOUP_STATUS_CREATED, api_facility_json (&facility));
  g_free (facility.id);
  g_free (facility.created_at);
}

/* ---- users ------------------------------------------------------------- */

static void
users_list (ApiRequest *request)
{
  static const char *const allowed[] = { "role", NULL };
  g_autoptr (GPtrArray) users = NULL;
  g_autoptr (GError) error = NULL;
  const char *role_text = query_get (request, "role");
  RecordsRole role = RECORDS_ROLE_SPECIALIST;
  SignalingOperation op;
  json_t *list;

  if (!api_check_query (request, allowed))
    return;
  if (role_text != NULL
      && (!records_role_from_string (role_text, &role) || role == RECORDS_ROLE_PATIENT)) {
    reply_invalid (request, "invalid-field", "unknown role", "role");
    return;
  }
  /* Clinicians and nurses may list the specialists they can invite. */
  op = role_text != NULL && role == RECORDS_ROLE_SPECIALIST ? SIGNALING_OP_SPECIALIST_LIST
                                                            : SIGNALING_OP_USER_LIST;
  if (!api_allow (request, op, NULL, "search", "User", NULL, NULL))
    return;
  users = records_user_list (request->api->store, NULL, &error);
  if (users == NULL) {
    api_reply_records_error (request, error, FALSE);
    return;
  }
  list = json_array ();
  for (guint i = 0; i < users->len; i++) {
    RecordsUser *user = users->pdata[i];

    if (role_text != NULL && user->role != role)
      continue;
    if (op == SIGNALING_OP_SPECIALIST_LIST && user->disabled)
      continue;
    json_array_append_new (list, api_user_json (user));
  }
  signaling_api_reply_json (request->msg, SOUP_STATUS_OK, list);
}

static void
users_create (ApiRequest *request)
{
  static const FieldSpec fields[] = {
    { "username", FIELD_STRING, TRUE, 3, 64 },
    { "display_name", FIELD_STRING, TRUE, 1, 200 },
    { "role", FIELD_STRING, TRUE, 1, 32 },
    { "facility_id", FIELD_UUID, FALSE, 0, 0 },
    { "password", FIELD_STRING, TRUE, 1, 1024 },
  };
  g_autoptr (SignalingJson) body = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (RecordsFacility) facility = NULL;
  g_autofree char *hash = NULL;
  RecordsUser user = { 0 };
  const char *username, *facility_id;
  RecordsRole role;

  if (!api_allow (request, SIGNALING_OP_USER_MANAGE, NULL, "create", "User", NULL, NULL))
    return;
  body = api_read_valid_body (request, fields, G_N_ELEMENTS (fields));
  if (body == NULL)
    return;
  username = body_string (body, "username");
  facility_id = body_string (body, "facility_id");
  if (strspn (username, "abcdefghijklmnopqrstuvwxyz0123456789._-") != strlen (username)) {
    reply_invalid (request, "invalid-field", "lower-case letters, digits, '.', '_', '-' only",
                   "username");
    return;
  }
  if (!records_role_from_string (body_string (body, "role"), &role)
      || role == RECORDS_ROLE_PATIENT) {
    reply_invalid (request, "invalid-field",
                   "clinician, specialist, nurse, administrator or auditor", "role");
    return;
  }
  if (facility_id == NULL && (role == RECORDS_ROLE_CLINICIAN || role == RECORDS_ROLE_SPECIALIST
                              || role == RECORDS_ROLE_NURSE)) {
    reply_invalid (request, "invalid-field", "required for clinical staff", "facility_id");
    return;
  }
  if (facility_id != NULL) {
    facility = records_facility_get (request->api->store, facility_id, &error);
    if (facility == NULL) {
      if (error->code == RECORDS_ERROR_NOT_FOUND)
        reply_invalid (request, "invalid-field", "no such facility", "facility_id");
      else
        api_reply_records_error (request, error, FALSE);
      return;
    }
  }
  hash = signaling_auth_hash_password (request->api->auth, body_string (body, "password"), &error);
  if (hash == NULL) {
    if (error->code == RECORDS_ERROR_INVALID)
      reply_invalid (request, "invalid-field", "8 to 1024 bytes", "password");
    else
      api_reply_records_error (request, error, FALSE);
    return;
  }
  user.username = (char *) username;
  user.display_name = (char *) body_string (body, "display_name");
  user.role = role;
  user.facility_id = (char *) facility_id;
  user.password_hash = hash;
  if (!records_user_create (request->api->store, &user, request->who->user_id, &error)) {
    api_reply_records_error (request, error, FALSE);
    return;
  }
  api_audit (request, "create", "User", user.id, NULL, "success", records_role_to_string (role));
  signaling_api_reply_json (request->msg, SOUP_STATUS_CREATED, api_user_json (&user));
  g_free (user.id);
  g_free (user.created_at);
}

/* ---- patients ------------------------------------------------------------ */

/* TRUE when @name contains @part, case-insensitively (Unicode). */
static gboolean
name_matches (const char *name, const char *part)
{
  g_autofree char *folded_name = NULL, *folded_part = NULL;

  if (part == NULL || *part == '\0')
    return TRUE;
  folded_name = g_utf8_casefold (name, -1);
  folded_part = g_utf8_casefold (part, -1);
  return strstr (folded_name, folded_part) != NULL;
}

/* Adds @patient to @list when the caller may read it. */
static gboolean
append_if_readable (ApiRequest *request, json_t *list, RecordsPatient *patient, GError **error)
{
  g_autoptr (GPtrArray) consultations = NULL;
  SignalingPolicyTarget target;

  consultations = records_consultation_list_for_patient (request->api->store, patient->id, error);
  if (consultations == NULL)
    return FALSE;
  target = (SignalingPolicyTarget) { .patient_id = patient->id,
                                     .patient_facility_id = patient->facility_id,
                                     .patient_consultations = consultations };
  if (signaling_policy_allows (request->who, SIGNALING_OP_PATIENT_READ, &target))
    json_array_append_new (list, api_patient_json (patient));
  return TRUE;
}

static void
patients_search (ApiRequest *request)
{
  static const char *const allowed[] = { "q", "identifier", NULL };
  const char *q = query_get (request, "q"), *identifier = query_get (request, "identifier");
  g_autoptr (GError) error = NULL;
  g_autoptr (SignalingJson) list = json_array ();
  g_autofree char *detail = NULL;
  const char *found_patient = NULL;

  if (!api_check_query (request, allowed)
      || !api_allow (request, SIGNALING_OP_PATIENT_SEARCH, NULL, "search", "Patient", NULL, NULL))
    return;
  if (q != NULL && g_utf8_strlen (q, -1) > 100) {
    reply_invalid (request, "invalid-field", "at most 100 characters", "q");
    return;
  }

  if (identifier != NULL) {
    const char *bar = strchr (identifier, '|');
    g_autofree char *system = bar ? g_strndup (identifier, bar - identifier) : NULL;
    g_autoptr (RecordsPatient) patient = NULL;
    gboolean cccd, bhyt;

    cccd = system && (strcmp (system, "cccd") == 0 || strcmp (system, RECORDS_SYSTEM_CCCD) == 0);
    bhyt = system && (strcmp (system, "bhyt") == 0 || strcmp (system, RECORDS_SYSTEM_BHYT) == 0);
    if (!cccd && !bhyt) {
      reply_invalid (request, "invalid-field", "cccd|<number> or bhyt|<number>", "identifier");
      return;
    }
    if (cccd ? !records_cccd_validate (bar + 1, 0, &error) : !records_bhyt_validate (bar + 1, &error)) {
      reply_invalid (request, cccd ? "invalid-cccd" : "invalid-bhyt", error->message,
                     "identifier");
      return;
    }
    patient = records_patient_find_by_identifier (request->api->store, cccd ? "cccd" : "bhyt",
                                                  bar + 1, &error);
    if (patient == NULL && !g_error_matches (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND)) {
      api_reply_records_error (request, error, FALSE);
      return;
    }
    g_clear_error (&error);
    if (patient != NULL && !append_if_readable (request, list, patient, &error)) {
      api_reply_records_error (request, error, FALSE);
      return;
    }
    if (json_array_size (list) > 0)
      found_patient = json_string_value (json_object_get (json_array_get (list, 0), "id"));
  } else if (request->who->role == RECORDS_ROLE_SPECIALIST) {
    /* Specialists: the patients of the consultations they are invited to. */
    g_autoptr (RecordsUser) user = records_user_get (request->api->store, request->who->user_id,
                                                     &error);
    g_autoptr (GPtrArray) consultations = NULL;
    g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

    if (user != NULL)
      consultations = records_consultation_list_for_user (request->api->store, user, NULL, NULL,
                                                          &error);
    if (consultations == NULL) {
      api_reply_records_error (request, error, FALSE);
      return;
    }
    for (guint i = 0; i < consultations->len && json_array_size (list) < LIST_LIMIT; i++) {
      RecordsConsultation *consultation = consultations->pdata[i];
      g_autoptr (RecordsPatient) patient = NULL;

      if (!g_hash_table_add (seen, consultation->patient_id))
        continue;
      patient = records_patient_get (request->api->store, consultation->patient_id, &error);
      if (patient == NULL) {
        api_reply_records_error (request, error, FALSE);
        return;
      }
      if (name_matches (patient->name, q) && !append_if_readable (request, list, patient, &error)) {
        api_reply_records_error (request, error, FALSE);
        return;
      }
    }
  } else {
    g_autoptr (GPtrArray) patients = records_patient_search (request->api->store, q,
                                                             request->who->facility_id,
                                                             LIST_LIMIT, &error);

    if (patients == NULL) {
      api_reply_records_error (request, error, FALSE);
      return;
    }
    for (guint i = 0; i < patients->len; i++)
      if (!append_if_readable (request, list, patients->pdata[i], &error)) {
        api_reply_records_error (request, error, FALSE);
        return;
      }
  }
  detail = g_strdup_printf ("%s; %zu found", identifier ? "by identifier" : "by name",
                            json_array_size (list));
  api_audit (request, "search", "Patient", found_patient, found_patient, "success", detail);
  signaling_api_reply_json (request->msg, SOUP_STATUS_OK, g_steal_pointer (&list));
}

static void
patients_create (ApiRequest *request)
{
  static const FieldSpec fields[] = {
    { "cccd", FIELD_STRING, TRUE, 1, 32 },
    { "bhyt", FIELD_STRING, FALSE, 1, 32 },
    { "name", FIELD_STRING, TRUE, 1, 200 },
    { "birth_date", FIELD_DATE, TRUE, 0, 0 },
    { "sex", FIELD_STRING, TRUE, 1, 16 },
    { "phone", FIELD_STRING, FALSE, 1, 32 },
    { "address", FIELD_STRING, FALSE, 1, 500 },
  };
  static const char *const sexes[] = { "male", "female", "other", "unknown" };
  g_autoptr (SignalingJson) body = NULL;
  g_autoptr (GError) error = NULL;
  RecordsPatient patient = { 0 };
  const char *sex, *phone;
  gboolean sex_known = FALSE;

  if (!api_allow (request, SIGNALING_OP_PATIENT_CREATE, NULL, "create", "Patient", NULL, NULL))
    return;
  body = api_read_valid_body (request, fields, G_N_ELEMENTS (fields));
  if (body == NULL)
    return;
  sex = body_string (body, "sex");
  for (gsize i = 0; i < G_N_ELEMENTS (sexes); i++)
    sex_known = sex_known || strcmp (sex, sexes[i]) == 0;
  if (!sex_known) {
    reply_invalid (request, "invalid-field", "male, female, other or unknown", "sex");
    return;
  }
  if (!records_cccd_validate (body_string (body, "cccd"), atoi (body_string (body, "birth_date")),
                              &error)) {
    reply_invalid (request, "invalid-cccd", error->message, "cccd");
    return;
  }
  if (body_string (body, "bhyt") && !records_bhyt_validate (body_string (body, "bhyt"), &error)) {
    reply_invalid (request, "invalid-bhyt", error->message, "bhyt");
    return;
  }
  phone = body_string (body, "phone");
  if (phone && strspn (phone, "+0123456789 .-()") != strlen (phone)) {
    reply_invalid (request, "invalid-field", "digits, spaces and + . - ( ) only", "phone");
    return;
  }
  patient.cccd = (char *) body_string (body, "cccd");
  patient.bhyt = (char *) body_string (body, "bhyt");
  patient.name = (char *) body_string (body, "name");
  patient.birth_date = (char *) body_string (body, "birth_date");
  patient.sex = (char *) sex;
  patient.phone = (char *) phone;
  patient.address = (char *) body_string (body, "address");
  patient.facility_id = request->who->facility_id;
  if (!records_patient_create (request->api->store, &patient, request->who->user_id, &error)) {
    api_reply_records_error (request, error, FALSE);
    return;
  }
  api_audit (request, "create", "Patient", patient.id, patient.id, "success", NULL);
  signaling_api_reply_json (request->msg, SOUP_STATUS_CREATED, api_patient_json (&patient));
  g_free (patient.id);
  g_free (patient.created_at);
}

static void
patient_read (ApiRequest *request, const char *id)
{
  g_auto (PatientContext) context = { 0 };
  g_autoptr (GPtrArray) consents = NULL;
  g_autoptr (GError) error = NULL;
  SignalingPolicyTarget target;
  json_t *consultations, *consent_list;

  if (!api_check_query (request, NULL) || !load_patient (request, id, &context))
    return;
  target = patient_target (&context);
  if (!api_allow (request, SIGNALING_OP_PATIENT_READ, &target, "read", "Patient", id, id))
    return;
  consents = records_consent_list_for_patient (request->api->store, id, &error);
  if (consents == NULL) {
    api_reply_records_error (request, error, FALSE);
    return;
  }
  consultations = json_array ();
  for (guint i = 0; i < context.consultations->len; i++) {
    RecordsConsultation *consultation = context.consultations->pdata[i];

    /* A patient sees the consultation of their token only. */
    if (request->who->role == RECORDS_ROLE_PATIENT
        && g_strcmp0 (consultation->id, request->who->consultation_id) != 0)
      continue;
    json_array_append_new (consultations, api_consultation_json (consultation));
  }
  consent_list = json_array ();
  for (guint i = 0; i < consents->len; i++)
    json_array_append_new (consent_list, api_consent_json (consents->pdata[i]));
  api_audit (request, "read", "Patient", id, id, "success", NULL);
  signaling_api_reply_json (request->msg, SOUP_STATUS_OK,
                            json_pack ("{s:o, s:o, s:o}", "patient",
                                       api_patient_json (context.patient), "consultations",
                                       consultations, "consents", consent_list));
}

static void
consent_create (ApiRequest *request, const char *patient_id)
{
  static const FieldSpec fields[] = {
    { "purpose", FIELD_STRING, TRUE, 1, 32 },
    { "granted", FIELD_BOOLEAN, TRUE, 0, 0 },
    { "method", FIELD_STRING, TRUE, 1, 32 },
    { "consultation_id", FIELD_UUID, FALSE, 0, 0 },
  };
  static const char *const purposes[] = { "recording", "sharing", "treatment" };
  static const char *const methods[] = { "verbal", "written", "electronic" };
  g_auto (PatientContext) context = { 0 };
  g_autoptr (RecordsConsultation) consultation = NULL;
  g_autoptr (SignalingJson) body = NULL;
  g_autoptr (GError) error = NULL;
  RecordsConsent consent = { 0 };
  SignalingPolicyTarget target;
  const char *purpose, *method, *consultation_id;
  gboolean purpose_ok = FALSE, method_ok = FALSE;

  if (!load_patient (request, patient_id, &context))
    return;
  body = api_read_valid_body (request, fields, G_N_ELEMENTS (fields));
  if (body == NULL)
    return;
  purpose = body_string (body, "purpose");
  method = body_string (body, "method");
  consultation_id = body_string (body, "consultation_id");
  for (gsize i = 0; i < G_N_ELEMENTS (purposes); i++)
    purpose_ok = purpose_ok || strcmp (purpose, purposes[i]) == 0;
  for (gsize i = 0; i < G_N_ELEMENTS (methods); i++)
    method_ok = method_ok || strcmp (method, methods[i]) == 0;
  if (!purpose_ok) {
    reply_invalid (request, "invalid-field", "recording, sharing or treatment", "purpose");
    return;
  }
  if (!method_ok) {
    reply_invalid (request, "invalid-field", "verbal, written or electronic", "method");
    return;
  }
  if (consultation_id != NULL) {
    consultation = records_consultation_get (request->api->store, consultation_id, &error);
    if (consultation == NULL) {
      if (error->code == RECORDS_ERROR_NOT_FOUND)
        reply_invalid (request, "invalid-field", "no such consultation", "consultation_id");
      else
        api_reply_records_error (request, error, FALSE);
      return;
    }
  }
  target = patient_target (&context);
  target.consultation = consultation;
  if (!api_allow (request, SIGNALING_OP_CONSENT_CREATE, &target, "create", "Consent", NULL,
                  patient_id))
    return;
  consent.patient_id = context.patient->id;
  consent.consultation_id = (char *) consultation_id;
  consent.purpose = (char *) purpose;
  consent.granted = json_is_true (json_object_get (body, "granted"));
  consent.recorded_by = request->who->role == RECORDS_ROLE_PATIENT ? "patient"
                                                                   : request->who->user_id;
  consent.method = (char *) method;
  if (!records_consent_create (request->api->store, &consent, &error)) {
    api_reply_records_error (request, error, FALSE);
    return;
  }
  api_audit (request, "create", "Consent", consent.id, patient_id, "success", purpose);
  signaling_api_notify_consent (request->api, &consent);
  signaling_api_reply_json (request->msg, SOUP_STATUS_CREATED, api_consent_json (&consent));
  g_free (consent.id);
  g_free (consent.at);
}

/* ---- consultations ------------------------------------------------------- */

static void
consultations_list (ApiRequest *request)
{
  static const char *const allowed[] = { "from", "to", NULL };
  const char *from = query_get (request, "from"), *to = query_get (request, "to");
  g_autoptr (RecordsUser) user = NULL;
  g_autoptr (GPtrArray) consultations = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *detail = NULL;
  gint64 seconds;
  json_t *list;

  if (!api_check_query (request, allowed)
      || !api_allow (request, SIGNALING_OP_CONSULTATION_LIST, NULL, "search", "Encounter", NULL,
                     NULL))
    return;
  if (from && !signaling_auth_parse_time (from, &seconds)) {
    reply_invalid (request, "invalid-field", "an ISO-8601 time", "from");
    return;
  }
  if (to && !signaling_auth_parse_time (to, &seconds)) {
    reply_invalid (request, "invalid-field", "an ISO-8601 time", "to");
    return;
  }
  user = records_user_get (request->api->store, request->who->user_id, &error);
  if (user != NULL)
    consultations = records_consultation_list_for_user (request->api->store, user, from, to,
                                                        &error);
  if (consultations == NULL) {
    api_reply_records_error (request, error, FALSE);
    return;
  }
  list = json_array ();
  for (guint i = 0; i < consultations->len; i++) {
    RecordsConsultation *consultation = consultations->pdata[i];
    g_autoptr (RecordsPatient) patient = NULL;
    json_t *item;

    if (!signaling_policy_allows (request->who, SIGNALING_OP_CONSULTATION_READ,
                                  &(SignalingPolicyTarget) { .consultation = consultation }))
      continue;
    patient = records_patient_get (request->api->store, consultation->patient_id, &error);
    if (patient == NULL) {
      json_decref (list);
      api_reply_records_error (request, error, FALSE);
      return;
    }
    item = api_consultation_json (consultation);
    json_object_set_new (item, "patient",
                         json_pack ("{s:s, s:s}", "id", patient->id, "name", patient->name));
    json_array_append_new (list, item);
  }
  detail = g_strdup_printf ("worklist; %zu found", json_array_size (list));
  api_audit (request, "search", "Encounter", NULL, NULL, "success", detail);
  signaling_api_reply_json (request->msg, SOUP_STATUS_OK, list);
}

/* Every id of @ids (a validated array) is an enabled specialist; FALSE after
 * replying 400 invalid-field. */
static gboolean
check_specialists (ApiRequest *request, json_t *ids, const char *field)
{
  for (gsize i = 0; i < json_array_size (ids); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (RecordsUser) user = records_user_get (request->api->store,
                                                     json_string_value (json_array_get (ids, i)),
                                                     &error);

    if (user == NULL && !g_error_matches (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND)) {
      api_reply_records_error (request, error, FALSE);
      return FALSE;
    }
    if (user == NULL || user->role != RECORDS_ROLE_SPECIALIST || user->disabled) {
      reply_invalid (request, "invalid-field", "not a specialist", field);
      return FALSE;
    }
  }
  return TRUE;
}

static void
consultations_create (ApiRequest *request)
{
  static const FieldSpec fields[] = {
    { "patient_id", FIELD_UUID, TRUE, 0, 0 },
    { "scheduled_at", FIELD_TIME, TRUE, 0, 0 },
    { "reason", FIELD_STRING, TRUE, 1, 2000 },
    { "specialist_ids", FIELD_UUID_ARRAY, FALSE, 0, 20 },
  };
  g_auto (PatientContext) context = { 0 };
  g_autoptr (SignalingJson) body = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) specialists = NULL;
  g_autofree char *scheduled = NULL;
  g_autoptr (RecordsConsultation) consultation = NULL;
  SignalingPolicyTarget target;
  json_t *ids;
  gint64 seconds;

  body = api_read_valid_body (request, fields, G_N_ELEMENTS (fields));
  if (body == NULL)
    return;
  if (!load_patient (request, body_string (body, "patient_id"), &context))
    return;
  target = patient_target (&context);
  if (!api_allow (request, SIGNALING_OP_CONSULTATION_CREATE, &target, "create", "Encounter",
                  NULL, context.patient->id))
    return;
  ids = json_object_get (body, "specialist_ids");
  if (json_is_array (ids) && !check_specialists (request, ids, "specialist_ids"))
    return;
  for (gsize i = 0; json_is_array (ids) && i < json_array_size (ids); i++)
    g_strv_builder_add (builder, json_string_value (json_array_get (ids, i)));
  specialists = g_strv_builder_end (builder);
  signaling_auth_parse_time (body_string (body, "scheduled_at"), &seconds);
  scheduled = signaling_auth_format_time (seconds);

  /* records_consultation_create normalises some fields in place: the
   * struct owns its strings. */
  consultation = g_new0 (RecordsConsultation, 1);
  consultation->patient_id = g_strdup (context.patient->id);
  consultation->requester_id = g_strdup (request->who->user_id);
  consultation->requesting_facility_id = g_strdup (request->who->facility_id);
  consultation->specialist_ids = g_steal_pointer (&specialists);
  consultation->scheduled_at = g_steal_pointer (&scheduled);
  consultation->status = g_strdup ("planned");
  consultation->reason = g_strdup (body_string (body, "reason"));
  if (!records_consultation_create (request->api->store, consultation, request->who->user_id,
                                    &error)) {
    api_reply_records_error (request, error, FALSE);
    return;
  }
  api_audit (request, "create", "Encounter", consultation->id, context.patient->id, "success",
             NULL);
  signaling_api_reply_json (request->msg, SOUP_STATUS_CREATED,
                            api_consultation_json (consultation));
}

static void
consultation_reply_fresh (ApiRequest *request, const char *id, guint status)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RecordsConsultation) consultation = records_consultation_get (request->api->store,
                                                                           id, &error);

  if (consultation == NULL) {
    api_reply_records_error (request, error, FALSE);
    return;
  }
  signaling_api_reply_json (request->msg, status, api_consultation_json (consultation));
}

static void
consultation_read (ApiRequest *request, const char *id)
{
  g_autoptr (RecordsConsultation) consultation = NULL;
  SignalingPolicyTarget target = { 0 };

  if (!api_check_query (request, NULL))
    return;
  consultation = load_consultation (request, id);
  if (consultation == NULL)
    return;
  target.consultation = consultation;
  if (!api_allow (request, SIGNALING_OP_CONSULTATION_READ, &target, "read", "Encounter", id,
                  consultation->patient_id))
    return;
  api_audit (request, "read", "Encounter", id, consultation->patient_id, "success", NULL);
  signaling_api_reply_json (request->msg, SOUP_STATUS_OK, api_consultation_json (consultation));
}

static void
consultation_update (ApiRequest *request, const char *id)
{
  static const FieldSpec fields[] = {
    { "status", FIELD_STRING, FALSE, 1, 32 },
    { "notes", FIELD_STRING, FALSE, 1, 10000 },
    { "outcome", FIELD_STRING, FALSE, 1, 10000 },
  };
  g_autoptr (RecordsConsultation) consultation = NULL;
  g_autoptr (SignalingJson) body = NULL;
  g_autoptr (GError) error = NULL;
  SignalingPolicyTarget target = { 0 };
  const char *status, *notes, *outcome;

  consultation = load_consultation (request, id);
  if (consultation == NULL)
    return;
  target.consultation = consultation;
  if (!api_allow (request, SIGNALING_OP_CONSULTATION_UPDATE, &target, "update", "Encounter", id,
                  consultation->patient_id))
    return;
  body = api_read_valid_body (request, fields, G_N_ELEMENTS (fields));
  if (body == NULL)
    return;
  status = body_string (body, "status");
  notes = body_string (body, "notes");
  outcome = body_string (body, "outcome");
  if (!status && !notes && !outcome) {
    reply_invalid (request, "invalid-field", "one of status, notes, outcome is required",
                   "status");
    return;
  }
  if (status && !records_consultation_status_valid (status)) {
    reply_invalid (request, "invalid-field",
                   "planned, arrived, in-progress, finished or cancelled", "status");
    return;
  }
  /* The status first: it is the only part the store may refuse (409), and
   * then nothing has been written. */
  if (status && g_strcmp0 (status, consultation->status) != 0
      && !records_consultation_set_status (request->api->store, id, status,
                                           request->who->user_id, &error)) {
    api_reply_records_error (request, error, TRUE);
    return;
  }
  if ((notes || outcome)
      && !records_consultation_update_notes (request->api->store, id, notes, outcome,
                                             request->who->user_id, &error)) {
    api_reply_records_error (request, error, FALSE);
    return;
  }
  api_audit (request, "update", "Encounter", id, consultation->patient_id, "success",
             status ? status : "notes");
  consultation_reply_fresh (request, id, SOUP_STATUS_OK);
}

static void
consultation_add_specialist (ApiRequest *request, const char *id)
{
  static const FieldSpec fields[] = {
    { "user_id", FIELD_UUID, TRUE, 0, 0 },
  };
  g_autoptr (RecordsConsultation) consultation = NULL;
  g_autoptr (SignalingJson) body = NULL;
  g_autoptr (GError) error = NULL;
  SignalingPolicyTarget target = { 0 };
  json_t *ids;
  const char *user_id;

  consultation = load_consultation (request, id);
  if (consultation == NULL)
    return;
  target.consultation = consultation;
  if (!api_allow (request, SIGNALING_OP_SPECIALIST_INVITE, &target, "update", "Encounter", id,
                  consultation->patient_id))
    return;
  body = api_read_valid_body (request, fields, G_N_ELEMENTS (fields));
  if (body == NULL)
    return;
  user_id = body_string (body, "user_id");
  ids = json_pack ("[s]", user_id);
  if (!check_specialists (request, ids, "user_id")) {
    json_decref (ids);
    return;
  }
  json_decref (ids);
  if (consultation->specialist_ids && g_strv_contains ((const char *const *) consultation->specialist_ids, user_id)) {
    signaling_api_reply_error (request->msg, SOUP_STATUS_CONFLICT, "conflict",
                               "already invited", "user_id");
    return;
  }
  if (!records_consultation_add_specialist (request->api->store, id, user_id,
                                            request->who->user_id, &error)) {
    api_reply_records_error (request, error, TRUE);
    return;
  }
  api_audit (request, "update", "Encounter", id, consultation->patient_id, "success",
             "specialist invited");
  consultation_reply_fresh (request, id, SOUP_STATUS_OK);
}

/* The Host header when it is a plain host[:port] (it goes into a link the
 * user copies); "localhost" otherwise. */
static const char *
link_host (ApiRequest *request)
{
  const char *host = soup_message_headers_get_one (
    soup_server_message_get_request_headers (request->msg), "Host");

  if (host == NULL || *host == '\0' || strlen (host) > 255
      || strspn (host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]")
           != strlen (host))
    return "localhost";
  return host;
}

static void
invitation_create (ApiRequest *request, const char *id)
{
  static const FieldSpec fields[] = {
    { "lifetime_minutes", FIELD_INTEGER, FALSE, 1, 1440 },
  };
  g_autoptr (RecordsConsultation) consultation = NULL;
  g_autoptr (RecordsInvitation) invitation = NULL;
  g_autoptr (SignalingJson) body = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *secret = NULL, *url = NULL;
  SignalingPolicyTarget target = { 0 };
  json_t *lifetime;
  gint64 minutes = 240;

  consultation = load_consultation (request, id);
  if (consultation == NULL)
    return;
  target.consultation = consultation;
  if (!api_allow (request, SIGNALING_OP_INVITATION_CREATE, &target, "create", "Invitation", NULL,
                  consultation->patient_id))
    return;
  /* An empty body means the defaults. */
  if (soup_message_headers_get_content_length (
        soup_server_message_get_request_headers (request->msg)) == 0) {
    body = json_object ();
  } else {
    body = api_read_valid_body (request, fields, G_N_ELEMENTS (fields));
    if (body == NULL)
      return;
  }
  lifetime = json_object_get (body, "lifetime_minutes");
  if (json_is_integer (lifetime))
    minutes = json_integer_value (lifetime);
  if (g_strcmp0 (consultation->status, "finished") == 0
      || g_strcmp0 (consultation->status, "cancelled") == 0) {
    signaling_api_reply_error (request->msg, SOUP_STATUS_CONFLICT, "conflict",
                               "the consultation is over", NULL);
    return;
  }
  secret = records_invitation_create (request->api->store, id, minutes * 60,
                                      request->who->user_id, &invitation, &error);
  if (secret == NULL) {
    api_reply_records_error (request, error, FALSE);
    return;
  }
  url = g_strdup_printf ("https://%s/#/join/%s", link_host (request), secret);
  api_audit (request, "create", "Invitation", invitation->id, consultation->patient_id,
             "success", NULL);
  signaling_api_reply_json (request->msg, SOUP_STATUS_CREATED,
                            json_pack ("{s:s, s:s, s:s, s:s}", "id", invitation->id, "secret",
                                       secret, "url", url, "expires_at",
                                       invitation->expires_at));
}

/* DELETE /api/consultations/{id}/invitations/{invitation_id}: the
 * invitation is looked up among its consultation's, so the care-team check
 * and the lookup are one. */
static void
invitation_revoke (ApiRequest *request, const char *id, const char *invitation_id)
{
  g_autoptr (RecordsConsultation) consultation = NULL;
  g_autoptr (GPtrArray) invitations = NULL;
  g_autoptr (GError) error = NULL;
  SignalingPolicyTarget target = { 0 };
  RecordsInvitation *invitation = NULL;

  consultation = load_consultation (request, id);
  if (consultation == NULL)
    return;
  if (!api_is_uuid (invitation_id)) {
    signaling_api_reply_error (request->msg, SOUP_STATUS_NOT_FOUND, "invitation-not-found",
                               "no such invitation for this consultation", NULL);
    return;
  }
  target.consultation = consultation;
  if (!api_allow (request, SIGNALING_OP_INVITATION_REVOKE, &target, "update", "Invitation",
                  invitation_id, consultation->patient_id))
    return;
  invitations = records_invitation_list_for_consultation (request->api->store, id, &error);
  if (invitations == NULL) {
    api_reply_records_error (request, error, FALSE);
    return;
  }
  for (guint i = 0; i < invitations->len && invitation == NULL; i++)
    if (g_ascii_strcasecmp (((RecordsInvitation *) invitations->pdata[i])->id, invitation_id) == 0)
      invitation = invitations->pdata[i];
  if (invitation == NULL) {
    signaling_api_reply_error (request->msg, SOUP_STATUS_NOT_FOUND, "invitation-not-found",
                               "no such invitation for this consultation", NULL);
    return;
  }
  if (invitation->revoked_at == NULL
      && !records_invitation_revoke (request->api->store, invitation->id, request->who->user_id,
                                     &error)) {
    api_reply_records_error (request, error, FALSE);
    return;
  }
  api_audit (request, "update", "Invitation", invitation->id, consultation->patient_id,
             "success", "revoked");
  signaling_api_reply_json (request->msg, SOUP_STATUS_NO_CONTENT, NULL);
}

/* ---- audit ---------------------------------------------------------------- */

static gboolean
parse_count (const char *text, gint64 min, gint64 max, gint64 *out)
{
  char *end;
  gint64 value;

  if (text == NULL || *text == '\0' || strspn (text, "0123456789") != strlen (text)
      || strlen (text) > 18)
    return FALSE;
  value = g_ascii_strtoll (text, &end, 10);
  if (value < min || value > max)
    return FALSE;
  *out = value;
  return TRUE;
}

static void
audit_list (ApiRequest *request)
{
  static const char *const allowed[] = { "after", "actor", "patient", "action", "limit", NULL };
  g_autoptr (GPtrArray) events = NULL;
  g_autoptr (GError) error = NULL;
  const char *after_text = query_get (request, "after"), *limit_text = query_get (request, "limit");
  gint64 after = 0, limit = 100;
  json_t *list;

  if (!api_check_query (request, allowed)
      || !api_allow (request, SIGNALING_OP_AUDIT_READ, NULL, "read", "AuditEvent", NULL, NULL))
    return;
  if (after_text && !parse_count (after_text, 0, G_MAXINT64 / 2, &after)) {
    reply_invalid (request, "invalid-field", "a sequence number", "after");
    return;
  }
  if (limit_text && !parse_count (limit_text, 1, 500, &limit)) {
    reply_invalid (request, "invalid-field", "1 to 500", "limit");
    return;
  }
  for (gsize i = 1; i <= 3; i++) {
    const char *value = query_get (request, allowed[i]);

    /* Ids and action words: what the log can hold. */
    if (value != NULL && (*value == '\0' || strlen (value) > 64)) {
      reply_invalid (request, "invalid-field", "1 to 64 characters", allowed[i]);
      return;
    }
  }
  events = records_audit_list (request->api->store, after, query_get (request, "actor"),
                               query_get (request, "patient"), query_get (request, "action"),
                               (guint) limit, &error);
  if (events == NULL) {
    api_reply_records_error (request, error, FALSE);
    return;
  }
  list = json_array ();
  for (guint i = 0; i < events->len; i++)
    json_array_append_new (list, api_audit_event_json (events->pdata[i]));
  api_audit (request, "read", "AuditEvent", NULL, query_get (request, "patient"), "success", NULL);
  signaling_api_reply_json (request->msg, SOUP_STATUS_OK, list);
}

/* ---- routing ---------------------------------------------------------------- */

typedef void (*CollectionHandler) (ApiRequest *request);
typedef void (*ItemHandler) (ApiRequest *request, const char *id);

typedef struct {
  const char *collection;   /* first segment                        */
  const char *sub;          /* third segment, or NULL               */
  gboolean item;            /* a second segment (the id) is present */
  const char *method;
  CollectionHandler collection_handler;
  ItemHandler item_handler;
} Route;

static const Route routes[] = {
  { "facilities", NULL, FALSE, "GET", facilities_list, NULL },
  { "facilities", NULL, FALSE, "POST", facilities_create, NULL },
  { "users", NULL, FALSE, "GET", users_list, NULL },
  { "users", NULL, FALSE, "POST", users_create, NULL },
  { "patients", NULL, FALSE, "GET", patients_search, NULL },
  { "patients", NULL, FALSE, "POST", patients_create, NULL },
  { "patients", NULL, TRUE, "GET", NULL, patient_read },
  { "patients", "consents", TRUE, "POST", NULL, consent_create },
  { "consultations", NULL, FALSE, "GET", consultations_list, NULL },
  { "consultations", NULL, FALSE, "POST", consultations_create, NULL },
  { "consultations", NULL, TRUE, "GET", NULL, consultation_read },
  { "consultations", NULL, TRUE, "PATCH", NULL, consultation_update },
  { "consultations", "specialists", TRUE, "POST", NULL, consultation_add_specialist },
  { "consultations", "invitations", TRUE, "POST", NULL, invitation_create },
  { "audit", NULL, FALSE, "GET", audit_list, NULL },
};

gboolean
api_records_dispatch (ApiRequest *request, char **segments, guint n)
{
  g_autoptr (GString) allow = g_string_new (NULL);
  const Route *found = NULL;

  if (n == 4 && strcmp (segments[0], "consultations") == 0
      && strcmp (segments[2], "invitations") == 0) {
    if (!is_method (request, "DELETE")) {
      soup_message_headers_replace (soup_server_message_get_response_headers (request->msg),
                                    "Allow", "DELETE");
      signaling_api_reply_error (request->msg, SOUP_STATUS_METHOD_NOT_ALLOWED,
                                 "method-not-allowed", "method not allowed on this path", NULL);
    } else if (api_require_principal (request)) {
      invitation_revoke (request, segments[1], segments[3]);
    }
    return TRUE;
  }
  if (n > 3)
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (routes); i++) {
    const Route *route = &routes[i];
    guint route_length = 1 + (route->item ? 1 : 0) + (route->sub ? 1 : 0);

    if (route_length != n || strcmp (route->collection, segments[0]) != 0
        || (route->sub && strcmp (route->sub, segments[2]) != 0))
      continue;
    if (allow->len)
      g_string_append (allow, ", ");
    g_string_append (allow, route->method);
    if (is_method (request, route->method))
      found = route;
  }
  if (allow->len == 0)
    return FALSE;
  if (found == NULL) {
    soup_message_headers_replace (soup_server_message_get_response_headers (request->msg),
                                  "Allow", allow->str);
    signaling_api_reply_error (request->msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method-not-allowed",
                               "method not allowed on this path", NULL);
    return TRUE;
  }
  /* 401 comes before anything about the request's content. */
  if (!api_require_principal (request))
    return TRUE;
  if (found->item)
    found->item_handler (request, segments[1]);
  else
    found->collection_handler (request);
  return TRUE;
}
