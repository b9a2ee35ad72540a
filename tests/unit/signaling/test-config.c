/* Tests server/config.c: defaults, key file < environment < command line,
 * bounds and unknown keys refused with clear errors, secrets never shown,
 * every setting documented.  (Lives with the signaling tests because
 * server/ has no test folder of its own; it tests server/config.c.) */
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static char *
write_key_file (const char *contents)
{
  g_autoptr (GError) error = NULL;
  char *path = NULL;
  int fd = g_file_open_tmp ("cau-config-XXXXXX.conf", &path, &error);

  g_assert_no_error (error);
  close (fd);
  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
  return path;
}

static gboolean
load (ServerConfig *config, const char *const *args, const char *const *env, GError **error)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  char **argv_data;
  int argc;
  gboolean ok;

  g_ptr_array_add (argv, (char *) "caud");
  for (const char *const *a = args; a && *a; a++)
    g_ptr_array_add (argv, (char *) *a);
  g_ptr_array_add (argv, NULL);
  argc = (int) argv->len - 1;
  /* GOption rewrites argv: give it a copy of the array. */
  argv_data = g_memdup2 (argv->pdata, argv->len * sizeof (char *));
  {
    char **argv_copy = argv_data;
    static char *empty_env[] = { NULL };
    ok = server_config_load (config, &argc, &argv_copy, env ? (char **) env : empty_env, error);
  }
  g_free (argv_data);
  return ok;
}

static void
test_defaults (void)
{
  g_autoptr (ServerConfig) config = server_config_new ();
  g_autoptr (GError) error = NULL;

  g_assert_true (load (config, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (config->listen_address, ==, "::");
  g_assert_cmpuint (config->https_port, ==, 8443);
  g_assert_cmpstr (config->data_dir, ==, "./data");
  g_assert_cmpstr (config->tls_cert, ==, "./data/tls/cert.pem");
  g_assert_cmpstr (config->tls_key, ==, "./data/tls/key.pem");
  g_assert_cmpuint (config->media_workers, ==, 0);
  g_assert_cmpuint (config->rtp_port_min, ==, 20000);
  g_assert_cmpuint (config->rtp_port_max, ==, 20999);
  g_assert_cmpuint (g_strv_length (config->ice_addresses), ==, 0);
  g_assert_cmpuint (config->max_bitrate_kbps, ==, 1500);
  g_assert_cmpuint (config->max_participants, ==, 12);
  g_assert_cmpuint (config->briefing_viewers, ==, 200);
  g_assert_cmpstr (config->log_level, ==, "message");
}

static void
test_precedence (void)
{
  g_autoptr (ServerConfig) config = server_config_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *path = write_key_file (
      "# comment\n[caud]\nhttps-port=9000\nmax-participants=20\ndata-dir=/tmp/cau-a\n"
      "ice-addresses=127.0.0.1, ::1\nmax-bitrate-kbps=800\n");
  g_autofree char *config_arg = g_strdup_printf ("--config=%s", path);
  const char *args[] = { config_arg, "--https-port", "9002", NULL };
  const char *env[] = { "CAU_HTTPS_PORT=9001", "CAU_MAX_PARTICIPANTS=30", "CAU_UNRELATED=1", NULL };

  g_assert_true (load (config, args, env, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (config->https_port, ==, 9002);          /* command line wins */
  g_assert_cmpuint (config->max_participants, ==, 30);      /* environment over file */
  g_assert_cmpuint (config->max_bitrate_kbps, ==, 800);     /* file over default */
  g_assert_cmpstr (config->data_dir, ==, "/tmp/cau-a");
  g_assert_cmpstr (config->tls_cert, ==, "/tmp/cau-a/tls/cert.pem");
  g_assert_cmpuint (g_strv_length (config->ice_addresses), ==, 2);
  g_assert_cmpstr (config->ice_addresses[1], ==, "::1");
  g_assert_cmpstr (config->config_file, ==, path);
  g_unlink (path);
}

static void
test_env_config_file (void)
{
  g_autoptr (ServerConfig) config = server_config_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *path = write_key_file ("[caud]\nlog-level=debug\n");
  g_autofree char *env_entry = g_strdup_printf ("CAU_CONFIG=%s", path);
  const char *env[] = { env_entry, NULL };

  g_assert_true (load (config, NULL, env, &error));
  g_assert_cmpstr (config->log_level, ==, "debug");
  g_unlink (path);
}

static void
expect_error (const char *const *args, const char *const *env, const char *key_file,
              int code, const char *fragment)
{
  g_autoptr (ServerConfig) config = server_config_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *path = key_file ? write_key_file (key_file) : NULL;
  g_autofree char *config_arg = path ? g_strdup_printf ("--config=%s", path) : NULL;
  g_autoptr (GPtrArray) all = g_ptr_array_new ();

  if (config_arg)
    g_ptr_array_add (all, config_arg);
  for (const char *const *a = args; a && *a; a++)
    g_ptr_array_add (all, (char *) *a);
  g_ptr_array_add (all, NULL);

  g_assert_false (load (config, (const char *const *) all->pdata, env, &error));
  g_assert_error (error, SERVER_CONFIG_ERROR, code);
  if (strstr (error->message, fragment) == NULL)
    g_error ("error \"%s\" does not mention \"%s\"", error->message, fragment);
  if (path)
    g_unlink (path);
}

static void
test_errors (void)
{
  const char *port_high[] = { "--https-port=70000", NULL };
  const char *port_text[] = { "--https-port=84x3", NULL };
  const char *port_neg[] = { "--https-port=-1", NULL };
  const char *bad_level[] = { "--log-level=loud", NULL };
  const char *bad_ice[] = { "--ice-addresses=127.0.0.1,example.org", NULL };
  const char *bad_listen[] = { "--listen-address=localhost", NULL };
  const char *few[] = { "--max-participants=1", NULL };
  const char *range[] = { "--rtp-port-min=30000", "--rtp-port-max=29999", NULL };
  const char *unknown_flag[] = { "--htps-port=1", NULL };
  const char *extra[] = { "serve", NULL };
  const char *env_bad[] = { "CAU_MEDIA_WORKERS=many", NULL };

  expect_error (port_high, NULL, NULL, SERVER_CONFIG_ERROR_INVALID, "https-port (command line)");
  expect_error (port_high, NULL, NULL, SERVER_CONFIG_ERROR_INVALID, "0 to 65535");
  expect_error (port_text, NULL, NULL, SERVER_CONFIG_ERROR_INVALID, "84x3");
  expect_error (port_neg, NULL, NULL, SERVER_CONFIG_ERROR_INVALID, "https-port");
  expect_error (bad_level, NULL, NULL, SERVER_CONFIG_ERROR_INVALID, "debug");
  expect_error (bad_ice, NULL, NULL, SERVER_CONFIG_ERROR_INVALID, "example.org");
  expect_error (bad_listen, NULL, NULL, SERVER_CONFIG_ERROR_INVALID, "listen-address");
  expect_error (few, NULL, NULL, SERVER_CONFIG_ERROR_INVALID, "2 to 2000");
  expect_error (range, NULL, NULL, SERVER_CONFIG_ERROR_INVALID, "rtp-port-min");
  expect_error (unknown_flag, NULL, NULL, SERVER_CONFIG_ERROR_USAGE, "htps-port");
  expect_error (extra, NULL, NULL, SERVER_CONFIG_ERROR_USAGE, "serve");
  expect_error (NULL, env_bad, NULL, SERVER_CONFIG_ERROR_INVALID, "CAU_MEDIA_WORKERS");
  expect_error (NULL, NULL, "[caud]\nhttps-prt=1\n", SERVER_CONFIG_ERROR_UNKNOWN, "https-prt");
  expect_error (NULL, NULL, "[server]\nhttps-port=1\n", SERVER_CONFIG_ERROR_UNKNOWN, "[server]");
  expect_error (NULL, NULL, "[caud]\nrtp-port-min=80\n", SERVER_CONFIG_ERROR_INVALID, "1024");
  expect_error (NULL, NULL, "not a key file", SERVER_CONFIG_ERROR_FILE, "cannot read");
  {
    const char *missing[] = { "--config=/nonexistent/cau.conf", NULL };
    expect_error (missing, NULL, NULL, SERVER_CONFIG_ERROR_FILE, "/nonexistent/cau.conf");
  }
}

static void
test_describe_and_help (void)
{
  g_autoptr (ServerConfig) config = server_config_new ();
  g_autofree char *text = NULL;
  g_autofree char *help = server_config_get_help ();

  g_assert_true (load (config, NULL, NULL, NULL));
  text = server_config_describe (config);
  for (const char *const *name = server_config_get_names (); *name; name++) {
    g_autofree char *flag = g_strdup_printf ("--%s", *name);
    g_autofree char *pair = g_strdup_printf ("%s=", *name);

    g_assert_nonnull (strstr (help, flag));
    g_assert_nonnull (strstr (text, pair));
  }
  g_assert_nonnull (strstr (text, "https-port=8443"));
  g_assert_nonnull (strstr (help, "CAU_"));
}

/* docs/configuration.md and cau.conf.sample name every setting. */
static void
test_documented (void)
{
  const char *files[] = { "docs/configuration.md", "cau.conf.sample" };

  for (gsize i = 0; i < G_N_ELEMENTS (files); i++) {
    g_autofree char *path = g_build_filename (CAU_SOURCE_ROOT, files[i], NULL);
    g_autofree char *contents = NULL;
    g_autoptr (GError) error = NULL;

    g_file_get_contents (path, &contents, NULL, &error);
    g_assert_no_error (error);
    for (const char *const *name = server_config_get_names (); *name; name++)
      if (strstr (contents, *name) == NULL)
        g_error ("%s does not document %s", files[i], *name);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/server/config/defaults", test_defaults);
  g_test_add_func ("/server/config/precedence", test_precedence);
  g_test_add_func ("/server/config/env-config-file", test_env_config_file);
  g_test_add_func ("/server/config/errors", test_errors);
  g_test_add_func ("/server/config/describe-and-help", test_describe_and_help);
  g_test_add_func ("/server/config/documented", test_documented);
  return g_test_run ();
}
