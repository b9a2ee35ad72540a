/* audit.c — the append-only, hash-chained audit log.
 *
 * Each event's hash is SHA-256 over a canonical serialisation of the
 * previous event's hash and every field of the event, in a fixed order,
 * each written as "<byte length>:<bytes>" or "-" for NULL, after the tag
 * "cau-audit-1".  Length prefixes make the encoding unambiguous: no two
 * different events serialise to the same bytes, whatever their text holds.
 * audit_head keeps the last seq and hash, updated in the same transaction
 * as the row, so deleting the newest rows shows too.
 */
#include "records.h"

#include <openssl/evp.h>
#include <string.h>

#include "records-priv.h"

#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"
#define AUDIT_COLUMNS \
  "seq, at, actor_id, actor_role, action, entity_type, entity_id, patient_id, outcome," \
  " source, detail, prev_hash, hash"

static const char *const outcomes[] = { "success", "failure", "denied", NULL };

char *
records_sha256_hex (const void *data, gsize length)
{
  guint8 digest[EVP_MAX_MD_SIZE];
  unsigned int digest_length = 0;
  GString *hex = g_string_sized_new (64);

  if (EVP_Digest (data, length, digest, &digest_length, EVP_sha256 (), NULL) != 1)
    g_error ("records: SHA-256 unavailable");
  for (unsigned int i = 0; i < digest_length; i++)
    g_string_append_printf (hex, "%02x", digest[i]);
  return g_string_free (hex, FALSE);
}

void
records_audit_event_free (RecordsAuditEvent *event)
{
  if (event == NULL)
    return;
  g_free (event->at);
  g_free (event->actor_id);
  g_free (event->actor_role);
  g_free (event->action);
  g_free (event->entity_type);
  g_free (event->entity_id);
  g_free (event->patient_id);
  g_free (event->outcome);
  g_free (event->source);
  g_free (event->detail);
  g_free (event->prev_hash);
  g_free (event->hash);
  g_free (event);
}

static void
append_field (GString *out, const char *value)
{
  if (value == NULL)
    g_string_append_c (out, '-');
  else
    g_string_append_printf (out, "%" G_GSIZE_FORMAT ":%s", strlen (value), value);
}

/* The hash of @event over its fields and @event->prev_hash (transfer full). */
static char *
event_hash (const RecordsAuditEvent *event)
{
  g_autoptr (GString) out = g_string_new ("cau-audit-1");
  g_autofree char *seq = records_int_to_text (event->seq);

  append_field (out, event->prev_hash);
  append_field (out, seq);
  append_field (out, event->at);
  append_field (out, event->actor_id);
  append_field (out, event->actor_role);
  append_field (out, event->action);
  append_field (out, event->entity_type);
  append_field (out, event->entity_id);
  append_field (out, event->patient_id);
  append_field (out, event->outcome);
  append_field (out, event->source);
  append_field (out, event->detail);
  return records_sha256_hex (out->str, out->len);
}

static gboolean
action_valid (const char *action)
{
  gsize length = action ? strlen (action) : 0;

  if (length < 1 || length > 32)
    return FALSE;
  for (gsize i = 0; i < length; i++)
    if (!g_ascii_islower (action[i]) && action[i] != '-')
      return FALSE;
  return TRUE;
}

gboolean
records_audit_append (RecordsStore *store, RecordsAuditEvent *event, GError **error)
{
  g_autoptr (RecordsDbRows) head = NULL;
  g_autofree char *seq = NULL;
  RecordsDb *db;

  g_return_val_if_fail (store != NULL && event != NULL, FALSE);
  db = records_store_get_db (store);
  if (!records_check_text ("actor_id", event->actor_id, RECORDS_MAX_SHORT * 2, 0, error)
      || !records_check_text ("actor_role", event->actor_role, 32, 0, error))
    return FALSE;
  if (!action_valid (event->action)) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_INVALID, "action: 1-32 of a-z and '-'");
    return FALSE;
  }
  if (!records_check_text ("entity_type", event->entity_type, RECORDS_MAX_SHORT, 0, error)
      || !records_check_text ("entity_id", event->entity_id, RECORDS_MAX_SHORT * 2,
                              RECORDS_TEXT_OPTIONAL, error)
      || !records_check_text ("patient_id", event->patient_id, RECORDS_MAX_SHORT,
                              RECORDS_TEXT_OPTIONAL, error)
      || !records_check_enum ("outcome", event->outcome, outcomes, error)
      || !records_check_text ("source", event->source, RECORDS_MAX_NAME,
                              RECORDS_TEXT_OPTIONAL, error)
      || !records_check_text ("detail", event->detail, 1000,
                              RECORDS_TEXT_OPTIONAL | RECORDS_TEXT_MULTILINE, error))
    return FALSE;

  /* One writer at a time across every node, so the chain stays one line. */
  if (!records_db_begin (db, "audit_head", error))
    return FALSE;
  head = records_db_query (db, "SELECT seq, hash FROM audit_head WHERE id = 1", DB_NO_PARAMS,
                           error);
  if (head == NULL)
    goto rollback;
  if (head->n_rows != 1) {
    g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_TAMPERED, "audit_head row missing");
    goto rollback;
  }
  event->seq = records_text_to_int (records_db_rows_get (head, 0, 0)) + 1;
  g_free (event->at);
  event->at = records_timestamp_now ();
  g_free (event->prev_hash);
  event->prev_hash = g_strdup (records_db_rows_get (head, 0, 1));
  g_free (event->hash);
  event->hash = event_hash (event);
  seq = records_int_to_text (event->seq);

  if (!records_db_exec (db, "INSERT INTO audit_events (" AUDIT_COLUMNS ")"
                            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        DB_PARAMS (seq, event->at, event->actor_id, event->actor_role,
                                   event->action, event->entity_type, event->entity_id,
                                   event->patient_id, event->outcome, event->source,
                                   event->detail, event->prev_hash, event->hash),
                        NULL, error)
      || !records_db_exec (db, "UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1",
                           DB_PARAMS (seq, event->hash), NULL, error)
      || !records_db_commit (db, error))
    goto rollback;
  return TRUE;

rollback:
  records_db_rollback (db);
  return FALSE;
}

static RecordsAuditEvent *
event_from_row (const RecordsDbRows *rows, guint r)
{
  RecordsAuditEvent *event = g_new0 (RecordsAuditEvent, 1);

  event->seq = records_text_to_int (records_db_rows_get (rows, r, 0));
  event->at = g_strdup (records_db_rows_get (rows, r, 1));
  event->actor_id = g_strdup (records_db_rows_get (rows, r, 2));
  event->actor_role = g_strdup (records_db_rows_get (rows, r, 3));
  event->action = g_strdup (records_db_rows_get (rows, r, 4));
  event->entity_type = g_strdup (records_db_rows_get (rows, r, 5));
  event->entity_id = g_strdup (records_db_rows_get (rows, r, 6));
  event->patient_id = g_strdup (records_db_rows_get (rows, r, 7));
  event->outcome = g_strdup (records_db_rows_get (rows, r, 8));
  event->source = g_strdup (records_db_rows_get (rows, r, 9));
  event->detail = g_strdup (records_db_rows_get (rows, r, 10));
  event->prev_hash = g_strdup (records_db_rows_get (rows, r, 11));
  event->hash = g_strdup (records_db_rows_get (rows, r, 12));
  return event;
}

GPtrArray *
records_audit_list (RecordsStore *store, gint64 after_seq, const char *actor_id,
                    const char *patient_id, const char *action, guint limit, GError **error)
{
  g_autoptr (RecordsDbRows) rows = NULL;
  g_autofree char *after = NULL;
  g_autofree char *limit_text = NULL;
  GPtrArray *list;

  g_return_val_if_fail (store != NULL, NULL);
  after = records_int_to_text (MAX (after_seq, 0));
  limit_text = records_int_to_text (records_clamp_limit (limit, 100, 1000));
  /* CAST gives each NULL test a type PostgreSQL can infer. */
  rows = records_db_query (records_store_get_db (store),
                           "SELECT " AUDIT_COLUMNS " FROM audit_events WHERE seq > ?"
                           " AND (CAST(? AS TEXT) IS NULL OR actor_id = ?)"
                           " AND (CAST(? AS TEXT) IS NULL OR patient_id = ?)"
                           " AND (CAST(? AS TEXT) IS NULL OR action = ?)"
                           " ORDER BY seq LIMIT ?",
                           DB_PARAMS (after, actor_id, actor_id, patient_id, patient_id, action,
                                      action, limit_text),
                           error);
  if (rows == NULL)
    return NULL;
  list = g_ptr_array_new_with_free_func ((GDestroyNotify) records_audit_event_free);
  for (guint r = 0; r < rows->n_rows; r++)
    g_ptr_array_add (list, event_from_row (rows, r));
  return list;
}

static void
set_tampered (GError **error, gint64 *out_bad_seq, gint64 seq, const char *why)
{
  if (out_bad_seq)
    *out_bad_seq = seq;
  g_set_error (error, RECORDS_ERROR, RECORDS_ERROR_TAMPERED,
               "audit chain broken at seq %" G_GINT64_FORMAT ": %s", seq, why);
}

/* The walk itself, inside verify's read transaction. */
static gboolean
verify_chain (RecordsDb *db, gint64 *out_count, gint64 *out_bad_seq, GError **error)
{
  g_autoptr (RecordsDbRows) head = NULL;
  g_autofree char *prev_hash = g_strdup (ZERO_HASH);
  gint64 expected = 1, head_seq;
  const char *head_hash;

  head = records_db_query (db, "SELECT seq, hash FROM audit_head WHERE id = 1", DB_NO_PARAMS,
                           error);
  if (head == NULL)
    return FALSE;
  if (head->n_rows != 1) {
    set_tampered (error, out_bad_seq, 1, "the head row is missing");
    return FALSE;
  }
  head_seq = records_text_to_int (records_db_rows_get (head, 0, 0));
  head_hash = records_db_rows_get (head, 0, 1);

  for (;;) {
    g_autoptr (RecordsDbRows) rows = NULL;
    g_autofree char *after = records_int_to_text (expected - 1);

    rows = records_db_query (db, "SELECT " AUDIT_COLUMNS " FROM audit_events"
                                 " WHERE seq > ? ORDER BY seq LIMIT 1000",
                             DB_PARAMS (after), error);
    if (rows == NULL)
      return FALSE;
    if (rows->n_rows == 0)
      break;
    for (guint r = 0; r < rows->n_rows; r++) {
      g_autoptr (RecordsAuditEvent) event = event_from_row (rows, r);
      g_autofree char *hash = NULL;

      if (event->seq != expected) {
        set_tampered (error, out_bad_seq, expected, "missing row");
        return FALSE;
      }
      if (g_strcmp0 (event->prev_hash, prev_hash) != 0) {
        set_tampered (error, out_bad_seq, expected, "prev_hash does not link");
        return FALSE;
      }
      hash = event_hash (event);
      if (g_strcmp0 (event->hash, hash) != 0) {
        set_tampered (error, out_bad_seq, expected, "row edited (hash differs)");
        return FALSE;
      }
      g_free (prev_hash);
      prev_hash = g_steal_pointer (&event->hash);
      expected++;
    }
  }
  if (out_count)
    *out_count = expected - 1;
  if (head_seq != expected - 1 || g_strcmp0 (head_hash, prev_hash) != 0) {
    /* Rows cut off the end (head ahead), or rows added or rewritten past
     * what the head saw. */
    gint64 count = expected - 1;

    if (head_seq > count)
      set_tampered (error, out_bad_seq, count + 1, "rows missing at the end");
    else if (head_seq < count)
      set_tampered (error, out_bad_seq, head_seq + 1, "rows past the head");
    else
      set_tampered (error, out_bad_seq, count, "the last row disagrees with the head");
    return FALSE;
  }
  return TRUE;
}

gboolean
records_audit_verify (RecordsStore *store, gint64 *out_count, gint64 *out_bad_seq,
                      GError **error)
{
  RecordsDb *db;
  gboolean ok;

  g_return_val_if_fail (store != NULL, FALSE);
  db = records_store_get_db (store);
  if (out_count)
    *out_count = 0;
  if (out_bad_seq)
    *out_bad_seq = 0;
  if (!records_db_begin_read (db, error))
    return FALSE;
  ok = verify_chain (db, out_count, out_bad_seq, error);
  records_db_rollback (db);    /* read only: nothing to keep */
  return ok;
}
