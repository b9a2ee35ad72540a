/* fuzz-fhir.c — libFuzzer target for signaling/fhir-parse.c.
 *
 * The input is one POSTed FHIR body.  It is read as JSON the way the server
 * reads bodies (duplicate keys refused, no NUL in strings), then parsed as an
 * Encounter and as a Consent.  Invariants (trap on violation): a refusal is
 * SIGNALING_FHIR_ERROR_INVALID_FIELD whose field starts with the resource
 * type and whose message starts with that field; an accepted resource
 * written back (fhir-map.c) parses again, and writing that gives the same
 * JSON.  The raw input, as text, also goes through the dateTime normaliser
 * (whose output must normalise to itself) and the reference parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fhir-map.h"

#define CHECK(cond) do { if (!(cond)) __builtin_trap (); } while (0)

static void
check_refusal (GError *error, char *field, const char *type)
{
  CHECK (error != NULL);
  CHECK (error->domain == SIGNALING_FHIR_ERROR);
  CHECK (error->code == SIGNALING_FHIR_ERROR_INVALID_FIELD);
  CHECK (field != NULL);
  CHECK (strncmp (field, type, strlen (type)) == 0);
  CHECK (strncmp (error->message, field, strlen (field)) == 0);
  g_error_free (error);
  g_free (field);
}

static void
fuzz_encounter (const json_t *resource)
{
  GError *error = NULL;
  char *field = NULL;
  RecordsConsultation *c = signaling_fhir_encounter_parse (resource, &field, &error);
  RecordsConsultation *again;
  json_t *first, *second;

  if (c == NULL) {
    check_refusal (error, field, "Encounter");
    return;
  }
  CHECK (error == NULL && field == NULL);
  CHECK (c->patient_id && c->scheduled_at && c->reason && c->specialist_ids);
  first = signaling_fhir_encounter_to_json (c);
  again = signaling_fhir_encounter_parse (first, NULL, NULL);
  CHECK (again != NULL);
  second = signaling_fhir_encounter_to_json (again);
  CHECK (json_equal (first, second));
  json_decref (second);
  json_decref (first);
  records_consultation_free (again);
  records_consultation_free (c);
}

static void
fuzz_consent (const json_t *resource)
{
  GError *error = NULL;
  char *field = NULL;
  RecordsConsent *consent = signaling_fhir_consent_parse (resource, &field, &error);
  RecordsConsent *again;
  json_t *first, *second;

  if (consent == NULL) {
    check_refusal (error, field, "Consent");
    return;
  }
  CHECK (error == NULL && field == NULL);
  CHECK (consent->patient_id && consent->purpose && consent->method);
  first = signaling_fhir_consent_to_json (consent);
  again = signaling_fhir_consent_parse (first, NULL, NULL);
  CHECK (again != NULL);
  second = signaling_fhir_consent_to_json (again);
  CHECK (json_equal (first, second));
  json_decref (second);
  json_decref (first);
  records_consent_free (again);
  records_consent_free (consent);
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *text = g_strndup ((const char *) data, size);
  char *normal = signaling_fhir_datetime_normalize (text);
  char *id = signaling_fhir_reference_parse (text, "Patient", TRUE);
  json_t *resource;

  if (normal) {
    char *twice = signaling_fhir_datetime_normalize (normal);
    CHECK (twice != NULL && strcmp (twice, normal) == 0);
    g_free (twice);
  }
  CHECK (id == NULL || signaling_fhir_id_valid (id));
  g_free (id);
  g_free (normal);
  g_free (text);

  resource = json_loadb ((const char *) data, size, JSON_REJECT_DUPLICATES, NULL);
  if (resource == NULL)
    return 0;
  fuzz_encounter (resource);
  fuzz_consent (resource);
  json_decref (resource);
  return 0;
}
