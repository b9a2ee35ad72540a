/* config.h — caud's settings.
 *
 * One table (config.c) lists every setting with its type, default, bounds,
 * whether it is secret, and its help.  The same table drives the key file
 * (group [caud]), the command line (--NAME, --help), the environment
 * (CAU_NAME with '-' → '_') and the startup log line (secrets redacted).
 * Precedence, lowest first: default, key file, environment, command line.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SERVER_CONFIG_ERROR (server_config_error_quark ())
GQuark server_config_error_quark (void);

typedef enum {
  SERVER_CONFIG_ERROR_INVALID,      /* a value does not parse or is out of bounds */
  SERVER_CONFIG_ERROR_UNKNOWN,      /* a key file key or group that is not ours   */
  SERVER_CONFIG_ERROR_FILE,         /* the key file cannot be read               */
  SERVER_CONFIG_ERROR_USAGE,        /* bad command line                          */
} ServerConfigError;

typedef struct {
  char *listen_address;
  guint https_port;
  char *data_dir;
  char *database;            /* "" = SQLite in data_dir, else a PostgreSQL URI */
  char *tls_cert;            /* resolved: never empty after load */
  char *tls_key;
  char *web_client_dir;
  guint media_workers;
  guint rtp_port_min;
  guint rtp_port_max;
  char **ice_addresses;      /* NULL-terminated, empty = all interfaces */
  guint max_bitrate_kbps;
  guint max_participants;
  guint briefing_viewers;        /* viewers of one briefing room */
  guint recording_min_free_mb;   /* refuse / stop recording below this free space */
  char *anonymous_rooms;     /* "off" | "on" */
  char *demo;                /* "off" | "on" */
  char *log_level;           /* "error" … "debug" */

  /* Not settings: what the command line asked for. */
  char *config_file;         /* the key file that was read, or NULL */
  gboolean show_version;
} ServerConfig;

/* (transfer full) a config holding every default. */
ServerConfig *server_config_new (void);
void server_config_free (ServerConfig *config);

/* Applies, in order, the key file (--config FILE or CAU_CONFIG), the
 * environment @envp (NULL-terminated "NAME=value" strings; NULL means the
 * process environment) and the command line (@argc/@argv, which are
 * modified to hold what is left; both may be NULL).  Then resolves derived
 * defaults (TLS paths under the data directory) and cross-checks
 * (rtp-port-min ≤ rtp-port-max).  On error, @config may be partly updated. */
gboolean server_config_load (ServerConfig *config, int *argc, char ***argv,
                             char **envp, GError **error);

/* "name=value name=value …" for every setting, secrets shown as "***".
 * (transfer full) */
char *server_config_describe (const ServerConfig *config);

/* Every setting's name, table order, NULL-terminated (transfer none). */
const char *const *server_config_get_names (void);

/* The --help text (transfer full). */
char *server_config_get_help (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ServerConfig, server_config_free)

G_END_DECLS
