/* Tests signaling/auth.c and records/password.c: JWT HS256 vectors (one
 * computed independently with Python's hmac), every way a token can be
 * malformed, tampered, mis-signed or out of date; the token key file;
 * Argon2id hash and verify; and, against a real SQLite store, login with
 * lockout, logout and refresh. */
#include <glib/gstdio.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>
#include <sys/stat.h>

#include "auth.h"
#include "password.h"
#include "records.h"

/* Key 00 01 02 ... 1f. */
static guint8 test_key[32];

/* HS256 over these claims with test_key, computed with Python:
 * base64url(header) "." base64url(payload) "." base64url(HMAC-SHA256). */
static const char vector_token[] =
  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
  "eyJpc3MiOiJjYXUiLCJzdWIiOiIzZjFjMmE5ZS0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMDEiLCJyb2xlIjoiY2xp"
  "bmljaWFuIiwianRpIjoiN2QyYjZjMTEtMDAwMC00MDAwLTgwMDAtMDAwMDAwMDAwMDAyIiwiaWF0IjoxNzk1MDAwMDAw"
  "LCJleHAiOjE3OTUwMDE4MDB9."
  "_7dA_qrcaO5cH4W0HBAQ2ZRXeI2mH4n7cd_VHI7nCts";
#define VECTOR_IAT 1795000000
#define VECTOR_EXP 1795001800

static void
init_key (void)
{
  for (int i = 0; i < 32; i++)
    test_key[i] = i;
}

/* An independent signer for hand-made headers and payloads (not auth.c's
 * code): base64url without padding via GLib, HMAC via OpenSSL. */
static char *
b64url (const char *data, gsize length)
{
  char *text = g_base64_encode ((const guchar *) data, length);
  GString *out = g_string_new (NULL);

  for (char *p = text; *p && *p != '='; p++)
    g_string_append_c (out, *p == '+' ? '-' : *p == '/' ? '_' : *p);
  g_free (text);
  return g_string_free (out, FALSE);
}

static char *
sign_raw (const guint8 *key, const char *header, const char *payload)
{
  g_autofree char *h = b64url (header, strlen (header));
  g_autofree char *p = b64url (payload, strlen (payload));
  g_autofree char *signing = g_strdup_printf ("%s.%s", h, p);
  g_autofree char *s = NULL;
  guint8 mac[32];
  unsigned int mac_length = 32;

  HMAC (EVP_sha256 (), key, 32, (const guint8 *) signing, strlen (signing), mac, &mac_length);
  s = b64url ((const char *) mac, 32);
  return g_strdup_printf ("%s.%s", signing, s);
}

static const char hs256_header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

static void
assert_token_error (const char *token, gint64 now, int code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SignalingTokenClaims) claims = signaling_token_decode (test_key, token, now, &error);

  g_assert_null (claims);
  g_assert_error (error, SIGNALING_AUTH_ERROR, code);
}

static void
assert_payload_invalid (const char *payload)
{
  g_autofree char *token = sign_raw (test_key, hs256_header, payload);

  g_test_message ("payload %s", payload);
  assert_token_error (token, VECTOR_IAT + 10, SIGNALING_AUTH_ERROR_TOKEN_INVALID);
}

static void
test_vector (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SignalingTokenClaims) claims = NULL;
  g_autofree char *encoded = NULL;
  SignalingTokenClaims in = {
    .sub = "3f1c2a9e-0000-4000-8000-000000000001",
    .role = "clinician",
    .jti = "7d2b6c11-0000-4000-8000-000000000002",
    .iat = VECTOR_IAT,
    .exp = VECTOR_EXP,
  };

  /* Our encoder produces the independently computed token byte for byte. */
  encoded = signaling_token_encode (test_key, &in);
  g_assert_cmpstr (encoded, ==, vector_token);

  claims = signaling_token_decode (test_key, vector_token, VECTOR_IAT + 60, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (claims->sub, ==, in.sub);
  g_assert_cmpstr (claims->role, ==, "clinician");
  g_assert_cmpstr (claims->jti, ==, in.jti);
  g_assert_null (claims->cid);
  g_assert_null (claims->pid);
  g_assert_cmpint (claims->iat, ==, VECTOR_IAT);
  g_assert_cmpint (claims->exp, ==, VECTOR_EXP);
}

static void
test_patient_round_trip (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SignalingTokenClaims) claims = NULL;
  g_autofree char *token = NULL;
  SignalingTokenClaims in = {
    .sub = "inv-1", .role = "patient", .jti = "inv-1", .cid = "cons-1", .pid = "pat-1",
    .iat = 1000, .exp = 5000,
  };

  token = signaling_token_encode (test_key, &in);
  claims = signaling_token_decode (test_key, token, 2000, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (claims->cid, ==, "cons-1");
  g_assert_cmpstr (claims->pid, ==, "pat-1");
  g_assert_cmpstr (claims->role, ==, "patient");
}

static void
test_tampered (void)
{
  g_autofree char *payload_tampered = g_strdup (vector_token);
  g_autofree char *signature_tampered = g_strdup (vector_token);
  g_autofree char *role_swapped = NULL, *forged_payload = NULL, *wrong_key_token = NULL;
  guint8 other_key[32];
  char *dot;

  /* One payload character changed. */
  dot = strchr (payload_tampered, '.');
  dot[20] = dot[20] == 'A' ? 'B' : 'A';
  assert_token_error (payload_tampered, VECTOR_IAT + 10, SIGNALING_AUTH_ERROR_TOKEN_INVALID);

  /* Signature: first character changed. */
  dot = strrchr (signature_tampered, '.');
  dot[1] = dot[1] == 'A' ? 'B' : 'A';
  assert_token_error (signature_tampered, VECTOR_IAT + 10, SIGNALING_AUTH_ERROR_TOKEN_INVALID);

  /* A payload raised to administrator, spliced onto the genuine signature. */
  forged_payload = b64url ("{\"iss\":\"cau\",\"sub\":\"3f1c2a9e-0000-4000-8000-000000000001\","
                           "\"role\":\"administrator\",\"jti\":\"7d2b6c11-0000-4000-8000-000000000002\","
                           "\"iat\":1795000000,\"exp\":1795001800}",
                           strlen ("{\"iss\":\"cau\",\"sub\":\"3f1c2a9e-0000-4000-8000-000000000001\","
                                   "\"role\":\"administrator\",\"jti\":\"7d2b6c11-0000-4000-8000-000000000002\","
                                   "\"iat\":1795000000,\"exp\":1795001800}"));
  {
    const char *first = strchr (vector_token, '.');
    const char *last = strrchr (vector_token, '.');

    role_swapped = g_strdup_printf ("%.*s.%s%s", (int) (first - vector_token), vector_token,
                                    forged_payload, last);
  }
  assert_token_error (role_swapped, VECTOR_IAT + 10, SIGNALING_AUTH_ERROR_TOKEN_INVALID);

  /* Signed with another key. */
  for (int i = 0; i < 32; i++)
    other_key[i] = 0xff - i;
  wrong_key_token = sign_raw (other_key, hs256_header,
                              "{\"iss\":\"cau\",\"sub\":\"u\",\"role\":\"clinician\",\"jti\":\"s\","
                              "\"iat\":1795000000,\"exp\":1795001800}");
  assert_token_error (wrong_key_token, VECTOR_IAT + 10, SIGNALING_AUTH_ERROR_TOKEN_INVALID);
}

static void
test_algorithms (void)
{
  static const char payload[] = "{\"iss\":\"cau\",\"sub\":\"u\",\"role\":\"administrator\","
                                "\"jti\":\"s\",\"iat\":1795000000,\"exp\":1795001800}";
  static const char *const headers[] = {
    "{\"alg\":\"none\",\"typ\":\"JWT\"}",
    "{\"alg\":\"None\"}",
    "{\"alg\":\"HS512\",\"typ\":\"JWT\"}",
    "{\"alg\":\"RS256\",\"typ\":\"JWT\"}",
    "{\"typ\":\"JWT\"}",
    "{\"alg\":\"HS256\",\"typ\":\"JWS\"}",
    "{\"alg\":\"HS256\",\"kid\":\"../../etc/passwd\"}",
    "{\"alg\":\"HS256\",\"crit\":[\"exp\"]}",
    "{\"alg\":\"HS256\",\"alg\":\"none\"}",
    "[\"HS256\"]",
    "{\"alg\":256}",
  };
  g_autofree char *h = NULL, *p = NULL, *unsigned_token = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (headers); i++) {
    /* Even correctly HMAC'd under our key, a header other than HS256 fails. */
    g_autofree char *token = sign_raw (test_key, headers[i], payload);

    g_test_message ("header %s", headers[i]);
    assert_token_error (token, VECTOR_IAT + 10, SIGNALING_AUTH_ERROR_TOKEN_INVALID);
  }
  /* The classic "alg":"none" with an empty signature. */
  h = b64url ("{\"alg\":\"none\"}", strlen ("{\"alg\":\"none\"}"));
  p = b64url (payload, strlen (payload));
  unsigned_token = g_strdup_printf ("%s.%s.", h, p);
  assert_token_error (unsigned_token, VECTOR_IAT + 10, SIGNALING_AUTH_ERROR_TOKEN_INVALID);
}

static void
test_malformed (void)
{
  g_autofree char *extra_dot = g_strdup_printf ("%s.", vector_token);
  g_autofree char *extra_part = g_strdup_printf ("%s.AAAA", vector_token);
  g_autofree char *padded = NULL, *std_alphabet = NULL, *long_token = NULL;
  g_autofree char *noncanonical = g_strdup (vector_token);
  const char *last = strrchr (vector_token, '.');

  assert_token_error ("", 0, SIGNALING_AUTH_ERROR_UNAUTHENTICATED);
  assert_token_error ("abc", 0, SIGNALING_AUTH_ERROR_TOKEN_INVALID);
  assert_token_error ("a.b", 0, SIGNALING_AUTH_ERROR_TOKEN_INVALID);
  assert_token_error ("..", 0, SIGNALING_AUTH_ERROR_TOKEN_INVALID);
  assert_token_error (extra_dot, VECTOR_IAT, SIGNALING_AUTH_ERROR_TOKEN_INVALID);
  assert_token_error (extra_part, VECTOR_IAT, SIGNALING_AUTH_ERROR_TOKEN_INVALID);
  /* Base64 padding, the standard alphabet, a space: not base64url. */
  padded = g_strdup_printf ("%s=", vector_token);
  assert_token_error (padded, VECTOR_IAT, SIGNALING_AUTH_ERROR_TOKEN_INVALID);
  std_alphabet = g_strdup (vector_token);
  for (char *c = std_alphabet; *c; c++)
    if (*c == '_')
      *c = '/';
  g_assert_cmpstr (std_alphabet, !=, vector_token);
  assert_token_error (std_alphabet, VECTOR_IAT, SIGNALING_AUTH_ERROR_TOKEN_INVALID);
  assert_token_error ("eyJhbGciOiJIUzI1NiJ9 .e30.AAAA", 0, SIGNALING_AUTH_ERROR_TOKEN_INVALID);
  /* The signature's last character carries 2 unused bits: "s" → "t" keeps
   * the same bytes in a lax decoder, not in ours. */
  g_assert_cmpint (noncanonical[strlen (noncanonical) - 1], ==, 's');
  noncanonical[strlen (noncanonical) - 1] = 't';
  assert_token_error (noncanonical, VECTOR_IAT, SIGNALING_AUTH_ERROR_TOKEN_INVALID);
  /* A short signature. */
  {
    g_autofree char *short_sig = g_strndup (vector_token, last - vector_token + 10);

    assert_token_error (short_sig, VECTOR_IAT, SIGNALING_AUTH_ERROR_TOKEN_INVALID);
  }
  long_token = g_strnfill (SIGNALING_TOKEN_MAX_LENGTH + 1, 'A');
  assert_token_error (long_token, VECTOR_IAT, SIGNALING_AUTH_ERROR_TOKEN_INVALID);
}

static void
test_claims (void)
{
  /* Each required claim missing or of the wrong type; wrong issuer; unknown
   * claims; patient claims on a staff token and the reverse. */
  assert_payload_invalid ("{\"sub\":\"u\",\"role\":\"clinician\",\"jti\":\"s\",\"iat\":1795000000,\"exp\":1795001800}");
  assert_payload_invalid ("{\"iss\":\"other\",\"sub\":\"u\",\"role\":\"clinician\",\"jti\":\"s\",\"iat\":1795000000,\"exp\":1795001800}");
  assert_payload_invalid ("{\"iss\":\"cau\",\"role\":\"clinician\",\"jti\":\"s\",\"iat\":1795000000,\"exp\":1795001800}");
  assert_payload_invalid ("{\"iss\":\"cau\",\"sub\":\"u\",\"jti\":\"s\",\"iat\":1795000000,\"exp\":1795001800}");
  assert_payload_invalid ("{\"iss\":\"cau\",\"sub\":\"u\",\"role\":\"clinician\",\"iat\":1795000000,\"exp\":1795001800}");
  assert_payload_invalid ("{\"iss\":\"cau\",\"sub\":\"u\",\"role\":\"clinician\",\"jti\":\"s\",\"exp\":1795001800}");
  assert_payload_invalid ("{\"iss\":\"cau\",\"sub\":\"u\",\"role\":\"clinician\",\"jti\":\"s\",\"iat\":1795000000}");
  assert_payload_invalid ("{\"iss\":\"cau\",\"sub\":\"u\",\"role\":\"root\",\"jti\":\"s\",\"iat\":1795000000,\"exp\":1795001800}");
  assert_payload_invalid ("{\"iss\":\"cau\",\"sub\":\"\",\"role\":\"clinician\",\"jti\":\"s\",\"iat\":1795000000,\"exp\":1795001800}");
  assert_payload_invalid ("{\"iss\":\"cau\",\"sub\":7,\"role\":\"clinician\",\"jti\":\"s\",\"iat\":1795000000,\"exp\":1795001800}");
  assert_payload_invalid ("{\"iss\":\"cau\",\"sub\":\"u\",\"role\":\"clinician\",\"jti\":\"s\",\"iat\":\"1795000000\",\"exp\":1795001800}");
  assert_payload_invalid ("{\"iss\":\"cau\",\"sub\":\"u\",\"role\":\"clinician\",\"jti\":\"s\",\"iat\":1795000000,\"exp\":1795001800.5}");
  assert_payload_invalid ("{\"iss\":\"cau\",\"sub\":\"u\",\"role\":\"clinician\",\"jti\":\"s\",\"iat\":1795000000,\"exp\":1795001800,\"admin\":true}");
  assert_payload_invalid ("{\"iss\":\"cau\",\"sub\":\"u\",\"role\":\"clinician\",\"jti\":\"s\",\"iat\":1795000000,\"exp\":1795001800,\"cid\":\"c\"}");
  assert_payload_invalid ("{\"iss\":\"cau\",\"sub\":\"i\",\"role\":\"patient\",\"jti\":\"i\",\"pid\":\"p\",\"iat\":1795000000,\"exp\":1795001800}");
  assert_payload_invalid ("{\"iss\":\"cau\",\"sub\":\"i\",\"role\":\"patient\",\"jti\":\"i\",\"cid\":\"c\",\"iat\":1795000000,\"exp\":1795001800}");
  assert_payload_invalid ("{\"iss\":\"cau\",\"sub\":\"u\",\"sub\":\"v\",\"role\":\"clinician\",\"jti\":\"s\",\"iat\":1795000000,\"exp\":1795001800}");
  assert_payload_invalid ("{\"iss\":\"cau\",\"sub\":\"u\",\"role\":\"clinician\",\"jti\":\"s\",\"iat\":1795001800,\"exp\":1795000000}");
  assert_payload_invalid ("[1,2]");
  assert_payload_invalid ("{\"iss\":\"cau\"");
}

static void
test_times (void)
{
  static const char payload[] = "{\"iss\":\"cau\",\"sub\":\"u\",\"role\":\"clinician\",\"jti\":\"s\","
                                "\"iat\":1795000000,\"exp\":1795001800}";
  g_autofree char *token = sign_raw (test_key, hs256_header, payload);
  g_autoptr (GError) error = NULL;
  SignalingTokenClaims *claims;

  /* Valid through exp + 30 s of leeway, expired after. */
  claims = signaling_token_decode (test_key, token, VECTOR_EXP + SIGNALING_TOKEN_LEEWAY_SECONDS,
                                   &error);
  g_assert_no_error (error);
  signaling_token_claims_free (claims);
  assert_token_error (token, VECTOR_EXP + SIGNALING_TOKEN_LEEWAY_SECONDS + 1,
                      SIGNALING_AUTH_ERROR_TOKEN_EXPIRED);
  /* Issued in the future (beyond the leeway): a clock attack, refused. */
  claims = signaling_token_decode (test_key, token, VECTOR_IAT - SIGNALING_TOKEN_LEEWAY_SECONDS,
                                   &error);
  g_assert_no_error (error);
  signaling_token_claims_free (claims);
  assert_token_error (token, VECTOR_IAT - SIGNALING_TOKEN_LEEWAY_SECONDS - 1,
                      SIGNALING_AUTH_ERROR_TOKEN_INVALID);
}

static void
test_error_codes (void)
{
  g_assert_cmpstr (signaling_auth_error_code_string (SIGNALING_AUTH_ERROR_TOKEN_INVALID), ==, "token-invalid");
  g_assert_cmpstr (signaling_auth_error_code_string (SIGNALING_AUTH_ERROR_TOKEN_EXPIRED), ==, "token-expired");
  g_assert_cmpstr (signaling_auth_error_code_string (SIGNALING_AUTH_ERROR_TOKEN_REVOKED), ==, "token-revoked");
  g_assert_cmpstr (signaling_auth_error_code_string (SIGNALING_AUTH_ERROR_UNAUTHENTICATED), ==, "unauthenticated");
  g_assert_cmpstr (signaling_auth_error_code_string (SIGNALING_AUTH_ERROR_ACCOUNT_LOCKED), ==, "account-locked");
  g_assert_cmpstr (signaling_auth_error_code_string (SIGNALING_AUTH_ERROR_INVITATION_EXPIRED), ==, "invitation-expired");
  g_assert_cmpstr (signaling_auth_error_code_string (999), ==, "internal");
  g_assert_cmpuint (signaling_auth_error_http_status (SIGNALING_AUTH_ERROR_ACCOUNT_LOCKED), ==, 423);
  g_assert_cmpuint (signaling_auth_error_http_status (SIGNALING_AUTH_ERROR_INVITATION_EXPIRED), ==, 410);
  g_assert_cmpuint (signaling_auth_error_http_status (SIGNALING_AUTH_ERROR_INVITATION_REVOKED), ==, 403);
  g_assert_cmpuint (signaling_auth_error_http_status (SIGNALING_AUTH_ERROR_TOKEN_REVOKED), ==, 401);
}

/* ---- key file -------------------------------------------------------------- */

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
test_key_file (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("cau-auth-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "token.key", NULL);
  guint8 first[32], second[32];
  struct stat st;

  g_assert_true (signaling_auth_key_load (dir, first, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_cmpint (st.st_size, ==, 32);
  /* Loading again reads the same key. */
  g_assert_true (signaling_auth_key_load (dir, second, &error));
  g_assert_cmpmem (first, 32, second, 32);
  /* Group-readable: refused. */
  g_assert_cmpint (g_chmod (path, 0640), ==, 0);
  g_assert_false (signaling_auth_key_load (dir, second, &error));
  g_assert_error (error, SIGNALING_AUTH_ERROR, SIGNALING_AUTH_ERROR_KEY);
  g_clear_error (&error);
  g_assert_cmpint (g_chmod (path, 0604), ==, 0);
  g_assert_false (signaling_auth_key_load (dir, second, &error));
  g_clear_error (&error);
  /* Wrong size: refused. */
  g_assert_cmpint (g_chmod (path, 0600), ==, 0);
  g_assert_true (g_file_set_contents (path, "short", 5, NULL));
  g_assert_cmpint (g_chmod (path, 0600), ==, 0);
  g_assert_false (signaling_auth_key_load (dir, second, &error));
  g_assert_error (error, SIGNALING_AUTH_ERROR, SIGNALING_AUTH_ERROR_KEY);
  remove_tree (dir);
}

/* ---- passwords ------------------------------------------------------------ */

static void
test_password (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *hash = NULL, *hash2 = NULL, *default_hash = NULL, *tampered = NULL;
  g_autofree char *too_long = g_strnfill (1025, 'x');
  g_autofree char *longest = g_strnfill (1024, 'x');
  g_autofree char *longest_hash = NULL;

  hash = records_password_hash_with_cost ("correct horse", 1, 64, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (hash, "$argon2id$v=19$m=64,t=1,p=1$"));
  g_assert_true (records_password_verify ("correct horse", hash));
  g_assert_false (records_password_verify ("correct horsE", hash));
  g_assert_false (records_password_verify ("correct hors", hash));
  /* Salted: the same password hashes differently. */
  hash2 = records_password_hash_with_cost ("correct horse", 1, 64, &error);
  g_assert_cmpstr (hash, !=, hash2);
  g_assert_true (records_password_verify ("correct horse", hash2));
  /* Malformed or foreign hashes never verify. */
  g_assert_false (records_password_verify ("correct horse", ""));
  g_assert_false (records_password_verify ("correct horse", "$argon2id$garbage"));
  g_assert_false (records_password_verify ("correct horse", hash + 1));
  tampered = g_strdup (hash);
  tampered[strlen (tampered) - 2] = tampered[strlen (tampered) - 2] == 'A' ? 'B' : 'A';
  g_assert_false (records_password_verify ("correct horse", tampered));
  {
    /* The same string as argon2i: refused (only argon2id is ours). */
    g_autofree char *as_i = g_strconcat ("$argon2i$", hash + strlen ("$argon2id$"), NULL);

    g_assert_false (records_password_verify ("correct horse", as_i));
  }
  /* A cost beyond the verify bound (a hand-edited row) is refused unread. */
  g_assert_false (records_password_verify (
    "correct horse", "$argon2id$v=19$m=4194304,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$"
                     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
  /* Lengths: 8..1024 bytes. */
  g_assert_null (records_password_hash_with_cost ("1234567", 1, 64, &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (records_password_hash_with_cost (too_long, 1, 64, &error));
  g_assert_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID);
  g_clear_error (&error);
  longest_hash = records_password_hash_with_cost (longest, 1, 64, &error);
  g_assert_no_error (error);
  g_assert_true (records_password_verify (longest, longest_hash));
  g_assert_false (records_password_verify (too_long, longest_hash));
  g_assert_false (records_password_verify (NULL, hash));
  /* The default cost: t=3, 64 MiB, one lane. */
  default_hash = records_password_hash ("a default-cost password", &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (default_hash, "$argon2id$v=19$m=65536,t=3,p=1$"));
  g_assert_true (records_password_verify ("a default-cost password", default_hash));
}

/* ---- login, lockout, sessions (SQLite store) ------------------------------ */

typedef struct {
  char *dir;
  RecordsStore *store;
  SignalingAuth *auth;
  char *user_id;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  RecordsFacility facility = { .code = "38-DONGSON", .name = "TTYT Đông Sơn",
                               .kind = "district-clinic", .province_code = "038" };
  RecordsUser user = { .username = "bs.lan", .display_name = "BS Lan",
                       .role = RECORDS_ROLE_CLINICIAN };

  f->dir = g_dir_make_tmp ("cau-auth-XXXXXX", &error);
  f->store = records_store_open (f->dir, &error);
  g_assert_no_error (error);
  f->auth = signaling_auth_new (f->store, f->dir, &error);
  g_assert_no_error (error);
  signaling_auth_set_password_cost (f->auth, 1, 64);
  g_assert_true (records_facility_create (f->store, &facility, "system", &error));
  g_assert_no_error (error);
  user.facility_id = facility.id;
  user.password_hash = signaling_auth_hash_password (f->auth, "right password", &error);
  g_assert_true (records_user_create (f->store, &user, "system", &error));
  g_assert_no_error (error);
  f->user_id = g_strdup (user.id);
  g_free (user.id);
  g_free (user.created_at);
  g_free (user.password_hash);
  g_free (facility.id);
  g_free (facility.created_at);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  signaling_auth_free (f->auth);
  records_store_close (f->store);
  remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->user_id);
}

static int
login_code (Fixture *f, const char *username, const char *password, gint64 *retry_after)
{
  g_auto (SignalingAuthResult) result = { 0 };
  g_autoptr (GError) error = NULL;

  if (signaling_auth_login (f->auth, username, password, &result, &error))
    return -1;
  if (retry_after)
    *retry_after = result.retry_after;
  g_assert_true (error->domain == SIGNALING_AUTH_ERROR);
  return error->code;
}

static RecordsUser *
get_user (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  RecordsUser *user = records_user_get (f->store, f->user_id, &error);

  g_assert_no_error (error);
  return user;
}

static void
test_lockout (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 retry_after = 0;

  /* Unknown usernames: the same answer as a wrong password. */
  g_assert_cmpint (login_code (f, "nobody", "right password", NULL), ==,
                   SIGNALING_AUTH_ERROR_INVALID_CREDENTIALS);
  g_assert_cmpint (login_code (f, "Robert'); DROP TABLE users;--", "x", NULL), ==,
                   SIGNALING_AUTH_ERROR_INVALID_CREDENTIALS);

  /* Two failures, then a success resets the count. */
  g_assert_cmpint (login_code (f, "bs.lan", "wrong password", NULL), ==,
                   SIGNALING_AUTH_ERROR_INVALID_CREDENTIALS);
  g_assert_cmpint (login_code (f, "bs.lan", "wrong password", NULL), ==,
                   SIGNALING_AUTH_ERROR_INVALID_CREDENTIALS);
  {
    g_autoptr (RecordsUser) user = get_user (f);
    g_assert_cmpint (user->failed_logins, ==, 2);
  }
  g_assert_cmpint (login_code (f, "bs.lan", "right password", NULL), ==, -1);
  {
    g_autoptr (RecordsUser) user = get_user (f);
    g_assert_cmpint (user->failed_logins, ==, 0);
  }

  /* Four failures answer invalid-credentials, the fifth locks. */
  for (int i = 1; i <= 4; i++)
    g_assert_cmpint (login_code (f, "bs.lan", "wrong password", NULL), ==,
                     SIGNALING_AUTH_ERROR_INVALID_CREDENTIALS);
  g_assert_cmpint (login_code (f, "bs.lan", "wrong password", &retry_after), ==,
                   SIGNALING_AUTH_ERROR_ACCOUNT_LOCKED);
  g_assert_cmpint (retry_after, ==, SIGNALING_LOGIN_LOCK_SECONDS);
  /* While locked even the right password is refused. */
  retry_after = 0;
  g_assert_cmpint (login_code (f, "bs.lan", "right password", &retry_after), ==,
                   SIGNALING_AUTH_ERROR_ACCOUNT_LOCKED);
  g_assert_cmpint (retry_after, >, 0);
  g_assert_cmpint (retry_after, <=, SIGNALING_LOGIN_LOCK_SECONDS);

  /* The lock lapses (moved into the past rather than waiting 15 minutes). */
  g_assert_true (records_user_set_login_state (f->store, f->user_id, 0,
                                               g_get_real_time () / G_USEC_PER_SEC - 1, &error));
  g_assert_no_error (error);
  g_assert_cmpint (login_code (f, "bs.lan", "right password", NULL), ==, -1);
  {
    g_autoptr (RecordsUser) user = get_user (f);
    g_assert_cmpint (user->failed_logins, ==, 0);
    g_assert_cmpint (user->locked_until, ==, 0);
  }
}

static void
test_sessions (Fixture *f, gconstpointer data)
{
  g_auto (SignalingAuthResult) login = { 0 };
  g_auto (SignalingAuthResult) refreshed = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (SignalingPrincipal) who = NULL;
  g_autoptr (SignalingPrincipal) again = NULL;
  g_autoptr (SignalingTokenClaims) first = NULL, second = NULL;
  SignalingPrincipal *none;

  g_assert_true (signaling_auth_login (f->auth, "bs.lan", "right password", &login, &error));
  g_assert_no_error (error);
  g_assert_nonnull (login.token);
  g_assert_cmpstr (login.user->id, ==, f->user_id);

  who = signaling_auth_authenticate (f->auth, login.token, &error);
  g_assert_no_error (error);
  g_assert_cmpint (who->role, ==, RECORDS_ROLE_CLINICIAN);
  g_assert_cmpstr (who->user_id, ==, f->user_id);
  g_assert_nonnull (who->facility_id);
  g_assert_cmpstr (who->username, ==, "bs.lan");

  /* Refresh: a new token of the same login session. */
  g_assert_true (signaling_auth_refresh (f->auth, who, &refreshed, &error));
  g_assert_no_error (error);
  first = signaling_token_decode (signaling_auth_get_key (f->auth), login.token,
                                  g_get_real_time () / G_USEC_PER_SEC, &error);
  second = signaling_token_decode (signaling_auth_get_key (f->auth), refreshed.token,
                                   g_get_real_time () / G_USEC_PER_SEC, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (first->jti, ==, second->jti);
  g_assert_cmpint (second->exp - second->iat, ==, SIGNALING_STAFF_TOKEN_SECONDS);

  /* Logout revokes the session: both tokens stop working. */
  g_assert_true (signaling_auth_logout (f->auth, who, &error));
  g_assert_no_error (error);
  none = signaling_auth_authenticate (f->auth, login.token, &error);
  g_assert_null (none);
  g_assert_error (error, SIGNALING_AUTH_ERROR, SIGNALING_AUTH_ERROR_TOKEN_REVOKED);
  g_clear_error (&error);
  none = signaling_auth_authenticate (f->auth, refreshed.token, &error);
  g_assert_null (none);
  g_assert_error (error, SIGNALING_AUTH_ERROR, SIGNALING_AUTH_ERROR_TOKEN_REVOKED);
  g_clear_error (&error);
  signaling_auth_result_clear (&refreshed);
  g_assert_false (signaling_auth_refresh (f->auth, who, &refreshed, &error));
  g_assert_error (error, SIGNALING_AUTH_ERROR, SIGNALING_AUTH_ERROR_TOKEN_REVOKED);
  g_clear_error (&error);

  /* A validly signed token for a session the store never had. */
  {
    SignalingTokenClaims claims = { .sub = f->user_id, .role = "clinician",
                                    .jti = "00000000-0000-4000-8000-000000000000",
                                    .iat = g_get_real_time () / G_USEC_PER_SEC,
                                    .exp = g_get_real_time () / G_USEC_PER_SEC + 60 };
    g_autofree char *token = signaling_token_encode (signaling_auth_get_key (f->auth), &claims);

    none = signaling_auth_authenticate (f->auth, token, &error);
    g_assert_null (none);
    g_assert_error (error, SIGNALING_AUTH_ERROR, SIGNALING_AUTH_ERROR_TOKEN_REVOKED);
    g_clear_error (&error);
  }

  /* A new login is a new session that works. */
  signaling_auth_result_clear (&login);
  g_assert_true (signaling_auth_login (f->auth, "bs.lan", "right password", &login, &error));
  again = signaling_auth_authenticate (f->auth, login.token, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (again->session_id, !=, who->session_id);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  init_key ();
  g_test_add_func ("/auth/token/vector", test_vector);
  g_test_add_func ("/auth/token/patient", test_patient_round_trip);
  g_test_add_func ("/auth/token/tampered", test_tampered);
  g_test_add_func ("/auth/token/algorithms", test_algorithms);
  g_test_add_func ("/auth/token/malformed", test_malformed);
  g_test_add_func ("/auth/token/claims", test_claims);
  g_test_add_func ("/auth/token/times", test_times);
  g_test_add_func ("/auth/error-codes", test_error_codes);
  g_test_add_func ("/auth/key-file", test_key_file);
  g_test_add_func ("/auth/password", test_password);
  g_test_add ("/auth/lockout", Fixture, NULL, fixture_set_up, test_lockout, fixture_tear_down);
  g_test_add ("/auth/sessions", Fixture, NULL, fixture_set_up, test_sessions, fixture_tear_down);
  return g_test_run ();
}
