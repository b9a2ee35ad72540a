/* pg-fixture.c — a throwaway PostgreSQL server for tests (see pg-fixture.h). */
#define _GNU_SOURCE 1   /* nftw, setgroups */
#include "pg-fixture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct PgFixture {
  char *dir;          /* the temporary directory: data/, the socket, the log */
  GPid pid;           /* the postmaster                                      */
  char *uri;
  int watchdog_fd;    /* write end of the watchdog's stdin, or -1            */
  GPid watchdog_pid;
};

/* The watchdog: a shell that waits on a pipe from us.  When we stop the
 * server ourselves we write "done"; when we die instead (a failed assertion
 * aborts the test) the pipe just closes, and it stops the server by PID and
 * removes the directory, so no crash leaves a server or 40 MB behind. */
static const char watchdog_script[] =
  "read line\n"
  "[ \"$line\" = done ] && exit 0\n"
  "pid=$(head -n 1 \"$1/data/postmaster.pid\" 2>/dev/null)\n"
  "if [ -n \"$pid\" ]; then\n"
  "  kill -INT \"$pid\" 2>/dev/null\n"
  "  for i in $(seq 1 300); do kill -0 \"$pid\" 2>/dev/null || break; sleep 0.1; done\n"
  "  kill -KILL \"$pid\" 2>/dev/null\n"
  "fi\n"
  "sleep 0.5\n"     /* an initdb cut short by SIGTERM tidies up first */
  "rm -rf \"$1\"\n";

/* Started as soon as the directory exists; it finds the server's PID in
 * data/postmaster.pid. */
static void
start_watchdog (PgFixture *fixture)
{
  const char *argv[] = { "/bin/sh", "-c", watchdog_script, "pg-fixture-watchdog", fixture->dir,
                         NULL };
  g_autoptr (GError) error = NULL;
  int fds[2];

  if (!g_unix_open_pipe (fds, FD_CLOEXEC, &error)) {
    g_warning ("pg-fixture: no watchdog: %s", error->message);
    return;
  }
  /* The shell gets the read end as stdin; we keep the write end only. */
  if (!g_spawn_async_with_fds ("/", (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               &fixture->watchdog_pid, fds[0], -1, -1, &error)) {
    g_warning ("pg-fixture: no watchdog: %s", error->message);
    close (fds[1]);
  } else {
    fixture->watchdog_fd = fds[1];
  }
  close (fds[0]);
}

typedef struct {
  gboolean drop;      /* running as root: become postgres in the child */
  uid_t uid;
  gid_t gid;
  gboolean pdeathsig;
} ChildSetup;

/* Runs in the child between fork and exec: only async-signal-safe calls. */
static void
child_setup (gpointer data)
{
  const ChildSetup *setup = data;

  if (setup->drop) {
    if (setgroups (0, NULL) != 0 || setgid (setup->gid) != 0 || setuid (setup->uid) != 0)
      _exit (127);
  }
  /* After setuid, which clears the death signal. */
  if (setup->pdeathsig)
    prctl (PR_SET_PDEATHSIG, SIGTERM);
}

/* The newest /usr/lib/postgresql/<version>/bin holding postgres, or
 * $CAU_PG_BINDIR. */
static char *
find_bindir (GError **error)
{
  const char *env = g_getenv ("CAU_PG_BINDIR");
  g_autoptr (GDir) dir = NULL;
  const char *name;
  char *best = NULL;
  gint64 best_version = -1;

  if (env != NULL && env[0] != '\0')
    return g_strdup (env);
  dir = g_dir_open ("/usr/lib/postgresql", 0, NULL);
  while (dir && (name = g_dir_read_name (dir)) != NULL) {
    g_autofree char *bin = g_build_filename ("/usr/lib/postgresql", name, "bin", NULL);
    g_autofree char *postgres = g_build_filename (bin, "postgres", NULL);
    gint64 version = g_ascii_strtoll (name, NULL, 10);

    if (g_file_test (postgres, G_FILE_TEST_IS_EXECUTABLE) && version > best_version) {
      g_free (best);
      best = g_steal_pointer (&bin);
      best_version = version;
    }
  }
  if (best == NULL)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                 "PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin "
                 "(install postgresql, or set CAU_PG_BINDIR)");
  return best;
}

static guint16
free_port (void)
{
  struct sockaddr_in address = { .sin_family = AF_INET };
  socklen_t length = sizeof address;
  int fd = socket (AF_INET, SOCK_STREAM, 0);
  guint16 port = 0;

  address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (fd >= 0 && bind (fd, (struct sockaddr *) &address, sizeof address) == 0
      && getsockname (fd, (struct sockaddr *) &address, &length) == 0)
    port = ntohs (address.sin_port);
  if (fd >= 0)
    close (fd);
  return port;
}

static int
remove_entry (const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
  remove (path);
  return 0;
}

static char *
read_log_tail (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "postgres.log", NULL);
  g_autofree char *text = NULL;
  gsize length = 0;

  if (!g_file_get_contents (path, &text, &length, NULL))
    return g_strdup ("(no log)");
  return g_strdup (length > 2000 ? text + length - 2000 : text);
}

static gboolean
run_initdb (const char *bindir, const char *data, ChildSetup *setup, GError **error)
{
  g_autofree char *initdb = g_build_filename (bindir, "initdb", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  const char *argv[] = { initdb, "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                         "--locale=C", "--no-sync", NULL };
  int status = 0;

  if (!g_spawn_sync ("/", (char **) argv, NULL, G_SPAWN_DEFAULT, child_setup, setup, &out,
                     &err, &status, error))
    return FALSE;
  if (!g_spawn_check_wait_status (status, NULL)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "initdb failed: %s%s", out, err);
    return FALSE;
  }
  return TRUE;
}

static gboolean
run_quietly (const char *const *argv, GError **error)
{
  g_autofree char *err = NULL;
  int status = 0;

  if (!g_spawn_sync ("/", (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                     NULL, NULL, NULL, &err, &status, error))
    return FALSE;
  if (!g_spawn_check_wait_status (status, NULL)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s failed: %s", argv[0], err);
    return FALSE;
  }
  return TRUE;
}

/* initdb's output depends only on the binaries and the options above, and
 * initdb takes seconds on a busy machine where a copy takes a fraction of
 * one: the first fixture keeps a pristine copy in /tmp/cau-pg-template-…
 * (published by an atomic rename, so a half-made one is never used) and
 * later ones copy it.  The name changes with the binaries' directory and
 * the version tag below; pg-fixture.py uses the same templates. */
#define TEMPLATE_TAG "v1"

static char *
template_path (const char *bindir, const ChildSetup *setup)
{
  g_autofree char *digest = g_compute_checksum_for_string (G_CHECKSUM_SHA256, bindir, -1);

  digest[12] = '\0';
  return g_strdup_printf ("/tmp/cau-pg-template-%s-%u-" TEMPLATE_TAG, digest,
                          (unsigned) (setup->drop ? setup->uid : geteuid ()));
}

static gboolean
prepare_data (const char *bindir, const char *data, ChildSetup *setup, GError **error)
{
  g_autofree char *template = template_path (bindir, setup);
  g_autofree char *template_data = g_build_filename (template, "data", NULL);
  g_autofree char *complete = g_build_filename (template, "complete", NULL);
  g_autofree char *staging = NULL;
  g_autofree char *staging_data = NULL;
  g_autofree char *staging_complete = NULL;
  g_autoptr (GError) local_error = NULL;

  if (g_file_test (complete, G_FILE_TEST_EXISTS)) {
    const char *copy[] = { "cp", "-a", template_data, data, NULL };

    if (run_quietly (copy, &local_error))
      return TRUE;
    g_debug ("pg-fixture: template copy failed (%s); running initdb", local_error->message);
    g_clear_error (&local_error);
    nftw (data, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  }
  if (!run_initdb (bindir, data, setup, error))
    return FALSE;

  staging = g_strdup_printf ("%s.%d", template, (int) getpid ());
  staging_data = g_build_filename (staging, "data", NULL);
  staging_complete = g_build_filename (staging, "complete", NULL);
  if (mkdir (staging, 0755) == 0) {
    const char *copy[] = { "cp", "-a", data, staging_data, NULL };

    if (run_quietly (copy, &local_error)
        && g_file_set_contents (staging_complete, "", 0, &local_error)
        && rename (staging, template) == 0)
      return TRUE;
    /* Another fixture published one first, or the copy failed: no harm. */
    nftw (staging, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  }
  return TRUE;
}

/* Starts postgres on @port; TRUE once it accepts connections. */
static gboolean
start_server (PgFixture *fixture, const char *bindir, const char *data, guint16 port,
              ChildSetup *setup, GError **error)
{
  g_autofree char *postgres = g_build_filename (bindir, "postgres", NULL);
  g_autofree char *port_text = g_strdup_printf ("%u", port);
  g_autofree char *log_path = g_build_filename (fixture->dir, "postgres.log", NULL);
  const char *argv[] = { postgres, "-D", data, "-p", port_text, "-k", fixture->dir,
                         "-h", "127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
                         "-c", "full_page_writes=off", "-c", "max_connections=50", NULL };
  int log_fd;
  gint64 deadline;

  log_fd = open (log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "%s: %s", log_path,
                 g_strerror (errno));
    return FALSE;
  }
  if (setup->drop && fchown (log_fd, setup->uid, setup->gid) != 0)
    g_debug ("pg-fixture: chown log: %s", g_strerror (errno));
  if (!g_spawn_async_with_fds ("/", (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                               child_setup, setup, &fixture->pid, -1, log_fd, log_fd, error)) {
    close (log_fd);
    return FALSE;
  }
  close (log_fd);

  g_free (fixture->uri);
  fixture->uri = g_strdup_printf ("postgresql://postgres@127.0.0.1:%u/postgres", port);
  /* Startup takes well under a second; the bound only guards a hang. */
  deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < deadline) {
    int status;

    if (PQping (fixture->uri) == PQPING_OK)
      return TRUE;
    if (waitpid (fixture->pid, &status, WNOHANG) == fixture->pid) {
      g_autofree char *log = read_log_tail (fixture->dir);

      fixture->pid = 0;
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "postgres exited at start: %s", log);
      return FALSE;
    }
    g_usleep (50 * 1000);
  }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
               "postgres did not accept connections within 60 s");
  return FALSE;
}

PgFixture *
pg_fixture_start (GError **error)
{
  g_autoptr (PgFixture) fixture = g_new0 (PgFixture, 1);
  g_autofree char *bindir = NULL;
  g_autofree char *data = NULL;
  char template[] = "/tmp/cau-pg-XXXXXX";
  ChildSetup setup = { 0 };

  bindir = find_bindir (error);
  if (bindir == NULL)
    return NULL;
  if (mkdtemp (template) == NULL) {
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "mkdtemp: %s",
                 g_strerror (errno));
    return NULL;
  }
  fixture->dir = g_strdup (template);
  fixture->watchdog_fd = -1;
  data = g_build_filename (fixture->dir, "data", NULL);
  start_watchdog (fixture);

  if (geteuid () == 0) {
    struct passwd *pw = getpwnam ("postgres");

    if (pw == NULL) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "running as root and there is no postgres user to run the server as");
      return NULL;
    }
    setup.drop = TRUE;
    setup.uid = pw->pw_uid;
    setup.gid = pw->pw_gid;
    if (chown (fixture->dir, setup.uid, setup.gid) != 0) {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "chown %s: %s",
                   fixture->dir, g_strerror (errno));
      return NULL;
    }
  }
  setup.pdeathsig = TRUE;
  if (!prepare_data (bindir, data, &setup, error))
    return NULL;

  /* The free port may be taken between our probe and postgres' bind: retry. */
  for (int attempt = 0;; attempt++) {
    g_autoptr (GError) local_error = NULL;

    if (start_server (fixture, bindir, data, free_port (), &setup, &local_error))
      break;
    if (attempt == 2 || fixture->pid != 0) {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  }
  return g_steal_pointer (&fixture);
}

const char *
pg_fixture_get_uri (PgFixture *fixture)
{
  g_return_val_if_fail (fixture != NULL, NULL);
  return fixture->uri;
}

char *
pg_fixture_create_database (PgFixture *fixture, const char *name, GError **error)
{
  g_autofree char *sql = NULL;
  g_autofree char *base = NULL;
  PGconn *conn;
  PGresult *result;
  gboolean ok;

  g_return_val_if_fail (fixture != NULL && name != NULL && name[0] != '\0', NULL);
  for (const char *p = name; *p; p++)
    g_return_val_if_fail (g_ascii_islower (*p) || g_ascii_isdigit (*p) || *p == '_', NULL);

  conn = PQconnectdb (fixture->uri);
  if (PQstatus (conn) != CONNECTION_OK) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", PQerrorMessage (conn));
    PQfinish (conn);
    return NULL;
  }
  sql = g_strdup_printf ("CREATE DATABASE %s", name);
  result = PQexec (conn, sql);
  ok = PQresultStatus (result) == PGRES_COMMAND_OK;
  if (!ok)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", PQerrorMessage (conn));
  PQclear (result);
  PQfinish (conn);
  if (!ok)
    return NULL;
  base = g_strndup (fixture->uri, strrchr (fixture->uri, '/') - fixture->uri);
  return g_strdup_printf ("%s/%s", base, name);
}

void
pg_fixture_stop (PgFixture *fixture)
{
  if (fixture == NULL)
    return;
  if (fixture->pid > 0) {
    gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
    int status;

    kill (fixture->pid, SIGINT);     /* fast shutdown */
    while (waitpid (fixture->pid, &status, WNOHANG) == 0) {
      if (g_get_monotonic_time () > deadline) {
        kill (fixture->pid, SIGKILL);
        waitpid (fixture->pid, &status, 0);
        break;
      }
      g_usleep (20 * 1000);
    }
    g_spawn_close_pid (fixture->pid);
  }
  if (fixture->dir)
    nftw (fixture->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  if (fixture->watchdog_fd >= 0) {
    if (write (fixture->watchdog_fd, "done\n", 5) != 5)
      g_debug ("pg-fixture: watchdog: %s", g_strerror (errno));
    close (fixture->watchdog_fd);
    waitpid (fixture->watchdog_pid, NULL, 0);
    g_spawn_close_pid (fixture->watchdog_pid);
  }
  g_free (fixture->dir);
  g_free (fixture->uri);
  g_free (fixture);
}
