/* cau.c — Cầu's admin command line: facilities, users, patients (CSV
 * import), the audit chain and the demo world, straight on the records
 * store (SQLite in the data directory, or PostgreSQL by URI).
 *
 *   cau [--data-dir DIR] [--database URI] COMMAND [ARGS] [--help]
 *
 * This file: the store options, what the commands share (cau.h), the audit
 * and demo commands, and main().  Facilities and users are in
 * cau-directory.c, patients in cau-patient.c.  Every write appends an audit
 * event (actor "cli", role "system", source "cli").  docs/operations.md is
 * the manual.
 */
#include "cau.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <string.h>

#include "cau-config.h"
#include "config.h"
#include "demo.h"

/* ---- global options (accepted before or after the command) ------------- */

static char *opt_config;
static char *opt_data_dir;
static char *opt_database;

/* Where the store is: the same settings, sources and precedence as caud's
 * (server/config.c: default, key file, CAU_* environment, command line). */
static const GOptionEntry global_entries[] = {
  { "config", 'c', 0, G_OPTION_ARG_FILENAME, &opt_config,
    "caud's key file, for its data-dir and database (default $CAU_CONFIG)", "FILE" },
  { "data-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_data_dir,
    "caud's data directory (else $CAU_DATA_DIR, the key file's, ./data); SQLite is DIR/cau.db",
    "DIR" },
  { "database", 0, 0, G_OPTION_ARG_STRING, &opt_database,
    "PostgreSQL URI postgresql://… (else $CAU_DATABASE or the key file's; none = SQLite)",
    "URI" },
  { NULL }
};

static GOptionContext *
command_context (const CauCommand *command, const GOptionEntry *entries)
{
  g_autofree char *parameter = g_strdup_printf ("%s%s%s", command->name,
                                                command->args[0] ? " " : "", command->args);
  GOptionContext *context = g_option_context_new (parameter);

  g_option_context_set_summary (context, command->summary);
  if (entries)
    g_option_context_add_main_entries (context, entries, NULL);
  /* The store options are accepted after the command too, and shown in its
   * --help: there are only three. */
  g_option_context_add_main_entries (context, global_entries, NULL);
  return context;
}

/* Parses @argv (argv[0] is the command's last word) against @entries.
 * FALSE after printing the error: the caller exits CAU_EXIT_USAGE. */
gboolean
cau_parse_command (const CauCommand *command, const GOptionEntry *entries, int *argc,
                   char ***argv)
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

int
cau_usage_error (const CauCommand *command, const char *message)
{
  g_printerr ("cau %s: %s\nTry \"cau %s --help\".\n", command->name, message, command->name);
  return CAU_EXIT_USAGE;
}

/* ---- the store ------------------------------------------------------- */

/* caud's data-dir and database settings, resolved as caud resolves them,
 * with cau's own options as the command line.  NULL after printing why. */
static ServerConfig *
load_settings (void)
{
  g_autoptr (ServerConfig) config = server_config_new ();
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) args = NULL;
  g_autofree char **shallow = NULL;
  int argc;

  g_strv_builder_add (builder, "cau");
  if (opt_config)
    g_strv_builder_addv (builder, (const char *[]) { "--config", opt_config, NULL });
  if (opt_data_dir)
    g_strv_builder_addv (builder, (const char *[]) { "--data-dir", opt_data_dir, NULL });
  if (opt_database)
    g_strv_builder_addv (builder, (const char *[]) { "--database", opt_database, NULL });
  args = g_strv_builder_end (builder);
  argc = (int) g_strv_length (args);
  /* GOption reorders the pointer array; @args keeps owning the strings. */
  shallow = g_memdup2 (args, sizeof (char *) * ((gsize) argc + 1));
  if (!server_config_load (config, &argc, &shallow, NULL, &error)) {
    g_printerr ("cau: %s\n", error->message);
    return NULL;
  }
  return g_steal_pointer (&config);
}

char *
cau_data_dir (void)
{
  g_autoptr (ServerConfig) config = load_settings ();

  return config ? g_strdup (config->data_dir) : NULL;
}

/* Opens the store.  @create: a write may create the data directory (mode
 * 0700, as caud does) and an empty database; a read needs one that exists,
 * so that "audit verify" on a mistyped directory does not pass on a new
 * empty chain.  NULL after printing why. */
RecordsStore *
cau_open_store (gboolean create)
{
  g_autoptr (ServerConfig) config = load_settings ();
  g_autoptr (GError) error = NULL;
  const char *uri, *data_dir;
  RecordsStore *store;

  if (config == NULL)
    return NULL;
  uri = config->database[0] ? config->database : NULL;
  data_dir = config->data_dir;
  if (uri == NULL) {
    g_autofree char *db_path = g_build_filename (data_dir, "cau.db", NULL);

    if (!g_file_test (db_path, G_FILE_TEST_EXISTS)) {
      if (!create) {
        g_printerr ("cau: no database at %s (wrong --data-dir?)\n", db_path);
        return NULL;
      }
      if (g_mkdir_with_parents (data_dir, 0700) != 0) {
        int saved = errno;

        g_printerr ("cau: cannot create %s: %s\n", data_dir, g_strerror (saved));
        return NULL;
      }
    }
  }
  store = records_store_open_uri (uri ? uri : data_dir, &error);
  if (store == NULL)
    g_printerr ("cau: cannot open the records store: %s\n", error->message);
  return store;
}

/* Appends the audit event of one CLI action. */
gboolean
cau_audit (RecordsStore *store, const char *action, const char *entity_type,
           const char *entity_id, const char *patient_id, const char *detail, GError **error)
{
  RecordsAuditEvent event = {
    .actor_id = (char *) CAU_ACTOR,
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
int
cau_records_failure (const char *what, const GError *error)
{
  g_printerr ("cau: %s: %s\n", what, error->message);
  if (error->domain == RECORDS_ERROR
      && (error->code == RECORDS_ERROR_INVALID || error->code == RECORDS_ERROR_CONFLICT
          || error->code == RECORDS_ERROR_NOT_FOUND))
    return CAU_EXIT_REFUSED;
  return CAU_EXIT_USAGE;
}

const char *
cau_or_dash (const char *text)
{
  return text && text[0] ? text : "-";
}

/* facility id → code, for listings. */
GHashTable *
cau_facility_codes (RecordsStore *store, GError **error)
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

/* ---- audit ------------------------------------------------------------- */

int
cau_audit_verify (int argc, char **argv)
{
  static const CauCommand self = { "audit verify", "",
    "Walks the whole audit chain: every hash recomputed, every link and the head\n"
    "checked.  Exit 0 and \"audit chain ok: N events\", or exit 1 naming the first\n"
    "edited, deleted or missing event.", NULL };
  g_autoptr (RecordsStore) store = NULL;
  g_autoptr (GError) error = NULL;
  gint64 count = 0;

  if (!cau_parse_command (&self, NULL, &argc, &argv))
    return CAU_EXIT_USAGE;
  if (argc > 1)
    return cau_usage_error (&self, "unexpected argument");
  if ((store = cau_open_store (FALSE)) == NULL)
    return CAU_EXIT_USAGE;
  if (!records_audit_verify (store, &count, NULL, &error)) {
    if (g_error_matches (error, RECORDS_ERROR, RECORDS_ERROR_TAMPERED)) {
      /* records names the seq in its message ("audit chain broken at seq N: …"). */
      g_print ("%s\n", error->message);
      return CAU_EXIT_REFUSED;
    }
    g_printerr ("cau: audit verify: %s\n", error->message);
    return CAU_EXIT_USAGE;
  }
  g_print ("audit chain ok: %" G_GINT64_FORMAT " events\n", count);
  return 0;
}

int
cau_audit_list (int argc, char **argv)
{
  static const CauCommand self = { "audit list", "",
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

  if (!cau_parse_command (&self, entries, &argc, &argv))
    return CAU_EXIT_USAGE;
  if (argc > 1)
    return cau_usage_error (&self, "unexpected argument");
  if (limit < 1 || limit > 10000 || after < 0)
    return cau_usage_error (&self, "--limit must be from 1 to 10000, --after not negative");
  if ((store = cau_open_store (FALSE)) == NULL)
    return CAU_EXIT_USAGE;
  if ((events = records_audit_list (store, after, NULL, NULL, NULL, (guint) limit,
                                    &error)) == NULL)
    return cau_records_failure ("audit list", error);
  g_print ("%-6s %-24s %-14s %-8s %-13s %-36s %-8s %s\n", "SEQ", "AT", "ROLE", "ACTION",
           "ENTITY", "ENTITY_ID", "OUTCOME", "ACTOR / SOURCE / DETAIL");
  for (guint i = 0; i < events->len; i++) {
    RecordsAuditEvent *e = events->pdata[i];

    g_print ("%-6" G_GINT64_FORMAT " %-24s %-14s %-8s %-13s %-36s %-8s %s / %s / %s\n", e->seq,
             e->at, e->actor_role, e->action, e->entity_type, cau_or_dash (e->entity_id),
             e->outcome, e->actor_id, cau_or_dash (e->source), cau_or_dash (e->detail));
  }
  return 0;
}

/* ---- demo -------------------------------------------------------------- */

int
cau_demo (int argc, char **argv)
{
  static const CauCommand self = { "demo", "",
    "Seeds the fictional demo network (facilities, staff, synthetic patients, two\n"
    "consultations today) into an empty store and prints the staff accounts with\n"
    "their passwords, once.  Refused (exit 1) when the store is not empty.", NULL };
  g_autoptr (RecordsStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) accounts = NULL;

  if (!cau_parse_command (&self, NULL, &argc, &argv))
    return CAU_EXIT_USAGE;
  if (argc > 1)
    return cau_usage_error (&self, "unexpected argument");
  if ((store = cau_open_store (TRUE)) == NULL)
    return CAU_EXIT_USAGE;
  if (!records_demo_seed (store, &accounts, &error))
    return cau_records_failure ("demo", error);
  if (!cau_audit (store, "create", "Demo", NULL, NULL, "cau demo", &error))
    return cau_records_failure ("audit", error);
  g_print ("Demo accounts (the passwords are shown only now):\n");
  g_print ("%-22s %-20s %-14s %s\n", "USERNAME", "PASSWORD", "ROLE", "FACILITY");
  for (guint i = 0; i < accounts->len; i++) {
    RecordsDemoAccount *a = accounts->pdata[i];

    g_print ("%-22s %-20s %-14s %s\n", a->username, a->password,
             records_role_to_string (a->role), cau_or_dash (a->facility_code));
  }
  return 0;
}

/* ---- dispatch ---------------------------------------------------------- */

static const CauCommand commands[] = {
  { "facility create", "", "Create a facility", cau_facility_create },
  { "facility list", "", "List facilities", cau_facility_list },
  { "user create", "", "Create a staff account (password from stdin or a prompt)",
    cau_user_create },
  { "user list", "", "List staff accounts", cau_user_list },
  { "user unlock", "USERNAME", "Clear an account's lockout", cau_user_unlock },
  { "patient import", "FILE.csv", "Import patients from CSV", cau_patient_import },
  { "patient list", "", "List or search patients", cau_patient_list },
  { "audit verify", "", "Verify the audit hash chain", cau_audit_verify },
  { "audit list", "", "List audit events", cau_audit_list },
  { "recordings list", "", "List a consultation's recorded files", cau_recordings_list },
  { "recordings export", "ID", "Write a decrypted copy of a recording", cau_recordings_export },
  { "demo", "", "Seed the demo world into an empty store", cau_demo },
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
  int status = CAU_EXIT_USAGE;

  setlocale (LC_ALL, "");
  context = g_option_context_new ("COMMAND [ARGS]");
  g_option_context_set_summary (context, "Cầu's admin command line: facilities, users, "
                                "patients, recordings, the audit chain, the demo world.");
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
  g_free (opt_config);
  g_free (opt_data_dir);
  g_free (opt_database);
  return status;
}
