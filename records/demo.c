/* demo.c — the fictional demo world (see demo.h). */
#include "demo.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "password.h"

#define DEMO_ACTOR "system"

typedef struct {
  const char *code;
  const char *name;
  const char *kind;
  const char *province_code;
} DemoFacility;

/* Names say "Demo": these are not the real hospitals of these places. */
static const DemoFacility demo_facilities[] = {
  { "01-TW-HANOI", "Bệnh viện Trung ương Demo Hà Nội", "national-hospital", "001" },
  { "38-BV-THANHHOA", "Bệnh viện tỉnh Demo Thanh Hóa", "provincial-hospital", "038" },
  { "38-DONGSON", "Trung tâm Y tế Demo Đông Sơn", "district-clinic", "038" },
  { "38-SAMSON", "Trung tâm Y tế Demo Sầm Sơn", "district-clinic", "038" },
  { "24-BV-BACGIANG", "Bệnh viện tỉnh Demo Bắc Giang", "provincial-hospital", "024" },
  { "24-VIETYEN", "Trung tâm Y tế Demo Việt Yên", "district-clinic", "024" },
  { "24-LUCNGAN", "Trung tâm Y tế Demo Lục Ngạn", "district-clinic", "024" },
  { "68-BV-LAMDONG", "Bệnh viện tỉnh Demo Lâm Đồng", "provincial-hospital", "068" },
  { "68-DALAT", "Trung tâm Y tế Demo Đà Lạt", "district-clinic", "068" },
  { "68-DAMRONG", "Trung tâm Y tế Demo Đam Rông", "district-clinic", "068" },
};

typedef struct {
  const char *username;
  const char *display_name;
  RecordsRole role;
  const char *facility_code;   /* NULL: not bound to a facility */
} DemoUser;

static const DemoUser demo_users[] = {
  { "admin", "Quản trị viên Demo", RECORDS_ROLE_ADMINISTRATOR, NULL },
  { "auditor", "Kiểm toán viên Demo", RECORDS_ROLE_AUDITOR, NULL },
  { "specialist.hanoi", "BS chuyên khoa Demo Tim mạch (Hà Nội)", RECORDS_ROLE_SPECIALIST,
    "01-TW-HANOI" },
  { "radiologist.hanoi", "BS chuyên khoa Demo Chẩn đoán hình ảnh (Hà Nội)",
    RECORDS_ROLE_SPECIALIST, "01-TW-HANOI" },
  { "specialist.thanhhoa", "BS chuyên khoa Demo Nội (Thanh Hóa)", RECORDS_ROLE_SPECIALIST,
    "38-BV-THANHHOA" },
  { "specialist.bacgiang", "BS chuyên khoa Demo Nhi (Bắc Giang)", RECORDS_ROLE_SPECIALIST,
    "24-BV-BACGIANG" },
  { "specialist.lamdong", "BS chuyên khoa Demo Sản (Lâm Đồng)", RECORDS_ROLE_SPECIALIST,
    "68-BV-LAMDONG" },
  { "clinician.dongson", "BS Demo Đông Sơn", RECORDS_ROLE_CLINICIAN, "38-DONGSON" },
  { "nurse.dongson", "ĐD Demo Đông Sơn", RECORDS_ROLE_NURSE, "38-DONGSON" },
  { "clinician.samson", "BS Demo Sầm Sơn", RECORDS_ROLE_CLINICIAN, "38-SAMSON" },
  { "nurse.samson", "ĐD Demo Sầm Sơn", RECORDS_ROLE_NURSE, "38-SAMSON" },
  { "clinician.vietyen", "BS Demo Việt Yên", RECORDS_ROLE_CLINICIAN, "24-VIETYEN" },
  { "nurse.vietyen", "ĐD Demo Việt Yên", RECORDS_ROLE_NURSE, "24-VIETYEN" },
  { "clinician.lucngan", "BS Demo Lục Ngạn", RECORDS_ROLE_CLINICIAN, "24-LUCNGAN" },
  { "nurse.lucngan", "ĐD Demo Lục Ngạn", RECORDS_ROLE_NURSE, "24-LUCNGAN" },
  { "clinician.dalat", "BS Demo Đà Lạt", RECORDS_ROLE_CLINICIAN, "68-DALAT" },
  { "nurse.dalat", "ĐD Demo Đà Lạt", RECORDS_ROLE_NURSE, "68-DALAT" },
  { "clinician.damrong", "BS Demo Đam Rông", RECORDS_ROLE_CLINICIAN, "68-DAMRONG" },
  { "nurse.damrong", "ĐD Demo Đam Rông", RECORDS_ROLE_NURSE, "68-DAMRONG" },
};

typedef struct {
  const char *cccd;            /* province, century/sex, year, serial      */
  const char *bhyt;            /* group, level, province, 10-digit number  */
  const char *name;
  const char *birth_date;
  const char *sex;
  const char *phone;
  const char *address;
  const char *facility_code;
} DemoPatient;

/* CCCD digit 4: 0/1 = born 1900–1999 male/female, 2/3 = 2000–2099.  The
 * serials 000101.. and phones 09000000xx are made up. */
static const DemoPatient demo_patients[] = {
  { "038058000101", "HT2383800000101", "Bệnh nhân Demo Lê Văn An", "1958-04-12", "male",
    "0900000101", "Thôn Demo 1, Đông Sơn, Thanh Hóa", "38-DONGSON" },
  { "038172000102", "GD4383800000102", "Bệnh nhân Demo Trịnh Thị Bình", "1972-09-03", "female",
    "0900000102", "Thôn Demo 2, Đông Sơn, Thanh Hóa", "38-DONGSON" },
  { "038066000103", "CN3383800000103", "Bệnh nhân Demo Hoàng Văn Cường", "1966-01-20", "male",
    "0900000103", "Khu phố Demo 3, Sầm Sơn, Thanh Hóa", "38-SAMSON" },
  { "038304000104", "HS4383800000104", "Bệnh nhân Demo Mai Thị Dung", "2004-06-15", "female",
    NULL, "Khu phố Demo 4, Sầm Sơn, Thanh Hóa", "38-SAMSON" },
  { "024080000201", "DN4242400000201", "Bệnh nhân Demo Nguyễn Văn Đức", "1980-11-30", "male",
    "0900000201", "Thôn Demo 5, Việt Yên, Bắc Giang", "24-VIETYEN" },
  { "024191000202", "GD4242400000202", "Bệnh nhân Demo Thân Thị Hà", "1991-02-14", "female",
    "0900000202", "Thôn Demo 6, Lục Ngạn, Bắc Giang", "24-LUCNGAN" },
  { "068049000301", "HT2686800000301", "Bệnh nhân Demo Phạm Văn Khánh", "1949-08-08", "male",
    "0900000301", "Phường Demo 7, Đà Lạt, Lâm Đồng", "68-DALAT" },
  { "068310000302", "HS4686800000302", "Bệnh nhân Demo Đinh Thị Mai", "2010-05-05", "female",
    NULL, "Xã Demo 8, Đam Rông, Lâm Đồng", "68-DAMRONG" },
  { "068219000303", "TE1686800000303", "Bệnh nhân Demo Lý Văn Nam", "2019-12-01", "male",
    NULL, "Xã Demo 9, Đam Rông, Lâm Đồng", "68-DAMRONG" },
  { "001175000401", "GD4010100000401", "Bệnh nhân Demo Vũ Thị Oanh", "1975-03-25", "female",
    "0900000401", "Phường Demo 10, Hà Nội", "01-TW-HANOI" },
};

typedef struct {
  const char *patient_cccd;
  const char *requester;       /* username */
  const char *specialist;      /* username */
  const char *time_utc;        /* HH:MM:SS on today's UTC date */
  const char *reason;
} DemoConsultation;

static const DemoConsultation demo_consultations[] = {
  { "038058000101", "clinician.dongson", "specialist.thanhhoa", "02:00:00",
    "Demo: đau ngực khi gắng sức, xin ý kiến chuyên khoa" },
  { "068219000303", "clinician.damrong", "specialist.lamdong", "07:00:00",
    "Demo: trẻ sốt kéo dài ba ngày, hội chẩn từ xa" },
};

void
records_demo_account_free (RecordsDemoAccount *account)
{
  if (account == NULL)
    return;
  g_free (account->username);
  if (account->password) {
    explicit_bzero (account->password, strlen (account->password));
    g_free (account->password);
  }
  g_free (account->facility_code);
  g_free (account->display_name);
  g_free (account);
}

static gboolean
fill_random (guint8 *buf, size_t size, GError **error)
{
  size_t got = 0;

  while (got < size) {
    ssize_t n = getrandom (buf + got, size - got, 0);

    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int saved = errno;

      g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_QUERY, "getrandom: %s",
                   g_strerror (saved));
      return FALSE;
    }
    got += (size_t) n;
  }
  return TRUE;
}

/* 15 letters from a 31-letter alphabet without look-alikes (no 0/o, 1/l/i),
 * grouped by five: "k7mq2-xh9ta-3vwpe", about 74 bits.  getrandom(2) is the
 * kernel's CSPRNG. */
static char *
random_password (GError **error)
{
  static const char alphabet[] = "abcdefghjkmnpqrstuvwxyz23456789";
  guint8 bytes[32];
  char out[20];
  size_t n = 0;

  G_STATIC_ASSERT (sizeof alphabet - 1 == 31);
  while (n < 17) {
    if (!fill_random (bytes, sizeof bytes, error))
      return NULL;
    /* Bytes from 248 up are dropped so that each letter is equally likely. */
    for (size_t i = 0; i < sizeof bytes && n < 17; i++) {
      if (bytes[i] >= 248)
        continue;
      if (n == 5 || n == 11)
        out[n++] = '-';
      out[n++] = alphabet[bytes[i] % 31];
    }
  }
  out[n] = '\0';
  explicit_bzero (bytes, sizeof bytes);
  {
    char *password = g_strdup (out);

    explicit_bzero (out, sizeof out);
    return password;
  }
}

static gboolean
store_is_empty (RecordsStore *store, GError **error)
{
  g_autoptr (GPtrArray) facilities = NULL;
  g_autoptr (GPtrArray) users = NULL;
  g_autoptr (GPtrArray) patients = NULL;

  facilities = records_facility_list (store, error);
  if (facilities == NULL)
    return FALSE;
  users = records_user_list (store, NULL, error);
  if (users == NULL)
    return FALSE;
  patients = records_patient_search (store, NULL, NULL, 1, error);
  if (patients == NULL)
    return FALSE;
  if (facilities->len > 0 || users->len > 0 || patients->len > 0) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_CONFLICT,
                 "the store is not empty (%u facilities, %u users, %s patients): "
                 "the demo world is only seeded into an empty one",
                 facilities->len, users->len, patients->len > 0 ? "some" : "no");
    return FALSE;
  }
  return TRUE;
}

/* One audit event per row written (docs/api.md "Audit"). */
static gboolean
audit_create (RecordsStore *store, const char *entity_type, const char *entity_id,
              const char *patient_id, GError **error)
{
  RecordsAuditEvent event = {
    .actor_id = (char *) DEMO_ACTOR,
    .actor_role = (char *) "system",
    .action = (char *) "create",
    .entity_type = (char *) entity_type,
    .entity_id = (char *) entity_id,
    .patient_id = (char *) patient_id,
    .outcome = (char *) "success",
    .source = (char *) "demo",
    .detail = (char *) "demo world",
  };
  gboolean ok = records_audit_append (store, &event, error);

  g_free (event.at);
  g_free (event.prev_hash);
  g_free (event.hash);
  return ok;
}

static const char *
lookup_id (GHashTable *ids, const char *key, GError **error)
{
  const char *id = g_hash_table_lookup (ids, key);

  if (id == NULL)
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND, "demo: no id for %s", key);
  return id;
}

static gboolean
seed_facilities (RecordsStore *store, GHashTable *facility_ids, GError **error)
{
  for (size_t i = 0; i < G_N_ELEMENTS (demo_facilities); i++) {
    const DemoFacility *d = &demo_facilities[i];
    RecordsFacility facility = {
      .code = (char *) d->code,
      .name = (char *) d->name,
      .kind = (char *) d->kind,
      .province_code = (char *) d->province_code,
    };

    if (!records_facility_create (store, &facility, DEMO_ACTOR, error))
      return FALSE;
    g_hash_table_insert (facility_ids, g_strdup (d->code), facility.id);
    g_free (facility.created_at);
    if (!audit_create (store, "Organization", facility.id, NULL, error))
      return FALSE;
  }
  return TRUE;
}

static gboolean
seed_users (RecordsStore *store, GHashTable *facility_ids, GHashTable *user_ids,
            GPtrArray *accounts, GError **error)
{
  const char *fixed = g_getenv ("CAU_DEMO_PASSWORD");
  g_autofree char *fixed_hash = NULL;

  if (fixed && fixed[0] == '\0')
    fixed = NULL;

  for (size_t i = 0; i < G_N_ELEMENTS (demo_users); i++) {
    const DemoUser *d = &demo_users[i];
    g_autoptr (RecordsDemoAccount) account = g_new0 (RecordsDemoAccount, 1);
    g_autofree char *hash = NULL;
    RecordsUser user = { 0 };

    account->password = fixed ? g_strdup (fixed) : random_password (error);
    if (account->password == NULL)
      return FALSE;
    /* With the test-only fixed password one hash serves every account:
     * Argon2id is slow by design and a test needs no per-user salt. */
    if (fixed && fixed_hash == NULL)
      fixed_hash = records_password_hash (fixed, error);
    hash = fixed ? g_strdup (fixed_hash) : records_password_hash (account->password, error);
    if (hash == NULL)
      return FALSE;

    user.username = (char *) d->username;
    user.display_name = (char *) d->display_name;
    user.role = d->role;
    user.password_hash = hash;
    if (d->facility_code) {
      user.facility_id = (char *) lookup_id (facility_ids, d->facility_code, error);
      if (user.facility_id == NULL)
        return FALSE;
    }
    if (!records_user_create (store, &user, DEMO_ACTOR, error))
      return FALSE;
    g_hash_table_insert (user_ids, g_strdup (d->username), user.id);
    g_free (user.created_at);
    if (!audit_create (store, "User", user.id, NULL, error))
      return FALSE;

    account->username = g_strdup (d->username);
    account->role = d->role;
    account->facility_code = g_strdup (d->facility_code);
    account->display_name = g_strdup (d->display_name);
    if (accounts)
      g_ptr_array_add (accounts, g_steal_pointer (&account));
  }
  return TRUE;
}

static gboolean
seed_patients (RecordsStore *store, GHashTable *facility_ids, GHashTable *patient_ids,
               GError **error)
{
  for (size_t i = 0; i < G_N_ELEMENTS (demo_patients); i++) {
    const DemoPatient *d = &demo_patients[i];
    RecordsPatient patient = {
      .cccd = (char *) d->cccd,
      .bhyt = (char *) d->bhyt,
      .name = (char *) d->name,
      .birth_date = (char *) d->birth_date,
      .sex = (char *) d->sex,
      .phone = (char *) d->phone,
      .address = (char *) d->address,
    };

    patient.facility_id = (char *) lookup_id (facility_ids, d->facility_code, error);
    if (patient.facility_id == NULL)
      return FALSE;
    if (!records_patient_create (store, &patient, DEMO_ACTOR, error))
      return FALSE;
    g_hash_table_insert (patient_ids, g_strdup (d->cccd), patient.id);
    g_free (patient.created_at);
    if (!audit_create (store, "Patient", patient.id, patient.id, error))
      return FALSE;
  }
  return TRUE;
}

static gboolean
seed_consultations (RecordsStore *store, GHashTable *facility_ids, GHashTable *user_ids,
                    GHashTable *patient_ids, GError **error)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *today = g_date_time_format (now, "%Y-%m-%d");

  for (size_t i = 0; i < G_N_ELEMENTS (demo_consultations); i++) {
    const DemoConsultation *d = &demo_consultations[i];
    g_autoptr (RecordsConsultation) consultation = g_new0 (RecordsConsultation, 1);
    const char *specialist_id;
    const DemoUser *requester = NULL;

    for (size_t u = 0; u < G_N_ELEMENTS (demo_users); u++)
      if (g_str_equal (demo_users[u].username, d->requester))
        requester = &demo_users[u];
    g_assert (requester != NULL && requester->facility_code != NULL);

    if ((consultation->patient_id = g_strdup (lookup_id (patient_ids, d->patient_cccd,
                                                         error))) == NULL ||
        (consultation->requester_id = g_strdup (lookup_id (user_ids, d->requester,
                                                           error))) == NULL ||
        (consultation->requesting_facility_id =
           g_strdup (lookup_id (facility_ids, requester->facility_code, error))) == NULL ||
        (specialist_id = lookup_id (user_ids, d->specialist, error)) == NULL)
      return FALSE;
    consultation->specialist_ids = g_new0 (char *, 2);
    consultation->specialist_ids[0] = g_strdup (specialist_id);
    consultation->scheduled_at = g_strdup_printf ("%sT%s.000Z", today, d->time_utc);
    consultation->status = g_strdup ("planned");
    consultation->reason = g_strdup (d->reason);
    if (!records_consultation_create (store, consultation, DEMO_ACTOR, error) ||
        !audit_create (store, "Encounter", consultation->id, consultation->patient_id, error))
      return FALSE;
  }
  return TRUE;
}

gboolean
records_demo_seed (RecordsStore *store, GPtrArray **out_accounts, GError **error)
{
  g_autoptr (GHashTable) facility_ids = NULL;
  g_autoptr (GHashTable) user_ids = NULL;
  g_autoptr (GHashTable) patient_ids = NULL;
  g_autoptr (GPtrArray) accounts = NULL;

  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!store_is_empty (store, error))
    return FALSE;

  facility_ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  user_ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  patient_ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  accounts = g_ptr_array_new_with_free_func ((GDestroyNotify) records_demo_account_free);

  if (!seed_facilities (store, facility_ids, error) ||
      !seed_users (store, facility_ids, user_ids, accounts, error) ||
      !seed_patients (store, facility_ids, patient_ids, error) ||
      !seed_consultations (store, facility_ids, user_ids, patient_ids, error)) {
    g_prefix_error (error, "demo world: ");
    return FALSE;
  }

  if (out_accounts)
    *out_accounts = g_steal_pointer (&accounts);
  return TRUE;
}
