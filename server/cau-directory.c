/* cau-directory.c — `cau facility …` and `cau user …`: the facilities and
 * staff accounts.  A new user's password comes from stdin or a no-echo
 * prompt, never from the command line, and only its Argon2id hash is kept.
 */
#include "cau.h"

#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "password.h"

/* ---- facility ---------------------------------------------------------- */

int
cau_facility_create (int argc, char **argv)
{
  static const CauCommand self = { "facility create", "",
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

  if (!cau_parse_command (&self, entries, &argc, &argv))
    return CAU_EXIT_USAGE;
  if (argc > 1)
    return cau_usage_error (&self, "unexpected argument");
  if (!code || !name || !kind || !province)
    return cau_usage_error (&self, "--code, --name, --kind and --province are required");
  if ((store = cau_open_store (TRUE)) == NULL)
    return CAU_EXIT_USAGE;

  facility.code = code;
  facility.name = name;
  facility.kind = kind;
  facility.province_code = province;
  if (!records_facility_create (store, &facility, CAU_ACTOR, &error))
    return cau_records_failure ("facility create", error);
  status = 0;
  if (!cau_audit (store, "create", "Organization", facility.id, NULL, "cau facility create",
                  &error))
    status = cau_records_failure ("audit", error);
  else
    g_print ("created facility %s (%s)\n", code, facility.id);
  g_free (facility.id);
  g_free (facility.created_at);
  return status;
}

int
cau_facility_list (int argc, char **argv)
{
  static const CauCommand self = { "facility list", "", "Lists every facility.", NULL };
  g_autoptr (RecordsStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) facilities = NULL;

  if (!cau_parse_command (&self, NULL, &argc, &argv))
    return CAU_EXIT_USAGE;
  if (argc > 1)
    return cau_usage_error (&self, "unexpected argument");
  if ((store = cau_open_store (FALSE)) == NULL)
    return CAU_EXIT_USAGE;
  if ((facilities = records_facility_list (store, &error)) == NULL)
    return cau_records_failure ("facility list", error);
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

int
cau_user_create (int argc, char **argv)
{
  static const CauCommand self = { "user create", "",
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

  if (!cau_parse_command (&self, entries, &argc, &argv))
    return CAU_EXIT_USAGE;
  if (argc > 1)
    return cau_usage_error (&self, "unexpected argument (the password is never an argument)");
  if (!username || !name || !role_text)
    return cau_usage_error (&self, "--username, --name and --role are required");
  if (!records_role_from_string (role_text, &role) || role == RECORDS_ROLE_PATIENT)
    return cau_usage_error (&self, "--role must be clinician, specialist, nurse, administrator "
                        "or auditor");
  if ((store = cau_open_store (TRUE)) == NULL)
    return CAU_EXIT_USAGE;
  if (facility_code) {
    facility = records_facility_get_by_code (store, facility_code, &error);
    if (facility == NULL)
      return cau_records_failure ("--facility", error);
  }

  password = read_password ();
  if (password == NULL)
    return CAU_EXIT_REFUSED;
  hash = records_password_hash (password, &error);
  free_secret (password);
  if (hash == NULL)
    return cau_records_failure ("password", error);

  user.username = username;
  user.display_name = name;
  user.role = role;
  user.facility_id = facility ? facility->id : NULL;
  user.password_hash = hash;
  if (!records_user_create (store, &user, CAU_ACTOR, &error))
    return cau_records_failure ("user create", error);
  if (!cau_audit (store, "create", "User", user.id, NULL, "cau user create", &error))
    status = cau_records_failure ("audit", error);
  else
    g_print ("created user %s (%s)\n", username, user.id);
  g_free (user.id);
  g_free (user.created_at);
  return status;
}

int
cau_user_list (int argc, char **argv)
{
  static const CauCommand self = { "user list", "", "Lists every staff account.", NULL };
  g_autoptr (RecordsStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) users = NULL;
  g_autoptr (GHashTable) codes = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  if (!cau_parse_command (&self, NULL, &argc, &argv))
    return CAU_EXIT_USAGE;
  if (argc > 1)
    return cau_usage_error (&self, "unexpected argument");
  if ((store = cau_open_store (FALSE)) == NULL)
    return CAU_EXIT_USAGE;
  if ((codes = cau_facility_codes (store, &error)) == NULL ||
      (users = records_user_list (store, NULL, &error)) == NULL)
    return cau_records_failure ("user list", error);
  g_print ("%-24s %-14s %-20s %-8s %s\n", "USERNAME", "ROLE", "FACILITY", "STATE", "NAME");
  for (guint i = 0; i < users->len; i++) {
    RecordsUser *u = users->pdata[i];
    const char *state = u->disabled ? "disabled" : u->locked_until > now ? "locked" : "active";

    g_print ("%-24s %-14s %-20s %-8s %s\n", u->username, records_role_to_string (u->role),
             cau_or_dash (u->facility_id ? g_hash_table_lookup (codes, u->facility_id) : NULL),
             state, u->display_name);
  }
  return 0;
}

int
cau_user_unlock (int argc, char **argv)
{
  static const CauCommand self = { "user unlock", "USERNAME",
    "Clears an account's failed-login count and lock.", NULL };
  g_autoptr (RecordsStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (RecordsUser) user = NULL;

  if (!cau_parse_command (&self, NULL, &argc, &argv))
    return CAU_EXIT_USAGE;
  if (argc != 2)
    return cau_usage_error (&self, "give one USERNAME");
  if ((store = cau_open_store (FALSE)) == NULL)
    return CAU_EXIT_USAGE;
  if ((user = records_user_get_by_username (store, argv[1], &error)) == NULL)
    return cau_records_failure ("user unlock", error);
  if (!records_user_set_login_state (store, user->id, 0, 0, &error))
    return cau_records_failure ("user unlock", error);
  if (!cau_audit (store, "update", "User", user->id, NULL, "cau user unlock", &error))
    return cau_records_failure ("audit", error);
  g_print ("unlocked %s\n", user->username);
  return 0;
}

