#!/usr/bin/env bash
# Runs the core test modules (definitions, engine, paths, choice,
# intrinsics, YAML, Parallel/Map, the stores, durable executions,
# evaluation limits, failing allocations, JSONata states) under
# valgrind memcheck: no invalid
# access, no definite or indirect leak. Uses an existing build (BUILD,
# default build) and prints one line per module.
#   scripts/valgrind-core.sh [MODULE...]
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
BIN=$BUILD/tests/bin
[ -d "$BIN" ] || { echo "build $BUILD first" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 2; }
SUITES=("$@")
[ ${#SUITES[@]} -eq 0 ] && SUITES=(machine yaml cases choice paths_io intrinsics
  engine_api engine_tasks engine_retry engine_time engine_history parallel map
  store durable eval_limits alloc_failures variables history_limits
  states_jsonata)
LOGDIR=$BUILD/valgrind
mkdir -p "$LOGDIR"
failed=0
for s in "${SUITES[@]}"; do
  log=$LOGDIR/$s.log
  valgrind --trace-children=yes --leak-check=full \
    --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect --error-exitcode=9 -q \
    "$BIN/test_$s" --jobs 1 >"$log" 2>&1
  rc=$?
  synth=$(grep -o "Tested: .*" "$log" | tail -1)
  if [ $rc -ne 0 ] || grep -q "^==[0-9]*== " "$log"; then
    echo "$s: FAILED (rc $rc) $synth — see $log"
    failed=1
  else
    echo "$s: clean, $synth"
  fi
done
exit $failed
