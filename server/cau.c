/* cau.c — Cầu's admin command line: facilities, users, patients (CSV
 * import), the audit chain and the demo world, straight on the records
 * store (SQLite in the data directory, or PostgreSQL by URI).
 *
 *   cau [--data-dir DIR] [--database URI] COMMAND [ARGS] [--help]
 *
 * Exit status: 0 done; 1 refused or failed (invalid or duplicate input,
 * rejected CSV rows, a broken audit chain); 2 usage, I/O or store errors.
 * Every write appends an audit event (actor "cli", role "system", source
 * "cli").  Passwords are read from stdin or a no-echo prompt, never from
 * the command line.  docs/operations.md is the manual.
 */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cau-config.h"
#include "csv.h"
#include "demo.h"
#include "password.h"
#include "records.h"

#define EXIT_REFUSED 1
#define EXIT_USAGE 2

#define CLI_ACTOR "cli"
#define IMPORT_MAX_FILE (64 * 1024 * 1024)

/* ---- global options (accepted before or after the command) ------------- */

static char *opt_data_dir;
static char *opt_database;

static const GOptionEntry global_entries[] = {
  { "data-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_data_dir,
    "caud's data directory (default $CAU_DATA_DIR, else ./data); SQLite is DIR/cau.db", "DIR" },
  { "database", 0, 0, G_OPTION_ARG_STRING, &opt_database,
    "PostgreSQL URI postgresql://… (default $CAU_DATABASE; unset = SQLite in the data directory)",
    "URI" },
  { NULL }
};

typedef struct {
  const char *name;          /* "facility create" */
  const char *args;          /* parameter string in --help */
  const char *summary;
  int (*run) (int argc, char **argv);
} Command;

static GOptionContext *
command_context (const Command *command, const GOptionEntry *entries)
{
  g_autofree char *parameter = g_strdup_printf ("%s%s%s", command->name,
                                                command->args[0] ? " " : "", command->args);
  GOptionContext *context = g_option_context_new (parameter);

  g_option_context_set_summary (context, command->summary);
  if (entries)
    g_option_context_add_main_entries (context, entries, NULL);
  /* The store options are accepted after the command too, and shown in its
   * --help: there are only two. */
  g_option_context_add_main_entries (context, global_entries, NULL);
  return context;
}

/* Parses @argv (argv[0] is the command's last word) against @entries.
 * FALSE after printing the error: the caller exits EXIT_USAGE. */
static gboolean
parse_command (const Command *command, const GOptionEntry *entries, int *argc, char ***argv)
{
  g_autoptr (GOptionContext) context = command_context (command, entries);
  g_autoptr (GError) error = NULL;

  if (!g_option_context_parse (context, argc, argv, &error)) {
    g_printerr ("cau %s: %s\nTry \"cau %s --help\".\n", command->name, error->message,
                command->name);
    return FALSE;
  }
  return TRUE;
}

static int
usage_error (const Command *command, const char *message)
{
  g_printerr ("cau %s: %s\nTry \"cau %s --help\".\n", command->name, message, command->name);
  return EXIT_USAGE;
}

/* ---- the store ------------------------------------------------------- */

static const char *
data_dir (void)
{
  const char *env = g_getenv ("CAU_DATA_DIR");

  if (opt_data_dir && opt_data_dir[0])
    return opt_data_dir;
  return env && env[0] ? env : "./data";
}

static const char *
database_uri (void)
{
  const char *env = g_getenv ("CAU_DATABASE");

  if (opt_database && opt_database[0])
    return opt_database;
  return env && env[0] ? env : NULL;
}

/* Opens the store.  @create: a write may create the data directory (mode
 * 0700, as caud does) and an empty database; a read needs one that exists,
 * so that "audit verify" on a mistyped directory does not pass on a new
 * empty chain.  NULL after printing why. */
static RecordsStore *
open_store (gboolean create)
{
  g_autoptr (GError) error = NULL;
  const char *uri = database_uri ();
  RecordsStore *store;

  if (uri && !g_str_has_prefix (uri, "postgresql://") && !g_str_has_prefix (uri, "postgres://")) {
    g_printerr ("cau: --database must be a postgresql:// or postgres:// URI "
                "(SQLite is chosen with --data-dir)\n");
    return NULL;
  }
  if (uri == NULL) {
    g_autofree char *db_path = g_build_filename (data_dir (), "cau.db", NULL);

    if (!g_file_test (db_path, G_FILE_TEST_EXISTS)) {
      if (!create) {
        g_printerr ("cau: no database at %s (wrong --data-dir?)\n", db_path);
        return NULL;
      }
      if (g_mkdir_with_parents (data_dir (), 0700) != 0) {
        int saved = errno;

        g_printerr ("cau: cannot create %s: %s\n", data_dir (), g_strerror (saved));
        return NULL;
      }
    }
  }
  store = records_store_open_uri (uri ? uri : data_dir (), &error);
  if (store == NULL)
    g_printerr ("cau: cannot open the records store: %s\n", error->message);
  return store;
}

/* Appends the audit event of one CLI action. */
static gboolean
audit (RecordsStore *store, const char *action, const char *entity_type, const char *entity_id,
       const char *patient_id, const char *detail, GError **error)
{
  RecordsAuditEvent event = {
    .actor_id = (char *) CLI_ACTOR,
    .actor_role = (char *) "system",
    .action = (char *) action,
    .entity_type = (char *) entity_type,
    .entity_id = (char *) entity_id,
    .patient_id = (char *) patient_id,
    .outcome = (char *) "success",
    .source = (char *) "cli",
    .detail = (char *) detail,
  };
  gboolean ok = records_audit_append (store, &event, error);

  g_free (event.at);
  g_free (event.prev_hash);
  g_free (event.hash);
  return ok;
}

/* Exit status for a records error: refused input is 1, the rest 2. */
static int
records_failure (const char *what, const GError *error)
{
  g_printerr ("cau: %s: %s\n", what, error->message);
  if (error->domain == RECORDS_ERROR
      && (error->code == RECORDS_ERROR_INVALID || error->code == RECORDS_ERROR_CONFLICT
          || error->code == RECORDS_ERROR_NOT_FOUND))
    return EXIT_REFUSED;
  return EXIT_USAGE;
}

static const char *
or_dash (const char *text)
{
  return text && text[0] ? text : "-";
}

/* facility id → code, for listings. */
static GHashTable *
facility_codes (RecordsStore *store, GError **error)
{
  g_autoptr (GPtrArray) facilities = records_facility_list (store, error);
  GHashTable *codes;

  if (facilities == NULL)
    return NULL;
  codes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (guint i = 0; i < facilities->len; i++) {
    RecordsFacility *facility = facilities->pdata[i];

    g_hash_table_insert (codes, g_strdup (facility->id), g_strdup (facility->code));
  }
  return codes;
}

/* ---- facility ---------------------------------------------------------- */

static int
run_facility_create (int argc, char **argv)
{
  static const Command self = { "facility create", "",
    "Creates a facility.  --kind is district-clinic, provincial-hospital or\n"
    "national-hospital; --province the 3-digit CCCD province code (038 = Thanh Hóa).", NULL };
  g_autofree char *code = NULL, *name = NULL, *kind = NULL, *province = NULL;
  const GOptionEntry entries[] = {
    { "code", 0, 0, G_OPTION_ARG_STRING, &code, "Unique code, e.g. 38-DONGSON", "CODE" },
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, "Name", "NAME" },
    { "kind", 0, 0, G_OPTION_ARG_STRING, &kind, "district-clinic, provincial-hospital or "
      "national-hospital", "KIND" },
    { "province", 0, 0, G_OPTION_ARG_STRING, &province, "3-digit province code, e.g. 038",
      "NNN" },
    { NULL }
  };
  g_autoptr (RecordsStore) store = NULL;
  g_autoptr (GError) error = NULL;
  RecordsFacility facility = { 0 };
  int status;

  if (!parse_command (&self, entries, &argc, &argv))
    return EXIT_USAGE;
  if (argc > 1)
    return usage_error (&self, "unexpected argument");
  if (!code || !name || !kind || !province)
    return usage_error (&self, "--code, --name, --kind and --province are required");
  if ((store = open_store (TRUE)) == NULL)
    return EXIT_USAGE;

  facility.code = code;
  facility.name = name;
  facility.kind = kind;
  facility.province_code = province;
  if (!records_facility_create (store, &facility, CLI_ACTOR, &error))
    return records_failure ("facility create", error);
  status = 0;
  if (!audit (store, "create", "Organization", facility.id, NULL, "cau facility create", &error))
    status = records_failure ("audit", error);
  else
    g_print ("created facility %s (%s)\n", code, facility.id);
  g_free (facility.id);
  g_free (facility.created_at);
  return status;
}

static int
run_facility_list (int argc, char **argv)
{
  static const Command self = { "facility list", "", "Lists every facility.", NULL };
  g_autoptr (RecordsStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) facilities = NULL;

  if (!parse_command (&self, NULL, &argc, &argv))
    return EXIT_USAGE;
  if (argc > 1)
    return usage_error (&self, "unexpected argument");
  if ((store = open_store (FALSE)) == NULL)
    return EXIT_USAGE;
  if ((facilities = records_facility_list (store, &error)) == NULL)
    return records_failure ("facility list", error);
  g_print ("%-32s %-19s %-8s %s\n", "CODE", "KIND", "PROVINCE", "NAME");
  for (guint i = 0; i < facilities->len; i++) {
    RecordsFacility *f = facilities->pdata[i];

    g_print ("%-32s %-19s %-8s %s\n", f->code, f->kind, f->province_code, f->name);
  }
  return 0;
}

/* ---- user -------------------------------------------------------------- */

/* Reads one line from @stream into a (transfer full) string without its line
 * end; NULL at end of input or when longer than @max bytes. */
static char *
read_line (FILE *stream, gsize max)
{
  GString *line = g_string_sized_new (64);
  int c;

  while ((c = fgetc (stream)) != EOF && c != '\n') {
    if (line->len > max) {
      /* wipe what was read: it may be a password */
      explicit_bzero (line->str, line->len);
      g_string_free (line, TRUE);
      return NULL;
    }
    g_string_append_c (line, (char) c);
  }
  if (c == EOF && line->len == 0) {
    g_string_free (line, TRUE);
    return NULL;
  }
  if (line->len > 0 && line->str[line->len - 1] == '\r')
    g_string_truncate (line, line->len - 1);
  return g_string_free (line, FALSE);
}

static void
free_secret (char *secret)
{
  if (secret) {
    explicit_bzero (secret, strlen (secret));
    g_free (secret);
  }
}

/* Echo goes off before the prompt is shown, so nothing typed after the
 * prompt is echoed. */
static char *
prompt_hidden (const char *prompt)
{
  struct termios saved, quiet;
  gboolean restore = FALSE;
  char *line;

  if (tcgetattr (STDIN_FILENO, &saved) == 0) {
    quiet = saved;
    quiet.c_lflag &= ~(tcflag_t) ECHO;
    quiet.c_lflag |= ECHONL;
    restore = tcsetattr (STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
  }
  g_printerr ("%s", prompt);
  line = read_line (stdin, RECORDS_PASSWORD_MAX_BYTES);
  if (restore)
    tcsetattr (STDIN_FILENO, TCSANOW, &saved);
  return line;
}

/* The new user's password: one line of stdin when it is not a terminal,
 * else asked twice without echo.  (transfer full), NULL after printing why. */
static char *
read_password (void)
{
  char *first, *second;

  if (!isatty (STDIN_FILENO)) {
    first = read_line (stdin, RECORDS_PASSWORD_MAX_BYTES);
    if (first == NULL)
      g_printerr ("cau: no password on stdin (one line, at most %d bytes)\n",
                  RECORDS_PASSWORD_MAX_BYTES);
    return first;
  }
  first = prompt_hidden ("New password: ");
  if (first == NULL)
    return NULL;
  second = prompt_hidden ("Again: ");
  if (second == NULL || strcmp (first, second) != 0) {
    g_printerr ("cau: the passwords differ\n");
    free_secret (first);
    free_secret (second);
    return NULL;
  }
  free_secret (second);
  return first;
}

static int
run_user_create (int argc, char **argv)
{
  static const Command self = { "user create", "",
    "Creates a staff account.  --role is clinician, specialist, nurse, administrator\n"
    "or auditor; --facility is required except for administrators and auditors.\n"
    "The password is read from stdin (one line) when stdin is not a terminal,\n"
    "else asked twice without echo; it is never taken from the command line.", NULL };
  g_autofree char *username = NULL, *name = NULL, *role_text = NULL, *facility_code = NULL;
  const GOptionEntry entries[] = {
    { "username", 0, 0, G_OPTION_ARG_STRING, &username, "Login name: 3-64 of a-z 0-9 . _ -",
      "NAME" },
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, "Display name", "TEXT" },
    { "role", 0, 0, G_OPTION_ARG_STRING, &role_text, "clinician, specialist, nurse, "
      "administrator or auditor", "ROLE" },
    { "facility", 0, 0, G_OPTION_ARG_STRING, &facility_code, "Facility code", "CODE" },
    { NULL }
  };
  g_autoptr (RecordsStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (RecordsFacility) facility = NULL;
  RecordsUser user = { 0 };
  RecordsRole role;
  char *password;
  g_autofree char *hash = NULL;
  int status = 0;

  if (!parse_command (&self, entries, &argc, &argv))
    return EXIT_USAGE;
  if (argc > 1)
    return usage_error (&self, "unexpected argument (the password is never an argument)");
  if (!username || !name || !role_text)
    return usage_error (&self, "--username, --name and --role are required");
  if (!records_role_from_string (role_text, &role) || role == RECORDS_ROLE_PATIENT)
    return usage_error (&self, "--role must be clinician, specialist, nurse, administrator "
                        "or auditor");
  if ((store = open_store (TRUE)) == NULL)
    return EXIT_USAGE;
  if (facility_code) {
    facility = records_facility_get_by_code (store, facility_code, &error);
    if (facility == NULL)
      return records_failure ("--facility", error);
  }

  password = read_password ();
  if (password == NULL)
    return EXIT_REFUSED;
  hash = records_password_hash (password, &error);
  free_secret (password);
  if (hash == NULL)
    return records_failure ("password", error);

  user.username = username;
  user.display_name = name;
  user.role = role;
  user.facility_id = facility ? facility->id : NULL;
  user.password_hash = hash;
  if (!records_user_create (store, &user, CLI_ACTOR, &error))
    return records_failure ("user create", error);
  if (!audit (store, "create", "User", user.id, NULL, "cau user create", &error))
    status = records_failure ("audit", error);
  else
    g_print ("created user %s (%s)\n", username, user.id);
  g_free (user.id);
  g_free (user.created_at);
  return status;
}

static int
run_user_list (int argc, char **argv)
{
  static const Command self = { "user list", "", "Lists every staff account.", NULL };
  g_autoptr (RecordsStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) users = NULL;
  g_autoptr (GHashTable) codes = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  if (!parse_command (&self, NULL, &argc, &argv))
    return EXIT_USAGE;
  if (argc > 1)
    return usage_error (&self, "unexpected argument");
  if ((store = open_store (FALSE)) == NULL)
    return EXIT_USAGE;
  if ((codes = facility_codes (store, &error)) == NULL ||
      (users = records_user_list (store, NULL, &error)) == NULL)
    return records_failure ("user list", error);
  g_print ("%-24s %-14s %-20s %-8s %s\n", "USERNAME", "ROLE", "FACILITY", "STATE", "NAME");
  for (guint i = 0; i < users->len; i++) {
    RecordsUser *u = users->pdata[i];
    const char *state = u->disabled ? "disabled" : u->locked_until > now ? "locked" : "active";

    g_print ("%-24s %-14s %-20s %-8s %s\n", u->username, records_role_to_string (u->role),
             or_dash (u->facility_id ? g_hash_table_lookup (codes, u->facility_id) : NULL),
             state, u->display_name);
  }
  return 0;
}

static int
run_user_unlock (int argc, char **argv)
{
  static const Command self = { "user unlock", "USERNAME",
    "Clears an account's failed-login count and lock.", NULL };
  g_autoptr (RecordsStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (RecordsUser) user = NULL;

  if (!parse_command (&self, NULL, &argc, &argv))
    return EXIT_USAGE;
  if (argc != 2)
    return usage_error (&self, "give one USERNAME");
  if ((store = open_store (FALSE)) == NULL)
    return EXIT_USAGE;
  if ((user = records_user_get_by_username (store, argv[1], &error)) == NULL)
    return records_failure ("user unlock", error);
  if (!records_user_set_login_state (store, user->id, 0, 0, &error))
    return records_failure ("user unlock", error);
  if (!audit (store, "update", "User", user->id, NULL, "cau user unlock", &error))
    return records_failure ("audit", error);
  g_print ("unlocked %s\n", user->username);
  return 0;
}

/* ---- patient ----------------------------------------------------------- */

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
      *out_message = g_strdup_printf ("unknown column \"%s\" (expected %s)", name,
                                      "cccd,bhyt,name,birth_date,sex,phone,address,facility_code");
      return FALSE;
    }
    if (index[c] >= 0) {
      *out_message = g_strdup_printf ("column \"%s\" given twice", name);
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
  if (!records_patient_create (store, &patient, CLI_ACTOR, &error)) {
    if (error->domain == RECORDS_ERROR
        && (error->code == RECORDS_ERROR_INVALID || error->code == RECORDS_ERROR_CONFLICT)) {
      *out_reason = g_strdup (error->message);
      return FALSE;
    }
    g_propagate_error (out_fatal, g_steal_pointer (&error));
    return FALSE;
  }
  ok = audit (store, "create", "Patient", patient.id, patient.id, "cau patient import", out_fatal);
  g_free (patient.id);
  g_free (patient.created_at);
  return ok;
}

static int
run_patient_import (int argc, char **argv)
{
  static const Command self = { "patient import", "FILE.csv",
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

  if (!parse_command (&self, NULL, &argc, &argv))
    return EXIT_USAGE;
  if (argc != 2)
    return usage_error (&self, "give one FILE.csv");
  path = argv[1];
  if (g_stat (path, &st) != 0) {
    int saved = errno;

    g_printerr ("cau: %s: %s\n", path, g_strerror (saved));
    return EXIT_USAGE;
  }
  if (!S_ISREG (st.st_mode) || st.st_size > IMPORT_MAX_FILE) {
    g_printerr ("cau: %s: not a regular file of at most %d MiB\n", path,
                IMPORT_MAX_FILE / (1024 * 1024));
    return EXIT_USAGE;
  }
  if (!g_file_get_contents (path, &contents, &length, &error)) {
    g_printerr ("cau: %s\n", error->message);
    return EXIT_USAGE;
  }

  record = g_new (RecordsCsvRecord, 1);
  records_csv_reader_init (&reader, contents, length);
  status = records_csv_read (&reader, record, &reason);
  if (status != RECORDS_CSV_RECORD) {
    g_printerr ("%s:%lu: %s\n", path, status == RECORDS_CSV_END ? reader.line : record->line,
                status == RECORDS_CSV_END ? "no header row" : reason);
    return EXIT_USAGE;
  }
  if (!map_header (record, index, &header_problem)) {
    g_printerr ("%s:%lu: header: %s\n", path, record->line, header_problem);
    return EXIT_USAGE;
  }
  n_columns = record->n_fields;

  if ((store = open_store (TRUE)) == NULL)
    return EXIT_USAGE;
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
      return EXIT_USAGE;
    }
    g_printerr ("%s:%lu: %s\n", path, record->line, row_problem);
    rejected++;
  }
  g_print ("imported %u, rejected %u\n", imported, rejected);
  return rejected > 0 ? EXIT_REFUSED : 0;
}

static int
run_patient_list (int argc, char **argv)
{
  static const Command self = { "patient list", "",
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

  if (!parse_command (&self, entries, &argc, &argv))
    return EXIT_USAGE;
  if (argc > 1)
    return usage_error (&self, "unexpected argument");
  if (limit < 1 || limit > 10000)
    return usage_error (&self, "--limit must be from 1 to 10000");
  if ((store = open_store (FALSE)) == NULL)
    return EXIT_USAGE;
  if ((codes = facility_codes (store, &error)) == NULL ||
      (patients = records_patient_search (store, query, NULL, (guint) limit, &error)) == NULL)
    return records_failure ("patient list", error);
  if (!audit (store, "search", "Patient", NULL, NULL, "cau patient list", &error))
    return records_failure ("audit", error);
  g_print ("%-12s %-15s %-10s %-7s %-20s %s\n", "CCCD", "BHYT", "BORN", "SEX", "FACILITY",
           "NAME");
  for (guint i = 0; i < patients->len; i++) {
    RecordsPatient *p = patients->pdata[i];

    g_print ("%-12s %-15s %-10s %-7s %-20s %s\n", p->cccd, or_dash (p->bhyt), p->birth_date,
             p->sex, or_dash (g_hash_table_lookup (codes, p->facility_id)), p->name);
  }
  return 0;
}

/* ---- audit ------------------------------------------------------------- */

static int
run_audit_verify (int argc, char **argv)
{
  static const Command self = { "audit verify", "",
    "Walks the whole audit chain: every hash recomputed, every link and the head\n"
    "checked.  Exit 0 and \"audit chain ok: N events\", or exit 1 naming the first\n"
    "edited, deleted or missing event.", NULL };
  g_autoptr (RecordsStore) store = NULL;
  g_autoptr (GError) error = NULL;
  gint64 count = 0;

  if (!parse_command (&self, NULL, &argc, &argv))
    return EXIT_USAGE;
  if (argc > 1)
    return usage_error (&self, "unexpected argument");
  if ((store = open_store (FALSE)) == NULL)
    return EXIT_USAGE;
  if (!records_audit_verify (store, &count, NULL, &error)) {
    if (g_error_matches (error, RECORDS_ERROR, RECORDS_ERROR_TAMPERED)) {
      /* records names the seq in its message ("audit chain broken at seq N: …"). */
      g_print ("%s\n", error->message);
      return EXIT_REFUSED;
    }
    g_printerr ("cau: audit verify: %s\n", error->message);
    return EXIT_USAGE;
  }
  g_print ("audit chain ok: %" G_GINT64_FORMAT " events\n", count);
  return 0;
}

static int
run_audit_list (int argc, char **argv)
{
  static const Command self = { "audit list", "",
    "Lists audit events in order, from the start or after --after SEQ.", NULL };
  int limit = 100;
  gint64 after = 0;
  const GOptionEntry entries[] = {
    { "limit", 0, 0, G_OPTION_ARG_INT, &limit, "At most N events (1-10000, default 100)", "N" },
    { "after", 0, 0, G_OPTION_ARG_INT64, &after, "Start after this seq (default 0)", "SEQ" },
    { NULL }
  };
  g_autoptr (RecordsStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) events = NULL;

  if (!parse_command (&self, entries, &argc, &argv))
    return EXIT_USAGE;
  if (argc > 1)
    return usage_error (&self, "unexpected argument");
  if (limit < 1 || limit > 10000 || after < 0)
    return usage_error (&self, "--limit must be from 1 to 10000, --after not negative");
  if ((store = open_store (FALSE)) == NULL)
    return EXIT_USAGE;
  if ((events = records_audit_list (store, after, NULL, NULL, NULL, (guint) limit,
                                    &error)) == NULL)
    return records_failure ("audit list", error);
  g_print ("%-6s %-24s %-14s %-8s %-13s %-36s %-8s %s\n", "SEQ", "AT", "ROLE", "ACTION",
           "ENTITY", "ENTITY_ID", "OUTCOME", "ACTOR / SOURCE / DETAIL");
  for (guint i = 0; i < events->len; i++) {
    RecordsAuditEvent *e = events->pdata[i];

    g_print ("%-6" G_GINT64_FORMAT " %-24s %-14s %-8s %-13s %-36s %-8s %s / %s / %s\n", e->seq,
             e->at, e->actor_role, e->action, e->entity_type, or_dash (e->entity_id),
             e->outcome, e->actor_id, or_dash (e->source), or_dash (e->detail));
  }
  return 0;
}

/* ---- demo -------------------------------------------------------------- */

static int
run_demo (int argc, char **argv)
{
  static const Command self = { "demo", "",
    "Seeds the fictional demo network (facilities, staff, synthetic patients, two\n"
    "consultations today) into an empty store and prints the staff accounts with\n"
    "their passwords, once.  Refused (exit 1) when the store is not empty.", NULL };
  g_autoptr (RecordsStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) accounts = NULL;

  if (!parse_command (&self, NULL, &argc, &argv))
    return EXIT_USAGE;
  if (argc > 1)
    return usage_error (&self, "unexpected argument");
  if ((store = open_store (TRUE)) == NULL)
    return EXIT_USAGE;
  if (!records_demo_seed (store, &accounts, &error))
    return records_failure ("demo", error);
  if (!audit (store, "create", "Demo", NULL, NULL, "cau demo", &error))
    return records_failure ("audit", error);
  g_print ("Demo accounts (the passwords are shown only now):\n");
  g_print ("%-22s %-20s %-14s %s\n", "USERNAME", "PASSWORD", "ROLE", "FACILITY");
  for (guint i = 0; i < accounts->len; i++) {
    RecordsDemoAccount *a = accounts->pdata[i];

    g_print ("%-22s %-20s %-14s %s\n", a->username, a->password,
             records_role_to_string (a->role), or_dash (a->facility_code));
  }
  return 0;
}

/* ---- dispatch ---------------------------------------------------------- */

static const Command commands[] = {
  { "facility create", "", "Create a facility", run_facility_create },
  { "facility list", "", "List facilities", run_facility_list },
  { "user create", "", "Create a staff account (password from stdin or a prompt)",
    run_user_create },
  { "user list", "", "List staff accounts", run_user_list },
  { "user unlock", "USERNAME", "Clear an account's lockout", run_user_unlock },
  { "patient import", "FILE.csv", "Import patients from CSV", run_patient_import },
  { "patient list", "", "List or search patients", run_patient_list },
  { "audit verify", "", "Verify the audit hash chain", run_audit_verify },
  { "audit list", "", "List audit events", run_audit_list },
  { "demo", "", "Seed the demo world into an empty store", run_demo },
};

static char *
commands_help (void)
{
  GString *text = g_string_new ("Commands:\n");

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++) {
    g_autofree char *usage = g_strdup_printf ("%s%s%s", commands[i].name,
                                              commands[i].args[0] ? " " : "", commands[i].args);

    g_string_append_printf (text, "  %-26s %s\n", usage, commands[i].summary);
  }
  g_string_append (text, "\n\"cau COMMAND --help\" describes each command's options.\n"
                         "Exit status: 0 done, 1 refused or failed, 2 usage or I/O error.");
  return g_string_free (text, FALSE);
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *description = commands_help ();
  gboolean show_version = FALSE;
  const GOptionEntry version_entry[] = {
    { "version", 0, 0, G_OPTION_ARG_NONE, &show_version, "Print the version and exit", NULL },
    { NULL }
  };
  int status = EXIT_USAGE;

  setlocale (LC_ALL, "");
  context = g_option_context_new ("COMMAND [ARGS]");
  g_option_context_set_summary (context, "Cầu's admin command line: facilities, users, "
                                "patients, the audit chain, the demo world.");
  g_option_context_set_description (context, description);
  g_option_context_add_main_entries (context, global_entries, NULL);
  g_option_context_add_main_entries (context, version_entry, NULL);
  /* Stop at the command: its own options are parsed by its own context. */
  g_option_context_set_strict_posix (context, TRUE);
  if (!g_option_context_parse (context, &argc, &argv, &error)) {
    g_printerr ("cau: %s\nTry \"cau --help\".\n", error->message);
    goto out;
  }
  if (show_version) {
    g_print ("cau %s\n", CAU_VERSION);
    status = 0;
    goto out;
  }
  if (argc < 2) {
    g_printerr ("cau: give a command\nTry \"cau --help\".\n");
    goto out;
  }

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++) {
    g_auto (GStrv) words = g_strsplit (commands[i].name, " ", 2);
    guint n_words = g_strv_length (words);

    if (strcmp (argv[1], words[0]) != 0)
      continue;
    if (n_words == 2 && (argc < 3 || strcmp (argv[2], words[1]) != 0))
      continue;
    /* The command's argv starts at its last word, as GOption expects. */
    status = commands[i].run (argc - (int) n_words, argv + n_words);
    goto out;
  }
  {
    /* "cau facility" alone, or a verb it does not have: name the verbs. */
    g_autoptr (GString) verbs = g_string_new (NULL);

    for (gsize i = 0; i < G_N_ELEMENTS (commands); i++) {
      const char *space = strchr (commands[i].name, ' ');

      if (space && strncmp (commands[i].name, argv[1], (size_t) (space - commands[i].name)) == 0
          && argv[1][space - commands[i].name] == '\0')
        g_string_append_printf (verbs, "%s%s", verbs->len ? ", " : "", space + 1);
    }
    if (verbs->len)
      g_printerr ("cau %s: give one of %s\nTry \"cau --help\".\n", argv[1], verbs->str);
    else
      g_printerr ("cau: unknown command \"%s\"\nTry \"cau --help\".\n", argv[1]);
  }

out:
  g_free (opt_data_dir);
  g_free (opt_database);
  return status;
}
