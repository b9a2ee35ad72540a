"""cauharness — run the real caud and talk to it, for the integration tests.

Pieces:
  Caud          starts build/server/caud as a subprocess on loopback with a
                fresh data directory, free HTTPS port and a private RTP port
                window; waits for "caud listening on"; stops it by PID.
  Signaling     a WSS client for docs/protocol.md (asyncio + websockets).
  run_test()    common main(): skip (exit 77) when caud is not built, hard
                overall deadline, caud log dumped on failure.

The WebRTC peers live in peers_gst.py (webrtcbin) and peers_aiortc.py.
Traffic stays on 127.0.0.1 (LAB-NOTES "Traffic stays on this machine").
"""

import asyncio
import json
import os
import random
import re
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request

SKIP = 77


class TestFailure(AssertionError):
    pass


def check(cond, what):
    if not cond:
        raise TestFailure(what)
    log("ok: " + what)


def log(msg):
    sys.stdout.write("[%7.2f] %s\n" % (time.monotonic() - _T0, msg))
    sys.stdout.flush()


_T0 = time.monotonic()


def free_tcp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_udp_window(size=40):
    """A window of @size UDP ports on 127.0.0.1 that are free right now.

    Random base so that tests of several builds (build, build-asan) running
    at once are unlikely to collide."""
    for _ in range(200):
        base = random.randrange(30000, 60000 - size, 2)
        socks = []
        try:
            for p in range(base, base + size):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return base, base + size - 1
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free UDP port window")


def insecure_ssl():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


# --------------------------------------------------------------------------
# caud


def caud_path():
    exe = os.environ.get("CAUD")
    if exe and os.access(exe, os.X_OK):
        return exe
    here = os.path.dirname(os.path.abspath(__file__))
    for b in ("build", "build-int"):
        p = os.path.join(here, "..", "..", b, "server", "caud")
        if not exe and os.access(p, os.X_OK):
            return os.path.abspath(p)
    return None


# Each setting: the flag names we accept, first match in `caud --help` wins
# (the server's option names were not final when these tests were written).
_FLAG_CANDIDATES = {
    "https_port": ["--https-port", "--port", "--listen-port"],
    "data_dir": ["--data-dir", "--data", "--datadir"],
    "listen_address": ["--listen-address", "--listen", "--bind"],
    "ice_addresses": ["--ice-addresses", "--ice-address", "--ice-addrs"],
    "rtp_port_min": ["--rtp-port-min", "--port-min", "--media-port-min", "--udp-port-min"],
    "rtp_port_max": ["--rtp-port-max", "--port-max", "--media-port-max", "--udp-port-max"],
}


_OPTIONAL_FLAGS = {"listen_address"}


def _resolve_flags(exe):
    try:
        out = subprocess.run([exe, "--help"], capture_output=True, text=True,
                             timeout=20, stdin=subprocess.DEVNULL)
        text = out.stdout + out.stderr
    except Exception:
        text = ""
    flags = {}
    for key, names in _FLAG_CANDIDATES.items():
        flags[key] = None if key in _OPTIONAL_FLAGS else names[0]
        for n in names:
            if re.search(re.escape(n) + r"(?![A-Za-z0-9-])", text):
                flags[key] = n
                break
    return flags, text


class Caud:
    """One caud process.  Use as a context manager.  run_test() checks every
    instance a test made (Caud.instances) for a crash when the test ends."""

    instances = []

    def __init__(self, exe=None, extra_args=(), env=None):
        self.exe = exe or caud_path()
        self.extra_args = list(extra_args)
        self.env = env
        self.proc = None
        self.port = None
        self.tmp = None
        self.log_path = None
        self.lines = []
        self._listening = threading.Event()
        self.crashed = None
        self._stopped = False
        Caud.instances.append(self)

    # -- lifecycle
    def start(self, timeout=30):
        flags, _ = _resolve_flags(self.exe)
        self.tmp = tempfile.mkdtemp(prefix="cau-it-")
        self.port = free_tcp_port()
        self.rtp_min, self.rtp_max = free_udp_window()
        data = os.path.join(self.tmp, "data")
        os.makedirs(data)
        args = [self.exe,
                flags["https_port"], str(self.port),
                flags["data_dir"], data,
                flags["ice_addresses"], "127.0.0.1",
                flags["rtp_port_min"], str(self.rtp_min),
                flags["rtp_port_max"], str(self.rtp_max)]
        if flags["listen_address"]:
            args += [flags["listen_address"], "127.0.0.1"]
        args += self.extra_args
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=0")
        # The relay tests use plain rooms without sign-in; consultation
        # rooms keep needing a token whatever this says.
        env.setdefault("CAU_ANONYMOUS_ROOMS", "on")
        if self.env:
            env.update(self.env)
        self.log_path = os.path.join(self.tmp, "caud.log")
        log("starting: " + " ".join(args))
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=env,
                                     cwd=self.tmp, start_new_session=True)
        threading.Thread(target=self._reader, daemon=True).start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._listening.wait(0.1):
                log("caud pid %d listening on port %d (rtp %d-%d)"
                    % (self.proc.pid, self.port, self.rtp_min, self.rtp_max))
                return self
            if self.proc.poll() is not None:
                break
        self.dump_log()
        raise TestFailure("caud did not print 'caud listening on' within %ds (exit %r)"
                          % (timeout, self.proc.poll()))

    def _reader(self):
        with open(self.log_path, "w", errors="replace") as f:
            for raw in self.proc.stdout:
                line = raw.decode("utf-8", "replace")
                self.lines.append(line)
                f.write(line)
                f.flush()
                if "caud listening on" in line:
                    self._listening.set()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """SIGTERM, then SIGKILL after 10 s, by PID.  Records a crash
        (signal exit, sanitizer report, or a status other than 0 after our
        SIGTERM: caud's shutdown must be clean) in self.crashed."""
        terminated = False
        if self.proc is None or self._stopped:
            return
        self._stopped = True
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
                terminated = True
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                log("caud ignored SIGTERM for 10 s; killing")
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
            except ProcessLookupError:
                pass
        rc = self.proc.returncode
        text = "".join(self.lines)
        if rc is not None and rc < 0 and rc != -signal.SIGTERM and rc != -signal.SIGKILL:
            self.crashed = "caud died with signal %d" % -rc
        elif terminated and rc is not None and rc > 0:
            # A sanitizer that writes its report elsewhere (log_path) exits 1.
            self.crashed = "caud exited with status %d after SIGTERM" % rc
        elif "ERROR: AddressSanitizer" in text or "runtime error:" in text:
            self.crashed = "sanitizer report in caud log"
        else:
            # A GLib critical is a broken precondition in caud: fail on it
            # (the log says when, so shutdown-only criticals are easy to see).
            crit = [l.strip() for l in self.lines if "-CRITICAL **" in l]
            if crit:
                self.crashed = "GLib critical(s) in caud log: %s" % crit[:3]
        log("caud stopped, exit %r" % rc)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def dump_log(self, last=200):
        sys.stdout.write("----- caud log (last %d lines of %s) -----\n"
                         % (last, self.log_path))
        sys.stdout.write("".join(self.lines[-last:]))
        sys.stdout.write("----- end caud log -----\n")

    # -- HTTP
    @property
    def ws_url(self):
        return "wss://127.0.0.1:%d/ws" % self.port

    def http_get(self, path, timeout=5):
        req = urllib.request.Request("https://127.0.0.1:%d%s" % (self.port, path))
        with urllib.request.urlopen(req, context=insecure_ssl(), timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")

    def metrics(self):
        """/metrics as {'name{labels}': value}."""
        _, text = self.http_get("/metrics")
        out = {}
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            m = re.match(r"^(\S+?(?:\{[^}]*\})?)\s+(\S+)", line)
            if m:
                try:
                    out[m.group(1)] = float(m.group(2))
                except ValueError:
                    pass
        return out


def sum_metrics(metrics, pattern):
    rx = re.compile(pattern)
    return sum(v for k, v in metrics.items() if rx.search(k))


# --------------------------------------------------------------------------
# signaling


class Signaling:
    """A WSS client of docs/protocol.md.  Every received message is queued;
    wait_for() picks the first that matches, request() sends with an id and
    waits for the reply (or error) carrying it back as ref."""

    def __init__(self, url, name="peer"):
        self.url = url
        self.name = name
        self.ws = None
        self.received = []      # every message, in order
        self._pending = []      # not yet consumed by wait_for
        self._cond = None
        self._task = None
        self._next_id = 1
        self.closed = None      # (code, reason) once closed
        self.participant = None
        self.handlers = {}      # type -> async callable(msg), consumes the message

    async def connect(self, max_size=None):
        import websockets
        self._cond = asyncio.Condition()
        self.ws = await websockets.connect(self.url, ssl=insecure_ssl(),
                                           max_size=max_size, open_timeout=10,
                                           ping_interval=None)
        self._task = asyncio.get_running_loop().create_task(self._reader())
        return self

    async def _reader(self):
        import websockets
        try:
            async for raw in self.ws:
                try:
                    msg = json.loads(raw)
                except ValueError:
                    msg = {"type": "<not-json>", "raw": raw}
                self.received.append(msg)
                t = msg.get("type") if isinstance(msg, dict) else None
                if t != "trickle":
                    log("%s <- %s" % (self.name, _short(msg)))
                h = self.handlers.get(t)
                if h is not None:
                    asyncio.get_running_loop().create_task(_guard(h(msg), self.name))
                    continue
                async with self._cond:
                    self._pending.append(msg)
                    self._cond.notify_all()
        except websockets.ConnectionClosed:
            pass
        finally:
            self.closed = (self.ws.close_code, self.ws.close_reason)
            log("%s socket closed: %r" % (self.name, self.closed))
            async with self._cond:
                self._cond.notify_all()

    async def send(self, msg):
        if isinstance(msg, (dict, list)):
            text = json.dumps(msg)
        else:
            text = msg
        if not (isinstance(msg, dict) and msg.get("type") == "trickle"):
            log("%s -> %s" % (self.name, _short(msg)))
        import websockets
        try:
            await self.ws.send(text)
        except websockets.ConnectionClosed:
            # the reply wait (if any) reports the closed socket
            log("%s: not sent, socket closed" % self.name)

    async def wait_for(self, pred, timeout=10, what=None):
        if isinstance(pred, str):
            typ = pred
            pred = lambda m: isinstance(m, dict) and m.get("type") == typ
            what = what or typ
        deadline = asyncio.get_running_loop().time() + timeout

        async def _wait():
            async with self._cond:
                while True:
                    for i, m in enumerate(self._pending):
                        if pred(m):
                            del self._pending[i]
                            return m
                    if self.closed is not None:
                        return None
                    await self._cond.wait()
        try:
            m = await asyncio.wait_for(_wait(), max(0.0, deadline - asyncio.get_running_loop().time()))
        except asyncio.TimeoutError:
            m = None
        if m is None:
            raise TestFailure("%s: no %s within %ss (closed=%r; last messages: %s)"
                              % (self.name, what or "matching message", timeout,
                                 self.closed, [_short(x) for x in self.received[-5:]]))
        return m

    async def request(self, msg, timeout=10):
        """Sends @msg with a fresh id; returns the reply or error with that ref."""
        mid = self._next_id
        self._next_id += 1
        msg = dict(msg, id=mid)
        await self.send(msg)
        return await self.wait_for(lambda m: isinstance(m, dict) and m.get("ref") == mid,
                                   timeout, what="reply to %s #%d" % (msg.get("type"), mid))

    async def join(self, room, name=None):
        r = await self.request({"type": "join", "room": room, "name": name or self.name})
        if r.get("type") != "joined":
            raise TestFailure("%s: join refused: %s" % (self.name, r))
        self.participant = r.get("participant")
        return r

    async def close(self):
        if self._task:
            try:
                await asyncio.wait_for(self.ws.close(), 5)
            except Exception:
                pass
            try:
                await asyncio.wait_for(self._task, 5)
            except Exception:
                pass


async def _guard(coro, name):
    try:
        await coro
    except Exception:
        log("%s: handler failed:\n%s" % (name, traceback.format_exc()))


def _short(msg, n=300):
    if isinstance(msg, dict) and isinstance(msg.get("sdp"), str):
        msg = dict(msg, sdp="<sdp %d bytes>" % len(msg["sdp"]))
    s = msg if isinstance(msg, str) else json.dumps(msg, ensure_ascii=False)
    return s if len(s) <= n else s[:n] + "...(%d bytes)" % len(s)


def sdp_candidates(sdp):
    """[(ip, port, typ, transport)] of the a=candidate lines in @sdp."""
    out = []
    for line in sdp.splitlines():
        if line.startswith("a=candidate:"):
            f = line[len("a=candidate:"):].split()
            if len(f) >= 8:
                out.append((f[4], int(f[5]), f[7], f[2].lower()))
    return out


def candidate_addr(cand):
    """(ip, port) of a 'candidate:...' string, or None."""
    if not cand:
        return None
    c = cand[2:] if cand.startswith("a=") else cand
    f = c.split()
    if len(f) >= 6:
        try:
            return f[4], int(f[5])
        except ValueError:
            return None
    return None


# --------------------------------------------------------------------------
# common main


def run_test(coro_fn, needs_caud=True, deadline=150, caud_args=()):
    """Runs async coro_fn(caud) (caud is None when not needed) under a hard
    deadline; exit 0 pass, 1 fail, 77 skip.  @caud_args: extra caud flags."""
    caud = None
    if needs_caud:
        exe = caud_path()
        if exe is None:
            log("SKIP: caud is not built (set CAUD=path or build server/caud)")
            sys.exit(SKIP)

    def _alarm(*_):
        log("FAIL: overall deadline of %ds passed" % deadline)
        if caud is not None:
            caud.dump_log()
            try:
                caud.stop()
            except Exception:
                pass
        os._exit(1)

    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(deadline)
    rc = 1
    try:
        if needs_caud:
            caud = Caud(extra_args=caud_args)
            caud.start()
        asyncio.run(coro_fn(caud))
        rc = 0
    except TestFailure as e:
        log("FAIL: %s" % e)
    except Exception:
        log("FAIL: unexpected exception:\n" + traceback.format_exc())
    finally:
        for c in Caud.instances:
            c.stop()
            if c.crashed:
                log("FAIL: %s" % c.crashed)
                rc = 1
                if c is not caud:
                    c.dump_log()
        if caud is not None and rc != 0:
            caud.dump_log()
    signal.alarm(0)
    log("PASS" if rc == 0 else "test failed")
    sys.stdout.flush()
    # GStreamer / aiortc threads may linger; leave without waiting for them.
    os._exit(rc)
