/* config.c — the settings table and its four readers. */
#include "config.h"

#include <gio/gio.h>
#include <stddef.h>
#include <string.h>

#include "cau-config.h"

G_DEFINE_QUARK (server-config-error-quark, server_config_error)

#define KEY_FILE_GROUP "caud"

typedef enum {
  SETTING_STRING,
  SETTING_UINT,
  SETTING_ADDRESS,        /* an IP address literal                 */
  SETTING_ADDRESS_LIST,   /* comma-separated IP address literals   */
  SETTING_ENUM,
  SETTING_PATH,           /* string; "" allowed where documented   */
} SettingType;

typedef struct {
  const char *name;
  SettingType type;
  size_t offset;          /* into ServerConfig */
  const char *default_value;
  guint min, max;         /* SETTING_UINT */
  const char *const *values;   /* SETTING_ENUM */
  gboolean secret;
  const char *arg;        /* placeholder in --help */
  const char *help;
} Setting;

static const char *const on_off[] = { "off", "on", NULL };

static const char *const log_levels[] = {
  "error", "critical", "warning", "message", "info", "debug", NULL
};

#define FIELD(member) offsetof (ServerConfig, member)

/* Keep docs/configuration.md and cau.conf.sample in step with this table
 * (a unit test checks that every name is documented). */
static const Setting settings[] = {
  { "listen-address", SETTING_ADDRESS, FIELD (listen_address), "::", 0, 0, NULL, FALSE, "ADDR",
    "Address for HTTPS/WSS; \"::\" is dual-stack (falls back to 0.0.0.0 without IPv6)" },
  { "https-port", SETTING_UINT, FIELD (https_port), "8443", 0, 65535, NULL, FALSE, "PORT",
    "TCP port for HTTPS/WSS; 0 picks a free port" },
  { "data-dir", SETTING_PATH, FIELD (data_dir), "./data", 0, 0, NULL, FALSE, "DIR",
    "Directory for the database, TLS files and recordings (created if absent)" },
  { "database", SETTING_STRING, FIELD (database), "", 0, 0, NULL, TRUE, "URI",
    "Records database: empty = SQLite DATA-DIR/cau.db; else a postgresql:// URI" },
  { "tls-cert", SETTING_PATH, FIELD (tls_cert), "", 0, 0, NULL, FALSE, "FILE",
    "PEM certificate; empty = DATA-DIR/tls/cert.pem, self-signed on first run" },
  { "tls-key", SETTING_PATH, FIELD (tls_key), "", 0, 0, NULL, FALSE, "FILE",
    "PEM private key; empty = DATA-DIR/tls/key.pem, generated on first run" },
  { "web-client-dir", SETTING_PATH, FIELD (web_client_dir), CAU_WEB_CLIENT_DIR, 0, 0, NULL, FALSE,
    "DIR", "Directory of the web client's static files" },
  { "media-workers", SETTING_UINT, FIELD (media_workers), "0", 0, 256, NULL, FALSE, "N",
    "Media worker threads; 0 = one per core" },
  { "rtp-port-min", SETTING_UINT, FIELD (rtp_port_min), "20000", 1024, 65535, NULL, FALSE, "PORT",
    "Lowest UDP port for media" },
  { "rtp-port-max", SETTING_UINT, FIELD (rtp_port_max), "20999", 1024, 65535, NULL, FALSE, "PORT",
    "Highest UDP port for media" },
  { "ice-addresses", SETTING_ADDRESS_LIST, FIELD (ice_addresses), "", 0, 0, NULL, FALSE, "LIST",
    "Comma-separated IPs to offer as ICE candidates; empty = all interfaces and loopback" },
  { "max-bitrate-kbps", SETTING_UINT, FIELD (max_bitrate_kbps), "1500", 64, 50000, NULL, FALSE,
    "KBPS", "Highest bitrate asked of a publisher (REMB)" },
  { "max-participants", SETTING_UINT, FIELD (max_participants), "12", 2, 2000, NULL, FALSE, "N",
    "Most participants in one room" },
  { "briefing-viewers", SETTING_UINT, FIELD (briefing_viewers), "200", 1, 2000, NULL, FALSE, "N",
    "Most viewers in one briefing room (besides its up to 4 presenters)" },
  { "recording-min-free-mb", SETTING_UINT, FIELD (recording_min_free_mb), "1024", 0, 1048576,
    NULL, FALSE, "MB",
    "Free space (MiB) the recordings directory needs: recording is refused or stopped below it" },
  { "anonymous-rooms", SETTING_ENUM, FIELD (anonymous_rooms), "off", 0, 0, on_off, FALSE, "on|off",
    "Allow joins without a token to rooms that are not consultations (tests and benchmarks only)" },
  { "demo", SETTING_ENUM, FIELD (demo), "off", 0, 0, on_off, FALSE, "on|off",
    "Seed the fictional demo network into an empty store and print its accounts once" },
  { "log-level", SETTING_ENUM, FIELD (log_level), "message", 0, 0, log_levels, FALSE, "LEVEL",
    "Least severe level logged: error, critical, warning, message, info or debug" },
};

static const char *
source_name (int source)
{
  static const char *const names[] = { "default", "key file", "environment", "command line" };
  return names[source];
}

static char *
env_name (const Setting *setting)
{
  g_autofree char *upper = g_ascii_strup (setting->name, -1);

  g_strdelimit (upper, "-", '_');
  return g_strconcat ("CAU_", upper, NULL);
}

/* Parses @text for @setting into @config.  @origin names where it came from
 * for the error message. */
static gboolean
apply (ServerConfig *config, const Setting *setting, const char *text, const char *origin,
       GError **error)
{
  gpointer slot = (char *) config + setting->offset;

  switch (setting->type) {
  case SETTING_UINT: {
    guint64 value;
    g_autoptr (GError) local_error = NULL;
    g_autofree char *stripped = g_strstrip (g_strdup (text));

    if (!g_ascii_string_to_unsigned (stripped, 10, setting->min, setting->max, &value,
                                     &local_error)) {
      g_set_error (error, SERVER_CONFIG_ERROR, SERVER_CONFIG_ERROR_INVALID,
                   "%s (%s): \"%s\" must be a whole number from %u to %u", setting->name,
                   origin, text, setting->min, setting->max);
      return FALSE;
    }
    *(guint *) slot = (guint) value;
    return TRUE;
  }

  case SETTING_ADDRESS: {
    g_autoptr (GInetAddress) address = g_inet_address_new_from_string (text);

    if (address == NULL) {
      g_set_error (error, SERVER_CONFIG_ERROR, SERVER_CONFIG_ERROR_INVALID,
                   "%s (%s): \"%s\" is not an IP address", setting->name, origin, text);
      return FALSE;
    }
    g_free (*(char **) slot);
    *(char **) slot = g_strdup (text);
    return TRUE;
  }

  case SETTING_ADDRESS_LIST: {
    g_auto (GStrv) parts = g_strsplit (text, ",", -1);
    g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

    for (char **part = parts; *part; part++) {
      g_autoptr (GInetAddress) address = NULL;

      g_strstrip (*part);
      if (**part == '\0')
        continue;
      address = g_inet_address_new_from_string (*part);
      if (address == NULL) {
        g_set_error (error, SERVER_CONFIG_ERROR, SERVER_CONFIG_ERROR_INVALID,
                     "%s (%s): \"%s\" is not an IP address", setting->name, origin, *part);
        return FALSE;
      }
      g_strv_builder_add (builder, *part);
    }
    g_strfreev (*(char ***) slot);
    *(char ***) slot = g_strv_builder_end (builder);
    return TRUE;
  }

  case SETTING_ENUM:
    if (!g_strv_contains (setting->values, text)) {
      g_autofree char *allowed = g_strjoinv (", ", (char **) setting->values);

      g_set_error (error, SERVER_CONFIG_ERROR, SERVER_CONFIG_ERROR_INVALID,
                   "%s (%s): \"%s\" is not one of %s", setting->name, origin, text, allowed);
      return FALSE;
    }
    G_GNUC_FALLTHROUGH;
  case SETTING_STRING:
  case SETTING_PATH:
    g_free (*(char **) slot);
    *(char **) slot = g_strdup (text);
    return TRUE;
  }
  g_assert_not_reached ();
}

static char *
format_value (const ServerConfig *config, const Setting *setting)
{
  gconstpointer slot = (const char *) config + setting->offset;

  if (setting->secret)
    return g_strdup ("***");
  switch (setting->type) {
  case SETTING_UINT:
    return g_strdup_printf ("%u", *(const guint *) slot);
  case SETTING_ADDRESS_LIST:
    return g_strjoinv (",", *(char **const *) slot);
  default:
    return g_strdup (*(char *const *) slot ? *(char *const *) slot : "");
  }
}

ServerConfig *
server_config_new (void)
{
  ServerConfig *config = g_new0 (ServerConfig, 1);

  for (gsize i = 0; i < G_N_ELEMENTS (settings); i++)
    if (!apply (config, &settings[i], settings[i].default_value, "default", NULL))
      g_error ("config: bad default for %s", settings[i].name);
  return config;
}

void
server_config_free (ServerConfig *config)
{
  if (config == NULL)
    return;
  for (gsize i = 0; i < G_N_ELEMENTS (settings); i++) {
    gpointer slot = (char *) config + settings[i].offset;

    if (settings[i].type == SETTING_ADDRESS_LIST)
      g_strfreev (*(char ***) slot);
    else if (settings[i].type != SETTING_UINT)
      g_free (*(char **) slot);
  }
  g_free (config->config_file);
  g_free (config);
}

static gboolean
load_key_file (ServerConfig *config, const char *path, GError **error)
{
  g_autoptr (GKeyFile) key_file = g_key_file_new ();
  g_auto (GStrv) groups = NULL;
  g_auto (GStrv) keys = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *origin = g_strdup_printf ("key file %s", path);

  if (!g_key_file_load_from_file (key_file, path, G_KEY_FILE_NONE, &local_error)) {
    g_set_error (error, SERVER_CONFIG_ERROR, SERVER_CONFIG_ERROR_FILE, "cannot read %s: %s",
                 path, local_error->message);
    return FALSE;
  }

  groups = g_key_file_get_groups (key_file, NULL);
  for (char **group = groups; *group; group++)
    if (strcmp (*group, KEY_FILE_GROUP) != 0) {
      g_set_error (error, SERVER_CONFIG_ERROR, SERVER_CONFIG_ERROR_UNKNOWN,
                   "%s: unknown group [%s] (settings go in [" KEY_FILE_GROUP "])", path, *group);
      return FALSE;
    }
  if (!g_key_file_has_group (key_file, KEY_FILE_GROUP))
    return TRUE;

  keys = g_key_file_get_keys (key_file, KEY_FILE_GROUP, NULL, NULL);
  for (char **key = keys; key && *key; key++) {
    const Setting *setting = NULL;
    g_autofree char *value = NULL;

    for (gsize i = 0; i < G_N_ELEMENTS (settings); i++)
      if (strcmp (settings[i].name, *key) == 0)
        setting = &settings[i];
    if (setting == NULL) {
      g_set_error (error, SERVER_CONFIG_ERROR, SERVER_CONFIG_ERROR_UNKNOWN,
                   "%s: unknown setting \"%s\"", path, *key);
      return FALSE;
    }
    /* get_string unescapes and keeps commas (get_value would too). */
    value = g_key_file_get_string (key_file, KEY_FILE_GROUP, *key, &local_error);
    if (value == NULL) {
      g_set_error (error, SERVER_CONFIG_ERROR, SERVER_CONFIG_ERROR_INVALID, "%s: %s: %s", path,
                   *key, local_error->message);
      return FALSE;
    }
    if (!apply (config, setting, value, origin, error))
      return FALSE;
  }
  return TRUE;
}

/* GOption entries for every setting plus --config and --version.  All
 * settings are taken as strings and parsed by apply(), so the command line
 * has the same bounds and messages as the other sources. */
static GOptionEntry *
build_entries (char **values, char **config_file, gboolean *version)
{
  GOptionEntry *entries = g_new0 (GOptionEntry, G_N_ELEMENTS (settings) + 3);
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (settings); i++) {
    entries[i].long_name = settings[i].name;
    entries[i].arg = G_OPTION_ARG_STRING;
    entries[i].arg_data = &values[i];
    entries[i].description = settings[i].help;
    entries[i].arg_description = settings[i].arg;
  }
  entries[i++] = (GOptionEntry) { "config", 'c', 0, G_OPTION_ARG_FILENAME, config_file,
                                  "Read settings from this key file (group [caud])", "FILE" };
  entries[i++] = (GOptionEntry) { "version", 'V', 0, G_OPTION_ARG_NONE, version,
                                  "Print the version and exit", NULL };
  return entries;
}

static GOptionContext *
new_option_context (GOptionEntry *entries)
{
  GOptionContext *context = g_option_context_new ("— Cầu telehealth WebRTC server");
  g_autoptr (GString) env = g_string_new (
      "Every setting can also be given in the key file (group [caud], same name)\n"
      "or in the environment as CAU_<NAME> (upper case, '-' → '_'), e.g.\n"
      "CAU_HTTPS_PORT=9443.  Precedence: command line > environment > key file\n"
      "> default.  See docs/configuration.md.");

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context, env->str);
  return context;
}

char *
server_config_get_help (void)
{
  g_autofree char **values = g_new0 (char *, G_N_ELEMENTS (settings));
  g_autofree GOptionEntry *entries = NULL;
  g_autoptr (GOptionContext) context = NULL;
  char *config_file = NULL;
  gboolean version = FALSE;

  entries = build_entries (values, &config_file, &version);
  context = new_option_context (entries);
  return g_option_context_get_help (context, TRUE, NULL);
}

gboolean
server_config_load (ServerConfig *config, int *argc, char ***argv, char **envp, GError **error)
{
  char **values = g_new0 (char *, G_N_ELEMENTS (settings));
  g_autofree GOptionEntry *entries = NULL;
  g_autoptr (GOptionContext) context = NULL;
  g_auto (GStrv) own_env = NULL;
  char *config_file = NULL;
  gboolean ok = FALSE;

  g_return_val_if_fail (config != NULL, FALSE);

  entries = build_entries (values, &config_file, &config->show_version);
  context = new_option_context (entries);
  if (argc && argv && !g_option_context_parse (context, argc, argv, error)) {
    if (error && *error && (*error)->domain != SERVER_CONFIG_ERROR) {
      GError *usage = g_error_new (SERVER_CONFIG_ERROR, SERVER_CONFIG_ERROR_USAGE, "%s",
                                   (*error)->message);
      g_clear_error (error);
      g_propagate_error (error, usage);
    }
    goto out;
  }
  if (argc && argv && *argc > 1) {
    g_set_error (error, SERVER_CONFIG_ERROR, SERVER_CONFIG_ERROR_USAGE,
                 "unexpected argument \"%s\"", (*argv)[1]);
    goto out;
  }

  if (envp == NULL)
    envp = own_env = g_get_environ ();

  /* Key file: the command line's --config wins over CAU_CONFIG. */
  if (config_file == NULL && g_environ_getenv (envp, "CAU_CONFIG"))
    config_file = g_strdup (g_environ_getenv (envp, "CAU_CONFIG"));
  if (config_file) {
    if (!load_key_file (config, config_file, error))
      goto out;
    g_free (config->config_file);
    config->config_file = g_strdup (config_file);
  }

  for (gsize i = 0; i < G_N_ELEMENTS (settings); i++) {
    g_autofree char *name = env_name (&settings[i]);
    const char *value = g_environ_getenv (envp, name);

    if (value && !apply (config, &settings[i], value, name, error))
      goto out;
  }

  for (gsize i = 0; i < G_N_ELEMENTS (settings); i++)
    if (values[i] && !apply (config, &settings[i], values[i], source_name (3), error))
      goto out;

  if (config->rtp_port_min > config->rtp_port_max) {
    g_set_error (error, SERVER_CONFIG_ERROR, SERVER_CONFIG_ERROR_INVALID,
                 "rtp-port-min (%u) must not be above rtp-port-max (%u)",
                 config->rtp_port_min, config->rtp_port_max);
    goto out;
  }
  if (config->data_dir[0] == '\0') {
    g_set_error_literal (error, SERVER_CONFIG_ERROR, SERVER_CONFIG_ERROR_INVALID,
                         "data-dir must not be empty");
    goto out;
  }
  if (config->database[0] != '\0' && !g_str_has_prefix (config->database, "postgresql://")
      && !g_str_has_prefix (config->database, "postgres://")) {
    g_set_error_literal (error, SERVER_CONFIG_ERROR, SERVER_CONFIG_ERROR_INVALID,
                         "database must be empty or a postgresql:// URI");
    goto out;
  }
  if (config->tls_cert[0] == '\0') {
    g_free (config->tls_cert);
    config->tls_cert = g_build_filename (config->data_dir, "tls", "cert.pem", NULL);
  }
  if (config->tls_key[0] == '\0') {
    g_free (config->tls_key);
    config->tls_key = g_build_filename (config->data_dir, "tls", "key.pem", NULL);
  }
  ok = TRUE;

out:
  for (gsize i = 0; i < G_N_ELEMENTS (settings); i++)
    g_free (values[i]);
  g_free (values);
  g_free (config_file);
  return ok;
}

char *
server_config_describe (const ServerConfig *config)
{
  GString *out = g_string_new (NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (settings); i++) {
    g_autofree char *value = format_value (config, &settings[i]);

    g_string_append_printf (out, "%s%s=%s", i ? " " : "", settings[i].name, value);
  }
  return g_string_free (out, FALSE);
}

const char *const *
server_config_get_names (void)
{
  static const char *names[G_N_ELEMENTS (settings) + 1];

  for (gsize i = 0; i < G_N_ELEMENTS (settings); i++)
    names[i] = settings[i].name;
  return names;
}
