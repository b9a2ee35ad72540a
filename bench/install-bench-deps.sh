#!/bin/sh
# Installs what the benchmark needs on top of scripts/install-deps.sh, on
# Debian 12.  Kept apart because Janus is only a point of comparison: caud's
# build and tests never need it.  Idempotent: skips apt when every package is
# already installed.  The bench runner calls it before bench/netns.sh up.
#
#   janus           Janus 1.1.2, the SFU caud is compared with (bench/janus/)
#   curl            readiness probe for Janus's HTTP API (run-janus.sh)
#   iproute2        ip netns, veth, tc (bench/netns.sh)
#   ethtool         GRO on the veth ends, for threaded NAPI (netns.sh up napi)
#   iputils-ping    netns.sh's reachability check
#   util-linux      taskset (pinning server and generator to their cores)
#   linux-perf      CPU profiles of the server under test
#   nftables        packet counters / loss in the namespaces
#   sysstat         pidstat: per-process CPU while a scenario runs
#   libsoup-3.0-dev, libjansson-dev   cau-bench's Janus back end (HTTP API)
#   liburing-dev    bench/udp-cost's io_uring modes (optional: without it at
#                   meson setup time, udp-cost has the other modes only)
#
# Installing `janus` enables a systemd unit (janus.service) that would listen
# on the host's interfaces; the unit is stopped and disabled here, because
# the benchmark starts its own Janus inside a namespace (run-janus.sh).
set -eu

PACKAGES="janus curl iproute2 ethtool iputils-ping util-linux linux-perf nftables sysstat
libsoup-3.0-dev libjansson-dev liburing-dev"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
if [ -n "$missing" ]; then
    echo "install-bench-deps: installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -q
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -q --no-install-recommends $missing
fi

# The packaged service must not run: it would bind 0.0.0.0:8088 on the host.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now janus.service >/dev/null 2>&1 || true
fi
