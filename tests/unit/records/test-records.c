/* Tests records/ (records.h, store.h, db.h) against one back end, chosen by
 * CAU_TEST_BACKEND: "sqlite" (a temporary directory per test) or
 * "postgresql" (one throwaway server from tests/support/pg-fixture.c for
 * the program, a fresh database per test).  meson registers the program
 * once per back end, so both pass the same suite. */
#include <glib/gstdio.h>
#include <string.h>

#include "db.h"
#include "pg-fixture.h"
#include "records.h"
#include "store-priv.h"

static gboolean use_postgresql;
static PgFixture *pg_fixture;
static guint database_counter;

/* ---- a fresh store per test -------------------------------------------- */

typedef struct {
  RecordsStore *store;
  char *location;        /* what the store was opened with               */
  char *dir;             /* SQLite only                                  */
} Fixture;

/* A location nobody has opened yet: a fresh database or directory. */
static char *
fresh_location (char **out_dir)
{
  g_autoptr (GError) error = NULL;
  char *location;

  if (use_postgresql) {
    g_autofree char *name = g_strdup_printf ("records_%u", ++database_counter);

    location = pg_fixture_create_database (pg_fixture, name, &error);
    *out_dir = NULL;
  } else {
    location = g_dir_make_tmp ("cau-records-XXXXXX", &error);
    *out_dir = g_strdup (location);
  }
  g_assert_no_error (error);
  return location;
}

static void
remove_sqlite_dir (const char *dir)
{
  const char *names[] = { "cau.db", "cau.db-wal", "cau.db-shm" };

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++) {
    g_autofree char *path = g_build_filename (dir, names[i], NULL);
    g_unlink (path);
  }
  g_rmdir (dir);
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->location = fresh_location (&f->dir);
  f->store = records_store_open_uri (f->location, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->store);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  records_store_close (f->store);
  if (f->dir)
    remove_sqlite_dir (f->dir);
  g_free (f->dir);
  g_free (f->location);
}

/* Raw SQL, as an attacker with database access would run it. */
static void
raw_sql (Fixture *f, const char *sql)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (records_db_exec (records_store_get_db (f->store), sql, NULL, 0, NULL, &error));
  g_assert_no_error (error);
}

static gint64
raw_count (Fixture *f, const char *sql, const char *param)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RecordsDbRows) rows =
    records_db_query (records_store_get_db (f->store), sql, DB_PARAMS (param), &error);

  g_assert_no_error (error);
  g_assert_cmpuint (rows->n_rows, ==, 1);
  return g_ascii_strtoll (records_db_rows_get (rows, 0, 0), NULL, 10);
}

#define HOSTILE "Robert'); DROP TABLE patients;-- \"x\" ? $1 %_ \\ ;"

/* ---- common rows ------------------------------------------------------- */

static RecordsFacility *
make_facility (Fixture *f, const char *code, const char *kind)
{
  g_autoptr (GError) error = NULL;
  RecordsFacility *facility = g_new0 (RecordsFacility, 1);

  facility->code = g_strdup (code);
  facility->name = g_strdup_printf ("Trung tâm Y tế %s", code);
  facility->kind = g_strdup (kind);
  facility->province_code = g_strdup ("038");
  g_assert_true (records_facility_create (f->store, facility, "admin", &error));
  g_assert_no_error (error);
  return facility;
}

static RecordsUser *
make_user (Fixture *f, const char *username, RecordsRole role, const char *facility_id)
{
  g_autoptr (GError) error = NULL;
  RecordsUser *user = g_new0 (RecordsUser, 1);

  user->username = g_strdup (username);
  user->display_name = g_strdup_printf ("BS. %s", username);
  user->role = role;
  user->facility_id = g_strdup (facility_id);
  user->password_hash = g_strdup ("$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA");
  g_assert_true (records_user_create (f->store, user, "admin", &error));
  g_assert_no_error (error);
  return user;
}

static RecordsPatient *
new_patient (const char *cccd, const char *bhyt, const char *name, const char *birth_date,
             const char *sex, const char *facility_id)
{
  RecordsPatient *patient = g_new0 (RecordsPatient, 1);

  patient->cccd = g_strdup (cccd);
  patient->bhyt = g_strdup (bhyt);
  patient->name = g_strdup (name);
  patient->birth_date = g_strdup (birth_date);
  patient->sex = g_strdup (sex);
  patient->facility_id = g_strdup (facility_id);
  return patient;
}

static RecordsPatient *
make_patient (Fixture *f, const char *cccd, const char *name, const char *facility_id)
{
  g_autoptr (GError) error = NULL;
  RecordsPatient *patient = new_patient (cccd, NULL, name, "1985-03-04", "male", facility_id);

  g_assert_true (records_patient_create (f->store, patient, "u1", &error));
  g_assert_no_error (error);
  return patient;
}

static RecordsConsultation *
make_consultation (Fixture *f, const RecordsPatient *patient, const RecordsUser *requester,
                   const char *scheduled_at, const char *specialist_id)
{
  g_autoptr (GError) error = NULL;
  RecordsConsultation *c = g_new0 (RecordsConsultation, 1);
  const char *specialists[] = { specialist_id, NULL };

  c->patient_id = g_strdup (patient->id);
  c->requester_id = g_strdup (requester->id);
  c->requesting_facility_id = g_strdup (requester->facility_id);
  c->specialist_ids = g_strdupv ((char **) specialists);
  c->scheduled_at = g_strdup (scheduled_at);
  c->reason = g_strdup ("Đau ngực, nghi nhồi máu cơ tim");
  g_assert_true (records_consultation_create (f->store, c, requester->id, &error));
  g_assert_no_error (error);
  return c;
}

/* ---- store ------------------------------------------------------------- */

static void
test_store (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_assert_cmpstr (records_store_get_backend (f->store), ==,
                   use_postgresql ? "postgresql" : "sqlite");
  g_assert_cmpint (records_store_get_schema_version (f->store), ==,
                   records_store_get_latest_schema_version ());
  g_assert_cmpint (records_store_get_latest_schema_version (), >=, 2);
  g_assert_true (records_store_add_call_event (f->store, "room-1", "p1", RECORDS_CALL_EVENT_JOIN,
                                               HOSTILE, &error));
  g_assert_true (records_store_add_call_event (f->store, "room-1", "p1",
                                               RECORDS_CALL_EVENT_LEAVE, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (raw_count (f, "SELECT COUNT(*) FROM call_events WHERE display_name = ?",
                              HOSTILE), ==, 1);
  g_assert_cmpint (raw_count (f, "SELECT COUNT(*) FROM call_events WHERE room = ?", "room-1"),
                   ==, 2);
}

static void
test_placeholders (void)
{
  g_autofree char *a = records_db_rewrite_placeholders ("SELECT ? , '?' , \"a?\" , ? -- ?\n , ?");
  g_autofree char *b = records_db_rewrite_placeholders ("VALUES ('it''s ?', ?)");

  g_assert_cmpstr (a, ==, "SELECT $1 , '?' , \"a?\" , $2 -- ?\n , $3");
  g_assert_cmpstr (b, ==, "VALUES ('it''s ?', $1)");
}

/* ---- identifiers ------------------------------------------------------- */

/* Evaluates @call before looking at error (argument order is unspecified). */
#define EXPECT_INVALID(call, fragment) \
  G_STMT_START { \
    gboolean ok_ = (call); \
    expect_invalid (ok_, error, fragment); \
  } G_STMT_END

static void
expect_invalid (gboolean ok, GError *error, const char *fragment)
{
  g_assert_false (ok);
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID);
  if (strstr (error->message, fragment) == NULL)
    g_error ("message \"%s\" lacks \"%s\"", error->message, fragment);
}

static void
test_cccd (void)
{
  const struct {
    const char *cccd;
    int birth_year;
    const char *fragment;   /* NULL = valid */
  } cases[] = {
    { "038085001234", 1985, NULL },        /* Thanh Hóa, 20th c. male, 1985 */
    { "038085001234", 0, NULL },
    { "001301000001", 2001, NULL },        /* Hà Nội, 21st c. female, 2001 */
    { "096199999999", 1999, NULL },        /* Cà Mau, 20th c. female       */
    { "024400000000", 2100, NULL },        /* 22nd century male            */
    { "068985123456", 2385, NULL },        /* 24th century female          */
    { "03808500123", 0, "12 digits" },     /* 11 digits                    */
    { "0380850012345", 0, "12 digits" },   /* 13 digits                    */
    { "03808500123a", 0, "12 digits" },
    { "", 0, "12 digits" },
    { "003085001234", 0, "province" },     /* a gap in the list            */
    { "000085001234", 0, "province" },
    { "097085001234", 0, "province" },     /* past Cà Mau                  */
    { "038085001234", 1986, "birth year" },
    { "038285001234", 1985, "birth year" }, /* digit 4 says 2085          */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = NULL;
    gboolean ok = records_cccd_validate (cases[i].cccd, cases[i].birth_year, &error);

    if (cases[i].fragment == NULL) {
      g_assert_no_error (error);
      g_assert_true (ok);
    } else {
      expect_invalid (ok, error, cases[i].fragment);
    }
  }
  {
    g_autoptr (GError) error = NULL;
    EXPECT_INVALID (records_cccd_validate (NULL, 0, &error), "cccd");
  }
}

static void
test_bhyt (void)
{
  const struct {
    const char *bhyt;
    const char *fragment;
  } cases[] = {
    { "DN4010123456789", NULL },
    { "TE1380000000001", NULL },
    { "XV5990123456789", NULL },
    { "DN401012345678", "15 characters" },
    { "DN40101234567890", "15 characters" },
    { "ZZ4010123456789", "group" },
    { "dn4010123456789", "group" },
    { "DN0010123456789", "benefit level" },
    { "DN6010123456789", "benefit level" },
    { "DN4000123456789", "province" },
    { "DN4A10123456789", "province" },
    { "DN401012345678X", "social-insurance" },
    { "DN401 123456789", "social-insurance" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = NULL;
    gboolean ok = records_bhyt_validate (cases[i].bhyt, &error);

    if (cases[i].fragment == NULL) {
      g_assert_no_error (error);
      g_assert_true (ok);
    } else {
      expect_invalid (ok, error, cases[i].fragment);
    }
  }
}

static void
test_enumerations (void)
{
  RecordsRole role = RECORDS_ROLE_NURSE;

  for (RecordsRole r = RECORDS_ROLE_CLINICIAN; r <= RECORDS_ROLE_PATIENT; r++) {
    g_assert_true (records_role_from_string (records_role_to_string (r), &role));
    g_assert_cmpint (role, ==, r);
  }
  g_assert_cmpstr (records_role_to_string (RECORDS_ROLE_SPECIALIST), ==, "specialist");
  g_assert_false (records_role_from_string ("Clinician", &role));
  g_assert_false (records_role_from_string ("root", &role));
  g_assert_false (records_role_from_string (NULL, &role));
  g_assert_true (records_facility_kind_valid ("district-clinic"));
  g_assert_true (records_facility_kind_valid ("national-hospital"));
  g_assert_false (records_facility_kind_valid ("pharmacy"));
  g_assert_false (records_facility_kind_valid (NULL));
  g_assert_true (records_consultation_status_valid ("in-progress"));
  g_assert_false (records_consultation_status_valid ("booked"));
  g_assert_false (records_consultation_status_valid (NULL));
}

/* ---- facilities -------------------------------------------------------- */

static void
test_facilities (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RecordsFacility) a = make_facility (f, "38-DONGSON", "district-clinic");
  g_autoptr (RecordsFacility) b = make_facility (f, "38-BVTH", "provincial-hospital");
  g_autoptr (RecordsFacility) got = NULL;
  g_autoptr (RecordsFacility) dup = g_new0 (RecordsFacility, 1);
  g_autoptr (RecordsFacility) hostile = g_new0 (RecordsFacility, 1);
  g_autoptr (GPtrArray) list = NULL;
  g_autofree char *long_name = g_strnfill (201, 'x');

  g_assert_nonnull (a->id);
  g_assert_nonnull (a->created_at);
  got = records_facility_get (f->store, a->id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (got->code, ==, "38-DONGSON");
  g_assert_cmpstr (got->name, ==, "Trung tâm Y tế 38-DONGSON");
  g_assert_cmpstr (got->kind, ==, "district-clinic");
  g_assert_cmpstr (got->province_code, ==, "038");
  g_assert_cmpstr (got->created_at, ==, a->created_at);
  g_clear_pointer (&got, records_facility_free);
  got = records_facility_get_by_code (f->store, "38-BVTH", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (got->id, ==, b->id);

  list = records_facility_list (f->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 2);

  g_assert_null (records_facility_get (f->store, "no-such-id", &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (records_facility_get_by_code (f->store, "' OR '1'='1", &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND);
  g_clear_error (&error);

  dup->code = g_strdup ("38-DONGSON");
  dup->name = g_strdup ("again");
  dup->kind = g_strdup ("district-clinic");
  dup->province_code = g_strdup ("038");
  g_assert_false (records_facility_create (f->store, dup, "admin", &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_CONFLICT);
  g_clear_error (&error);

  g_free (dup->code);
  dup->code = g_strdup ("bad code");
  EXPECT_INVALID (records_facility_create (f->store, dup, "admin", &error), "code");
  g_clear_error (&error);
  g_free (dup->code);
  dup->code = g_strdup ("OK-1");
  g_free (dup->kind);
  dup->kind = g_strdup ("pharmacy");
  EXPECT_INVALID (records_facility_create (f->store, dup, "admin", &error), "kind");
  g_clear_error (&error);
  g_free (dup->kind);
  dup->kind = g_strdup ("district-clinic");
  g_free (dup->province_code);
  dup->province_code = g_strdup ("003");
  EXPECT_INVALID (records_facility_create (f->store, dup, "admin", &error), "province_code");
  g_clear_error (&error);
  g_free (dup->province_code);
  dup->province_code = g_strdup ("038");
  g_free (dup->name);
  dup->name = g_strdup (long_name);
  EXPECT_INVALID (records_facility_create (f->store, dup, "admin", &error), "name");
  g_clear_error (&error);
  g_free (dup->name);
  dup->name = g_strdup ("tab\there");
  EXPECT_INVALID (records_facility_create (f->store, dup, "admin", &error), "name");
  g_clear_error (&error);
  g_free (dup->name);
  dup->name = g_strdup ("\xff\xfe");
  EXPECT_INVALID (records_facility_create (f->store, dup, "admin", &error), "UTF-8");
  g_clear_error (&error);
  g_clear_pointer (&list, g_ptr_array_unref);
  list = records_facility_list (f->store, &error);
  g_assert_cmpuint (list->len, ==, 2);   /* nothing stored by refused writes */

  hostile->code = g_strdup ("X-1");
  hostile->name = g_strdup (HOSTILE);
  hostile->kind = g_strdup ("national-hospital");
  hostile->province_code = g_strdup ("001");
  g_assert_true (records_facility_create (f->store, hostile, "admin", &error));
  g_assert_no_error (error);
  g_clear_pointer (&got, records_facility_free);
  got = records_facility_get (f->store, hostile->id, &error);
  g_assert_cmpstr (got->name, ==, HOSTILE);
}

/* ---- users ------------------------------------------------------------- */

static void
test_users (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RecordsFacility) clinic = make_facility (f, "38-DONGSON", "district-clinic");
  g_autoptr (RecordsFacility) hospital = make_facility (f, "38-BVTH", "provincial-hospital");
  g_autoptr (RecordsUser) doctor = make_user (f, "bs.lan", RECORDS_ROLE_CLINICIAN, clinic->id);
  g_autoptr (RecordsUser) specialist =
    make_user (f, "bs.minh", RECORDS_ROLE_SPECIALIST, hospital->id);
  g_autoptr (RecordsUser) admin = make_user (f, "admin", RECORDS_ROLE_ADMINISTRATOR, NULL);
  g_autoptr (RecordsUser) got = NULL;
  g_autoptr (RecordsUser) bad = g_new0 (RecordsUser, 1);
  g_autoptr (GPtrArray) list = NULL;

  g_assert_null (admin->facility_id);
  got = records_user_get_by_username (f->store, "bs.lan", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (got->id, ==, doctor->id);
  g_assert_cmpint (got->role, ==, RECORDS_ROLE_CLINICIAN);
  g_assert_cmpstr (got->facility_id, ==, clinic->id);
  g_assert_cmpstr (got->display_name, ==, "BS. bs.lan");
  g_assert_cmpstr (got->password_hash, ==, doctor->password_hash);
  g_assert_cmpint (got->failed_logins, ==, 0);
  g_assert_cmpint (got->locked_until, ==, 0);
  g_assert_false (got->disabled);

  g_assert_true (records_user_set_login_state (f->store, doctor->id, 3, 1900000000, &error));
  g_assert_true (records_user_set_password_hash (f->store, doctor->id, "$argon2id$new", &error));
  g_assert_no_error (error);
  g_clear_pointer (&got, records_user_free);
  got = records_user_get (f->store, doctor->id, &error);
  g_assert_cmpint (got->failed_logins, ==, 3);
  g_assert_cmpint (got->locked_until, ==, 1900000000);
  g_assert_cmpstr (got->password_hash, ==, "$argon2id$new");

  list = records_user_list (f->store, NULL, &error);
  g_assert_cmpuint (list->len, ==, 3);
  g_clear_pointer (&list, g_ptr_array_unref);
  list = records_user_list (f->store, hospital->id, &error);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpstr (((RecordsUser *) list->pdata[0])->username, ==, "bs.minh");

  g_assert_false (records_user_set_login_state (f->store, "nobody", 0, 0, &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (records_user_set_password_hash (f->store, "nobody", "$x", &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (records_user_get (f->store, "nobody", &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND);
  g_clear_error (&error);

  bad->username = g_strdup ("bs.lan");
  bad->display_name = g_strdup ("x");
  bad->role = RECORDS_ROLE_NURSE;
  bad->facility_id = g_strdup (clinic->id);
  g_assert_false (records_user_create (f->store, bad, "admin", &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_CONFLICT);
  g_clear_error (&error);
  g_free (bad->username);
  bad->username = g_strdup ("Bs.Lan");
  EXPECT_INVALID (records_user_create (f->store, bad, "admin", &error), "username");
  g_clear_error (&error);
  g_free (bad->username);
  bad->username = g_strdup ("ab");
  EXPECT_INVALID (records_user_create (f->store, bad, "admin", &error), "username");
  g_clear_error (&error);
  g_free (bad->username);
  bad->username = g_strdup ("y.ta.hoa");
  bad->role = RECORDS_ROLE_PATIENT;
  EXPECT_INVALID (records_user_create (f->store, bad, "admin", &error), "role");
  g_clear_error (&error);
  bad->role = RECORDS_ROLE_NURSE;
  g_clear_pointer (&bad->facility_id, g_free);
  EXPECT_INVALID (records_user_create (f->store, bad, "admin", &error), "facility_id");
  g_clear_error (&error);
  bad->facility_id = g_strdup ("no-such-facility");
  EXPECT_INVALID (records_user_create (f->store, bad, "admin", &error), "facility_id");
  g_clear_error (&error);
  g_free (bad->facility_id);
  bad->facility_id = g_strdup (clinic->id);
  g_free (bad->display_name);
  bad->display_name = g_strdup (HOSTILE);
  g_assert_true (records_user_create (f->store, bad, "admin", &error));
  g_assert_no_error (error);
  g_clear_pointer (&got, records_user_free);
  got = records_user_get (f->store, bad->id, &error);
  g_assert_cmpstr (got->display_name, ==, HOSTILE);
  g_assert_null (got->password_hash);
}

/* ---- patients ---------------------------------------------------------- */

static void
test_patients (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RecordsFacility) clinic = make_facility (f, "38-DONGSON", "district-clinic");
  g_autoptr (RecordsFacility) other = make_facility (f, "24-VIETYEN", "district-clinic");
  g_autoptr (RecordsPatient) an = NULL;
  g_autoptr (RecordsPatient) binh = NULL;
  g_autoptr (RecordsPatient) got = NULL;
  g_autoptr (RecordsPatient) bad = NULL;
  g_autoptr (GPtrArray) list = NULL;

  an = new_patient ("038085001234", "DN4380123456789", "NGUYỄN Văn An", "1985-03-04", "male",
                    clinic->id);
  an->phone = g_strdup ("+84 912 345 678");
  an->address = g_strdup ("Xã Đông Hòa, huyện Đông Sơn");
  g_assert_true (records_patient_create (f->store, an, "u1", &error));
  g_assert_no_error (error);
  binh = new_patient ("024301000001", "", "Trần Thị Bình", "2001-12-31", "female", other->id);
  g_assert_true (records_patient_create (f->store, binh, "u1", &error));
  g_assert_no_error (error);

  got = records_patient_get (f->store, an->id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (got->cccd, ==, "038085001234");
  g_assert_cmpstr (got->bhyt, ==, "DN4380123456789");
  g_assert_cmpstr (got->name, ==, "NGUYỄN Văn An");
  g_assert_cmpstr (got->birth_date, ==, "1985-03-04");
  g_assert_cmpstr (got->sex, ==, "male");
  g_assert_cmpstr (got->phone, ==, "+84 912 345 678");
  g_assert_cmpstr (got->address, ==, "Xã Đông Hòa, huyện Đông Sơn");
  g_assert_cmpstr (got->facility_id, ==, clinic->id);
  g_clear_pointer (&got, records_patient_free);
  got = records_patient_get (f->store, binh->id, &error);
  g_assert_null (got->bhyt);      /* "" is absent */
  g_assert_null (got->phone);
  g_clear_pointer (&got, records_patient_free);

  got = records_patient_find_by_identifier (f->store, RECORDS_SYSTEM_CCCD, "038085001234",
                                            &error);
  g_assert_no_error (error);
  g_assert_cmpstr (got->id, ==, an->id);
  g_clear_pointer (&got, records_patient_free);
  got = records_patient_find_by_identifier (f->store, "bhyt", "DN4380123456789", &error);
  g_assert_cmpstr (got->id, ==, an->id);
  g_clear_pointer (&got, records_patient_free);
  got = records_patient_find_by_identifier (f->store, "cccd", "024301000001", &error);
  g_assert_cmpstr (got->id, ==, binh->id);
  g_clear_pointer (&got, records_patient_free);
  g_assert_null (records_patient_find_by_identifier (f->store, RECORDS_SYSTEM_BHYT,
                                                     "' OR 1=1 --", &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (records_patient_find_by_identifier (f->store, "passport", "x", &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (records_patient_get (f->store, "nobody", &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Search: case-insensitive across Vietnamese letters; LIKE's own
   * metacharacters match only themselves. */
  list = records_patient_search (f->store, "nguyễn", NULL, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpstr (((RecordsPatient *) list->pdata[0])->id, ==, an->id);
  g_clear_pointer (&list, g_ptr_array_unref);
  list = records_patient_search (f->store, "THỊ", NULL, 10, &error);
  g_assert_cmpuint (list->len, ==, 1);
  g_clear_pointer (&list, g_ptr_array_unref);
  list = records_patient_search (f->store, "%", NULL, 10, &error);
  g_assert_cmpuint (list->len, ==, 0);
  g_clear_pointer (&list, g_ptr_array_unref);
  list = records_patient_search (f->store, "_", NULL, 10, &error);
  g_assert_cmpuint (list->len, ==, 0);
  g_clear_pointer (&list, g_ptr_array_unref);
  list = records_patient_search (f->store, NULL, NULL, 0, &error);
  g_assert_cmpuint (list->len, ==, 2);
  /* By name: "nguyễn…" sorts before "trần…". */
  g_assert_cmpstr (((RecordsPatient *) list->pdata[0])->id, ==, an->id);
  g_clear_pointer (&list, g_ptr_array_unref);
  list = records_patient_search (f->store, NULL, NULL, 1, &error);
  g_assert_cmpuint (list->len, ==, 1);
  g_clear_pointer (&list, g_ptr_array_unref);
  list = records_patient_search (f->store, "n", other->id, 10, &error);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpstr (((RecordsPatient *) list->pdata[0])->id, ==, binh->id);
  g_clear_pointer (&list, g_ptr_array_unref);

  /* Duplicates. */
  bad = new_patient ("038085001234", NULL, "Other", "1985-01-01", "male", clinic->id);
  g_assert_false (records_patient_create (f->store, bad, "u1", &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_CONFLICT);
  g_assert_nonnull (strstr (error->message, "cccd"));
  g_clear_error (&error);
  g_clear_pointer (&bad, records_patient_free);
  bad = new_patient ("038085009999", "DN4380123456789", "Other", "1985-01-01", "male",
                     clinic->id);
  g_assert_false (records_patient_create (f->store, bad, "u1", &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_CONFLICT);
  g_assert_nonnull (strstr (error->message, "bhyt"));
  g_clear_error (&error);
  g_clear_pointer (&bad, records_patient_free);

  /* Each kind of bad input, nothing stored. */
  {
    const struct {
      const char *cccd, *bhyt, *name, *birth_date, *sex, *fragment;
      gboolean bad_facility;
    } cases[] = {
      { "038085001235", NULL, "A", "1986-01-01", "male", "birth year", FALSE },
      { "038085001235", NULL, "A", "1985-01-01", "female", "sex", FALSE },
      { "038185001235", NULL, "A", "1985-01-01", "male", "sex", FALSE },
      { "038085001235", NULL, "A", "1985-02-30", "male", "birth_date", FALSE },
      { "038085001235", NULL, "A", "85-01-01", "male", "birth_date", FALSE },
      { "038085001235", NULL, "A", "1985-01-01", "man", "sex", FALSE },
      { "003085001235", NULL, "A", "1985-01-01", "male", "province", FALSE },
      { "038085001235", "ZZ4380123456789", "A", "1985-01-01", "male", "bhyt", FALSE },
      { "038085001235", NULL, "", "1985-01-01", "male", "name", FALSE },
      { "038085001235", NULL, NULL, "1985-01-01", "male", "name", FALSE },
      { "038085001235", NULL, "A", "1985-01-01", "male", "facility_id", TRUE },
    };

    for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
      g_autoptr (RecordsPatient) p =
        new_patient (cases[i].cccd, cases[i].bhyt, cases[i].name, cases[i].birth_date,
                     cases[i].sex, cases[i].bad_facility ? "nowhere" : clinic->id);

      EXPECT_INVALID (records_patient_create (f->store, p, "u1", &error), cases[i].fragment);
      g_clear_error (&error);
    }
    {
      g_autoptr (RecordsPatient) p =
        new_patient ("038085001235", NULL, "A", "1985-01-01", "other", clinic->id);
      g_autofree char *long_address = g_strnfill (501, 'a');

      p->address = g_strdup (long_address);
      EXPECT_INVALID (records_patient_create (f->store, p, "u1", &error), "address");
      g_clear_error (&error);
      g_clear_pointer (&p->address, g_free);
      p->phone = g_strdup ("call me");
      EXPECT_INVALID (records_patient_create (f->store, p, "u1", &error), "phone");
      g_clear_error (&error);
    }
  }
  list = records_patient_search (f->store, NULL, NULL, 0, &error);
  g_assert_cmpuint (list->len, ==, 2);
  g_clear_pointer (&list, g_ptr_array_unref);

  /* A hostile name and address are kept verbatim. */
  bad = new_patient ("038085001235", NULL, HOSTILE, "1985-01-01", "unknown", clinic->id);
  bad->address = g_strdup (HOSTILE);
  g_assert_true (records_patient_create (f->store, bad, "u1", &error));
  g_assert_no_error (error);
  got = records_patient_get (f->store, bad->id, &error);
  g_assert_cmpstr (got->name, ==, HOSTILE);
  g_assert_cmpstr (got->address, ==, HOSTILE);
  list = records_patient_search (f->store, "drop table", NULL, 10, &error);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpint (raw_count (f, "SELECT COUNT(*) FROM patients WHERE sex = ?", "unknown"), ==,
                   1);
}

/* ---- consultations ----------------------------------------------------- */

typedef struct {
  RecordsFacility *clinic, *hospital;
  RecordsUser *doctor, *specialist, *nurse, *stranger;
  RecordsPatient *patient;
} World;

static void
world_init (Fixture *f, World *w)
{
  w->clinic = make_facility (f, "38-DONGSON", "district-clinic");
  w->hospital = make_facility (f, "38-BVTH", "provincial-hospital");
  w->doctor = make_user (f, "bs.lan", RECORDS_ROLE_CLINICIAN, w->clinic->id);
  w->specialist = make_user (f, "bs.minh", RECORDS_ROLE_SPECIALIST, w->hospital->id);
  w->nurse = make_user (f, "yt.hoa", RECORDS_ROLE_NURSE, w->clinic->id);
  w->stranger = make_user (f, "bs.khac", RECORDS_ROLE_SPECIALIST, w->hospital->id);
  w->patient = make_patient (f, "038085001234", "Nguyễn Văn An", w->clinic->id);
}

static void
world_clear (World *w)
{
  records_facility_free (w->clinic);
  records_facility_free (w->hospital);
  records_user_free (w->doctor);
  records_user_free (w->specialist);
  records_user_free (w->nurse);
  records_user_free (w->stranger);
  records_patient_free (w->patient);
}

static guint
list_length_for (Fixture *f, const RecordsUser *user, const char *from, const char *to)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list =
    records_consultation_list_for_user (f->store, user, from, to, &error);

  g_assert_no_error (error);
  return list->len;
}

static void
test_consultations (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  World w = { 0 };
  g_autoptr (RecordsConsultation) c = NULL;
  g_autoptr (RecordsConsultation) later = NULL;
  g_autoptr (RecordsConsultation) got = NULL;
  g_autoptr (RecordsConsultation) bad = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autofree char *long_notes = g_strnfill (10001, 'n');

  world_init (f, &w);
  c = make_consultation (f, w.patient, w.doctor, "2026-03-01T09:00:00+07:00", w.specialist->id);
  later = make_consultation (f, w.patient, w.doctor, "2026-03-02T02:00:00Z", NULL);
  g_assert_cmpstr (c->status, ==, "planned");
  g_assert_cmpstr (c->scheduled_at, ==, "2026-03-01T02:00:00.000Z");   /* UTC */

  got = records_consultation_get (f->store, c->id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (got->patient_id, ==, w.patient->id);
  g_assert_cmpstr (got->requester_id, ==, w.doctor->id);
  g_assert_cmpstr (got->requesting_facility_id, ==, w.clinic->id);
  g_assert_cmpstr (got->scheduled_at, ==, "2026-03-01T02:00:00.000Z");
  g_assert_cmpstr (got->reason, ==, "Đau ngực, nghi nhồi máu cơ tim");
  g_assert_cmpuint (g_strv_length (got->specialist_ids), ==, 1);
  g_assert_cmpstr (got->specialist_ids[0], ==, w.specialist->id);
  g_assert_null (got->started_at);
  g_assert_null (got->notes);
  g_assert_true (records_consultation_has_member (got, w.doctor->id));
  g_assert_true (records_consultation_has_member (got, w.specialist->id));
  g_assert_false (records_consultation_has_member (got, w.nurse->id));
  g_assert_false (records_consultation_has_member (got, w.stranger->id));
  g_assert_false (records_consultation_has_member (got, NULL));
  g_clear_pointer (&got, records_consultation_free);

  /* Who sees what: the care team, and nurses/clinicians of the facility. */
  g_assert_cmpuint (list_length_for (f, w.doctor, NULL, NULL), ==, 2);
  g_assert_cmpuint (list_length_for (f, w.specialist, NULL, NULL), ==, 1);
  g_assert_cmpuint (list_length_for (f, w.nurse, NULL, NULL), ==, 2);
  g_assert_cmpuint (list_length_for (f, w.stranger, NULL, NULL), ==, 0);
  g_assert_cmpuint (list_length_for (f, w.doctor, "2026-03-01T00:00:00Z",
                                     "2026-03-02T00:00:00Z"), ==, 1);
  g_assert_cmpuint (list_length_for (f, w.doctor, "2026-03-01T02:00:00Z", NULL), ==, 2);
  g_assert_cmpuint (list_length_for (f, w.doctor, NULL, "2026-03-01T02:00:00Z"), ==, 0);
  g_assert_null (records_consultation_list_for_user (f->store, w.doctor, "yesterday", NULL,
                                                     &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID);
  g_clear_error (&error);

  /* Invite the second specialist; twice is a conflict. */
  g_assert_true (records_consultation_add_specialist (f->store, later->id, w.stranger->id,
                                                      w.doctor->id, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (list_length_for (f, w.stranger, NULL, NULL), ==, 1);
  g_assert_false (records_consultation_add_specialist (f->store, later->id, w.stranger->id,
                                                       w.doctor->id, &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_CONFLICT);
  g_clear_error (&error);
  g_assert_true (records_consultation_add_specialist (f->store, later->id, w.specialist->id,
                                                      w.doctor->id, &error));
  got = records_consultation_get (f->store, later->id, &error);
  g_assert_cmpuint (g_strv_length (got->specialist_ids), ==, 2);
  g_assert_cmpstr (got->specialist_ids[0], ==, w.stranger->id);   /* invitation order */
  g_assert_cmpstr (got->specialist_ids[1], ==, w.specialist->id);
  g_clear_pointer (&got, records_consultation_free);
  g_assert_false (records_consultation_add_specialist (f->store, "nope", w.stranger->id,
                                                       w.doctor->id, &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND);
  g_clear_error (&error);
  EXPECT_INVALID (records_consultation_add_specialist (f->store, later->id, "nobody",
                                                       w.doctor->id, &error), "specialist_id");
  g_clear_error (&error);

  list = records_consultation_list_for_patient (f->store, w.patient->id, &error);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_cmpstr (((RecordsConsultation *) list->pdata[0])->id, ==, c->id);
  g_clear_pointer (&list, g_ptr_array_unref);

  /* The status machine. */
  EXPECT_INVALID (records_consultation_set_status (f->store, c->id, "finished", "u", &error), "cannot move");
  g_clear_error (&error);
  EXPECT_INVALID (records_consultation_set_status (f->store, c->id, "booked", "u", &error), "status");
  g_clear_error (&error);
  g_assert_true (records_consultation_set_status (f->store, c->id, "arrived", "u", &error));
  EXPECT_INVALID (records_consultation_set_status (f->store, c->id, "planned", "u", &error), "cannot move");
  g_clear_error (&error);
  g_assert_true (records_consultation_set_status (f->store, c->id, "in-progress", "u", &error));
  g_assert_no_error (error);
  got = records_consultation_get (f->store, c->id, &error);
  g_assert_cmpstr (got->status, ==, "in-progress");
  g_assert_nonnull (got->started_at);
  g_assert_null (got->ended_at);
  g_clear_pointer (&got, records_consultation_free);
  /* Same status again: nothing changes. */
  g_assert_true (records_consultation_set_status (f->store, c->id, "in-progress", "u", &error));
  g_assert_true (records_consultation_set_status (f->store, c->id, "finished", "u", &error));
  g_assert_no_error (error);
  got = records_consultation_get (f->store, c->id, &error);
  g_assert_cmpstr (got->status, ==, "finished");
  g_assert_nonnull (got->ended_at);
  g_assert_cmpstr (got->ended_at, >=, got->started_at);
  g_clear_pointer (&got, records_consultation_free);
  EXPECT_INVALID (records_consultation_set_status (f->store, c->id, "cancelled", "u", &error), "cannot move");
  g_clear_error (&error);
  EXPECT_INVALID (records_consultation_set_status (f->store, c->id, "in-progress", "u", &error), "cannot move");
  g_clear_error (&error);
  g_assert_true (records_consultation_set_status (f->store, later->id, "cancelled", "u", &error));
  got = records_consultation_get (f->store, later->id, &error);
  g_assert_cmpstr (got->status, ==, "cancelled");
  g_assert_null (got->started_at);
  g_assert_nonnull (got->ended_at);
  g_clear_pointer (&got, records_consultation_free);
  EXPECT_INVALID (records_consultation_set_status (f->store, later->id, "planned", "u", &error), "cannot move");
  g_clear_error (&error);
  g_assert_false (records_consultation_set_status (f->store, "nope", "arrived", "u", &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Notes and outcome. */
  g_assert_true (records_consultation_update_notes (f->store, c->id, HOSTILE, NULL, "u",
                                                    &error));
  g_assert_true (records_consultation_update_notes (f->store, c->id, NULL,
                                                    "Chuyển tuyến\nđiều trị", "u", &error));
  g_assert_no_error (error);
  got = records_consultation_get (f->store, c->id, &error);
  g_assert_cmpstr (got->notes, ==, HOSTILE);
  g_assert_cmpstr (got->outcome, ==, "Chuyển tuyến\nđiều trị");
  g_clear_pointer (&got, records_consultation_free);
  EXPECT_INVALID (records_consultation_update_notes (f->store, c->id, long_notes, NULL, "u",
                                                     &error), "notes");
  g_clear_error (&error);
  g_assert_false (records_consultation_update_notes (f->store, "nope", "x", NULL, "u", &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Bad creations. */
  bad = g_new0 (RecordsConsultation, 1);
  bad->patient_id = g_strdup ("nobody");
  bad->requester_id = g_strdup (w.doctor->id);
  bad->requesting_facility_id = g_strdup (w.clinic->id);
  bad->scheduled_at = g_strdup ("2026-03-01T09:00:00Z");
  bad->reason = g_strdup ("x");
  EXPECT_INVALID (records_consultation_create (f->store, bad, "u", &error), "patient_id");
  g_clear_error (&error);
  g_free (bad->patient_id);
  bad->patient_id = g_strdup (w.patient->id);
  g_free (bad->scheduled_at);
  bad->scheduled_at = g_strdup ("tomorrow");
  EXPECT_INVALID (records_consultation_create (f->store, bad, "u", &error), "scheduled_at");
  g_clear_error (&error);
  g_free (bad->scheduled_at);
  bad->scheduled_at = g_strdup ("2026-03-01T09:00:00Z");
  bad->status = g_strdup ("finished");
  EXPECT_INVALID (records_consultation_create (f->store, bad, "u", &error), "status");
  g_clear_error (&error);
  g_clear_pointer (&bad->status, g_free);
  {
    const char *twice[] = { w.specialist->id, w.specialist->id, NULL };

    bad->specialist_ids = g_strdupv ((char **) twice);
    EXPECT_INVALID (records_consultation_create (f->store, bad, "u", &error), "specialist_ids");
    g_clear_error (&error);
    g_clear_pointer (&bad->specialist_ids, g_strfreev);
  }
  g_clear_pointer (&bad->reason, g_free);
  EXPECT_INVALID (records_consultation_create (f->store, bad, "u", &error), "reason");
  g_clear_error (&error);
  list = records_consultation_list_for_patient (f->store, w.patient->id, &error);
  g_assert_cmpuint (list->len, ==, 2);   /* none of those stored */

  world_clear (&w);
}

/* ---- briefings --------------------------------------------------------- */

static RecordsBriefing *
make_briefing (Fixture *f, const RecordsUser *host, const char *title, const char *scheduled_at)
{
  g_autoptr (GError) error = NULL;
  RecordsBriefing *b = g_new0 (RecordsBriefing, 1);

  b->title = g_strdup (title);
  b->host_id = g_strdup (host->id);
  b->facility_id = g_strdup (host->facility_id);
  b->scheduled_at = g_strdup (scheduled_at);
  g_assert_true (records_briefing_create (f->store, b, host->id, &error));
  g_assert_no_error (error);
  return b;
}

static guint
briefing_count (Fixture *f, const char *from, const char *to, gboolean upcoming)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = records_briefing_list (f->store, from, to, upcoming, &error);

  g_assert_no_error (error);
  return list->len;
}

/* A briefing that the store refuses: @field is named, nothing stored. */
static void
assert_briefing_refused (Fixture *f, RecordsBriefing *b, const char *field)
{
  g_autoptr (GError) error = NULL;
  gint64 before = raw_count (f, "SELECT COUNT(*) FROM briefings WHERE id <> ?", "");

  g_assert_false (records_briefing_create (f->store, b, "u1", &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID);
  g_assert_true (g_str_has_prefix (error->message, field));
  g_assert_null (b->id);
  g_assert_cmpint (raw_count (f, "SELECT COUNT(*) FROM briefings WHERE id <> ?", ""), ==,
                   before);
}

static void
test_briefings (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  World w = { 0 };
  g_autoptr (RecordsBriefing) first = NULL;
  g_autoptr (RecordsBriefing) second = NULL;
  g_autoptr (RecordsBriefing) hostile = NULL;
  g_autoptr (RecordsBriefing) got = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autofree char *long_title = g_strnfill (201, 't');

  world_init (f, &w);
  /* Created out of date order: the list sorts by scheduled_at. */
  second = make_briefing (f, w.specialist, "Giao ban tuyến tỉnh tháng 3",
                          "2026-03-10T08:00:00+07:00");
  first = make_briefing (f, w.doctor, "Giao ban sáng", "2026-03-09T01:30:00Z");
  g_assert_cmpstr (second->status, ==, "planned");
  g_assert_cmpstr (second->scheduled_at, ==, "2026-03-10T01:00:00.000Z");   /* UTC */
  g_assert_nonnull (second->created_at);
  g_assert_cmpuint (strlen (second->id), ==, 36);

  got = records_briefing_get (f->store, second->id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (got->title, ==, "Giao ban tuyến tỉnh tháng 3");
  g_assert_cmpstr (got->host_id, ==, w.specialist->id);
  g_assert_cmpstr (got->facility_id, ==, w.hospital->id);
  g_assert_cmpstr (got->scheduled_at, ==, "2026-03-10T01:00:00.000Z");
  g_assert_cmpstr (got->status, ==, "planned");
  g_assert_cmpstr (got->created_at, ==, second->created_at);
  g_clear_pointer (&got, records_briefing_free);
  g_assert_null (records_briefing_get (f->store, "no-such-id", &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (records_briefing_get (f->store, NULL, &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Lists: by date, ranges half-open, upcoming = not ended. */
  list = records_briefing_list (f->store, NULL, NULL, TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_cmpstr (((RecordsBriefing *) list->pdata[0])->id, ==, first->id);
  g_assert_cmpstr (((RecordsBriefing *) list->pdata[1])->id, ==, second->id);
  g_assert_cmpuint (briefing_count (f, "2026-03-10T01:00:00Z", NULL, FALSE), ==, 1);
  g_assert_cmpuint (briefing_count (f, NULL, "2026-03-10T01:00:00Z", FALSE), ==, 1);
  g_assert_cmpuint (briefing_count (f, "2026-03-09T00:00:00Z", "2026-03-11T00:00:00+07:00",
                                    FALSE), ==, 2);
  g_assert_cmpuint (briefing_count (f, "2026-04-01T00:00:00Z", NULL, TRUE), ==, 0);
  g_assert_null (records_briefing_list (f->store, "tomorrow", NULL, TRUE, &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (records_briefing_list (f->store, NULL, "2026-13-01T00:00:00Z", TRUE, &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID);
  g_clear_error (&error);

  /* planned → live → ended; again is a no-op; backwards refused. */
  g_assert_true (records_briefing_set_status (f->store, first->id, "live", w.doctor->id, &error));
  g_assert_no_error (error);
  g_assert_true (records_briefing_set_status (f->store, first->id, "live", w.doctor->id, &error));
  g_assert_false (records_briefing_set_status (f->store, first->id, "planned", w.doctor->id,
                                               &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_true (records_briefing_set_status (f->store, first->id, "ended", w.doctor->id, &error));
  g_assert_false (records_briefing_set_status (f->store, first->id, "live", w.doctor->id, &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (records_briefing_set_status (f->store, first->id, "cancelled", w.doctor->id,
                                               &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (records_briefing_set_status (f->store, "no-such-id", "ended", w.doctor->id,
                                               &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND);
  g_clear_error (&error);
  /* planned → ended directly (a briefing called off). */
  g_assert_true (records_briefing_set_status (f->store, second->id, "ended", w.doctor->id,
                                              &error));
  got = records_briefing_get (f->store, first->id, &error);
  g_assert_cmpstr (got->status, ==, "ended");
  g_clear_pointer (&got, records_briefing_free);
  g_assert_cmpuint (briefing_count (f, NULL, NULL, TRUE), ==, 0);
  g_assert_cmpuint (briefing_count (f, NULL, NULL, FALSE), ==, 2);

  /* Hostile text is data; no facility is allowed (NULL). */
  hostile = g_new0 (RecordsBriefing, 1);
  hostile->title = g_strdup (HOSTILE);
  hostile->host_id = g_strdup (w.doctor->id);
  hostile->scheduled_at = g_strdup ("2026-05-01T00:00:00Z");
  g_assert_true (records_briefing_create (f->store, hostile, w.doctor->id, &error));
  g_assert_no_error (error);
  got = records_briefing_get (f->store, hostile->id, &error);
  g_assert_cmpstr (got->title, ==, HOSTILE);
  g_assert_null (got->facility_id);
  g_clear_pointer (&got, records_briefing_free);
  g_assert_cmpint (raw_count (f, "SELECT COUNT(*) FROM briefings WHERE title = ?", HOSTILE), ==,
                   1);

  /* Refusals name the field and store nothing. */
  {
    struct {
      const char *title, *host_id, *facility_id, *scheduled_at, *status, *field;
    } bad[] = {
      { NULL, w.doctor->id, NULL, "2026-05-01T00:00:00Z", NULL, "title" },
      { "", w.doctor->id, NULL, "2026-05-01T00:00:00Z", NULL, "title" },
      { long_title, w.doctor->id, NULL, "2026-05-01T00:00:00Z", NULL, "title" },
      { "a\nb", w.doctor->id, NULL, "2026-05-01T00:00:00Z", NULL, "title" },
      { "\xff", w.doctor->id, NULL, "2026-05-01T00:00:00Z", NULL, "title" },
      { "t", "no-such-user", NULL, "2026-05-01T00:00:00Z", NULL, "host_id" },
      { "t", NULL, NULL, "2026-05-01T00:00:00Z", NULL, "host_id" },
      { "t", w.doctor->id, "no-such-facility", "2026-05-01T00:00:00Z", NULL, "facility_id" },
      { "t", w.doctor->id, NULL, "2026-05-01", NULL, "scheduled_at" },
      { "t", w.doctor->id, NULL, "2026-05-01T00:00:00", NULL, "scheduled_at" },
      { "t", w.doctor->id, NULL, NULL, NULL, "scheduled_at" },
      { "t", w.doctor->id, NULL, "2026-05-01T00:00:00Z", "live", "status" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS (bad); i++) {
      g_autoptr (RecordsBriefing) b = g_new0 (RecordsBriefing, 1);

      b->title = g_strdup (bad[i].title);
      b->host_id = g_strdup (bad[i].host_id);
      b->facility_id = g_strdup (bad[i].facility_id);
      b->scheduled_at = g_strdup (bad[i].scheduled_at);
      b->status = g_strdup (bad[i].status);
      assert_briefing_refused (f, b, bad[i].field);
    }
  }
  g_assert_true (records_briefing_status_valid ("live"));
  g_assert_false (records_briefing_status_valid ("cancelled"));
  g_assert_false (records_briefing_status_valid (NULL));
  world_clear (&w);
}

/* ---- consents ---------------------------------------------------------- */

static RecordsConsent *
add_consent (Fixture *f, const char *patient_id, const char *consultation_id,
             const char *purpose, gboolean granted)
{
  g_autoptr (GError) error = NULL;
  RecordsConsent *consent = g_new0 (RecordsConsent, 1);

  consent->patient_id = g_strdup (patient_id);
  consent->consultation_id = g_strdup (consultation_id);
  consent->purpose = g_strdup (purpose);
  consent->granted = granted;
  consent->recorded_by = g_strdup ("patient");
  consent->method = g_strdup ("electronic");
  g_assert_true (records_consent_create (f->store, consent, &error));
  g_assert_no_error (error);
  return consent;
}

static void
test_consents (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  World w = { 0 };
  g_autoptr (RecordsConsultation) c1 = NULL;
  g_autoptr (RecordsConsultation) c2 = NULL;
  g_autoptr (RecordsPatient) other = NULL;
  g_autoptr (RecordsConsent) wide = NULL;
  g_autoptr (RecordsConsent) refused = NULL;
  g_autoptr (RecordsConsent) withdrawn = NULL;
  g_autoptr (RecordsConsent) current = NULL;
  g_autoptr (RecordsConsent) got = NULL;
  g_autoptr (RecordsConsent) bad = NULL;
  g_autoptr (GPtrArray) list = NULL;

  world_init (f, &w);
  c1 = make_consultation (f, w.patient, w.doctor, "2026-03-01T09:00:00Z", NULL);
  c2 = make_consultation (f, w.patient, w.doctor, "2026-03-02T09:00:00Z", NULL);
  other = make_patient (f, "001085000001", "Lê Văn Khác", w.clinic->id);

  g_assert_null (records_consent_current (f->store, w.patient->id, c1->id, "recording", &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND);
  g_clear_error (&error);

  wide = add_consent (f, w.patient->id, NULL, "recording", TRUE);
  g_assert_nonnull (wide->id);
  g_assert_nonnull (wide->at);
  refused = add_consent (f, w.patient->id, c1->id, "recording", FALSE);

  /* A row for that consultation wins; else the patient-wide one. */
  current = records_consent_current (f->store, w.patient->id, c1->id, "recording", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (current->id, ==, refused->id);
  g_assert_false (current->granted);
  g_clear_pointer (&current, records_consent_free);
  current = records_consent_current (f->store, w.patient->id, c2->id, "recording", &error);
  g_assert_cmpstr (current->id, ==, wide->id);
  g_assert_true (current->granted);
  g_clear_pointer (&current, records_consent_free);

  /* Append-only: a withdrawal is a new row, the latest decision counts
   * (even within the same millisecond). */
  withdrawn = add_consent (f, w.patient->id, NULL, "recording", FALSE);
  current = records_consent_current (f->store, w.patient->id, NULL, "recording", &error);
  g_assert_cmpstr (current->id, ==, withdrawn->id);
  g_assert_false (current->granted);
  g_clear_pointer (&current, records_consent_free);
  g_assert_null (records_consent_current (f->store, w.patient->id, NULL, "sharing", &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (records_consent_current (f->store, w.patient->id, NULL, "x", &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID);
  g_clear_error (&error);

  list = records_consent_list_for_patient (f->store, w.patient->id, &error);
  g_assert_cmpuint (list->len, ==, 3);
  g_assert_cmpstr (((RecordsConsent *) list->pdata[0])->id, ==, wide->id);
  g_assert_cmpstr (((RecordsConsent *) list->pdata[2])->id, ==, withdrawn->id);
  got = records_consent_get (f->store, refused->id, &error);
  g_assert_cmpstr (got->consultation_id, ==, c1->id);
  g_assert_cmpstr (got->purpose, ==, "recording");
  g_assert_cmpstr (got->recorded_by, ==, "patient");
  g_assert_cmpstr (got->method, ==, "electronic");
  g_assert_cmpstr (got->at, ==, refused->at);
  g_assert_false (got->granted);
  g_assert_null (records_consent_get (f->store, "nope", &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND);
  g_clear_error (&error);

  bad = g_new0 (RecordsConsent, 1);
  bad->patient_id = g_strdup (other->id);
  bad->consultation_id = g_strdup (c1->id);    /* not the other patient's */
  bad->purpose = g_strdup ("recording");
  bad->recorded_by = g_strdup (w.doctor->id);
  bad->method = g_strdup ("verbal");
  EXPECT_INVALID (records_consent_create (f->store, bad, &error), "consultation_id");
  g_clear_error (&error);
  g_clear_pointer (&bad->consultation_id, g_free);
  g_free (bad->method);
  bad->method = g_strdup ("telepathy");
  EXPECT_INVALID (records_consent_create (f->store, bad, &error), "method");
  g_clear_error (&error);
  g_free (bad->method);
  bad->method = g_strdup ("written");
  g_free (bad->purpose);
  bad->purpose = g_strdup ("marketing");
  EXPECT_INVALID (records_consent_create (f->store, bad, &error), "purpose");
  g_clear_error (&error);
  g_clear_pointer (&list, g_ptr_array_unref);
  list = records_consent_list_for_patient (f->store, other->id, &error);
  g_assert_cmpuint (list->len, ==, 0);

  world_clear (&w);
}

/* ---- invitations and login sessions ----------------------------------- */

static void
test_invitations (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  World w = { 0 };
  g_autoptr (RecordsConsultation) c = NULL;
  g_autoptr (RecordsInvitation) created = NULL;
  g_autoptr (RecordsInvitation) found = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GDateTime) created_at = NULL;
  g_autoptr (GDateTime) expires_at = NULL;
  g_autofree char *secret = NULL;
  g_autofree char *secret2 = NULL;
  g_autofree char *revoked_at = NULL;
  g_autofree char *wrong = NULL;

  world_init (f, &w);
  c = make_consultation (f, w.patient, w.doctor, "2026-03-01T09:00:00Z", NULL);

  secret = records_invitation_create (f->store, c->id, 3600, w.doctor->id, &created, &error);
  g_assert_no_error (error);
  g_assert_nonnull (secret);
  g_assert_cmpuint (strlen (secret), ==, 43);    /* 32 bytes, base64url, no padding */
  g_assert_true (g_regex_match_simple ("^[A-Za-z0-9_-]{43}$", secret, 0, 0));
  g_assert_cmpstr (created->consultation_id, ==, c->id);
  g_assert_cmpstr (created->patient_id, ==, w.patient->id);
  g_assert_cmpstr (created->created_by, ==, w.doctor->id);
  g_assert_null (created->revoked_at);
  created_at = g_date_time_new_from_iso8601 (created->created_at, NULL);
  expires_at = g_date_time_new_from_iso8601 (created->expires_at, NULL);
  g_assert_cmpint (g_date_time_difference (expires_at, created_at), ==, (gint64) 3600 * G_USEC_PER_SEC);

  /* Only the hash is stored. */
  g_assert_cmpint (raw_count (f, "SELECT COUNT(*) FROM invitations WHERE secret_sha256 = ?",
                              secret), ==, 0);
  g_assert_cmpint (raw_count (f, "SELECT COUNT(*) FROM invitations WHERE id = ?", created->id),
                   ==, 1);

  found = records_invitation_find (f->store, secret, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (found->id, ==, created->id);
  g_assert_cmpstr (found->expires_at, ==, created->expires_at);
  g_clear_pointer (&found, records_invitation_free);

  wrong = g_strdup (secret);
  wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
  g_assert_null (records_invitation_find (f->store, wrong, &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (records_invitation_find (f->store, "' OR ''='", &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND);
  g_clear_error (&error);

  secret2 = records_invitation_create (f->store, c->id, 60, w.doctor->id, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (secret2, !=, secret);

  /* Revoked: still found (the caller tells revoked from expired). */
  g_assert_true (records_invitation_revoke (f->store, created->id, w.doctor->id, &error));
  found = records_invitation_find (f->store, secret, &error);
  g_assert_no_error (error);
  g_assert_nonnull (found->revoked_at);
  revoked_at = g_strdup (found->revoked_at);
  g_clear_pointer (&found, records_invitation_free);
  g_usleep (2000);
  g_assert_true (records_invitation_revoke (f->store, created->id, w.doctor->id, &error));
  found = records_invitation_find (f->store, secret, &error);
  g_assert_cmpstr (found->revoked_at, ==, revoked_at);   /* the first time is kept */
  g_clear_pointer (&found, records_invitation_free);
  found = records_invitation_find (f->store, secret2, &error);
  g_assert_null (found->revoked_at);
  g_assert_false (records_invitation_revoke (f->store, "nope", w.doctor->id, &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND);
  g_clear_error (&error);

  list = records_invitation_list_for_consultation (f->store, c->id, &error);
  g_assert_cmpuint (list->len, ==, 2);

  g_assert_null (records_invitation_create (f->store, c->id, 0, w.doctor->id, NULL, &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (records_invitation_create (f->store, c->id, 31 * 24 * 3600, w.doctor->id, NULL,
                                            &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (records_invitation_create (f->store, "nope", 60, w.doctor->id, NULL, &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND);
  g_clear_error (&error);

  world_clear (&w);
}

static void
test_login_sessions (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RecordsFacility) clinic = make_facility (f, "38-DONGSON", "district-clinic");
  g_autoptr (RecordsUser) doctor = make_user (f, "bs.lan", RECORDS_ROLE_CLINICIAN, clinic->id);
  g_autoptr (RecordsLoginSession) session = NULL;

  g_assert_true (records_login_session_create (f->store, "jti-1", doctor->id, 1900000000,
                                               &error));
  g_assert_no_error (error);
  session = records_login_session_get (f->store, "jti-1", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (session->user_id, ==, doctor->id);
  g_assert_cmpint (session->expires_at, ==, 1900000000);
  g_assert_false (session->revoked);
  g_clear_pointer (&session, records_login_session_free);

  g_assert_false (records_login_session_create (f->store, "jti-1", doctor->id, 1900000000,
                                                &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_CONFLICT);
  g_clear_error (&error);
  EXPECT_INVALID (records_login_session_create (f->store, "jti-2", "nobody", 1900000000,
                                                &error), "user_id");
  g_clear_error (&error);

  g_assert_true (records_login_session_revoke (f->store, "jti-1", &error));
  session = records_login_session_get (f->store, "jti-1", &error);
  g_assert_true (session->revoked);
  g_assert_false (records_login_session_revoke (f->store, "jti-9", &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (records_login_session_get (f->store, "jti-9", &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND);
}

static RecordsRecording *
new_recording (const char *consultation_id, const char *kind, const char *file_name)
{
  RecordsRecording *r = g_new0 (RecordsRecording, 1);

  r->consultation_id = g_strdup (consultation_id);
  r->kind = g_strdup (kind);
  r->file_name = g_strdup (file_name);
  r->status = g_strdup ("recording");
  r->compose_progress = -1;
  return r;
}

static void
test_recordings (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  World w = { 0 };
  g_autoptr (RecordsConsultation) c = NULL;
  g_autoptr (RecordsRecording) r = NULL;
  g_autoptr (RecordsRecording) composed = NULL;
  g_autoptr (RecordsRecording) got = NULL;
  g_autoptr (GPtrArray) list = NULL;

  world_init (f, &w);
  c = make_consultation (f, w.patient, w.doctor, "2026-03-01T09:00:00Z", NULL);

  /* A participant's file: patient and session filled in. */
  r = new_recording (c->id, "participant", "s1-p1.mkv.cauv");
  r->participant_id = g_strdup ("p0123456789ab");
  r->participant_name = g_strdup ("Bác sĩ Lê");
  r->key_id = g_strdup ("k1");
  g_assert_true (records_recording_create (f->store, r, &error));
  g_assert_no_error (error);
  g_assert_nonnull (r->id);
  g_assert_nonnull (r->started_at);
  g_assert_cmpstr (r->patient_id, ==, w.patient->id);
  g_assert_nonnull (r->session_id);
  g_assert_cmpstr (r->session_id, !=, r->id);

  /* The composed file of the same session. */
  composed = new_recording (c->id, "composed", "s1.mkv.cauv");
  composed->session_id = g_strdup (r->session_id);
  composed->compose_progress = 0;
  g_assert_true (records_recording_create (f->store, composed, &error));
  g_assert_no_error (error);

  got = records_recording_get (f->store, r->id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (got->kind, ==, "participant");
  g_assert_cmpstr (got->participant_id, ==, "p0123456789ab");
  g_assert_cmpstr (got->participant_name, ==, "Bác sĩ Lê");
  g_assert_cmpstr (got->file_name, ==, "s1-p1.mkv.cauv");
  g_assert_cmpstr (got->status, ==, "recording");
  g_assert_cmpint (got->compose_progress, ==, -1);
  g_assert_null (got->ended_at);
  g_assert_null (got->sha256);
  g_clear_pointer (&got, records_recording_free);

  /* Update: closed with its digest. */
  g_free (r->status);
  r->status = g_strdup ("complete");
  r->ended_at = g_strdup ("2026-03-01T09:30:00Z");
  r->duration_ms = 1800000;
  r->size = 123456789;
  r->sha256 = g_strnfill (64, 'a');
  g_assert_true (records_recording_update (f->store, r, &error));
  g_assert_no_error (error);
  got = records_recording_get (f->store, r->id, &error);
  g_assert_cmpstr (got->status, ==, "complete");
  g_assert_cmpstr (got->ended_at, ==, "2026-03-01T09:30:00.000Z");
  g_assert_cmpint (got->duration_ms, ==, 1800000);
  g_assert_cmpint (got->size, ==, 123456789);
  g_assert_cmpstr (got->sha256, ==, r->sha256);
  g_assert_cmpstr (got->key_id, ==, "k1");
  g_clear_pointer (&got, records_recording_free);

  composed->compose_progress = 42;
  g_assert_true (records_recording_update (f->store, composed, &error));
  got = records_recording_get (f->store, composed->id, &error);
  g_assert_cmpint (got->compose_progress, ==, 42);
  g_assert_null (got->participant_id);
  g_clear_pointer (&got, records_recording_free);

  list = records_recording_list_for_consultation (f->store, c->id, &error);
  g_assert_cmpuint (list->len, ==, 2);
  g_clear_pointer (&list, g_ptr_array_unref);
  list = records_recording_list_for_patient (f->store, w.patient->id, &error);
  g_assert_cmpuint (list->len, ==, 2);
  g_clear_pointer (&list, g_ptr_array_unref);
  list = records_recording_list_for_session (f->store, r->session_id, &error);
  g_assert_cmpuint (list->len, ==, 2);
  g_clear_pointer (&list, g_ptr_array_unref);
  list = records_recording_list_for_session (f->store, "no-such-session", &error);
  g_assert_cmpuint (list->len, ==, 0);
  g_clear_pointer (&list, g_ptr_array_unref);

  /* A crash leaves the composed row "recording": marked interrupted, the
   * complete one untouched. */
  list = records_recording_mark_interrupted_all (f->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 1);
  got = g_ptr_array_steal_index (list, 0);
  g_assert_cmpstr (got->id, ==, composed->id);
  g_assert_cmpstr (got->status, ==, "interrupted");
  g_assert_nonnull (got->ended_at);
  g_assert_cmpint (got->compose_progress, ==, -1);
  g_clear_pointer (&got, records_recording_free);
  g_clear_pointer (&list, g_ptr_array_unref);
  got = records_recording_get (f->store, r->id, &error);
  g_assert_cmpstr (got->status, ==, "complete");
  g_clear_pointer (&got, records_recording_free);
  list = records_recording_mark_interrupted_all (f->store, &error);
  g_assert_cmpuint (list->len, ==, 0);
  g_clear_pointer (&list, g_ptr_array_unref);

  /* The compositions left undone: composed rows only, by status. */
  list = records_recording_list_compositions (f->store, "interrupted", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpstr (((RecordsRecording *) list->pdata[0])->id, ==, composed->id);
  g_clear_pointer (&list, g_ptr_array_unref);
  list = records_recording_list_compositions (f->store, "complete", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 0);
  g_clear_pointer (&list, g_ptr_array_unref);

  /* Refused input changes nothing. */
  g_free (r->file_name);
  r->file_name = g_strdup ("../etc/passwd");
  EXPECT_INVALID (records_recording_update (f->store, r, &error), "file_name");
  g_clear_error (&error);
  g_free (r->file_name);
  r->file_name = g_strdup ("a/b.mkv");
  EXPECT_INVALID (records_recording_create (f->store, r, &error), "file_name");
  g_clear_error (&error);
  g_free (r->file_name);
  r->file_name = g_strdup (".hidden");
  EXPECT_INVALID (records_recording_create (f->store, r, &error), "file_name");
  g_clear_error (&error);
  g_free (r->file_name);
  r->file_name = g_strdup ("ok.mkv");
  g_free (r->sha256);
  r->sha256 = g_strdup ("xyz");
  EXPECT_INVALID (records_recording_update (f->store, r, &error), "sha256");
  g_clear_error (&error);
  g_clear_pointer (&r->sha256, g_free);
  g_free (r->status);
  r->status = g_strdup ("lost");
  EXPECT_INVALID (records_recording_create (f->store, r, &error), "status");
  g_clear_error (&error);
  g_free (r->status);
  r->status = g_strdup ("complete");
  r->compose_progress = 101;
  EXPECT_INVALID (records_recording_update (f->store, r, &error), "compose_progress");
  g_clear_error (&error);
  r->compose_progress = -1;
  g_free (r->kind);
  r->kind = g_strdup ("audio");
  EXPECT_INVALID (records_recording_create (f->store, r, &error), "kind");
  g_clear_error (&error);
  g_free (r->kind);
  r->kind = g_strdup ("participant");
  g_clear_pointer (&r->participant_id, g_free);
  EXPECT_INVALID (records_recording_create (f->store, r, &error), "participant_id");
  g_clear_error (&error);
  g_free (r->consultation_id);
  r->consultation_id = g_strdup ("00000000-0000-4000-8000-000000000000");
  r->participant_id = g_strdup ("p1");
  EXPECT_INVALID (records_recording_create (f->store, r, &error), "consultation_id");
  g_clear_error (&error);
  got = records_recording_get (f->store, r->id, &error);
  g_assert_cmpstr (got->file_name, ==, "s1-p1.mkv.cauv");
  g_clear_pointer (&got, records_recording_free);

  g_assert_true (records_recording_delete (f->store, composed->id, &error));
  g_assert_false (records_recording_delete (f->store, composed->id, &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (records_recording_get (f->store, composed->id, &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND);
  g_clear_error (&error);

  world_clear (&w);
}

/* ---- audit ------------------------------------------------------------- */

static void
append_event (Fixture *f, const char *actor_id, const char *action, const char *patient_id,
              const char *detail)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RecordsAuditEvent) event = g_new0 (RecordsAuditEvent, 1);

  event->actor_id = g_strdup (actor_id);
  event->actor_role = g_strdup ("clinician");
  event->action = g_strdup (action);
  event->entity_type = g_strdup ("Patient");
  event->entity_id = g_strdup (patient_id);
  event->patient_id = g_strdup (patient_id);
  event->outcome = g_strdup ("success");
  event->source = g_strdup ("192.0.2.7");
  event->detail = g_strdup (detail);
  g_assert_true (records_audit_append (f->store, event, &error));
  g_assert_no_error (error);
}

/* Five events: seq 1..5. */
static void
append_five (Fixture *f)
{
  append_event (f, "u1", "login", NULL, NULL);
  append_event (f, "u1", "read", "p1", "GET /api/patients/p1");
  append_event (f, "u2", "read", "p2", HOSTILE);
  append_event (f, "u1", "update", "p1", "notes");
  append_event (f, "u2", "logout", NULL, NULL);
}

static void
expect_tampered (Fixture *f, gint64 bad_seq)
{
  g_autoptr (GError) error = NULL;
  gint64 count = -1, seq = -1;
  g_autofree char *needle = g_strdup_printf ("seq %" G_GINT64_FORMAT, bad_seq);

  g_assert_false (records_audit_verify (f->store, &count, &seq, &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_TAMPERED);
  g_assert_cmpint (seq, ==, bad_seq);
  g_assert_nonnull (strstr (error->message, needle));
}

static void
test_audit_chain (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (RecordsAuditEvent) event = g_new0 (RecordsAuditEvent, 1);
  gint64 count = -1, bad = -1;
  RecordsAuditEvent *e;

  g_assert_true (records_audit_verify (f->store, &count, &bad, &error));
  g_assert_no_error (error);
  g_assert_cmpint (count, ==, 0);

  append_five (f);
  g_assert_true (records_audit_verify (f->store, &count, &bad, &error));
  g_assert_no_error (error);
  g_assert_cmpint (count, ==, 5);
  g_assert_cmpint (bad, ==, 0);

  list = records_audit_list (f->store, 0, NULL, NULL, NULL, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 5);
  for (guint i = 0; i < list->len; i++) {
    e = list->pdata[i];
    g_assert_cmpint (e->seq, ==, i + 1);
    g_assert_cmpuint (strlen (e->hash), ==, 64);
    if (i == 0)
      g_assert_cmpstr (e->prev_hash, ==,
                       "0000000000000000000000000000000000000000000000000000000000000000");
    else
      g_assert_cmpstr (e->prev_hash, ==, ((RecordsAuditEvent *) list->pdata[i - 1])->hash);
  }
  e = list->pdata[2];
  g_assert_cmpstr (e->detail, ==, HOSTILE);
  g_assert_cmpstr (e->actor_id, ==, "u2");
  g_assert_cmpstr (e->source, ==, "192.0.2.7");
  g_assert_cmpstr (e->entity_type, ==, "Patient");
  g_assert_cmpstr (e->outcome, ==, "success");
  g_assert_nonnull (e->at);
  g_clear_pointer (&list, g_ptr_array_unref);

  list = records_audit_list (f->store, 0, "u1", NULL, NULL, 0, &error);
  g_assert_cmpuint (list->len, ==, 3);
  g_clear_pointer (&list, g_ptr_array_unref);
  list = records_audit_list (f->store, 0, NULL, "p1", NULL, 0, &error);
  g_assert_cmpuint (list->len, ==, 2);
  g_clear_pointer (&list, g_ptr_array_unref);
  list = records_audit_list (f->store, 0, "u1", "p1", "update", 0, &error);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpint (((RecordsAuditEvent *) list->pdata[0])->seq, ==, 4);
  g_clear_pointer (&list, g_ptr_array_unref);
  list = records_audit_list (f->store, 3, NULL, NULL, NULL, 1, &error);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpint (((RecordsAuditEvent *) list->pdata[0])->seq, ==, 4);
  g_clear_pointer (&list, g_ptr_array_unref);

  /* Bad events are refused and leave the chain as it was. */
  event->actor_id = g_strdup ("u1");
  event->actor_role = g_strdup ("clinician");
  event->action = g_strdup ("read");
  event->entity_type = g_strdup ("Patient");
  event->outcome = g_strdup ("maybe");
  EXPECT_INVALID (records_audit_append (f->store, event, &error), "outcome");
  g_clear_error (&error);
  g_free (event->outcome);
  event->outcome = g_strdup ("denied");
  g_free (event->action);
  event->action = g_strdup ("DROP TABLE");
  EXPECT_INVALID (records_audit_append (f->store, event, &error), "action");
  g_clear_error (&error);
  g_assert_true (records_audit_verify (f->store, &count, NULL, &error));
  g_assert_cmpint (count, ==, 5);
}

static void
test_audit_edit (Fixture *f, gconstpointer data)
{
  append_five (f);
  raw_sql (f, "UPDATE audit_events SET detail = 'nothing to see' WHERE seq = 3");
  expect_tampered (f, 3);
}

static void
test_audit_delete_middle (Fixture *f, gconstpointer data)
{
  append_five (f);
  raw_sql (f, "DELETE FROM audit_events WHERE seq = 2");
  expect_tampered (f, 2);
}

static void
test_audit_delete_last (Fixture *f, gconstpointer data)
{
  append_five (f);
  raw_sql (f, "DELETE FROM audit_events WHERE seq = 5");
  expect_tampered (f, 5);
}

static void
test_audit_rechain (Fixture *f, gconstpointer data)
{
  /* Renumbering after a delete does not help: row 3 no longer links. */
  append_five (f);
  raw_sql (f, "DELETE FROM audit_events WHERE seq = 2");
  raw_sql (f, "UPDATE audit_events SET seq = seq - 1 WHERE seq > 2");
  raw_sql (f, "UPDATE audit_head SET seq = 4");
  expect_tampered (f, 2);
}

/* ---- several writers (nodes) on one database ------------------------- */

#define WRITERS 4
#define APPENDS_PER_WRITER 25

static gpointer
writer_thread (gpointer data)
{
  const char *location = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (RecordsStore) store = records_store_open_uri (location, &error);

  g_assert_no_error (error);
  for (int i = 0; i < APPENDS_PER_WRITER; i++) {
    g_autoptr (RecordsAuditEvent) event = g_new0 (RecordsAuditEvent, 1);

    event->actor_id = g_strdup ("system");
    event->actor_role = g_strdup ("system");
    event->action = g_strdup ("read");
    event->entity_type = g_strdup ("Patient");
    event->outcome = g_strdup ("success");
    g_assert_true (records_audit_append (store, event, &error));
    g_assert_no_error (error);
  }
  return NULL;
}

/* Writers with their own connections append at once: one chain, no gaps,
 * no two events with one seq. */
static void
test_audit_concurrent (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  GThread *threads[WRITERS];
  gint64 count = 0;

  for (int i = 0; i < WRITERS; i++)
    threads[i] = g_thread_new ("writer", writer_thread, f->location);
  for (int i = 0; i < WRITERS; i++)
    g_thread_join (threads[i]);
  g_assert_true (records_audit_verify (f->store, &count, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (count, ==, WRITERS * APPENDS_PER_WRITER);
}

static gpointer
open_thread (gpointer data)
{
  g_autoptr (GError) error = NULL;
  RecordsStore *store = records_store_open_uri (data, &error);

  g_assert_no_error (error);
  return store;
}

/* Nodes starting together on a new database migrate it once. */
static void
test_concurrent_open (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *location = fresh_location (&dir);
  g_autoptr (GError) error = NULL;
  GThread *threads[WRITERS];
  RecordsStore *stores[WRITERS];
  g_autoptr (RecordsDbRows) rows = NULL;

  for (int i = 0; i < WRITERS; i++)
    threads[i] = g_thread_new ("open", open_thread, location);
  for (int i = 0; i < WRITERS; i++)
    stores[i] = g_thread_join (threads[i]);
  rows = records_db_query (records_store_get_db (stores[0]),
                           "SELECT COUNT(*), MAX(version) FROM schema_version", DB_NO_PARAMS,
                           &error);
  g_assert_no_error (error);
  g_assert_cmpstr (records_db_rows_get (rows, 0, 0), ==,
                   records_db_rows_get (rows, 0, 1));
  g_assert_cmpint (g_ascii_strtoll (records_db_rows_get (rows, 0, 1), NULL, 10), ==,
                   records_store_get_latest_schema_version ());
  for (int i = 0; i < WRITERS; i++)
    records_store_close (stores[i]);
  if (dir)
    remove_sqlite_dir (dir);
}

/* PostgreSQL only: a connection the server drops (restart, failover) is
 * reopened on the next call; the call that saw the loss fails cleanly. */
static void
test_reconnect (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RecordsStore) other = records_store_open_uri (f->location, &error);
  g_autoptr (RecordsDbRows) rows = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (RecordsFacility) facility = NULL;

  g_assert_no_error (error);
  rows = records_db_query (records_store_get_db (f->store), "SELECT pg_backend_pid()",
                           DB_NO_PARAMS, &error);
  g_assert_no_error (error);
  g_clear_pointer (&rows, records_db_rows_free);
  rows = records_db_query (records_store_get_db (other),
                           "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                           " WHERE datname = current_database() AND pid <> pg_backend_pid()",
                           DB_NO_PARAMS, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rows->n_rows, >=, 1);

  list = records_facility_list (f->store, &error);
  g_assert_null (list);
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_QUERY);
  g_clear_error (&error);
  facility = make_facility (f, "AFTER-1", "district-clinic");
  list = records_facility_list (f->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 1);
}

int
main (int argc, char **argv)
{
  const char *backend = g_getenv ("CAU_TEST_BACKEND");
  int status;

  g_test_init (&argc, &argv, NULL);
  use_postgresql = g_strcmp0 (backend, "postgresql") == 0;
  if (use_postgresql) {
    g_autoptr (GError) error = NULL;

    /* No PostgreSQL is a failure, not a skip. */
    pg_fixture = pg_fixture_start (&error);
    g_assert_no_error (error);
  }

  g_test_add_func ("/records/db/placeholders", test_placeholders);
  g_test_add_func ("/records/identifiers/cccd", test_cccd);
  g_test_add_func ("/records/identifiers/bhyt", test_bhyt);
  g_test_add_func ("/records/enumerations", test_enumerations);
  g_test_add_func ("/records/store/concurrent-open", test_concurrent_open);
#define ADD(path, func) \
  g_test_add ("/records/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("store", test_store);
  ADD ("facilities", test_facilities);
  ADD ("users", test_users);
  ADD ("patients", test_patients);
  ADD ("consultations", test_consultations);
  ADD ("consents", test_consents);
  ADD ("briefings", test_briefings);
  ADD ("invitations", test_invitations);
  ADD ("login-sessions", test_login_sessions);
  ADD ("recordings", test_recordings);
  ADD ("audit/chain", test_audit_chain);
  ADD ("audit/tamper-edit", test_audit_edit);
  ADD ("audit/tamper-delete-middle", test_audit_delete_middle);
  ADD ("audit/tamper-delete-last", test_audit_delete_last);
  ADD ("audit/tamper-renumber", test_audit_rechain);
  ADD ("audit/concurrent-writers", test_audit_concurrent);
  if (use_postgresql)
    ADD ("db/reconnect", test_reconnect);
#undef ADD

  status = g_test_run ();
  pg_fixture_stop (pg_fixture);
  return status;
}
