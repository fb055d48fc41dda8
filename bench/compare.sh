#!/usr/bin/env bash
# Runs each benchmark workload on libworkflow (wf-bench) and on
# aws-local-stepfunctions (../shared/bench/peer) in the same run, RUNS times
# each, interleaved, and prints the medians side by side with the ratio of
# per_second. Needs a Release build in build-rel and `npm ci` done in the
# peer directory. BEFORE=path/to/an/older/wf-bench adds that build's
# figures, run interleaved in the same run (a change's before and after).
# DURABLE=1 adds wf-bench on a durable SQLite store (full fsync, history
# kept, a fresh file under $TMPDIR each run), beside the in-memory figures,
# and the in-memory engine keeping history too (its default, and the same
# work as the durable one but for the store): durable/in-memory is given
# against both. It also runs the durable store as `wf-bench --store` runs
# by default, history as the in-memory run keeps it (off): the same work
# as that run but for the store.
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
# One execution of these records more than 25,000 events: AWS fails it as
# a STANDARD workflow (libworkflow too) and runs it only as EXPRESS, which
# keeps no history (so no durable figure).
EXPRESS_WORKLOADS=" choice-loop map-fanout "
OUT=$(mktemp)
for r in $(seq "$RUNS"); do
  for w in "${WORKLOADS[@]}"; do
    type=()
    [[ "$EXPRESS_WORKLOADS" == *" $w "* ]] && type=(--express)
    ours=$("$BENCH" "$W" "$w" "${type[@]}" 2>/dev/null || echo '{"ok":false}')
    before='{"ok":false}'
    [ -n "${BEFORE:-}" ] && before=$("$BEFORE" "$W" "$w" 2>/dev/null || echo '{"ok":false}')
    durable='{"ok":false}'
    hist='{"ok":false}'
    plain='{"ok":false}'
    if [ "${DURABLE:-0}" = 1 ] && [ ${#type[@]} = 0 ]; then
      db=${TMPDIR:-/tmp}/wf-compare-$$.db
      durable=$("$BENCH" "$W" "$w" --store "sqlite:$db" --history 2>/dev/null || echo '{"ok":false}')
      rm -f "$db" "$db-wal" "$db-shm"
      hist=$("$BENCH" "$W" "$w" --history 2>/dev/null || echo '{"ok":false}')
      plain=$("$BENCH" "$W" "$w" --store "sqlite:$db" 2>/dev/null || echo '{"ok":false}')
      rm -f "$db" "$db-wal" "$db-shm"
    fi
    peer=$( (cd "$PEER" && timeout 300 node run.mjs "$w" 2>/dev/null) || echo '{"ok":false}')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$w" "$ours" "$peer" "$before" "$durable" "$hist" "$plain" >> "$OUT"
  done
done
python3 - "$OUT" "${BEFORE:+1}" "${DURABLE:-0}" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    w, ours, peer, before, durable, hist, plain = line.rstrip('\n').split('\t')
    rows.setdefault(w, ([], [], [], [], [], []))
    for i, x in enumerate((ours, peer, before, durable, hist, plain)):
        rows[w][i].append(json.loads(x))
with_before = sys.argv[2] == "1"
with_durable = sys.argv[3] == "1"
def med(xs, k):
    v = [x[k] for x in xs if x.get('ok') and k in x]
    return statistics.median(v) if v else float('nan')
head = f"{'workload':20} {'unit':12} {'libworkflow/s':>14} {'peer/s':>12} {'ratio':>8} {'rss MiB':>8} {'peer rss':>9}"
if with_before:
    head += f" {'before/s':>12} {'ratio':>8}"
if with_durable:
    head += (f" {'durable/s':>12} {'ratio':>8} {'of ours':>8} {'ours+hist/s':>12} {'of it':>6}"
             f" {'dur-nohist/s':>13} {'of ours':>8}")
print(head)
for w, (o, p, bf, du, hi, pl) in rows.items():
    a, b = med(o, 'per_second'), med(p, 'per_second')
    unit = (o[0].get('unit') or p[0].get('unit') or '')
    line = f"{w:20} {unit:12} {a:14,.0f} {b:12,.0f} {a/b:7.1f}x {med(o,'peak_rss_mb'):8.1f} {med(p,'peak_rss_mb'):9.1f}"
    if with_before:
        c = med(bf, 'per_second')
        line += f" {c:12,.0f} {c/b:7.1f}x"
    if with_durable:
        d, h, n = (med(du, 'per_second'), med(hi, 'per_second'),
                   med(pl, 'per_second'))
        if d == d:
            line += (f" {d:12,.0f} {d/b:7.1f}x {d/a:7.2f}x {h:12,.0f} {d/h:5.2f}x"
                     f" {n:13,.0f} {n/a:7.2f}x")
        else:
            line += f" {'n/a':>12} {'':>8} {'':>8} {'':>12} {'':>6} {'':>13} {'':>8}"
    print(line)
PY
rm -f "$OUT"
