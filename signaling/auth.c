/* auth.c — tokens, staff login, patient invitations (see auth.h). */
#include "auth.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "password.h"

G_DEFINE_QUARK (signaling-auth-error-quark, signaling_auth_error)

#define TOKEN_ISSUER "cau"
#define CLAIM_ID_MAX 128

struct SignalingAuth {
  RecordsStore *store;
  guint8 key[SIGNALING_TOKEN_KEY_BYTES];
  guint t_cost;
  guint m_cost_kib;
  char *dummy_hash;   /* made at the first login, at the configured cost */
};

static const struct {
  const char *code;
  guint status;
} error_codes[] = {
  [SIGNALING_AUTH_ERROR_UNAUTHENTICATED] = { "unauthenticated", 401 },
  [SIGNALING_AUTH_ERROR_TOKEN_INVALID] = { "token-invalid", 401 },
  [SIGNALING_AUTH_ERROR_TOKEN_EXPIRED] = { "token-expired", 401 },
  [SIGNALING_AUTH_ERROR_TOKEN_REVOKED] = { "token-revoked", 401 },
  [SIGNALING_AUTH_ERROR_INVALID_CREDENTIALS] = { "invalid-credentials", 401 },
  [SIGNALING_AUTH_ERROR_ACCOUNT_LOCKED] = { "account-locked", 423 },
  [SIGNALING_AUTH_ERROR_FORBIDDEN] = { "forbidden", 403 },
  [SIGNALING_AUTH_ERROR_INVITATION_NOT_FOUND] = { "invitation-not-found", 404 },
  [SIGNALING_AUTH_ERROR_INVITATION_EXPIRED] = { "invitation-expired", 410 },
  [SIGNALING_AUTH_ERROR_INVITATION_REVOKED] = { "invitation-revoked", 403 },
  [SIGNALING_AUTH_ERROR_KEY] = { "internal", 500 },
  [SIGNALING_AUTH_ERROR_INTERNAL] = { "internal", 500 },
};

const char *
signaling_auth_error_code_string (int code)
{
  if (code < 0 || (gsize) code >= G_N_ELEMENTS (error_codes))
    return "internal";
  return error_codes[code].code;
}

guint
signaling_auth_error_http_status (int code)
{
  if (code < 0 || (gsize) code >= G_N_ELEMENTS (error_codes))
    return 500;
  return error_codes[code].status;
}

static gint64
now_seconds (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

/* ---- time ------------------------------------------------------------- */

gboolean
signaling_auth_parse_time (const char *text, gint64 *out_seconds)
{
  g_autoptr (GDateTime) time = NULL;

  if (text == NULL || strlen (text) > 40)
    return FALSE;
  time = g_date_time_new_from_iso8601 (text, NULL);
  if (time == NULL)
    return FALSE;
  *out_seconds = g_date_time_to_unix (time);
  return TRUE;
}

char *
signaling_auth_format_time (gint64 seconds)
{
  g_autoptr (GDateTime) time = g_date_time_new_from_unix_utc (seconds);

  if (time == NULL)
    return g_strdup ("1970-01-01T00:00:00.000Z");
  return g_date_time_format (time, "%Y-%m-%dT%H:%M:%S.000Z");
}

/* ---- key -------------------------------------------------------------- */

static gboolean
key_create (const char *path, guint8 *key, GError **error)
{
  int fd;
  ssize_t written;

  if (RAND_bytes (key, SIGNALING_TOKEN_KEY_BYTES) != 1) {
    g_set_error_literal (error, SIGNALING_AUTH_ERROR, SIGNALING_AUTH_ERROR_KEY,
                         "token key: the random source failed");
    return FALSE;
  }
  fd = g_open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    int saved = errno;

    g_set_error (error, SIGNALING_AUTH_ERROR, SIGNALING_AUTH_ERROR_KEY,
                 "token key %s: cannot create: %s", path, g_strerror (saved));
    return FALSE;
  }
  written = write (fd, key, SIGNALING_TOKEN_KEY_BYTES);
  if (written != SIGNALING_TOKEN_KEY_BYTES || fsync (fd) != 0) {
    close (fd);
    g_unlink (path);
    g_set_error (error, SIGNALING_AUTH_ERROR, SIGNALING_AUTH_ERROR_KEY,
                 "token key %s: cannot write", path);
    return FALSE;
  }
  close (fd);
  g_message ("token key created: %s", path);
  return TRUE;
}

gboolean
signaling_auth_key_load (const char *data_dir, guint8 key[SIGNALING_TOKEN_KEY_BYTES],
                         GError **error)
{
  g_autofree char *path = NULL;
  struct stat st;
  ssize_t got;
  int fd;

  g_return_val_if_fail (data_dir != NULL && key != NULL, FALSE);

  path = g_build_filename (data_dir, "token.key", NULL);
  fd = g_open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0);
  if (fd < 0 && errno == ENOENT)
    return key_create (path, key, error);
  if (fd < 0) {
    int saved = errno;

    g_set_error (error, SIGNALING_AUTH_ERROR, SIGNALING_AUTH_ERROR_KEY,
                 "token key %s: cannot open: %s", path, g_strerror (saved));
    return FALSE;
  }
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode)) {
    close (fd);
    g_set_error (error, SIGNALING_AUTH_ERROR, SIGNALING_AUTH_ERROR_KEY,
                 "token key %s: not a regular file", path);
    return FALSE;
  }
  if ((st.st_mode & 077) != 0) {
    close (fd);
    g_set_error (error, SIGNALING_AUTH_ERROR, SIGNALING_AUTH_ERROR_KEY,
                 "token key %s: mode %03o lets group or others access it; chmod 600 it",
                 path, (unsigned) (st.st_mode & 0777));
    return FALSE;
  }
  if (st.st_size != SIGNALING_TOKEN_KEY_BYTES) {
    close (fd);
    g_set_error (error, SIGNALING_AUTH_ERROR, SIGNALING_AUTH_ERROR_KEY,
                 "token key %s: %lld bytes, expected %d", path, (long long) st.st_size,
                 SIGNALING_TOKEN_KEY_BYTES);
    return FALSE;
  }
  got = read (fd, key, SIGNALING_TOKEN_KEY_BYTES);
  close (fd);
  if (got != SIGNALING_TOKEN_KEY_BYTES) {
    g_set_error (error, SIGNALING_AUTH_ERROR, SIGNALING_AUTH_ERROR_KEY,
                 "token key %s: cannot read", path);
    return FALSE;
  }
  return TRUE;
}

/* ---- base64url (RFC 4648 §5, no padding, as JWS requires) ---------------- */

static char *
base64url_encode (const guint8 *data, gsize length)
{
  char *text = g_base64_encode (data, length);
  char *out = text;

  for (char *p = text; *p; p++) {
    if (*p == '=')
      break;
    *out++ = *p == '+' ? '-' : *p == '/' ? '_' : *p;
  }
  *out = '\0';
  return text;
}

/* Strict: only the URL alphabet, no padding, and canonical (the unused low
 * bits of the last character are zero: re-encoding gives the same text). */
static guint8 *
base64url_decode (const char *text, gsize length, gsize *out_length)
{
  g_autofree char *padded = NULL;
  g_autofree guint8 *data = NULL;
  g_autofree char *again = NULL;
  gsize padded_length;

  if (length == 0 || length % 4 == 1)
    return NULL;
  for (gsize i = 0; i < length; i++)
    if (!g_ascii_isalnum (text[i]) && text[i] != '-' && text[i] != '_')
      return NULL;
  padded_length = (length + 3) / 4 * 4;
  padded = g_malloc (padded_length + 1);
  for (gsize i = 0; i < padded_length; i++)
    padded[i] = i >= length ? '=' : text[i] == '-' ? '+' : text[i] == '_' ? '/' : text[i];
  padded[padded_length] = '\0';
  data = g_base64_decode (padded, out_length);
  again = base64url_encode (data, *out_length);
  if (strlen (again) != length || memcmp (again, text, length) != 0)
    return NULL;
  return g_steal_pointer (&data);
}

/* ---- tokens ----------------------------------------------------------- */

void
signaling_token_claims_free (SignalingTokenClaims *claims)
{
  if (claims == NULL)
    return;
  g_free (claims->sub);
  g_free (claims->role);
  g_free (claims->jti);
  g_free (claims->cid);
  g_free (claims->pid);
  g_free (claims);
}

static void
token_mac (const guint8 *key, const char *data, gsize length, guint8 mac[32])
{
  unsigned int mac_length = 32;

  if (HMAC (EVP_sha256 (), key, SIGNALING_TOKEN_KEY_BYTES, (const guint8 *) data, length, mac,
            &mac_length) == NULL || mac_length != 32)
    g_error ("HMAC-SHA256 failed");   /* only on OpenSSL memory exhaustion */
}

char *
signaling_token_encode (const guint8 key[SIGNALING_TOKEN_KEY_BYTES],
                        const SignalingTokenClaims *claims)
{
  static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
  g_autoptr (GString) token = NULL;
  g_autofree char *header_b64 = NULL, *payload_b64 = NULL, *mac_b64 = NULL;
  g_autofree char *payload = NULL;
  json_t *object;
  guint8 mac[32];

  g_return_val_if_fail (key != NULL && claims != NULL, NULL);
  g_return_val_if_fail (claims->sub && claims->role && claims->jti, NULL);

  object = json_pack ("{s:s, s:s, s:s, s:s}", "iss", TOKEN_ISSUER, "sub", claims->sub,
                      "role", claims->role, "jti", claims->jti);
  if (claims->cid)
    json_object_set_new (object, "cid", json_string (claims->cid));
  if (claims->pid)
    json_object_set_new (object, "pid", json_string (claims->pid));
  json_object_set_new (object, "iat", json_integer (claims->iat));
  json_object_set_new (object, "exp", json_integer (claims->exp));
  payload = json_dumps (object, JSON_COMPACT);
  json_decref (object);

  header_b64 = base64url_encode ((const guint8 *) header, strlen (header));
  payload_b64 = base64url_encode ((const guint8 *) payload, strlen (payload));
  token = g_string_new (header_b64);
  g_string_append_c (token, '.');
  g_string_append (token, payload_b64);
  token_mac (key, token->str, token->len, mac);
  mac_b64 = base64url_encode (mac, sizeof mac);
  g_string_append_c (token, '.');
  g_string_append (token, mac_b64);
  OPENSSL_cleanse (mac, sizeof mac);
  return g_string_free (g_steal_pointer (&token), FALSE);
}

static gboolean
token_invalid (GError **error, const char *why)
{
  g_set_error (error, SIGNALING_AUTH_ERROR, SIGNALING_AUTH_ERROR_TOKEN_INVALID,
               "token: %s", why);
  return FALSE;
}

/* A base64url part holding one JSON object, duplicates refused. */
static json_t *
decode_json_part (const char *text, gsize length)
{
  g_autofree guint8 *data = NULL;
  gsize data_length = 0;
  json_t *value;

  data = base64url_decode (text, length, &data_length);
  if (data == NULL)
    return NULL;
  value = json_loadb ((const char *) data, data_length, JSON_REJECT_DUPLICATES, NULL);
  if (value != NULL && !json_is_object (value)) {
    json_decref (value);
    return NULL;
  }
  return value;
}

static gboolean
header_acceptable (json_t *header)
{
  const char *name;
  json_t *value;

  /* RFC 8725 §3.1: the algorithm is ours to choose, not the token's. */
  if (!json_is_string (json_object_get (header, "alg"))
      || strcmp (json_string_value (json_object_get (header, "alg")), "HS256") != 0)
    return FALSE;
  json_object_foreach (header, name, value) {
    if (strcmp (name, "alg") == 0)
      continue;
    if (strcmp (name, "typ") == 0 && json_is_string (value)
        && strcmp (json_string_value (value), "JWT") == 0)
      continue;
    return FALSE;   /* crit, kid, jku, ...: nothing else is ours */
  }
  return TRUE;
}

static char *
claim_string (json_t *payload, const char *name)
{
  json_t *value = json_object_get (payload, name);
  const char *text;

  if (!json_is_string (value))
    return NULL;
  text = json_string_value (value);
  if (*text == '\0' || strlen (text) > CLAIM_ID_MAX || strlen (text) != json_string_length (value))
    return NULL;
  return g_strdup (text);
}

SignalingTokenClaims *
signaling_token_decode (const guint8 key[SIGNALING_TOKEN_KEY_BYTES], const char *token,
                        gint64 now, GError **error)
{
  static const char *const known_claims[] = { "iss", "sub", "role", "jti", "cid", "pid",
                                              "iat", "exp" };
  g_autoptr (SignalingTokenClaims) claims = NULL;
  json_t *header = NULL, *payload = NULL;
  const char *first_dot, *second_dot, *name;
  g_autofree guint8 *mac = NULL;
  guint8 expected[32];
  gsize length, mac_length = 0;
  json_t *value;
  RecordsRole role;
  gboolean patient;

  g_return_val_if_fail (key != NULL, NULL);

  if (token == NULL || *token == '\0') {
    g_set_error_literal (error, SIGNALING_AUTH_ERROR, SIGNALING_AUTH_ERROR_UNAUTHENTICATED,
                         "no token");
    return NULL;
  }
  length = strnlen (token, SIGNALING_TOKEN_MAX_LENGTH + 1);
  if (length > SIGNALING_TOKEN_MAX_LENGTH) {
    token_invalid (error, "too long");
    return NULL;
  }
  first_dot = strchr (token, '.');
  second_dot = first_dot ? strchr (first_dot + 1, '.') : NULL;
  if (second_dot == NULL || strchr (second_dot + 1, '.') != NULL) {
    token_invalid (error, "not three dot-separated parts");
    return NULL;
  }

  header = decode_json_part (token, first_dot - token);
  if (header == NULL || !header_acceptable (header)) {
    token_invalid (error, header ? "algorithm not HS256" : "malformed header");
    goto fail;
  }

  mac = base64url_decode (second_dot + 1, length - (second_dot + 1 - token), &mac_length);
  if (mac == NULL || mac_length != sizeof expected) {
    token_invalid (error, "malformed signature");
    goto fail;
  }
  token_mac (key, token, second_dot - token, expected);
  if (CRYPTO_memcmp (expected, mac, sizeof expected) != 0) {
    token_invalid (error, "bad signature");
    goto fail;
  }

  payload = decode_json_part (first_dot + 1, second_dot - first_dot - 1);
  if (payload == NULL) {
    token_invalid (error, "malformed payload");
    goto fail;
  }
  json_object_foreach (payload, name, value) {
    gboolean known = FALSE;

    for (gsize i = 0; i < G_N_ELEMENTS (known_claims); i++)
      known = known || strcmp (name, known_claims[i]) == 0;
    if (!known) {
      token_invalid (error, "unknown claim");
      goto fail;
    }
  }
  value = json_object_get (payload, "iss");
  if (!json_is_string (value) || strcmp (json_string_value (value), TOKEN_ISSUER) != 0) {
    token_invalid (error, "wrong issuer");
    goto fail;
  }

  claims = g_new0 (SignalingTokenClaims, 1);
  claims->sub = claim_string (payload, "sub");
  claims->role = claim_string (payload, "role");
  claims->jti = claim_string (payload, "jti");
  if (!claims->sub || !claims->role || !claims->jti
      || !records_role_from_string (claims->role, &role)
      || !json_is_integer (json_object_get (payload, "iat"))
      || !json_is_integer (json_object_get (payload, "exp"))) {
    token_invalid (error, "missing or malformed claim");
    goto fail;
  }
  patient = role == RECORDS_ROLE_PATIENT;
  claims->cid = claim_string (payload, "cid");
  claims->pid = claim_string (payload, "pid");
  if (patient ? (!claims->cid || !claims->pid)
              : (json_object_get (payload, "cid") || json_object_get (payload, "pid"))) {
    token_invalid (error, "consultation claims do not match the role");
    goto fail;
  }
  claims->iat = json_integer_value (json_object_get (payload, "iat"));
  claims->exp = json_integer_value (json_object_get (payload, "exp"));
  if (claims->exp <= claims->iat) {
    token_invalid (error, "expires before it was issued");
    goto fail;
  }
  if (claims->iat > now + SIGNALING_TOKEN_LEEWAY_SECONDS) {
    token_invalid (error, "issued in the future");
    goto fail;
  }
  if (now > claims->exp + SIGNALING_TOKEN_LEEWAY_SECONDS) {
    g_set_error_literal (error, SIGNALING_AUTH_ERROR, SIGNALING_AUTH_ERROR_TOKEN_EXPIRED,
                         "token: expired");
    goto fail;
  }
  json_decref (header);
  json_decref (payload);
  OPENSSL_cleanse (expected, sizeof expected);
  return g_steal_pointer (&claims);

fail:
  json_decref (header);
  json_decref (payload);
  OPENSSL_cleanse (expected, sizeof expected);
  return NULL;
}

/* ---- SignalingAuth ----------------------------------------------------- */

SignalingAuth *
signaling_auth_new (RecordsStore *store, const char *data_dir, GError **error)
{
  g_autoptr (SignalingAuth) auth = NULL;

  g_return_val_if_fail (store != NULL && data_dir != NULL, NULL);
  auth = g_new0 (SignalingAuth, 1);
  auth->store = store;
  auth->t_cost = RECORDS_PASSWORD_T_COST;
  auth->m_cost_kib = RECORDS_PASSWORD_M_COST_KIB;
  if (!signaling_auth_key_load (data_dir, auth->key, error))
    return NULL;
  return g_steal_pointer (&auth);
}

void
signaling_auth_free (SignalingAuth *auth)
{
  if (auth == NULL)
    return;
  OPENSSL_cleanse (auth->key, sizeof auth->key);
  g_free (auth->dummy_hash);
  g_free (auth);
}

const guint8 *
signaling_auth_get_key (SignalingAuth *auth)
{
  g_return_val_if_fail (auth != NULL, NULL);
  return auth->key;
}

void
signaling_auth_set_password_cost (SignalingAuth *auth, guint t_cost, guint m_cost_kib)
{
  g_return_if_fail (auth != NULL && t_cost >= 1 && m_cost_kib >= 8);
  auth->t_cost = t_cost;
  auth->m_cost_kib = m_cost_kib;
  g_clear_pointer (&auth->dummy_hash, g_free);
}

char *
signaling_auth_hash_password (SignalingAuth *auth, const char *password, GError **error)
{
  g_return_val_if_fail (auth != NULL && password != NULL, NULL);
  return records_password_hash_with_cost (password, auth->t_cost, auth->m_cost_kib, error);
}

/* The hash an unknown username is checked against, so that it costs the
 * same Argon2id work as a known one.  Made before the first lookup of any
 * login, so the first attempt is no slower for either kind. */
static const char *
auth_dummy_hash (SignalingAuth *auth)
{
  if (auth->dummy_hash == NULL) {
    guint8 random[18];
    g_autofree char *password = NULL;

    RAND_bytes (random, sizeof random);
    password = base64url_encode (random, sizeof random);
    auth->dummy_hash = records_password_hash_with_cost (password, auth->t_cost,
                                                        auth->m_cost_kib, NULL);
    if (auth->dummy_hash == NULL)
      auth->dummy_hash = g_strdup ("$argon2id$v=19$m=65536,t=3,p=1$"
                                   "AAAAAAAAAAAAAAAAAAAAAA$"
                                   "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  }
  return auth->dummy_hash;
}

void
signaling_auth_result_clear (SignalingAuthResult *result)
{
  if (result == NULL)
    return;
  g_clear_pointer (&result->token, g_free);
  g_clear_pointer (&result->user, records_user_free);
  g_clear_pointer (&result->invitation, records_invitation_free);
  g_clear_pointer (&result->principal, signaling_principal_free);
  result->expires_at = 0;
  result->retry_after = 0;
}

static gboolean
store_failed (GError **error, GError *cause, const char *what)
{
  g_warning ("%s: %s", what, cause ? cause->message : "unknown store error");
  g_set_error (error, SIGNALING_AUTH_ERROR, SIGNALING_AUTH_ERROR_INTERNAL, "%s failed", what);
  return FALSE;
}

static SignalingPrincipal *
principal_for_user (const RecordsUser *user, const char *session_id, gint64 expires_at)
{
  SignalingPrincipal *principal = g_new0 (SignalingPrincipal, 1);

  principal->role = user->role;
  principal->user_id = g_strdup (user->id);
  principal->username = g_strdup (user->username);
  principal->display_name = g_strdup (user->display_name);
  principal->facility_id = g_strdup (user->facility_id);
  principal->session_id = g_strdup (session_id);
  principal->expires_at = expires_at;
  return principal;
}

static char *
staff_token (SignalingAuth *auth, const RecordsUser *user, const char *session_id,
             gint64 now, gint64 session_expires_at, gint64 *out_exp)
{
  SignalingTokenClaims claims = {
    .sub = user->id,
    .role = (char *) records_role_to_string (user->role),
    .jti = (char *) session_id,
    .iat = now,
    .exp = MIN (now + SIGNALING_STAFF_TOKEN_SECONDS, session_expires_at),
  };

  *out_exp = claims.exp;
  return signaling_token_encode (auth->key, &claims);
}

static gboolean
record_login_state (SignalingAuth *auth, const RecordsUser *user, int failures,
                    gint64 locked_until, GError **error)
{
  g_autoptr (GError) local = NULL;

  if (!records_user_set_login_state (auth->store, user->id, failures, locked_until, &local))
    return store_failed (error, local, "login state update");
  return TRUE;
}

struct SignalingLoginAttempt {
  RecordsUser *user;       /* NULL: unknown username (or a store error)      */
  GError *store_error;     /* the lookup failed                              */
  char *phc;               /* the hash to check: the user's, or the dummy    */
  gboolean needs_verify;   /* FALSE while locked: the answer is known        */
};

void
signaling_login_attempt_free (SignalingLoginAttempt *attempt)
{
  if (attempt == NULL)
    return;
  records_user_free (attempt->user);
  g_clear_error (&attempt->store_error);
  g_free (attempt->phc);
  g_free (attempt);
}

const char *
signaling_login_attempt_get_phc (const SignalingLoginAttempt *attempt)
{
  g_return_val_if_fail (attempt != NULL, NULL);
  return attempt->needs_verify ? attempt->phc : NULL;
}

SignalingLoginAttempt *
signaling_auth_login_begin (SignalingAuth *auth, const char *username)
{
  SignalingLoginAttempt *attempt;
  const char *dummy;

  g_return_val_if_fail (auth != NULL, NULL);

  attempt = g_new0 (SignalingLoginAttempt, 1);
  dummy = auth_dummy_hash (auth);
  if (username != NULL)
    attempt->user = records_user_get_by_username (auth->store, username, &attempt->store_error);
  if (attempt->user == NULL && attempt->store_error != NULL
      && attempt->store_error->domain == RECORDS_ERROR
      && (attempt->store_error->code == RECORDS_ERROR_NOT_FOUND
          || attempt->store_error->code == RECORDS_ERROR_INVALID))
    g_clear_error (&attempt->store_error);   /* an unknown username, not a failure */
  if (attempt->user != NULL && !attempt->user->disabled
      && attempt->user->locked_until > now_seconds ()) {
    attempt->needs_verify = FALSE;
    return attempt;
  }
  /* Unknown and disabled users are checked against the dummy hash: the
   * same Argon2id work as a known user's. */
  attempt->needs_verify = attempt->store_error == NULL;
  attempt->phc = g_strdup (attempt->user && !attempt->user->disabled
                             && attempt->user->password_hash
                           ? attempt->user->password_hash : dummy);
  return attempt;
}

gboolean
signaling_auth_login_finish (SignalingAuth *auth, SignalingLoginAttempt *attempt,
                             gboolean password_matches, SignalingAuthResult *result,
                             GError **error)
{
  g_autoptr (RecordsUser) user = NULL;
  g_autoptr (GError) local = NULL;
  g_autofree char *session_id = NULL;
  gint64 now, session_expires_at;

  g_return_val_if_fail (auth != NULL && attempt != NULL && result != NULL, FALSE);

  if (attempt->store_error != NULL)
    return store_failed (error, attempt->store_error, "user lookup");
  if (attempt->user == NULL || attempt->user->disabled) {
    g_set_error_literal (error, SIGNALING_AUTH_ERROR, SIGNALING_AUTH_ERROR_INVALID_CREDENTIALS,
                         "wrong username or password");
    result->user = g_steal_pointer (&attempt->user);
    return FALSE;
  }
  /* Read the login state again: another attempt may have counted a failure
   * while this one's hash was being checked. */
  user = records_user_get (auth->store, attempt->user->id, &local);
  if (user == NULL)
    return store_failed (error, local, "user lookup");

  now = now_seconds ();
  if (user->locked_until > now) {
    result->retry_after = user->locked_until - now;
    g_set_error (error, SIGNALING_AUTH_ERROR, SIGNALING_AUTH_ERROR_ACCOUNT_LOCKED,
                 "account locked; retry in %" G_GINT64_FORMAT " s", result->retry_after);
    result->user = g_steal_pointer (&user);
    return FALSE;
  }

  if (!attempt->needs_verify || !password_matches) {
    int failures = (user->locked_until != 0 ? 0 : MAX (user->failed_logins, 0)) + 1;

    if (failures >= SIGNALING_LOGIN_MAX_FAILURES) {
      if (!record_login_state (auth, user, 0, now + SIGNALING_LOGIN_LOCK_SECONDS, error))
        return FALSE;
      result->retry_after = SIGNALING_LOGIN_LOCK_SECONDS;
      g_set_error (error, SIGNALING_AUTH_ERROR, SIGNALING_AUTH_ERROR_ACCOUNT_LOCKED,
                   "%d failed logins: account locked for %d s", failures,
                   SIGNALING_LOGIN_LOCK_SECONDS);
    } else {
      if (!record_login_state (auth, user, failures, 0, error))
        return FALSE;
      g_set_error_literal (error, SIGNALING_AUTH_ERROR,
                           SIGNALING_AUTH_ERROR_INVALID_CREDENTIALS,
                           "wrong username or password");
    }
    result->user = g_steal_pointer (&user);
    return FALSE;
  }

  if ((user->failed_logins != 0 || user->locked_until != 0)
      && !record_login_state (auth, user, 0, 0, error))
    return FALSE;
  user->failed_logins = 0;
  user->locked_until = 0;

  session_id = g_uuid_string_random ();
  session_expires_at = now + SIGNALING_LOGIN_SESSION_SECONDS;
  if (!records_login_session_create (auth->store, session_id, user->id, session_expires_at,
                                     &local))
    return store_failed (error, local, "login session create");
  result->token = staff_token (auth, user, session_id, now, session_expires_at,
                               &result->expires_at);
  result->principal = principal_for_user (user, session_id, result->expires_at);
  result->user = g_steal_pointer (&user);
  return TRUE;
}

gboolean
signaling_auth_login (SignalingAuth *auth, const char *username, const char *password,
                      SignalingAuthResult *result, GError **error)
{
  SignalingLoginAttempt *attempt;
  const char *phc;
  gboolean matches = FALSE, ok;

  g_return_val_if_fail (auth != NULL && result != NULL, FALSE);

  attempt = signaling_auth_login_begin (auth, password ? username : NULL);
  phc = signaling_login_attempt_get_phc (attempt);
  if (phc != NULL)
    matches = records_password_verify (password ? password : "", phc);
  ok = signaling_auth_login_finish (auth, attempt, matches, result, error);
  signaling_login_attempt_free (attempt);
  return ok;
}

/* The live login session @session_id of @user_id, or NULL + a token error. */
static RecordsLoginSession *
live_session (SignalingAuth *auth, const char *session_id, const char *user_id, gint64 now,
              GError **error)
{
  g_autoptr (RecordsLoginSession) session = NULL;
  g_autoptr (GError) local = NULL;

  session = records_login_session_get (auth->store, session_id, &local);
  if (session == NULL) {
    if (local && local->domain == RECORDS_ERROR && local->code != RECORDS_ERROR_NOT_FOUND
        && local->code != RECORDS_ERROR_INVALID) {
      store_failed (error, local, "login session lookup");
      return NULL;
    }
    g_set_error_literal (error, SIGNALING_AUTH_ERROR, SIGNALING_AUTH_ERROR_TOKEN_REVOKED,
                         "token: no such login session");
    return NULL;
  }
  if (g_strcmp0 (session->user_id, user_id) != 0) {
    g_set_error_literal (error, SIGNALING_AUTH_ERROR, SIGNALING_AUTH_ERROR_TOKEN_INVALID,
                         "token: session of another user");
    return NULL;
  }
  if (session->revoked) {
    g_set_error_literal (error, SIGNALING_AUTH_ERROR, SIGNALING_AUTH_ERROR_TOKEN_REVOKED,
                         "token: logged out");
    return NULL;
  }
  if (now > session->expires_at + SIGNALING_TOKEN_LEEWAY_SECONDS) {
    g_set_error_literal (error, SIGNALING_AUTH_ERROR, SIGNALING_AUTH_ERROR_TOKEN_EXPIRED,
                         "token: login session expired");
    return NULL;
  }
  return g_steal_pointer (&session);
}

/* The invitation @invitation_id of @consultation_id, or NULL + @error. */
static RecordsInvitation *
find_invitation (SignalingAuth *auth, const char *consultation_id, const char *invitation_id,
                 GError **error)
{
  g_autoptr (GPtrArray) invitations = NULL;
  g_autoptr (GError) local = NULL;

  invitations = records_invitation_list_for_consultation (auth->store, consultation_id, &local);
  if (invitations == NULL) {
    if (local && local->domain == RECORDS_ERROR && local->code != RECORDS_ERROR_NOT_FOUND
        && local->code != RECORDS_ERROR_INVALID) {
      store_failed (error, local, "invitation lookup");
      return NULL;
    }
  }
  for (guint i = 0; invitations && i < invitations->len; i++) {
    RecordsInvitation *invitation = invitations->pdata[i];

    if (g_strcmp0 (invitation->id, invitation_id) == 0)
      return g_ptr_array_steal_index (invitations, i);
  }
  g_set_error_literal (error, SIGNALING_AUTH_ERROR, SIGNALING_AUTH_ERROR_TOKEN_REVOKED,
                       "token: no such invitation");
  return NULL;
}

SignalingPrincipal *
signaling_auth_authenticate (SignalingAuth *auth, const char *token, GError **error)
{
  g_autoptr (SignalingTokenClaims) claims = NULL;
  g_autoptr (GError) local = NULL;
  SignalingPrincipal *principal;
  gint64 now = now_seconds ();
  RecordsRole role;

  g_return_val_if_fail (auth != NULL, NULL);

  claims = signaling_token_decode (auth->key, token, now, error);
  if (claims == NULL)
    return NULL;
  if (!records_role_from_string (claims->role, &role)) {
    token_invalid (error, "unknown role");
    return NULL;
  }

  if (role == RECORDS_ROLE_PATIENT) {
    g_autoptr (RecordsInvitation) invitation = NULL;

    if (strcmp (claims->sub, claims->jti) != 0) {
      token_invalid (error, "patient token with sub other than jti");
      return NULL;
    }
    invitation = find_invitation (auth, claims->cid, claims->jti, error);
    if (invitation == NULL)
      return NULL;
    if (g_strcmp0 (invitation->patient_id, claims->pid) != 0) {
      token_invalid (error, "patient does not match the invitation");
      return NULL;
    }
    if (invitation->revoked_at != NULL) {
      g_set_error_literal (error, SIGNALING_AUTH_ERROR, SIGNALING_AUTH_ERROR_TOKEN_REVOKED,
                           "token: invitation revoked");
      return NULL;
    }
    principal = g_new0 (SignalingPrincipal, 1);
    principal->role = RECORDS_ROLE_PATIENT;
    principal->invitation_id = g_strdup (invitation->id);
    principal->consultation_id = g_strdup (invitation->consultation_id);
    principal->patient_id = g_strdup (invitation->patient_id);
    principal->expires_at = claims->exp;
    return principal;
  } else {
    g_autoptr (RecordsLoginSession) session = NULL;
    g_autoptr (RecordsUser) user = NULL;

    session = live_session (auth, claims->jti, claims->sub, now, error);
    if (session == NULL)
      return NULL;
    user = records_user_get (auth->store, claims->sub, &local);
    if (user == NULL) {
      if (local && local->domain == RECORDS_ERROR && local->code != RECORDS_ERROR_NOT_FOUND
          && local->code != RECORDS_ERROR_INVALID) {
        store_failed (error, local, "user lookup");
        return NULL;
      }
      g_set_error_literal (error, SIGNALING_AUTH_ERROR, SIGNALING_AUTH_ERROR_TOKEN_REVOKED,
                           "token: no such user");
      return NULL;
    }
    if (user->disabled) {
      g_set_error_literal (error, SIGNALING_AUTH_ERROR, SIGNALING_AUTH_ERROR_TOKEN_REVOKED,
                           "token: user disabled");
      return NULL;
    }
    return principal_for_user (user, session->id, claims->exp);
  }
}

gboolean
signaling_auth_refresh (SignalingAuth *auth, const SignalingPrincipal *principal,
                        SignalingAuthResult *result, GError **error)
{
  g_autoptr (RecordsLoginSession) session = NULL;
  g_autoptr (RecordsUser) user = NULL;
  g_autoptr (GError) local = NULL;
  gint64 now = now_seconds ();

  g_return_val_if_fail (auth != NULL && principal != NULL && result != NULL, FALSE);

  if (principal->role == RECORDS_ROLE_PATIENT || principal->session_id == NULL) {
    g_set_error_literal (error, SIGNALING_AUTH_ERROR, SIGNALING_AUTH_ERROR_FORBIDDEN,
                         "patient tokens are not refreshed; redeem the invitation again");
    return FALSE;
  }
  session = live_session (auth, principal->session_id, principal->user_id, now, error);
  if (session == NULL)
    return FALSE;
  user = records_user_get (auth->store, principal->user_id, &local);
  if (user == NULL)
    return store_failed (error, local, "user lookup");
  result->token = staff_token (auth, user, session->id, now, session->expires_at,
                               &result->expires_at);
  result->principal = principal_for_user (user, session->id, result->expires_at);
  return TRUE;
}

gboolean
signaling_auth_logout (SignalingAuth *auth, const SignalingPrincipal *principal,
                       GError **error)
{
  g_autoptr (GError) local = NULL;

  g_return_val_if_fail (auth != NULL && principal != NULL, FALSE);
  if (principal->role == RECORDS_ROLE_PATIENT || principal->session_id == NULL) {
    g_set_error_literal (error, SIGNALING_AUTH_ERROR, SIGNALING_AUTH_ERROR_FORBIDDEN,
                         "a patient token has no login session");
    return FALSE;
  }
  if (!records_login_session_revoke (auth->store, principal->session_id, &local))
    return store_failed (error, local, "login session revoke");
  return TRUE;
}

gboolean
signaling_auth_redeem_invitation (SignalingAuth *auth, const char *secret,
                                  SignalingAuthResult *result, GError **error)
{
  g_autoptr (RecordsInvitation) invitation = NULL;
  g_autoptr (GError) local = NULL;
  SignalingTokenClaims claims = { 0 };
  gint64 now = now_seconds (), expires_at;

  g_return_val_if_fail (auth != NULL && secret != NULL && result != NULL, FALSE);

  invitation = records_invitation_find (auth->store, secret, &local);
  if (invitation == NULL) {
    if (local && local->domain == RECORDS_ERROR && local->code != RECORDS_ERROR_NOT_FOUND
        && local->code != RECORDS_ERROR_INVALID)
      return store_failed (error, local, "invitation lookup");
    g_set_error_literal (error, SIGNALING_AUTH_ERROR, SIGNALING_AUTH_ERROR_INVITATION_NOT_FOUND,
                         "no such invitation");
    return FALSE;
  }
  if (invitation->revoked_at != NULL) {
    g_set_error_literal (error, SIGNALING_AUTH_ERROR, SIGNALING_AUTH_ERROR_INVITATION_REVOKED,
                         "the invitation was revoked");
    result->invitation = g_steal_pointer (&invitation);
    return FALSE;
  }
  if (!signaling_auth_parse_time (invitation->expires_at, &expires_at)) {
    g_set_error (error, SIGNALING_AUTH_ERROR, SIGNALING_AUTH_ERROR_INTERNAL,
                 "invitation %s: malformed expiry", invitation->id);
    return FALSE;
  }
  if (now >= expires_at) {
    g_set_error_literal (error, SIGNALING_AUTH_ERROR, SIGNALING_AUTH_ERROR_INVITATION_EXPIRED,
                         "the invitation has expired");
    result->invitation = g_steal_pointer (&invitation);
    return FALSE;
  }

  claims.sub = invitation->id;
  claims.role = (char *) records_role_to_string (RECORDS_ROLE_PATIENT);
  claims.jti = invitation->id;
  claims.cid = invitation->consultation_id;
  claims.pid = invitation->patient_id;
  claims.iat = now;
  claims.exp = expires_at;
  result->token = signaling_token_encode (auth->key, &claims);
  result->expires_at = expires_at;
  result->principal = g_new0 (SignalingPrincipal, 1);
  result->principal->role = RECORDS_ROLE_PATIENT;
  result->principal->invitation_id = g_strdup (invitation->id);
  result->principal->consultation_id = g_strdup (invitation->consultation_id);
  result->principal->patient_id = g_strdup (invitation->patient_id);
  result->principal->expires_at = expires_at;
  result->invitation = g_steal_pointer (&invitation);
  return TRUE;
}
