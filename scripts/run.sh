#!/bin/sh
# Build and start Cầu's server: installs dependencies, sets up and builds
# ./build, then runs caud (defaults: data in ./data, HTTPS/WSS on 8443).
# Extra arguments go to caud and override the defaults, e.g.
#   scripts/run.sh --https-port 9443
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

scripts/install-deps.sh
[ -f build/build.ninja ] || meson setup build
ninja -C build

caud=build/server/caud
if [ ! -x "$caud" ]; then
    echo "run.sh: $caud was not built" >&2
    exit 1
fi
# caud's own defaults: HTTPS/WSS on 8443, media UDP 20000-20999; data in ./data.
# --demo on: an empty store gets the fictional demo network; its accounts are
# printed once on the console.
exec "$caud" --data-dir "$root/data" --demo on "$@"
