/* main.c — caud, the composition root: configuration, media engine, records
 * store and signaling server, one GMainLoop, clean shutdown on SIGINT and
 * SIGTERM. */
#include <errno.h>
#include <openssl/crypto.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "cau-config.h"
#include "tls-certificate.h"
#include "config.h"
#include "demo.h"
#include "media.h"
#include "recording.h"
#include "server.h"
#include "store.h"
#include "vault.h"

static GLogLevelFlags min_level = G_LOG_LEVEL_MESSAGE;

static GLogLevelFlags
parse_level (const char *name)
{
  static const struct { const char *name; GLogLevelFlags level; } levels[] = {
    { "error", G_LOG_LEVEL_ERROR }, { "critical", G_LOG_LEVEL_CRITICAL },
    { "warning", G_LOG_LEVEL_WARNING }, { "message", G_LOG_LEVEL_MESSAGE },
    { "info", G_LOG_LEVEL_INFO }, { "debug", G_LOG_LEVEL_DEBUG },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (levels); i++)
    if (strcmp (levels[i].name, name) == 0)
      return levels[i].level;
  return G_LOG_LEVEL_MESSAGE;
}

/* Drops what is less severe than log-level (GLib's levels grow as severity
 * falls), then hands over to GLib's default writer (journal or stderr). */
static GLogWriterOutput
write_log (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  if ((level & G_LOG_LEVEL_MASK) > min_level && !(level & G_LOG_FLAG_FATAL))
    return G_LOG_WRITER_HANDLED;
  return g_log_writer_default (level, fields, n_fields, user_data);
}

static gboolean
on_signal (gpointer user_data)
{
  GMainLoop *loop = user_data;

  if (g_main_loop_is_running (loop))
    g_message ("caud: shutting down");
  g_main_loop_quit (loop);
  /* Kept installed: a second signal during shutdown must not kill us
   * half-way; main() removes the source. */
  return G_SOURCE_CONTINUE;
}

/* Demo mode: an empty store gets the fictional demo network, and its
 * accounts are printed once on the console (never logged).  A store that
 * has data is left alone. */
static gboolean
seed_demo (RecordsStore *store)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) accounts = NULL;

  if (!records_demo_seed (store, &accounts, &error)) {
    if (g_error_matches (error, RECORDS_ERROR, RECORDS_ERROR_CONFLICT)) {
      g_message ("caud: demo: the store already has data; nothing seeded");
      return TRUE;
    }
    g_printerr ("caud: demo: %s\n", error->message);
    return FALSE;
  }
  g_message ("caud: demo: seeded the fictional demo network (%u staff accounts)",
             accounts->len);
  printf ("\nDemo accounts of this data directory (passwords shown only now):\n");
  printf ("  %-22s %-20s %-14s %s\n", "USERNAME", "PASSWORD", "ROLE", "FACILITY");
  for (guint i = 0; i < accounts->len; i++) {
    RecordsDemoAccount *account = g_ptr_array_index (accounts, i);

    printf ("  %-22s %-20s %-14s %s\n", account->username, account->password,
            records_role_to_string (account->role),
            account->facility_code ? account->facility_code : "-");
  }
  printf ("\n");
  fflush (stdout);
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autoptr (ServerConfig) config = server_config_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GTlsCertificate) certificate = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_autofree char *settings = NULL;
  MediaEngine *engine = NULL;
  RecordsStore *store = NULL;
  SignalingServer *server = NULL;
  SignalingApi *api = NULL;
  MediaConfig media_config = { 0 };
  SignalingServerOptions options = { 0 };
  guint8 recording_key[32];
  g_autofree char *recording_key_id = NULL;
  g_autofree char *recordings_dir = NULL;
  gboolean generated = FALSE;
  int status = 1;
  guint sigint_id, sigterm_id;

  setlocale (LC_ALL, "");
  if (!server_config_load (config, &argc, &argv, NULL, &error)) {
    g_printerr ("caud: %s\n", error->message);
    if (g_error_matches (error, SERVER_CONFIG_ERROR, SERVER_CONFIG_ERROR_USAGE))
      g_printerr ("Try \"caud --help\".\n");
    return 2;
  }
  if (config->show_version) {
    printf ("caud %s\n", CAU_VERSION);
    return 0;
  }

  min_level = parse_level (config->log_level);
  if (min_level >= G_LOG_LEVEL_INFO)
    g_log_set_debug_enabled (TRUE);
  g_log_set_writer_func (write_log, NULL, NULL);

  settings = server_config_describe (config);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MESSAGE", "caud %s starting: %s%s%s",
                    CAU_VERSION, settings, config->config_file ? " config=" : "",
                    config->config_file ? config->config_file : "");

  if (g_mkdir_with_parents (config->data_dir, 0700) != 0) {
    g_printerr ("caud: cannot create data directory %s: %s\n", config->data_dir,
                g_strerror (errno));
    return 1;
  }
  if (!server_certificate_ensure (config->tls_cert, config->tls_key, &generated, &error)) {
    g_printerr ("caud: TLS: %s\n", error->message);
    return 1;
  }
  if (generated)
    g_message ("caud: generated a self-signed certificate %s (key %s)", config->tls_cert,
               config->tls_key);
  certificate = g_tls_certificate_new_from_files (config->tls_cert, config->tls_key, &error);
  if (certificate == NULL) {
    g_printerr ("caud: cannot load %s / %s: %s\n", config->tls_cert, config->tls_key,
                error->message);
    return 1;
  }

  store = records_store_open_uri (config->database[0] ? config->database : config->data_dir,
                                  &error);
  if (store == NULL) {
    g_printerr ("caud: records: %s\n", error->message);
    return 1;
  }

  if (strcmp (config->demo, "on") == 0 && !seed_demo (store))
    goto out;

  /* Recordings: the server key, the directory, and the rows a crash left
   * "recording" marked interrupted before anyone can start a new one. */
  if (!cau_vault_key_load (config->data_dir, recording_key, &recording_key_id, &error)) {
    g_printerr ("caud: recording key: %s\n", error->message);
    goto out;
  }
  {
    g_autofree char *absolute = g_canonicalize_filename (config->data_dir, NULL);
    guint interrupted = 0;

    recordings_dir = g_build_filename (absolute, "recordings", NULL);
    if (g_mkdir_with_parents (recordings_dir, 0700) != 0) {
      g_printerr ("caud: cannot create %s: %s\n", recordings_dir, g_strerror (errno));
      goto out;
    }
    if (!signaling_recording_recover (store, recordings_dir, recording_key, &interrupted,
                                      &error)) {
      g_printerr ("caud: recordings: %s\n", error->message);
      goto out;
    }
    if (interrupted > 0)
      g_message ("caud: %u recording file(s) left open by the last run marked interrupted",
                 interrupted);
  }

  api = signaling_api_new (store, config->data_dir, &error);
  if (api == NULL) {
    g_printerr ("caud: authentication: %s\n", error->message);
    goto out;
  }
  if (strcmp (config->anonymous_rooms, "on") == 0)
    g_warning ("caud: anonymous-rooms is on: clients without a token may use rooms that are "
               "not consultations (meant for tests and benchmarks)");

  media_config.workers = config->media_workers;
  media_config.port_min = config->rtp_port_min;
  media_config.port_max = config->rtp_port_max;
  media_config.ice_addresses = config->ice_addresses;
  media_config.max_bitrate_kbps = config->max_bitrate_kbps;
  media_config.max_participants = config->max_participants;
  engine = media_engine_new (&media_config, &error);
  if (engine == NULL) {
    g_printerr ("caud: media: %s\n", error->message);
    goto out;
  }

  options.listen_address = config->listen_address;
  options.port = config->https_port;
  options.certificate = certificate;
  options.web_client_dir = config->web_client_dir;
  options.max_participants = config->max_participants;
  options.max_briefing_viewers = config->briefing_viewers;
  options.api = api;
  options.anonymous_rooms = strcmp (config->anonymous_rooms, "on") == 0;
  options.recording.directory = recordings_dir;
  options.recording.server_key = recording_key;
  options.recording.key_id = recording_key_id;
  options.recording.min_free_bytes = (guint64) config->recording_min_free_mb * 1024 * 1024;
  server = signaling_server_new (&options, engine, store);
  if (!signaling_server_listen (server, &error)) {
    g_printerr ("caud: cannot listen on %s port %u: %s\n", config->listen_address,
                config->https_port, error->message);
    goto out;
  }

  loop = g_main_loop_new (NULL, FALSE);
  sigint_id = g_unix_signal_add (SIGINT, on_signal, loop);
  sigterm_id = g_unix_signal_add (SIGTERM, on_signal, loop);

  signaling_server_resume_compositions (server);

  /* Tests and scripts wait for this exact line. */
  printf ("caud listening on https://localhost:%u\n", signaling_server_get_port (server));
  fflush (stdout);

  g_main_loop_run (loop);
  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);
  status = 0;

out:
  /* Order matters: compositions first (each still running is cancelled
   * and its thread joined, so none reads a file or calls OpenSSL while the
   * process exits; the next start composes it again), then sockets, rooms
   * and recordings (media participants removed, leave events recorded,
   * recorders told to close their files), then the engine's reports on
   * those files (rows filed complete), then the engine (no callback after
   * this), then the server's tables, then the store. */
  media_compose_cancel_all ();
  signaling_server_shutdown (server);
  if (server && engine && !signaling_server_wait_recordings (server, 20000))
    g_warning ("caud: recordings still closing after 20 s; the next start recovers them");
  if (engine)
    media_engine_free (engine);
  signaling_server_free (server);
  signaling_api_free (api);
  records_store_close (store);
  OPENSSL_cleanse (recording_key, sizeof recording_key);
  if (status == 0)
    g_message ("caud: stopped");
  return status;
}
