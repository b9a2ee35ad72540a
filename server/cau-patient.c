/* cau-patient.c — `cau patient import FILE.csv` and `cau patient list`.
 *
 * The import reads the whole file (at most 64 MiB) with records/csv.c,
 * maps the header's columns, and stores each row on its own, so a bad row
 * is reported (FILE:LINE: reason, LINE being where the row starts) and
 * skipped while the good rows are kept.
 */
#include "cau.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "csv.h"

#define IMPORT_MAX_FILE (64 * 1024 * 1024)

enum { COL_CCCD, COL_BHYT, COL_NAME, COL_BIRTH_DATE, COL_SEX, COL_PHONE, COL_ADDRESS,
       COL_FACILITY_CODE, N_COLUMNS };

static const char *const column_names[N_COLUMNS] = {
  "cccd", "bhyt", "name", "birth_date", "sex", "phone", "address", "facility_code",
};
static const gboolean column_required[N_COLUMNS] = {
  TRUE, FALSE, TRUE, TRUE, TRUE, FALSE, FALSE, TRUE,
};

/* Maps the header record to column positions (index[col] = field, or -1).
 * FALSE with a message for an unknown, repeated or missing column. */
static gboolean
map_header (const RecordsCsvRecord *header, int index[N_COLUMNS], char **out_message)
{
  for (int c = 0; c < N_COLUMNS; c++)
    index[c] = -1;
  for (size_t f = 0; f < header->n_fields; f++) {
    g_autofree char *name = g_ascii_strdown (header->fields[f], -1);
    int c;

    g_strstrip (name);
    for (c = 0; c < N_COLUMNS; c++)
      if (strcmp (name, column_names[c]) == 0)
        break;
    if (c == N_COLUMNS) {
      *out_message = g_strdup_printf ("unknown column \"%.40s\" (expected %s)", name,
                                      "cccd,bhyt,name,birth_date,sex,phone,address,facility_code");
      return FALSE;
    }
    if (index[c] >= 0) {
      *out_message = g_strdup_printf ("column \"%.40s\" given twice", name);
      return FALSE;
    }
    index[c] = (int) f;
  }
  for (int c = 0; c < N_COLUMNS; c++)
    if (column_required[c] && index[c] < 0) {
      *out_message = g_strdup_printf ("missing column \"%s\"", column_names[c]);
      return FALSE;
    }
  return TRUE;
}

/* Stores one data record; FALSE + a reason (transfer full) when rejected,
 * or FALSE + *@out_fatal when the store itself failed. */
static gboolean
import_row (RecordsStore *store, const RecordsCsvRecord *record, const int index[N_COLUMNS],
            size_t n_columns, GHashTable *facility_ids, char **out_reason, GError **out_fatal)
{
  const char *value[N_COLUMNS] = { NULL };
  g_autoptr (GError) error = NULL;
  RecordsPatient patient = { 0 };
  const char *facility_id;
  gboolean ok;

  if (record->n_fields != n_columns) {
    *out_reason = g_strdup_printf ("expected %zu fields, found %zu", n_columns,
                                   record->n_fields);
    return FALSE;
  }
  for (int c = 0; c < N_COLUMNS; c++) {
    if (index[c] < 0)
      continue;
    value[c] = record->fields[index[c]];
    if (!g_utf8_validate (value[c], (gssize) record->lengths[index[c]], NULL)) {
      *out_reason = g_strdup_printf ("%s: not UTF-8", column_names[c]);
      return FALSE;
    }
  }

  facility_id = g_hash_table_lookup (facility_ids, value[COL_FACILITY_CODE]);
  if (facility_id == NULL) {
    g_autoptr (RecordsFacility) facility =
      records_facility_get_by_code (store, value[COL_FACILITY_CODE], &error);

    if (facility == NULL) {
      if (!g_error_matches (error, RECORDS_ERROR, RECORDS_ERROR_NOT_FOUND)) {
        g_propagate_error (out_fatal, g_steal_pointer (&error));
        return FALSE;
      }
      *out_reason = g_strdup ("facility_code: no such facility");
      return FALSE;
    }
    facility_id = facility->id;
    g_hash_table_insert (facility_ids, g_strdup (value[COL_FACILITY_CODE]),
                         g_steal_pointer (&facility->id));
  }

  patient.cccd = (char *) value[COL_CCCD];
  patient.bhyt = (char *) value[COL_BHYT];
  patient.name = (char *) value[COL_NAME];
  patient.birth_date = (char *) value[COL_BIRTH_DATE];
  patient.sex = (char *) value[COL_SEX];
  patient.phone = (char *) value[COL_PHONE];
  patient.address = (char *) value[COL_ADDRESS];
  patient.facility_id = (char *) facility_id;
  if (!records_patient_create (store, &patient, CAU_ACTOR, &error)) {
    if (error->domain == RECORDS_ERROR
        && (error->code == RECORDS_ERROR_INVALID || error->code == RECORDS_ERROR_CONFLICT)) {
      *out_reason = g_strdup (error->message);
      return FALSE;
    }
    g_propagate_error (out_fatal, g_steal_pointer (&error));
    return FALSE;
  }
  ok = cau_audit (store, "create", "Patient", patient.id, patient.id, "cau patient import",
                  out_fatal);
  g_free (patient.id);
  g_free (patient.created_at);
  return ok;
}

int
cau_patient_import (int argc, char **argv)
{
  static const CauCommand self = { "patient import", "FILE.csv",
    "Imports patients from a CSV file (RFC 4180, UTF-8) whose header row names the\n"
    "columns, in any order: cccd,bhyt,name,birth_date,sex,phone,address,facility_code\n"
    "(bhyt, phone and address may be absent or empty).  Each row is stored on its\n"
    "own; a bad row is reported as FILE:LINE: reason and skipped.\n"
    "Exit status: 0 all rows imported, 1 some rejected, 2 usage or file error.", NULL };
  g_autoptr (RecordsStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) facility_ids = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *header_problem = NULL;
  g_autofree RecordsCsvRecord *record = NULL;
  RecordsCsvReader reader;
  RecordsCsvStatus status;
  GStatBuf st;
  const char *path, *reason;
  gsize length;
  int index[N_COLUMNS];
  size_t n_columns;
  guint imported = 0, rejected = 0;

  if (!cau_parse_command (&self, NULL, &argc, &argv))
    return CAU_EXIT_USAGE;
  if (argc != 2)
    return cau_usage_error (&self, "give one FILE.csv");
  path = argv[1];
  if (g_stat (path, &st) != 0) {
    int saved = errno;

    g_printerr ("cau: %s: %s\n", path, g_strerror (saved));
    return CAU_EXIT_USAGE;
  }
  if (!S_ISREG (st.st_mode) || st.st_size > IMPORT_MAX_FILE) {
    g_printerr ("cau: %s: not a regular file of at most %d MiB\n", path,
                IMPORT_MAX_FILE / (1024 * 1024));
    return CAU_EXIT_USAGE;
  }
  if (!g_file_get_contents (path, &contents, &length, &error)) {
    g_printerr ("cau: %s\n", error->message);
    return CAU_EXIT_USAGE;
  }

  record = g_new (RecordsCsvRecord, 1);
  records_csv_reader_init (&reader, contents, length);
  status = records_csv_read (&reader, record, &reason);
  if (status != RECORDS_CSV_RECORD) {
    g_printerr ("%s:%lu: %s\n", path, status == RECORDS_CSV_END ? reader.line : record->line,
                status == RECORDS_CSV_END ? "no header row" : reason);
    return CAU_EXIT_USAGE;
  }
  if (!map_header (record, index, &header_problem)) {
    g_printerr ("%s:%lu: header: %s\n", path, record->line, header_problem);
    return CAU_EXIT_USAGE;
  }
  n_columns = record->n_fields;

  if ((store = cau_open_store (TRUE)) == NULL)
    return CAU_EXIT_USAGE;
  facility_ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  while ((status = records_csv_read (&reader, record, &reason)) != RECORDS_CSV_END) {
    g_autofree char *row_problem = NULL;

    if (status == RECORDS_CSV_BAD) {
      g_printerr ("%s:%lu: %s\n", path, record->line, reason);
      rejected++;
      continue;
    }
    if (import_row (store, record, index, n_columns, facility_ids, &row_problem, &error)) {
      imported++;
      continue;
    }
    if (error) {
      g_printerr ("%s:%lu: %s\n", path, record->line, error->message);
      g_printerr ("cau: import stopped by a store error: imported %u, rejected %u\n",
                  imported, rejected);
      return CAU_EXIT_USAGE;
    }
    g_printerr ("%s:%lu: %s\n", path, record->line, row_problem);
    rejected++;
  }
  g_print ("imported %u, rejected %u\n", imported, rejected);
  return rejected > 0 ? CAU_EXIT_REFUSED : 0;
}

int
cau_patient_list (int argc, char **argv)
{
  static const CauCommand self = { "patient list", "",
    "Lists patients, by name; --q keeps those whose name contains TEXT\n"
    "(case-insensitive).  The search is written to the audit log.", NULL };
  g_autofree char *query = NULL;
  int limit = 100;
  const GOptionEntry entries[] = {
    { "q", 0, 0, G_OPTION_ARG_STRING, &query, "Part of the name", "TEXT" },
    { "limit", 0, 0, G_OPTION_ARG_INT, &limit, "At most N patients (1-10000, default 100)",
      "N" },
    { NULL }
  };
  g_autoptr (RecordsStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) patients = NULL;
  g_autoptr (GHashTable) codes = NULL;

  if (!cau_parse_command (&self, entries, &argc, &argv))
    return CAU_EXIT_USAGE;
  if (argc > 1)
    return cau_usage_error (&self, "unexpected argument");
  if (limit < 1 || limit > 10000)
    return cau_usage_error (&self, "--limit must be from 1 to 10000");
  if ((store = cau_open_store (FALSE)) == NULL)
    return CAU_EXIT_USAGE;
  if ((codes = cau_facility_codes (store, &error)) == NULL ||
      (patients = records_patient_search (store, query, NULL, (guint) limit, &error)) == NULL)
    return cau_records_failure ("patient list", error);
  if (!cau_audit (store, "search", "Patient", NULL, NULL, "cau patient list", &error))
    return cau_records_failure ("audit", error);
  g_print ("%-12s %-15s %-10s %-7s %-20s %s\n", "CCCD", "BHYT", "BORN", "SEX", "FACILITY",
           "NAME");
  for (guint i = 0; i < patients->len; i++) {
    RecordsPatient *p = patients->pdata[i];

    g_print ("%-12s %-15s %-10s %-7s %-20s %s\n", p->cccd, cau_or_dash (p->bhyt), p->birth_date,
             p->sex, cau_or_dash (g_hash_table_lookup (codes, p->facility_id)), p->name);
  }
  return 0;
}

