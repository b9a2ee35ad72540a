/* password.h — staff password hashing: Argon2id (libargon2) in PHC string
 * form, e.g. "$argon2id$v=19$m=65536,t=3,p=1$<salt>$<hash>".
 *
 * Cost: t = 3 passes over m = 64 MiB with one lane (RFC 9106 §4, second
 * recommended option), 16-byte salt from OpenSSL's RAND_bytes, 32-byte tag.
 * A password is 8 to 1024 bytes (any bytes; the API layer checks UTF-8).
 *
 * Pure functions, no store; safe from any thread.  One hash at the default
 * cost takes about 0.2–0.4 s and 64 MiB on the machines we target, so
 * callers on an event loop hash rarely (login, user creation).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RECORDS_PASSWORD_MIN_BYTES 8
#define RECORDS_PASSWORD_MAX_BYTES 1024

#define RECORDS_PASSWORD_T_COST 3
#define RECORDS_PASSWORD_M_COST_KIB 65536

/* Hashes @password at the default cost.  Returns (transfer full) the PHC
 * string, or NULL + RECORDS_ERROR_INVALID when @password is shorter than 8
 * or longer than 1024 bytes (RECORDS_ERROR_QUERY if libargon2 or the random
 * source fails). */
char *records_password_hash (const char *password, GError **error);

/* The same at a chosen cost (@t_cost ≥ 1 passes, @m_cost_kib ≥ 8 KiB): for
 * tests, and for the dummy hash that makes an unknown username cost as much
 * as a known one.  Never use a lower cost for stored hashes. */
char *records_password_hash_with_cost (const char *password, guint t_cost, guint m_cost_kib,
                                       GError **error);

/* TRUE when @password matches the Argon2id PHC string @phc.  FALSE for a
 * wrong password, a malformed or non-Argon2id @phc, or a password outside
 * the allowed lengths.  The tag comparison is constant-time (libargon2's). */
gboolean records_password_verify (const char *password, const char *phc);

G_END_DECLS
