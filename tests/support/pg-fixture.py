#!/usr/bin/env python3
"""pg-fixture.py — a throwaway PostgreSQL server for Python and shell tests.

The same behaviour as tests/support/pg-fixture.c: Debian's initdb and
postgres (/usr/lib/postgresql/<newest>/bin, or $CAU_PG_BINDIR) in a fresh
directory, run as the `postgres` user when we are root (they refuse root),
listening on 127.0.0.1 on a free port (and a Unix socket in the directory
when its path is short enough), trust authentication, fsync off; initdb's
output is kept as a template in /tmp and copied (see template_path).  No system
cluster is used.  Stopped by PID (fast shutdown); the directory is removed.
Should the Python process die first, the server gets SIGTERM and a watchdog
shell stops it and removes the directory.  Missing binaries are an error,
never a skip.

In Python:
    from importlib.machinery import SourceFileLoader
    pg = SourceFileLoader("pg_fixture", "tests/support/pg-fixture.py").load_module()
    with pg.PgFixture() as server:
        uri = server.uri                      # postgresql://postgres@127.0.0.1:PORT/postgres
        db_uri = server.create_database("t1")

From a shell:
    URI=$(python3 tests/support/pg-fixture.py start /tmp/cau-pg-test)
    ...
    python3 tests/support/pg-fixture.py stop /tmp/cau-pg-test
"""

import ctypes
import glob
import hashlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SOCKET_PATH_MAX = 100   # sun_path is 108 bytes; ".s.PGSQL.NNNNN" is appended


def find_bindir():
    env = os.environ.get("CAU_PG_BINDIR")
    if env:
        return env
    best, best_version = None, -1
    for path in glob.glob("/usr/lib/postgresql/*/bin"):
        version = os.path.basename(os.path.dirname(path))
        if os.access(os.path.join(path, "postgres"), os.X_OK) and version.isdigit() \
                and int(version) > best_version:
            best, best_version = path, int(version)
    if best is None:
        raise RuntimeError("PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin "
                           "(install postgresql, or set CAU_PG_BINDIR)")
    return best


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The same watchdog as pg-fixture.c: waits on a pipe from us; if the pipe
# closes without "done" (the test process died), it stops the server by the
# PID in data/postmaster.pid and removes the directory.
WATCHDOG_SCRIPT = r"""read line
[ "$line" = done ] && exit 0
pid=$(head -n 1 "$1/data/postmaster.pid" 2>/dev/null)
if [ -n "$pid" ]; then
  kill -INT "$pid" 2>/dev/null
  for i in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
fi
sleep 0.5
rm -rf "$1"
"""


# initdb runs once per set of binaries: its pristine output is kept in
# /tmp/cau-pg-template-<sha256(bindir)[:12]>-<uid>-v1/{data,complete}
# (published by an atomic rename) and copied for later fixtures.  The same
# templates as pg-fixture.c, which has the same initdb options.
TEMPLATE_TAG = "v1"


def template_path(bindir, uid):
    digest = hashlib.sha256(bindir.encode()).hexdigest()[:12]
    return "/tmp/cau-pg-template-%s-%d-%s" % (digest, uid, TEMPLATE_TAG)


def _child_setup(user, die_with_parent):
    """preexec_fn: become @user (when root) and, for servers owned by a
    Python test, die with it."""
    def setup():
        if user is not None:
            os.setgroups([])
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)
        if die_with_parent:      # after setuid, which clears it
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(1, signal.SIGTERM)     # PR_SET_PDEATHSIG
    return setup


class PgFixture:
    def __init__(self, directory=None, die_with_parent=True):
        self.directory = directory
        self.die_with_parent = die_with_parent
        self.pid = None
        self.port = None
        self.uri = None
        self.bindir = None
        self._watchdog = None

    # -- context manager --
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        self.bindir = find_bindir()
        if self.directory is None:
            self.directory = tempfile.mkdtemp(prefix="cau-pg-", dir="/tmp")
        else:
            os.makedirs(self.directory, exist_ok=True)
        if self.die_with_parent:
            self._watchdog = subprocess.Popen(
                ["/bin/sh", "-c", WATCHDOG_SCRIPT, "pg-fixture-watchdog", self.directory],
                stdin=subprocess.PIPE, cwd="/")
        user = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
        if user is not None:
            os.chown(self.directory, user.pw_uid, user.pw_gid)
        data = os.path.join(self.directory, "data")
        self._prepare_data(data, user)

        socket_dir = self.directory if len(self.directory) < SOCKET_PATH_MAX - 16 else ""
        log_path = os.path.join(self.directory, "postgres.log")
        for attempt in range(3):
            self.port = free_port()
            with open(log_path, "ab") as log:
                if user is not None:
                    os.chown(log_path, user.pw_uid, user.pw_gid)
                process = subprocess.Popen(
                    [os.path.join(self.bindir, "postgres"), "-D", data, "-p", str(self.port),
                     "-k", socket_dir, "-h", "127.0.0.1", "-c", "fsync=off",
                     "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                     "-c", "max_connections=50"],
                    cwd="/", stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                    start_new_session=not self.die_with_parent,
                    preexec_fn=_child_setup(user, self.die_with_parent))
            self.pid = process.pid
            self._process = process
            self.uri = "postgresql://postgres@127.0.0.1:%d/postgres" % self.port
            # Startup takes well under a second; the bound only guards a hang.
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    break
                if self._ready():
                    return self.uri
                time.sleep(0.05)
            if process.poll() is None:
                self.stop()
                raise RuntimeError("postgres did not accept connections within 60 s")
            self.pid = None
        with open(log_path, errors="replace") as log:
            raise RuntimeError("postgres exited at start: " + log.read()[-2000:])

    def _prepare_data(self, data, user):
        template = template_path(self.bindir, user.pw_uid if user else os.geteuid())
        if os.path.exists(os.path.join(template, "complete")):
            if subprocess.run(["cp", "-a", os.path.join(template, "data"), data],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
                return
            shutil.rmtree(data, ignore_errors=True)
        result = subprocess.run(
            [os.path.join(self.bindir, "initdb"), "-D", data, "-U", "postgres", "-A", "trust",
             "-E", "UTF8", "--locale=C", "--no-sync"],
            cwd="/", capture_output=True, text=True,
            preexec_fn=_child_setup(user, self.die_with_parent))
        if result.returncode != 0:
            raise RuntimeError("initdb failed: " + result.stdout + result.stderr)
        staging = "%s.%d" % (template, os.getpid())
        try:
            os.mkdir(staging, 0o755)
        except OSError:
            return
        try:
            subprocess.run(["cp", "-a", data, os.path.join(staging, "data")], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            open(os.path.join(staging, "complete"), "w").close()
            os.rename(staging, template)
        except (OSError, subprocess.CalledProcessError):
            # Another fixture published one first, or the copy failed: no harm.
            shutil.rmtree(staging, ignore_errors=True)

    def _ready(self):
        return subprocess.run(
            [os.path.join(self.bindir, "pg_isready"), "-q", "-h", "127.0.0.1",
             "-p", str(self.port)], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL).returncode == 0

    def psql(self, sql, database="postgres"):
        """Runs @sql through psql; returns its unaligned output."""
        result = subprocess.run(
            [os.path.join(self.bindir or find_bindir(), "psql"), "-X", "-q", "-A", "-t",
             "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(self.port),
             "-U", "postgres", "-d", database, "-c", sql],
            capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError("psql: " + result.stderr)
        return result.stdout

    def create_database(self, name):
        """Creates an empty database and returns its URI."""
        if not re.fullmatch(r"[a-z0-9_]+", name):
            raise ValueError("database name must be [a-z0-9_]+")
        self.psql("CREATE DATABASE " + name)
        return "postgresql://postgres@127.0.0.1:%d/%s" % (self.port, name)

    def stop(self):
        if self.pid is not None:
            stop_pid(self.pid)
            if getattr(self, "_process", None) is not None:
                self._process.wait()
            self.pid = None
        if self.directory is not None and os.path.isdir(self.directory):
            shutil.rmtree(self.directory, ignore_errors=True)
        if self._watchdog is not None:
            try:
                self._watchdog.stdin.write(b"done\n")
                self._watchdog.stdin.close()
            except OSError:
                pass
            self._watchdog.wait()
            self._watchdog = None


def stop_pid(pid):
    """Fast shutdown of the postmaster @pid, SIGKILL after 30 s."""
    try:
        os.kill(pid, signal.SIGINT)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done == pid:
                return
        except ChildProcessError:
            # Not our child (the CLI's stop): poll for its end.
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
        time.sleep(0.02)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def main(argv):
    if len(argv) != 3 or argv[1] not in ("start", "stop"):
        print("usage: pg-fixture.py start DIR   (prints the URI; the server keeps running)\n"
              "       pg-fixture.py stop DIR    (stops it by PID and removes DIR)",
              file=sys.stderr)
        return 2
    directory = os.path.abspath(argv[2])
    if argv[1] == "start":
        if os.path.exists(os.path.join(directory, "data")):
            print("pg-fixture.py: %s already holds a server" % directory, file=sys.stderr)
            return 1
        fixture = PgFixture(directory, die_with_parent=False)
        try:
            print(fixture.start(), flush=True)
        except Exception as error:     # noqa: BLE001 — report, clean up, fail
            print("pg-fixture.py: %s" % error, file=sys.stderr)
            fixture.stop()
            return 1
        return 0
    pid_file = os.path.join(directory, "data", "postmaster.pid")
    if os.path.exists(pid_file):
        with open(pid_file) as f:
            stop_pid(int(f.readline().strip()))
    shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
