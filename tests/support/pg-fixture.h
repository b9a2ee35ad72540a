/* pg-fixture.h — a throwaway PostgreSQL server for tests.
 *
 * pg_fixture_start() runs Debian's initdb and postgres
 * (/usr/lib/postgresql/<newest>/bin, or $CAU_PG_BINDIR) in a fresh
 * temporary directory, as the `postgres` user when the test runs as root
 * (initdb and postgres refuse root), listening on 127.0.0.1 on a free port
 * and on a Unix socket in that directory, trust authentication, fsync off.
 * No system cluster is used or touched.  initdb runs once per set of
 * binaries: its pristine output is kept in /tmp/cau-pg-template-… and
 * copied for later fixtures (much faster on a loaded machine).  pg_fixture_stop() stops the server
 * by its PID (fast shutdown) and removes the directory.  Should the test
 * process die first (a failed assertion aborts), the server gets SIGTERM
 * (PR_SET_PDEATHSIG) and a watchdog shell, which sees our end of its pipe
 * close, stops it by PID and removes the directory.
 *
 * Missing PostgreSQL binaries are an error, never a skip: the install
 * script installs them.
 *
 * Threads: use from one thread (the test's main thread).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct PgFixture PgFixture;

/* (transfer full) a running server, or NULL + @error (G_IO_ERROR). */
PgFixture *pg_fixture_start (GError **error);

/* "postgresql://postgres@127.0.0.1:PORT/postgres" (transfer none). */
const char *pg_fixture_get_uri (PgFixture *fixture);

/* Creates an empty database @name ([a-z0-9_]+) and returns (transfer full)
 * its URI, so each test can start from nothing. */
char *pg_fixture_create_database (PgFixture *fixture, const char *name, GError **error);

/* Stops the server, waits for it, removes its directory.  NULL allowed. */
void pg_fixture_stop (PgFixture *fixture);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PgFixture, pg_fixture_stop)

G_END_DECLS
