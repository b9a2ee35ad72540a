/* Tests signaling/fhir-map.c: every resource's JSON checked element by
 * element against FHIR R4 4.0.1, POSTed Encounter and Consent round-trips,
 * and each malformed resource refused with invalid-field naming the
 * element's path. */
#include <jansson.h>
#include <string.h>

#include "fhir-map.h"

/* Pointer to the JSON at @path ("a.b[0].c"), or NULL. */
static json_t *
at (json_t *root, const char *path)
{
  g_auto (GStrv) parts = g_strsplit (path, ".", -1);
  json_t *node = root;

  for (guint i = 0; node && parts[i]; i++) {
    char *bracket = strchr (parts[i], '[');
    if (bracket) {
      *bracket = '\0';
      node = json_object_get (node, parts[i]);
      node = json_array_get (node, strtoul (bracket + 1, NULL, 10));
    } else {
      node = json_object_get (node, parts[i]);
    }
  }
  return node;
}

static const char *
str_at (json_t *root, const char *path)
{
  json_t *node = at (root, path);

  return json_is_string (node) ? json_string_value (node) : NULL;
}

#define assert_str(root, path, expected) \
  g_assert_cmpstr (str_at ((root), (path)), ==, (expected))
#define assert_absent(root, path) g_assert_null (at ((root), (path)))

/* FHIR forbids null values and empty arrays or objects anywhere (R4 §2.6.2). */
static void
assert_no_empty (json_t *node)
{
  const char *key;
  json_t *value;
  size_t i;

  g_assert_false (json_is_null (node));
  if (json_is_object (node)) {
    g_assert_cmpuint (json_object_size (node), >, 0);
    json_object_foreach (node, key, value)
      assert_no_empty (value);
  } else if (json_is_array (node)) {
    g_assert_cmpuint (json_array_size (node), >, 0);
    json_array_foreach (node, i, value)
      assert_no_empty (value);
  } else if (json_is_string (node)) {
    g_assert_cmpuint (json_string_length (node), >, 0);
  }
}

static void
test_media (void)
{
  RecordsRecording recording = {
    .id = (char *) "7d0a4a1e-5b0e-4d55-9f0e-0d2a6f1c0099",
    .consultation_id = (char *) "7d0a4a1e-5b0e-4d55-9f0e-0d2a6f1c0003",
    .patient_id = (char *) "7d0a4a1e-5b0e-4d55-9f0e-0d2a6f1c0001",
    .session_id = (char *) "7d0a4a1e-5b0e-4d55-9f0e-0d2a6f1c0098",
    .kind = (char *) "participant",
    .participant_name = (char *) "BS. Lê Thị Lan",
    .file_name = (char *) "a-b.mkv.cauv",
    .status = (char *) "interrupted",
    .started_at = (char *) "2026-11-22T08:00:00.000Z",
    .ended_at = (char *) "2026-11-22T08:10:00.500Z",
    .duration_ms = 600500,
    .size = 4096,
    .compose_progress = -1,
    .sha256 = (char *) "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
  };
  json_t *json = signaling_fhir_media_to_json (&recording, "https://h:8443");

  assert_no_empty (json);
  assert_str (json, "resourceType", "Media");
  assert_str (json, "id", recording.id);
  assert_str (json, "status", "stopped");
  assert_str (json, "type.coding[0].code", "video");
  assert_str (json, "subject.reference", "Patient/7d0a4a1e-5b0e-4d55-9f0e-0d2a6f1c0001");
  assert_str (json, "encounter.reference", "Encounter/7d0a4a1e-5b0e-4d55-9f0e-0d2a6f1c0003");
  assert_str (json, "identifier[0].value", recording.session_id);
  assert_str (json, "createdPeriod.start", recording.started_at);
  assert_str (json, "createdPeriod.end", recording.ended_at);
  g_assert_cmpfloat (json_real_value (at (json, "duration")), ==, 600.5);
  assert_str (json, "content.contentType", "video/webm");
  assert_str (json, "content.url",
              "https://h:8443/api/recordings/7d0a4a1e-5b0e-4d55-9f0e-0d2a6f1c0099/content");
  assert_str (json, "content.title", "BS. Lê Thị Lan");
  g_assert_cmpint (json_integer_value (at (json, "content.size")), ==, 4096);
  assert_str (json, "extension[0].valueString", recording.sha256);
  json_decref (json);

  /* Composed, still recording, no digest yet. */
  recording.kind = (char *) "composed";
  recording.status = (char *) "recording";
  recording.ended_at = NULL;
  recording.sha256 = NULL;
  recording.size = 0;
  recording.duration_ms = 0;
  json = signaling_fhir_media_to_json (&recording, NULL);
  assert_no_empty (json);
  assert_str (json, "status", "in-progress");
  assert_str (json, "content.title", "composed");
  assert_str (json, "content.url", "/api/recordings/7d0a4a1e-5b0e-4d55-9f0e-0d2a6f1c0099/content");
  assert_absent (json, "extension");
  assert_absent (json, "duration");
  assert_absent (json, "content.size");
  assert_absent (json, "createdPeriod.end");
  json_decref (json);
}

static RecordsPatient *
patient_new (void)
{
  RecordsPatient *patient = g_new0 (RecordsPatient, 1);

  patient->id = g_strdup ("7d0a4a1e-5b0e-4d55-9f0e-0d2a6f1c0001");
  patient->cccd = g_strdup ("038190000123");
  patient->bhyt = g_strdup ("DN4380123456789");
  patient->name = g_strdup ("Lê Thị Demo");
  patient->birth_date = g_strdup ("1990-03-04");
  patient->sex = g_strdup ("female");
  patient->phone = g_strdup ("+84912345678");
  patient->address = g_strdup ("Đông Sơn, Thanh Hóa");
  patient->facility_id = g_strdup ("fac-1");
  patient->created_at = g_strdup ("2026-11-22T01:00:00.000Z");
  return patient;
}

static void
test_patient (void)
{
  g_autoptr (RecordsPatient) patient = patient_new ();
  json_t *json = signaling_fhir_patient_to_json (patient);

  assert_no_empty (json);
  assert_str (json, "resourceType", "Patient");
  assert_str (json, "id", patient->id);
  g_assert_cmpuint (json_array_size (at (json, "identifier")), ==, 2);
  assert_str (json, "identifier[0].use", "official");
  assert_str (json, "identifier[0].system", "urn:oid:2.16.704.1.1.1");
  assert_str (json, "identifier[0].value", "038190000123");
  assert_str (json, "identifier[1].system", "urn:oid:2.16.704.1.1.2");
  assert_str (json, "identifier[1].value", "DN4380123456789");
  assert_str (json, "name[0].text", "Lê Thị Demo");
  assert_str (json, "gender", "female");
  assert_str (json, "birthDate", "1990-03-04");
  assert_str (json, "telecom[0].system", "phone");
  assert_str (json, "telecom[0].value", "+84912345678");
  assert_str (json, "address[0].text", "Đông Sơn, Thanh Hóa");
  assert_str (json, "managingOrganization.reference", "Organization/fac-1");
  g_assert_cmpuint (json_object_size (json), ==, 9);
  json_decref (json);

  /* Optional members absent, not null. */
  g_clear_pointer (&patient->bhyt, g_free);
  g_clear_pointer (&patient->phone, g_free);
  g_clear_pointer (&patient->address, g_free);
  json = signaling_fhir_patient_to_json (patient);
  assert_no_empty (json);
  g_assert_cmpuint (json_array_size (at (json, "identifier")), ==, 1);
  assert_absent (json, "telecom");
  assert_absent (json, "address");
  json_decref (json);
}

static void
test_practitioner (void)
{
  g_autoptr (RecordsUser) user = g_new0 (RecordsUser, 1);
  g_autofree char *text = NULL;
  json_t *json;

  user->id = g_strdup ("user-1");
  user->username = g_strdup ("bs.lan");
  user->display_name = g_strdup ("BS. Nguyễn Lan");
  user->role = RECORDS_ROLE_SPECIALIST;
  user->facility_id = g_strdup ("fac-2");
  user->password_hash = g_strdup ("$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA");
  user->failed_logins = 3;
  json = signaling_fhir_practitioner_to_json (user);
  assert_no_empty (json);
  assert_str (json, "resourceType", "Practitioner");
  assert_str (json, "id", "user-1");
  assert_str (json, "identifier[0].system", "urn:cau:username");
  assert_str (json, "identifier[0].value", "bs.lan");
  assert_str (json, "name[0].text", "BS. Nguyễn Lan");
  assert_str (json, "qualification[0].code.text", "specialist");
  g_assert_true (json_is_true (at (json, "active")));
  g_assert_cmpuint (json_object_size (json), ==, 6);
  text = json_dumps (json, 0);
  g_assert_null (strstr (text, "argon2"));
  json_decref (json);

  user->disabled = TRUE;
  json = signaling_fhir_practitioner_to_json (user);
  g_assert_true (json_is_false (at (json, "active")));
  json_decref (json);
}

static void
test_organization (void)
{
  g_autoptr (RecordsFacility) facility = g_new0 (RecordsFacility, 1);
  json_t *json;

  facility->id = g_strdup ("fac-1");
  facility->code = g_strdup ("38-DONGSON");
  facility->name = g_strdup ("Trung tâm Y tế Đông Sơn");
  facility->kind = g_strdup ("district-clinic");
  facility->province_code = g_strdup ("038");
  json = signaling_fhir_organization_to_json (facility);
  assert_no_empty (json);
  assert_str (json, "resourceType", "Organization");
  assert_str (json, "id", "fac-1");
  assert_str (json, "identifier[0].system", "urn:cau:facility-code");
  assert_str (json, "identifier[0].value", "38-DONGSON");
  assert_str (json, "name", "Trung tâm Y tế Đông Sơn");
  assert_str (json, "type[0].coding[0].system", "urn:cau:facility-kind");
  assert_str (json, "type[0].coding[0].code", "district-clinic");
  assert_str (json, "type[0].text", "district-clinic");
  assert_str (json, "address[0].state", "038");
  assert_str (json, "address[0].country", "VN");
  g_assert_true (json_is_true (at (json, "active")));
  json_decref (json);
}

static RecordsConsultation *
consultation_new (void)
{
  RecordsConsultation *c = g_new0 (RecordsConsultation, 1);
  const char *specialists[] = { "spec-1", "spec-2", NULL };

  c->id = g_strdup ("enc-1");
  c->patient_id = g_strdup ("pat-1");
  c->requester_id = g_strdup ("clin-1");
  c->requesting_facility_id = g_strdup ("fac-1");
  c->specialist_ids = g_strdupv ((GStrv) specialists);
  c->scheduled_at = g_strdup ("2026-11-22T08:30:00.000Z");
  c->status = g_strdup ("planned");
  c->reason = g_strdup ("Đau ngực, xin ý kiến tim mạch");
  c->created_at = g_strdup ("2026-11-22T01:00:00.000Z");
  return c;
}

static void
test_encounter (void)
{
  g_autoptr (RecordsConsultation) c = consultation_new ();
  json_t *json = signaling_fhir_encounter_to_json (c);

  assert_no_empty (json);
  assert_str (json, "resourceType", "Encounter");
  assert_str (json, "id", "enc-1");
  assert_str (json, "status", "planned");
  assert_str (json, "class.system", "http://terminology.hl7.org/CodeSystem/v3-ActCode");
  assert_str (json, "class.code", "VR");
  assert_str (json, "class.display", "virtual");
  assert_str (json, "subject.reference", "Patient/pat-1");
  g_assert_cmpuint (json_array_size (at (json, "participant")), ==, 3);
  assert_str (json, "participant[0].type[0].coding[0].system",
              "http://terminology.hl7.org/CodeSystem/v3-ParticipationType");
  assert_str (json, "participant[0].type[0].coding[0].code", "REF");
  assert_str (json, "participant[0].individual.reference", "Practitioner/clin-1");
  assert_str (json, "participant[1].type[0].coding[0].code", "CON");
  assert_str (json, "participant[1].individual.reference", "Practitioner/spec-1");
  assert_str (json, "participant[2].individual.reference", "Practitioner/spec-2");
  assert_str (json, "serviceProvider.reference", "Organization/fac-1");
  assert_str (json, "reasonCode[0].text", "Đau ngực, xin ý kiến tim mạch");
  assert_str (json, "extension[0].url",
              "http://hl7.org/fhir/5.0/StructureDefinition/extension-Encounter.plannedStartDate");
  assert_str (json, "extension[0].valueDateTime", "2026-11-22T08:30:00.000Z");
  assert_absent (json, "period");
  json_decref (json);

  g_free (c->status);
  c->status = g_strdup ("finished");
  c->started_at = g_strdup ("2026-11-22T08:31:00.000Z");
  c->ended_at = g_strdup ("2026-11-22T08:59:00.000Z");
  g_clear_pointer (&c->specialist_ids, g_strfreev);
  json = signaling_fhir_encounter_to_json (c);
  assert_no_empty (json);
  assert_str (json, "status", "finished");
  assert_str (json, "period.start", "2026-11-22T08:31:00.000Z");
  assert_str (json, "period.end", "2026-11-22T08:59:00.000Z");
  g_assert_cmpuint (json_array_size (at (json, "participant")), ==, 1);
  json_decref (json);
}

static RecordsConsent *
consent_new (void)
{
  RecordsConsent *consent = g_new0 (RecordsConsent, 1);

  consent->id = g_strdup ("con-1");
  consent->patient_id = g_strdup ("pat-1");
  consent->consultation_id = g_strdup ("enc-1");
  consent->purpose = g_strdup ("recording");
  consent->granted = TRUE;
  consent->recorded_by = g_strdup ("clin-1");
  consent->method = g_strdup ("verbal");
  consent->at = g_strdup ("2026-11-22T08:29:00.000Z");
  return consent;
}

static void
test_consent (void)
{
  g_autoptr (RecordsConsent) consent = consent_new ();
  json_t *json = signaling_fhir_consent_to_json (consent);

  assert_no_empty (json);
  assert_str (json, "resourceType", "Consent");
  assert_str (json, "id", "con-1");
  assert_str (json, "status", "active");
  assert_str (json, "scope.coding[0].system",
              "http://terminology.hl7.org/CodeSystem/consentscope");
  assert_str (json, "scope.coding[0].code", "patient-privacy");
  assert_str (json, "category[0].coding[0].system", "http://loinc.org");
  assert_str (json, "category[0].coding[0].code", "59284-0");
  assert_str (json, "patient.reference", "Patient/pat-1");
  assert_str (json, "dateTime", "2026-11-22T08:29:00.000Z");
  assert_str (json, "performer[0].reference", "Practitioner/clin-1");
  assert_str (json, "policyRule.coding[0].code", "OPTIN");
  assert_str (json, "provision.type", "permit");
  assert_str (json, "provision.purpose[0].system", "urn:cau:consent-purpose");
  assert_str (json, "provision.purpose[0].code", "recording");
  assert_str (json, "provision.data[0].meaning", "related");
  assert_str (json, "provision.data[0].reference.reference", "Encounter/enc-1");
  assert_str (json, "extension[0].url", "urn:cau:fhir:extension:consent-method");
  assert_str (json, "extension[0].valueCode", "verbal");
  json_decref (json);

  /* Withdrawn by the patient, patient-wide, treatment. */
  consent->granted = FALSE;
  g_free (consent->recorded_by);
  consent->recorded_by = g_strdup ("patient");
  g_clear_pointer (&consent->consultation_id, g_free);
  g_free (consent->purpose);
  consent->purpose = g_strdup ("treatment");
  json = signaling_fhir_consent_to_json (consent);
  assert_no_empty (json);
  assert_str (json, "status", "rejected");
  assert_str (json, "scope.coding[0].code", "treatment");
  assert_str (json, "performer[0].reference", "Patient/pat-1");
  assert_str (json, "policyRule.coding[0].code", "OPTOUT");
  assert_str (json, "provision.type", "deny");
  assert_absent (json, "provision.data");
  json_decref (json);
}

static void
test_audit_event (void)
{
  RecordsAuditEvent event = {
    .seq = 42,
    .at = "2026-11-22T08:30:01.123Z",
    .actor_id = "clin-1",
    .actor_role = "clinician",
    .action = "read",
    .entity_type = "Encounter",
    .entity_id = "enc-1",
    .patient_id = "pat-1",
    .outcome = "success",
    .source = "127.0.0.1",
    .detail = "fhir read",
    .prev_hash = "aa",
    .hash = "bb",
  };
  json_t *json = signaling_fhir_audit_event_to_json (&event);

  assert_no_empty (json);
  assert_str (json, "resourceType", "AuditEvent");
  assert_str (json, "id", "42");
  assert_str (json, "type.system", "http://dicom.nema.org/resources/ontology/DCM");
  assert_str (json, "type.code", "110110");
  assert_str (json, "subtype[0].system", "urn:cau:audit-action");
  assert_str (json, "subtype[0].code", "read");
  assert_str (json, "action", "R");
  assert_str (json, "recorded", "2026-11-22T08:30:01.123Z");
  assert_str (json, "outcome", "0");
  assert_str (json, "outcomeDesc", "fhir read");
  assert_str (json, "agent[0].who.reference", "Practitioner/clin-1");
  assert_str (json, "agent[0].role[0].text", "clinician");
  g_assert_true (json_is_true (at (json, "agent[0].requestor")));
  assert_str (json, "agent[0].network.address", "127.0.0.1");
  assert_str (json, "agent[0].network.type", "2");
  assert_str (json, "source.observer.display", "caud");
  assert_str (json, "source.type[0].code", "4");
  g_assert_cmpuint (json_array_size (at (json, "entity")), ==, 2);
  assert_str (json, "entity[0].what.reference", "Encounter/enc-1");
  assert_str (json, "entity[0].type.system", "http://hl7.org/fhir/resource-types");
  assert_str (json, "entity[0].type.code", "Encounter");
  assert_str (json, "entity[1].what.reference", "Patient/pat-1");
  assert_str (json, "entity[1].role.code", "1");
  assert_str (json, "extension[0].url", "urn:cau:fhir:extension:audit-chain");
  assert_str (json, "extension[0].extension[0].url", "prevHash");
  assert_str (json, "extension[0].extension[0].valueString", "aa");
  assert_str (json, "extension[0].extension[1].url", "hash");
  assert_str (json, "extension[0].extension[1].valueString", "bb");
  json_decref (json);

  /* A refused create by a patient token: one Patient entity, outcome 8. */
  event.actor_id = "inv-1";
  event.actor_role = "patient";
  event.action = "create";
  event.entity_type = "Patient";
  event.entity_id = "pat-1";
  event.outcome = "denied";
  event.source = NULL;
  json = signaling_fhir_audit_event_to_json (&event);
  assert_no_empty (json);
  assert_str (json, "action", "C");
  assert_str (json, "outcome", "8");
  assert_str (json, "agent[0].who.identifier.system", "urn:cau:invitation");
  assert_str (json, "agent[0].who.identifier.value", "inv-1");
  assert_absent (json, "agent[0].network");
  g_assert_cmpuint (json_array_size (at (json, "entity")), ==, 1);
  assert_str (json, "entity[0].what.reference", "Patient/pat-1");
  json_decref (json);

  /* A failed login: no patient, no entity id, outcome 4, action E. */
  event.actor_id = NULL;
  event.actor_role = "anonymous";
  event.action = "login";
  event.entity_type = NULL;
  event.entity_id = NULL;
  event.patient_id = NULL;
  event.outcome = "failure";
  json = signaling_fhir_audit_event_to_json (&event);
  assert_no_empty (json);
  assert_str (json, "type.code", "110114");
  assert_str (json, "action", "E");
  assert_str (json, "outcome", "4");
  assert_str (json, "agent[0].who.display", "anonymous");
  assert_absent (json, "entity");
  json_decref (json);

  /* A non-FHIR entity (a room) gets an identifier, not a reference. */
  event.action = "join";
  event.entity_type = "Room";
  event.entity_id = "enc-1";
  json = signaling_fhir_audit_event_to_json (&event);
  assert_str (json, "type.code", "110100");
  assert_str (json, "entity[0].what.identifier.value", "enc-1");
  assert_str (json, "entity[0].type.system", "urn:cau:entity-type");
  assert_str (json, "entity[0].type.code", "Room");
  json_decref (json);
}

static void
test_outcome (void)
{
  json_t *json = signaling_fhir_outcome_new ("invalid-field", "Encounter.foo: unknown element",
                                             "Encounter.foo");

  assert_no_empty (json);
  assert_str (json, "resourceType", "OperationOutcome");
  g_assert_cmpuint (json_array_size (at (json, "issue")), ==, 1);
  assert_str (json, "issue[0].severity", "error");
  assert_str (json, "issue[0].code", "invalid");
  assert_str (json, "issue[0].details.coding[0].system", "urn:cau:error");
  assert_str (json, "issue[0].details.coding[0].code", "invalid-field");
  assert_str (json, "issue[0].diagnostics", "Encounter.foo: unknown element");
  assert_str (json, "issue[0].expression[0]", "Encounter.foo");
  json_decref (json);

  json = signaling_fhir_outcome_new ("forbidden", "not yours", NULL);
  assert_str (json, "issue[0].code", "forbidden");
  assert_absent (json, "issue[0].expression");
  json_decref (json);
  json = signaling_fhir_outcome_new ("token-expired", "expired", NULL);
  assert_str (json, "issue[0].code", "login");
  json_decref (json);
  json = signaling_fhir_outcome_new ("not-found", "no such Patient", NULL);
  assert_str (json, "issue[0].code", "not-found");
  json_decref (json);
  json = signaling_fhir_outcome_new ("too-large", "body over 64 KiB", NULL);
  assert_str (json, "issue[0].code", "too-long");
  json_decref (json);

  /* Network text that is not UTF-8, or too long, still makes valid JSON. */
  {
    g_autofree char *text = NULL;
    GString *long_field = g_string_new (NULL);

    for (int i = 0; i < 300; i++)
      g_string_append (long_field, "ị");
    json = signaling_fhir_outcome_new ("invalid-field", "unknown \xff\xfe", long_field->str);
    text = json_dumps (json, 0);
    g_assert_nonnull (text);
    g_assert_true (g_str_has_prefix (str_at (json, "issue[0].diagnostics"), "unknown "));
    g_assert_cmpint (g_utf8_strlen (str_at (json, "issue[0].expression[0]"), -1), ==, 200);
    json_decref (json);
    g_string_free (long_field, TRUE);
  }

  g_assert_cmpstr (signaling_fhir_error_to_code (SIGNALING_FHIR_ERROR_INVALID_CCCD), ==,
                   "invalid-cccd");
  g_assert_cmpuint (signaling_fhir_error_to_status (SIGNALING_FHIR_ERROR_INVALID_CCCD), ==, 400);
  g_assert_cmpuint (signaling_fhir_error_to_status (SIGNALING_FHIR_ERROR_FORBIDDEN), ==, 403);
  g_assert_cmpuint (signaling_fhir_error_to_status (SIGNALING_FHIR_ERROR_NOT_FOUND), ==, 404);
  g_assert_cmpuint (signaling_fhir_error_to_status (SIGNALING_FHIR_ERROR_TOO_LARGE), ==, 413);
  g_assert_cmpstr (signaling_fhir_error_to_code (SIGNALING_FHIR_ERROR_N_CODES), ==, "internal");
}

static void
test_bundle (void)
{
  g_autoptr (RecordsPatient) patient = patient_new ();
  g_autoptr (RecordsConsultation) c = consultation_new ();
  json_t *bundle = signaling_fhir_bundle_new ("https://h/fhir/Encounter?patient=pat-1");

  assert_str (bundle, "resourceType", "Bundle");
  assert_str (bundle, "type", "searchset");
  g_assert_cmpint (json_integer_value (at (bundle, "total")), ==, 0);
  g_assert_cmpuint (json_array_size (at (bundle, "entry")), ==, 0);
  assert_str (bundle, "link[0].relation", "self");
  assert_str (bundle, "link[0].url", "https://h/fhir/Encounter?patient=pat-1");
  signaling_fhir_bundle_add (bundle, "https://h/fhir", signaling_fhir_patient_to_json (patient));
  signaling_fhir_bundle_add (bundle, "https://h/fhir", signaling_fhir_encounter_to_json (c));
  g_assert_cmpint (json_integer_value (at (bundle, "total")), ==, 2);
  assert_str (bundle, "entry[0].fullUrl",
              "https://h/fhir/Patient/7d0a4a1e-5b0e-4d55-9f0e-0d2a6f1c0001");
  assert_str (bundle, "entry[0].resource.resourceType", "Patient");
  assert_str (bundle, "entry[0].search.mode", "match");
  assert_str (bundle, "entry[1].fullUrl", "https://h/fhir/Encounter/enc-1");
  assert_str (bundle, "entry[1].resource.id", "enc-1");
  json_decref (bundle);
}

static void
test_capability_statement (void)
{
  json_t *json = signaling_fhir_capability_statement ("https://h/fhir");
  const char *types[] = { "Patient", "Practitioner", "Organization", "Encounter", "Consent",
                          "AuditEvent", "Media" };
  json_t *resources;

  assert_no_empty (json);
  assert_str (json, "resourceType", "CapabilityStatement");
  assert_str (json, "status", "active");
  assert_str (json, "kind", "instance");
  assert_str (json, "fhirVersion", "4.0.1");
  assert_str (json, "format[0]", "application/fhir+json");
  g_assert_nonnull (str_at (json, "date"));
  assert_str (json, "implementation.url", "https://h/fhir");
  assert_str (json, "rest[0].mode", "server");
  resources = at (json, "rest[0].resource");
  g_assert_cmpuint (json_array_size (resources), ==, G_N_ELEMENTS (types));
  for (guint i = 0; i < G_N_ELEMENTS (types); i++) {
    json_t *resource = json_array_get (resources, i);
    gboolean creates = FALSE;
    size_t j;
    json_t *interaction;

    assert_str (resource, "type", types[i]);
    assert_str (resource, "interaction[0].code", "read");
    assert_str (resource, "interaction[1].code", "search-type");
    json_array_foreach (at (resource, "interaction"), j, interaction)
      creates |= g_strcmp0 (str_at (interaction, "code"), "create") == 0;
    g_assert_cmpint (creates, ==, strcmp (types[i], "Encounter") == 0 ||
                                  strcmp (types[i], "Consent") == 0);
  }
  json_decref (json);
}

static void
test_helpers (void)
{
  char *text;

  g_assert_true (signaling_fhir_id_valid ("7d0a4a1e-5b0e-4d55-9f0e-0d2a6f1c0001"));
  g_assert_true (signaling_fhir_id_valid ("42"));
  g_assert_false (signaling_fhir_id_valid (""));
  g_assert_false (signaling_fhir_id_valid ("a b"));
  g_assert_false (signaling_fhir_id_valid ("a/b"));
  g_assert_false (signaling_fhir_id_valid ("x' OR '1'='1"));
  g_assert_false (signaling_fhir_id_valid (NULL));
  {
    char long_id[66];
    memset (long_id, 'a', 65);
    long_id[65] = '\0';
    g_assert_false (signaling_fhir_id_valid (long_id));
    long_id[64] = '\0';
    g_assert_true (signaling_fhir_id_valid (long_id));
  }

  text = signaling_fhir_reference_parse ("Patient/abc-1", "Patient", FALSE);
  g_assert_cmpstr (text, ==, "abc-1");
  g_free (text);
  text = signaling_fhir_reference_parse ("abc-1", "Patient", TRUE);
  g_assert_cmpstr (text, ==, "abc-1");
  g_free (text);
  g_assert_null (signaling_fhir_reference_parse ("abc-1", "Patient", FALSE));
  g_assert_null (signaling_fhir_reference_parse ("Patient/", "Patient", FALSE));
  g_assert_null (signaling_fhir_reference_parse ("Patient/a/b", "Patient", TRUE));
  g_assert_null (signaling_fhir_reference_parse ("Practitioner/a", "Patient", TRUE));
  g_assert_null (signaling_fhir_reference_parse ("PatientX/a", "Patient", FALSE));
  g_assert_null (signaling_fhir_reference_parse ("https://h/fhir/Patient/a", "Patient", TRUE));

  text = signaling_fhir_datetime_normalize ("2026-11-22T15:30:00+07:00");
  g_assert_cmpstr (text, ==, "2026-11-22T08:30:00.000Z");
  g_free (text);
  text = signaling_fhir_datetime_normalize ("2026-11-22T08:30:00.1234Z");
  g_assert_cmpstr (text, ==, "2026-11-22T08:30:00.123Z");
  g_free (text);
  text = signaling_fhir_datetime_normalize ("2026-01-01T00:30:00-01:00");
  g_assert_cmpstr (text, ==, "2026-01-01T01:30:00.000Z");
  g_free (text);
  /* Years below 1000 keep four digits (found by fuzz-fhir). */
  text = signaling_fhir_datetime_normalize ("0226-11-22T15:30:00.12349+07:00");
  g_assert_cmpstr (text, ==, "0226-11-22T08:30:00.123Z");
  g_free (text);
  g_assert_null (signaling_fhir_datetime_normalize ("0001-01-01T00:30:00+01:00"));
  g_assert_null (signaling_fhir_datetime_normalize ("2026-11-22"));
  g_assert_null (signaling_fhir_datetime_normalize ("2026-11-22T08:30Z"));
  g_assert_null (signaling_fhir_datetime_normalize ("2026-11-22T08:30:00"));
  g_assert_null (signaling_fhir_datetime_normalize ("2026-02-30T08:30:00Z"));
  g_assert_null (signaling_fhir_datetime_normalize ("2026-11-22T25:30:00Z"));
  g_assert_null (signaling_fhir_datetime_normalize ("2026-W47-7T08:30:00Z"));
  g_assert_null (signaling_fhir_datetime_normalize ("2026-11-22T08:30:00.Z"));
  g_assert_null (signaling_fhir_datetime_normalize ("2026-11-22T08:30:00+0700"));
  g_assert_null (signaling_fhir_datetime_normalize ("2026-11-22T08:30:00Z "));
  g_assert_null (signaling_fhir_datetime_normalize (""));
}

/* ---- parsing: round trips ------------------------------------------- */

static void
test_encounter_round_trip (void)
{
  g_autoptr (RecordsConsultation) c = consultation_new ();
  g_autoptr (RecordsConsultation) parsed = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *field = NULL;
  json_t *json = signaling_fhir_encounter_to_json (c);
  json_t *again;

  parsed = signaling_fhir_encounter_parse (json, &field, &error);
  g_assert_no_error (error);
  g_assert_null (field);
  g_assert_nonnull (parsed);
  g_assert_null (parsed->id);   /* a create ignores the id */
  g_assert_cmpstr (parsed->patient_id, ==, "pat-1");
  g_assert_cmpstr (parsed->requester_id, ==, "clin-1");
  g_assert_cmpstr (parsed->requesting_facility_id, ==, "fac-1");
  g_assert_cmpuint (g_strv_length (parsed->specialist_ids), ==, 2);
  g_assert_cmpstr (parsed->specialist_ids[0], ==, "spec-1");
  g_assert_cmpstr (parsed->specialist_ids[1], ==, "spec-2");
  g_assert_cmpstr (parsed->scheduled_at, ==, "2026-11-22T08:30:00.000Z");
  g_assert_cmpstr (parsed->status, ==, "planned");
  g_assert_cmpstr (parsed->reason, ==, c->reason);
  g_assert_null (parsed->notes);

  parsed->id = g_strdup (c->id);
  again = signaling_fhir_encounter_to_json (parsed);
  g_assert_true (json_equal (json, again));
  json_decref (again);
  json_decref (json);
}

/* A minimal Encounter a FHIR client would write: no participants, the time
 * in period.start with a +07:00 zone, a participant without type. */
static void
test_encounter_minimal (void)
{
  const char *text =
    "{\"resourceType\":\"Encounter\",\"status\":\"planned\","
    "\"class\":{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"VR\"},"
    "\"subject\":{\"reference\":\"Patient/pat-9\",\"display\":\"x\"},"
    "\"participant\":[{\"individual\":{\"reference\":\"Practitioner/spec-9\"}}],"
    "\"period\":{\"start\":\"2026-11-23T09:00:00+07:00\"},"
    "\"reasonCode\":[{\"text\":\"khám lại\"}],"
    "\"meta\":{\"profile\":[\"x\"]},\"id\":\"client-chosen\"}";
  json_t *json = json_loads (text, 0, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (RecordsConsultation) parsed = signaling_fhir_encounter_parse (json, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (parsed->patient_id, ==, "pat-9");
  g_assert_null (parsed->requester_id);
  g_assert_null (parsed->requesting_facility_id);
  g_assert_cmpuint (g_strv_length (parsed->specialist_ids), ==, 1);
  g_assert_cmpstr (parsed->specialist_ids[0], ==, "spec-9");
  g_assert_cmpstr (parsed->scheduled_at, ==, "2026-11-23T02:00:00.000Z");
  g_assert_cmpstr (parsed->reason, ==, "khám lại");
  g_assert_null (parsed->id);
  json_decref (json);
}

static void
test_consent_round_trip (void)
{
  for (int variant = 0; variant < 3; variant++) {
    g_autoptr (RecordsConsent) consent = consent_new ();
    g_autoptr (RecordsConsent) parsed = NULL;
    g_autoptr (GError) error = NULL;
    json_t *json, *again;

    if (variant == 1) {          /* withdrawn by the patient, patient-wide */
      consent->granted = FALSE;
      g_free (consent->recorded_by);
      consent->recorded_by = g_strdup ("patient");
      g_clear_pointer (&consent->consultation_id, g_free);
      g_free (consent->purpose);
      consent->purpose = g_strdup ("sharing");
      g_free (consent->method);
      consent->method = g_strdup ("electronic");
    } else if (variant == 2) {   /* treatment, no performer or time given */
      g_free (consent->purpose);
      consent->purpose = g_strdup ("treatment");
      g_clear_pointer (&consent->recorded_by, g_free);
      g_clear_pointer (&consent->at, g_free);
    }
    json = signaling_fhir_consent_to_json (consent);
    parsed = signaling_fhir_consent_parse (json, NULL, &error);
    g_assert_no_error (error);
    g_assert_null (parsed->id);
    g_assert_cmpstr (parsed->patient_id, ==, consent->patient_id);
    g_assert_cmpstr (parsed->consultation_id, ==, consent->consultation_id);
    g_assert_cmpstr (parsed->purpose, ==, consent->purpose);
    g_assert_cmpint (parsed->granted, ==, consent->granted);
    g_assert_cmpstr (parsed->recorded_by, ==, consent->recorded_by);
    g_assert_cmpstr (parsed->method, ==, consent->method);
    g_assert_cmpstr (parsed->at, ==, consent->at);
    parsed->id = g_strdup (consent->id);
    again = signaling_fhir_consent_to_json (parsed);
    g_assert_true (json_equal (json, again));
    json_decref (again);
    json_decref (json);
  }
}

/* ---- parsing: malformed resources ----------------------------------- */

typedef struct {
  const char *patch;      /* JSON object merged into the valid resource;
                           * a member whose value is null is removed    */
  const char *field;      /* the element path expected in the error      */
} BadCase;

static const BadCase bad_encounters[] = {
  { "{\"resourceType\":\"Patient\"}", "Encounter.resourceType" },
  { "{\"resourceType\":null}", "Encounter.resourceType" },
  { "{\"resourceType\":7}", "Encounter.resourceType" },
  { "{\"foo\":1}", "Encounter.foo" },
  { "{\"modifierExtension\":[]}", "Encounter.modifierExtension" },
  { "{\"hospitalization\":{}}", "Encounter.hospitalization" },
  { "{\"id\":\"a b\"}", "Encounter.id" },
  { "{\"meta\":\"x\"}", "Encounter.meta" },
  { "{\"status\":null}", "Encounter.status" },
  { "{\"status\":\"finished\"}", "Encounter.status" },
  { "{\"status\":\"bogus\"}", "Encounter.status" },
  { "{\"status\":5}", "Encounter.status" },
  { "{\"status\":\" planned\"}", "Encounter.status" },
  { "{\"class\":null}", "Encounter.class" },
  { "{\"class\":[]}", "Encounter.class" },
  { "{\"class\":{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActCode\","
    "\"code\":\"AMB\"}}", "Encounter.class" },
  { "{\"class\":{\"code\":\"VR\"}}", "Encounter.class" },
  { "{\"class\":{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActCode\","
    "\"code\":\"VR\",\"x\":1}}", "Encounter.class.x" },
  { "{\"class\":{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActCode\","
    "\"code\":\"VR\",\"userSelected\":\"yes\"}}", "Encounter.class.userSelected" },
  { "{\"subject\":null}", "Encounter.subject" },
  { "{\"subject\":\"Patient/pat-1\"}", "Encounter.subject" },
  { "{\"subject\":{}}", "Encounter.subject.reference" },
  { "{\"subject\":{\"reference\":\"Practitioner/clin-1\"}}", "Encounter.subject.reference" },
  { "{\"subject\":{\"reference\":\"Patient/\"}}", "Encounter.subject.reference" },
  { "{\"subject\":{\"reference\":\"Patient/a b\"}}", "Encounter.subject.reference" },
  { "{\"subject\":{\"reference\":\"Patient/x'; DROP TABLE patients;--\"}}",
    "Encounter.subject.reference" },
  { "{\"subject\":{\"reference\":\"https://other/fhir/Patient/pat-1\"}}",
    "Encounter.subject.reference" },
  { "{\"subject\":{\"reference\":\"pat-1\"}}", "Encounter.subject.reference" },
  { "{\"subject\":{\"reference\":\"Patient/pat-1\",\"identifier\":{}}}",
    "Encounter.subject.identifier" },
  { "{\"serviceProvider\":{\"reference\":\"Patient/pat-1\"}}",
    "Encounter.serviceProvider.reference" },
  { "{\"participant\":[]}", "Encounter.participant" },
  { "{\"participant\":{}}", "Encounter.participant" },
  { "{\"participant\":[3]}", "Encounter.participant[0]" },
  { "{\"participant\":[{}]}", "Encounter.participant[0].individual" },
  { "{\"participant\":[{\"individual\":{\"reference\":\"Patient/pat-1\"}}]}",
    "Encounter.participant[0].individual.reference" },
  { "{\"participant\":[{\"individual\":{\"reference\":\"Practitioner/s\"},\"period\":{}}]}",
    "Encounter.participant[0].period" },
  { "{\"participant\":[{\"type\":[{\"coding\":[{\"system\":"
    "\"http://terminology.hl7.org/CodeSystem/v3-ParticipationType\",\"code\":\"ATND\"}]}],"
    "\"individual\":{\"reference\":\"Practitioner/s\"}}]}", "Encounter.participant[0].type[0]" },
  { "{\"participant\":[{\"type\":[{\"text\":\"REF\"}],"
    "\"individual\":{\"reference\":\"Practitioner/s\"}}]}", "Encounter.participant[0].type[0]" },
  { "{\"participant\":[{\"type\":[{\"coding\":{}}],"
    "\"individual\":{\"reference\":\"Practitioner/s\"}}]}",
    "Encounter.participant[0].type[0].coding" },
  { "{\"participant\":[{\"individual\":{\"reference\":\"Practitioner/s\"}},"
    "{\"individual\":{\"reference\":\"Practitioner/s\"}}]}",
    "Encounter.participant[1].individual" },
  { "{\"participant\":["
    "{\"type\":[{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ParticipationType\",\"code\":\"REF\"}]}],\"individual\":{\"reference\":\"Practitioner/a\"}},"
    "{\"type\":[{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ParticipationType\",\"code\":\"REF\"}]}],\"individual\":{\"reference\":\"Practitioner/b\"}}]}",
    "Encounter.participant[1].type" },
  { "{\"period\":{\"start\":\"2026-11-22\"}}", "Encounter.period.start" },
  { "{\"period\":{\"end\":\"2026-11-22T09:00:00Z\"}}", "Encounter.period.end" },
  { "{\"period\":{\"start\":\"2026-11-22T09:00:00Z\"}}", "Encounter.period.start" },
  { "{\"period\":{\"x\":1}}", "Encounter.period.x" },
  { "{\"extension\":null}", "Encounter.extension" },
  { "{\"extension\":[{\"url\":\"http://example.org/x\",\"valueString\":\"y\"}]}",
    "Encounter.extension[0].url" },
  { "{\"extension\":[{\"valueDateTime\":\"2026-11-22T08:30:00Z\"}]}",
    "Encounter.extension[0].url" },
  { "{\"extension\":[{\"url\":\"http://hl7.org/fhir/5.0/StructureDefinition/"
    "extension-Encounter.plannedStartDate\",\"valueString\":\"2026-11-22T08:30:00Z\"}]}",
    "Encounter.extension[0].valueString" },
  { "{\"extension\":[{\"url\":\"http://hl7.org/fhir/5.0/StructureDefinition/"
    "extension-Encounter.plannedStartDate\",\"valueDateTime\":\"tomorrow\"}]}",
    "Encounter.extension[0].valueDateTime" },
  { "{\"extension\":[{\"url\":\"http://hl7.org/fhir/5.0/StructureDefinition/"
    "extension-Encounter.plannedStartDate\",\"valueDateTime\":\"2026-11-22T08:30:00Z\"},"
    "{\"url\":\"http://hl7.org/fhir/5.0/StructureDefinition/"
    "extension-Encounter.plannedStartDate\",\"valueDateTime\":\"2026-11-22T08:30:00Z\"}]}",
    "Encounter.extension[1].url" },
  { "{\"reasonCode\":null}", "Encounter.reasonCode" },
  { "{\"reasonCode\":[]}", "Encounter.reasonCode" },
  { "{\"reasonCode\":[{}]}", "Encounter.reasonCode[0].text" },
  { "{\"reasonCode\":[{\"text\":\"\"}]}", "Encounter.reasonCode[0].text" },
  { "{\"reasonCode\":[{\"text\":\"   \"}]}", "Encounter.reasonCode[0].text" },
  { "{\"reasonCode\":[{\"text\":\"a\\u0001b\"}]}", "Encounter.reasonCode[0].text" },
  { "{\"reasonCode\":[{\"text\":\"a\\u0000b\"}]}", "Encounter.reasonCode[0].text" },
  { "{\"reasonCode\":[{\"text\":\"a\"},{\"text\":\"b\"}]}", "Encounter.reasonCode" },
  { "{\"reasonCode\":[{\"text\":\"a\",\"x\":1}]}", "Encounter.reasonCode[0].x" },
};

static const BadCase bad_consents[] = {
  { "{\"resourceType\":\"Encounter\"}", "Consent.resourceType" },
  { "{\"bar\":true}", "Consent.bar" },
  { "{\"sourceAttachment\":{}}", "Consent.sourceAttachment" },
  { "{\"status\":\"draft\"}", "Consent.status" },
  { "{\"status\":null}", "Consent.status" },
  { "{\"status\":\"rejected\"}", "Consent.provision.type" },
  { "{\"scope\":null}", "Consent.scope" },
  { "{\"scope\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/"
    "consentscope\",\"code\":\"research\"}]}}", "Consent.scope" },
  { "{\"scope\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/"
    "consentscope\",\"code\":\"treatment\"}]}}", "Consent.scope" },
  { "{\"category\":null}", "Consent.category" },
  { "{\"category\":[]}", "Consent.category" },
  { "{\"category\":[\"x\"]}", "Consent.category[0]" },
  { "{\"patient\":null}", "Consent.patient" },
  { "{\"patient\":{\"reference\":\"Encounter/enc-1\"}}", "Consent.patient.reference" },
  { "{\"patient\":{\"reference\":\"Patient/../x\"}}", "Consent.patient.reference" },
  { "{\"dateTime\":\"22/11/2026\"}", "Consent.dateTime" },
  { "{\"performer\":[{\"reference\":\"Organization/fac-1\"}]}",
    "Consent.performer[0].reference" },
  { "{\"performer\":[{\"reference\":\"Patient/other\"}]}", "Consent.performer[0].reference" },
  { "{\"performer\":[{\"reference\":\"Practitioner/a\"},{\"reference\":\"Practitioner/b\"}]}",
    "Consent.performer" },
  { "{\"policyRule\":[]}", "Consent.policyRule" },
  { "{\"provision\":null}", "Consent.provision" },
  { "{\"provision\":{\"type\":\"permit\",\"purpose\":[{\"system\":\"urn:cau:consent-purpose\","
    "\"code\":\"recording\"}],\"actor\":[]}}", "Consent.provision.actor" },
  { "{\"provision\":{\"type\":\"deny\",\"purpose\":[{\"system\":\"urn:cau:consent-purpose\","
    "\"code\":\"recording\"}]}}", "Consent.provision.type" },
  { "{\"provision\":{\"purpose\":[{\"system\":\"urn:cau:consent-purpose\","
    "\"code\":\"recording\"}]}}", "Consent.provision.type" },
  { "{\"provision\":{\"type\":\"permit\"}}", "Consent.provision.purpose" },
  { "{\"provision\":{\"type\":\"permit\",\"purpose\":[{\"system\":\"urn:cau:consent-purpose\","
    "\"code\":\"marketing\"}]}}", "Consent.provision.purpose[0]" },
  { "{\"provision\":{\"type\":\"permit\",\"purpose\":[{\"system\":\"urn:other\","
    "\"code\":\"recording\"}]}}", "Consent.provision.purpose[0]" },
  { "{\"provision\":{\"type\":\"permit\",\"purpose\":[{\"system\":\"urn:cau:consent-purpose\","
    "\"code\":\"recording\"}],\"data\":[{\"meaning\":\"related\",\"reference\":"
    "{\"reference\":\"Patient/pat-1\"}}]}}", "Consent.provision.data[0].reference.reference" },
  { "{\"provision\":{\"type\":\"permit\",\"purpose\":[{\"system\":\"urn:cau:consent-purpose\","
    "\"code\":\"recording\"}],\"data\":[{\"meaning\":\"instance\",\"reference\":"
    "{\"reference\":\"Encounter/enc-1\"}}]}}", "Consent.provision.data[0].meaning" },
  { "{\"extension\":null}", "Consent.extension" },
  { "{\"extension\":[{\"url\":\"urn:cau:fhir:extension:consent-method\","
    "\"valueCode\":\"telepathy\"}]}", "Consent.extension[0].valueCode" },
  { "{\"extension\":[{\"url\":\"urn:cau:fhir:extension:consent-method\","
    "\"valueString\":\"verbal\"}]}", "Consent.extension[0].valueString" },
};

static json_t *
apply_patch (json_t *valid, const char *patch_text)
{
  json_t *resource = json_deep_copy (valid);
  json_t *patch = json_loads (patch_text, JSON_ALLOW_NUL, NULL);
  const char *key;
  json_t *value;

  g_assert_nonnull (patch);
  json_object_foreach (patch, key, value) {
    if (json_is_null (value))
      json_object_del (resource, key);
    else
      json_object_set (resource, key, value);
  }
  json_decref (patch);
  return resource;
}

typedef gpointer (*ParseFunc) (const json_t *resource, char **out_field, GError **error);

static void
check_bad_cases (json_t *valid, const BadCase *cases, guint n_cases, ParseFunc parse,
                 GDestroyNotify free_func)
{
  gpointer ok;
  g_autoptr (GError) ok_error = NULL;

  /* The base is valid, so each case fails only for its patch. */
  ok = parse (valid, NULL, &ok_error);
  g_assert_no_error (ok_error);
  g_assert_nonnull (ok);
  free_func (ok);

  for (guint i = 0; i < n_cases; i++) {
    json_t *resource = apply_patch (valid, cases[i].patch);
    g_autoptr (GError) error = NULL;
    g_autofree char *field = NULL;
    gpointer parsed;

    g_test_message ("case %u: %s", i, cases[i].patch);
    parsed = parse (resource, &field, &error);
    g_assert_null (parsed);
    g_assert_error (error, SIGNALING_FHIR_ERROR, SIGNALING_FHIR_ERROR_INVALID_FIELD);
    g_assert_cmpstr (field, ==, cases[i].field);
    /* The message names the element for a human too. */
    g_assert_true (g_str_has_prefix (error->message, cases[i].field));
    json_decref (resource);
  }

  /* Not an object at all. */
  {
    json_t *array = json_array ();
    g_autoptr (GError) error = NULL;
    g_autofree char *field = NULL;
    g_assert_null (parse (array, &field, &error));
    g_assert_error (error, SIGNALING_FHIR_ERROR, SIGNALING_FHIR_ERROR_INVALID_FIELD);
    g_assert_nonnull (field);
    json_decref (array);
  }
}

static void
test_encounter_bad (void)
{
  g_autoptr (RecordsConsultation) c = consultation_new ();
  json_t *valid = signaling_fhir_encounter_to_json (c);

  check_bad_cases (valid, bad_encounters, G_N_ELEMENTS (bad_encounters),
                   (ParseFunc) signaling_fhir_encounter_parse,
                   (GDestroyNotify) records_consultation_free);
  json_decref (valid);
}

static void
test_consent_bad (void)
{
  g_autoptr (RecordsConsent) consent = consent_new ();
  json_t *valid = signaling_fhir_consent_to_json (consent);

  check_bad_cases (valid, bad_consents, G_N_ELEMENTS (bad_consents),
                   (ParseFunc) signaling_fhir_consent_parse,
                   (GDestroyNotify) records_consent_free);
  json_decref (valid);
}

/* Removing each top-level element: the required ones are named, the
 * optional ones may go. */
static void
test_drop_each_element (void)
{
  static const char *const encounter_required[] = { "resourceType", "status", "class",
                                                    "subject", "extension", "reasonCode",
                                                    NULL };
  static const char *const consent_required[] = { "resourceType", "status", "scope", "category",
                                                  "patient", "provision", "extension", NULL };
  g_autoptr (RecordsConsultation) c = consultation_new ();
  g_autoptr (RecordsConsent) consent = consent_new ();
  json_t *valid[2] = { signaling_fhir_encounter_to_json (c),
                       signaling_fhir_consent_to_json (consent) };
  const char *const *required[2] = { encounter_required, consent_required };
  ParseFunc parse[2] = { (ParseFunc) signaling_fhir_encounter_parse,
                         (ParseFunc) signaling_fhir_consent_parse };
  GDestroyNotify free_func[2] = { (GDestroyNotify) records_consultation_free,
                                  (GDestroyNotify) records_consent_free };
  const char *type[2] = { "Encounter", "Consent" };

  for (int r = 0; r < 2; r++) {
    const char *key;
    json_t *value;
    guint dropped_required = 0;

    json_object_foreach (valid[r], key, value) {
      json_t *resource = json_deep_copy (valid[r]);
      g_autoptr (GError) error = NULL;
      g_autofree char *field = NULL;
      g_autofree char *expected = g_strdup_printf ("%s.%s", type[r], key);
      gpointer parsed;
      gboolean is_required = FALSE;

      for (guint i = 0; required[r][i]; i++)
        is_required |= strcmp (key, required[r][i]) == 0;
      json_object_del (resource, key);
      parsed = parse[r] (resource, &field, &error);
      if (is_required) {
        g_assert_null (parsed);
        g_assert_cmpstr (field, ==, expected);
        dropped_required++;
      } else {
        g_assert_no_error (error);
        free_func[r] (parsed);
      }
      json_decref (resource);
    }
    g_assert_cmpuint (dropped_required, ==, g_strv_length ((GStrv) required[r]));
    json_decref (valid[r]);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/fhir-map/patient", test_patient);
  g_test_add_func ("/fhir-map/practitioner", test_practitioner);
  g_test_add_func ("/fhir-map/organization", test_organization);
  g_test_add_func ("/fhir-map/encounter", test_encounter);
  g_test_add_func ("/fhir-map/consent", test_consent);
  g_test_add_func ("/fhir-map/audit-event", test_audit_event);
  g_test_add_func ("/fhir-map/media", test_media);
  g_test_add_func ("/fhir-map/outcome", test_outcome);
  g_test_add_func ("/fhir-map/bundle", test_bundle);
  g_test_add_func ("/fhir-map/capability-statement", test_capability_statement);
  g_test_add_func ("/fhir-map/helpers", test_helpers);
  g_test_add_func ("/fhir-map/encounter-round-trip", test_encounter_round_trip);
  g_test_add_func ("/fhir-map/encounter-minimal", test_encounter_minimal);
  g_test_add_func ("/fhir-map/consent-round-trip", test_consent_round_trip);
  g_test_add_func ("/fhir-map/encounter-bad", test_encounter_bad);
  g_test_add_func ("/fhir-map/consent-bad", test_consent_bad);
  g_test_add_func ("/fhir-map/drop-each-element", test_drop_each_element);
  return g_test_run ();
}
