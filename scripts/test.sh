#!/bin/sh
# Runs every test of Cầu: installs dependencies, sets up and builds ./build,
# runs `meson test` (unit, fuzz corpus replay, integration), then the browser
# tests (tests/browser/run.sh) when present.
#
#   scripts/test.sh              the above
#   scripts/test.sh --sanitize   also builds ./build-asan with ASan+UBSan and
#                                runs the unit, fuzz and integration suites
#                                there (LeakSanitizer on: caud, the harnesses
#                                and the unit tests must exit without a leak),
#                                then the browser tests once more against
#                                build-asan's caud and cau
#
# The last line printed is the summary, "N passed, N failed" (", N skipped"
# when some were skipped), summed over meson's results (meson-logs/
# testlog.json) and node's test summary (# pass / # fail / # skipped).
# Exit status is non-zero when anything failed, including a build.
# Works without a terminal or stdin (CI=true).
set -u
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root" || exit 1

sanitize=0
for arg in "$@"; do
    case "$arg" in
        --sanitize) sanitize=1 ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) echo "test.sh: unknown argument $arg" >&2; exit 2 ;;
    esac
done

PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
export CI="${CI:-true}"
export MESON_TESTTHREADS="${MESON_TESTTHREADS:-$(nproc 2>/dev/null || echo 2)}"

passed=0
failed=0
skipped=0
status=0
notes=""

note() {
    notes="$notes
test.sh: $*"
    echo "test.sh: $*"
}

# Adds the counts of one meson testlog.json to the totals.
count_meson() {
    log="$1"
    if [ ! -f "$log" ]; then
        note "no $log (meson test did not run)"
        failed=$((failed + 1))
        return
    fi
    counts="$("$PY" - "$log" <<'PYEOF'
import json, sys
p = f = s = 0
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    line = line.strip()
    if not line:
        continue
    try:
        r = json.loads(line).get("result")
    except ValueError:
        continue
    if r in ("OK", "EXPECTEDFAIL"):
        p += 1
    elif r == "SKIP":
        s += 1
    else:           # FAIL, TIMEOUT, ERROR, UNEXPECTEDPASS, INTERRUPT
        f += 1
print(p, f, s)
PYEOF
)" || counts="0 1 0"
    set -- $counts
    passed=$((passed + $1))
    failed=$((failed + $2))
    skipped=$((skipped + $3))
}

# setup_and_build DIR [meson setup options...]
setup_and_build() {
    dir="$1"
    shift
    if [ ! -f "$dir/build.ninja" ]; then
        meson setup "$dir" "$@" || return 1
    fi
    ninja -C "$dir"
}

if ! scripts/install-deps.sh </dev/null; then
    note "install-deps.sh failed"
    status=1
fi

# --- normal build: every suite
if setup_and_build build </dev/null; then
    rm -f build/meson-logs/testlog.json
    meson test -C build --print-errorlogs </dev/null || status=1
    count_meson build/meson-logs/testlog.json
else
    note "build failed"
    failed=$((failed + 1))
    status=1
fi

# --- ASan + UBSan: unit, fuzz-replay and integration suites (STYLE.md §13).
# The integration tests start the sanitized caud and harnesses; a report
# aborts them (abort_on_error), which the tests count as a crash.
if [ "$sanitize" = 1 ]; then
    export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:fast_unwind_on_malloc=0:abort_on_error=1:strict_string_checks=1}"
    export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
    export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$root/tests/lsan.supp:print_suppressions=0}"
    # GLib's slice allocator and type system keep memory for the process
    # lifetime; leak reports about it are noise.
    export G_SLICE=always-malloc
    if setup_and_build build-asan -Db_sanitize=address,undefined -Db_lundef=false \
            -Dbuildtype=debug </dev/null; then
        rm -f build-asan/meson-logs/testlog.json
        # Sanitized debug code runs several times slower than debugoptimized.
        meson test -C build-asan --print-errorlogs --timeout-multiplier 4 \
            --suite unit --suite fuzz --suite integration </dev/null || status=1
        count_meson build-asan/meson-logs/testlog.json
    else
        note "sanitizer build failed"
        failed=$((failed + 1))
        status=1
    fi
fi

# run_browser LABEL: runs tests/browser/run.sh (with the caller's CAUD/CAU)
# and adds node's counts to the totals.
run_browser() {
    label="$1"
    blog="$(mktemp)"
    # Bounded: a hung browser must not hang CI (node --test has no default
    # timeout).  timeout(1) kills the whole process group it started.
    timeout -k 10 "${BROWSER_TEST_TIMEOUT:-1500}" sh tests/browser/run.sh </dev/null >"$blog" 2>&1
    brc=$?
    [ "$brc" -eq 124 ] && note "$label: browser tests timed out after ${BROWSER_TEST_TIMEOUT:-1500}s"
    cat "$blog"
    # node's TAP reporter prints "# pass N", the spec reporter "ℹ pass N";
    # colours stripped in case the reporter thinks it has a terminal.
    summary_of() {
        sed 's/\x1b\[[0-9;]*m//g' "$blog" | sed -n "s/^\(#\|ℹ\) $1 \([0-9][0-9]*\)\$/\2/p" | tail -n 1
    }
    bp="$(summary_of pass)"
    bf="$(summary_of fail)"
    bs="$(summary_of skipped)"
    rm -f "$blog"
    passed=$((passed + ${bp:-0}))
    failed=$((failed + ${bf:-0}))
    skipped=$((skipped + ${bs:-0}))
    if [ "$brc" -ne 0 ]; then
        status=1
        # A failing before/after hook (caud's start, or its exit status at
        # stop) fails node's run without counting a failed test.
        if [ "${bf:-0}" -eq 0 ]; then
            note "$label: tests/browser/run.sh exited $brc without reporting a failing test (a hook failed: see above)"
            failed=$((failed + 1))
        fi
    fi
}

# --- browser tests (node's test runner prints "# pass N" / "# fail N")
if [ -f tests/browser/run.sh ]; then
    run_browser "browser"
    # The same against the sanitized caud and cau: the harness checks that
    # caud exits 0 after SIGTERM, so a sanitizer's report (abort, or a leak
    # at exit) fails the file that started it.
    if [ "$sanitize" = 1 ] && [ -x build-asan/server/caud ]; then
        echo "test.sh: browser tests against build-asan's caud"
        CAUD="$root/build-asan/server/caud"
        CAU="$root/build-asan/server/cau"
        export CAUD CAU
        run_browser "browser (ASan caud)"
        unset CAUD CAU
    fi
else
    note "tests/browser/run.sh not present; browser tests not run"
fi

[ "$failed" -gt 0 ] && status=1
[ -n "$notes" ] && printf '%s\n' "$notes" | sed '/^$/d'
summary="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
exit "$status"
