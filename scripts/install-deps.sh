#!/bin/sh
# Installs everything Cầu needs to build, run and test on Debian 12.
# Idempotent: skips apt when every package is already installed.
set -eu

PACKAGES="build-essential meson ninja-build pkg-config clang
libglib2.0-dev libnice-dev libssl-dev libsrtp2-dev libjansson-dev
libsoup-3.0-dev glib-networking libsqlite3-dev libpq-dev postgresql libargon2-dev
libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
gstreamer1.0-plugins-bad gstreamer1.0-nice
python3 python3-gi python3-gst-1.0 gir1.2-gst-plugins-bad-1.0 gir1.2-gst-plugins-base-1.0 gir1.2-nice-0.1
python3-aiortc python3-websockets
chromium chromium-driver openssl ca-certificates
iproute2 nftables
python3-matplotlib"
# Node.js and npm: the machine's own when present (Debian's nodejs conflicts with it).
command -v npm >/dev/null 2>&1 || PACKAGES="$PACKAGES nodejs npm"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -n "$missing" ]; then
    echo "install-deps: installing:$missing"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -q
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -q --no-install-recommends $missing
fi

# Browser test driver (playwright-core drives Debian's /usr/bin/chromium; it downloads no browser).
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ ! -d "$root/tests/browser/node_modules/playwright-core" ]; then
    (cd "$root/tests/browser" && npm install --no-audit --no-fund --silent)
fi
