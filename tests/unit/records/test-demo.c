/* test-demo.c — records/demo.c: the demo world seeds only into an empty
 * store; every seeded CCCD and BHYT validates; accounts log in with the
 * password returned; two consultations today; one audit event per row. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "demo.h"
#include "password.h"
#include "records.h"

typedef struct {
  char *dir;
  RecordsStore *store;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("cau-test-demo-XXXXXX", &error);
  g_assert_no_error (error);
  f->store = records_store_open_uri (f->dir, &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_autofree char *db = g_build_filename (f->dir, "cau.db", NULL);
  g_autofree char *wal = g_strconcat (db, "-wal", NULL);
  g_autofree char *shm = g_strconcat (db, "-shm", NULL);

  records_store_close (f->store);
  g_unlink (wal);
  g_unlink (shm);
  g_unlink (db);
  g_rmdir (f->dir);
  g_free (f->dir);
}

static int
year_of (const char *birth_date)
{
  return (int) g_ascii_strtoll (birth_date, NULL, 10);
}

static void
test_seed_fixed_password (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) accounts = NULL;
  g_autoptr (GPtrArray) again = NULL;
  g_autoptr (GPtrArray) facilities = NULL;
  g_autoptr (GPtrArray) patients = NULL;
  g_autoptr (GPtrArray) consultations = NULL;
  g_autoptr (GHashTable) roles = g_hash_table_new (g_direct_hash, g_direct_equal);
  gint64 count = 0, count_after = 0;
  guint n_consultations = 0;
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *today = g_date_time_format (now, "%Y-%m-%d");

  g_setenv ("CAU_DEMO_PASSWORD", "test-only-demo-password", TRUE);
  g_assert_true (records_demo_seed (f->store, &accounts, &error));
  g_assert_no_error (error);
  g_unsetenv ("CAU_DEMO_PASSWORD");

  /* Facilities: a national hub, and per province a hub and two districts. */
  facilities = records_facility_list (f->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (facilities->len, ==, 10);
  {
    guint national = 0, provincial = 0, district = 0;

    for (guint i = 0; i < facilities->len; i++) {
      RecordsFacility *facility = facilities->pdata[i];

      g_assert_nonnull (strstr (facility->name, "Demo"));
      g_assert_true (g_strv_contains ((const char *const[]) { "001", "024", "038", "068", NULL },
                                      facility->province_code));
      national += g_str_equal (facility->kind, "national-hospital");
      provincial += g_str_equal (facility->kind, "provincial-hospital");
      district += g_str_equal (facility->kind, "district-clinic");
    }
    g_assert_cmpuint (national, ==, 1);
    g_assert_cmpuint (provincial, ==, 3);
    g_assert_cmpuint (district, ==, 6);
  }

  /* Accounts: stored with the returned role and facility; the password
   * verifies against the stored hash. */
  g_assert_cmpuint (accounts->len, >=, 2 * 6 + 3 + 2);
  for (guint i = 0; i < accounts->len; i++) {
    RecordsDemoAccount *account = accounts->pdata[i];
    g_autoptr (RecordsUser) user = records_user_get_by_username (f->store, account->username,
                                                                 &error);

    g_assert_no_error (error);
    g_assert_cmpstr (account->password, ==, "test-only-demo-password");
    g_assert_cmpint (user->role, ==, account->role);
    g_hash_table_add (roles, GINT_TO_POINTER (account->role));
    if (account->facility_code) {
      g_autoptr (RecordsFacility) facility =
        records_facility_get_by_code (f->store, account->facility_code, &error);

      g_assert_no_error (error);
      g_assert_cmpstr (user->facility_id, ==, facility->id);
    } else {
      g_assert_null (user->facility_id);
      g_assert_true (account->role == RECORDS_ROLE_ADMINISTRATOR
                     || account->role == RECORDS_ROLE_AUDITOR);
    }
    /* Argon2id is slow: check the hash of the first account only. */
    if (i == 0) {
      g_assert_true (records_password_verify (account->password, user->password_hash));
      g_assert_false (records_password_verify ("wrong-password", user->password_hash));
    }
  }
  g_assert_cmpuint (g_hash_table_size (roles), ==, 5);

  /* Patients: synthetic names; CCCD (with its birth year) and BHYT valid. */
  patients = records_patient_search (f->store, NULL, NULL, 100, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (patients->len, >=, 8);
  g_assert_cmpuint (patients->len, <=, 12);
  for (guint i = 0; i < patients->len; i++) {
    RecordsPatient *patient = patients->pdata[i];
    g_autofree char *province = NULL;

    g_assert_true (g_str_has_prefix (patient->name, "Bệnh nhân Demo "));
    g_assert_true (records_cccd_validate (patient->cccd, year_of (patient->birth_date), &error));
    g_assert_no_error (error);
    g_assert_nonnull (patient->bhyt);
    g_assert_true (records_bhyt_validate (patient->bhyt, &error));
    g_assert_no_error (error);
    province = g_strndup (patient->cccd, 3);
    g_assert_true (g_strv_contains ((const char *const[]) { "001", "024", "038", "068", NULL },
                                    province));

    consultations = records_consultation_list_for_patient (f->store, patient->id, &error);
    g_assert_no_error (error);
    for (guint c = 0; c < consultations->len; c++) {
      RecordsConsultation *consultation = consultations->pdata[c];

      g_assert_true (g_str_has_prefix (consultation->scheduled_at, today));
      g_assert_cmpstr (consultation->status, ==, "planned");
      g_assert_cmpuint (g_strv_length (consultation->specialist_ids), ==, 1);
      n_consultations++;
    }
    g_clear_pointer (&consultations, g_ptr_array_unref);
  }
  g_assert_cmpuint (n_consultations, ==, 2);

  /* One audit event per row, and the chain verifies. */
  g_assert_true (records_audit_verify (f->store, &count, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (count, ==, facilities->len + accounts->len + patients->len + 2);

  /* A second seed refuses: the store is not empty; nothing is added. */
  g_assert_false (records_demo_seed (f->store, &again, &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_CONFLICT);
  g_assert_null (again);
  g_clear_error (&error);
  g_assert_true (records_audit_verify (f->store, &count_after, NULL, &error));
  g_assert_cmpint (count_after, ==, count);
  g_clear_pointer (&facilities, g_ptr_array_unref);
  facilities = records_facility_list (f->store, &error);
  g_assert_cmpuint (facilities->len, ==, 10);
}

/* A store with one facility of its own is not empty either. */
static void
test_refuses_non_empty (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) accounts = NULL;
  g_autoptr (GPtrArray) facilities = NULL;
  RecordsFacility facility = {
    .code = (char *) "38-MINE", .name = (char *) "Mine", .kind = (char *) "district-clinic",
    .province_code = (char *) "038",
  };

  g_assert_true (records_facility_create (f->store, &facility, "test", &error));
  g_assert_no_error (error);
  g_assert_false (records_demo_seed (f->store, &accounts, &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_CONFLICT);
  g_clear_error (&error);
  facilities = records_facility_list (f->store, &error);
  g_assert_cmpuint (facilities->len, ==, 1);
  g_free (facility.id);
  g_free (facility.created_at);
}

/* Without CAU_DEMO_PASSWORD each account gets its own random password. */
static void
test_random_passwords (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) accounts = NULL;
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (RecordsUser) user = NULL;

  g_unsetenv ("CAU_DEMO_PASSWORD");
  g_assert_true (records_demo_seed (f->store, &accounts, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < accounts->len; i++) {
    RecordsDemoAccount *account = accounts->pdata[i];

    /* "xxxxx-xxxxx-xxxxx" over the 31-letter alphabet */
    g_assert_cmpuint (strlen (account->password), ==, 17);
    g_assert_true (account->password[5] == '-' && account->password[11] == '-');
    for (const char *p = account->password; *p; p++)
      g_assert_true (*p == '-' || strchr ("abcdefghjkmnpqrstuvwxyz23456789", *p));
    g_assert_false (g_hash_table_contains (seen, account->password));
    g_hash_table_add (seen, account->password);
  }
  user = records_user_get_by_username (f->store,
                                       ((RecordsDemoAccount *) accounts->pdata[0])->username,
                                       &error);
  g_assert_no_error (error);
  g_assert_true (records_password_verify (((RecordsDemoAccount *) accounts->pdata[0])->password,
                                          user->password_hash));
  g_assert_false (records_password_verify (((RecordsDemoAccount *) accounts->pdata[1])->password,
                                           user->password_hash));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/records/demo/seed", Fixture, NULL, fixture_set_up, test_seed_fixed_password,
              fixture_tear_down);
  g_test_add ("/records/demo/refuses-non-empty", Fixture, NULL, fixture_set_up,
              test_refuses_non_empty, fixture_tear_down);
  g_test_add ("/records/demo/random-passwords", Fixture, NULL, fixture_set_up,
              test_random_passwords, fixture_tear_down);
  return g_test_run ();
}
