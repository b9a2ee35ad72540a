#!/usr/bin/python3
"""run.py — one benchmark scenario against caud (and Janus) in one run.

    bench/run.py --scenario fanout --step                # caud, in the namespaces
    bench/run.py --scenario fanout --step --server both  # caud, then Janus
    bench/run.py --loopback -n 20 --window 5             # caud on 127.0.0.1
    bench/run.py --smoke --loopback                      # the meson test

The server under test runs pinned to CPU 0 (taskset -c 0), cau-bench pinned to
CPU 1.  By default both run in the network namespaces of bench/netns.sh
(server 198.18.0.1, generator 198.18.0.2; created if absent, needs root);
--loopback runs both on 127.0.0.1 instead.  While cau-bench measures a window
this script samples the server's CPU time and RSS from /proc/PID; each
cau-bench JSON line gets the server's CPU % over that window, packets and
Mbit/s per server core, and RSS per subscriber.  Each line also records
the 1-minute load average: on a shared machine, other work on the two cores
shows up in the tail latency; --rt-priority P runs the server and cau-bench
(every thread) under SCHED_FIFO P so that it does not.  Prints a table, and the
caud/Janus ratios when both ran; --json-out keeps the lines.

Options after `--` go to cau-bench unchanged.  Exit status: 0, or 1 when
--smoke fails, 2 on a set-up error, 77 (skip) when caud or cau-bench is not
built.
"""

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SRV_NS, GEN_NS = "cau-bench-srv", "cau-bench-gen"
SRV_ADDR, GEN_ADDR = "198.18.0.1", "198.18.0.2"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
SKIP = 77


def raise_nofile():
    """For the children: caud holds a WebSocket and a UDP socket per
    participant, past the default soft limit of 1024 near 500 subscribers."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def log(msg):
    sys.stderr.write("run.py: %s\n" % msg)
    sys.stderr.flush()


def find_exe(env, rel):
    exe = os.environ.get(env)
    if exe and os.access(exe, os.X_OK):
        return exe
    for b in ("build-bench", "build"):
        p = os.path.join(ROOT, b, rel)
        if os.access(p, os.X_OK):
            return p
    return None


def set_realtime(pid, prio):
    """SCHED_FIFO @prio for every thread of @pid (threads started later
    inherit it).  None: leave the default policy."""
    if prio is None:
        return
    subprocess.run(["chrt", "-f", "-a", "-p", str(prio), str(pid)], check=True,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)


def free_port(addr):
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((addr, 0))
        return s.getsockname()[1]


def cores_busy_s(cpus):
    """Busy seconds (everything but idle and iowait) of each CPU in @cpus,
    from /proc/stat: the process's own CPU time misses the kernel's receive
    work in NAPI threads and softirqs, which this includes."""
    busy = {}
    with open("/proc/stat") as f:
        for line in f:
            name, *vals = line.split()
            if name.startswith("cpu") and name[3:].isdigit() and int(name[3:]) in cpus:
                v = [int(x) for x in vals]
                busy[int(name[3:])] = (sum(v[:8]) - v[3] - v[4]) / CLK_TCK
    return [busy.get(c, 0.0) for c in cpus]


class ProcSampler(threading.Thread):
    """Samples utime+stime (s) and RSS (bytes) of one PID every 0.25 s, and
    the busy time of the given CPUs (the server's and the generator's)."""

    def __init__(self, pid, cpus):
        super().__init__(daemon=True)
        self.pid = pid
        self.cpus = cpus
        self.samples = []   # (monotonic, cpu_s, rss_bytes, [busy_s per CPU])
        self.stopped = threading.Event()

    def read(self):
        try:
            with open("/proc/%d/stat" % self.pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK
            rss = int(fields[21]) * PAGE
            return time.monotonic(), cpu, rss, cores_busy_s(self.cpus)
        except (OSError, IndexError, ValueError):
            return None

    def run(self):
        while not self.stopped.wait(0.25):
            s = self.read()
            if s:
                self.samples.append(s)

    def window(self, seconds):
        """CPU %, RSS and each CPU's busy % over the last @seconds."""
        now = self.read()
        if now:
            self.samples.append(now)
        if not self.samples:
            return None, None, [None] * len(self.cpus)
        end = self.samples[-1]
        start = end
        for s in reversed(self.samples):
            start = s
            if end[0] - s[0] >= seconds:
                break
        dt = end[0] - start[0]
        cpu = 100.0 * (end[1] - start[1]) / dt if dt > 0 else None
        busy = [100.0 * (b - a) / dt if dt > 0 else None for a, b in zip(start[3], end[3])]
        return cpu, end[2], busy


def caud_help(exe):
    try:
        return subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=20,
                              stdin=subprocess.DEVNULL).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


class Server:
    """caud or Janus, pinned to CPU 0, in the server namespace or on loopback."""

    def __init__(self, kind, args):
        self.kind = kind
        self.args = args
        self.proc = None
        self.pid = None
        self.tmp = tempfile.mkdtemp(prefix="cau-bench-%s-" % kind)
        self.log_path = os.path.join(self.tmp, "%s.log" % kind)
        self.addr = "127.0.0.1" if args.loopback else SRV_ADDR
        self.url = None

    def start(self):
        if self.kind == "caud":
            self.start_caud()
        else:
            self.start_janus()
        set_realtime(self.pid, self.args.rt_priority)
        self.baseline_rss = ProcSampler(self.pid, []).read()[2]

    def start_caud(self):
        a = self.args
        # In the namespace: a port of our own (another caud or a Janus may
        # be running there for someone else's run).
        port = free_port(self.addr) if a.loopback else random.randrange(18400, 18500)
        cmd = []
        if not a.loopback:
            cmd += ["ip", "netns", "exec", SRV_NS]
        cmd += ["taskset", "-c", str(a.server_cpu), a.caud,
                "--https-port", str(port),
                "--listen-address", self.addr,
                "--data-dir", os.path.join(self.tmp, "data"),
                "--ice-addresses", self.addr,
                "--rtp-port-min", str(a.rtp_port_min),
                "--rtp-port-max", str(a.rtp_port_max),
                "--media-workers", "1",
                "--max-participants", str(a.room_limit),
                "--log-level", "warning"]
        # The one-room scenarios join as briefings (cau-bench --room-kind):
        # their viewer limit, on a caud that has one.
        if "--briefing-viewers" in caud_help(a.caud):
            cmd += ["--briefing-viewers", str(a.room_limit)]
        env = dict(os.environ)
        # Rooms without sign-in tokens (caud's setting for tests and
        # benchmarks; an environment variable, so that builds from before
        # the setting still start).
        env["CAU_ANONYMOUS_ROOMS"] = "on"
        if a.srtp_backend:
            env["CAU_SRTP_BACKEND"] = a.srtp_backend
        log("starting " + " ".join(cmd))
        out = open(self.log_path, "w")
        # ip netns exec and taskset exec the next program: the PID is caud's.
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                     stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True, preexec_fn=raise_nofile)
        self.pid = self.proc.pid
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with open(self.log_path) as f:
                if "caud listening on" in f.read():
                    self.url = "wss://%s:%d/ws" % (self.addr, port)
                    log("caud pid %d at %s" % (self.pid, self.url))
                    return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError("caud did not start; log %s" % self.log_path)

    def start_janus(self):
        a = self.args
        script = os.path.join(HERE, "janus", "run-janus.sh")
        pidfile = os.path.join(self.tmp, "janus.pid")
        port = random.randrange(18100, 18200)
        cmd = [script, "start", "--cpu", str(a.server_cpu), "--ip", self.addr,
               "--port", str(port), "--rundir", self.tmp, "--pidfile", pidfile]

        log("starting " + " ".join(cmd))
        subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL)
        with open(pidfile) as f:
            self.pid = int(f.read().strip())
        self.url = "http://%s:%d/janus" % (self.addr, port)

    def stop(self):
        if self.kind == "janus":
            subprocess.run([os.path.join(HERE, "janus", "run-janus.sh"), "stop",
                            "--rundir", self.tmp], stdin=subprocess.DEVNULL)
            return
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait(5)
        if not self.args.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)


def room_limit(extra):
    """caud's per-room participant limit for a run: 1000, or more when
    cau-bench's --steps, --count/-n or --max ask for a larger room (a
    fan-out or audio room of N subscribers has N + 1 to N + 4
    participants), up to caud's highest, 2000."""
    sizes = []
    for i, arg in enumerate(extra):
        name, _, value = arg.partition("=")
        if name in ("--steps", "--count", "-n", "--max"):
            if not value and i + 1 < len(extra):
                value = extra[i + 1]
            sizes += [int(v) for v in value.split(",") if v.strip().isdigit()]
    return min(2000, max([1000] + [n + 8 for n in sizes]))


def run_generator(server, args, extra, sampler, perf):
    """Runs cau-bench against @server; returns its JSON lines, each with the
    server's CPU and RSS over the window added."""
    a = args
    cmd = []
    if not a.loopback:
        cmd += ["ip", "netns", "exec", GEN_NS]
    # e.g. CAU_BENCH_WRAPPER="gdb -batch -ex run -ex bt --args" for a crash
    wrapper = os.environ.get("CAU_BENCH_WRAPPER", "").split()
    cmd += ["taskset", "-c", str(a.generator_cpu)] + wrapper + [a.cau_bench,
            "--server", server.kind, "--url", server.url,
            "--local-address", "127.0.0.1" if a.loopback else GEN_ADDR]
    if a.smoke:
        cmd += ["--smoke"]
    else:
        cmd += ["--scenario", a.scenario]
    cmd += extra
    log("starting " + " ".join(cmd))
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=raise_nofile)
    set_realtime(proc.pid, a.rt_priority)
    threading.Thread(target=forward_stderr, args=(proc.stderr, server, perf),
                     daemon=True).start()
    results = []
    for line in proc.stdout:
        line = line.strip()
        if not line.startswith("{"):
            continue
        r = json.loads(line)
        cpu, rss, (srv_core, gen_core) = sampler.window(r.get("window_s", 10))
        r["server_cpu_pct"] = cpu
        r["server_core_busy_pct"] = srv_core
        r["generator_core_busy_pct"] = gen_core
        r["veth_rx"] = None if a.loopback else a.veth_rx
        r["server_rss_kib"] = rss // 1024 if rss else None
        r["loadavg_1m"] = os.getloadavg()[0]
        r["rt_priority"] = a.rt_priority
        subs = max(1, r.get("receivers", 1))
        if rss:
            r["rss_per_sub_kib"] = (rss - server.baseline_rss) / 1024 / subs
        if cpu and "out_pps" in r:   # a step that could not be measured has none
            r["pps_per_core"] = r["out_pps"] / (cpu / 100.0)
            r["mbps_per_core"] = r["out_mbps"] / (cpu / 100.0)
        results.append(r)
        print_row(r, sys.stderr)
    rc = proc.wait()
    if rc != 0:
        log("cau-bench exited with status %d" % rc)
    return results, rc


def forward_stderr(stream, server, perf):
    """Copies cau-bench's progress to our stderr; starts the profile when
    the step to profile has connected (it then warms up, then measures)."""
    step = None
    for line in stream:
        sys.stderr.write(line)
        m = re.search(r"step \S+ n=(\d+)", line)
        if m:
            step = int(m.group(1))
        if perf is not None and "all connected" in line and step == perf.n:
            threading.Thread(target=perf.record, args=(server.pid,), daemon=True).start()


class Perf:
    """perf record -g of the server during the measured window of step
    --perf-at N: starts --perf-delay s (the warm-up) after that step's
    participants are connected, for --perf-seconds (keep it within the
    window)."""

    def __init__(self, n, delay, seconds, out, call_graph):
        self.n, self.delay, self.seconds, self.out = n, delay, seconds, out
        self.call_graph = call_graph

    def record(self, pid):
        time.sleep(self.delay)
        cmd = ["perf", "record", "--call-graph", self.call_graph, "-p", str(pid),
               "-o", self.out, "--", "sleep", str(self.seconds)]
        log("profiling: " + " ".join(cmd))
        subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        log("profile written to %s" % self.out)


COLUMNS = [("server", "%-6s", "server"), ("n", "%5s", "N"),
           ("loss_pct", "%7.3f", "loss%"), ("out_pps", "%8.0f", "out pps"),
           ("out_mbps", "%7.1f", "Mbit/s"), ("server_cpu_pct", "%6.1f", "CPU%"),
           ("pps_per_core", "%8.0f", "pps/core"), ("mbps_per_core", "%8.1f", "Mb/core"),
           ("lat_p50_ms", "%6.1f", "p50ms"), ("lat_p99_ms", "%6.1f", "p99ms"),
           ("relay_p50_ms", "%6.2f", "rly50"), ("relay_p99_ms", "%6.2f", "rly99"),
           ("rss_per_sub_kib", "%7.0f", "KiB/sub"), ("gen_cpu_pct", "%6.1f", "genCPU"),
           ("server_core_busy_pct", "%6.1f", "core%"), ("pass", "%5s", "pass")]


def fmt(r, key, f):
    v = r.get(key)
    if v is None:
        return ("%" + re.sub(r"[^0-9]", "", f.split(".")[0]) + "s") % "-"
    if isinstance(v, bool):
        return f % ("yes" if v else "NO")
    return f % v


def print_header(out):
    out.write(" ".join(("%" + re.sub(r"[^0-9]", "", c[1].split(".")[0]) + "s") % c[2]
                       for c in COLUMNS) + "\n")


def layers_text(r):
    """briefing: how many viewers got each layer, e.g. "l=33 m=33 h=34"
    (and per REMB class when viewers sent different ones)."""
    lay = r.get("layers")
    if not lay:
        return ""
    v = lay.get("viewers", {})
    text = " ".join("%s=%d" % (k, n) for k, n in v.items() if n or k != "none")
    if not lay.get("simulcast"):
        text += " (no simulcast)"
    groups = lay.get("by_remb", {})
    if len(groups) > 1:
        text += " |" + "".join(
            " remb %s: %s %.0f kbit/s;" % (
                k if k != "0" else "none",
                ",".join("%s=%d" % (x, n) for x, n in g.get("viewers", {}).items()),
                g.get("video_kbps", 0))
            for k, g in sorted(groups.items(), key=lambda kv: int(kv[0])))
    return text


def print_row(r, out):
    out.write(" ".join(fmt(r, k, f) for k, f, _ in COLUMNS))
    if r.get("loadavg_1m") is not None:
        out.write("  load %.1f" % r["loadavg_1m"])
    if r.get("layers"):
        out.write("  layers " + layers_text(r))
    if r.get("error"):
        out.write("  (%s)" % r["error"])
    out.write("\n")
    out.flush()


def summary(all_results, out):
    best = {}
    for r in all_results:
        s = r["server"]
        if r.get("pass"):
            if s not in best or r["n"] > best[s]["n"]:
                best[s] = r
    out.write("\np50/p99ms: publisher send -> handled in cau-bench; rly50/rly99: publisher"
              " send -> kernel receive on the subscriber's socket\n")
    out.write("\nmax N passing (loss <= limit, p99 <= limit):\n")
    for s, r in best.items():
        out.write("  %-6s N=%d  %.0f pps/core  %.1f Mbit/s per core  CPU %.1f%%  p50 %.1f ms"
                  "  p99 %.1f ms  %.0f KiB RSS/subscriber\n"
                  % (s, r["n"], r.get("pps_per_core") or 0, r.get("mbps_per_core") or 0,
                     r.get("server_cpu_pct") or 0, r["lat_p50_ms"], r["lat_p99_ms"],
                     r.get("rss_per_sub_kib") or 0))
    if "caud" in best and "janus" in best:
        c, j = best["caud"], best["janus"]
        out.write("  caud/janus: max N %.2f, pps/core %.2f\n"
                  % (c["n"] / j["n"],
                     (c.get("pps_per_core") or 0) / max(1e-9, j.get("pps_per_core") or 0)))


def netns(*argv):
    script = os.path.join(HERE, "netns.sh")
    if not os.path.exists(script):
        raise RuntimeError("bench/netns.sh is missing: use --loopback")
    subprocess.run(["sh", script] + [str(a) for a in argv], check=True,
                   stdin=subprocess.DEVNULL)


def ensure_netns(args):
    """The namespaces, with the receive mode asked for; in napi mode each
    end's NAPI thread runs on the core of the program that receives there,
    one FIFO step above the programs when they are real-time."""
    netns("up", args.veth_rx)
    if args.veth_rx == "napi":
        prio = [args.rt_priority + 1] if args.rt_priority else []
        netns("pin", args.server_cpu, args.generator_cpu, *prio)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--server", default="caud", choices=["caud", "janus", "both"])
    p.add_argument("--scenario", default="fanout",
                   choices=["fanout", "consult", "audio", "briefing"])
    p.add_argument("--loopback", action="store_true",
                   help="run on 127.0.0.1 instead of the namespaces")
    p.add_argument("--smoke", action="store_true",
                   help="1 publisher, 3 subscribers, 5 s; caud only")
    p.add_argument("--server-cpu", type=int, default=0)
    p.add_argument("--generator-cpu", type=int, default=1)
    # Not Janus's 40000-40999 (it may share the server namespace).
    p.add_argument("--rtp-port-min", type=int, default=20000)
    p.add_argument("--rtp-port-max", type=int, default=24999)
    p.add_argument("--srtp-backend", default=None,
                   help="CAU_SRTP_BACKEND for caud (e.g. libsrtp for the old path)")
    p.add_argument("--perf-at", type=int, default=None,
                   help="perf record -g the server in step N's window")
    p.add_argument("--perf-delay", type=float, default=6,
                   help="seconds from 'all connected' to the profile (warm-up + 1)")
    p.add_argument("--perf-seconds", type=float, default=8)
    p.add_argument("--perf-out", default="perf.data")
    p.add_argument("--perf-call-graph", default="fp",
                   help="perf record --call-graph: fp (caud's own frames), or "
                        "dwarf for callers inside libraries built without "
                        "frame pointers (larger files)")
    p.add_argument("--json-out", default=None, help="append the JSON lines here")
    p.add_argument("--keep", action="store_true", help="keep caud's data dir and log")
    p.add_argument("--rt-priority", type=int, default=None,
                   help="SCHED_FIFO priority for the server and cau-bench (root)")
    p.add_argument("--veth-rx", default="backlog", choices=["backlog", "napi"],
                   help="where a datagram's receiver's stack runs (netns.sh): "
                        "backlog = inside the sender's send(), the veth default "
                        "(default: the generator can then saturate the server); "
                        "napi = on the receiver's core, as on a real network "
                        "(the server's own cost per packet)")
    args, extra = p.parse_known_args()
    if extra and extra[0] == "--":
        extra = extra[1:]
    args.room_limit = room_limit(extra)

    args.caud = find_exe("CAUD", "server/caud")
    args.cau_bench = find_exe("CAU_BENCH", "bench/cau-bench")
    if not args.caud or not args.cau_bench:
        log("caud or cau-bench not built; skipping")
        return SKIP
    if args.smoke:
        args.server = "caud"
        if args.loopback:
            # A private port window, so that the smoke test does not collide
            # with another build's tests or a benchmark.
            args.rtp_port_min = random.randrange(45000, 59000, 100)
            args.rtp_port_max = args.rtp_port_min + 99
    # The smoke test must run on any machine, even with one CPU.
    if os.cpu_count() < 2:
        args.generator_cpu = args.server_cpu
    if not args.loopback:
        ensure_netns(args)

    servers = ["caud", "janus"] if args.server == "both" else [args.server]
    all_results = []
    rc_total = 0
    print_header(sys.stderr)
    for kind in servers:
        server = Server(kind, args)
        try:
            server.start()
        except (RuntimeError, subprocess.CalledProcessError) as e:
            log("%s: %s" % (kind, e))
            server.stop()
            return 2
        except BaseException:
            server.stop()     # a server started by a failed start must not linger
            raise
        sampler = ProcSampler(server.pid, [args.server_cpu, args.generator_cpu])
        sampler.start()
        perf = None
        if args.perf_at is not None and kind == "caud":
            perf = Perf(args.perf_at, args.perf_delay, args.perf_seconds, args.perf_out,
                        args.perf_call_graph)
        try:
            results, rc = run_generator(server, args, extra, sampler, perf)
            if kind == "caud" and rc != 0:
                with open(server.log_path) as f:
                    sys.stderr.write(f.read()[-5000:])
        finally:
            sampler.stopped.set()
            server.stop()
        all_results += results
        if rc != 0:
            rc_total = rc

    if args.json_out:
        with open(args.json_out, "a") as f:
            for r in all_results:
                f.write(json.dumps(r) + "\n")
    print_header(sys.stdout)
    for r in all_results:
        print_row(r, sys.stdout)
    summary(all_results, sys.stdout)
    if args.smoke:
        ok = bool(all_results) and all(r.get("pass") for r in all_results) and rc_total == 0
        print("smoke: %s" % ("ok" if ok else "FAILED"))
        return 0 if ok else 1
    return 0 if rc_total == 0 else rc_total


if __name__ == "__main__":
    sys.exit(main())
