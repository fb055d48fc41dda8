#!/usr/bin/env bash
# Builds libworkflow and runs every test: the Criterion suite (public API,
# conformance definitions and executions read from ../shared at run time),
# the CLI, and downstream pkg-config / find_package builds.
#   scripts/test-all.sh            gcc, -Wall -Wextra -Werror
#   SANITIZE=1 scripts/test-all.sh clang, -fsanitize=address,undefined
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
if [ "${SANITIZE:-0}" = 1 ]; then
  BUILD=${BUILD:-build-asan}
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
        -DCMAKE_C_COMPILER=clang -DWF_SANITIZE=ON -DWF_BUILD_BENCH=OFF
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
else
  BUILD=${BUILD:-build}
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_C_COMPILER=gcc
fi
cmake --build "$BUILD"
# The JavaScript SDK v3 for the client tests (tests/test_gateway_clients.c),
# from the npm registry into the build tree; without npm those tests skip.
if command -v npm >/dev/null && [ ! -d "$BUILD/js-sdk/node_modules/@aws-sdk/client-sfn" ]; then
  timeout 300 npm install --prefix "$BUILD/js-sdk" --no-audit --no-fund \
    --loglevel=error @aws-sdk/client-sfn >/dev/null \
    || echo "test-all: npm could not install @aws-sdk/client-sfn: its tests skip"
fi
# The JavaScript SDK v2 (npm's aws-sdk), a second client for every operation
# (the 11 Debian's boto3 and AWS CLI lack among them), into its own tree.
if ! command -v npm >/dev/null; then
  echo "test-all: no npm: the JavaScript SDK tests skip"
elif [ ! -d "$BUILD/js-sdk-v2/node_modules/aws-sdk" ]; then
  timeout 300 npm install --prefix "$BUILD/js-sdk-v2" --no-audit --no-fund \
    --loglevel=error aws-sdk >/dev/null \
    || echo "test-all: npm could not install aws-sdk: its test skips"
fi
# puppeteer-core for the console's browser test (tests/console_browser.mjs,
# which drives Debian's chromium); without it that test skips.
if command -v npm >/dev/null && [ ! -d "$BUILD/browser/node_modules/puppeteer-core" ]; then
  timeout 300 npm install --prefix "$BUILD/browser" --no-audit --no-fund \
    --loglevel=error puppeteer-core >/dev/null \
    || echo "test-all: npm could not install puppeteer-core: the browser test skips"
fi
LOG="$BUILD/test-all.log"
set +e
# One ctest entry per test module; two at a time (the machine's cores).
ctest --test-dir "$BUILD" -j2 --output-on-failure -V 2>&1 | tee "$LOG"
status=${PIPESTATUS[0]}
set -e
# One closing line with the real counts: the tests of every Criterion
# module plus the other ctest entries (layers, install and export checks,
# Python bindings).
python3 - "$LOG" <<'PY'
import re, sys
text = open(sys.argv[1], errors="replace").read()
# ctest -V prefixes each line of test N with "N: "; a failing test's
# output may be printed twice: keep each module's last synthesis.
synth = {}
for n, *counts in re.findall(
        r"^(\d+): \[====\] Synthesis: Tested: (\d+) \| Passing: (\d+) \| "
        r"Failing: (\d+) \| Crashing: (\d+)", text, re.M):
    synth[n] = list(map(int, counts))
passing = sum(c[1] for c in synth.values())
failing = sum(c[2] + c[3] for c in synth.values())
results = {n: (name, r.startswith("Passed")) for n, name, r in re.findall(
    r"Test +#(\d+): (\S+) \.+\** *(\S[^\n]*?) +[\d.]+ sec", text)}
for n, (name, ok) in sorted(results.items(), key=lambda kv: int(kv[0])):
    if n in synth:
        # A Criterion runner can fail after every test passed (a sanitizer
        # report at exit): count that as a failure too.
        if not ok and not (synth[n][2] + synth[n][3]):
            failing += 1
            print(f"{name}: the test runner itself failed after its tests")
    elif ok:
        passing += 1
    else:
        failing += 1
print(f"{passing} passed, {failing} failed")
PY
exit "$status"
