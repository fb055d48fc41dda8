#!/usr/bin/env bash
# What a JSONata state costs beside a JSONPath one: pass-chain and the seed
# workflow (sequential and concurrent) of ../shared/bench/workloads, and
# their JSONata versions written by bench/jsonata_workloads.py (the same
# work: $merge into $states.input where JSONPath has ResultPath, a
# Condition where it has a Choice rule), run by wf-bench in one run,
# alternately, best of ROUNDS each. Prints per workload the transitions
# per second of both and the cost of a JSONata state relative to a
# JSONPath one (issue 17's target: at most 2).
#   bench/jsonata-workloads.sh [ROUNDS]      ROUNDS=3 by default
# Builds the Release tree build-rel when needed (BUILD=dir for another).
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
BUILD=${BUILD:-build-rel}
rounds=${1:-3}
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$BUILD" --target wf-bench >/dev/null
src=$SHARED/bench/workloads
ata=$BUILD/bench/workloads-jsonata
python3 bench/jsonata_workloads.py "$src" "$ata"

best() { # DIR WORKLOAD -> the best transitions per second of $rounds runs
  local dir=$1 w=$2 b=0 r
  for _ in $(seq "$rounds"); do
    r=$("$BUILD/bench/wf-bench" "$dir" "$w" | python3 -c '
import json, sys
d = json.loads(sys.stdin.read())
print(d["transitions_per_second"] if d.get("ok") else -1)')
    [ "$r" = "-1" ] && { echo "wf-bench $dir $w: checks failed" >&2; exit 1; }
    b=$(python3 -c "print(max($b, $r))")
  done
  echo "$b"
}

printf '%-20s %16s %16s %10s\n' workload "JSONPath tr/s" "JSONata tr/s" "cost x"
for w in pass-chain seed-workflow-seq seed-workflow-conc; do
  p=$(best "$src" "$w")
  j=$(best "$ata" "$w")
  printf '%-20s %16.0f %16.0f %10.2f\n' "$w" "$p" "$j" \
    "$(python3 -c "print($p / $j)")"
done
