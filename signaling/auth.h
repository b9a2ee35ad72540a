/* auth.h — who is calling: tokens, staff login, patient invitations.
 *
 * Tokens are JWTs (RFC 7519) in compact JWS form (RFC 7515 §7.1) signed with
 * HMAC-SHA256 (RFC 7518 §3.2, "HS256") under a 256-bit key kept in
 * <data_dir>/token.key.  Claims and lifetimes: docs/api.md "Tokens".
 * Verification is strict: exactly three base64url parts without padding,
 * a header whose alg is HS256 (nothing else, never "none"), a MAC compared
 * in constant time before the payload is read, iss "cau", every claim
 * present with its type, exp not passed and iat not in the future (30 s of
 * leeway for clocks of several nodes).
 *
 * SignalingAuth ties tokens to the store: a staff token is valid only while
 * its login session (jti) is neither logged out nor expired and its user not
 * disabled; a patient token only while its invitation is not revoked.
 *
 * Threads: a SignalingAuth is used from one thread, like its RecordsStore.
 * Nothing here logs a password, a token or an invitation secret.
 */
#pragma once

#include <glib.h>

#include "policy.h"
#include "records.h"

G_BEGIN_DECLS

#define SIGNALING_AUTH_ERROR (signaling_auth_error_quark ())
GQuark signaling_auth_error_quark (void);

typedef enum {
  SIGNALING_AUTH_ERROR_UNAUTHENTICATED,      /* no (Bearer) token at all           */
  SIGNALING_AUTH_ERROR_TOKEN_INVALID,        /* malformed, tampered, wrong key/alg */
  SIGNALING_AUTH_ERROR_TOKEN_EXPIRED,
  SIGNALING_AUTH_ERROR_TOKEN_REVOKED,        /* logged out / invitation revoked    */
  SIGNALING_AUTH_ERROR_INVALID_CREDENTIALS,
  SIGNALING_AUTH_ERROR_ACCOUNT_LOCKED,
  SIGNALING_AUTH_ERROR_FORBIDDEN,
  SIGNALING_AUTH_ERROR_INVITATION_NOT_FOUND,
  SIGNALING_AUTH_ERROR_INVITATION_EXPIRED,
  SIGNALING_AUTH_ERROR_INVITATION_REVOKED,
  SIGNALING_AUTH_ERROR_KEY,                  /* token.key missing, unsafe, bad size */
  SIGNALING_AUTH_ERROR_INTERNAL,             /* the store failed                   */
} SignalingAuthError;

/* The docs/api.md code of @code: "unauthenticated", "token-invalid", ...,
 * "internal" for anything unknown. */
const char *signaling_auth_error_code_string (int code);
/* The HTTP status that goes with @code (401, 403, 404, 410, 423, 500). */
guint signaling_auth_error_http_status (int code);

#define SIGNALING_TOKEN_KEY_BYTES 32
#define SIGNALING_TOKEN_LEEWAY_SECONDS 30
#define SIGNALING_STAFF_TOKEN_SECONDS (30 * 60)
#define SIGNALING_LOGIN_SESSION_SECONDS (12 * 60 * 60)
#define SIGNALING_LOGIN_MAX_FAILURES 5
#define SIGNALING_LOGIN_LOCK_SECONDS (15 * 60)
/* Longest token accepted (ours are ~400 bytes). */
#define SIGNALING_TOKEN_MAX_LENGTH 4096

/* Loads <@data_dir>/token.key (exactly 32 bytes), creating it with mode
 * 0600 from RAND_bytes when absent.  Refuses (SIGNALING_AUTH_ERROR_KEY) a
 * key file readable or writable by group or others, or of another size. */
gboolean signaling_auth_key_load (const char *data_dir,
                                  guint8 key[SIGNALING_TOKEN_KEY_BYTES], GError **error);

/* ---- tokens (pure) ---------------------------------------------------- */

typedef struct {
  char *sub;     /* user id, or invitation id for a patient   */
  char *role;    /* records_role_to_string                    */
  char *jti;     /* login session id, or invitation id        */
  char *cid;     /* patient tokens only: the consultation     */
  char *pid;     /* patient tokens only: the patient          */
  gint64 iat;
  gint64 exp;
} SignalingTokenClaims;

void signaling_token_claims_free (SignalingTokenClaims *claims);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignalingTokenClaims, signaling_token_claims_free)

/* Signs @claims (iss "cau" added).  Returns (transfer full) the token. */
char *signaling_token_encode (const guint8 key[SIGNALING_TOKEN_KEY_BYTES],
                              const SignalingTokenClaims *claims);

/* Verifies @token at time @now (unix seconds).  Returns (transfer full)
 * its claims, or NULL + SIGNALING_AUTH_ERROR_TOKEN_INVALID or _TOKEN_EXPIRED.
 * Does not look at the store (see signaling_auth_authenticate). */
SignalingTokenClaims *signaling_token_decode (const guint8 key[SIGNALING_TOKEN_KEY_BYTES],
                                              const char *token, gint64 now, GError **error);

/* ---- SignalingAuth: tokens against the store -------------------------- */

typedef struct SignalingAuth SignalingAuth;

/* @store is borrowed and must outlive the result.  Loads or creates the
 * token key in @data_dir.  (transfer full) or NULL + @error. */
SignalingAuth *signaling_auth_new (RecordsStore *store, const char *data_dir, GError **error);
void signaling_auth_free (SignalingAuth *auth);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignalingAuth, signaling_auth_free)

/* The key (borrowed), for tests and for modules that sign their own tokens. */
const guint8 *signaling_auth_get_key (SignalingAuth *auth);

/* The Argon2id cost of new password hashes and of the dummy hash checked
 * for unknown usernames (so both take the same time).  Default: records'
 * (t 3, 64 MiB).  Tests lower it; production never does. */
void signaling_auth_set_password_cost (SignalingAuth *auth, guint t_cost, guint m_cost_kib);

/* Hashes @password at the configured cost (RECORDS_ERROR_INVALID for a bad
 * length).  (transfer full) */
char *signaling_auth_hash_password (SignalingAuth *auth, const char *password, GError **error);

/* Verifies @token (claims, then the store: session or invitation still
 * live, user still enabled).  Returns (transfer full) the principal with the
 * user's current role and facility, or NULL + a SIGNALING_AUTH_ERROR. */
SignalingPrincipal *signaling_auth_authenticate (SignalingAuth *auth, const char *token,
                                                 GError **error);

typedef struct {
  char *token;              /* the new token                           */
  gint64 expires_at;        /* its exp                                 */
  RecordsUser *user;        /* login only                              */
  gint64 retry_after;       /* ACCOUNT_LOCKED: seconds until unlocked  */
  RecordsInvitation *invitation;   /* redeem only                      */
  SignalingPrincipal *principal;   /* who the token is for             */
} SignalingAuthResult;

void signaling_auth_result_clear (SignalingAuthResult *result);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SignalingAuthResult, signaling_auth_result_clear)

/* Staff login.  Unknown or disabled users and wrong passwords get
 * INVALID_CREDENTIALS after the same Argon2id work; the 5th consecutive
 * failure locks the account for 15 minutes (ACCOUNT_LOCKED with
 * result->retry_after, also while locked, whatever the password).  Success
 * resets the count, opens a 12-hour login session and issues a 30-minute
 * token.  FALSE + @error on failure (result->user is set when the username
 * was known, for the audit). */
gboolean signaling_auth_login (SignalingAuth *auth, const char *username, const char *password,
                               SignalingAuthResult *result, GError **error);

/* The same login in three steps, so that the Argon2id work (0.2–0.4 s)
 * runs off the store's thread: signaling_auth_login_begin() looks the user
 * up (store thread); records_password_verify (password,
 * signaling_login_attempt_get_phc ()) may run on any thread — skip it when
 * that returns NULL (the account is locked: the answer is known);
 * signaling_auth_login_finish() counts the outcome and opens the session
 * (store thread), with the same results and errors as signaling_auth_login.
 * The attempt holds no reference to @auth. */
typedef struct SignalingLoginAttempt SignalingLoginAttempt;

SignalingLoginAttempt *signaling_auth_login_begin (SignalingAuth *auth, const char *username);
/* The PHC string to verify the password against (borrowed), or NULL. */
const char *signaling_login_attempt_get_phc (const SignalingLoginAttempt *attempt);
gboolean signaling_auth_login_finish (SignalingAuth *auth, SignalingLoginAttempt *attempt,
                                      gboolean password_matches, SignalingAuthResult *result,
                                      GError **error);
void signaling_login_attempt_free (SignalingLoginAttempt *attempt);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignalingLoginAttempt, signaling_login_attempt_free)

/* A fresh token for @principal's login session (staff only: FORBIDDEN for
 * a patient).  Never outlives the session. */
gboolean signaling_auth_refresh (SignalingAuth *auth, const SignalingPrincipal *principal,
                                 SignalingAuthResult *result, GError **error);

/* Revokes @principal's login session: every token of it stops working. */
gboolean signaling_auth_logout (SignalingAuth *auth, const SignalingPrincipal *principal,
                                GError **error);

/* Redeems a patient invitation secret: INVITATION_NOT_FOUND,
 * INVITATION_REVOKED or INVITATION_EXPIRED, else a patient token bound to
 * its consultation and patient, expiring with the invitation.  Works again
 * for a reconnect within the invitation's lifetime. */
gboolean signaling_auth_redeem_invitation (SignalingAuth *auth, const char *secret,
                                           SignalingAuthResult *result, GError **error);

/* Parses ISO-8601 UTC ("2026-11-22T08:30:00.000Z") to unix seconds; FALSE
 * when malformed.  Formats unix seconds the same way ((transfer full)). */
gboolean signaling_auth_parse_time (const char *text, gint64 *out_seconds);
char *signaling_auth_format_time (gint64 seconds);

G_END_DECLS
