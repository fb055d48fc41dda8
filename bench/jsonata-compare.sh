#!/usr/bin/env bash
# JSONata evaluation speed, libworkflow beside jsonata-js 2.0.6 (the version
# AWS Step Functions documents), on the cases of ../shared/bench/jsonata, in
# one run: the reference (node run.mjs --show) first, then wf-jsonata-bench
# on the same cases, which checks its result of each case against the
# reference's. Prints a table: evaluations per second of each engine, their
# ratio, whether the results are equal; then the geometric mean of the
# ratios and the targets of issue 17 (mean at least 30x, no case below 5x,
# the same results).
#   bench/jsonata-compare.sh [--seconds S] [CASE...]     S=1 by default
# Builds the Release tree build-rel when needed (BUILD=dir for another) and
# runs `npm ci` in the reference's directory when its node_modules is
# missing. Exit status 1 when a result differs or a case fails.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
REF=$SHARED/bench/jsonata
BUILD=${BUILD:-build-rel}
secs=1
cases=()
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) secs=$2; shift 2 ;;
    -*) echo "usage: $0 [--seconds S] [CASE...]" >&2; exit 2 ;;
    *) cases+=("$1"); shift ;;
  esac
done

if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$BUILD" --target wf-jsonata-bench >/dev/null
if [ ! -d "$REF/node_modules" ]; then
  (cd "$REF" && npm ci --no-audit --no-fund >/dev/null)
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$REF" && node run.mjs --seconds "$secs" --show "${cases[@]}") > "$tmp/ref"
status=0
"$BUILD/bench/wf-jsonata-bench" --dir "$REF" --seconds "$secs" \
  --expect "$tmp/ref" "${cases[@]}" > "$tmp/ours" || status=$?

python3 - "$tmp/ref" "$tmp/ours" "$(nproc)" <<'PY'
import json, math, sys
def lines(path):
    out = {}
    for l in open(path):
        l = l.strip()
        if l.startswith('{'):
            j = json.loads(l)
            out[j['case']] = j
    return out
ref, ours, cores = lines(sys.argv[1]), lines(sys.argv[2]), sys.argv[3]
print(f"{'case':18} {'jsonata-js/s':>13} {'libworkflow/s':>14} {'ratio':>9}  equal")
logs, worst, all_equal = [], None, True
for name, r in ref.items():
    if name == 'ALL':
        continue
    o = ours.get(name, {})
    a, b = r['per_second'], o.get('per_second')
    eq = o.get('equal') is True
    all_equal = all_equal and eq
    if b is None:
        print(f"{name:18} {a:13,} {'failed':>14} {'':>9}  {o.get('error', 'no')}")
        continue
    ratio = b / a
    logs.append(math.log(ratio))
    worst = ratio if worst is None else min(worst, ratio)
    note = '' if o.get('sha_equal') else ' (sha differs)'
    print(f"{name:18} {a:13,} {b:14,} {ratio:8.1f}x  {'yes' if eq else 'NO'}{note}")
g = math.exp(sum(logs) / len(logs)) if logs else float('nan')
print(f"{'geometric mean':18} {ref['ALL']['geomean_per_second']:13,} "
      f"{ours.get('ALL', {}).get('geomean_per_second', 0):14,} {g:8.1f}x")
ok = lambda b: 'yes' if b else 'NO'
print(f"targets: mean >= 30x {ok(g >= 30)}; every case >= 5x {ok(worst is not None and worst >= 5)} "
      f"(lowest {worst if worst is None else round(worst, 1)}x); same results {ok(all_equal)}; "
      f"{cores} cores")
PY
exit "$status"
