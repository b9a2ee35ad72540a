/* records.c — enumerations, shared checks, facilities, users, patients and
 * login sessions (consultations.c and audit.c hold the rest). */
#include "records.h"

#include <stdlib.h>
#include <string.h>

#include "records-priv.h"

/* ---- shared checks ----------------------------------------------------- */

gboolean
records_check_text (const char *field, const char *value, glong max_chars,
                    RecordsTextFlags flags, GError **error)
{
  if (value == NULL) {
    if (flags & RECORDS_TEXT_OPTIONAL)
      return TRUE;
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID, "%s: required", field);
    return FALSE;
  }
  if (!g_utf8_validate (value, -1, NULL)) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID, "%s: not valid UTF-8", field);
    return FALSE;
  }
  if (value[0] == '\0') {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID, "%s: must not be empty", field);
    return FALSE;
  }
  if (g_utf8_strlen (value, -1) > max_chars) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID,
                 "%s: longer than %ld characters", field, max_chars);
    return FALSE;
  }
  for (const char *p = value; *p; p = g_utf8_next_char (p)) {
    gunichar c = g_utf8_get_char (p);

    if ((flags & RECORDS_TEXT_MULTILINE) && (c == '\n' || c == '\r' || c == '\t'))
      continue;
    if (g_unichar_iscntrl (c)) {
      g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID,
                   "%s: control characters are not allowed", field);
      return FALSE;
    }
  }
  return TRUE;
}

gboolean
records_check_enum (const char *field, const char *value, const char *const *allowed,
                    GError **error)
{
  g_autofree char *list = NULL;

  if (value != NULL && g_strv_contains (allowed, value))
    return TRUE;
  list = g_strjoinv (", ", (char **) allowed);
  g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID, "%s: must be one of %s", field,
               list);
  return FALSE;
}

char *
records_check_time (const char *field, const char *value, GError **error)
{
  g_autoptr (GDateTime) time = NULL;

  if (value != NULL && strlen (value) <= 64)
    time = g_date_time_new_from_iso8601 (value, NULL);
  if (time == NULL) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID,
                 "%s: not an ISO-8601 date-time with a time zone", field);
    return NULL;
  }
  return records_timestamp_from_unix_ms (g_date_time_to_unix (time) * 1000
                                         + g_date_time_get_microsecond (time) / 1000);
}

char *
records_new_id (void)
{
  return g_uuid_string_random ();
}

void
records_set_not_found (GError **error, const char *what, const char *id)
{
  g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND, "%s not found", what);
}

gboolean
records_check_reference (RecordsStore *store, const char *sql, const char *field,
                         const char *id, GError **error)
{
  g_autoptr (RecordsDbRows) rows = NULL;

  if (!records_check_text (field, id, RECORDS_MAX_SHORT, 0, error))
    return FALSE;
  rows = records_db_query (records_store_get_db (store), sql, DB_PARAMS (id), error);
  if (rows == NULL)
    return FALSE;
  if (rows->n_rows == 0) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID, "%s: no such record", field);
    return FALSE;
  }
  return TRUE;
}

char *
records_int_to_text (gint64 value)
{
  return g_strdup_printf ("%" G_GINT64_FORMAT, value);
}

gint64
records_text_to_int (const char *text)
{
  return text ? g_ascii_strtoll (text, NULL, 10) : 0;
}

guint
records_clamp_limit (guint limit, guint fallback, guint max)
{
  if (limit == 0)
    return fallback;
  return MIN (limit, max);
}

/* ---- enumerations ------------------------------------------------------ */

static const char *const role_names[] = {
  [RECORDS_ROLE_CLINICIAN] = "clinician",
  [RECORDS_ROLE_SPECIALIST] = "specialist",
  [RECORDS_ROLE_NURSE] = "nurse",
  [RECORDS_ROLE_ADMINISTRATOR] = "administrator",
  [RECORDS_ROLE_AUDITOR] = "auditor",
  [RECORDS_ROLE_PATIENT] = "patient",
};

const char *
records_role_to_string (RecordsRole role)
{
  if ((guint) role >= G_N_ELEMENTS (role_names))
    return NULL;
  return role_names[role];
}

gboolean
records_role_from_string (const char *text, RecordsRole *out_role)
{
  if (text == NULL)
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (role_names); i++)
    if (strcmp (role_names[i], text) == 0) {
      if (out_role)
        *out_role = (RecordsRole) i;
      return TRUE;
    }
  return FALSE;
}

static const char *const facility_kinds[] = {
  "district-clinic", "provincial-hospital", "national-hospital", NULL
};

gboolean
records_facility_kind_valid (const char *kind)
{
  return kind != NULL && g_strv_contains (facility_kinds, kind);
}

static const char *const consultation_statuses[] = {
  "planned", "arrived", "in-progress", "finished", "cancelled", NULL
};

gboolean
records_consultation_status_valid (const char *status)
{
  return status != NULL && g_strv_contains (consultation_statuses, status);
}

/* ---- facilities -------------------------------------------------------- */

#define FACILITY_COLUMNS "id, code, name, kind, province_code, created_at"

void
records_facility_free (RecordsFacility *facility)
{
  if (facility == NULL)
    return;
  g_free (facility->id);
  g_free (facility->code);
  g_free (facility->name);
  g_free (facility->kind);
  g_free (facility->province_code);
  g_free (facility->created_at);
  g_free (facility);
}

static RecordsFacility *
facility_from_row (const RecordsDbRows *rows, guint r)
{
  RecordsFacility *facility = g_new0 (RecordsFacility, 1);

  facility->id = g_strdup (records_db_rows_get (rows, r, 0));
  facility->code = g_strdup (records_db_rows_get (rows, r, 1));
  facility->name = g_strdup (records_db_rows_get (rows, r, 2));
  facility->kind = g_strdup (records_db_rows_get (rows, r, 3));
  facility->province_code = g_strdup (records_db_rows_get (rows, r, 4));
  facility->created_at = g_strdup (records_db_rows_get (rows, r, 5));
  return facility;
}

static gboolean
facility_code_valid (const char *code)
{
  gsize length = code ? strlen (code) : 0;

  if (length < 1 || length > 32)
    return FALSE;
  for (gsize i = 0; i < length; i++)
    if (!g_ascii_isalnum (code[i]) && code[i] != '-')
      return FALSE;
  return TRUE;
}

gboolean
records_facility_create (RecordsStore *store, RecordsFacility *facility,
                         const char *actor_id, GError **error)
{
  g_autofree char *id = NULL;
  g_autofree char *now = NULL;

  g_return_val_if_fail (store != NULL && facility != NULL, FALSE);

  if (!facility_code_valid (facility->code)) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID,
                 "code: 1-32 letters, digits or '-'");
    return FALSE;
  }
  if (!records_check_text ("name", facility->name, RECORDS_MAX_NAME, 0, error)
      || !records_check_enum ("kind", facility->kind, facility_kinds, error))
    return FALSE;
  if (records_province_name (facility->province_code) == NULL) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID,
                 "province_code: not a 3-digit CCCD province code");
    return FALSE;
  }

  id = records_new_id ();
  now = records_timestamp_now ();
  if (!records_db_exec (records_store_get_db (store),
                        "INSERT INTO facilities (" FACILITY_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?)",
                        DB_PARAMS (id, facility->code, facility->name, facility->kind,
                                   facility->province_code, now),
                        NULL, error)) {
    if (error && g_error_matches (*error, RECORDS_ERROR, RECORDS_ERROR_CONFLICT)) {
      g_clear_error (error);
      g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_CONFLICT, "code: already taken");
    }
    return FALSE;
  }
  g_free (facility->id);
  facility->id = g_steal_pointer (&id);
  g_free (facility->created_at);
  facility->created_at = g_steal_pointer (&now);
  return TRUE;
}

static RecordsFacility *
facility_get_one (RecordsStore *store, const char *sql, const char *key, GError **error)
{
  g_autoptr (RecordsDbRows) rows = NULL;

  if (key == NULL) {
    records_set_not_found (error, "facility", key);
    return NULL;
  }
  rows = records_db_query (records_store_get_db (store), sql, DB_PARAMS (key), error);
  if (rows == NULL)
    return NULL;
  if (rows->n_rows == 0) {
    records_set_not_found (error, "facility", key);
    return NULL;
  }
  return facility_from_row (rows, 0);
}

RecordsFacility *
records_facility_get (RecordsStore *store, const char *id, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  return facility_get_one (store, "SELECT " FACILITY_COLUMNS " FROM facilities WHERE id = ?",
                           id, error);
}

RecordsFacility *
records_facility_get_by_code (RecordsStore *store, const char *code, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  return facility_get_one (store, "SELECT " FACILITY_COLUMNS " FROM facilities WHERE code = ?",
                           code, error);
}

GPtrArray *
records_facility_list (RecordsStore *store, GError **error)
{
  g_autoptr (RecordsDbRows) rows = NULL;
  GPtrArray *list;

  g_return_val_if_fail (store != NULL, NULL);
  rows = records_db_query (records_store_get_db (store),
                           "SELECT " FACILITY_COLUMNS " FROM facilities ORDER BY code",
                           DB_NO_PARAMS, error);
  if (rows == NULL)
    return NULL;
  list = g_ptr_array_new_with_free_func ((GDestroyNotify) records_facility_free);
  for (guint r = 0; r < rows->n_rows; r++)
    g_ptr_array_add (list, facility_from_row (rows, r));
  return list;
}

/* ---- users ------------------------------------------------------------- */

#define USER_COLUMNS \
  "id, username, display_name, role, facility_id, password_hash, failed_logins," \
  " locked_until, disabled, created_at"

void
records_user_free (RecordsUser *user)
{
  if (user == NULL)
    return;
  g_free (user->id);
  g_free (user->username);
  g_free (user->display_name);
  g_free (user->facility_id);
  if (user->password_hash)
    explicit_bzero (user->password_hash, strlen (user->password_hash));
  g_free (user->password_hash);
  g_free (user->created_at);
  g_free (user);
}

static RecordsUser *
user_from_row (const RecordsDbRows *rows, guint r)
{
  RecordsUser *user = g_new0 (RecordsUser, 1);

  user->id = g_strdup (records_db_rows_get (rows, r, 0));
  user->username = g_strdup (records_db_rows_get (rows, r, 1));
  user->display_name = g_strdup (records_db_rows_get (rows, r, 2));
  if (!records_role_from_string (records_db_rows_get (rows, r, 3), &user->role))
    user->role = RECORDS_ROLE_NURSE;  /* unreachable: the table's CHECK */
  user->facility_id = g_strdup (records_db_rows_get (rows, r, 4));
  user->password_hash = g_strdup (records_db_rows_get (rows, r, 5));
  user->failed_logins = (int) records_text_to_int (records_db_rows_get (rows, r, 6));
  user->locked_until = records_text_to_int (records_db_rows_get (rows, r, 7));
  user->disabled = records_text_to_int (records_db_rows_get (rows, r, 8)) != 0;
  user->created_at = g_strdup (records_db_rows_get (rows, r, 9));
  return user;
}

static gboolean
username_valid (const char *username)
{
  gsize length = username ? strlen (username) : 0;

  if (length < 3 || length > 64)
    return FALSE;
  for (gsize i = 0; i < length; i++) {
    char c = username[i];

    if (!(g_ascii_islower (c) || g_ascii_isdigit (c) || c == '.' || c == '_' || c == '-'))
      return FALSE;
  }
  return TRUE;
}

static gboolean
check_password_hash (const char *password_hash, GError **error)
{
  /* Never echo the value. */
  if (password_hash != NULL
      && (password_hash[0] == '\0' || strlen (password_hash) > 1024
          || !g_str_is_ascii (password_hash))) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID,
                 "password_hash: 1-1024 ASCII characters");
    return FALSE;
  }
  return TRUE;
}

gboolean
records_user_create (RecordsStore *store, RecordsUser *user, const char *actor_id,
                     GError **error)
{
  g_autofree char *id = NULL;
  g_autofree char *now = NULL;
  g_autofree char *failed = NULL;
  g_autofree char *locked = NULL;
  const char *role;

  g_return_val_if_fail (store != NULL && user != NULL, FALSE);

  if (!username_valid (user->username)) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID,
                 "username: 3-64 of a-z, 0-9, '.', '_', '-'");
    return FALSE;
  }
  if (!records_check_text ("display_name", user->display_name, RECORDS_MAX_NAME, 0, error))
    return FALSE;
  role = records_role_to_string (user->role);
  if (role == NULL || user->role == RECORDS_ROLE_PATIENT) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID,
                 "role: must be a staff role");
    return FALSE;
  }
  if (user->facility_id == NULL && user->role != RECORDS_ROLE_ADMINISTRATOR
      && user->role != RECORDS_ROLE_AUDITOR) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID,
                 "facility_id: required for role %s", role);
    return FALSE;
  }
  if (user->facility_id != NULL
      && !records_check_reference (store, "SELECT 1 FROM facilities WHERE id = ?",
                                   "facility_id", user->facility_id, error))
    return FALSE;
  if (!check_password_hash (user->password_hash, error))
    return FALSE;
  if (user->failed_logins < 0 || user->locked_until < 0) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID,
                 "failed_logins: must not be negative");
    return FALSE;
  }

  id = records_new_id ();
  now = records_timestamp_now ();
  failed = records_int_to_text (user->failed_logins);
  locked = records_int_to_text (user->locked_until);
  if (!records_db_exec (records_store_get_db (store),
                        "INSERT INTO users (" USER_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        DB_PARAMS (id, user->username, user->display_name, role,
                                   user->facility_id, user->password_hash, failed, locked,
                                   user->disabled ? "1" : "0", now),
                        NULL, error)) {
    if (error && g_error_matches (*error, RECORDS_ERROR, RECORDS_ERROR_CONFLICT)) {
      g_clear_error (error);
      g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_CONFLICT, "username: already taken");
    }
    return FALSE;
  }
  g_free (user->id);
  user->id = g_steal_pointer (&id);
  g_free (user->created_at);
  user->created_at = g_steal_pointer (&now);
  return TRUE;
}

static RecordsUser *
user_get_one (RecordsStore *store, const char *sql, const char *key, GError **error)
{
  g_autoptr (RecordsDbRows) rows = NULL;

  if (key == NULL) {
    records_set_not_found (error, "user", key);
    return NULL;
  }
  rows = records_db_query (records_store_get_db (store), sql, DB_PARAMS (key), error);
  if (rows == NULL)
    return NULL;
  if (rows->n_rows == 0) {
    records_set_not_found (error, "user", key);
    return NULL;
  }
  return user_from_row (rows, 0);
}

RecordsUser *
records_user_get (RecordsStore *store, const char *id, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  return user_get_one (store, "SELECT " USER_COLUMNS " FROM users WHERE id = ?", id, error);
}

RecordsUser *
records_user_get_by_username (RecordsStore *store, const char *username, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  return user_get_one (store, "SELECT " USER_COLUMNS " FROM users WHERE username = ?", username,
                       error);
}

GPtrArray *
records_user_list (RecordsStore *store, const char *facility_id, GError **error)
{
  g_autoptr (RecordsDbRows) rows = NULL;
  GPtrArray *list;

  g_return_val_if_fail (store != NULL, NULL);
  if (facility_id == NULL)
    rows = records_db_query (records_store_get_db (store),
                             "SELECT " USER_COLUMNS " FROM users ORDER BY username",
                             DB_NO_PARAMS, error);
  else
    rows = records_db_query (records_store_get_db (store),
                             "SELECT " USER_COLUMNS " FROM users WHERE facility_id = ?"
                             " ORDER BY username",
                             DB_PARAMS (facility_id), error);
  if (rows == NULL)
    return NULL;
  list = g_ptr_array_new_with_free_func ((GDestroyNotify) records_user_free);
  for (guint r = 0; r < rows->n_rows; r++)
    g_ptr_array_add (list, user_from_row (rows, r));
  return list;
}

/* Runs an UPDATE of one row by id; no row → NOT_FOUND "@what". */
static gboolean
update_one (RecordsStore *store, const char *sql, const char *const *params, int n_params,
            const char *what, GError **error)
{
  gint64 changes = 0;

  if (!records_db_exec (records_store_get_db (store), sql, params, n_params, &changes, error))
    return FALSE;
  if (changes == 0) {
    records_set_not_found (error, what, NULL);
    return FALSE;
  }
  return TRUE;
}

gboolean
records_user_set_login_state (RecordsStore *store, const char *user_id, int failed_logins,
                              gint64 locked_until, GError **error)
{
  g_autofree char *failed = NULL;
  g_autofree char *locked = NULL;

  g_return_val_if_fail (store != NULL, FALSE);
  if (user_id == NULL) {
    records_set_not_found (error, "user", NULL);
    return FALSE;
  }
  if (failed_logins < 0 || locked_until < 0) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID,
                 "failed_logins: must not be negative");
    return FALSE;
  }
  failed = records_int_to_text (failed_logins);
  locked = records_int_to_text (locked_until);
  return update_one (store, "UPDATE users SET failed_logins = ?, locked_until = ? WHERE id = ?",
                     DB_PARAMS (failed, locked, user_id), "user", error);
}

gboolean
records_user_set_password_hash (RecordsStore *store, const char *user_id,
                                const char *password_hash, GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  if (user_id == NULL) {
    records_set_not_found (error, "user", NULL);
    return FALSE;
  }
  if (password_hash == NULL) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID, "password_hash: required");
    return FALSE;
  }
  if (!check_password_hash (password_hash, error))
    return FALSE;
  return update_one (store, "UPDATE users SET password_hash = ? WHERE id = ?",
                     DB_PARAMS (password_hash, user_id), "user", error);
}

/* ---- patients ---------------------------------------------------------- */

#define PATIENT_COLUMNS \
  "id, cccd, bhyt, name, birth_date, sex, phone, address, facility_id, created_at"

static const char *const sexes[] = { "male", "female", "other", "unknown", NULL };

void
records_patient_free (RecordsPatient *patient)
{
  if (patient == NULL)
    return;
  g_free (patient->id);
  g_free (patient->cccd);
  g_free (patient->bhyt);
  g_free (patient->name);
  g_free (patient->birth_date);
  g_free (patient->sex);
  g_free (patient->phone);
  g_free (patient->address);
  g_free (patient->facility_id);
  g_free (patient->created_at);
  g_free (patient);
}

static RecordsPatient *
patient_from_row (const RecordsDbRows *rows, guint r)
{
  RecordsPatient *patient = g_new0 (RecordsPatient, 1);

  patient->id = g_strdup (records_db_rows_get (rows, r, 0));
  patient->cccd = g_strdup (records_db_rows_get (rows, r, 1));
  patient->bhyt = g_strdup (records_db_rows_get (rows, r, 2));
  patient->name = g_strdup (records_db_rows_get (rows, r, 3));
  patient->birth_date = g_strdup (records_db_rows_get (rows, r, 4));
  patient->sex = g_strdup (records_db_rows_get (rows, r, 5));
  patient->phone = g_strdup (records_db_rows_get (rows, r, 6));
  patient->address = g_strdup (records_db_rows_get (rows, r, 7));
  patient->facility_id = g_strdup (records_db_rows_get (rows, r, 8));
  patient->created_at = g_strdup (records_db_rows_get (rows, r, 9));
  return patient;
}

static GPtrArray *
patients_from_rows (const RecordsDbRows *rows)
{
  GPtrArray *list = g_ptr_array_new_with_free_func ((GDestroyNotify) records_patient_free);

  for (guint r = 0; r < rows->n_rows; r++)
    g_ptr_array_add (list, patient_from_row (rows, r));
  return list;
}

/* YYYY-MM-DD, a real calendar date; its year in *@out_year. */
static gboolean
birth_date_parse (const char *text, int *out_year)
{
  int year, month, day;

  if (text == NULL || strlen (text) != 10 || text[4] != '-' || text[7] != '-')
    return FALSE;
  for (int i = 0; i < 10; i++)
    if (i != 4 && i != 7 && !g_ascii_isdigit (text[i]))
      return FALSE;
  year = atoi (text);
  month = atoi (text + 5);
  day = atoi (text + 8);
  if (year < 1 || month < 1 || month > 12 || day < 1
      || !g_date_valid_dmy ((GDateDay) day, (GDateMonth) month, (GDateYear) year))
    return FALSE;
  *out_year = year;
  return TRUE;
}

static gboolean
phone_valid (const char *phone)
{
  gsize length = strlen (phone);

  if (length < 3 || length > 32)
    return FALSE;
  for (gsize i = 0; i < length; i++)
    if (!g_ascii_isdigit (phone[i]) && !strchr ("+-. ()", phone[i]))
      return FALSE;
  return TRUE;
}

/* "" in an optional field means absent. */
static const char *
empty_to_null (const char *text)
{
  return text && text[0] == '\0' ? NULL : text;
}

gboolean
records_patient_create (RecordsStore *store, RecordsPatient *patient, const char *actor_id,
                        GError **error)
{
  g_autofree char *id = NULL;
  g_autofree char *now = NULL;
  g_autofree char *name_fold = NULL;
  const char *bhyt, *phone, *address;
  int year;

  g_return_val_if_fail (store != NULL && patient != NULL, FALSE);

  bhyt = empty_to_null (patient->bhyt);
  phone = empty_to_null (patient->phone);
  address = empty_to_null (patient->address);
  if (!birth_date_parse (patient->birth_date, &year)) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID,
                 "birth_date: must be a date YYYY-MM-DD");
    return FALSE;
  }
  if (!records_cccd_validate (patient->cccd, year, error))
    return FALSE;
  if (bhyt != NULL && !records_bhyt_validate (bhyt, error))
    return FALSE;
  if (!records_check_text ("name", patient->name, RECORDS_MAX_NAME, 0, error)
      || !records_check_enum ("sex", patient->sex, sexes, error))
    return FALSE;
  if ((strcmp (patient->sex, "male") == 0 && records_cccd_is_female (patient->cccd))
      || (strcmp (patient->sex, "female") == 0 && !records_cccd_is_female (patient->cccd))) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID,
                 "sex: the CCCD's digit 4 says %s",
                 records_cccd_is_female (patient->cccd) ? "female" : "male");
    return FALSE;
  }
  if (phone != NULL && !phone_valid (phone)) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID,
                 "phone: 3-32 digits, spaces and + - . ( )");
    return FALSE;
  }
  if (!records_check_text ("address", address, RECORDS_MAX_ADDRESS,
                           RECORDS_TEXT_OPTIONAL, error)
      || !records_check_reference (store, "SELECT 1 FROM facilities WHERE id = ?",
                                   "facility_id", patient->facility_id, error))
    return FALSE;

  id = records_new_id ();
  now = records_timestamp_now ();
  name_fold = g_utf8_casefold (patient->name, -1);
  if (!records_db_exec (records_store_get_db (store),
                        "INSERT INTO patients (" PATIENT_COLUMNS ", name_fold)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        DB_PARAMS (id, patient->cccd, bhyt, patient->name, patient->birth_date,
                                   patient->sex, phone, address, patient->facility_id, now,
                                   name_fold),
                        NULL, error)) {
    if (error && g_error_matches (*error, RECORDS_ERROR, RECORDS_ERROR_CONFLICT)) {
      g_autoptr (RecordsDbRows) rows = NULL;

      /* Which identifier is taken, without naming its value. */
      g_clear_error (error);
      rows = records_db_query (records_store_get_db (store),
                               "SELECT 1 FROM patients WHERE cccd = ?",
                               DB_PARAMS (patient->cccd), NULL);
      g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_CONFLICT, "%s: already registered",
                   rows && rows->n_rows > 0 ? "cccd" : "bhyt");
    }
    return FALSE;
  }
  g_free (patient->id);
  patient->id = g_steal_pointer (&id);
  g_free (patient->created_at);
  patient->created_at = g_steal_pointer (&now);
  return TRUE;
}

RecordsPatient *
records_patient_get (RecordsStore *store, const char *id, GError **error)
{
  g_autoptr (RecordsDbRows) rows = NULL;

  g_return_val_if_fail (store != NULL, NULL);
  if (id == NULL) {
    records_set_not_found (error, "patient", NULL);
    return NULL;
  }
  rows = records_db_query (records_store_get_db (store),
                           "SELECT " PATIENT_COLUMNS " FROM patients WHERE id = ?",
                           DB_PARAMS (id), error);
  if (rows == NULL)
    return NULL;
  if (rows->n_rows == 0) {
    records_set_not_found (error, "patient", id);
    return NULL;
  }
  return patient_from_row (rows, 0);
}

RecordsPatient *
records_patient_find_by_identifier (RecordsStore *store, const char *system, const char *value,
                                    GError **error)
{
  g_autoptr (RecordsDbRows) rows = NULL;
  const char *sql;

  g_return_val_if_fail (store != NULL, NULL);
  if (system && (strcmp (system, RECORDS_SYSTEM_CCCD) == 0 || strcmp (system, "cccd") == 0))
    sql = "SELECT " PATIENT_COLUMNS " FROM patients WHERE cccd = ?";
  else if (system
           && (strcmp (system, RECORDS_SYSTEM_BHYT) == 0 || strcmp (system, "bhyt") == 0))
    sql = "SELECT " PATIENT_COLUMNS " FROM patients WHERE bhyt = ?";
  else {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID,
                 "system: must be " RECORDS_SYSTEM_CCCD " or " RECORDS_SYSTEM_BHYT);
    return NULL;
  }
  if (value == NULL || strlen (value) > 64) {
    records_set_not_found (error, "patient", NULL);
    return NULL;
  }
  rows = records_db_query (records_store_get_db (store), sql, DB_PARAMS (value), error);
  if (rows == NULL)
    return NULL;
  if (rows->n_rows == 0) {
    records_set_not_found (error, "patient", NULL);
    return NULL;
  }
  return patient_from_row (rows, 0);
}

/* A LIKE pattern matching @text anywhere, with '!' escaping LIKE's own
 * metacharacters in it. */
static char *
like_contains (const char *text)
{
  GString *pattern = g_string_new ("%");

  for (const char *p = text; *p; p++) {
    if (*p == '%' || *p == '_' || *p == '!')
      g_string_append_c (pattern, '!');
    g_string_append_c (pattern, *p);
  }
  g_string_append_c (pattern, '%');
  return g_string_free (pattern, FALSE);
}

GPtrArray *
records_patient_search (RecordsStore *store, const char *name_part, const char *facility_id,
                        guint limit, GError **error)
{
  g_autoptr (RecordsDbRows) rows = NULL;
  g_autofree char *fold = NULL;
  g_autofree char *pattern = NULL;
  g_autofree char *limit_text = NULL;
  RecordsDb *db;

  g_return_val_if_fail (store != NULL, NULL);
  db = records_store_get_db (store);
  name_part = empty_to_null (name_part);
  if (name_part != NULL
      && !records_check_text ("name", name_part, RECORDS_MAX_NAME, 0, error))
    return NULL;
  limit_text = records_int_to_text (records_clamp_limit (limit, 100, 1000));

  if (name_part != NULL) {
    fold = g_utf8_casefold (name_part, -1);
    pattern = like_contains (fold);
  }
  if (pattern && facility_id)
    rows = records_db_query (db, "SELECT " PATIENT_COLUMNS " FROM patients"
                                 " WHERE name_fold LIKE ? ESCAPE '!' AND facility_id = ?"
                                 " ORDER BY name_fold, id LIMIT ?",
                             DB_PARAMS (pattern, facility_id, limit_text), error);
  else if (pattern)
    rows = records_db_query (db, "SELECT " PATIENT_COLUMNS " FROM patients"
                                 " WHERE name_fold LIKE ? ESCAPE '!'"
                                 " ORDER BY name_fold, id LIMIT ?",
                             DB_PARAMS (pattern, limit_text), error);
  else if (facility_id)
    rows = records_db_query (db, "SELECT " PATIENT_COLUMNS " FROM patients"
                                 " WHERE facility_id = ? ORDER BY name_fold, id LIMIT ?",
                             DB_PARAMS (facility_id, limit_text), error);
  else
    rows = records_db_query (db, "SELECT " PATIENT_COLUMNS " FROM patients"
                                 " ORDER BY name_fold, id LIMIT ?",
                             DB_PARAMS (limit_text), error);
  if (rows == NULL)
    return NULL;
  return patients_from_rows (rows);
}

/* ---- login sessions ---------------------------------------------------- */

void
records_login_session_free (RecordsLoginSession *session)
{
  if (session == NULL)
    return;
  g_free (session->id);
  g_free (session->user_id);
  g_free (session);
}

gboolean
records_login_session_create (RecordsStore *store, const char *id, const char *user_id,
                              gint64 expires_at, GError **error)
{
  g_autofree char *expires = NULL;
  g_autofree char *now = NULL;

  g_return_val_if_fail (store != NULL, FALSE);
  if (!records_check_text ("id", id, 128, 0, error)
      || !records_check_reference (store, "SELECT 1 FROM users WHERE id = ?", "user_id",
                                   user_id, error))
    return FALSE;
  if (expires_at <= 0) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID, "expires_at: must be positive");
    return FALSE;
  }
  expires = records_int_to_text (expires_at);
  now = records_timestamp_now ();
  return records_db_exec (records_store_get_db (store),
                          "INSERT INTO login_sessions (id, user_id, expires_at, revoked, created_at)"
                          " VALUES (?, ?, ?, 0, ?)",
                          DB_PARAMS (id, user_id, expires, now), NULL, error);
}

RecordsLoginSession *
records_login_session_get (RecordsStore *store, const char *id, GError **error)
{
  g_autoptr (RecordsDbRows) rows = NULL;
  RecordsLoginSession *session;

  g_return_val_if_fail (store != NULL, NULL);
  if (id == NULL) {
    records_set_not_found (error, "login session", NULL);
    return NULL;
  }
  rows = records_db_query (records_store_get_db (store),
                           "SELECT id, user_id, expires_at, revoked FROM login_sessions"
                           " WHERE id = ?",
                           DB_PARAMS (id), error);
  if (rows == NULL)
    return NULL;
  if (rows->n_rows == 0) {
    records_set_not_found (error, "login session", NULL);
    return NULL;
  }
  session = g_new0 (RecordsLoginSession, 1);
  session->id = g_strdup (records_db_rows_get (rows, 0, 0));
  session->user_id = g_strdup (records_db_rows_get (rows, 0, 1));
  session->expires_at = records_text_to_int (records_db_rows_get (rows, 0, 2));
  session->revoked = records_text_to_int (records_db_rows_get (rows, 0, 3)) != 0;
  return session;
}

gboolean
records_login_session_revoke (RecordsStore *store, const char *id, GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  if (id == NULL) {
    records_set_not_found (error, "login session", NULL);
    return FALSE;
  }
  return update_one (store, "UPDATE login_sessions SET revoked = 1 WHERE id = ?",
                     DB_PARAMS (id), "login session", error);
}
