#!/usr/bin/python3
"""The real `cau` command line against a fresh store, SQLite then PostgreSQL.

For each back end:
  --help of every command (exit 0, its options listed); usage errors exit 2;
  facility create/list; user create with the password on stdin (stored as
  an Argon2id hash, never echoed), refused duplicates and short passwords,
  user unlock of a locked account; patient import of a CSV file mixing good
  rows with an invalid CCCD, an invalid BHYT, an impossible date, a
  duplicate CCCD, an unknown facility, a wrong field count, a stray quote,
  SQL metacharacters in a name (good: stored verbatim), quoted commas and
  quotes (good) and a quoted multi-line address (refused: records keeps an
  address on one line) -- the exact FILE:LINE of every bad row, the summary,
  exit 1, and exactly the good rows stored; an all-good file exits 0;
  `audit verify` passes with one event per write; then an audit row edited
  by hand (sqlite3 module / psql) makes it fail naming that seq, restoring
  it passes again, and deleting a row fails.
SQLite only: `cau demo` (deterministic with CAU_DEMO_PASSWORD, test-only)
prints the accounts once and refuses a second time.

The PostgreSQL run uses tests/support/pg-fixture.py (a throw-away server on
loopback, stopped by PID); a server that cannot start fails the test.
Exit 0 pass, 1 fail, 77 skip (cau not built).
"""

import csv
import io
import os
import pty
import re
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback

from cauharness import SKIP, TestFailure, check, log

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
PASSWORD = "correct horse battery"   # on stdin only
DEMO_PASSWORD = "test-only-demo-pw"


def cau_path():
    exe = os.environ.get("CAU")
    if exe and os.access(exe, os.X_OK):
        return exe
    for b in ("build", "build-int"):
        p = os.path.join(ROOT, b, "server", "cau")
        if os.access(p, os.X_OK):
            return p
    return None


class Cau:
    def __init__(self, exe, store_args):
        self.exe = exe
        self.store_args = store_args

    def run(self, *args, stdin="", env=None, expect=None):
        full_env = dict(os.environ)
        full_env.pop("CAU_DEMO_PASSWORD", None)
        full_env.pop("CAU_DATABASE", None)
        full_env.pop("CAU_DATA_DIR", None)
        full_env.update(env or {})
        cmd = [self.exe] + list(args) + self.store_args
        p = subprocess.run(cmd, input=stdin.encode(), capture_output=True, timeout=120,
                           env=full_env)
        out, err = p.stdout.decode(), p.stderr.decode()
        if expect is not None and p.returncode != expect:
            raise TestFailure("cau %s: exit %d, expected %d\nstdout: %s\nstderr: %s"
                              % (" ".join(args), p.returncode, expect, out, err))
        return p.returncode, out, err


# ---------------------------------------------------------------------------
# Direct access to the database, to check what is stored and to tamper.

class SqliteDb:
    name = "sqlite"

    def __init__(self, path):
        self.path = path

    def query(self, sql, params=()):
        with sqlite3.connect(self.path) as c:
            return [tuple(r) for r in c.execute(sql, params).fetchall()]

    def execute(self, sql, params=()):
        c = sqlite3.connect(self.path)
        try:
            c.execute(sql, params)
            c.commit()
        finally:
            c.close()


class PostgresDb:
    name = "postgresql"

    def __init__(self, psql_cmd):
        self.psql = psql_cmd   # list: psql with connection options

    def _run(self, sql, params):
        # psql variables (:'p0') quote values as literals; nothing is pasted into SQL.
        args = list(self.psql) + ["-X", "-q", "-A", "-t", "-F", "\x1f", "-R", "\x1e",
                                  "-v", "ON_ERROR_STOP=1"]
        for i, p in enumerate(params):
            args += ["-v", "p%d=%s" % (i, p)]
        for i in range(len(params)):
            sql = sql.replace("?", ":'p%d'" % i, 1)
        r = subprocess.run(args, input=sql.encode(), capture_output=True, timeout=60)
        if r.returncode != 0:
            raise TestFailure("psql failed: %s" % r.stderr.decode())
        return r.stdout.decode()

    def query(self, sql, params=()):
        out = self._run(sql, params)
        rows = []
        for rec in out.split("\x1e"):
            rec = rec.strip("\n")
            if rec == "":
                continue
            rows.append(tuple(None if v == "" else v for v in rec.split("\x1f")))
        return rows

    def execute(self, sql, params=()):
        self._run(sql, params)


# ---------------------------------------------------------------------------
# The CSV file: (physical lines, expected outcome) per row.

HEADER = ["name", "cccd", "facility_code", "birth_date", "sex", "bhyt", "phone", "address"]

GOOD_1 = {"cccd": "038058000101", "bhyt": "HT2383800000101", "name": "Bệnh nhân Thử Một",
          "birth_date": "1958-04-12", "sex": "male", "phone": "0900000101",
          "address": "Thôn 1, Đông Sơn", "facility_code": "38-DONGSON"}
QUOTED = {"cccd": "038172000102", "bhyt": "GD4383800000102",
          "name": "Bệnh nhân \"Hai\", Thử", "birth_date": "1972-09-03", "sex": "female",
          "phone": "", "address": "Số 5, ngõ 7, phố Mới", "facility_code": "38-DONGSON"}
# records keeps an address on one line (no control characters), so this
# row is refused -- at the line where it starts, and the lines after it
# keep their numbers.
MULTILINE = dict(QUOTED, cccd="038172000110", bhyt="", address="Số 5, ngõ 7\nphố Mới\nĐông Sơn")
SQL_NAME = {"cccd": "001175000401", "bhyt": "", "name": "Robert'); DROP TABLE patients;-- \"x\"",
            "birth_date": "1975-03-25", "sex": "female", "phone": "", "address": "",
            "facility_code": "01-TW-HANOI"}
GOOD_LAST = {"cccd": "038304000104", "bhyt": "", "name": "Bệnh nhân Thử Bốn",
             "birth_date": "2004-06-15", "sex": "female", "phone": "", "address": "",
             "facility_code": "38-DONGSON"}


def row(d, **changes):
    d = dict(d, **changes)
    return [d[c] for c in HEADER]


def csv_line(fields):
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(fields)
    return buf.getvalue()


def build_import_file(path):
    """Writes the mixed file; returns {line: reason pattern} of the bad rows."""
    text = ""
    bad = {}
    line = 1

    def add(fields=None, raw=None, reason=None):
        nonlocal text, line
        chunk = raw if raw is not None else csv_line(fields)
        if reason:
            bad[line] = reason
        text += chunk
        line += chunk.count("\n")

    add(HEADER)                                                            # 1
    add(row(GOOD_1))                                                       # 2
    add(row(GOOD_1, cccd="999058000199"), reason=r"cccd")                  # 3 province 999
    add(row(GOOD_1, cccd="038058000105", bhyt="ZZ9383800000105"), reason=r"bhyt")   # 4
    add(row(GOOD_1, cccd="038058000106", bhyt="", birth_date="1958-02-30"),
        reason=r"birth_date")                                              # 5
    add(row(MULTILINE), reason=r"^address")                                # 6-8
    add(raw="\n")                                                          # 9 empty line
    add(row(QUOTED))                                                       # 10
    add(row(GOOD_1, bhyt="", name="Trùng CCCD"), reason=r"cccd.*already|already.*cccd")  # 11
    add(row(GOOD_1, cccd="038058000107", bhyt="", facility_code="99-NOWHERE"),
        reason=r"facility")                                                # 12
    add(row(SQL_NAME))                                                     # 13
    add(raw="Thiếu cột,038058000108,38-DONGSON,1958-04-12,male\n",
        reason=r"expected 8 fields, found 5")                              # 14
    add(raw='Bad "quote,038058000109,38-DONGSON,1958-04-12,male,,,\n',
        reason=r"quote")                                                   # 15
    add(row(GOOD_LAST))                                                    # 16
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    return bad, [GOOD_1, QUOTED, SQL_NAME, GOOD_LAST]


def stored_patients(db):
    rows = db.query("SELECT p.cccd, p.bhyt, p.name, p.birth_date, p.sex, p.phone, p.address,"
                    " f.code FROM patients p JOIN facilities f ON f.id = p.facility_id"
                    " ORDER BY p.cccd")
    return rows


def expected_row(d):
    def opt(v):
        return v if v != "" else None
    return (d["cccd"], opt(d["bhyt"]), d["name"], d["birth_date"], d["sex"], opt(d["phone"]),
            opt(d["address"]), d["facility_code"])


# ---------------------------------------------------------------------------

COMMANDS = {
    "facility create": ["--code", "--name", "--kind", "--province"],
    "facility list": [],
    "user create": ["--username", "--name", "--role", "--facility"],
    "user list": [],
    "user unlock": ["USERNAME"],
    "patient import": ["FILE.csv"],
    "patient list": ["--q"],
    "audit verify": [],
    "audit list": ["--limit"],
    "demo": [],
}


def check_help(cau):
    rc, out, _ = cau.run("--help", expect=0)
    for name in COMMANDS:
        check(name in out, "cau --help lists %r" % name)
    for name, options in COMMANDS.items():
        rc, out, err = cau.run(*name.split(), "--help", expect=0)
        check(out.startswith("Usage:") and ("cau [OPTION…] " + name) in out.replace("...", "…"),
              "cau %s --help: usage line" % name)
        for o in options + ["--data-dir", "--database"]:
            check(o in out, "cau %s --help mentions %s" % (name, o))
    rc, _, err = cau.run("facility", "create", "--bogus")
    check(rc == 2 and "--bogus" in err, "unknown option: exit 2")
    rc, _, err = cau.run("frobnicate")
    check(rc == 2 and "unknown command" in err, "unknown command: exit 2")
    rc, _, err = cau.run("user")
    check(rc == 2 and "create, list, unlock" in err, "'cau user' names its verbs, exit 2")
    p = subprocess.run([cau.exe, "--database", "/tmp/not-a-uri", "facility", "list"],
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 2 and "postgresql://" in p.stderr, "--database that is not a URI: exit 2")
    rc, _, err = cau.run("facility", "create", "--code", "X")
    check(rc == 2 and "required" in err, "facility create without the other options: exit 2")


def check_tty_prompt(cau, db):
    """At a terminal, user create asks twice with echo off."""
    master, slave = pty.openpty()
    env = dict(os.environ)
    env.pop("CAU_DATABASE", None)
    proc = subprocess.Popen([cau.exe, "user", "create", "--username", "tty.user", "--name",
                             "TTY", "--role", "auditor"] + cau.store_args,
                            stdin=slave, stdout=subprocess.PIPE, stderr=slave, env=env)
    os.close(slave)
    seen = b""

    def read_until(marker):
        nonlocal seen
        end = time.monotonic() + 30
        while marker not in seen:
            left = end - time.monotonic()
            if left <= 0 or not select.select([master], [], [], left)[0]:
                raise TestFailure("no %r prompt at the terminal; saw %r" % (marker, seen))
            try:
                seen += os.read(master, 1024)
            except OSError:
                raise TestFailure("terminal closed before %r; saw %r" % (marker, seen))

    try:
        read_until(b"New password: ")
        os.write(master, (PASSWORD + "\n").encode())
        read_until(b"Again: ")
        os.write(master, (PASSWORD + "\n").encode())
        out, _ = proc.communicate(timeout=60)
        try:
            while select.select([master], [], [], 0.2)[0]:
                chunk = os.read(master, 1024)
                if not chunk:
                    break
                seen += chunk
        except OSError:
            pass
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    check(proc.returncode == 0 and b"created user tty.user" in out,
          "user create at a terminal: prompted twice, created")
    check(PASSWORD.encode() not in seen, "the password typed at the terminal is not echoed")
    check(len(db.query("SELECT id FROM users WHERE username = 'tty.user'")) == 1,
          "tty.user stored")


def run_suite(cau, db, workdir):
    events = 0   # audit events the CLI is expected to have written

    check_help(cau)
    rc, _, err = cau.run("audit", "verify")
    if db.name == "sqlite":
        check(rc == 2 and "no database" in err,
              "audit verify on a directory without a database: exit 2, not a pass")

    # -- facilities
    for code, name, kind, prov in [("38-DONGSON", "TTYT Thử Đông Sơn", "district-clinic", "038"),
                                   ("01-TW-HANOI", "BV Thử Hà Nội", "national-hospital", "001")]:
        rc, out, _ = cau.run("facility", "create", "--code", code, "--name", name, "--kind", kind,
                             "--province", prov, expect=0)
        check(("created facility " + code) in out, "facility %s created" % code)
        events += 1
    rc, _, err = cau.run("facility", "create", "--code", "38-DONGSON", "--name", "again",
                         "--kind", "district-clinic", "--province", "038")
    check(rc == 1 and "already" in err, "duplicate facility code: exit 1")
    rc, _, err = cau.run("facility", "create", "--code", "38-X", "--name", "x",
                         "--kind", "spaceship", "--province", "038")
    check(rc == 1 and "kind" in err, "bad facility kind: exit 1 naming kind")
    rc, out, _ = cau.run("facility", "list", expect=0)
    lines = out.strip().splitlines()
    check(len(lines) == 3 and "38-DONGSON" in out and "TTYT Thử Đông Sơn" in out
          and "national-hospital" in out, "facility list: header + 2 facilities")

    if db.name == "sqlite":
        # The store is found as caud finds it: key file, then environment.
        data = os.path.dirname(db.path)
        conf = os.path.join(workdir, "cau.conf")
        with open(conf, "w") as f:
            f.write("[caud]\ndata-dir = %s\n" % data)
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAU_")}
        for args, extra, what in [(["--config", conf], {}, "--config FILE"),
                                  ([], {"CAU_CONFIG": conf}, "CAU_CONFIG"),
                                  ([], {"CAU_DATA_DIR": data}, "CAU_DATA_DIR")]:
            p = subprocess.run([cau.exe] + args + ["facility", "list"], capture_output=True,
                               text=True, timeout=60, env=dict(env, **extra))
            check(p.returncode == 0 and "38-DONGSON" in p.stdout,
                  "the data directory comes from %s as for caud" % what)

    # -- users: the password only on stdin
    rc, out, err = cau.run("user", "create", "--username", "bs.thu", "--name", "BS Thử",
                           "--role", "clinician", "--facility", "38-DONGSON",
                           stdin=PASSWORD + "\n", expect=0)
    events += 1
    check(PASSWORD not in out + err, "the password is not echoed")
    rc, out, err = cau.run("user", "create", "--username", "admin.thu", "--name", "Admin",
                           "--role", "administrator", stdin=PASSWORD + "\r\n", expect=0)
    events += 1
    stored = db.query("SELECT username, password_hash FROM users ORDER BY username")
    check([u for u, _ in stored] == ["admin.thu", "bs.thu"], "two users stored")
    check(all(h.startswith("$argon2id$") and PASSWORD not in h for _, h in stored),
          "passwords stored as Argon2id PHC strings only")
    rc, _, err = cau.run("user", "create", "--username", "bs.thu", "--name", "x",
                         "--role", "clinician", "--facility", "38-DONGSON", stdin=PASSWORD + "\n")
    check(rc == 1 and "already" in err, "duplicate username: exit 1")
    rc, _, err = cau.run("user", "create", "--username", "short.pw", "--name", "x",
                         "--role", "nurse", "--facility", "38-DONGSON", stdin="abc\n")
    check(rc == 1 and "password" in err, "too short a password: exit 1")
    rc, _, err = cau.run("user", "create", "--username", "no.pw", "--name", "x",
                         "--role", "nurse", "--facility", "38-DONGSON", stdin="")
    check(rc == 1 and "no password" in err, "no password on stdin: exit 1")
    rc, _, err = cau.run("user", "create", "--username", "bad.fac", "--name", "x",
                         "--role", "nurse", "--facility", "99-NOWHERE", stdin=PASSWORD + "\n")
    check(rc == 1, "unknown --facility: exit 1")
    rc, _, err = cau.run("user", "create", "--username", "x.y", "--name", "x",
                         "--role", "patient", stdin=PASSWORD + "\n")
    check(rc == 2, "--role patient: usage error")
    check(len(db.query("SELECT id FROM users")) == 2, "refused users stored nothing")

    check_tty_prompt(cau, db)
    events += 1

    db.execute("UPDATE users SET failed_logins = ?, locked_until = ? WHERE username = ?",
               ("5", str(4102444800), "bs.thu"))
    rc, out, _ = cau.run("user", "list", expect=0)
    check(re.search(r"^bs\.thu\s+clinician\s+38-DONGSON\s+locked\s+BS Thử$", out, re.M),
          "user list shows bs.thu locked")
    check(re.search(r"^admin\.thu\s+administrator\s+-\s+active\s+Admin$", out, re.M),
          "user list shows admin.thu without facility")
    cau.run("user", "unlock", "bs.thu", expect=0)
    events += 1
    check(db.query("SELECT failed_logins, locked_until FROM users WHERE username = 'bs.thu'")
          in ([(0, 0)], [("0", "0")]), "user unlock clears the counters")
    rc, _, _ = cau.run("user", "unlock", "nobody")
    check(rc == 1, "unlock of an unknown user: exit 1")

    # -- patient import
    path = os.path.join(workdir, "patients.csv")
    bad, good = build_import_file(path)
    rc, out, err = cau.run("patient", "import", path)
    events += len(good)
    check(rc == 1, "import with rejected rows: exit 1 (got %d)" % rc)
    check(out.strip() == "imported %d, rejected %d" % (len(good), len(bad)),
          "summary line: %r" % out.strip())
    reported = {}
    for ln in err.splitlines():
        m = re.match(re.escape(path) + r":(\d+): (.*)$", ln)
        check(m is not None, "stderr line is FILE:LINE: reason: %r" % ln)
        reported[int(m.group(1))] = m.group(2)
    check(sorted(bad) == [3, 4, 5, 6, 11, 12, 14, 15], "the test file is as designed")
    check(sorted(reported) == sorted(bad),
          "bad rows reported at lines %s (got %s)" % (sorted(bad), sorted(reported)))
    for ln, pattern in bad.items():
        check(re.search(pattern, reported[ln]), "line %d: %r matches %r"
              % (ln, reported[ln], pattern))
    stored = stored_patients(db)
    want = sorted(expected_row(d) for d in good)
    check(stored == want, "exactly the good rows stored, verbatim:\n  got  %r\n  want %r"
          % (stored, want))

    rc, out, err = cau.run("patient", "import", path)
    events += 0
    check(rc == 1 and out.strip() == "imported 0, rejected %d" % (len(bad) + len(good)),
          "re-import: every row is now a duplicate or bad")

    ok_path = os.path.join(workdir, "ok.csv")
    with open(ok_path, "w", encoding="utf-8", newline="") as f:
        f.write("\ufeffcccd,name,birth_date,sex,facility_code\r\n"
                "038066000103,Bệnh nhân Thử Ba,1966-01-20,male,38-DONGSON\r\n"
                "001080000402,Bệnh nhân Thử Năm,1980-11-30,male,01-TW-HANOI\r\n")
    rc, out, err = cau.run("patient", "import", ok_path, expect=0)
    events += 2
    check(out.strip() == "imported 2, rejected 0" and err == "", "all-good file: exit 0, quiet")

    for args, what in [(["patient", "import", os.path.join(workdir, "missing.csv")], "no file"),
                       (["patient", "import"], "no argument")]:
        rc, _, _ = cau.run(*args)
        check(rc == 2, "import, %s: exit 2" % what)
    hdr_path = os.path.join(workdir, "bad-header.csv")
    with open(hdr_path, "w") as f:
        f.write("cccd,name,colour\n038066000103,x,red\n")
    rc, _, err = cau.run("patient", "import", hdr_path)
    check(rc == 2 and (hdr_path + ":1: header") in err and "colour" in err,
          "unknown header column: exit 2 naming it")

    rc, out, _ = cau.run("patient", "list", "--q", "robert'); drop", expect=0)
    events += 1
    check(SQL_NAME["name"] in out and len(out.strip().splitlines()) == 2,
          "patient list --q finds the SQL-looking name, verbatim, case-insensitive")
    rc, out, _ = cau.run("patient", "list", expect=0)
    events += 1
    check(len(out.strip().splitlines()) == 1 + len(good) + 2, "patient list lists all")

    # -- audit chain
    rc, out, _ = cau.run("audit", "verify", expect=0)
    check(out.strip() == "audit chain ok: %d events" % events,
          "audit verify: %r (expected %d events)" % (out.strip(), events))
    cli_events = db.query("SELECT actor_id, actor_role, source FROM audit_events")
    check(len(cli_events) == events and all(e == ("cli", "system", "cli") for e in cli_events),
          "every event is actor cli, role system, source cli")
    rc, out, _ = cau.run("audit", "list", "--limit", "3", expect=0)
    check(len(out.strip().splitlines()) == 4 and re.search(r"^1\s", out.splitlines()[1]),
          "audit list --limit 3: three events from seq 1")

    k = events // 2
    (detail,), = db.query("SELECT detail FROM audit_events WHERE seq = ?", (str(k),))
    db.execute("UPDATE audit_events SET detail = ? WHERE seq = ?", ("edited by hand", str(k)))
    rc, out, _ = cau.run("audit", "verify")
    check(rc == 1 and re.search(r"\bseq %d\b" % k, out),
          "edited row %d: audit verify exits 1 naming it: %r" % (k, out.strip()))
    db.execute("UPDATE audit_events SET detail = ? WHERE seq = ?", (detail, str(k)))
    cau.run("audit", "verify", expect=0)
    log("ok: restoring the row makes the chain verify again")

    # Truncation: the newest row goes; the head kept apart still names it.
    db.execute("DELETE FROM audit_events WHERE seq = ?", (str(events),))
    rc, out, _ = cau.run("audit", "verify")
    check(rc == 1 and re.search(r"\bseq %d\b" % events, out),
          "newest row %d deleted: audit verify exits 1 naming it: %r" % (events, out.strip()))

    m = events - 3
    db.execute("DELETE FROM audit_events WHERE seq = ?", (str(m),))
    rc, out, _ = cau.run("audit", "verify")
    seqs = [int(s) for s in re.findall(r"\bseq (\d+)", out)]
    check(rc == 1 and seqs and seqs[0] in (m, m + 1),
          "deleted row %d: audit verify exits 1 naming seq %d or %d: %r"
          % (m, m, m + 1, out.strip()))


def run_demo(cau_exe, workdir):
    data = os.path.join(workdir, "demo-data")
    cau = Cau(cau_exe, ["--data-dir", data])
    rc, out, err = cau.run("demo", env={"CAU_DEMO_PASSWORD": DEMO_PASSWORD}, expect=0)
    accounts = re.findall(r"^(\S+)\s+" + re.escape(DEMO_PASSWORD) + r"\s+(\S+)\s+(\S+)$",
                          out, re.M)
    check(len(accounts) >= 17, "cau demo prints the accounts (%d)" % len(accounts))
    roles = {r for _, r, _ in accounts}
    check(roles == {"clinician", "nurse", "specialist", "administrator", "auditor"},
          "every staff role has a demo account")
    check(DEMO_PASSWORD not in err, "the demo password is not logged")
    rc, out, _ = cau.run("patient", "list", expect=0)
    check(len(out.strip().splitlines()) - 1 >= 8 and "Bệnh nhân Demo" in out,
          "demo patients listed")
    cau.run("audit", "verify", expect=0)
    rc, _, err = cau.run("demo", env={"CAU_DEMO_PASSWORD": DEMO_PASSWORD})
    check(rc == 1 and "not empty" in err, "a second cau demo refuses (exit 1)")

    # Without the test-only variable every password is random and distinct.
    data2 = os.path.join(workdir, "demo-random")
    rc, out, err = Cau(cau_exe, ["--data-dir", data2]).run("demo", expect=0)
    pws = re.findall(r"^\S+\s+([a-z2-9]{5}-[a-z2-9]{5}-[a-z2-9]{5})\s", out, re.M)
    check(len(pws) >= 17 and len(set(pws)) == len(pws), "random demo passwords, all distinct")
    check(not any(p in err for p in pws), "no demo password on stderr")


def load_pg_fixture():
    """tests/support/pg-fixture.py as a module (its name has a dash)."""
    import importlib.util
    path = os.path.join(ROOT, "tests", "support", "pg-fixture.py")
    spec = importlib.util.spec_from_file_location("pg_fixture", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_postgres(exe, workdir):
    pg_fixture = load_pg_fixture()
    with pg_fixture.PgFixture() as server:
        uri = server.create_database("cau_cli")
        log("postgresql: %s" % uri)
        psql = [os.path.join(server.bindir, "psql"), "-h", "127.0.0.1", "-p", str(server.port),
                "-U", "postgres", "-d", "cau_cli"]
        pg_workdir = os.path.join(workdir, "pg")
        os.mkdir(pg_workdir)
        # --data-dir points at a directory that does not exist: with
        # --database nothing may be written there.
        data = os.path.join(pg_workdir, "unused-data")
        run_suite(Cau(exe, ["--database", uri, "--data-dir", data]), PostgresDb(psql),
                  pg_workdir)
        check(not os.path.exists(data), "with --database, nothing is written to the data dir")


def main():
    exe = cau_path()
    if exe is None:
        log("SKIP: cau is not built (set CAU=path or build server/cau)")
        sys.exit(SKIP)

    def _alarm(*_):
        log("FAIL: overall deadline passed")
        os._exit(1)
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(400)

    workdir = tempfile.mkdtemp(prefix="cau-cli-test-")
    rc = 1
    try:
        log("== SQLite")
        data = os.path.join(workdir, "data")
        run_suite(Cau(exe, ["--data-dir", data]), SqliteDb(os.path.join(data, "cau.db")),
                  workdir)
        log("== cau demo")
        run_demo(exe, workdir)
        log("== PostgreSQL")
        run_postgres(exe, workdir)
        rc = 0
    except TestFailure as e:
        log("FAIL: %s" % e)
    except Exception:
        log("FAIL: unexpected exception:\n" + traceback.format_exc())
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    sys.exit(rc)



if __name__ == "__main__":
    main()
