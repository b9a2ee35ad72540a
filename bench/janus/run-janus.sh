#!/bin/sh
# run-janus.sh [start] [options] | stop [--rundir DIR]
#
# Starts Janus 1.1.2 (Debian package `janus`) with this folder's
# configuration inside the server namespace made by bench/netns.sh, in the
# background, optionally pinned to one core, and writes its PID.  Returns once
# GET http://IP:PORT/janus/info answers (or fails after 15 s, killing it).
#
#   --cpu N          taskset -c N (the core the server under test owns)
#   --ip ADDR        HTTP API and SDP address (default 198.18.0.1)
#   --port N         HTTP API port (default 8088)
#   --netns NAME     namespace to run in (default cau-bench-srv)
#   --rundir DIR     rendered config, log and PID file (default /tmp/cau-bench-janus)
#   --pidfile PATH   where to write the PID (default RUNDIR/janus.pid)
#   --debug-level N  Janus log level 0-7 (default: janus.jcfg's 3)
#
# The configuration is copied to RUNDIR/conf and `ip`/`port` in
# janus.transport.http.jcfg are replaced with --ip/--port, so the files in the
# repository stay the single source.  `stop` kills the PID in RUNDIR's PID
# file (only that process) and waits for it to exit.
set -eu

here="$(cd "$(dirname "$0")" && pwd)"
IP=198.18.0.1
PORT=8088
NETNS=cau-bench-srv
RUNDIR=/tmp/cau-bench-janus
PIDFILE=""
CPU=""
DEBUG_LEVEL=""
ACTION=start

die() { echo "run-janus.sh: $*" >&2; exit 1; }

case "${1:-}" in
    start|stop) ACTION="$1"; shift ;;
esac
while [ $# -gt 0 ]; do
    case "$1" in
        --cpu) CPU="$2"; shift 2 ;;
        --ip) IP="$2"; shift 2 ;;
        --port) PORT="$2"; shift 2 ;;
        --netns) NETNS="$2"; shift 2 ;;
        --rundir) RUNDIR="$2"; shift 2 ;;
        --pidfile) PIDFILE="$2"; shift 2 ;;
        --debug-level) DEBUG_LEVEL="$2"; shift 2 ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) die "unknown option $1" ;;
    esac
done
[ -n "$PIDFILE" ] || PIDFILE="$RUNDIR/janus.pid"

[ "$(id -u)" -eq 0 ] || die "must run as root (ip netns exec)"

if [ "$ACTION" = stop ]; then
    [ -f "$PIDFILE" ] || { echo "run-janus.sh: no $PIDFILE; nothing to stop"; exit 0; }
    pid=$(cat "$PIDFILE")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
        if kill -0 "$pid" 2>/dev/null; then
            echo "run-janus.sh: $pid ignored SIGTERM for 10 s; SIGKILL" >&2
            kill -KILL "$pid"
        fi
    fi
    rm -f "$PIDFILE"
    echo "run-janus.sh: stopped $pid"
    exit 0
fi

command -v janus >/dev/null 2>&1 || die "janus not installed (bench/install-bench-deps.sh)"
command -v curl >/dev/null 2>&1 || die "curl not installed (bench/install-bench-deps.sh)"
ip netns list | awk '{print $1}' | grep -qx "$NETNS" || die "no namespace $NETNS (bench/netns.sh up)"
case "$PORT" in ''|*[!0-9]*) die "bad --port $PORT" ;; esac
if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    die "Janus already running as $(cat "$PIDFILE") ($PIDFILE); run-janus.sh stop first"
fi

mkdir -p "$RUNDIR/conf"
cp "$here/janus.jcfg" "$here/janus.plugin.videoroom.jcfg" "$RUNDIR/conf/"
sed -e "s/^\([[:space:]]*ip = \).*/\1\"$IP\"/" \
    -e "s/^\([[:space:]]*port = \).*/\1$PORT/" \
    "$here/janus.transport.http.jcfg" > "$RUNDIR/conf/janus.transport.http.jcfg"

set -- janus --configs-folder="$RUNDIR/conf" --interface="$IP" \
    --disable-stdout --log-file="$RUNDIR/janus.log" --debug-timestamps --disable-colors
[ -z "$DEBUG_LEVEL" ] || set -- "$@" --debug-level="$DEBUG_LEVEL"
[ -z "$CPU" ] || set -- taskset -c "$CPU" "$@"

# Each benchmark participant holds two HTTP connections and a UDP socket.
# shellcheck disable=SC3045  # dash and bash both have ulimit -n
ulimit -n 65536 2>/dev/null || ulimit -n 16384 2>/dev/null || true

: > "$RUNDIR/janus.log"
# `ip netns exec` and taskset both exec, so $! is Janus itself.
ip netns exec "$NETNS" "$@" > "$RUNDIR/janus.stdout" 2>&1 < /dev/null &
pid=$!
echo "$pid" > "$PIDFILE"

url="http://$IP:$PORT/janus/info"
i=0
while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
        rm -f "$PIDFILE"
        tail -n 20 "$RUNDIR/janus.log" "$RUNDIR/janus.stdout" >&2 || true
        die "Janus exited during start-up"
    fi
    if ip netns exec "$NETNS" curl -sf -m 1 -o /dev/null "$url"; then
        break
    fi
    i=$((i + 1))
    if [ $i -ge 150 ]; then
        kill -TERM "$pid" 2>/dev/null || true
        rm -f "$PIDFILE"
        die "no answer from $url after 15 s"
    fi
    sleep 0.1
done
echo "run-janus.sh: Janus $pid in $NETNS${CPU:+ on CPU $CPU}, API $url (log $RUNDIR/janus.log)"
