#!/bin/sh
# Browser end-to-end tests: installs node deps if missing, then runs node's test runner.
# Env: CAUD (path to caud, default ../../build/server/caud), CAU_URL (use a running
# server instead), CHROMIUM (default /usr/bin/chromium).
set -eu
cd "$(dirname "$0")"
if [ ! -d node_modules/playwright-core ]; then
  npm install --no-audit --no-fund
fi
exec node --test --test-reporter=spec "$@" ./*.test.mjs
