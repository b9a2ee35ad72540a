#!/bin/sh
# Browser end-to-end tests: installs node deps if missing, then runs node's test runner.
# Env: CAUD (path to caud, default ../../build/server/caud), CAU_URL (use a running
# server instead), CHROMIUM (default /usr/bin/chromium).
set -eu
cd "$(dirname "$0")"
if [ ! -d node_modules/playwright-core ]; then
  npm install --no-audit --no-fund
fi
# One file at a time: each starts its own caud and browser, and this machine has 2 cores.
exec node --test --test-concurrency=1 --test-reporter=spec "$@" ./*.test.mjs
