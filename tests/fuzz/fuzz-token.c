/* fuzz-token.c — libFuzzer target for signaling/auth.c's JWT verifier.
 *
 * The input is used twice: as a whole token (header.payload.signature, as
 * it arrives in an Authorization header or a WebSocket join), and as the
 * payload of a token this target signs with the fixed key, so that the
 * fuzzer reaches the claim checks behind the MAC.  Invariants (trap on
 * violation): a refusal is SIGNALING_AUTH_ERROR with token-invalid,
 * token-expired or (empty input only) unauthenticated; accepted claims are
 * complete and coherent (role known, patient ⇔ cid and pid, exp > iat), and
 * signing them again gives a token that verifies to the same claims. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"

#define CHECK(cond) do { if (!(cond)) __builtin_trap (); } while (0)

/* Between the corpus tokens' iat and exp (1795000000 .. 1795001800). */
#define NOW 1795000100

static const guint8 key[SIGNALING_TOKEN_KEY_BYTES] = {
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
  16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
};

static char *
b64url (const guint8 *data, gsize length)
{
  char *text = g_base64_encode (data, length);
  char *out = text;

  for (char *p = text; *p && *p != '='; p++)
    *out++ = *p == '+' ? '-' : *p == '/' ? '_' : *p;
  *out = '\0';
  return text;
}

static void
check_claims (const SignalingTokenClaims *claims)
{
  SignalingTokenClaims *again;
  RecordsRole role;
  char *token;

  CHECK (claims->sub && *claims->sub && claims->jti && *claims->jti && claims->role);
  CHECK (records_role_from_string (claims->role, &role));
  if (role == RECORDS_ROLE_PATIENT)
    CHECK (claims->cid && claims->pid);
  else
    CHECK (!claims->cid && !claims->pid);
  CHECK (claims->exp > claims->iat);
  CHECK (claims->iat <= NOW + SIGNALING_TOKEN_LEEWAY_SECONDS);
  CHECK (NOW <= claims->exp + SIGNALING_TOKEN_LEEWAY_SECONDS);

  token = signaling_token_encode (key, claims);
  again = signaling_token_decode (key, token, NOW, NULL);
  CHECK (again != NULL);
  CHECK (strcmp (again->sub, claims->sub) == 0 && strcmp (again->jti, claims->jti) == 0);
  CHECK (strcmp (again->role, claims->role) == 0);
  CHECK (g_strcmp0 (again->cid, claims->cid) == 0 && g_strcmp0 (again->pid, claims->pid) == 0);
  CHECK (again->iat == claims->iat && again->exp == claims->exp);
  signaling_token_claims_free (again);
  g_free (token);
}

static void
decode_and_check (const char *token, gboolean empty)
{
  GError *error = NULL;
  SignalingTokenClaims *claims = signaling_token_decode (key, token, NOW, &error);

  if (claims == NULL) {
    CHECK (error != NULL && error->domain == SIGNALING_AUTH_ERROR);
    CHECK (error->code == SIGNALING_AUTH_ERROR_TOKEN_INVALID
           || error->code == SIGNALING_AUTH_ERROR_TOKEN_EXPIRED
           || (empty && error->code == SIGNALING_AUTH_ERROR_UNAUTHENTICATED));
    g_error_free (error);
    return;
  }
  CHECK (error == NULL);
  check_claims (claims);
  signaling_token_claims_free (claims);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
  char *token, *h, *p, *s, *signing, *signed_token;
  guint8 mac[32];
  unsigned int mac_length = sizeof mac;

  if (size > 8192)
    return 0;
  /* As a token (NUL ends it, as it would a header value). */
  token = g_strndup ((const char *) data, size);
  decode_and_check (token, token[0] == '\0');
  g_free (token);

  /* As the payload of a correctly signed token. */
  h = b64url ((const guint8 *) header, strlen (header));
  p = b64url (data, size);
  signing = g_strdup_printf ("%s.%s", h, p);
  HMAC (EVP_sha256 (), key, sizeof key, (const guint8 *) signing, strlen (signing), mac,
        &mac_length);
  s = b64url (mac, sizeof mac);
  signed_token = g_strdup_printf ("%s.%s", signing, s);
  decode_and_check (signed_token, FALSE);
  g_free (h);
  g_free (p);
  g_free (s);
  g_free (signing);
  g_free (signed_token);
  return 0;
}
