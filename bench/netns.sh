#!/bin/sh
# netns.sh up [backlog|napi] | pin SRV_CPU GEN_CPU [PRIO] | down | status
# — the two network namespaces the benchmark runs in.
#
#   cau-bench-srv: cau-srv0 198.18.0.1/24   the server under test (caud or Janus)
#   cau-bench-gen: cau-gen0 198.18.0.2/24   the load generator (cau-bench)
#
# joined by one veth pair and by nothing else: no default route, no bridge to
# the host's interfaces, so nothing either side sends can leave the machine.
# Janus's libnice gathers no loopback candidate (shared/LAB-NOTES.md), which is
# why the servers are not simply run on 127.0.0.1; caud runs here the same way
# so that both see the same network path.  198.18.0.0/15 is the RFC 2544
# benchmarking range.
#
# Inside each namespace (never on the host) it also sets:
#   net.ipv6.conf.{all,default}.disable_ipv6=1   no link-local addresses, DAD
#       or router solicitations: IPv4 on the veth is the only path.
#   Nothing for UDP socket buffers, deliberately: on this kernel (6.18) a new
#       namespace gets read-only copies of the host's net.core.{r,w}mem_{max,
#       default} taken when it is created (root inside cannot write them:
#       EACCES), and on older kernels they are host-wide.  Raising them
#       would mean changing the host, which the benchmark must not do.
#       "status" prints the values in force; both servers and the generator
#       see the same ones, so the comparison stays fair.  A program that wants
#       more than rmem_default must ask with SO_RCVBUF (capped at rmem_max).
#   veth MTU 1500 on both ends (the veth default, set explicitly so that
#       a changed default cannot shrink RTP packets' room).
#
# Where the receiving side's network stack runs ("up backlog", the default,
# or "up napi"):
#   By default a veth runs the *receiver's* IP/UDP stack inside the sender's
#   send() call, on the sender's core (netif_rx -> backlog -> softirq on
#   return).  Then the server's core pays for the generator's receive work:
#   in caud's profile at N = 320, 25 % of its samples were the generator's
#   UDP receive, which on a real network runs on another machine.  "napi"
#   turns on GRO (+ rx-udp-gro-forwarding, without which veth skips NAPI for
#   UDP from a device with TSO) and threaded NAPI on both ends: a datagram
#   sent into the pair now waits in the peer's ring and is received by a
#   kernel thread napi/<ifname>-<id>, which "pin" moves to the receiving
#   side's core, the way a NIC's receive work runs on the receiving host.
#   A pfifo qdisc (10000 packets) on each end gives the sender backpressure
#   when the ring (256) is full instead of a drop (veth stops its queue on a
#   full ring since Linux 6.16; on older kernels the drop is counted in
#   "ip -s link" as TX dropped).  Not a UDP GRO: the sockets do not ask for
#   it, so datagrams reach them one by one, as before.  "backlog" is the
#   veth default (everything off).  It stays the default because with
#   "napi" the generator's core carries the kernel's receive work for every
#   fanned-out datagram and can no longer saturate the server's core
#   (docs/performance.md, step 6); "napi" measures the server's own cost.
#   Needs ethtool and tc.
#   pin SRV_CPU GEN_CPU [PRIO] pins each end's NAPI thread to the core of the
#   program that receives on it, under SCHED_FIFO PRIO when given (the
#   benchmark passes its --rt-priority + 1, so that receive work preempts
#   the programs as a softirq would).
#
# Idempotent: "up" on an existing, complete setup changes nothing; a half-made
# one (e.g. after a crash) is completed.  "down" removes both namespaces (the
# veth pair goes with them) and kills nothing: stop the servers first.
set -eu

SRV_NS=cau-bench-srv
GEN_NS=cau-bench-gen
SRV_IF=cau-srv0
GEN_IF=cau-gen0
SRV_ADDR=198.18.0.1/24
GEN_ADDR=198.18.0.2/24
MTU=1500
# napi mode: receive-interrupt moderation, as a NIC's rx-usecs (see below)
NAPI_DEFER_NS=${NAPI_DEFER_NS:-20000}

die() { echo "netns.sh: $*" >&2; exit 1; }

preflight() {
    [ "$(id -u)" -eq 0 ] || die "must run as root (creates network namespaces)"
    command -v ip >/dev/null 2>&1 || die "'ip' not found (apt-get install iproute2)"
}

ns_exists() { ip netns list | awk '{print $1}' | grep -qx "$1"; }

in_ns() { ns="$1"; shift; ip netns exec "$ns" "$@"; }

# Sets a sysctl inside namespace $1 (only per-namespace keys are used here).
ns_sysctl() {
    ns="$1" key="$2" value="$3"
    file="/proc/sys/$(echo "$key" | tr . /)"
    in_ns "$ns" test -w "$file" || die "$key is not writable inside $ns"
    in_ns "$ns" sh -c "echo $value > $file"
}

setup_ns() {
    ns="$1" ifname="$2" addr="$3"
    in_ns "$ns" ip link set lo up
    ns_sysctl "$ns" net.ipv6.conf.all.disable_ipv6 1
    ns_sysctl "$ns" net.ipv6.conf.default.disable_ipv6 1
    in_ns "$ns" ip link set "$ifname" mtu "$MTU"
    if ! in_ns "$ns" ip -4 -o addr show dev "$ifname" | grep -q " ${addr} "; then
        in_ns "$ns" ip addr flush dev "$ifname"
        in_ns "$ns" ip addr add "$addr" dev "$ifname"
    fi
    in_ns "$ns" ip link set "$ifname" up
}

# veth_rx IF MODE: see "Where the receiving side's network stack runs".
veth_rx() {
    ns="$1" ifname="$2" mode="$3"
    if [ "$mode" = napi ]; then
        command -v ethtool >/dev/null 2>&1 || die "'ethtool' not found (bench/install-bench-deps.sh)"
        in_ns "$ns" ethtool -K "$ifname" gro on rx-udp-gro-forwarding on
        in_ns "$ns" sh -c "echo 1 > /sys/class/net/$ifname/threaded"
        in_ns "$ns" sh -c "echo $NAPI_DEFER_NS > /sys/class/net/$ifname/gro_flush_timeout"
        in_ns "$ns" sh -c "echo 2 > /sys/class/net/$ifname/napi_defer_hard_irqs"
        in_ns "$ns" tc qdisc replace dev "$ifname" root pfifo limit 10000
    else
        in_ns "$ns" sh -c "echo 0 > /sys/class/net/$ifname/threaded" 2>/dev/null || true
        in_ns "$ns" sh -c "echo 0 > /sys/class/net/$ifname/gro_flush_timeout"
        in_ns "$ns" sh -c "echo 0 > /sys/class/net/$ifname/napi_defer_hard_irqs"
        if command -v ethtool >/dev/null 2>&1; then
            in_ns "$ns" ethtool -K "$ifname" gro off rx-udp-gro-forwarding off
        fi
        in_ns "$ns" tc qdisc del dev "$ifname" root 2>/dev/null || true
    fi
}

# The NAPI threads of interface $1 (kernel threads named napi/<ifname>-<id>).
napi_threads() { pgrep -x "napi/$1-[0-9]*" || true; }

pin() {
    [ $# -ge 2 ] || die "usage: $0 pin SRV_CPU GEN_CPU [PRIO]"
    for spec in "$SRV_IF:$1" "$GEN_IF:$2"; do
        ifname="${spec%%:*}" cpu="${spec##*:}"
        pids=$(napi_threads "$ifname")
        [ -n "$pids" ] || die "no NAPI thread for $ifname (run: $0 up napi)"
        for pid in $pids; do
            taskset -pc "$cpu" "$pid" >/dev/null
            if [ -n "${3:-}" ]; then chrt -f -p "$3" "$pid"; fi
        done
    done
    echo "netns.sh: NAPI threads: $SRV_IF on CPU $1, $GEN_IF on CPU $2${3:+, SCHED_FIFO $3}"
}

up() {
    mode="${1:-backlog}"
    case "$mode" in napi|backlog) ;; *) die "up: mode must be napi or backlog" ;; esac
    ns_exists "$SRV_NS" || ip netns add "$SRV_NS"
    ns_exists "$GEN_NS" || ip netns add "$GEN_NS"
    # Both ends are created directly inside their namespaces: the pair never
    # appears on the host.  A half-made pair is removed first.
    if ! in_ns "$SRV_NS" ip link show "$SRV_IF" >/dev/null 2>&1 ||
       ! in_ns "$GEN_NS" ip link show "$GEN_IF" >/dev/null 2>&1; then
        in_ns "$SRV_NS" ip link del "$SRV_IF" 2>/dev/null || true
        in_ns "$GEN_NS" ip link del "$GEN_IF" 2>/dev/null || true
        ip link add "$SRV_IF" netns "$SRV_NS" mtu "$MTU" type veth \
            peer name "$GEN_IF" netns "$GEN_NS" mtu "$MTU"
    fi
    setup_ns "$SRV_NS" "$SRV_IF" "$SRV_ADDR"
    setup_ns "$GEN_NS" "$GEN_IF" "$GEN_ADDR"
    veth_rx "$SRV_NS" "$SRV_IF" "$mode"
    veth_rx "$GEN_NS" "$GEN_IF" "$mode"
    # Fail loudly now rather than as an ICE timeout later (ping is in
    # iputils-ping, which install-bench-deps.sh installs; without it only the
    # route is checked).
    if command -v ping >/dev/null 2>&1; then
        in_ns "$GEN_NS" ping -c 1 -W 2 "${SRV_ADDR%/*}" >/dev/null 2>&1 ||
            die "no ping from $GEN_NS to ${SRV_ADDR%/*}"
    else
        in_ns "$GEN_NS" ip route get "${SRV_ADDR%/*}" | grep -q "dev $GEN_IF" ||
            die "no route from $GEN_NS to ${SRV_ADDR%/*}"
    fi
    echo "netns.sh: up ($mode): $SRV_NS ($SRV_IF ${SRV_ADDR}) <-> $GEN_NS ($GEN_IF ${GEN_ADDR})"
}

down() {
    for ns in "$SRV_NS" "$GEN_NS"; do
        if ns_exists "$ns"; then
            pids=$(ip netns pids "$ns" 2>/dev/null || true)
            [ -z "$pids" ] || echo "netns.sh: warning: processes still in $ns: $pids" >&2
            ip netns del "$ns"
        fi
    done
    echo "netns.sh: down"
}

status() {
    rc=0
    for ns in "$SRV_NS" "$GEN_NS"; do
        if ns_exists "$ns"; then
            echo "== $ns"
            in_ns "$ns" ip -br addr
            in_ns "$ns" ip route
            in_ns "$ns" tc qdisc show
            ifname=$SRV_IF; [ "$ns" = "$SRV_NS" ] || ifname=$GEN_IF
            echo "$ifname threaded NAPI: $(in_ns "$ns" cat "/sys/class/net/$ifname/threaded")" \
                "thread(s): $(napi_threads "$ifname" | tr '\n' ' ')"
            for k in rmem_max wmem_max rmem_default wmem_default; do
                f=/proc/sys/net/core/$k
                if in_ns "$ns" test -e "$f"; then
                    printf 'net.core.%s = %s\n' "$k" "$(in_ns "$ns" cat "$f")"
                fi
            done
            pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')
            echo "pids: ${pids:-none}"
        else
            echo "== $ns: absent"
            rc=1
        fi
    done
    return $rc
}

preflight
case "${1:-}" in
    up) shift; up "$@" ;;
    pin) shift; pin "$@" ;;
    down) down ;;
    status) status ;;
    *) echo "usage: $0 up [backlog|napi] | pin SRV_CPU GEN_CPU [PRIO] | down | status" >&2; exit 2 ;;
esac
