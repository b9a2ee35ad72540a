/* fhir-parse.c — FHIR R4 JSON → records structs: the POSTed Encounter and
 * Consent, checked element by element; see fhir-map.h. */
#include "fhir-map.h"

#include <stdarg.h>
#include <string.h>

/* ---- small helpers ------------------------------------------------------ */

gboolean
signaling_fhir_id_valid (const char *id)
{
  size_t n = 0;

  if (id == NULL)
    return FALSE;
  for (; id[n]; n++)
    if (!(g_ascii_isalnum (id[n]) || id[n] == '-' || id[n] == '.'))
      return FALSE;
  return n >= 1 && n <= 64;
}

char *
signaling_fhir_reference_parse (const char *reference, const char *type, gboolean allow_bare)
{
  size_t type_len;

  g_return_val_if_fail (type != NULL, NULL);
  if (reference == NULL)
    return NULL;
  type_len = strlen (type);
  if (strncmp (reference, type, type_len) == 0 && reference[type_len] == '/') {
    if (!signaling_fhir_id_valid (reference + type_len + 1))
      return NULL;
    return g_strdup (reference + type_len + 1);
  }
  if (allow_bare && signaling_fhir_id_valid (reference))
    return g_strdup (reference);
  return NULL;
}

/* Matches YYYY-MM-DDThh:mm:ss[.f{1,9}](Z|±hh:mm) before GLib judges the
 * values: g_date_time_new_from_iso8601 also takes week dates, ordinal
 * dates and times without seconds, which FHIR's dateTime does not. */
static gboolean
datetime_shape_ok (const char *s)
{
  static const char pattern[] = "dddd-dd-ddTdd:dd:dd";
  size_t i;

  for (i = 0; pattern[i]; i++) {
    if (pattern[i] == 'd' ? !g_ascii_isdigit (s[i]) : s[i] != pattern[i])
      return FALSE;
  }
  s += i;
  if (*s == '.') {
    size_t digits = 0;
    for (s++; g_ascii_isdigit (*s); s++)
      digits++;
    if (digits < 1 || digits > 9)
      return FALSE;
  }
  if (strcmp (s, "Z") == 0)
    return TRUE;
  return (s[0] == '+' || s[0] == '-') && g_ascii_isdigit (s[1]) && g_ascii_isdigit (s[2]) &&
         s[3] == ':' && g_ascii_isdigit (s[4]) && g_ascii_isdigit (s[5]) && s[6] == '\0';
}

char *
signaling_fhir_datetime_normalize (const char *text)
{
  g_autoptr (GDateTime) parsed = NULL;
  g_autoptr (GDateTime) utc = NULL;
  int year, month, day;

  if (text == NULL || strlen (text) > 40 || !datetime_shape_ok (text))
    return NULL;
  parsed = g_date_time_new_from_iso8601 (text, NULL);
  if (parsed == NULL)
    return NULL;
  /* Out of GDateTime's range (years 1–9999) once moved to UTC: NULL. */
  utc = g_date_time_to_utc (parsed);
  if (utc == NULL)
    return NULL;
  /* Formatted by hand: "%Y" does not pad years below 1000. */
  g_date_time_get_ymd (utc, &year, &month, &day);
  return g_strdup_printf ("%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", year, month, day,
                          g_date_time_get_hour (utc), g_date_time_get_minute (utc),
                          g_date_time_get_second (utc), g_date_time_get_microsecond (utc) / 1000);
}

/* ---- FHIR → records ---------------------------------------------------- */

/* One parse: where the errors go. */
typedef struct {
  char **out_field;
  GError **error;
} Parse;

static gboolean
fail (Parse *p, const char *field, const char *format, ...) G_GNUC_PRINTF (3, 4);

static gboolean
fail (Parse *p, const char *field, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  if (p->out_field) {
    g_free (*p->out_field);
    *p->out_field = g_strdup (field);
  }
  g_set_error (p->error, SIGNALING_FHIR_ERROR, SIGNALING_FHIR_ERROR_INVALID_FIELD, "%s: %s",
               field, message);
  return FALSE;
}

static gboolean
in_list (const char *name, const char *const *list)
{
  for (guint i = 0; list[i]; i++)
    if (strcmp (name, list[i]) == 0)
      return TRUE;
  return FALSE;
}

/* Refuses a member of @object that is not in @allowed. */
static gboolean
check_members (Parse *p, const json_t *object, const char *path, const char *const *allowed)
{
  const char *key;
  json_t *value;

  json_object_foreach ((json_t *) object, key, value) {
    if (!in_list (key, allowed)) {
      g_autofree char *field = g_strdup_printf ("%s.%s", path, key);
      return fail (p, field, "unknown element");
    }
  }
  return TRUE;
}

/* FHIR string (R4 §2.24.0.1): at least one non-whitespace character, no
 * control characters but tab, CR and LF; at most @max_chars characters. */
static gboolean
string_ok (const char *s, size_t max_chars)
{
  gboolean has_content = FALSE;
  size_t chars = 0;

  for (const char *c = s; *c; c = g_utf8_next_char (c)) {
    gunichar u = g_utf8_get_char (c);
    if ((u < 0x20 && u != '\t' && u != '\r' && u != '\n') || (u >= 0x7f && u <= 0x9f))
      return FALSE;
    if (!g_unichar_isspace (u))
      has_content = TRUE;
    chars++;
  }
  return has_content && chars <= max_chars;
}

/* Member @name of @object as a string: *@out NULL when absent and not
 * @required. */
static gboolean
get_string (Parse *p, const json_t *object, const char *path, const char *name,
            gboolean required, size_t max_chars, const char **out)
{
  json_t *value = json_object_get (object, name);
  g_autofree char *field = g_strdup_printf ("%s.%s", path, name);

  *out = NULL;
  if (value == NULL) {
    if (required)
      return fail (p, field, "required element missing");
    return TRUE;
  }
  if (!json_is_string (value))
    return fail (p, field, "must be a string");
  if (strlen (json_string_value (value)) != json_string_length (value) ||
      !string_ok (json_string_value (value), max_chars))
    return fail (p, field, "must be 1 to %zu characters of text", max_chars);
  *out = json_string_value (value);
  return TRUE;
}

static gboolean
get_typed (Parse *p, const json_t *object, const char *path, const char *name,
           gboolean required, json_type type, const char *type_name, const json_t **out)
{
  json_t *value = json_object_get (object, name);

  *out = NULL;
  if (value == NULL) {
    if (required) {
      g_autofree char *field = g_strdup_printf ("%s.%s", path, name);
      return fail (p, field, "required element missing");
    }
    return TRUE;
  }
  if (json_typeof (value) != type) {
    g_autofree char *field = g_strdup_printf ("%s.%s", path, name);
    return fail (p, field, "must be %s", type_name);
  }
  *out = value;
  return TRUE;
}

static gboolean
get_object (Parse *p, const json_t *object, const char *path, const char *name,
            gboolean required, const json_t **out)
{
  return get_typed (p, object, path, name, required, JSON_OBJECT, "an object", out);
}

/* An array of @min..@max items (FHIR never sends empty arrays). */
static gboolean
get_array (Parse *p, const json_t *object, const char *path, const char *name,
           gboolean required, size_t max_items, const json_t **out)
{
  if (!get_typed (p, object, path, name, required, JSON_ARRAY, "an array", out))
    return FALSE;
  if (*out && (json_array_size (*out) == 0 || json_array_size (*out) > max_items)) {
    g_autofree char *field = g_strdup_printf ("%s.%s", path, name);
    return fail (p, field, "must hold 1 to %zu items", max_items);
  }
  return TRUE;
}

/* FHIR code: no leading/trailing whitespace, no runs of whitespace. */
static gboolean
get_code (Parse *p, const json_t *object, const char *path, const char *name, gboolean required,
          const char **out)
{
  if (!get_string (p, object, path, name, required, 128, out))
    return FALSE;
  if (*out && (g_ascii_isspace ((*out)[0]) || g_ascii_isspace ((*out)[strlen (*out) - 1]) ||
               strstr (*out, "  "))) {
    g_autofree char *field = g_strdup_printf ("%s.%s", path, name);
    return fail (p, field, "is not a FHIR code");
  }
  return TRUE;
}

/* Checks a Coding's shape; *@system and *@code may be NULL. */
static gboolean
parse_coding (Parse *p, const json_t *coding, const char *path, const char **system,
              const char **code)
{
  static const char *const members[] = { "system", "version", "code", "display",
                                         "userSelected", NULL };
  const char *ignored;
  json_t *flag;

  if (!json_is_object (coding))
    return fail (p, path, "must be a Coding object");
  if (!check_members (p, coding, path, members) ||
      !get_string (p, coding, path, "system", FALSE, 1024, system) ||
      !get_string (p, coding, path, "version", FALSE, 256, &ignored) ||
      !get_code (p, coding, path, "code", FALSE, code) ||
      !get_string (p, coding, path, "display", FALSE, 1024, &ignored))
    return FALSE;
  flag = json_object_get (coding, "userSelected");
  if (flag && !json_is_boolean (flag)) {
    g_autofree char *field = g_strdup_printf ("%s.userSelected", path);
    return fail (p, field, "must be true or false");
  }
  return TRUE;
}

/* Checks a CodeableConcept's shape; when @system is not NULL, *@code is the
 * code of its first coding in @system (NULL when there is none). */
static gboolean
parse_concept (Parse *p, const json_t *concept, const char *path, const char *system,
               const char **code, const char **text)
{
  static const char *const members[] = { "coding", "text", NULL };
  const json_t *codings;

  if (code)
    *code = NULL;
  if (!json_is_object (concept))
    return fail (p, path, "must be a CodeableConcept object");
  if (!check_members (p, concept, path, members) ||
      !get_string (p, concept, path, "text", FALSE, 1000, text) ||
      !get_array (p, concept, path, "coding", FALSE, 16, &codings))
    return FALSE;
  for (size_t i = 0; codings && i < json_array_size (codings); i++) {
    g_autofree char *item = g_strdup_printf ("%s.coding[%zu]", path, i);
    const char *coding_system, *coding_code;
    if (!parse_coding (p, json_array_get (codings, i), item, &coding_system, &coding_code))
      return FALSE;
    if (code && *code == NULL && g_strcmp0 (coding_system, system) == 0)
      *code = coding_code;
  }
  return TRUE;
}

/* A Reference {reference: "<type>/<id>", display?} to one of @types
 * (NULL-terminated); *@out_type is the type found, *@out_id (transfer full)
 * the id. */
static gboolean
parse_reference (Parse *p, const json_t *reference, const char *path,
                 const char *const *types, const char **out_type, char **out_id)
{
  static const char *const members[] = { "reference", "display", NULL };
  const char *text, *ignored;
  g_autofree char *field = g_strdup_printf ("%s.reference", path);

  if (!json_is_object (reference))
    return fail (p, path, "must be a Reference object");
  if (!check_members (p, reference, path, members) ||
      !get_string (p, reference, path, "reference", TRUE, 200, &text) ||
      !get_string (p, reference, path, "display", FALSE, 1000, &ignored))
    return FALSE;
  for (guint i = 0; types[i]; i++) {
    char *id = signaling_fhir_reference_parse (text, types[i], FALSE);
    if (id) {
      if (out_type)
        *out_type = types[i];
      *out_id = id;
      return TRUE;
    }
  }
  if (types[1] == NULL)
    return fail (p, field, "must be a reference \"%s/<id>\"", types[0]);
  return fail (p, field, "must be a reference \"%s/<id>\" or \"%s/<id>\"", types[0], types[1]);
}

static gboolean
get_reference (Parse *p, const json_t *object, const char *path, const char *name,
               gboolean required, const char *type, char **out_id)
{
  const char *types[] = { type, NULL };
  const json_t *value;
  g_autofree char *field = g_strdup_printf ("%s.%s", path, name);

  if (!get_object (p, object, path, name, required, &value))
    return FALSE;
  return value == NULL || parse_reference (p, value, field, types, NULL, out_id);
}

static gboolean
get_datetime (Parse *p, const json_t *object, const char *path, const char *name,
              gboolean required, char **out)
{
  const char *text;

  if (!get_string (p, object, path, name, required, 64, &text))
    return FALSE;
  if (text) {
    *out = signaling_fhir_datetime_normalize (text);
    if (*out == NULL) {
      g_autofree char *field = g_strdup_printf ("%s.%s", path, name);
      return fail (p, field, "must be a dateTime with seconds and a zone "
                             "(2026-11-22T08:30:00Z)");
    }
  }
  return TRUE;
}

/* resourceType first (its own error), then id/meta/text shapes. */
static gboolean
check_resource (Parse *p, const json_t *resource, const char *type,
                const char *const *members)
{
  const char *resource_type, *id;
  const json_t *ignored;

  if (!json_is_object (resource))
    return fail (p, type, "the body must be a JSON object");
  if (!get_string (p, resource, type, "resourceType", TRUE, 64, &resource_type))
    return FALSE;
  if (strcmp (resource_type, type) != 0) {
    g_autofree char *field = g_strdup_printf ("%s.resourceType", type);
    return fail (p, field, "expected \"%s\"", type);
  }
  if (!check_members (p, resource, type, members))
    return FALSE;
  if (!get_string (p, resource, type, "id", FALSE, 64, &id))
    return FALSE;
  if (id && !signaling_fhir_id_valid (id)) {
    g_autofree char *field = g_strdup_printf ("%s.id", type);
    return fail (p, field, "is not a FHIR id");
  }
  return get_object (p, resource, type, "meta", FALSE, &ignored) &&
         get_object (p, resource, type, "text", FALSE, &ignored);
}

/* Each extension of @resource must have a url of @urls; returns the value
 * member's JSON (named @value_names[i]) of the url at @urls[i] in
 * @out_values[i] (NULL when absent). */
static gboolean
parse_extensions (Parse *p, const json_t *resource, const char *type,
                  const char *const *urls, const char *const *value_names,
                  const json_t **out_values)
{
  const json_t *extensions;

  for (guint u = 0; urls[u]; u++)
    out_values[u] = NULL;
  if (!get_array (p, resource, type, "extension", FALSE, 8, &extensions))
    return FALSE;
  for (size_t i = 0; extensions && i < json_array_size (extensions); i++) {
    json_t *extension = json_array_get (extensions, i);
    g_autofree char *path = g_strdup_printf ("%s.extension[%zu]", type, i);
    g_autofree char *url_field = g_strdup_printf ("%s.url", path);
    const char *url;
    guint u;

    if (!json_is_object (extension))
      return fail (p, path, "must be an Extension object");
    if (!get_string (p, extension, path, "url", TRUE, 1024, &url))
      return FALSE;
    for (u = 0; urls[u]; u++)
      if (strcmp (url, urls[u]) == 0)
        break;
    if (urls[u] == NULL)
      return fail (p, url_field, "unknown extension");
    if (out_values[u] != NULL)
      return fail (p, url_field, "extension given twice");
    {
      const char *const members[] = { "url", value_names[u], NULL };
      if (!check_members (p, extension, path, members))
        return FALSE;
    }
    out_values[u] = json_object_get (extension, value_names[u]);
    if (out_values[u] == NULL) {
      g_autofree char *field = g_strdup_printf ("%s.%s", path, value_names[u]);
      return fail (p, field, "required element missing");
    }
  }
  return TRUE;
}

RecordsConsultation *
signaling_fhir_encounter_parse (const json_t *resource, char **out_field, GError **error)
{
  static const char *const members[] = { "resourceType", "id", "meta", "text", "extension",
                                         "status", "class", "subject", "participant",
                                         "serviceProvider", "period", "reasonCode", NULL };
  static const char *const participant_members[] = { "type", "individual", NULL };
  static const char *const period_members[] = { "start", "end", NULL };
  static const char *const extension_urls[] = { SIGNALING_FHIR_EXT_PLANNED_START, NULL };
  static const char *const extension_values[] = { "valueDateTime", NULL };
  static const char *const practitioner[] = { "Practitioner", NULL };
  Parse parse = { out_field, error }, *p = &parse;
  g_autoptr (RecordsConsultation) c = g_new0 (RecordsConsultation, 1);
  g_autoptr (GPtrArray) specialists = g_ptr_array_new_with_free_func (g_free);
  const json_t *class_coding, *participants, *period, *reasons, *planned[1];
  const char *status, *system, *code, *reason;
  g_autofree char *planned_start = NULL;
  g_autofree char *period_start = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  if (out_field)
    *out_field = NULL;

  if (!check_resource (p, resource, "Encounter", members) ||
      !parse_extensions (p, resource, "Encounter", extension_urls, extension_values, planned))
    return NULL;

  if (!get_code (p, resource, "Encounter", "status", TRUE, &status))
    return NULL;
  if (!records_consultation_status_valid (status)) {
    fail (p, "Encounter.status", "unknown status \"%s\"", status);
    return NULL;
  }
  if (strcmp (status, "planned") != 0) {
    fail (p, "Encounter.status", "a new Encounter must be \"planned\"");
    return NULL;
  }
  c->status = g_strdup (status);

  /* R4 Encounter.class is a Coding (not a CodeableConcept). */
  if (!get_object (p, resource, "Encounter", "class", TRUE, &class_coding) ||
      !parse_coding (p, class_coding, "Encounter.class", &system, &code))
    return NULL;
  if (g_strcmp0 (system, SIGNALING_FHIR_SYSTEM_ACT_CODE) != 0 || g_strcmp0 (code, "VR") != 0) {
    fail (p, "Encounter.class", "must be code VR of " SIGNALING_FHIR_SYSTEM_ACT_CODE);
    return NULL;
  }

  if (!get_reference (p, resource, "Encounter", "subject", TRUE, "Patient", &c->patient_id) ||
      !get_reference (p, resource, "Encounter", "serviceProvider", FALSE, "Organization",
                      &c->requesting_facility_id))
    return NULL;

  if (!get_array (p, resource, "Encounter", "participant", FALSE, 32, &participants))
    return NULL;
  for (size_t i = 0; participants && i < json_array_size (participants); i++) {
    const json_t *participant = json_array_get (participants, i);
    g_autofree char *path = g_strdup_printf ("Encounter.participant[%zu]", i);
    g_autofree char *individual_path = g_strdup_printf ("%s.individual", path);
    g_autofree char *type_path = g_strdup_printf ("%s.type", path);
    const json_t *types, *individual;
    const char *role = NULL;
    g_autofree char *user_id = NULL;

    if (!json_is_object (participant)) {
      fail (p, path, "must be an object");
      return NULL;
    }
    if (!check_members (p, participant, path, participant_members) ||
        !get_array (p, participant, path, "type", FALSE, 1, &types) ||
        !get_object (p, participant, path, "individual", TRUE, &individual) ||
        !parse_reference (p, individual, individual_path, practitioner, NULL, &user_id))
      return NULL;
    if (types) {
      g_autofree char *concept_path = g_strdup_printf ("%s[0]", type_path);
      const char *ignored;
      if (!parse_concept (p, json_array_get (types, 0), concept_path,
                          SIGNALING_FHIR_SYSTEM_PARTICIPATION, &role, &ignored))
        return NULL;
      if (g_strcmp0 (role, "REF") != 0 && g_strcmp0 (role, "CON") != 0) {
        fail (p, concept_path, "must be REF (requester) or CON (specialist) of "
                               SIGNALING_FHIR_SYSTEM_PARTICIPATION);
        return NULL;
      }
    }
    if (g_strcmp0 (role, "REF") == 0) {
      if (c->requester_id) {
        fail (p, type_path, "only one participant may be the requester (REF)");
        return NULL;
      }
      c->requester_id = g_steal_pointer (&user_id);
    } else {
      for (guint s = 0; s < specialists->len; s++)
        if (strcmp (specialists->pdata[s], user_id) == 0) {
          fail (p, individual_path, "the same specialist is listed twice");
          return NULL;
        }
      g_ptr_array_add (specialists, g_steal_pointer (&user_id));
    }
  }
  g_ptr_array_add (specialists, NULL);
  c->specialist_ids = (GStrv) g_ptr_array_steal (specialists, NULL);

  if (!get_object (p, resource, "Encounter", "period", FALSE, &period))
    return NULL;
  if (period) {
    if (!check_members (p, period, "Encounter.period", period_members) ||
        !get_datetime (p, period, "Encounter.period", "start", FALSE, &period_start))
      return NULL;
    if (json_object_get (period, "end")) {
      fail (p, "Encounter.period.end", "a planned Encounter has not ended");
      return NULL;
    }
  }
  if (planned[0]) {
    if (!json_is_string (planned[0]) ||
        !(planned_start = signaling_fhir_datetime_normalize (json_string_value (planned[0])))) {
      fail (p, "Encounter.extension[0].valueDateTime",
            "must be a dateTime with seconds and a zone (2026-11-22T08:30:00Z)");
      return NULL;
    }
  }
  if (planned_start && period_start && strcmp (planned_start, period_start) != 0) {
    fail (p, "Encounter.period.start", "differs from the plannedStartDate extension");
    return NULL;
  }
  if (!planned_start && !period_start) {
    fail (p, "Encounter.extension", "the scheduled time is required (extension "
                                    "plannedStartDate, or period.start)");
    return NULL;
  }
  c->scheduled_at = g_strdup (planned_start ? planned_start : period_start);

  if (!get_array (p, resource, "Encounter", "reasonCode", TRUE, 1, &reasons) ||
      !parse_concept (p, json_array_get (reasons, 0), "Encounter.reasonCode[0]", NULL, NULL,
                      &reason))
    return NULL;
  if (reason == NULL) {
    fail (p, "Encounter.reasonCode[0].text", "required element missing");
    return NULL;
  }
  c->reason = g_strdup (reason);
  return g_steal_pointer (&c);
}

RecordsConsent *
signaling_fhir_consent_parse (const json_t *resource, char **out_field, GError **error)
{
  static const char *const members[] = { "resourceType", "id", "meta", "text", "extension",
                                         "status", "scope", "category", "patient", "dateTime",
                                         "performer", "policyRule", "provision", NULL };
  static const char *const provision_members[] = { "type", "purpose", "data", NULL };
  static const char *const data_members[] = { "meaning", "reference", NULL };
  static const char *const extension_urls[] = { SIGNALING_FHIR_EXT_CONSENT_METHOD, NULL };
  static const char *const extension_values[] = { "valueCode", NULL };
  static const char *const performer_types[] = { "Practitioner", "Patient", NULL };
  static const char *const encounter[] = { "Encounter", NULL };
  static const char *const purposes[] = { "recording", "sharing", "treatment", NULL };
  static const char *const methods[] = { "verbal", "written", "electronic", NULL };
  Parse parse = { out_field, error }, *p = &parse;
  g_autoptr (RecordsConsent) consent = g_new0 (RecordsConsent, 1);
  const json_t *method[1], *scope, *categories, *performers, *policy, *provision, *purpose_list;
  const json_t *data;
  const char *status, *scope_code, *ignored, *type, *system, *purpose;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  if (out_field)
    *out_field = NULL;

  if (!check_resource (p, resource, "Consent", members) ||
      !parse_extensions (p, resource, "Consent", extension_urls, extension_values, method))
    return NULL;
  if (method[0] == NULL) {
    fail (p, "Consent.extension", "the method extension (" SIGNALING_FHIR_EXT_CONSENT_METHOD
                                  ") is required");
    return NULL;
  }
  if (!json_is_string (method[0]) || !in_list (json_string_value (method[0]), methods)) {
    fail (p, "Consent.extension[0].valueCode", "must be verbal, written or electronic");
    return NULL;
  }
  consent->method = g_strdup (json_string_value (method[0]));

  if (!get_code (p, resource, "Consent", "status", TRUE, &status))
    return NULL;
  if (strcmp (status, "active") != 0 && strcmp (status, "rejected") != 0) {
    fail (p, "Consent.status", "must be \"active\" (granted) or \"rejected\" (refused)");
    return NULL;
  }
  consent->granted = strcmp (status, "active") == 0;

  if (!get_object (p, resource, "Consent", "scope", TRUE, &scope) ||
      !parse_concept (p, scope, "Consent.scope", SIGNALING_FHIR_SYSTEM_CONSENT_SCOPE,
                      &scope_code, &ignored))
    return NULL;
  if (g_strcmp0 (scope_code, "patient-privacy") != 0 && g_strcmp0 (scope_code, "treatment") != 0) {
    fail (p, "Consent.scope", "must be patient-privacy or treatment of "
                              SIGNALING_FHIR_SYSTEM_CONSENT_SCOPE);
    return NULL;
  }

  if (!get_array (p, resource, "Consent", "category", TRUE, 8, &categories))
    return NULL;
  for (size_t i = 0; i < json_array_size (categories); i++) {
    g_autofree char *path = g_strdup_printf ("Consent.category[%zu]", i);
    if (!parse_concept (p, json_array_get (categories, i), path, NULL, NULL, &ignored))
      return NULL;
  }

  if (!get_reference (p, resource, "Consent", "patient", TRUE, "Patient", &consent->patient_id) ||
      !get_datetime (p, resource, "Consent", "dateTime", FALSE, &consent->at))
    return NULL;

  if (!get_array (p, resource, "Consent", "performer", FALSE, 1, &performers))
    return NULL;
  if (performers) {
    const char *performer_type;
    g_autofree char *performer_id = NULL;
    if (!parse_reference (p, json_array_get (performers, 0), "Consent.performer[0]",
                          performer_types, &performer_type, &performer_id))
      return NULL;
    if (strcmp (performer_type, "Patient") == 0) {
      if (strcmp (performer_id, consent->patient_id) != 0) {
        fail (p, "Consent.performer[0].reference", "a Patient performer must be the patient");
        return NULL;
      }
      consent->recorded_by = g_strdup ("patient");
    } else {
      consent->recorded_by = g_steal_pointer (&performer_id);
    }
  }

  if (!get_object (p, resource, "Consent", "policyRule", FALSE, &policy) ||
      (policy && !parse_concept (p, policy, "Consent.policyRule", NULL, NULL, &ignored)))
    return NULL;

  if (!get_object (p, resource, "Consent", "provision", TRUE, &provision) ||
      !check_members (p, provision, "Consent.provision", provision_members) ||
      !get_code (p, provision, "Consent.provision", "type", TRUE, &type))
    return NULL;
  if (strcmp (type, consent->granted ? "permit" : "deny") != 0) {
    fail (p, "Consent.provision.type", "must be %s for status %s",
          consent->granted ? "permit" : "deny", status);
    return NULL;
  }
  if (!get_array (p, provision, "Consent.provision", "purpose", TRUE, 1, &purpose_list) ||
      !parse_coding (p, json_array_get (purpose_list, 0), "Consent.provision.purpose[0]",
                     &system, &purpose))
    return NULL;
  if (g_strcmp0 (system, SIGNALING_FHIR_SYSTEM_PURPOSE) != 0 || purpose == NULL ||
      !in_list (purpose, purposes)) {
    fail (p, "Consent.provision.purpose[0]", "must be recording, sharing or treatment of "
                                             SIGNALING_FHIR_SYSTEM_PURPOSE);
    return NULL;
  }
  if (strcmp (scope_code, signaling_fhir_consent_scope (purpose)) != 0) {
    fail (p, "Consent.scope", "must be %s for purpose %s", signaling_fhir_consent_scope (purpose),
          purpose);
    return NULL;
  }
  consent->purpose = g_strdup (purpose);

  if (!get_array (p, provision, "Consent.provision", "data", FALSE, 1, &data))
    return NULL;
  if (data) {
    const json_t *item = json_array_get (data, 0);
    const json_t *reference;
    const char *meaning;
    if (!json_is_object (item)) {
      fail (p, "Consent.provision.data[0]", "must be an object");
      return NULL;
    }
    if (!check_members (p, item, "Consent.provision.data[0]", data_members) ||
        !get_code (p, item, "Consent.provision.data[0]", "meaning", TRUE, &meaning))
      return NULL;
    if (strcmp (meaning, "related") != 0) {
      fail (p, "Consent.provision.data[0].meaning", "must be \"related\"");
      return NULL;
    }
    if (!get_object (p, item, "Consent.provision.data[0]", "reference", TRUE, &reference) ||
        !parse_reference (p, reference, "Consent.provision.data[0].reference", encounter, NULL,
                          &consent->consultation_id))
      return NULL;
  }
  return g_steal_pointer (&consent);
}
