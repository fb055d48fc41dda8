#!/usr/bin/env bash
# Runs each benchmark workload on libworkflow (wf-bench) and on
# aws-local-stepfunctions (../shared/bench/peer) in the same run, RUNS times
# each, interleaved, and prints the medians side by side with the ratio of
# per_second. Needs a Release build in build-rel and `npm ci` done in the
# peer directory. BEFORE=path/to/an/older/wf-bench adds that build's
# figures, run interleaved in the same run (a change's before and after).
#   bench/compare.sh [WORKLOAD...]        RUNS=3 by default
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
W=$SHARED/bench/workloads
PEER=$SHARED/bench/peer
BENCH=${BENCH:-build-rel/bench/wf-bench}
RUNS=${RUNS:-3}
WORKLOADS=("$@")
[ ${#WORKLOADS[@]} -eq 0 ] && WORKLOADS=(pass-chain choice-loop seed-workflow-seq
  seed-workflow-conc map-fanout parallel-fanout payload)
[ -x "$BENCH" ] || { echo "build $BENCH first (Release)" >&2; exit 2; }
[ -d "$PEER/node_modules" ] || { echo "run 'npm ci' in $PEER first" >&2; exit 2; }
OUT=$(mktemp)
for r in $(seq "$RUNS"); do
  for w in "${WORKLOADS[@]}"; do
    ours=$("$BENCH" "$W" "$w" 2>/dev/null || echo '{"ok":false}')
    before='{"ok":false}'
    [ -n "${BEFORE:-}" ] && before=$("$BEFORE" "$W" "$w" 2>/dev/null || echo '{"ok":false}')
    peer=$( (cd "$PEER" && timeout 300 node run.mjs "$w" 2>/dev/null) || echo '{"ok":false}')
    printf '%s\t%s\t%s\t%s\n' "$w" "$ours" "$peer" "$before" >> "$OUT"
  done
done
python3 - "$OUT" "${BEFORE:+1}" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    w, ours, peer, before = line.rstrip('\n').split('\t')
    rows.setdefault(w, ([], [], []))
    for i, x in enumerate((ours, peer, before)):
        rows[w][i].append(json.loads(x))
with_before = sys.argv[2] == "1"
def med(xs, k):
    v = [x[k] for x in xs if x.get('ok') and k in x]
    return statistics.median(v) if v else float('nan')
head = f"{'workload':20} {'unit':12} {'libworkflow/s':>14} {'peer/s':>12} {'ratio':>8} {'rss MiB':>8} {'peer rss':>9}"
if with_before:
    head += f" {'before/s':>12} {'ratio':>8}"
print(head)
for w, (o, p, bf) in rows.items():
    a, b = med(o, 'per_second'), med(p, 'per_second')
    unit = (o[0].get('unit') or p[0].get('unit') or '')
    line = f"{w:20} {unit:12} {a:14,.0f} {b:12,.0f} {a/b:7.1f}x {med(o,'peak_rss_mb'):8.1f} {med(p,'peak_rss_mb'):9.1f}"
    if with_before:
        c = med(bf, 'per_second')
        line += f" {c:12,.0f} {c/b:7.1f}x"
    print(line)
PY
rm -f "$OUT"
