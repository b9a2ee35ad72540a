/* Tests signaling/fhir.c end to end: a real SoupServer over HTTPS on
 * 127.0.0.1 with the REST API's authentication (signaling/api.c) and the
 * /fhir handlers, a real records store, driven by SoupSession.  The same
 * suite runs against SQLite and against a throwaway PostgreSQL server
 * (CAU_TEST_BACKEND=sqlite | postgresql; tests/support/pg-fixture).
 *
 * The world: a district clinic (a clinician, a nurse) whose patient P1 has
 * two consultations C1 (with specialist S1 of the provincial hospital) and
 * C2, a second patient P2 of the same clinic, another clinic (clinician
 * O) with patient P3 and consultation C3, a second specialist S2 on
 * nothing, an administrator, an auditor, and P1's patient token for C1. */
#include <glib/gstdio.h>
#include <jansson.h>
#include <libsoup/soup.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "fhir.h"
#include "pg-fixture.h"
#include "records.h"
#include "tls-certificate.h"

#define PASSWORD "mật khẩu đủ dài 1"
/* Only a guard against a hang, never a measure: a test's first request
 * (TLS set-up) took 13 s under ASan on a machine at load 30. */
#define TIMEOUT_SECONDS 120

static PgFixture *pg_fixture;
static guint database_counter;

typedef struct {
  char *dir;
  RecordsStore *store;
  SignalingApi *api;
  SoupServer *server;
  SoupSession *session;
  guint port;

  char *clinic, *hospital, *other_clinic;              /* facility ids     */
  char *clinician, *nurse, *specialist, *specialist2;  /* user ids         */
  char *other_clinician, *administrator, *auditor;
  char *p1, *p2, *p3;                                  /* patient ids      */
  char *c1, *c2, *c3;                                  /* consultation ids */
  char *k1;                                            /* consent id       */
  char *t_clinician, *t_nurse, *t_specialist, *t_specialist2;   /* tokens  */
  char *t_other_clinician, *t_administrator, *t_auditor, *t_patient;
} Fixture;

typedef struct {
  guint status;
  char *content_type;
  char *location;
  json_t *json;
} Response;

static void
response_free (Response *r)
{
  if (r == NULL)
    return;
  g_free (r->content_type);
  g_free (r->location);
  json_decref (r->json);
  g_free (r);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Response, response_free)

/* ---- JSON paths ------------------------------------------------------- */

static json_t *
at (json_t *root, const char *path)
{
  g_auto (GStrv) parts = g_strsplit (path, ".", -1);
  json_t *node = root;

  for (guint i = 0; node && parts[i]; i++) {
    char *bracket = strchr (parts[i], '[');
    if (bracket) {
      *bracket = '\0';
      node = json_array_get (json_object_get (node, parts[i]), strtoul (bracket + 1, NULL, 10));
    } else {
      node = json_object_get (node, parts[i]);
    }
  }
  return node;
}

static const char *
str_at (json_t *root, const char *path)
{
  return json_string_value (at (root, path));
}

/* ---- the world ------------------------------------------------------- */

static char *
make_facility (Fixture *f, const char *code, const char *kind, const char *province)
{
  g_autoptr (RecordsFacility) facility = g_new0 (RecordsFacility, 1);
  g_autoptr (GError) error = NULL;

  facility->code = g_strdup (code);
  facility->name = g_strdup_printf ("Cơ sở %s", code);
  facility->kind = g_strdup (kind);
  facility->province_code = g_strdup (province);
  g_assert_true (records_facility_create (f->store, facility, NULL, &error));
  g_assert_no_error (error);
  return g_strdup (facility->id);
}

static char *
make_user (Fixture *f, const char *username, RecordsRole role, const char *facility_id)
{
  g_autoptr (RecordsUser) user = g_new0 (RecordsUser, 1);
  g_autoptr (GError) error = NULL;

  user->username = g_strdup (username);
  user->display_name = g_strdup_printf ("Demo %s", username);
  user->role = role;
  user->facility_id = g_strdup (facility_id);
  user->password_hash = signaling_auth_hash_password (signaling_api_get_auth (f->api), PASSWORD,
                                                      &error);
  g_assert_no_error (error);
  g_assert_true (records_user_create (f->store, user, NULL, &error));
  g_assert_no_error (error);
  return g_strdup (user->id);
}

static char *
make_patient (Fixture *f, const char *cccd, const char *bhyt, const char *name,
              const char *birth_date, const char *sex, const char *facility_id)
{
  g_autoptr (RecordsPatient) patient = g_new0 (RecordsPatient, 1);
  g_autoptr (GError) error = NULL;

  patient->cccd = g_strdup (cccd);
  patient->bhyt = g_strdup (bhyt);
  patient->name = g_strdup (name);
  patient->birth_date = g_strdup (birth_date);
  patient->sex = g_strdup (sex);
  patient->phone = g_strdup ("0912345678");
  patient->facility_id = g_strdup (facility_id);
  g_assert_true (records_patient_create (f->store, patient, NULL, &error));
  g_assert_no_error (error);
  return g_strdup (patient->id);
}

static char *
make_consultation (Fixture *f, const char *patient_id, const char *requester_id,
                   const char *facility_id, const char *specialist_id)
{
  g_autoptr (RecordsConsultation) c = g_new0 (RecordsConsultation, 1);
  g_autoptr (GError) error = NULL;
  const char *specialists[] = { specialist_id, NULL };

  c->patient_id = g_strdup (patient_id);
  c->requester_id = g_strdup (requester_id);
  c->requesting_facility_id = g_strdup (facility_id);
  c->specialist_ids = g_strdupv ((GStrv) specialists);
  c->scheduled_at = g_strdup ("2026-11-22T08:30:00.000Z");
  c->reason = g_strdup ("hội chẩn");
  g_assert_true (records_consultation_create (f->store, c, requester_id, &error));
  g_assert_no_error (error);
  return g_strdup (c->id);
}

static char *
login (Fixture *f, const char *username)
{
  g_auto (SignalingAuthResult) result = { 0 };
  g_autoptr (GError) error = NULL;

  g_assert_true (signaling_auth_login (signaling_api_get_auth (f->api), username, PASSWORD,
                                       &result, &error));
  g_assert_no_error (error);
  return g_strdup (result.token);
}

static char *
patient_token (Fixture *f, const char *consultation_id)
{
  g_auto (SignalingAuthResult) result = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *secret = records_invitation_create (f->store, consultation_id, 3600,
                                                       f->clinician, NULL, &error);

  g_assert_no_error (error);
  g_assert_true (signaling_auth_redeem_invitation (signaling_api_get_auth (f->api), secret,
                                                   &result, &error));
  g_assert_no_error (error);
  return g_strdup (result.token);
}

static void
make_world (Fixture *f)
{
  g_autoptr (RecordsConsent) consent = g_new0 (RecordsConsent, 1);
  g_autoptr (GError) error = NULL;

  f->clinic = make_facility (f, "38-DONGSON", "district-clinic", "038");
  f->hospital = make_facility (f, "38-BVTINH", "provincial-hospital", "038");
  f->other_clinic = make_facility (f, "24-VIETYEN", "district-clinic", "024");
  f->clinician = make_user (f, "bs.an", RECORDS_ROLE_CLINICIAN, f->clinic);
  f->nurse = make_user (f, "dd.binh", RECORDS_ROLE_NURSE, f->clinic);
  f->specialist = make_user (f, "bs.cuong", RECORDS_ROLE_SPECIALIST, f->hospital);
  f->specialist2 = make_user (f, "bs.dung", RECORDS_ROLE_SPECIALIST, f->hospital);
  f->other_clinician = make_user (f, "bs.giang", RECORDS_ROLE_CLINICIAN, f->other_clinic);
  f->administrator = make_user (f, "quantri", RECORDS_ROLE_ADMINISTRATOR, NULL);
  f->auditor = make_user (f, "kiemtoan", RECORDS_ROLE_AUDITOR, NULL);
  f->p1 = make_patient (f, "038190000123", "DN4380123456789", "Lê Thị Demo", "1990-03-04",
                        "female", f->clinic);
  f->p2 = make_patient (f, "038085001234", NULL, "Trần Văn Thử", "1985-07-01", "male", f->clinic);
  f->p3 = make_patient (f, "024201000777", NULL, "Phạm Văn Mẫu", "2001-01-15", "male",
                        f->other_clinic);
  f->c1 = make_consultation (f, f->p1, f->clinician, f->clinic, f->specialist);
  f->c2 = make_consultation (f, f->p1, f->clinician, f->clinic, NULL);
  f->c3 = make_consultation (f, f->p3, f->other_clinician, f->other_clinic, NULL);
  consent->patient_id = g_strdup (f->p1);
  consent->consultation_id = g_strdup (f->c1);
  consent->purpose = g_strdup ("recording");
  consent->granted = TRUE;
  consent->recorded_by = g_strdup (f->clinician);
  consent->method = g_strdup ("verbal");
  g_assert_true (records_consent_create (f->store, consent, &error));
  g_assert_no_error (error);
  f->k1 = g_strdup (consent->id);

  f->t_clinician = login (f, "bs.an");
  f->t_nurse = login (f, "dd.binh");
  f->t_specialist = login (f, "bs.cuong");
  f->t_specialist2 = login (f, "bs.dung");
  f->t_other_clinician = login (f, "bs.giang");
  f->t_administrator = login (f, "quantri");
  f->t_auditor = login (f, "kiemtoan");
  f->t_patient = patient_token (f, f->c1);
}

/* ---- fixture ------------------------------------------------------------ */

static void
remove_tree (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir) {
    while ((name = g_dir_read_name (dir))) {
      g_autofree char *child = g_build_filename (path, name, NULL);
      remove_tree (child);
    }
    g_dir_close (dir);
    g_rmdir (path);
  } else {
    g_unlink (path);
  }
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *cert = NULL, *key = NULL, *location = NULL;
  g_autoptr (GTlsCertificate) certificate = NULL;
  g_autoptr (GInetAddress) loopback = g_inet_address_new_from_string ("127.0.0.1");
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  gboolean generated;
  GSList *listeners;

  f->dir = g_dir_make_tmp ("cau-fhir-XXXXXX", &error);
  g_assert_no_error (error);
  cert = g_build_filename (f->dir, "tls", "cert.pem", NULL);
  key = g_build_filename (f->dir, "tls", "key.pem", NULL);
  g_assert_true (server_certificate_ensure (cert, key, &generated, &error));
  g_assert_no_error (error);
  certificate = g_tls_certificate_new_from_files (cert, key, &error);
  g_assert_no_error (error);

  if (pg_fixture) {
    g_autofree char *name = g_strdup_printf ("fhir_%u", ++database_counter);
    location = pg_fixture_create_database (pg_fixture, name, &error);
    g_assert_no_error (error);
  } else {
    location = g_strdup (f->dir);
  }
  f->store = records_store_open_uri (location, &error);
  g_assert_no_error (error);
  f->api = signaling_api_new (f->store, f->dir, &error);
  g_assert_no_error (error);
  /* Argon2id at its cheapest: these tests are about FHIR, not the KDF. */
  signaling_auth_set_password_cost (signaling_api_get_auth (f->api), 1, 8);

  f->server = soup_server_new ("tls-certificate", certificate, NULL);
  signaling_api_attach (f->api, f->server);
  signaling_fhir_attach (f->api, f->store, f->server);
  g_assert_true (soup_server_listen (f->server, address, SOUP_SERVER_LISTEN_HTTPS, &error));
  g_assert_no_error (error);
  /* The bound port from the listening socket itself: soup_server_get_uris()
   * of libsoup 3.2 leaks the address it reads. */
  listeners = soup_server_get_listeners (f->server);
  g_assert_nonnull (listeners);
  bound = g_socket_get_local_address (listeners->data, &error);
  g_assert_no_error (error);
  f->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_slist_free (listeners);
  /* Trust the generated certificate as an anchor, so that connections verify
   * cleanly and are kept alive between requests (libsoup does not reuse a
   * connection whose certificate a handler merely accepted): a TLS
   * handshake per request made the ASan run slow. */
  {
    g_autoptr (GTlsDatabase) database = g_tls_file_database_new (cert, &error);

    g_assert_no_error (error);
    f->session = soup_session_new ();
    soup_session_set_tls_database (f->session, database);
  }
  make_world (f);
}

static gint64 audit_head (Fixture *f);

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 count = 0;

  /* Whatever a test did, the audit chain still verifies, every row. */
  g_assert_true (records_audit_verify (f->store, &count, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (count, ==, audit_head (f));

  soup_session_abort (f->session);
  g_clear_object (&f->session);
  soup_server_disconnect (f->server);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_clear_object (&f->server);
  signaling_api_free (f->api);
  records_store_close (f->store);
  remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->clinic); g_free (f->hospital); g_free (f->other_clinic);
  g_free (f->clinician); g_free (f->nurse); g_free (f->specialist); g_free (f->specialist2);
  g_free (f->other_clinician); g_free (f->administrator); g_free (f->auditor);
  g_free (f->p1); g_free (f->p2); g_free (f->p3);
  g_free (f->c1); g_free (f->c2); g_free (f->c3); g_free (f->k1);
  g_free (f->t_clinician); g_free (f->t_nurse); g_free (f->t_specialist);
  g_free (f->t_specialist2); g_free (f->t_other_clinician); g_free (f->t_administrator);
  g_free (f->t_auditor); g_free (f->t_patient);
}

/* ---- HTTP -------------------------------------------------------------- */

typedef struct {
  GBytes *body;
  GError *error;
  gboolean done;
} Pending;

static void
on_sent (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Pending *pending = user_data;

  pending->body = soup_session_send_and_read_finish (SOUP_SESSION (source), result,
                                                     &pending->error);
  pending->done = TRUE;
}

static gboolean
on_timeout (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Sends @method @path with @token (may be NULL) and @body (may be NULL)
 * and waits for the answer, running the server on this thread's loop. */
static Response *
request (Fixture *f, const char *method, const char *path, const char *token, const char *body,
         gsize body_length)
{
  g_autofree char *uri = g_strdup_printf ("https://127.0.0.1:%u%s", f->port, path);
  g_autoptr (SoupMessage) msg = soup_message_new (method, uri);
  Pending pending = { 0 };
  gboolean timed_out = FALSE;
  guint timeout;
  Response *response;
  gsize size;
  const char *data;

  g_assert_nonnull (msg);
  /* Without this libsoup opens a new connection for every POST. */
  soup_message_add_flags (msg, SOUP_MESSAGE_IDEMPOTENT);
  if (token) {
    g_autofree char *authorization = g_strdup_printf ("Bearer %s", token);
    soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                  authorization);
  }
  if (body) {
    g_autoptr (GBytes) bytes = g_bytes_new (body, body_length);
    soup_message_set_request_body_from_bytes (msg, "application/fhir+json", bytes);
  }
  soup_session_send_and_read_async (f->session, msg, G_PRIORITY_DEFAULT, NULL, on_sent, &pending);
  timeout = g_timeout_add_seconds (TIMEOUT_SECONDS, on_timeout, &timed_out);
  while (!pending.done && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (timed_out)
    g_test_message ("%s %s: no answer in %d s", method, path, TIMEOUT_SECONDS);
  g_assert_false (timed_out);
  g_source_remove (timeout);
  g_assert_no_error (pending.error);

  response = g_new0 (Response, 1);
  response->status = soup_message_get_status (msg);
  response->content_type = g_strdup (
    soup_message_headers_get_content_type (soup_message_get_response_headers (msg), NULL));
  response->location = g_strdup (
    soup_message_headers_get_one (soup_message_get_response_headers (msg), "Location"));
  data = g_bytes_get_data (pending.body, &size);
  if (size > 0)
    response->json = json_loadb (data, size, 0, NULL);
  g_bytes_unref (pending.body);
  return response;
}

static Response *
get (Fixture *f, const char *path, const char *token)
{
  return request (f, "GET", path, token, NULL, 0);
}

static Response *
post_json (Fixture *f, const char *path, const char *token, json_t *resource)
{
  g_autofree char *text = json_dumps (resource, JSON_COMPACT);

  return request (f, "POST", path, token, text, strlen (text));
}

/* The answer is FHIR JSON; @type its resourceType. */
static void
assert_fhir (Response *r, guint status, const char *type)
{
  if (r->status != status)
    g_test_message ("unexpected answer: %s", r->json ? json_dumps (r->json, 0) : "(none)");
  g_assert_cmpuint (r->status, ==, status);
  g_assert_cmpstr (r->content_type, ==, "application/fhir+json");
  g_assert_nonnull (r->json);
  g_assert_cmpstr (str_at (r->json, "resourceType"), ==, type);
}

/* An OperationOutcome with @status, code @code and (when not NULL) the
 * element @field in issue[0].expression[0]. */
static void
assert_outcome (Response *r, guint status, const char *code, const char *field)
{
  assert_fhir (r, status, "OperationOutcome");
  g_assert_cmpstr (str_at (r->json, "issue[0].severity"), ==, "error");
  g_assert_cmpstr (str_at (r->json, "issue[0].details.coding[0].system"), ==, "urn:cau:error");
  g_assert_cmpstr (str_at (r->json, "issue[0].details.coding[0].code"), ==, code);
  g_assert_nonnull (str_at (r->json, "issue[0].diagnostics"));
  if (field)
    g_assert_cmpstr (str_at (r->json, "issue[0].expression[0]"), ==, field);
}

static gint64
bundle_total (Response *r)
{
  assert_fhir (r, 200, "Bundle");
  g_assert_cmpstr (str_at (r->json, "type"), ==, "searchset");
  g_assert_cmpint (json_integer_value (at (r->json, "total")), ==,
                   (json_int_t) json_array_size (at (r->json, "entry")));
  return json_integer_value (at (r->json, "total"));
}

/* TRUE when the Bundle holds <type>/<id>. */
static gboolean
bundle_has (Response *r, const char *type, const char *id)
{
  json_t *entries = at (r->json, "entry");
  size_t i;
  json_t *entry;

  json_array_foreach (entries, i, entry) {
    if (g_strcmp0 (str_at (entry, "resource.resourceType"), type) == 0 &&
        g_strcmp0 (str_at (entry, "resource.id"), id) == 0)
      return TRUE;
  }
  return FALSE;
}

/* ---- audit ------------------------------------------------------------- */

static gint64
audit_head (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) events = NULL;
  gint64 after = 0;

  /* Walk to the end 500 at a time. */
  for (;;) {
    events = records_audit_list (f->store, after, NULL, NULL, NULL, 500, &error);
    g_assert_no_error (error);
    if (events->len == 0)
      return after;
    after = ((RecordsAuditEvent *) events->pdata[events->len - 1])->seq;
    g_clear_pointer (&events, g_ptr_array_unref);
  }
}

/* The events appended after @since (transfer full). */
static GPtrArray *
audit_since (Fixture *f, gint64 since)
{
  g_autoptr (GError) error = NULL;
  GPtrArray *events = records_audit_list (f->store, since, NULL, NULL, NULL, 500, &error);

  g_assert_no_error (error);
  return events;
}

/* Exactly one event was appended since @since, with these fields. */
static void
assert_one_audit (Fixture *f, gint64 since, const char *actor_id, const char *action,
                  const char *entity_type, const char *entity_id, const char *patient_id,
                  const char *outcome)
{
  g_autoptr (GPtrArray) events = audit_since (f, since);
  RecordsAuditEvent *event;

  g_assert_cmpuint (events->len, ==, 1);
  event = events->pdata[0];
  g_assert_cmpstr (event->actor_id, ==, actor_id);
  g_assert_cmpstr (event->action, ==, action);
  g_assert_cmpstr (event->entity_type, ==, entity_type);
  g_assert_cmpstr (event->entity_id, ==, entity_id);
  g_assert_cmpstr (event->patient_id, ==, patient_id);
  g_assert_cmpstr (event->outcome, ==, outcome);
  g_assert_cmpstr (event->source, ==, "127.0.0.1");
}

/* ---- the tests ---------------------------------------------------------- */

static void
test_metadata (Fixture *f, gconstpointer data)
{
  g_autoptr (Response) r = get (f, "/fhir/metadata", NULL);
  g_autoptr (Response) post = request (f, "POST", "/fhir/metadata", NULL, "{}", 2);

  assert_fhir (r, 200, "CapabilityStatement");
  g_assert_cmpstr (str_at (r->json, "fhirVersion"), ==, "4.0.1");
  g_assert_cmpstr (str_at (r->json, "rest[0].resource[3].type"), ==, "Encounter");
  g_assert_true (g_str_has_suffix (str_at (r->json, "implementation.url"), "/fhir"));
  assert_outcome (post, 405, "method-not-allowed", NULL);
}

static void
test_unauthenticated (Fixture *f, gconstpointer data)
{
  g_autofree char *path = g_strdup_printf ("/fhir/Patient/%s", f->p1);
  g_autofree char *tampered = g_strdup (f->t_clinician);
  gint64 since = audit_head (f);
  g_autoptr (Response) none = get (f, path, NULL);
  g_autoptr (Response) bad = NULL;
  g_autoptr (GPtrArray) events = NULL;
  g_autofree char *text = NULL;

  assert_outcome (none, 401, "unauthenticated", NULL);
  tampered[strlen (tampered) - 2] ^= 0x01;
  bad = get (f, path, tampered);
  assert_outcome (bad, 401, "token-invalid", NULL);
  /* Both refusals are in the audit log, and nothing of the patient leaked. */
  events = audit_since (f, since);
  g_assert_cmpuint (events->len, ==, 2);
  g_assert_cmpstr (((RecordsAuditEvent *) events->pdata[0])->outcome, ==, "denied");
  g_assert_cmpstr (((RecordsAuditEvent *) events->pdata[1])->outcome, ==, "denied");
  text = json_dumps (bad->json, 0);
  g_assert_null (strstr (text, "Demo"));
}

static void
test_patient_read (Fixture *f, gconstpointer data)
{
  g_autofree char *path = g_strdup_printf ("/fhir/Patient/%s", f->p1);
  struct {
    const char *token;
    const char *actor;
    guint status;
  } cases[] = {
    { f->t_clinician, f->clinician, 200 },         /* its facility        */
    { f->t_nurse, f->nurse, 200 },
    { f->t_specialist, f->specialist, 200 },       /* on C1's care team   */
    { f->t_patient, NULL, 200 },                   /* itself              */
    { f->t_specialist2, f->specialist2, 403 },     /* on nothing of P1's  */
    { f->t_other_clinician, f->other_clinician, 403 },
    { f->t_administrator, f->administrator, 403 },
    { f->t_auditor, f->auditor, 403 },             /* audit, never patients */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    gint64 since = audit_head (f);
    g_autoptr (Response) r = get (f, path, cases[i].token);
    g_autoptr (GPtrArray) events = NULL;
    RecordsAuditEvent *event;

    g_test_message ("case %u", i);
    events = audit_since (f, since);
    g_assert_cmpuint (events->len, ==, 1);
    event = events->pdata[0];
    if (cases[i].actor)
      g_assert_cmpstr (event->actor_id, ==, cases[i].actor);
    else
      g_assert_cmpstr (event->actor_role, ==, "patient");
    g_assert_cmpstr (event->action, ==, "read");
    g_assert_cmpstr (event->entity_type, ==, "Patient");
    g_assert_cmpstr (event->entity_id, ==, f->p1);
    g_assert_cmpstr (event->patient_id, ==, f->p1);
    if (cases[i].status == 200) {
      assert_fhir (r, 200, "Patient");
      g_assert_cmpstr (str_at (r->json, "id"), ==, f->p1);
      g_assert_cmpstr (str_at (r->json, "identifier[0].system"), ==, RECORDS_SYSTEM_CCCD);
      g_assert_cmpstr (str_at (r->json, "identifier[0].value"), ==, "038190000123");
      g_assert_cmpstr (str_at (r->json, "identifier[1].system"), ==, RECORDS_SYSTEM_BHYT);
      g_assert_cmpstr (str_at (r->json, "name[0].text"), ==, "Lê Thị Demo");
      g_assert_cmpstr (str_at (r->json, "gender"), ==, "female");
      g_assert_cmpstr (str_at (r->json, "birthDate"), ==, "1990-03-04");
      g_assert_cmpstr (event->outcome, ==, "success");
    } else {
      assert_outcome (r, 403, "forbidden", NULL);
      g_assert_null (str_at (r->json, "name"));
      g_assert_cmpstr (event->outcome, ==, "denied");
    }
  }

  /* The patient token opens no other patient. */
  {
    g_autofree char *other = g_strdup_printf ("/fhir/Patient/%s", f->p2);
    g_autoptr (Response) r = get (f, other, f->t_patient);
    assert_outcome (r, 403, "forbidden", NULL);
  }
  /* Unknown and malformed ids. */
  {
    g_autoptr (Response) r = get (f, "/fhir/Patient/00000000-0000-4000-8000-000000000000",
                                  f->t_clinician);
    g_autoptr (Response) bad = get (f, "/fhir/Patient/a%27%20OR%201=1", f->t_clinician);
    g_autoptr (Response) deep = get (f, "/fhir/Patient/x/_history/1", f->t_clinician);
    g_autoptr (Response) query = NULL;
    g_autofree char *with_query = g_strdup_printf ("%s?foo=1", path);

    assert_outcome (r, 404, "not-found", NULL);
    assert_outcome (bad, 404, "not-found", NULL);
    assert_outcome (deep, 404, "not-found", NULL);
    query = get (f, with_query, f->t_clinician);
    assert_outcome (query, 400, "invalid-field", "foo");
  }
}

static void
test_patient_search (Fixture *f, gconstpointer data)
{
  /* By CCCD and by BHYT. */
  {
    gint64 since = audit_head (f);
    g_autoptr (Response) r = get (f, "/fhir/Patient?identifier=urn:oid:2.16.704.1.1.1|038190000123",
                                  f->t_clinician);
    g_assert_cmpint (bundle_total (r), ==, 1);
    g_assert_cmpstr (str_at (r->json, "entry[0].resource.id"), ==, f->p1);
    g_assert_true (g_str_has_suffix (str_at (r->json, "entry[0].fullUrl"), f->p1));
    g_assert_cmpstr (str_at (r->json, "entry[0].search.mode"), ==, "match");
    assert_one_audit (f, since, f->clinician, "search", "Patient", NULL, f->p1, "success");
  }
  {
    g_autoptr (Response) r = get (f, "/fhir/Patient?identifier=urn:oid:2.16.704.1.1.2|DN4380123456789",
                                  f->t_nurse);
    g_assert_cmpint (bundle_total (r), ==, 1);
    g_assert_true (bundle_has (r, "Patient", f->p1));
  }
  /* The REST API's short system names work too. */
  {
    g_autoptr (Response) r = get (f, "/fhir/Patient?identifier=cccd|038190000123", f->t_clinician);
    g_autoptr (Response) bad = get (f, "/fhir/Patient?identifier=bhyt|DN9", f->t_clinician);
    g_assert_cmpint (bundle_total (r), ==, 1);
    assert_outcome (bad, 400, "invalid-bhyt", "identifier");
  }
  /* Valid but unknown, and another clinic's patient: nothing found. */
  {
    g_autoptr (Response) r = get (f, "/fhir/Patient?identifier=urn:oid:2.16.704.1.1.1|001190000001",
                                  f->t_clinician);
    g_autoptr (Response) other = get (
      f, "/fhir/Patient?identifier=urn:oid:2.16.704.1.1.1|038190000123", f->t_other_clinician);
    g_assert_cmpint (bundle_total (r), ==, 0);
    g_assert_cmpint (bundle_total (other), ==, 0);
  }
  /* Bad identifiers. */
  {
    g_autoptr (Response) cccd = get (f, "/fhir/Patient?identifier=urn:oid:2.16.704.1.1.1|12345",
                                     f->t_clinician);
    g_autoptr (Response) province = get (
      f, "/fhir/Patient?identifier=urn:oid:2.16.704.1.1.1|999190000123", f->t_clinician);
    g_autoptr (Response) bhyt = get (f, "/fhir/Patient?identifier=urn:oid:2.16.704.1.1.2|ZZ9",
                                     f->t_clinician);
    g_autoptr (Response) system = get (f, "/fhir/Patient?identifier=urn:other|038190000123",
                                       f->t_clinician);
    g_autoptr (Response) bare = get (f, "/fhir/Patient?identifier=038190000123", f->t_clinician);
    g_autoptr (Response) unknown = get (f, "/fhir/Patient?identifier:exact=x", f->t_clinician);
    g_autoptr (Response) count = get (f, "/fhir/Patient?_count=0", f->t_clinician);

    assert_outcome (cccd, 400, "invalid-cccd", "identifier");
    assert_outcome (province, 400, "invalid-cccd", "identifier");
    assert_outcome (bhyt, 400, "invalid-bhyt", "identifier");
    assert_outcome (system, 400, "invalid-field", "identifier");
    assert_outcome (bare, 400, "invalid-field", "identifier");
    assert_outcome (unknown, 400, "invalid-field", "identifier:exact");
    assert_outcome (count, 400, "invalid-field", "_count");
  }
  /* Bytes that are not UTF-8 in a parameter's name and value: a clean 400,
   * the answer still valid JSON. */
  {
    g_autoptr (Response) name = get (f, "/fhir/Patient?%FF%FE=1", f->t_clinician);
    g_autoptr (Response) value = get (f, "/fhir/Patient?identifier=urn:oid:2.16.704.1.1.2|%FF%FE%FD",
                                      f->t_clinician);
    g_autoptr (Response) long_name = NULL;
    GString *path = g_string_new ("/fhir/Patient?");

    assert_outcome (name, 400, "invalid-field", NULL);
    assert_outcome (value, 400, "invalid-bhyt", "identifier");
    for (int i = 0; i < 40; i++)
      g_string_append (path, "%E1%BB%8B");    /* "ị" × 40, cut at 64 bytes */
    g_string_append (path, "=1");
    long_name = get (f, path->str, f->t_clinician);
    assert_outcome (long_name, 400, "invalid-field", NULL);
    g_string_free (path, TRUE);
  }
  /* Lists: a clinician sees its facility's, a specialist those of its
   * consultations; names match case-insensitively. */
  {
    g_autoptr (Response) clinician = get (f, "/fhir/Patient", f->t_clinician);
    g_autoptr (Response) specialist = get (f, "/fhir/Patient", f->t_specialist);
    g_autoptr (Response) name = get (f, "/fhir/Patient?name=th%E1%BB%8B", f->t_clinician);  /* "thị" */
    g_autoptr (Response) limited = get (f, "/fhir/Patient?_count=1", f->t_clinician);
    g_autoptr (Response) injection = get (f, "/fhir/Patient?name=%27%3B%20DROP%20TABLE%20patients%3B--",
                                          f->t_clinician);
    g_autoptr (Response) after = NULL;

    g_assert_cmpint (bundle_total (clinician), ==, 2);
    g_assert_true (bundle_has (clinician, "Patient", f->p1));
    g_assert_true (bundle_has (clinician, "Patient", f->p2));
    g_assert_cmpint (bundle_total (specialist), ==, 1);
    g_assert_true (bundle_has (specialist, "Patient", f->p1));
    g_assert_cmpint (bundle_total (name), ==, 1);
    g_assert_true (bundle_has (name, "Patient", f->p1));
    g_assert_cmpint (bundle_total (limited), ==, 1);
    g_assert_cmpint (bundle_total (injection), ==, 0);
    after = get (f, "/fhir/Patient", f->t_clinician);
    g_assert_cmpint (bundle_total (after), ==, 2);
  }
  /* Patient tokens, auditors and administrators do not search patients. */
  {
    const char *tokens[] = { f->t_patient, f->t_auditor, f->t_administrator };
    for (guint i = 0; i < G_N_ELEMENTS (tokens); i++) {
      gint64 since = audit_head (f);
      g_autoptr (Response) r = get (f, "/fhir/Patient?identifier=urn:oid:2.16.704.1.1.1|038190000123",
                                    tokens[i]);
      g_autoptr (GPtrArray) events = NULL;

      assert_outcome (r, 403, "forbidden", NULL);
      events = audit_since (f, since);
      g_assert_cmpuint (events->len, ==, 1);
      g_assert_cmpstr (((RecordsAuditEvent *) events->pdata[0])->outcome, ==, "denied");
    }
  }
}

static void
test_encounter_read_search (Fixture *f, gconstpointer data)
{
  g_autofree char *c1 = g_strdup_printf ("/fhir/Encounter/%s", f->c1);
  g_autofree char *c2 = g_strdup_printf ("/fhir/Encounter/%s", f->c2);
  g_autofree char *by_p1 = g_strdup_printf ("/fhir/Encounter?patient=%s", f->p1);
  g_autofree char *by_p1_ref = g_strdup_printf ("/fhir/Encounter?patient=Patient/%s", f->p1);

  {
    gint64 since = audit_head (f);
    g_autoptr (Response) r = get (f, c1, f->t_specialist);
    g_autofree char *subject = g_strdup_printf ("Patient/%s", f->p1);
    g_autofree char *specialist = g_strdup_printf ("Practitioner/%s", f->specialist);

    assert_fhir (r, 200, "Encounter");
    g_assert_cmpstr (str_at (r->json, "id"), ==, f->c1);
    g_assert_cmpstr (str_at (r->json, "status"), ==, "planned");
    g_assert_cmpstr (str_at (r->json, "class.code"), ==, "VR");
    g_assert_cmpstr (str_at (r->json, "class.system"), ==,
                     "http://terminology.hl7.org/CodeSystem/v3-ActCode");
    g_assert_cmpstr (str_at (r->json, "subject.reference"), ==, subject);
    g_assert_cmpstr (str_at (r->json, "participant[1].individual.reference"), ==, specialist);
    g_assert_cmpstr (str_at (r->json, "extension[0].valueDateTime"), ==,
                     "2026-11-22T08:30:00.000Z");
    assert_one_audit (f, since, f->specialist, "read", "Encounter", f->c1, f->p1, "success");
  }
  /* The patient's token opens its consultation and no other, even its own
   * patient's second one. */
  {
    g_autoptr (Response) mine = get (f, c1, f->t_patient);
    g_autoptr (Response) other = get (f, c2, f->t_patient);
    g_autoptr (Response) search = get (f, by_p1, f->t_patient);
    g_autoptr (Response) worklist = get (f, "/fhir/Encounter", f->t_patient);

    assert_fhir (mine, 200, "Encounter");
    assert_outcome (other, 403, "forbidden", NULL);
    g_assert_cmpint (bundle_total (search), ==, 1);
    g_assert_true (bundle_has (search, "Encounter", f->c1));
    assert_outcome (worklist, 403, "forbidden", NULL);
  }
  /* Staff. */
  {
    gint64 since = audit_head (f);
    g_autoptr (Response) clinician = get (f, by_p1_ref, f->t_clinician);
    g_autoptr (Response) specialist = NULL;
    g_autoptr (Response) stranger = NULL;
    g_autoptr (Response) auditor = NULL;
    g_autoptr (Response) worklist = NULL;
    g_autoptr (Response) by_id = NULL;
    g_autofree char *by_id_path = g_strdup_printf ("/fhir/Encounter?_id=%s", f->c3);

    g_assert_cmpint (bundle_total (clinician), ==, 2);
    assert_one_audit (f, since, f->clinician, "search", "Encounter", NULL, f->p1, "success");
    specialist = get (f, by_p1, f->t_specialist);
    g_assert_cmpint (bundle_total (specialist), ==, 1);     /* C1 only */
    g_assert_true (bundle_has (specialist, "Encounter", f->c1));
    stranger = get (f, by_p1, f->t_specialist2);
    assert_outcome (stranger, 403, "forbidden", NULL);
    auditor = get (f, c1, f->t_auditor);
    assert_outcome (auditor, 403, "forbidden", NULL);
    worklist = get (f, "/fhir/Encounter", f->t_clinician);
    g_assert_cmpint (bundle_total (worklist), ==, 2);
    by_id = get (f, by_id_path, f->t_clinician);            /* another clinic's */
    g_assert_cmpint (bundle_total (by_id), ==, 0);
  }
  {
    g_autoptr (Response) bad = get (f, "/fhir/Encounter?patient=Practitioner/x", f->t_clinician);
    g_autoptr (Response) subject = get (f, "/fhir/Encounter?subject=x", f->t_clinician);
    assert_outcome (bad, 400, "invalid-field", "patient");
    assert_outcome (subject, 400, "invalid-field", "subject");
  }
}

static void
test_consent_read_search (Fixture *f, gconstpointer data)
{
  g_autofree char *k1 = g_strdup_printf ("/fhir/Consent/%s", f->k1);
  g_autofree char *by_p1 = g_strdup_printf ("/fhir/Consent?patient=%s", f->p1);
  g_autofree char *by_p3 = g_strdup_printf ("/fhir/Consent?patient=%s", f->p3);
  gint64 since = audit_head (f);
  g_autoptr (Response) r = get (f, k1, f->t_clinician);
  g_autoptr (Response) patient = NULL;
  g_autoptr (Response) other = NULL;
  g_autoptr (Response) auditor = NULL;
  g_autoptr (Response) missing = NULL;

  assert_fhir (r, 200, "Consent");
  g_assert_cmpstr (str_at (r->json, "status"), ==, "active");
  g_assert_cmpstr (str_at (r->json, "provision.type"), ==, "permit");
  g_assert_cmpstr (str_at (r->json, "provision.purpose[0].code"), ==, "recording");
  assert_one_audit (f, since, f->clinician, "read", "Consent", f->k1, f->p1, "success");

  patient = get (f, by_p1, f->t_patient);
  g_assert_cmpint (bundle_total (patient), ==, 1);
  g_assert_true (bundle_has (patient, "Consent", f->k1));
  other = get (f, by_p3, f->t_patient);
  assert_outcome (other, 403, "forbidden", NULL);
  auditor = get (f, k1, f->t_auditor);
  assert_outcome (auditor, 403, "forbidden", NULL);
  missing = get (f, "/fhir/Consent", f->t_clinician);
  assert_outcome (missing, 400, "invalid-field", "patient");
}

/* A valid Encounter for P1 requested by the clinician with S1. */
static json_t *
encounter_new (Fixture *f)
{
  g_autofree char *subject = g_strdup_printf ("Patient/%s", f->p1);
  g_autofree char *specialist = g_strdup_printf ("Practitioner/%s", f->specialist);

  return json_pack ("{s:s, s:s, s:{s:s, s:s}, s:{s:s}, s:[{s:o}], s:{s:s}, s:[{s:s}]}",
                    "resourceType", "Encounter",
                    "status", "planned",
                    "class", "system", "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                    "code", "VR",
                    "subject", "reference", subject,
                    "participant", "individual", json_pack ("{s:s}", "reference", specialist),
                    "period", "start", "2026-11-23T09:00:00+07:00",
                    "reasonCode", "text", "tái khám");
}

static guint
consultations_of (Fixture *f, const char *patient_id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = records_consultation_list_for_patient (f->store, patient_id,
                                                                      &error);

  g_assert_no_error (error);
  return list->len;
}

static guint
consents_of (Fixture *f, const char *patient_id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = records_consent_list_for_patient (f->store, patient_id, &error);

  g_assert_no_error (error);
  return list->len;
}

static void
test_encounter_create (Fixture *f, gconstpointer data)
{
  json_t *resource = encounter_new (f);
  gint64 since = audit_head (f);
  g_autoptr (Response) r = post_json (f, "/fhir/Encounter", f->t_clinician, resource);
  g_autoptr (Response) back = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (RecordsConsultation) stored = NULL;
  g_autofree char *requester = g_strdup_printf ("Practitioner/%s", f->clinician);
  const char *id;

  assert_fhir (r, 201, "Encounter");
  id = str_at (r->json, "id");
  g_assert_nonnull (id);
  g_assert_true (g_str_has_suffix (r->location, id));
  g_assert_true (g_str_has_prefix (r->location, "https://127.0.0.1:"));
  g_assert_cmpstr (str_at (r->json, "participant[0].individual.reference"), ==, requester);
  g_assert_cmpstr (str_at (r->json, "participant[0].type[0].coding[0].code"), ==, "REF");
  assert_one_audit (f, since, f->clinician, "create", "Encounter", id, f->p1, "success");
  stored = records_consultation_get (f->store, id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (stored->scheduled_at, ==, "2026-11-23T02:00:00.000Z");
  g_assert_cmpstr (stored->requester_id, ==, f->clinician);
  g_assert_cmpstr (stored->requesting_facility_id, ==, f->clinic);
  g_assert_cmpstr (stored->specialist_ids[0], ==, f->specialist);
  g_assert_cmpstr (stored->reason, ==, "tái khám");
  {
    g_autofree char *path = g_strdup_printf ("/fhir/Encounter/%s", id);
    back = get (f, path, f->t_specialist);
    assert_fhir (back, 200, "Encounter");
    g_assert_true (json_equal (back->json, r->json));
  }
  g_assert_cmpuint (consultations_of (f, f->p1), ==, 3);
  json_decref (resource);
}

static void
test_encounter_create_refused (Fixture *f, gconstpointer data)
{
  g_autofree char *nurse_ref = g_strdup_printf ("Practitioner/%s", f->nurse);
  g_autofree char *p3_ref = g_strdup_printf ("Patient/%s", f->p3);
  g_autofree char *other_ref = g_strdup_printf ("Practitioner/%s", f->other_clinician);
  guint before = consultations_of (f, f->p1);
  guint before_p3 = consultations_of (f, f->p3);

  /* Roles: only a clinician who sees the patient creates. */
  {
    const char *tokens[] = { f->t_nurse, f->t_specialist, f->t_other_clinician, f->t_patient,
                             f->t_auditor, f->t_administrator };
    for (guint i = 0; i < G_N_ELEMENTS (tokens); i++) {
      json_t *resource = encounter_new (f);
      gint64 since = audit_head (f);
      g_autoptr (Response) r = post_json (f, "/fhir/Encounter", tokens[i], resource);
      g_autoptr (GPtrArray) events = NULL;

      g_test_message ("role case %u", i);
      assert_outcome (r, 403, "forbidden", NULL);
      events = audit_since (f, since);
      g_assert_cmpuint (events->len, ==, 1);
      g_assert_cmpstr (((RecordsAuditEvent *) events->pdata[0])->action, ==, "create");
      g_assert_cmpstr (((RecordsAuditEvent *) events->pdata[0])->outcome, ==, "denied");
      json_decref (resource);
    }
  }
  /* Bad resources: each named. */
  {
    struct {
      const char *key;
      json_t *value;          /* NULL: remove the key */
      guint status;
      const char *code;
      const char *field;
    } cases[] = {
      { "resourceType", json_string ("Patient"), 400, "invalid-field", "Encounter.resourceType" },
      { "location", json_array (), 400, "invalid-field", "Encounter.location" },
      { "subject", json_pack ("{s:s}", "reference", "Patient/does-not-exist"), 400,
        "invalid-field", "Encounter.subject.reference" },
      { "subject", json_pack ("{s:s}", "reference", "Organization/x"), 400, "invalid-field",
        "Encounter.subject.reference" },
      { "subject", json_pack ("{s:s}", "reference", p3_ref), 403, "forbidden", NULL },
      { "participant", json_pack ("[{s:{s:s}}]", "individual", "reference",
                                  "Practitioner/does-not-exist"),
        400, "invalid-field", "Encounter.participant[0].individual.reference" },
      { "participant", json_pack ("[{s:{s:s}}]", "individual", "reference", nurse_ref), 400,
        "invalid-field", "Encounter.participant[0].individual.reference" },
      /* Requested in someone else's name. */
      { "participant", json_pack ("[{s:[{s:[{s:s, s:s}]}], s:{s:s}}]", "type", "coding", "system",
                                  "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                  "code", "REF", "individual", "reference", other_ref),
        400, "invalid-field", "Encounter.participant[0].individual.reference" },
      { "status", json_string ("in-progress"), 400, "invalid-field", "Encounter.status" },
      { "class", NULL, 400, "invalid-field", "Encounter.class" },
      { "serviceProvider", json_pack ("{s:s}", "reference", "Organization/other"), 400,
        "invalid-field", "Encounter.serviceProvider.reference" },
      { "reasonCode", json_pack ("[{s:s}]", "text", "'); DELETE FROM consultations; --"), 201,
        NULL, NULL },   /* SQL metacharacters are just text */
    };

    for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
      json_t *resource = encounter_new (f);
      g_autoptr (Response) r = NULL;

      g_test_message ("bad case %u: %s", i, cases[i].key);
      if (cases[i].value)
        json_object_set_new (resource, cases[i].key, cases[i].value);
      else
        json_object_del (resource, cases[i].key);
      r = post_json (f, "/fhir/Encounter", f->t_clinician, resource);
      if (cases[i].status == 201) {
        assert_fhir (r, 201, "Encounter");
        before++;
      } else {
        assert_outcome (r, cases[i].status, cases[i].code, cases[i].field);
      }
      json_decref (resource);
    }
  }
  /* Not JSON, not an object, too large, chunked. */
  {
    g_autoptr (Response) broken = request (f, "POST", "/fhir/Encounter", f->t_clinician,
                                           "{\"resourceType\":", 16);
    g_autoptr (Response) array = request (f, "POST", "/fhir/Encounter", f->t_clinician, "[]", 2);
    g_autoptr (Response) empty = request (f, "POST", "/fhir/Encounter", f->t_clinician, "", 0);
    g_autoptr (Response) nul = request (f, "POST", "/fhir/Encounter", f->t_clinician,
                                        "{\"a\":\"\\u0000\"}", 14);
    g_autoptr (Response) large = NULL;
    g_autoptr (Response) put = NULL;
    json_t *resource = encounter_new (f);
    GString *big = g_string_new (NULL);
    char *text;

    assert_outcome (broken, 400, "bad-json", NULL);
    assert_outcome (array, 400, "bad-json", NULL);
    assert_outcome (empty, 400, "bad-json", NULL);
    assert_outcome (nul, 400, "bad-json", NULL);
    /* A valid resource padded to just over 64 KiB. */
    json_object_set_new (resource, "reasonCode", json_pack ("[{s:s}]", "text", "x"));
    text = json_dumps (resource, JSON_COMPACT);
    g_string_append (big, text);
    g_string_truncate (big, big->len - 1);
    g_string_append (big, ",\"z\":\"");
    while (big->len < 64 * 1024)
      g_string_append_c (big, 'z');
    g_string_append (big, "\"}");
    large = request (f, "POST", "/fhir/Encounter", f->t_clinician, big->str, big->len);
    assert_outcome (large, 413, "too-large", NULL);
    put = request (f, "PUT", "/fhir/Encounter", f->t_clinician, text, strlen (text));
    assert_outcome (put, 405, "method-not-allowed", NULL);
    free (text);
    g_string_free (big, TRUE);
    json_decref (resource);
  }
  g_assert_cmpuint (consultations_of (f, f->p1), ==, before);
  g_assert_cmpuint (consultations_of (f, f->p3), ==, before_p3);
}

/* A Consent of P1 for C1 as the patient records it. */
static json_t *
consent_new (Fixture *f, const char *performer)
{
  g_autofree char *patient = g_strdup_printf ("Patient/%s", f->p1);
  g_autofree char *encounter = g_strdup_printf ("Encounter/%s", f->c1);

  return json_pack ("{s:s, s:[{s:s, s:s}], s:s, s:{s:[{s:s, s:s}]}, s:[{s:s}], s:{s:s},"
                    " s:[{s:s}], s:{s:s, s:[{s:s, s:s}], s:[{s:s, s:{s:s}}]}}",
                    "resourceType", "Consent",
                    "extension", "url", "urn:cau:fhir:extension:consent-method",
                    "valueCode", "electronic",
                    "status", "rejected",
                    "scope", "coding", "system",
                    "http://terminology.hl7.org/CodeSystem/consentscope", "code",
                    "patient-privacy",
                    "category", "text", "consent",
                    "patient", "reference", patient,
                    "performer", "reference", performer ? performer : patient,
                    "provision", "type", "deny",
                    "purpose", "system", "urn:cau:consent-purpose", "code", "recording",
                    "data", "meaning", "related", "reference", "reference", encounter);
}

static void
test_consent_create (Fixture *f, gconstpointer data)
{
  guint before = consents_of (f, f->p1);
  g_autofree char *spec_ref = g_strdup_printf ("Practitioner/%s", f->specialist);
  g_autofree char *clin_ref = g_strdup_printf ("Practitioner/%s", f->clinician);
  g_autofree char *c3_ref = g_strdup_printf ("Encounter/%s", f->c3);

  /* The patient withdraws the recording consent for C1. */
  {
    json_t *resource = consent_new (f, NULL);
    gint64 since = audit_head (f);
    g_autoptr (Response) r = post_json (f, "/fhir/Consent", f->t_patient, resource);
    g_autoptr (GError) error = NULL;
    g_autoptr (RecordsConsent) current = NULL;
    g_autoptr (GPtrArray) events = NULL;

    assert_fhir (r, 201, "Consent");
    g_assert_cmpstr (str_at (r->json, "status"), ==, "rejected");
    current = records_consent_current (f->store, f->p1, f->c1, "recording", &error);
    g_assert_no_error (error);
    g_assert_false (current->granted);
    g_assert_cmpstr (current->recorded_by, ==, "patient");
    g_assert_cmpstr (current->method, ==, "electronic");
    g_assert_cmpstr (current->id, ==, str_at (r->json, "id"));
    events = audit_since (f, since);
    g_assert_cmpuint (events->len, ==, 1);
    g_assert_cmpstr (((RecordsAuditEvent *) events->pdata[0])->actor_role, ==, "patient");
    g_assert_cmpstr (((RecordsAuditEvent *) events->pdata[0])->action, ==, "create");
    g_assert_cmpstr (((RecordsAuditEvent *) events->pdata[0])->patient_id, ==, f->p1);
    json_decref (resource);
    before++;
  }
  /* The clinician records a verbal consent for the patient. */
  {
    json_t *resource = consent_new (f, clin_ref);
    g_autoptr (Response) r = NULL;

    json_object_set_new (resource, "status", json_string ("active"));
    json_object_set_new (json_object_get (resource, "provision"), "type", json_string ("permit"));
    r = post_json (f, "/fhir/Consent", f->t_clinician, resource);
    assert_fhir (r, 201, "Consent");
    g_assert_cmpstr (str_at (r->json, "performer[0].reference"), ==, clin_ref);
    json_decref (resource);
    before++;
  }
  /* Refused. */
  {
    struct {
      const char *token;
      const char *performer;
      const char *data_reference;    /* replaces provision.data[0] */
      guint status;
      const char *code;
      const char *field;
    } cases[] = {
      { f->t_clinician, spec_ref, NULL, 400, "invalid-field", "Consent.performer[0].reference" },
      { f->t_patient, clin_ref, NULL, 400, "invalid-field", "Consent.performer[0].reference" },
      { f->t_clinician, clin_ref, c3_ref, 400, "invalid-field",
        "Consent.provision.data[0].reference.reference" },
      { f->t_clinician, clin_ref, "Encounter/does-not-exist", 400, "invalid-field",
        "Consent.provision.data[0].reference.reference" },
      { f->t_specialist2, "SELF", NULL, 403, "forbidden", NULL },
      { f->t_auditor, "SELF", NULL, 403, "forbidden", NULL },
      { f->t_other_clinician, "SELF", NULL, 403, "forbidden", NULL },
    };
    for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
      g_autofree char *self = NULL;
      json_t *resource;
      g_autoptr (Response) r = NULL;

      g_test_message ("consent case %u", i);
      if (g_strcmp0 (cases[i].performer, "SELF") == 0) {
        const char *ids[] = { f->specialist2, f->auditor, f->other_clinician };
        self = g_strdup_printf ("Practitioner/%s", ids[i - 4]);
      }
      resource = consent_new (f, self ? self : cases[i].performer);
      if (cases[i].data_reference)
        json_object_set_new (json_object_get (json_array_get (at (resource, "provision.data"), 0),
                                              "reference"),
                             "reference", json_string (cases[i].data_reference));
      r = post_json (f, "/fhir/Consent", cases[i].token, resource);
      assert_outcome (r, cases[i].status, cases[i].code, cases[i].field);
      json_decref (resource);
    }
  }
  /* A patient token for another patient's data. */
  {
    json_t *resource = consent_new (f, NULL);
    g_autofree char *p3 = g_strdup_printf ("Patient/%s", f->p3);
    g_autoptr (Response) r = NULL;

    json_object_set_new (resource, "patient", json_pack ("{s:s}", "reference", p3));
    json_object_set_new (resource, "performer", json_pack ("[{s:s}]", "reference", p3));
    json_object_del (json_object_get (resource, "provision"), "data");
    r = post_json (f, "/fhir/Consent", f->t_patient, resource);
    assert_outcome (r, 403, "forbidden", NULL);
    json_decref (resource);
  }
  g_assert_cmpuint (consents_of (f, f->p1), ==, before);
  g_assert_cmpuint (consents_of (f, f->p3), ==, 0);
}

static void
test_audit_events (Fixture *f, gconstpointer data)
{
  g_autofree char *p1_read = g_strdup_printf ("/fhir/Patient/%s", f->p1);
  g_autofree char *by_patient = g_strdup_printf ("/fhir/AuditEvent?patient=%s", f->p1);
  g_autofree char *by_agent = g_strdup_printf ("/fhir/AuditEvent?agent=Practitioner/%s&subtype=read",
                                               f->clinician);
  g_autoptr (Response) read = get (f, p1_read, f->t_clinician);
  g_autoptr (Response) all = get (f, "/fhir/AuditEvent", f->t_auditor);
  g_autoptr (Response) patient = get (f, by_patient, f->t_auditor);
  g_autoptr (Response) agent = get (f, by_agent, f->t_administrator);
  g_autoptr (Response) page = get (f, "/fhir/AuditEvent?_count=2", f->t_auditor);
  g_autoptr (Response) one = get (f, "/fhir/AuditEvent/1", f->t_auditor);
  g_autoptr (Response) none = get (f, "/fhir/AuditEvent/999999", f->t_auditor);
  g_autoptr (Response) word = get (f, "/fhir/AuditEvent/abc", f->t_auditor);
  g_autoptr (Response) clinician = get (f, "/fhir/AuditEvent", f->t_clinician);
  g_autoptr (Response) patient_token = get (f, "/fhir/AuditEvent", f->t_patient);
  g_autoptr (Response) after = get (f, "/fhir/AuditEvent?after=x", f->t_auditor);
  g_autofree char *p1_ref = g_strdup_printf ("Patient/%s", f->p1);
  json_t *entry;
  size_t i;

  assert_fhir (read, 200, "Patient");
  g_assert_cmpint (bundle_total (all), >=, 1);
  g_assert_true (bundle_has (all, "AuditEvent", "1"));
  g_assert_cmpint (bundle_total (patient), >=, 1);
  json_array_foreach (at (patient->json, "entry"), i, entry) {
    gboolean mentions = FALSE;
    size_t j;
    json_t *entity;

    json_array_foreach (at (entry, "resource.entity"), j, entity)
      mentions |= g_strcmp0 (str_at (entity, "what.reference"), p1_ref) == 0;
    g_assert_true (mentions);
  }
  g_assert_cmpint (bundle_total (agent), ==, 1);
  g_assert_cmpstr (str_at (agent->json, "entry[0].resource.action"), ==, "R");
  g_assert_cmpstr (str_at (agent->json, "entry[0].resource.outcome"), ==, "0");
  g_assert_cmpstr (str_at (agent->json, "entry[0].resource.entity[0].what.reference"), ==, p1_ref);
  g_assert_cmpint (bundle_total (page), ==, 2);
  g_assert_cmpstr (str_at (page->json, "link[1].relation"), ==, "next");
  g_assert_true (strstr (str_at (page->json, "link[1].url"), "after=2") != NULL);
  assert_fhir (one, 200, "AuditEvent");
  g_assert_cmpstr (str_at (one->json, "id"), ==, "1");
  g_assert_cmpstr (str_at (one->json, "extension[0].extension[0].valueString"), ==,
                   "0000000000000000000000000000000000000000000000000000000000000000");
  g_assert_cmpuint (strlen (str_at (one->json, "extension[0].extension[1].valueString")), ==, 64);
  assert_outcome (none, 404, "not-found", NULL);
  assert_outcome (word, 404, "not-found", NULL);
  assert_outcome (clinician, 403, "forbidden", NULL);
  assert_outcome (patient_token, 403, "forbidden", NULL);
  assert_outcome (after, 400, "invalid-field", "after");
}

static void
test_directory (Fixture *f, gconstpointer data)
{
  g_autofree char *spec = g_strdup_printf ("/fhir/Practitioner/%s", f->specialist);
  g_autofree char *clinic = g_strdup_printf ("/fhir/Organization/%s", f->clinic);
  g_autoptr (Response) all = get (f, "/fhir/Practitioner", f->t_clinician);
  g_autoptr (Response) by_name = get (f, "/fhir/Practitioner?identifier=urn:cau:username|bs.cuong",
                                      f->t_auditor);
  g_autoptr (Response) one = get (f, spec, f->t_nurse);
  g_autoptr (Response) orgs = get (f, "/fhir/Organization", f->t_specialist);
  g_autoptr (Response) by_code = get (f, "/fhir/Organization?identifier=urn:cau:facility-code|24-VIETYEN",
                                      f->t_clinician);
  g_autoptr (Response) org = get (f, clinic, f->t_clinician);
  g_autoptr (Response) patient = get (f, "/fhir/Practitioner", f->t_patient);
  g_autoptr (Response) patient_org = get (f, clinic, f->t_patient);
  g_autoptr (Response) bad_system = get (f, "/fhir/Organization?identifier=x|y", f->t_clinician);
  g_autoptr (Response) unknown_type = get (f, "/fhir/Observation", f->t_clinician);
  g_autoptr (Response) delete = request (f, "DELETE", spec, f->t_administrator, NULL, 0);
  g_autoptr (Response) create = request (f, "POST", "/fhir/Patient", f->t_clinician, "{}", 2);
  g_autofree char *text = NULL;

  g_assert_cmpint (bundle_total (all), ==, 7);
  text = json_dumps (all->json, 0);
  g_assert_null (strstr (text, "argon2"));
  g_assert_cmpint (bundle_total (by_name), ==, 1);
  g_assert_cmpstr (str_at (by_name->json, "entry[0].resource.id"), ==, f->specialist);
  assert_fhir (one, 200, "Practitioner");
  g_assert_cmpstr (str_at (one->json, "qualification[0].code.text"), ==, "specialist");
  g_assert_cmpint (bundle_total (orgs), ==, 3);
  g_assert_cmpint (bundle_total (by_code), ==, 1);
  g_assert_cmpstr (str_at (by_code->json, "entry[0].resource.address[0].state"), ==, "024");
  assert_fhir (org, 200, "Organization");
  g_assert_cmpstr (str_at (org->json, "identifier[0].value"), ==, "38-DONGSON");
  assert_outcome (patient, 403, "forbidden", NULL);
  assert_outcome (patient_org, 403, "forbidden", NULL);
  assert_outcome (bad_system, 400, "invalid-field", "identifier");
  assert_outcome (unknown_type, 404, "not-found", NULL);
  assert_outcome (delete, 405, "method-not-allowed", NULL);
  assert_outcome (create, 405, "method-not-allowed", NULL);
}

int
main (int argc, char **argv)
{
  const char *backend = g_getenv ("CAU_TEST_BACKEND");
  g_autoptr (GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  if (g_strcmp0 (backend, "postgresql") == 0) {
    pg_fixture = pg_fixture_start (&error);
    g_assert_no_error (error);
  }
#define ADD(name, func) \
  g_test_add ("/fhir/" name, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("metadata", test_metadata);
  ADD ("unauthenticated", test_unauthenticated);
  ADD ("patient-read", test_patient_read);
  ADD ("patient-search", test_patient_search);
  ADD ("encounter-read-search", test_encounter_read_search);
  ADD ("consent-read-search", test_consent_read_search);
  ADD ("encounter-create", test_encounter_create);
  ADD ("encounter-create-refused", test_encounter_create_refused);
  ADD ("consent-create", test_consent_create);
  ADD ("audit-events", test_audit_events);
  ADD ("directory", test_directory);
#undef ADD
  status = g_test_run ();
  pg_fixture_stop (pg_fixture);
  return status;
}
