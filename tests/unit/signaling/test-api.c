/* Tests signaling/api.c over real HTTPS: a SoupServer on 127.0.0.1 with a
 * generated self-signed certificate, the REST API attached, a SoupSession
 * client, and a real records store — SQLite, and PostgreSQL (a throwaway
 * server from tests/support/pg-fixture).  The same tests run on both.
 *
 * A small world is seeded through records/ directly: district clinic FA
 * (clinicians c1, c2, nurse n1; patient P1; consultation K1 requested by c1
 * with specialist s1 of hospital FB invited), clinic FC (clinician c3, nurse
 * n3; patient P2, consultation K2), specialist s2 on nothing, an
 * administrator and an auditor; patients hold invitation tokens for K1/K2.
 *
 * Every refused request is checked three ways: status + code, the store
 * unchanged (a fingerprint of every table but the audit log), and the audit
 * row it wrote. */
#include <glib/gstdio.h>
#include <jansson.h>
#include <libsoup/soup.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "password.h"
#include "pg-fixture.h"
#include "records.h"
#include "signaling-priv.h"
#include "tls-certificate.h"

#define TIMEOUT_SECONDS 20

enum { C1, C2, C3, S1, S2, N1, N3, ADM, AUD, PAT1, PAT2, N_PRINCIPALS };
static const char *const principal_names[N_PRINCIPALS] = {
  "c1", "c2", "c3", "s1", "s2", "n1", "n3", "adm", "aud", "pat1", "pat2",
};
static const RecordsRole staff_roles[PAT1] = {
  RECORDS_ROLE_CLINICIAN, RECORDS_ROLE_CLINICIAN, RECORDS_ROLE_CLINICIAN,
  RECORDS_ROLE_SPECIALIST, RECORDS_ROLE_SPECIALIST, RECORDS_ROLE_NURSE, RECORDS_ROLE_NURSE,
  RECORDS_ROLE_ADMINISTRATOR, RECORDS_ROLE_AUDITOR,
};

static PgFixture *pg;          /* one server for the PostgreSQL runs */
static guint database_counter;

typedef struct {
  gboolean postgresql;
  char *dir;
  RecordsStore *store;
  SignalingApi *api;
  SoupServer *server;
  SoupSession *session;
  guint port;
  char *fa, *fb, *fc;                       /* facility ids           */
  char *user_ids[PAT1];
  char *p1, *p2;                            /* patient ids            */
  char *k1, *k2;                            /* consultation ids       */
  char *b1;                                 /* a briefing hosted by c1 */
  char *inv1, *inv2, *spare_inv;            /* invitation ids         */
  char *secret1, *secret2, *spare_secret;
  char *tokens[N_PRINCIPALS];
  guint counter;                            /* unique values in bodies */
} Fixture;

typedef struct {
  guint status;
  json_t *json;        /* NULL when the body is empty or not JSON */
  char *retry_after;   /* the Retry-After header */
} Reply;

static void
reply_free (Reply *reply)
{
  if (reply == NULL)
    return;
  json_decref (reply->json);
  g_free (reply->retry_after);
  g_free (reply);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Reply, reply_free)

/* ---- the loop ------------------------------------------------------------ */

static gboolean
on_timeout (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
wait_for (gboolean *flag)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (TIMEOUT_SECONDS, on_timeout, &timed_out);

  while (!*flag && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  return *flag;
}

typedef struct {
  GBytes *body;
  GError *error;
  gboolean done;
} HttpResult;

static void
on_http_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  HttpResult *http = user_data;

  http->body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &http->error);
  http->done = TRUE;
}

/* One request.  @authorization: the whole header value, or NULL.  @body:
 * bytes sent as application/json (NULL: no body). */
static Reply *
call_raw (Fixture *f, const char *method, const char *path, const char *authorization,
          const char *body, gssize body_length)
{
  g_autofree char *uri = g_strdup_printf ("https://127.0.0.1:%u%s", f->port, path);
  g_autoptr (SoupMessage) msg = soup_message_new (method, uri);
  g_autoptr (GBytes) received = NULL;
  HttpResult http = { 0 };
  Reply *reply = g_new0 (Reply, 1);
  const char *retry;

  g_assert_nonnull (msg);
  /* libsoup opens a new connection for every non-idempotent request unless
   * told otherwise; a TLS handshake per request is what made this test
   * slow under ASan.  The server never closes between requests here. */
  soup_message_add_flags (msg, SOUP_MESSAGE_IDEMPOTENT);
  if (authorization)
    soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                  authorization);
  if (body) {
    g_autoptr (GBytes) bytes = g_bytes_new (body, body_length < 0 ? strlen (body) : (gsize) body_length);

    soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
  }
  soup_session_send_and_read_async (f->session, msg, G_PRIORITY_DEFAULT, NULL, on_http_done,
                                    &http);
  g_assert_true (wait_for (&http.done));
  g_assert_no_error (http.error);
  received = http.body;
  reply->status = soup_message_get_status (msg);
  if (received && g_bytes_get_size (received) > 0)
    reply->json = json_loadb (g_bytes_get_data (received, NULL), g_bytes_get_size (received), 0,
                              NULL);
  retry = soup_message_headers_get_one (soup_message_get_response_headers (msg), "Retry-After");
  reply->retry_after = g_strdup (retry);
  return reply;
}

static Reply *
call (Fixture *f, const char *method, const char *path, const char *token, const char *body)
{
  g_autofree char *authorization = token ? g_strdup_printf ("Bearer %s", token) : NULL;

  return call_raw (f, method, path, authorization, body, -1);
}

/* The error code; NULL for a success (a facility's "code" is not one). */
static const char *
reply_code (const Reply *reply)
{
  if (reply->status < 400 || reply->json == NULL)
    return NULL;
  return json_string_value (json_object_get (reply->json, "code"));
}

static const char *
reply_field (const Reply *reply)
{
  return reply->json ? json_string_value (json_object_get (reply->json, "field")) : NULL;
}

static const char *
reply_string (const Reply *reply, const char *name)
{
  return reply->json ? json_string_value (json_object_get (reply->json, name)) : NULL;
}

#define assert_reply(reply, expected_status, expected_code)                                \
  G_STMT_START {                                                                           \
    if ((reply)->status != (expected_status)                                               \
        || g_strcmp0 (reply_code (reply), (expected_code)) != 0) {                         \
      g_autofree char *dump = (reply)->json ? json_dumps ((reply)->json, 0) : NULL;        \
      g_printerr ("reply %u %s\n", (reply)->status, dump ? dump : "(no body)");            \
    }                                                                                      \
    g_assert_cmpuint ((reply)->status, ==, (expected_status));                             \
    g_assert_cmpstr (reply_code (reply), ==, (expected_code));                             \
  } G_STMT_END

/* ---- the store's state, to show a failed request changed nothing --------- */

static void
append_consultation (GString *out, const RecordsConsultation *c)
{
  g_autofree char *specialists = c->specialist_ids ? g_strjoinv (",", c->specialist_ids) : NULL;

  g_string_append_printf (out, "C %s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s\n", c->id, c->patient_id,
                          c->requester_id, c->requesting_facility_id, specialists,
                          c->scheduled_at, c->status, c->reason, c->notes, c->outcome,
                          c->started_at, c->ended_at);
}

static char *
store_fingerprint (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) facilities = records_facility_list (f->store, &error);
  g_autoptr (GPtrArray) users = records_user_list (f->store, NULL, &error);
  g_autoptr (GPtrArray) patients = records_patient_search (f->store, NULL, NULL, 100000, &error);
  GString *out = g_string_new (NULL);

  g_assert_no_error (error);
  for (guint i = 0; i < facilities->len; i++) {
    RecordsFacility *x = facilities->pdata[i];
    g_string_append_printf (out, "F %s|%s|%s|%s|%s\n", x->id, x->code, x->name, x->kind,
                            x->province_code);
  }
  for (guint i = 0; i < users->len; i++) {
    RecordsUser *x = users->pdata[i];
    g_string_append_printf (out, "U %s|%s|%s|%d|%s|%s|%d|%" G_GINT64_FORMAT "|%d\n", x->id,
                            x->username, x->display_name, x->role, x->facility_id,
                            x->password_hash, x->failed_logins, x->locked_until, x->disabled);
  }
  for (guint i = 0; i < patients->len; i++) {
    RecordsPatient *x = patients->pdata[i];
    g_autoptr (GPtrArray) consultations = records_consultation_list_for_patient (f->store, x->id, &error);
    g_autoptr (GPtrArray) consents = records_consent_list_for_patient (f->store, x->id, &error);

    g_assert_no_error (error);
    g_string_append_printf (out, "P %s|%s|%s|%s|%s|%s|%s|%s|%s\n", x->id, x->cccd, x->bhyt,
                            x->name, x->birth_date, x->sex, x->phone, x->address,
                            x->facility_id);
    for (guint j = 0; j < consultations->len; j++) {
      RecordsConsultation *c = consultations->pdata[j];
      g_autoptr (GPtrArray) invitations = records_invitation_list_for_consultation (f->store, c->id, &error);

      g_assert_no_error (error);
      append_consultation (out, c);
      for (guint k = 0; k < invitations->len; k++) {
        RecordsInvitation *v = invitations->pdata[k];
        g_string_append_printf (out, "I %s|%s|%s\n", v->id, v->expires_at, v->revoked_at);
      }
    }
    for (guint j = 0; j < consents->len; j++) {
      RecordsConsent *c = consents->pdata[j];
      g_string_append_printf (out, "K %s|%s|%s|%d|%s|%s\n", c->id, c->consultation_id,
                              c->purpose, c->granted, c->recorded_by, c->method);
    }
  }
  {
    g_autoptr (GPtrArray) briefings = records_briefing_list (f->store, NULL, NULL, FALSE, &error);

    g_assert_no_error (error);
    for (guint i = 0; i < briefings->len; i++) {
      RecordsBriefing *b = briefings->pdata[i];
      g_string_append_printf (out, "B %s|%s|%s|%s|%s|%s\n", b->id, b->title, b->host_id,
                              b->facility_id, b->scheduled_at, b->status);
    }
  }
  return g_string_free (out, FALSE);
}

/* The last audit event's seq (0 when empty). */
static gint64
audit_head (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  gint64 after = 0, last = 0;

  for (;;) {
    g_autoptr (GPtrArray) events = records_audit_list (f->store, after, NULL, NULL, NULL, 500, &error);

    g_assert_no_error (error);
    if (events->len == 0)
      return last;
    last = ((RecordsAuditEvent *) events->pdata[events->len - 1])->seq;
    after = last;
  }
}

/* The events after @mark (transfer full). */
static GPtrArray *
audit_since (Fixture *f, gint64 mark)
{
  g_autoptr (GError) error = NULL;
  GPtrArray *events = records_audit_list (f->store, mark, NULL, NULL, NULL, 500, &error);

  g_assert_no_error (error);
  return events;
}

/* Exactly one event was written since @mark, with these fields (NULL = any). */
static void
assert_one_audit (Fixture *f, gint64 mark, const char *actor_id, const char *action,
                  const char *entity_type, const char *patient_id, const char *outcome)
{
  g_autoptr (GPtrArray) events = audit_since (f, mark);
  RecordsAuditEvent *event;

  g_assert_cmpuint (events->len, ==, 1);
  event = events->pdata[0];
  if (actor_id)
    g_assert_cmpstr (event->actor_id, ==, actor_id);
  if (action)
    g_assert_cmpstr (event->action, ==, action);
  if (entity_type)
    g_assert_cmpstr (event->entity_type, ==, entity_type);
  if (patient_id)
    g_assert_cmpstr (event->patient_id, ==, patient_id);
  g_assert_cmpstr (event->outcome, ==, outcome);
  g_assert_cmpstr (event->source, ==, "127.0.0.1");
}

/* ---- the world --------------------------------------------------------- */

static char *
make_facility (Fixture *f, const char *code, const char *kind, const char *province)
{
  g_autoptr (GError) error = NULL;
  RecordsFacility facility = { .code = (char *) code, .name = (char *) code, .kind = (char *) kind,
                               .province_code = (char *) province };

  g_assert_true (records_facility_create (f->store, &facility, "system", &error));
  g_assert_no_error (error);
  g_free (facility.created_at);
  return facility.id;
}

static char *
make_user (Fixture *f, const char *name, RecordsRole role, const char *facility_id)
{
  g_autofree char *username = g_strdup_printf ("u.%s", name);
  g_autoptr (GError) error = NULL;
  g_autofree char *hash = signaling_auth_hash_password (signaling_api_get_auth (f->api),
                                                        "password-of-test", &error);
  RecordsUser user = { .username = username, .display_name = (char *) name,
                       .role = role, .facility_id = (char *) facility_id, .password_hash = hash };

  g_assert_no_error (error);
  g_assert_true (records_user_create (f->store, &user, "system", &error));
  g_assert_no_error (error);
  g_free (user.created_at);
  return user.id;
}

static char *
make_patient (Fixture *f, const char *cccd, const char *name, const char *birth,
              const char *sex, const char *facility_id)
{
  g_autoptr (GError) error = NULL;
  RecordsPatient patient = { .cccd = (char *) cccd, .name = (char *) name,
                             .birth_date = (char *) birth, .sex = (char *) sex,
                             .facility_id = (char *) facility_id };

  g_assert_true (records_patient_create (f->store, &patient, "system", &error));
  g_assert_no_error (error);
  g_free (patient.created_at);
  return patient.id;
}

static char *
make_consultation (Fixture *f, const char *patient_id, const char *requester,
                   const char *facility_id, const char *specialist)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RecordsConsultation) consultation = g_new0 (RecordsConsultation, 1);
  GStrvBuilder *builder = g_strv_builder_new ();

  if (specialist)
    g_strv_builder_add (builder, specialist);
  consultation->patient_id = g_strdup (patient_id);
  consultation->requester_id = g_strdup (requester);
  consultation->requesting_facility_id = g_strdup (facility_id);
  consultation->specialist_ids = g_strv_builder_end (builder);
  consultation->scheduled_at = g_strdup ("2026-11-22T08:30:00.000Z");
  consultation->status = g_strdup ("planned");
  consultation->reason = g_strdup ("đau ngực");
  g_strv_builder_unref (builder);
  g_assert_true (records_consultation_create (f->store, consultation, "system", &error));
  g_assert_no_error (error);
  return g_strdup (consultation->id);
}

static char *
make_briefing (Fixture *f, const char *host_id, const char *facility_id, const char *title)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RecordsBriefing) briefing = g_new0 (RecordsBriefing, 1);

  briefing->title = g_strdup (title);
  briefing->host_id = g_strdup (host_id);
  briefing->facility_id = g_strdup (facility_id);
  briefing->scheduled_at = g_strdup ("2026-11-24T01:00:00Z");
  g_assert_true (records_briefing_create (f->store, briefing, "system", &error));
  g_assert_no_error (error);
  return g_strdup (briefing->id);
}

static char *
make_invitation (Fixture *f, const char *consultation_id, gint64 lifetime, char **out_id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RecordsInvitation) invitation = NULL;
  char *secret = records_invitation_create (f->store, consultation_id, lifetime, "system",
                                            &invitation, &error);

  g_assert_no_error (error);
  *out_id = g_strdup (invitation->id);
  return secret;
}

static char *
login (Fixture *f, const char *name)
{
  g_autofree char *body = g_strdup_printf ("{\"username\":\"u.%s\",\"password\":\"password-of-test\"}",
                                           name);
  g_autoptr (Reply) reply = call (f, "POST", "/api/auth/login", NULL, body);

  assert_reply (reply, 200, NULL);
  return g_strdup (reply_string (reply, "token"));
}

static char *
redeem (Fixture *f, const char *secret)
{
  g_autofree char *body = g_strdup_printf ("{\"secret\":\"%s\"}", secret);
  g_autoptr (Reply) reply = call (f, "POST", "/api/invitations/redeem", NULL, body);

  assert_reply (reply, 200, NULL);
  return g_strdup (reply_string (reply, "token"));
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *cert = NULL, *key = NULL, *location = NULL;
  g_autoptr (GTlsCertificate) certificate = NULL;
  g_autoptr (GInetAddress) loopback = g_inet_address_new_from_string ("127.0.0.1");
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  GSList *listeners;
  gboolean generated;

  f->postgresql = GPOINTER_TO_INT (data);
  f->dir = g_dir_make_tmp ("cau-api-XXXXXX", &error);
  g_assert_no_error (error);
  cert = g_build_filename (f->dir, "tls", "cert.pem", NULL);
  key = g_build_filename (f->dir, "tls", "key.pem", NULL);
  g_assert_true (server_certificate_ensure (cert, key, &generated, &error));
  certificate = g_tls_certificate_new_from_files (cert, key, &error);
  g_assert_no_error (error);

  if (f->postgresql) {
    g_autofree char *name = g_strdup_printf ("api_%u", ++database_counter);

    location = pg_fixture_create_database (pg, name, &error);
    g_assert_no_error (error);
  } else {
    location = g_strdup (f->dir);
  }
  f->store = records_store_open_uri (location, &error);
  g_assert_no_error (error);
  f->api = signaling_api_new (f->store, f->dir, &error);
  g_assert_no_error (error);
  /* Test-only cost: 64 KiB, one pass (production: 64 MiB, three). */
  signaling_auth_set_password_cost (signaling_api_get_auth (f->api), 1, 64);

  f->server = soup_server_new ("tls-certificate", certificate, NULL);
  signaling_api_attach (f->api, f->server);
  g_assert_true (soup_server_listen (f->server, address, SOUP_SERVER_LISTEN_HTTPS, &error));
  g_assert_no_error (error);
  listeners = soup_server_get_listeners (f->server);
  {
    g_autoptr (GSocketAddress) local = g_socket_get_local_address (listeners->data, &error);
    f->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  }
  g_slist_free (listeners);
  /* Trust the generated certificate as an anchor, so that connections
   * verify cleanly and are kept alive between requests (libsoup does not
   * reuse a connection whose certificate was only accepted by a handler). */
  {
    g_autoptr (GTlsDatabase) database = g_tls_file_database_new (cert, &error);

    g_assert_no_error (error);
    f->session = soup_session_new ();
    soup_session_set_tls_database (f->session, database);
    if (g_getenv ("CAU_TEST_SOUP_LOG")) {
      g_autoptr (SoupLogger) logger = soup_logger_new (SOUP_LOGGER_LOG_HEADERS);
      soup_session_add_feature (f->session, SOUP_SESSION_FEATURE (logger));
    }
  }

  f->fa = make_facility (f, "38-DONGSON", "district-clinic", "038");
  f->fb = make_facility (f, "38-BVTINH", "provincial-hospital", "038");
  f->fc = make_facility (f, "68-DAMRONG", "district-clinic", "068");
  f->user_ids[C1] = make_user (f, "c1", RECORDS_ROLE_CLINICIAN, f->fa);
  f->user_ids[C2] = make_user (f, "c2", RECORDS_ROLE_CLINICIAN, f->fa);
  f->user_ids[C3] = make_user (f, "c3", RECORDS_ROLE_CLINICIAN, f->fc);
  f->user_ids[S1] = make_user (f, "s1", RECORDS_ROLE_SPECIALIST, f->fb);
  f->user_ids[S2] = make_user (f, "s2", RECORDS_ROLE_SPECIALIST, f->fb);
  f->user_ids[N1] = make_user (f, "n1", RECORDS_ROLE_NURSE, f->fa);
  f->user_ids[N3] = make_user (f, "n3", RECORDS_ROLE_NURSE, f->fc);
  f->user_ids[ADM] = make_user (f, "adm", RECORDS_ROLE_ADMINISTRATOR, NULL);
  f->user_ids[AUD] = make_user (f, "aud", RECORDS_ROLE_AUDITOR, NULL);
  /* Fictional patients; CCCD: province 038/068, 1 = 20th-century female. */
  f->p1 = make_patient (f, "038185000001", "Lê Thị Hoa", "1985-03-04", "female", f->fa);
  f->p2 = make_patient (f, "068190000002", "Ka Nhung", "1990-07-08", "female", f->fc);
  f->k1 = make_consultation (f, f->p1, f->user_ids[C1], f->fa, f->user_ids[S1]);
  f->k2 = make_consultation (f, f->p2, f->user_ids[C3], f->fc, NULL);
  f->secret1 = make_invitation (f, f->k1, 3600, &f->inv1);
  f->secret2 = make_invitation (f, f->k2, 3600, &f->inv2);
  f->spare_secret = make_invitation (f, f->k1, 3600, &f->spare_inv);
  f->b1 = make_briefing (f, f->user_ids[C1], f->fa, "Giao ban tuyến huyện");

  for (int i = 0; i < PAT1; i++)
    f->tokens[i] = login (f, principal_names[i]);
  f->tokens[PAT1] = redeem (f, f->secret1);
  f->tokens[PAT2] = redeem (f, f->secret2);
}

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
fixture_tear_down (Fixture *f, gconstpointer data)
{
  soup_server_disconnect (f->server);
  g_object_unref (f->server);
  g_object_unref (f->session);
  signaling_api_free (f->api);
  records_store_close (f->store);
  remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->fa);
  g_free (f->fb);
  g_free (f->fc);
  for (int i = 0; i < PAT1; i++)
    g_free (f->user_ids[i]);
  for (int i = 0; i < N_PRINCIPALS; i++)
    g_free (f->tokens[i]);
  g_free (f->p1);
  g_free (f->p2);
  g_free (f->k1);
  g_free (f->k2);
  g_free (f->b1);
  g_free (f->inv1);
  g_free (f->inv2);
  g_free (f->spare_inv);
  g_free (f->secret1);
  g_free (f->secret2);
  g_free (f->spare_secret);
}

/* Replaces {C1}..{AUD} (user ids), {FA} {FB} {FC} {P1} {P2} {K1} {K2}
 * {INV1} {SPARE} and {N} (a fresh number) in @template. */
static char *
expand (Fixture *f, const char *template)
{
  GString *out = g_string_new (template);
  struct { const char *name; const char *value; } names[] = {
    { "{FA}", f->fa }, { "{FB}", f->fb }, { "{FC}", f->fc }, { "{P1}", f->p1 },
    { "{P2}", f->p2 }, { "{K1}", f->k1 }, { "{K2}", f->k2 }, { "{INV1}", f->inv1 },
    { "{SPARE}", f->spare_inv }, { "{B1}", f->b1 }, { "{C1}", f->user_ids[C1] }, { "{S1}", f->user_ids[S1] },
    { "{S2}", f->user_ids[S2] }, { "{N1}", f->user_ids[N1] },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    g_string_replace (out, names[i].name, names[i].value, 0);
  while (strstr (out->str, "{N}")) {
    g_autofree char *number = g_strdup_printf ("%06u", ++f->counter);
    g_string_replace (out, "{N}", number, 1);
  }
  return g_string_free (out, FALSE);
}

/* ---- the role × operation matrix over HTTP ------------------------------- */

typedef struct {
  const char *method;
  const char *path;
  const char *body;
  guint allowed_status;
  /*           c1 c2 c3 s1 s2 n1 n3 adm aud pat1 pat2 */
  const char *expected;
} HttpRow;

static const HttpRow http_rows[] = {
  { "GET", "/api/facilities", NULL, 200,                              "YYYYYYYYYNN" },
  { "POST", "/api/facilities", "{\"code\":\"X-{N}\",\"name\":\"Trạm y tế\",\"kind\":\"district-clinic\",\"province_code\":\"024\"}", 201,
                                                                       "NNNNNNNYNNN" },
  { "GET", "/api/users", NULL, 200,                                   "NNNNNNNYNNN" },
  { "GET", "/api/users?role=specialist", NULL, 200,                   "YYYNNYYYNNN" },
  { "POST", "/api/users", "{\"username\":\"u{N}\",\"display_name\":\"U\",\"role\":\"nurse\",\"facility_id\":\"{FA}\",\"password\":\"a long password\"}", 201,
                                                                       "NNNNNNNYNNN" },
  { "GET", "/api/patients?q=a", NULL, 200,                            "YYYYYYYNNNN" },
  { "POST", "/api/patients", "{\"cccd\":\"038185{N}\",\"name\":\"Bệnh nhân\",\"birth_date\":\"1985-01-01\",\"sex\":\"female\"}", 201,
                                                                       "YYYNNYYNNNN" },
  { "GET", "/api/patients/{P1}", NULL, 200,                           "YYNYNYNNNYN" },
  { "GET", "/api/patients/{P2}", NULL, 200,                           "NNYNNNYNNNY" },
  { "POST", "/api/patients/{P1}/consents", "{\"purpose\":\"recording\",\"granted\":true,\"method\":\"verbal\"}", 201,
                                                                       "YYNYNYNNNYN" },
  { "POST", "/api/patients/{P1}/consents", "{\"purpose\":\"recording\",\"granted\":false,\"method\":\"verbal\",\"consultation_id\":\"{K1}\"}", 201,
                                                                       "YYNYNYNNNYN" },
  { "POST", "/api/patients/{P2}/consents", "{\"purpose\":\"sharing\",\"granted\":true,\"method\":\"written\"}", 201,
                                                                       "NNYNNNYNNNY" },
  { "GET", "/api/consultations", NULL, 200,                           "YYYYYYYNNNN" },
  { "POST", "/api/consultations", "{\"patient_id\":\"{P1}\",\"scheduled_at\":\"2026-11-23T09:00:00Z\",\"reason\":\"tái khám\",\"specialist_ids\":[\"{S1}\"]}", 201,
                                                                       "YYNNNNNNNNN" },
  { "GET", "/api/consultations/{K1}", NULL, 200,                      "YYNYNYNNNYN" },
  { "GET", "/api/consultations/{K2}", NULL, 200,                      "NNYNNNYNNNY" },
  { "PATCH", "/api/consultations/{K1}", "{\"notes\":\"ghi chú {N}\"}", 200,
                                                                       "YYNYNYNNNNN" },
  { "POST", "/api/consultations/{K1}/specialists", "{\"user_id\":\"{S1}\"}", 409,
                                                                       "YNNNNNNNNNN" },
  { "POST", "/api/consultations/{K1}/invitations", "{\"lifetime_minutes\":30}", 201,
                                                                       "YYNYNYNNNNN" },
  { "DELETE", "/api/consultations/{K1}/invitations/{SPARE}", NULL, 204,
                                                                       "YYNYNYNNNNN" },
  { "GET", "/api/audit?limit=5", NULL, 200,                           "NNNNNNNYYNN" },
  { "GET", "/api/me", NULL, 200,                                      "YYYYYYYYYYY" },
  { "GET", "/api/briefings", NULL, 200,                               "YYYYYYYNNNN" },
  { "GET", "/api/briefings?from=2026-01-01T00:00:00Z&to=2027-01-01T00:00:00Z", NULL, 200,
                                                                       "YYYYYYYNNNN" },
  { "POST", "/api/briefings", "{\"title\":\"Giao ban {N}\",\"scheduled_at\":\"2026-11-25T08:00:00+07:00\"}", 201,
                                                                       "YYYYYNNNNNN" },
  { "GET", "/api/briefings/{B1}", NULL, 200,                          "YYYYYYYNNNN" },
  { "POST", "/api/briefings/{B1}/end", NULL, 200,                     "YNNNNNNNNNN" },
};

static void
test_matrix (Fixture *f, gconstpointer data)
{
  guint failures = 0;

  for (gsize r = 0; r < G_N_ELEMENTS (http_rows); r++) {
    const HttpRow *row = &http_rows[r];

    g_assert_cmpuint (strlen (row->expected), ==, N_PRINCIPALS);
    for (int p = 0; p < N_PRINCIPALS; p++) {
      g_autofree char *path = expand (f, row->path);
      g_autofree char *body = row->body ? expand (f, row->body) : NULL;
      gboolean allowed = row->expected[p] == 'Y';
      g_autofree char *before = allowed ? NULL : store_fingerprint (f);
      g_autofree char *after = NULL;
      g_autoptr (Reply) reply = NULL;
      gint64 mark = allowed ? 0 : audit_head (f);

      reply = call (f, row->method, path, f->tokens[p], body);
      if (allowed ? reply->status != row->allowed_status
                  : (reply->status != 403 || g_strcmp0 (reply_code (reply), "forbidden") != 0)) {
        g_printerr ("%s %s as %s: expected %s, got %u %s\n", row->method, row->path,
                    principal_names[p], allowed ? "allowed" : "403 forbidden", reply->status,
                    reply_code (reply) ? reply_code (reply) : "");
        failures++;
        continue;
      }
      if (!allowed) {
        /* Refused: nothing stored, one "denied" audit event naming the caller. */
        g_autoptr (GPtrArray) events = audit_since (f, mark);
        RecordsAuditEvent *event;

        after = store_fingerprint (f);
        g_assert_cmpstr (before, ==, after);
        g_assert_cmpuint (events->len, ==, 1);
        event = events->pdata[0];
        g_assert_cmpstr (event->outcome, ==, "denied");
        g_assert_cmpstr (event->actor_role, ==,
                         p >= PAT1 ? "patient" : records_role_to_string (staff_roles[p]));
        g_assert_cmpstr (event->source, ==, "127.0.0.1");
      }
    }
  }
  g_assert_cmpuint (failures, ==, 0);
}

/* ---- authentication -------------------------------------------------------- */

static void
test_login_logout (Fixture *f, gconstpointer data)
{
  g_autoptr (Reply) reply = NULL;
  g_autofree char *token = NULL, *refreshed = NULL;
  gint64 mark;

  mark = audit_head (f);
  reply = call (f, "POST", "/api/auth/login", NULL,
                "{\"username\":\"u.c1\",\"password\":\"password-of-test\"}");
  assert_reply (reply, 200, NULL);
  token = g_strdup (reply_string (reply, "token"));
  g_assert_nonnull (reply_string (reply, "expires_at"));
  g_assert_cmpstr (json_string_value (json_object_get (json_object_get (reply->json, "user"), "id")),
                   ==, f->user_ids[C1]);
  g_assert_null (json_object_get (json_object_get (reply->json, "user"), "password_hash"));
  assert_one_audit (f, mark, f->user_ids[C1], "login", "User", NULL, "success");
  g_clear_pointer (&reply, reply_free);

  reply = call (f, "GET", "/api/me", token, NULL);
  assert_reply (reply, 200, NULL);
  g_assert_cmpstr (reply_string (reply, "role"), ==, "clinician");
  g_assert_cmpstr (reply_string (reply, "facility_id"), ==, f->fa);
  g_clear_pointer (&reply, reply_free);

  reply = call (f, "POST", "/api/auth/refresh", token, NULL);
  assert_reply (reply, 200, NULL);
  refreshed = g_strdup (reply_string (reply, "token"));
  g_clear_pointer (&reply, reply_free);

  /* Logout: this token, the refreshed one: token-revoked, audited. */
  mark = audit_head (f);
  reply = call (f, "POST", "/api/auth/logout", refreshed, NULL);
  g_assert_cmpuint (reply->status, ==, 204);
  assert_one_audit (f, mark, f->user_ids[C1], "logout", "User", NULL, "success");
  g_clear_pointer (&reply, reply_free);
  mark = audit_head (f);
  reply = call (f, "GET", "/api/me", token, NULL);
  assert_reply (reply, 401, "token-revoked");
  assert_one_audit (f, mark, "anonymous", "access", "Endpoint", NULL, "denied");
  g_clear_pointer (&reply, reply_free);
  reply = call (f, "POST", "/api/auth/refresh", refreshed, NULL);
  assert_reply (reply, 401, "token-revoked");
  g_clear_pointer (&reply, reply_free);

  /* Wrong password, unknown user: the same answer; both audited. */
  mark = audit_head (f);
  reply = call (f, "POST", "/api/auth/login", NULL, "{\"username\":\"u.c1\",\"password\":\"not it at all\"}");
  assert_reply (reply, 401, "invalid-credentials");
  assert_one_audit (f, mark, f->user_ids[C1], "login", "User", NULL, "failure");
  g_clear_pointer (&reply, reply_free);
  mark = audit_head (f);
  reply = call (f, "POST", "/api/auth/login", NULL, "{\"username\":\"ghost\",\"password\":\"password-of-test\"}");
  assert_reply (reply, 401, "invalid-credentials");
  assert_one_audit (f, mark, "anonymous", "login", "User", NULL, "failure");
  g_clear_pointer (&reply, reply_free);

  /* Patients cannot refresh or log out a login session they do not have. */
  reply = call (f, "POST", "/api/auth/refresh", f->tokens[PAT1], NULL);
  assert_reply (reply, 403, "forbidden");
  g_clear_pointer (&reply, reply_free);
  reply = call (f, "GET", "/api/me", f->tokens[PAT1], NULL);
  assert_reply (reply, 200, NULL);
  g_assert_cmpstr (reply_string (reply, "role"), ==, "patient");
  g_assert_cmpstr (reply_string (reply, "consultation_id"), ==, f->k1);
  g_assert_cmpstr (reply_string (reply, "patient_id"), ==, f->p1);
}

static void
test_lockout (Fixture *f, gconstpointer data)
{
  g_autofree char *before = NULL, *after = NULL;
  g_autoptr (Reply) reply = NULL;
  gint64 mark;

  for (int i = 1; i <= 4; i++) {
    g_clear_pointer (&reply, reply_free);
    reply = call (f, "POST", "/api/auth/login", NULL, "{\"username\":\"u.c2\",\"password\":\"wrong password\"}");
    assert_reply (reply, 401, "invalid-credentials");
  }
  g_clear_pointer (&reply, reply_free);
  mark = audit_head (f);
  reply = call (f, "POST", "/api/auth/login", NULL, "{\"username\":\"u.c2\",\"password\":\"wrong password\"}");
  assert_reply (reply, 423, "account-locked");
  g_assert_cmpint (json_integer_value (json_object_get (reply->json, "retry_after")), ==, 900);
  g_assert_cmpstr (reply->retry_after, ==, "900");
  assert_one_audit (f, mark, f->user_ids[C2], "login", "User", NULL, "failure");
  g_clear_pointer (&reply, reply_free);
  /* Locked: the right password too. */
  reply = call (f, "POST", "/api/auth/login", NULL, "{\"username\":\"u.c2\",\"password\":\"password-of-test\"}");
  assert_reply (reply, 423, "account-locked");
  g_assert_cmpint (json_integer_value (json_object_get (reply->json, "retry_after")), >, 0);
  g_assert_cmpint (json_integer_value (json_object_get (reply->json, "retry_after")), <=, 900);
  g_clear_pointer (&reply, reply_free);
  /* Other accounts are unaffected. */
  reply = call (f, "POST", "/api/auth/login", NULL, "{\"username\":\"u.c1\",\"password\":\"password-of-test\"}");
  assert_reply (reply, 200, NULL);
}

static void
craft_token (Fixture *f, char **out, const char *sub, const char *role, const char *jti,
             gint64 iat, gint64 exp)
{
  g_autoptr (GError) error = NULL;
  guint8 key[SIGNALING_TOKEN_KEY_BYTES];
  SignalingTokenClaims claims = { .sub = (char *) sub, .role = (char *) role, .jti = (char *) jti,
                                  .iat = iat, .exp = exp };

  /* The key as the server has it: read back from <data_dir>/token.key. */
  g_assert_true (signaling_auth_key_load (f->dir, key, &error));
  g_assert_no_error (error);
  *out = signaling_token_encode (key, &claims);
}

static void
test_bad_tokens (Fixture *f, gconstpointer data)
{
  g_autoptr (SignalingTokenClaims) claims = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *expired = NULL, *future = NULL, *tampered = NULL, *alg_none = NULL;
  g_autofree char *other_user = NULL, *fingerprint = store_fingerprint (f);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  struct { const char *authorization; const char *code; } cases[8];
  guint n = 0;
  const char *dot;

  claims = signaling_token_decode (signaling_auth_get_key (signaling_api_get_auth (f->api)),
                                   f->tokens[C1], now, &error);
  g_assert_no_error (error);
  /* Genuinely signed, but expired an hour ago / issued an hour ahead. */
  craft_token (f, &expired, claims->sub, "clinician", claims->jti, now - 7200, now - 3600);
  craft_token (f, &future, claims->sub, "clinician", claims->jti, now + 3600, now + 5400);
  /* The payload raised to administrator, the signature kept. */
  craft_token (f, &other_user, claims->sub, "administrator", claims->jti, now, now + 600);
  dot = strchr (other_user, '.');
  {
    const char *mine_dot = strchr (f->tokens[C1], '.');
    const char *mine_sig = strrchr (f->tokens[C1], '.');
    const char *other_sig = strrchr (other_user, '.');

    tampered = g_strdup_printf ("%.*s%.*s%s", (int) (mine_dot - f->tokens[C1]), f->tokens[C1],
                                (int) (other_sig - dot), dot, mine_sig);
  }
  alg_none = g_strdup_printf ("Bearer eyJhbGciOiJub25lIn0%.*s.", (int) (strrchr (other_user, '.') - dot), dot);

  cases[n++] = (typeof (cases[0])) { NULL, "unauthenticated" };
  cases[n++] = (typeof (cases[0])) { "Basic YzE6cGFzc3dvcmQ=", "unauthenticated" };
  cases[n++] = (typeof (cases[0])) { "Bearer not-a-token", "token-invalid" };
  cases[n++] = (typeof (cases[0])) { alg_none, "token-invalid" };
  {
    static char buffers[3][2048];

    g_snprintf (buffers[0], sizeof buffers[0], "Bearer %s", expired);
    g_snprintf (buffers[1], sizeof buffers[1], "Bearer %s", future);
    g_snprintf (buffers[2], sizeof buffers[2], "Bearer %s", tampered);
    cases[n++] = (typeof (cases[0])) { buffers[0], "token-expired" };
    cases[n++] = (typeof (cases[0])) { buffers[1], "token-invalid" };
    cases[n++] = (typeof (cases[0])) { buffers[2], "token-invalid" };
  }

  for (guint i = 0; i < n; i++) {
    g_autofree char *path = g_strdup_printf ("/api/patients/%s", f->p1);
    g_autofree char *body = g_strdup_printf ("{\"purpose\":\"recording\",\"granted\":true,\"method\":\"verbal\"}");
    g_autofree char *consent_path = g_strdup_printf ("/api/patients/%s/consents", f->p1);
    g_autoptr (Reply) read = NULL, write = NULL;
    g_autofree char *after = NULL;
    gint64 mark = audit_head (f);

    g_test_message ("case %u: %s", i, cases[i].code);
    read = call_raw (f, "GET", path, cases[i].authorization, NULL, 0);
    assert_reply (read, 401, cases[i].code);
    assert_one_audit (f, mark, "anonymous", "access", "Endpoint", NULL, "denied");
    write = call_raw (f, "POST", consent_path, cases[i].authorization, body, -1);
    assert_reply (write, 401, cases[i].code);
    after = store_fingerprint (f);
    g_assert_cmpstr (fingerprint, ==, after);
  }
}

typedef struct {
  Fixture *f;
  Reply *reply;
  gboolean done;
  SoupMessage *msg;
} AsyncCall;

static void
on_async_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  AsyncCall *call_state = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (source), result,
                                                               &error);

  g_assert_no_error (error);
  call_state->reply = g_new0 (Reply, 1);
  call_state->reply->status = soup_message_get_status (call_state->msg);
  call_state->done = TRUE;
}

static void
start_call (Fixture *f, AsyncCall *state, const char *method, const char *path,
            const char *token, const char *body)
{
  g_autofree char *uri = g_strdup_printf ("https://127.0.0.1:%u%s", f->port, path);

  state->f = f;
  state->msg = soup_message_new (method, uri);
  soup_message_add_flags (state->msg, SOUP_MESSAGE_IDEMPOTENT);
  if (token) {
    g_autofree char *authorization = g_strdup_printf ("Bearer %s", token);
    soup_message_headers_replace (soup_message_get_request_headers (state->msg),
                                  "Authorization", authorization);
  }
  if (body) {
    g_autoptr (GBytes) bytes = g_bytes_new (body, strlen (body));
    soup_message_set_request_body_from_bytes (state->msg, "application/json", bytes);
  }
  soup_session_send_and_read_async (f->session, state->msg, G_PRIORITY_DEFAULT, NULL,
                                    on_async_done, state);
}

static void
on_request_read (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
}

/* The Argon2id check of a login runs off the main loop: while a slow login
 * (an expensive hash, t = 16 over 256 MiB: about 2.5 s here; the verifier
 * refuses t > 16) is being checked, another request is answered.  The order
 * of the two answers is what is checked; the hash's cost is the margin.
 * With 64 MiB (0.6 s) the other request lost the race once under ASan with
 * another sanitizer test on the second core. */
static void
test_login_off_loop (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *hash = records_password_hash_with_cost ("slow password", 16, 262144, &error);
  g_autofree char *user_id = NULL;
  RecordsUser user = { .username = "u.slow", .display_name = "Slow", .role = RECORDS_ROLE_NURSE,
                       .facility_id = f->fa, .password_hash = hash };
  AsyncCall login_call = { 0 }, me_call = { 0 };
  gboolean login_read = FALSE;
  gulong signal_id;

  g_assert_no_error (error);
  g_assert_true (records_user_create (f->store, &user, "system", &error));
  g_assert_no_error (error);
  user_id = user.id;
  g_free (user.created_at);

  signal_id = g_signal_connect (f->server, "request-read", G_CALLBACK (on_request_read),
                                &login_read);
  start_call (f, &login_call, "POST", "/api/auth/login", NULL,
              "{\"username\":\"u.slow\",\"password\":\"slow password\"}");
  /* The server has the login (its handler runs in the same dispatch and
   * hands the hash to a worker) before the second request is even sent. */
  g_assert_true (wait_for (&login_read));
  g_signal_handler_disconnect (f->server, signal_id);
  for (int i = 0; i < 10; i++)
    g_main_context_iteration (NULL, FALSE);
  start_call (f, &me_call, "GET", "/api/me", f->tokens[C1], NULL);
  g_assert_true (wait_for (&me_call.done));
  g_assert_cmpuint (me_call.reply->status, ==, 200);
  g_assert_false (login_call.done);
  g_assert_true (wait_for (&login_call.done));
  g_assert_cmpuint (login_call.reply->status, ==, 200);
  reply_free (me_call.reply);
  reply_free (login_call.reply);
  g_object_unref (me_call.msg);
  g_object_unref (login_call.msg);
}

static void
test_invitations (Fixture *f, gconstpointer data)
{
  g_autoptr (Reply) reply = NULL;
  g_autofree char *path = NULL, *body = NULL, *secret = NULL, *id = NULL, *token = NULL;
  g_autofree char *expired_secret = NULL, *expired_id = NULL, *fingerprint = NULL;
  gint64 mark;

  /* Create one over HTTP: the link is built from the Host header. */
  path = g_strdup_printf ("/api/consultations/%s/invitations", f->k1);
  reply = call (f, "POST", path, f->tokens[N1], "{}");
  assert_reply (reply, 201, NULL);
  secret = g_strdup (reply_string (reply, "secret"));
  id = g_strdup (reply_string (reply, "id"));
  {
    g_autofree char *url = g_strdup_printf ("https://127.0.0.1:%u/#/join/%s", f->port, secret);
    g_assert_cmpstr (reply_string (reply, "url"), ==, url);
  }
  g_clear_pointer (&reply, reply_free);

  /* Redeemed — and again, for a reconnect. */
  body = g_strdup_printf ("{\"secret\":\"%s\"}", secret);
  mark = audit_head (f);
  reply = call (f, "POST", "/api/invitations/redeem", NULL, body);
  assert_reply (reply, 200, NULL);
  assert_one_audit (f, mark, id, "login", "Encounter", f->p1, "success");
  g_assert_cmpstr (json_string_value (json_object_get (json_object_get (reply->json, "patient"), "name")),
                   ==, "Lê Thị Hoa");
  g_assert_cmpstr (json_string_value (json_object_get (json_object_get (reply->json, "consultation"), "id")),
                   ==, f->k1);
  token = g_strdup (reply_string (reply, "token"));
  g_clear_pointer (&reply, reply_free);
  reply = call (f, "POST", "/api/invitations/redeem", NULL, body);
  assert_reply (reply, 200, NULL);
  g_clear_pointer (&reply, reply_free);

  /* The patient token opens K1 and P1, nothing else. */
  {
    g_autofree char *k1 = g_strdup_printf ("/api/consultations/%s", f->k1);
    g_autofree char *k2 = g_strdup_printf ("/api/consultations/%s", f->k2);
    g_autofree char *p2 = g_strdup_printf ("/api/patients/%s", f->p2);

    reply = call (f, "GET", k1, token, NULL);
    assert_reply (reply, 200, NULL);
    g_clear_pointer (&reply, reply_free);
    reply = call (f, "GET", k2, token, NULL);
    assert_reply (reply, 403, "forbidden");
    g_clear_pointer (&reply, reply_free);
    reply = call (f, "GET", p2, token, NULL);
    assert_reply (reply, 403, "forbidden");
    g_clear_pointer (&reply, reply_free);
    reply = call (f, "GET", "/api/patients?q=a", token, NULL);
    assert_reply (reply, 403, "forbidden");
    g_clear_pointer (&reply, reply_free);
  }

  /* Revoked: the token stops, the link answers invitation-revoked. */
  {
    g_autofree char *revoke = g_strdup_printf ("/api/consultations/%s/invitations/%s", f->k1, id);
    g_autofree char *wrong = g_strdup_printf ("/api/consultations/%s/invitations/%s", f->k2, id);

    /* Through another consultation: not found there (c3 is K2's). */
    reply = call (f, "DELETE", wrong, f->tokens[C3], NULL);
    assert_reply (reply, 404, "invitation-not-found");
    g_clear_pointer (&reply, reply_free);
    mark = audit_head (f);
    reply = call (f, "DELETE", revoke, f->tokens[S1], NULL);
    g_assert_cmpuint (reply->status, ==, 204);
    assert_one_audit (f, mark, f->user_ids[S1], "update", "Invitation", f->p1, "success");
    g_clear_pointer (&reply, reply_free);
  }
  fingerprint = store_fingerprint (f);
  reply = call (f, "GET", "/api/me", token, NULL);
  assert_reply (reply, 401, "token-revoked");
  g_clear_pointer (&reply, reply_free);
  mark = audit_head (f);
  reply = call (f, "POST", "/api/invitations/redeem", NULL, body);
  assert_reply (reply, 403, "invitation-revoked");
  assert_one_audit (f, mark, id, "login", "Encounter", f->p1, "denied");
  g_clear_pointer (&reply, reply_free);

  /* Unknown, malformed, and hostile secrets. */
  mark = audit_head (f);
  reply = call (f, "POST", "/api/invitations/redeem", NULL, "{\"secret\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}");
  assert_reply (reply, 404, "invitation-not-found");
  assert_one_audit (f, mark, "anonymous", "login", "Encounter", NULL, "denied");
  g_clear_pointer (&reply, reply_free);
  reply = call (f, "POST", "/api/invitations/redeem", NULL, "{\"secret\":\"' OR '1'='1\"}");
  assert_reply (reply, 404, "invitation-not-found");
  g_clear_pointer (&reply, reply_free);
  reply = call (f, "POST", "/api/invitations/redeem", NULL, "{\"secret\":42}");
  assert_reply (reply, 400, "invalid-field");
  g_assert_cmpstr (reply_field (reply), ==, "secret");
  g_clear_pointer (&reply, reply_free);
  {
    g_autofree char *after = store_fingerprint (f);
    g_assert_cmpstr (fingerprint, ==, after);
  }

  /* Expired: a one-second invitation, two seconds later. */
  expired_secret = make_invitation (f, f->k1, 1, &expired_id);
  g_usleep (2100 * 1000);
  g_free (body);
  body = g_strdup_printf ("{\"secret\":\"%s\"}", expired_secret);
  g_free (fingerprint);
  fingerprint = store_fingerprint (f);
  mark = audit_head (f);
  reply = call (f, "POST", "/api/invitations/redeem", NULL, body);
  assert_reply (reply, 410, "invitation-expired");
  assert_one_audit (f, mark, expired_id, "login", "Encounter", f->p1, "denied");
  {
    g_autofree char *after = store_fingerprint (f);
    g_assert_cmpstr (fingerprint, ==, after);
  }
  g_clear_pointer (&reply, reply_free);

  /* A long path (paths over 512 bytes are 404 before anything) is audited
   * cut short, never refused by the store. */
  {
    GString *long_path = g_string_new ("/api/patients/");

    for (int i = 0; i < 45; i++)
      g_string_append (long_path, "abcdefghij");
    mark = audit_head (f);
    reply = call (f, "GET", long_path->str, NULL, NULL);
    assert_reply (reply, 401, "unauthenticated");
    assert_one_audit (f, mark, "anonymous", "access", "Endpoint", NULL, "denied");
    g_string_free (long_path, TRUE);
  }
}

/* ---- every endpoint's happy path -------------------------------------------- */

static void
test_endpoints (Fixture *f, gconstpointer data)
{
  g_autoptr (Reply) reply = NULL;
  g_autofree char *path = NULL, *patient_id = NULL, *consultation_id = NULL, *body = NULL;
  g_autofree char *over_secret = NULL, *over_id = NULL;
  json_t *list;
  gint64 mark;

  /* Facilities and users (administrator). */
  reply = call (f, "POST", "/api/facilities", f->tokens[ADM],
                "{\"code\":\"24-VIETYEN\",\"name\":\"TTYT Việt Yên\",\"kind\":\"district-clinic\",\"province_code\":\"024\"}");
  assert_reply (reply, 201, NULL);
  g_assert_cmpstr (reply_string (reply, "name"), ==, "TTYT Việt Yên");
  g_clear_pointer (&reply, reply_free);
  reply = call (f, "POST", "/api/facilities", f->tokens[ADM],
                "{\"code\":\"24-VIETYEN\",\"name\":\"again\",\"kind\":\"district-clinic\",\"province_code\":\"024\"}");
  assert_reply (reply, 409, "conflict");
  g_clear_pointer (&reply, reply_free);
  reply = call (f, "GET", "/api/facilities", f->tokens[S2], NULL);
  assert_reply (reply, 200, NULL);
  g_assert_cmpuint (json_array_size (reply->json), ==, 4);
  g_clear_pointer (&reply, reply_free);

  body = g_strdup_printf ("{\"username\":\"bs.minh\",\"display_name\":\"BS Minh\",\"role\":\"specialist\","
                          "\"facility_id\":\"%s\",\"password\":\"mật khẩu dài\"}", f->fb);
  mark = audit_head (f);
  reply = call (f, "POST", "/api/users", f->tokens[ADM], body);
  assert_reply (reply, 201, NULL);
  g_assert_null (json_object_get (reply->json, "password"));
  g_assert_null (json_object_get (reply->json, "password_hash"));
  assert_one_audit (f, mark, f->user_ids[ADM], "create", "User", NULL, "success");
  g_clear_pointer (&reply, reply_free);
  reply = call (f, "POST", "/api/auth/login", NULL, "{\"username\":\"bs.minh\",\"password\":\"mật khẩu dài\"}");
  assert_reply (reply, 200, NULL);
  g_clear_pointer (&reply, reply_free);
  reply = call (f, "POST", "/api/users", f->tokens[ADM], body);
  assert_reply (reply, 409, "conflict");
  g_clear_pointer (&reply, reply_free);
  reply = call (f, "GET", "/api/users?role=specialist", f->tokens[C1], NULL);
  assert_reply (reply, 200, NULL);
  g_assert_cmpuint (json_array_size (reply->json), ==, 3);
  for (gsize i = 0; i < json_array_size (reply->json); i++)
    g_assert_cmpstr (json_string_value (json_object_get (json_array_get (reply->json, i), "role")),
                     ==, "specialist");
  g_clear_pointer (&reply, reply_free);
  reply = call (f, "GET", "/api/users", f->tokens[ADM], NULL);
  assert_reply (reply, 200, NULL);
  g_assert_cmpuint (json_array_size (reply->json), ==, 10);
  g_clear_pointer (&reply, reply_free);

  /* Patients: create (nurse of FA), search by name and identifier, read. */
  mark = audit_head (f);
  reply = call (f, "POST", "/api/patients", f->tokens[N1],
                "{\"cccd\":\"038090001234\",\"bhyt\":\"HC4380123456789\",\"name\":\"Trần Văn Bình\","
                "\"birth_date\":\"1990-02-03\",\"sex\":\"male\",\"phone\":\"+84 912 345 678\",\"address\":\"Đông Sơn, Thanh Hóa\"}");
  assert_reply (reply, 201, NULL);
  patient_id = g_strdup (reply_string (reply, "id"));
  g_assert_cmpstr (reply_string (reply, "facility_id"), ==, f->fa);
  assert_one_audit (f, mark, f->user_ids[N1], "create", "Patient", patient_id, "success");
  g_clear_pointer (&reply, reply_free);

  reply = call (f, "GET", "/api/patients?q=b%C3%ACnh", f->tokens[C2], NULL);
  assert_reply (reply, 200, NULL);
  g_assert_cmpuint (json_array_size (reply->json), ==, 1);
  g_clear_pointer (&reply, reply_free);
  /* FC's clinician does not find FA's patient. */
  reply = call (f, "GET", "/api/patients?q=b%C3%ACnh", f->tokens[C3], NULL);
  assert_reply (reply, 200, NULL);
  g_assert_cmpuint (json_array_size (reply->json), ==, 0);
  g_clear_pointer (&reply, reply_free);
  mark = audit_head (f);
  reply = call (f, "GET", "/api/patients?identifier=cccd%7C038090001234", f->tokens[C1], NULL);
  assert_reply (reply, 200, NULL);
  g_assert_cmpuint (json_array_size (reply->json), ==, 1);
  assert_one_audit (f, mark, f->user_ids[C1], "search", "Patient", patient_id, "success");
  g_clear_pointer (&reply, reply_free);
  reply = call (f, "GET", "/api/patients?identifier=urn:oid:2.16.704.1.1.2%7CHC4380123456789", f->tokens[C1], NULL);
  assert_reply (reply, 200, NULL);
  g_assert_cmpuint (json_array_size (reply->json), ==, 1);
  g_clear_pointer (&reply, reply_free);
  /* Specialists find the patients of their consultations only. */
  reply = call (f, "GET", "/api/patients", f->tokens[S1], NULL);
  assert_reply (reply, 200, NULL);
  g_assert_cmpuint (json_array_size (reply->json), ==, 1);
  g_assert_cmpstr (json_string_value (json_object_get (json_array_get (reply->json, 0), "id")), ==, f->p1);
  g_clear_pointer (&reply, reply_free);
  reply = call (f, "GET", "/api/patients", f->tokens[S2], NULL);
  assert_reply (reply, 200, NULL);
  g_assert_cmpuint (json_array_size (reply->json), ==, 0);
  g_clear_pointer (&reply, reply_free);

  /* Consultation for the new patient with s2; s2 can then read the chart. */
  g_free (body);
  body = g_strdup_printf ("{\"patient_id\":\"%s\",\"scheduled_at\":\"2026-11-24T02:00:00+07:00\","
                          "\"reason\":\"khó thở\",\"specialist_ids\":[\"%s\"]}", patient_id,
                          f->user_ids[S2]);
  g_free (path);
  path = g_strdup_printf ("/api/patients/%s", patient_id);
  reply = call (f, "GET", path, f->tokens[S2], NULL);
  assert_reply (reply, 403, "forbidden");
  g_clear_pointer (&reply, reply_free);
  mark = audit_head (f);
  reply = call (f, "POST", "/api/consultations", f->tokens[C1], body);
  assert_reply (reply, 201, NULL);
  consultation_id = g_strdup (reply_string (reply, "id"));
  g_assert_cmpstr (reply_string (reply, "status"), ==, "planned");
  g_assert_cmpstr (reply_string (reply, "scheduled_at"), ==, "2026-11-23T19:00:00.000Z");
  g_assert_cmpstr (reply_string (reply, "requesting_facility_id"), ==, f->fa);
  assert_one_audit (f, mark, f->user_ids[C1], "create", "Encounter", patient_id, "success");
  g_clear_pointer (&reply, reply_free);
  mark = audit_head (f);
  reply = call (f, "GET", path, f->tokens[S2], NULL);
  assert_reply (reply, 200, NULL);
  g_assert_cmpstr (json_string_value (json_object_get (json_object_get (reply->json, "patient"), "cccd")),
                   ==, "038090001234");
  g_assert_cmpuint (json_array_size (json_object_get (reply->json, "consultations")), ==, 1);
  assert_one_audit (f, mark, f->user_ids[S2], "read", "Patient", patient_id, "success");
  g_clear_pointer (&reply, reply_free);

  /* The worklist: s2 sees that one consultation, with the patient's name. */
  reply = call (f, "GET", "/api/consultations?from=2026-11-23T00:00:00Z&to=2026-11-25T00:00:00Z", f->tokens[S2], NULL);
  assert_reply (reply, 200, NULL);
  g_assert_cmpuint (json_array_size (reply->json), ==, 1);
  g_assert_cmpstr (json_string_value (json_object_get (json_object_get (json_array_get (reply->json, 0), "patient"), "name")),
                   ==, "Trần Văn Bình");
  g_clear_pointer (&reply, reply_free);
  reply = call (f, "GET", "/api/consultations", f->tokens[N1], NULL);
  assert_reply (reply, 200, NULL);
  g_assert_cmpuint (json_array_size (reply->json), ==, 2);
  g_clear_pointer (&reply, reply_free);

  /* An invitation made now stops working when the consultation is over. */
  over_secret = make_invitation (f, consultation_id, 3600, &over_id);

  /* Status moves, notes, a refused move (409) that changes nothing. */
  g_free (path);
  path = g_strdup_printf ("/api/consultations/%s", consultation_id);
  reply = call (f, "PATCH", path, f->tokens[S2], "{\"status\":\"arrived\",\"notes\":\"BN đã đến\"}");
  assert_reply (reply, 200, NULL);
  g_assert_cmpstr (reply_string (reply, "status"), ==, "arrived");
  g_assert_cmpstr (reply_string (reply, "notes"), ==, "BN đã đến");
  g_clear_pointer (&reply, reply_free);
  reply = call (f, "PATCH", path, f->tokens[C1], "{\"status\":\"in-progress\"}");
  assert_reply (reply, 200, NULL);
  g_assert_nonnull (reply_string (reply, "started_at"));
  g_clear_pointer (&reply, reply_free);
  reply = call (f, "PATCH", path, f->tokens[C1], "{\"status\":\"finished\",\"outcome\":\"ổn định\"}");
  assert_reply (reply, 200, NULL);
  g_assert_cmpstr (reply_string (reply, "outcome"), ==, "ổn định");
  g_assert_nonnull (reply_string (reply, "ended_at"));
  g_clear_pointer (&reply, reply_free);
  {
    g_autofree char *before = store_fingerprint (f), *after = NULL;

    reply = call (f, "PATCH", path, f->tokens[C1], "{\"status\":\"planned\",\"notes\":\"must not be kept\"}");
    assert_reply (reply, 409, "conflict");
    after = store_fingerprint (f);
    g_assert_cmpstr (before, ==, after);
    g_clear_pointer (&reply, reply_free);
    g_free (path);
    path = g_strdup_printf ("/api/consultations/%s/invitations", consultation_id);
    reply = call (f, "POST", path, f->tokens[C1], "{}");
    assert_reply (reply, 409, "conflict");
    g_clear_pointer (&reply, reply_free);
    g_free (body);
    body = g_strdup_printf ("{\"secret\":\"%s\"}", over_secret);
    mark = audit_head (f);
    reply = call (f, "POST", "/api/invitations/redeem", NULL, body);
    assert_reply (reply, 410, "invitation-expired");
    assert_one_audit (f, mark, over_id, "login", "Encounter", patient_id, "denied");
    g_clear_pointer (&reply, reply_free);
  }

  /* Inviting a specialist (the requester), and a non-specialist refused. */
  g_free (path);
  path = g_strdup_printf ("/api/consultations/%s/specialists", f->k1);
  g_free (body);
  body = g_strdup_printf ("{\"user_id\":\"%s\"}", f->user_ids[S2]);
  reply = call (f, "POST", path, f->tokens[C1], body);
  assert_reply (reply, 200, NULL);
  list = json_object_get (reply->json, "specialist_ids");
  g_assert_cmpuint (json_array_size (list), ==, 2);
  g_clear_pointer (&reply, reply_free);
  g_free (body);
  body = g_strdup_printf ("{\"user_id\":\"%s\"}", f->user_ids[N1]);
  reply = call (f, "POST", path, f->tokens[C1], body);
  assert_reply (reply, 400, "invalid-field");
  g_assert_cmpstr (reply_field (reply), ==, "user_id");
  g_clear_pointer (&reply, reply_free);

  /* Consents: the patient records their own; the chart lists it. */
  g_free (path);
  path = g_strdup_printf ("/api/patients/%s/consents", f->p1);
  g_free (body);
  body = g_strdup_printf ("{\"purpose\":\"recording\",\"granted\":true,\"method\":\"electronic\",\"consultation_id\":\"%s\"}", f->k1);
  mark = audit_head (f);
  reply = call (f, "POST", path, f->tokens[PAT1], body);
  assert_reply (reply, 201, NULL);
  g_assert_cmpstr (reply_string (reply, "recorded_by"), ==, "patient");
  g_assert_true (json_is_true (json_object_get (reply->json, "granted")));
  assert_one_audit (f, mark, f->inv1, "create", "Consent", f->p1, "success");
  g_clear_pointer (&reply, reply_free);
  g_free (path);
  path = g_strdup_printf ("/api/patients/%s", f->p1);
  reply = call (f, "GET", path, f->tokens[PAT1], NULL);
  assert_reply (reply, 200, NULL);
  g_assert_cmpuint (json_array_size (json_object_get (reply->json, "consents")), ==, 1);
  g_clear_pointer (&reply, reply_free);

  /* The audit log: filtered, bounded, itself audited. */
  reply = call (f, "GET", "/api/audit?action=create&limit=500", f->tokens[AUD], NULL);
  assert_reply (reply, 200, NULL);
  g_assert_cmpuint (json_array_size (reply->json), >=, 5);
  for (gsize i = 0; i < json_array_size (reply->json); i++)
    g_assert_cmpstr (json_string_value (json_object_get (json_array_get (reply->json, i), "action")),
                     ==, "create");
  g_clear_pointer (&reply, reply_free);
  g_free (path);
  path = g_strdup_printf ("/api/audit?patient=%s&limit=2", f->p1);
  reply = call (f, "GET", path, f->tokens[ADM], NULL);
  assert_reply (reply, 200, NULL);
  g_assert_cmpuint (json_array_size (reply->json), ==, 2);
  g_assert_nonnull (json_string_value (json_object_get (json_array_get (reply->json, 0), "hash")));
  g_clear_pointer (&reply, reply_free);
  reply = call (f, "GET", "/api/audit?limit=501", f->tokens[AUD], NULL);
  assert_reply (reply, 400, "invalid-field");
  g_assert_cmpstr (reply_field (reply), ==, "limit");
  g_clear_pointer (&reply, reply_free);

  /* Routing: unknown paths and methods. */
  reply = call (f, "GET", "/api/nothing", f->tokens[C1], NULL);
  assert_reply (reply, 404, "not-found");
  g_clear_pointer (&reply, reply_free);
  reply = call (f, "PUT", "/api/patients", f->tokens[C1], "{}");
  assert_reply (reply, 405, "method-not-allowed");
  g_clear_pointer (&reply, reply_free);
  reply = call (f, "GET", "/api/patients/not-a-uuid", f->tokens[C1], NULL);
  assert_reply (reply, 404, "not-found");
  g_clear_pointer (&reply, reply_free);
  reply = call (f, "GET", "/api/patients/00000000-0000-4000-8000-000000000000", f->tokens[C1], NULL);
  assert_reply (reply, 404, "not-found");
}

/* ---- briefings ------------------------------------------------------------ */

static gboolean
list_has (json_t *list, const char *id)
{
  for (gsize i = 0; i < json_array_size (list); i++)
    if (g_strcmp0 (json_string_value (json_object_get (json_array_get (list, i), "id")), id) == 0)
      return TRUE;
  return FALSE;
}

static void
test_briefings (Fixture *f, gconstpointer data)
{
  g_autoptr (Reply) reply = NULL;
  g_autofree char *id = NULL, *path = NULL, *end_path = NULL;
  g_autofree char *before = NULL, *after = NULL;
  g_autoptr (RecordsBriefing) stored = NULL;
  gint64 mark;

  /* A specialist schedules one: host and facility are the caller's. */
  mark = audit_head (f);
  reply = call (f, "POST", "/api/briefings", f->tokens[S1],
                "{\"title\":\"Giao ban tuyến tỉnh: ca khó\",\"scheduled_at\":\"2026-11-26T08:00:00+07:00\"}");
  assert_reply (reply, 201, NULL);
  id = g_strdup (reply_string (reply, "id"));
  g_assert_cmpuint (strlen (id), ==, 36);
  g_assert_cmpstr (reply_string (reply, "title"), ==, "Giao ban tuyến tỉnh: ca khó");
  g_assert_cmpstr (reply_string (reply, "host_id"), ==, f->user_ids[S1]);
  g_assert_cmpstr (reply_string (reply, "host_name"), ==, "s1");
  g_assert_cmpstr (reply_string (reply, "facility_id"), ==, f->fb);
  g_assert_cmpstr (reply_string (reply, "scheduled_at"), ==, "2026-11-26T01:00:00.000Z");
  g_assert_cmpstr (reply_string (reply, "status"), ==, "planned");
  path = g_strdup_printf ("/api/briefings/%s", id);
  end_path = g_strdup_printf ("/api/briefings/%s/end", id);
  {
    g_autofree char *whip = g_strdup_printf ("/whip/%s", id);
    g_autofree char *whep = g_strdup_printf ("/whep/%s", id);

    g_assert_cmpstr (reply_string (reply, "whip_path"), ==, whip);
    g_assert_cmpstr (reply_string (reply, "whep_path"), ==, whep);
  }
  assert_one_audit (f, mark, f->user_ids[S1], "create", "Briefing", NULL, "success");
  g_clear_pointer (&reply, reply_free);
  stored = records_briefing_get (f->store, id, NULL);
  g_assert_nonnull (stored);
  g_assert_cmpstr (stored->host_id, ==, f->user_ids[S1]);
  g_assert_cmpstr (stored->facility_id, ==, f->fb);

  /* Any clinical staff reads and lists it: upcoming, by date. */
  mark = audit_head (f);
  reply = call (f, "GET", path, f->tokens[N3], NULL);
  assert_reply (reply, 200, NULL);
  g_assert_cmpstr (reply_string (reply, "id"), ==, id);
  assert_one_audit (f, mark, f->user_ids[N3], "read", "Briefing", NULL, "success");
  g_clear_pointer (&reply, reply_free);
  reply = call (f, "GET", "/api/briefings", f->tokens[C3], NULL);
  assert_reply (reply, 200, NULL);
  g_assert_cmpuint (json_array_size (reply->json), ==, 2);
  /* B1 (2026-11-24) before the new one (2026-11-26). */
  g_assert_cmpstr (json_string_value (json_object_get (json_array_get (reply->json, 0), "id")), ==,
                   f->b1);
  g_assert_cmpstr (json_string_value (json_object_get (json_array_get (reply->json, 1), "id")), ==,
                   id);
  g_assert_cmpstr (json_string_value (json_object_get (json_array_get (reply->json, 0),
                                                       "host_name")), ==, "c1");
  g_clear_pointer (&reply, reply_free);
  reply = call (f, "GET", "/api/briefings?from=2026-11-25T00:00:00Z", f->tokens[C3], NULL);
  assert_reply (reply, 200, NULL);
  g_assert_cmpuint (json_array_size (reply->json), ==, 1);
  g_assert_true (list_has (reply->json, id));
  g_clear_pointer (&reply, reply_free);
  reply = call (f, "GET", "/api/briefings?to=2026-11-26T01:00:00Z", f->tokens[C3], NULL);
  assert_reply (reply, 200, NULL);
  g_assert_cmpuint (json_array_size (reply->json), ==, 1);
  g_assert_true (list_has (reply->json, f->b1));
  g_clear_pointer (&reply, reply_free);

  /* Only the host ends it; others (even its facility's staff) are refused,
   * nothing changes, the refusal is audited. */
  for (int p = 0; p < N_PRINCIPALS; p++) {
    if (p == S1)
      continue;
    before = store_fingerprint (f);
    mark = audit_head (f);
    reply = call (f, "POST", end_path, f->tokens[p], NULL);
    assert_reply (reply, 403, "forbidden");
    after = store_fingerprint (f);
    g_assert_cmpstr (before, ==, after);
    assert_one_audit (f, mark, NULL, NULL, NULL, NULL, "denied");
    g_clear_pointer (&reply, reply_free);
    g_clear_pointer (&before, g_free);
    g_clear_pointer (&after, g_free);
  }
  mark = audit_head (f);
  reply = call (f, "POST", end_path, f->tokens[S1], "{}");
  assert_reply (reply, 200, NULL);
  g_assert_cmpstr (reply_string (reply, "status"), ==, "ended");
  assert_one_audit (f, mark, f->user_ids[S1], "update", "Briefing", NULL, "success");
  g_clear_pointer (&reply, reply_free);
  /* Again: still ended, nothing new audited. */
  mark = audit_head (f);
  reply = call (f, "POST", end_path, f->tokens[S1], NULL);
  assert_reply (reply, 200, NULL);
  g_assert_cmpstr (reply_string (reply, "status"), ==, "ended");
  g_assert_cmpint (audit_head (f), ==, mark);
  g_clear_pointer (&reply, reply_free);

  /* Ended: gone from the upcoming list, still in a date range. */
  reply = call (f, "GET", "/api/briefings", f->tokens[C1], NULL);
  assert_reply (reply, 200, NULL);
  g_assert_false (list_has (reply->json, id));
  g_assert_true (list_has (reply->json, f->b1));
  g_clear_pointer (&reply, reply_free);
  reply = call (f, "GET", "/api/briefings?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z",
                f->tokens[C1], NULL);
  assert_reply (reply, 200, NULL);
  g_assert_true (list_has (reply->json, id));
  g_clear_pointer (&reply, reply_free);

  /* What signaling asks about a room id: a briefing that has not ended,
   * and its host. */
  {
    SignalingContext context = { .store = f->store };
    g_autofree char *host = NULL;

    g_assert_true (signaling_briefing_lookup (&context, f->b1, &host));
    g_assert_cmpstr (host, ==, f->user_ids[C1]);
    g_assert_true (signaling_briefing_lookup (&context, f->b1, NULL));
    g_clear_pointer (&host, g_free);
    g_assert_false (signaling_briefing_lookup (&context, id, &host));   /* ended */
    g_assert_null (host);
    g_assert_false (signaling_briefing_lookup (&context, f->k1, &host));   /* a consultation */
    g_assert_false (signaling_briefing_lookup (&context, "room-1", &host));
    g_assert_false (signaling_briefing_lookup (&context, "00000000-0000-4000-8000-000000000000",
                                               &host));
    g_assert_null (host);
    context.store = NULL;
    g_assert_false (signaling_briefing_lookup (&context, f->b1, &host));
  }

  /* Without a token: 401 before anything else. */
  reply = call (f, "POST", "/api/briefings", NULL, "{\"title\":\"x\"}");
  assert_reply (reply, 401, "unauthenticated");
  g_clear_pointer (&reply, reply_free);
  reply = call (f, "GET", path, "not-a-token", NULL);
  assert_reply (reply, 401, "token-invalid");
}

/* ---- bad input ------------------------------------------------------------- */

typedef struct {
  int who;
  const char *method;
  const char *path;
  const char *body;
  guint status;
  const char *code;
  const char *field;
} BadRow;

static const BadRow bad_rows[] = {
  /* Identifiers. */
  { N1, "POST", "/api/patients", "{\"cccd\":\"03818500000\",\"name\":\"A\",\"birth_date\":\"1985-01-01\",\"sex\":\"female\"}", 400, "invalid-cccd", "cccd" },
  { N1, "POST", "/api/patients", "{\"cccd\":\"999185000001\",\"name\":\"A\",\"birth_date\":\"1985-01-01\",\"sex\":\"female\"}", 400, "invalid-cccd", "cccd" },
  { N1, "POST", "/api/patients", "{\"cccd\":\"038190000001\",\"name\":\"A\",\"birth_date\":\"1985-01-01\",\"sex\":\"female\"}", 400, "invalid-cccd", "cccd" },
  { N1, "POST", "/api/patients", "{\"cccd\":\"03818500000A\",\"name\":\"A\",\"birth_date\":\"1985-01-01\",\"sex\":\"female\"}", 400, "invalid-cccd", "cccd" },
  { N1, "POST", "/api/patients", "{\"cccd\":\"038185000009\",\"bhyt\":\"ZZ4380123456789\",\"name\":\"A\",\"birth_date\":\"1985-01-01\",\"sex\":\"female\"}", 400, "invalid-bhyt", "bhyt" },
  { N1, "POST", "/api/patients", "{\"cccd\":\"038185000009\",\"bhyt\":\"HC9380123456789\",\"name\":\"A\",\"birth_date\":\"1985-01-01\",\"sex\":\"female\"}", 400, "invalid-bhyt", "bhyt" },
  { N1, "POST", "/api/patients", "{\"cccd\":\"038185000009\",\"bhyt\":\"HC43801234567\",\"name\":\"A\",\"birth_date\":\"1985-01-01\",\"sex\":\"female\"}", 400, "invalid-bhyt", "bhyt" },
  { C1, "GET", "/api/patients?identifier=cccd%7C12", NULL, 400, "invalid-cccd", "identifier" },
  { C1, "GET", "/api/patients?identifier=bhyt%7Cxx", NULL, 400, "invalid-bhyt", "identifier" },
  { C1, "GET", "/api/patients?identifier=passport%7C12", NULL, 400, "invalid-field", "identifier" },
  { C1, "GET", "/api/patients?identifier=cccd%7C%FF%FE%FD", NULL, 400, "invalid-field", "identifier" },
  { C1, "GET", "/api/patients?identifier=cccd%7C%E1%BA%9E%E1%BA%9E", NULL, 400, "invalid-cccd", "identifier" },
  { C1, "GET", "/api/patients?q=%FF%FE", NULL, 400, "invalid-field", "q" },
  { C1, "GET", "/api/patients?%FF%FE=1", NULL, 400, "invalid-field", "\xef\xbf\xbd\xef\xbf\xbd" },
  { C1, "GET", "/api/consultations?from=%FF", NULL, 400, "invalid-field", "from" },
  /* Unknown members, wrong types, missing members, bad values. */
  { N1, "POST", "/api/patients", "{\"cccd\":\"038185000009\",\"name\":\"A\",\"birth_date\":\"1985-01-01\",\"sex\":\"female\",\"role\":\"admin\"}", 400, "invalid-field", "role" },
  { N1, "POST", "/api/patients", "{\"cccd\":38185000009,\"name\":\"A\",\"birth_date\":\"1985-01-01\",\"sex\":\"female\"}", 400, "invalid-field", "cccd" },
  { N1, "POST", "/api/patients", "{\"cccd\":\"038185000009\",\"name\":[\"A\"],\"birth_date\":\"1985-01-01\",\"sex\":\"female\"}", 400, "invalid-field", "name" },
  { N1, "POST", "/api/patients", "{\"cccd\":\"038185000009\",\"birth_date\":\"1985-01-01\",\"sex\":\"female\"}", 400, "invalid-field", "name" },
  { N1, "POST", "/api/patients", "{\"cccd\":\"038185000009\",\"name\":\"A\",\"birth_date\":\"1985-02-30\",\"sex\":\"female\"}", 400, "invalid-field", "birth_date" },
  { N1, "POST", "/api/patients", "{\"cccd\":\"038185000009\",\"name\":\"A\",\"birth_date\":\"1985-01-01\",\"sex\":\"f\"}", 400, "invalid-field", "sex" },
  { N1, "POST", "/api/patients", "{\"cccd\":\"038185000009\",\"name\":\"\",\"birth_date\":\"1985-01-01\",\"sex\":\"female\"}", 400, "invalid-field", "name" },
  { N1, "POST", "/api/patients", "{\"cccd\":\"038185000009\",\"name\":\"A\\u0007B\",\"birth_date\":\"1985-01-01\",\"sex\":\"female\"}", 400, "invalid-field", "name" },
  { N1, "POST", "/api/patients", "{\"cccd\":\"038185000009\",\"name\":\"A\",\"birth_date\":\"1985-01-01\",\"sex\":\"female\",\"phone\":\"<script>\"}", 400, "invalid-field", "phone" },
  { ADM, "POST", "/api/users", "{\"username\":\"x'; DROP TABLE users;--\",\"display_name\":\"X\",\"role\":\"auditor\",\"password\":\"long enough\"}", 400, "invalid-field", "username" },
  { ADM, "POST", "/api/users", "{\"username\":\"newbie\",\"display_name\":\"X\",\"role\":\"patient\",\"password\":\"long enough\"}", 400, "invalid-field", "role" },
  { ADM, "POST", "/api/users", "{\"username\":\"newbie\",\"display_name\":\"X\",\"role\":\"nurse\",\"password\":\"long enough\"}", 400, "invalid-field", "facility_id" },
  { ADM, "POST", "/api/users", "{\"username\":\"newbie\",\"display_name\":\"X\",\"role\":\"auditor\",\"password\":\"short\"}", 400, "invalid-field", "password" },
  { ADM, "POST", "/api/users", "{\"username\":\"newbie\",\"display_name\":\"X\",\"role\":\"nurse\",\"facility_id\":\"00000000-0000-4000-8000-000000000000\",\"password\":\"long enough\"}", 400, "invalid-field", "facility_id" },
  { ADM, "POST", "/api/facilities", "{\"code\":\"A B\",\"name\":\"X\",\"kind\":\"district-clinic\",\"province_code\":\"024\"}", 400, "invalid-field", "code" },
  { ADM, "POST", "/api/facilities", "{\"code\":\"AB\",\"name\":\"X\",\"kind\":\"spa\",\"province_code\":\"024\"}", 400, "invalid-field", "kind" },
  { ADM, "POST", "/api/facilities", "{\"code\":\"AB\",\"name\":\"X\",\"kind\":\"district-clinic\",\"province_code\":24}", 400, "invalid-field", "province_code" },
  { C1, "POST", "/api/consultations", "{\"patient_id\":\"{P1}\",\"scheduled_at\":\"tomorrow\",\"reason\":\"x\"}", 400, "invalid-field", "scheduled_at" },
  { C1, "POST", "/api/consultations", "{\"patient_id\":\"{P1}\",\"scheduled_at\":\"2026-11-23T09:00:00Z\",\"reason\":\"x\",\"specialist_ids\":\"{S1}\"}", 400, "invalid-field", "specialist_ids" },
  { C1, "POST", "/api/consultations", "{\"patient_id\":\"{P1}\",\"scheduled_at\":\"2026-11-23T09:00:00Z\",\"reason\":\"x\",\"specialist_ids\":[\"{N1}\"]}", 400, "invalid-field", "specialist_ids" },
  { C1, "POST", "/api/consultations", "{\"patient_id\":\"{P1}\",\"scheduled_at\":\"2026-11-23T09:00:00Z\",\"reason\":\"x\",\"specialist_ids\":[\"{S1}\",\"{S1}\"]}", 400, "invalid-field", "specialist_ids" },
  { C1, "POST", "/api/consultations", "{\"patient_id\":\"1; DELETE FROM patients\",\"scheduled_at\":\"2026-11-23T09:00:00Z\",\"reason\":\"x\"}", 400, "invalid-field", "patient_id" },
  { C1, "PATCH", "/api/consultations/{K1}", "{\"status\":\"done\"}", 400, "invalid-field", "status" },
  { C1, "PATCH", "/api/consultations/{K1}", "{}", 400, "invalid-field", "status" },
  { C1, "PATCH", "/api/consultations/{K1}", "{\"notes\":true}", 400, "invalid-field", "notes" },
  { C1, "POST", "/api/consultations/{K1}/invitations", "{\"lifetime_minutes\":1441}", 400, "invalid-field", "lifetime_minutes" },
  { C1, "POST", "/api/consultations/{K1}/invitations", "{\"lifetime_minutes\":\"60\"}", 400, "invalid-field", "lifetime_minutes" },
  { C1, "POST", "/api/patients/{P1}/consents", "{\"purpose\":\"marketing\",\"granted\":true,\"method\":\"verbal\"}", 400, "invalid-field", "purpose" },
  { C1, "POST", "/api/patients/{P1}/consents", "{\"purpose\":\"recording\",\"granted\":\"yes\",\"method\":\"verbal\"}", 400, "invalid-field", "granted" },
  { C1, "GET", "/api/consultations?from=yesterday", NULL, 400, "invalid-field", "from" },
  { C1, "GET", "/api/patients?sort=name", NULL, 400, "invalid-field", "sort" },
  { AUD, "GET", "/api/audit?after=-1", NULL, 400, "invalid-field", "after" },
  { C3, "DELETE", "/api/consultations/{K1}/invitations/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", NULL, 404, "invitation-not-found", NULL },
  { AUD, "GET", "/api/audit?patient=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", NULL, 400, "invalid-field", "patient" },
  { ADM, "GET", "/api/audit?action=", NULL, 400, "invalid-field", "action" },
  /* Briefings. */
  { C1, "POST", "/api/briefings", "{\"title\":\"Giao ban\",\"scheduled_at\":\"2026-11-25T08:00:00Z\",\"host_id\":\"{S1}\"}", 400, "invalid-field", "host_id" },
  { C1, "POST", "/api/briefings", "{\"title\":\"Giao ban\",\"scheduled_at\":\"2026-11-25T08:00:00Z\",\"status\":\"live\"}", 400, "invalid-field", "status" },
  { C1, "POST", "/api/briefings", "{\"scheduled_at\":\"2026-11-25T08:00:00Z\"}", 400, "invalid-field", "title" },
  { C1, "POST", "/api/briefings", "{\"title\":\"\",\"scheduled_at\":\"2026-11-25T08:00:00Z\"}", 400, "invalid-field", "title" },
  { C1, "POST", "/api/briefings", "{\"title\":\"Giao\\nban\",\"scheduled_at\":\"2026-11-25T08:00:00Z\"}", 400, "invalid-field", "title" },
  { C1, "POST", "/api/briefings", "{\"title\":\"A\\u0007B\",\"scheduled_at\":\"2026-11-25T08:00:00Z\"}", 400, "invalid-field", "title" },
  { C1, "POST", "/api/briefings", "{\"title\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",\"scheduled_at\":\"2026-11-25T08:00:00Z\"}", 400, "invalid-field", "title" },
  { C1, "POST", "/api/briefings", "{\"title\":7,\"scheduled_at\":\"2026-11-25T08:00:00Z\"}", 400, "invalid-field", "title" },
  { C1, "POST", "/api/briefings", "{\"title\":\"Giao ban\"}", 400, "invalid-field", "scheduled_at" },
  { C1, "POST", "/api/briefings", "{\"title\":\"Giao ban\",\"scheduled_at\":\"2026-11-25\"}", 400, "invalid-field", "scheduled_at" },
  { C1, "POST", "/api/briefings", "{\"title\":\"Giao ban\",\"scheduled_at\":\"2026-11-25T08:00:00\"}", 400, "invalid-field", "scheduled_at" },
  { C1, "POST", "/api/briefings", "{\"title\":\"Giao ban\",\"scheduled_at\":\"2026-02-30T08:00:00Z\"}", 400, "invalid-field", "scheduled_at" },
  { C1, "POST", "/api/briefings", "{\"title\":\"Giao ban\",\"scheduled_at\":\"1999-12-31T23:00:00Z\"}", 400, "invalid-field", "scheduled_at" },
  { C1, "POST", "/api/briefings", "{\"title\":\"Giao ban\",\"scheduled_at\":\"2101-01-01T07:00:00+07:00\"}", 400, "invalid-field", "scheduled_at" },
  { C1, "POST", "/api/briefings?x=1", "{\"title\":\"Giao ban\",\"scheduled_at\":\"2026-11-25T08:00:00Z\"}", 400, "invalid-field", "x" },
  { C1, "POST", "/api/briefings", "[]", 400, "bad-json", NULL },
  { C1, "GET", "/api/briefings?from=yesterday", NULL, 400, "invalid-field", "from" },
  { C1, "GET", "/api/briefings?to=2026-13-01T00:00:00Z", NULL, 400, "invalid-field", "to" },
  { C1, "GET", "/api/briefings?status=live", NULL, 400, "invalid-field", "status" },
  { C1, "GET", "/api/briefings/not-a-uuid", NULL, 404, "not-found", NULL },
  { C1, "GET", "/api/briefings/00000000-0000-4000-8000-000000000000", NULL, 404, "not-found", NULL },
  { C1, "GET", "/api/briefings/{B1}?full=1", NULL, 400, "invalid-field", "full" },
  { C1, "POST", "/api/briefings/{B1}/end", "{\"reason\":\"x\"}", 400, "invalid-field", "reason" },
  { C1, "POST", "/api/briefings/{B1}/end", "{", 400, "bad-json", NULL },
  { C1, "POST", "/api/briefings/00000000-0000-4000-8000-000000000000/end", NULL, 404, "not-found", NULL },
  { C1, "PUT", "/api/briefings/{B1}", "{}", 405, "method-not-allowed", NULL },
  { C1, "GET", "/api/briefings/{B1}/end", NULL, 405, "method-not-allowed", NULL },
  { C1, "DELETE", "/api/briefings", NULL, 405, "method-not-allowed", NULL },
  { C1, "POST", "/api/briefings/{B1}/start", NULL, 404, "not-found", NULL },
  /* Not JSON, not an object, duplicate keys, trailing garbage, empty. */
  { N1, "POST", "/api/patients", "{\"cccd\":", 400, "bad-json", NULL },
  { N1, "POST", "/api/patients", "[1,2,3]", 400, "bad-json", NULL },
  { N1, "POST", "/api/patients", "{\"name\":\"A\",\"name\":\"B\"}", 400, "bad-json", NULL },
  { N1, "POST", "/api/patients", "{} {}", 400, "bad-json", NULL },
  { N1, "POST", "/api/patients", "", 400, "bad-json", NULL },
};

static void
test_bad_input (Fixture *f, gconstpointer data)
{
  for (gsize r = 0; r < G_N_ELEMENTS (bad_rows); r++) {
    const BadRow *row = &bad_rows[r];
    g_autofree char *path = expand (f, row->path);
    g_autofree char *body = row->body ? expand (f, row->body) : NULL;
    g_autofree char *before = store_fingerprint (f), *after = NULL;
    g_autoptr (Reply) reply = NULL;

    g_test_message ("bad row %zu: %s %s %s", r, row->method, row->path, row->body ? row->body : "");
    reply = call (f, row->method, path, f->tokens[row->who], body);
    assert_reply (reply, row->status, row->code);
    g_assert_cmpstr (reply_field (reply), ==, row->field);
    g_assert_nonnull (reply_string (reply, "message"));
    after = store_fingerprint (f);
    g_assert_cmpstr (before, ==, after);
  }
}

static void
test_oversized (Fixture *f, gconstpointer data)
{
  g_autofree char *before = store_fingerprint (f), *after = NULL;
  g_autoptr (GString) big = g_string_new ("{\"cccd\":\"038185000009\",\"name\":\"");
  g_autoptr (Reply) reply = NULL, unauthenticated = NULL, just_under = NULL;

  while (big->len < 100 * 1024)
    g_string_append (big, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  g_string_append (big, "\",\"birth_date\":\"1985-01-01\",\"sex\":\"female\"}");
  reply = call (f, "POST", "/api/patients", f->tokens[N1], big->str);
  assert_reply (reply, 413, "too-large");
  /* Before authentication too (a login body). */
  unauthenticated = call (f, "POST", "/api/auth/login", NULL, big->str);
  assert_reply (unauthenticated, 413, "too-large");
  /* A body of 64 KiB minus a little is read (and refused for its name). */
  g_string_truncate (big, 60 * 1024);
  g_string_append (big, "\",\"birth_date\":\"1985-01-01\",\"sex\":\"female\"}");
  just_under = call (f, "POST", "/api/patients", f->tokens[N1], big->str);
  assert_reply (just_under, 400, "invalid-field");
  g_assert_cmpstr (reply_field (just_under), ==, "name");
  after = store_fingerprint (f);
  g_assert_cmpstr (before, ==, after);
}

/* SQL metacharacters in every free-text field: stored and read back
 * verbatim (no SQL is built from values), every table intact. */
static void
test_sql_metacharacters (Fixture *f, gconstpointer data)
{
  static const char *const hostile[] = {
    "Robert'); DROP TABLE patients;--",
    "x\" OR \"1\"=\"1",
    "50% _under_ \\\\ back",
    "'; DELETE FROM audit_events; SELECT '",
  };
  g_autoptr (GError) error = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (hostile); i++) {
    g_autoptr (Reply) patient = NULL, facility = NULL, user = NULL, consultation = NULL;
    g_autoptr (Reply) patch = NULL, search = NULL, chart = NULL, login_reply = NULL;
    g_autoptr (SignalingJson) text = json_string (hostile[i]);
    g_autofree char *quoted = json_dumps (text, JSON_ENCODE_ANY);
    g_autofree char *body = NULL, *path = NULL, *escaped = NULL;
    g_autofree char *cccd = g_strdup_printf ("03818500%04zu", i + 100);
    const char *patient_id;

    /* Patient: name, phone refused (digits only), address. */
    body = g_strdup_printf ("{\"cccd\":\"%s\",\"name\":%s,\"birth_date\":\"1985-01-01\",\"sex\":\"female\",\"address\":%s}",
                            cccd, quoted, quoted);
    patient = call (f, "POST", "/api/patients", f->tokens[C1], body);
    assert_reply (patient, 201, NULL);
    g_assert_cmpstr (reply_string (patient, "name"), ==, hostile[i]);
    g_assert_cmpstr (reply_string (patient, "address"), ==, hostile[i]);
    patient_id = reply_string (patient, "id");
    path = g_strdup_printf ("/api/patients/%s", patient_id);
    chart = call (f, "GET", path, f->tokens[C2], NULL);
    assert_reply (chart, 200, NULL);
    g_assert_cmpstr (json_string_value (json_object_get (json_object_get (chart->json, "patient"), "name")),
                     ==, hostile[i]);
    /* Searching by the hostile text finds exactly that patient. */
    escaped = g_uri_escape_string (hostile[i], NULL, FALSE);
    g_free (path);
    path = g_strdup_printf ("/api/patients?q=%s", escaped);
    search = call (f, "GET", path, f->tokens[C1], NULL);
    assert_reply (search, 200, NULL);
    g_assert_cmpuint (json_array_size (search->json), ==, 1);

    /* Facility name, user display name, consultation reason, notes, outcome. */
    g_free (body);
    body = g_strdup_printf ("{\"code\":\"SQL-%zu\",\"name\":%s,\"kind\":\"district-clinic\",\"province_code\":\"001\"}", i, quoted);
    facility = call (f, "POST", "/api/facilities", f->tokens[ADM], body);
    assert_reply (facility, 201, NULL);
    g_assert_cmpstr (reply_string (facility, "name"), ==, hostile[i]);
    g_free (body);
    body = g_strdup_printf ("{\"username\":\"sql.%zu\",\"display_name\":%s,\"role\":\"auditor\",\"password\":%s}",
                            i, quoted, quoted);
    user = call (f, "POST", "/api/users", f->tokens[ADM], body);
    assert_reply (user, 201, NULL);
    g_assert_cmpstr (reply_string (user, "display_name"), ==, hostile[i]);
    /* The hostile password works as a password. */
    g_free (body);
    body = g_strdup_printf ("{\"username\":\"sql.%zu\",\"password\":%s}", i, quoted);
    login_reply = call (f, "POST", "/api/auth/login", NULL, body);
    assert_reply (login_reply, 200, NULL);

    g_free (body);
    body = g_strdup_printf ("{\"patient_id\":\"%s\",\"scheduled_at\":\"2026-11-25T09:00:00Z\",\"reason\":%s}",
                            patient_id, quoted);
    consultation = call (f, "POST", "/api/consultations", f->tokens[C1], body);
    assert_reply (consultation, 201, NULL);
    g_assert_cmpstr (reply_string (consultation, "reason"), ==, hostile[i]);
    g_free (path);
    path = g_strdup_printf ("/api/consultations/%s", reply_string (consultation, "id"));
    g_free (body);
    body = g_strdup_printf ("{\"notes\":%s,\"outcome\":%s}", quoted, quoted);
    patch = call (f, "PATCH", path, f->tokens[C1], body);
    assert_reply (patch, 200, NULL);
    g_assert_cmpstr (reply_string (patch, "notes"), ==, hostile[i]);
    g_assert_cmpstr (reply_string (patch, "outcome"), ==, hostile[i]);
  }
  /* Every table still there, the seeded rows intact, the chain whole. */
  {
    g_autoptr (RecordsPatient) p1 = records_patient_get (f->store, f->p1, &error);
    gint64 count = 0;

    g_assert_no_error (error);
    g_assert_cmpstr (p1->name, ==, "Lê Thị Hoa");
    g_assert_true (records_audit_verify (f->store, &count, NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpint (count, >, 10);
  }
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  static const struct {
    const char *name;
    void (*test) (Fixture *, gconstpointer);
  } tests[] = {
    { "matrix", test_matrix },
    { "login-logout", test_login_logout },
    { "lockout", test_lockout },
    { "login-off-loop", test_login_off_loop },
    { "bad-tokens", test_bad_tokens },
    { "invitations", test_invitations },
    { "endpoints", test_endpoints },
    { "bad-input", test_bad_input },
    { "oversized", test_oversized },
    { "sql-metacharacters", test_sql_metacharacters },
    { "briefings", test_briefings },
  };
  int status;

  g_test_init (&argc, &argv, NULL);
  for (int backend = 0; backend < 2; backend++)
    for (gsize i = 0; i < G_N_ELEMENTS (tests); i++) {
      g_autofree char *name = g_strdup_printf ("/api/%s/%s", backend ? "postgresql" : "sqlite",
                                               tests[i].name);

      g_test_add (name, Fixture, GINT_TO_POINTER (backend), fixture_set_up, tests[i].test,
                  fixture_tear_down);
    }
  /* The PostgreSQL server is started only when a PostgreSQL test runs. */
  if (!g_test_subprocess ()) {
    gboolean want_pg = TRUE;

    for (int i = 1; i < argc; i++)
      if (strcmp (argv[i], "-p") == 0 && i + 1 < argc && !strstr (argv[i + 1], "postgresql"))
        want_pg = FALSE;
    if (want_pg) {
      pg = pg_fixture_start (&error);
      g_assert_no_error (error);
    }
  }
  status = g_test_run ();
  pg_fixture_stop (pg);
  return status;
}
