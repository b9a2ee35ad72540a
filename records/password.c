/* password.c — Argon2id password hashes (see password.h). */
#include "password.h"

#include <argon2.h>
#include <openssl/rand.h>
#include <string.h>

#include "records.h"

#define SALT_BYTES 16
#define TAG_BYTES 32

/* libargon2 decodes the cost from the PHC string it verifies; a stored
 * string is ours, but a hand-edited row must not make a login allocate
 * gigabytes, so verification refuses costs beyond these. */
#define MAX_VERIFY_M_COST_KIB (1024 * 1024)
#define MAX_VERIFY_T_COST 16

static gboolean
password_length_ok (const char *password)
{
  gsize length = strnlen (password, RECORDS_PASSWORD_MAX_BYTES + 1);

  return length >= RECORDS_PASSWORD_MIN_BYTES && length <= RECORDS_PASSWORD_MAX_BYTES;
}

char *
records_password_hash_with_cost (const char *password, guint t_cost, guint m_cost_kib,
                                 GError **error)
{
  guint8 salt[SALT_BYTES];
  g_autofree char *encoded = NULL;
  gsize encoded_length;
  int status;

  g_return_val_if_fail (password != NULL, NULL);
  g_return_val_if_fail (t_cost >= 1 && m_cost_kib >= 8, NULL);

  if (!password_length_ok (password)) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID,
                 "password: must be %d to %d bytes long",
                 RECORDS_PASSWORD_MIN_BYTES, RECORDS_PASSWORD_MAX_BYTES);
    return NULL;
  }
  if (RAND_bytes (salt, sizeof salt) != 1) {
    g_set_error_literal (error, RECORDS_ERROR, RECORDS_ERROR_QUERY,
                         "password: the random source failed");
    return NULL;
  }
  encoded_length = argon2_encodedlen (t_cost, m_cost_kib, 1, SALT_BYTES, TAG_BYTES, Argon2_id);
  encoded = g_malloc0 (encoded_length);
  status = argon2id_hash_encoded (t_cost, m_cost_kib, 1, password, strlen (password),
                                  salt, sizeof salt, TAG_BYTES, encoded, encoded_length);
  if (status != ARGON2_OK) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_QUERY, "password: argon2id: %s",
                 argon2_error_message (status));
    return NULL;
  }
  return g_steal_pointer (&encoded);
}

char *
records_password_hash (const char *password, GError **error)
{
  return records_password_hash_with_cost (password, RECORDS_PASSWORD_T_COST,
                                          RECORDS_PASSWORD_M_COST_KIB, error);
}

/* Reads "$argon2id$v=19$m=M,t=T,p=P$" and checks the cost is bounded. */
static gboolean
phc_cost_acceptable (const char *phc)
{
  static const char prefix[] = "$argon2id$v=19$m=";
  guint64 m_cost, t_cost, lanes;
  char *end;

  if (strncmp (phc, prefix, sizeof prefix - 1) != 0)
    return FALSE;
  phc += sizeof prefix - 1;
  if (!g_ascii_isdigit (*phc))
    return FALSE;
  m_cost = g_ascii_strtoull (phc, &end, 10);
  if (strncmp (end, ",t=", 3) != 0 || !g_ascii_isdigit (end[3]))
    return FALSE;
  t_cost = g_ascii_strtoull (end + 3, &end, 10);
  if (strncmp (end, ",p=", 3) != 0 || !g_ascii_isdigit (end[3]))
    return FALSE;
  lanes = g_ascii_strtoull (end + 3, &end, 10);
  if (*end != '$')
    return FALSE;
  return m_cost >= 8 && m_cost <= MAX_VERIFY_M_COST_KIB && t_cost >= 1
         && t_cost <= MAX_VERIFY_T_COST && lanes >= 1 && lanes <= 16;
}

gboolean
records_password_verify (const char *password, const char *phc)
{
  if (password == NULL || phc == NULL || !password_length_ok (password)
      || strlen (phc) > 512 || !phc_cost_acceptable (phc))
    return FALSE;
  return argon2id_verify (phc, password, strlen (password)) == ARGON2_OK;
}
