#!/usr/bin/env bash
# Load benchmark of wf-gateway: wrk against POST /process on 127.0.0.1 for
# a bounded time, with the seed workflow and instant handlers
# (bench/gateway-bench.yaml): built-in INLINE handlers, or with
# HANDLERS=plugins the two seed plugins at zero processing time (they cost
# the engine more: their input is printed and parsed again, and
# SendNotification runs on the worker pool and writes its outbox, here
# /dev/null). Prints one JSON line: requests per second,
# latency percentiles, errors (non-2xx answers and socket errors: must be
# 0), and the server's resident memory after a warm-up, at the end, and at
# its highest (sampled every second) — flat memory means after ~ before.
#
#   bench/gateway-load.sh [BUILD_DIR]     (default build-rel)
#   DURATION=60 WARMUP=10 CONNECTIONS=32 THREADS=1 HANDLERS=inline|plugins \
#     bench/gateway-load.sh
#
# The workflow is the seed's as written (examples/workflows/), TimeoutSeconds
# included: a finished task's timeout timer is cancelled, so memory stays
# flat however long the timeouts are.
#
# Build first (Release):
#   cmake -S . -B build-rel -G Ninja -DCMAKE_BUILD_TYPE=Release
#   cmake --build build-rel --target wf-gateway process_data send_notification
# Target on the 2-core reference machine: >= 20000 requests/s, p99 < 5 ms.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build-rel}
DURATION=${DURATION:-60}
WARMUP=${WARMUP:-10}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-1}
GATEWAY=$BUILD/examples/wf-gateway
HANDLERS=${HANDLERS:-inline}
for f in "$GATEWAY" "$BUILD/plugins/process_data.so" \
         "$BUILD/plugins/send_notification.so"; do
  [ -e "$f" ] || { echo "gateway-load: $f is missing: build first" >&2; exit 2; }
done
command -v wrk >/dev/null || { echo "gateway-load: wrk is missing (apt-get install wrk)" >&2; exit 2; }

work=$(mktemp -d /tmp/wf-gateway-load-XXXXXX)
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
  rm -rf "$work"
}
trap cleanup EXIT

# The configuration and the workflow, in the work directory.
cp examples/workflows/seed-workflow.yaml "$work/seed-workflow.yaml"
cat >"$work/plugins.yaml" <<EOF
pluginDir: $BUILD/plugins
plugins:
  - file: process_data.so
    config:
      processingTime:
        json: {baseMs: 0, perRecordMs: 0}
        csv: {baseMs: 0, perRecordMs: 0}
        xml: {baseMs: 0, perRecordMs: 0}
        text: {baseMs: 0, perRecordMs: 0}
        binary: {baseMs: 0, perRecordMs: 0}
  - file: send_notification.so
    config:
      outbox: {path: /dev/null}
EOF
if [ "$HANDLERS" = plugins ]; then
  sed -e "/^# --- handlers/,/^# --- end handlers/{/^# --- end handlers/r $work/plugins.yaml" \
      -e 'd}' bench/gateway-bench.yaml
else
  cat bench/gateway-bench.yaml
fi | sed "s#^    definition: .*#    definition: $work/seed-workflow.yaml#" \
  >"$work/gateway.yaml"
"$GATEWAY" --config "$work/gateway.yaml" --plugin-dir "$BUILD/plugins" \
  --port 0 >"$work/stdout" 2>"$work/gateway.log" &
pid=$!
port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's/^listening on http:\/\/127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/stdout")
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$port" ]; then
  echo "gateway-load: the gateway did not start:" >&2
  cat "$work/gateway.log" >&2
  exit 1
fi
url=http://127.0.0.1:$port/process
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$pid/status"; }

# The warm-up fills the store up to its retention and the allocator's
# pools, so what follows measures the steady state.
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -s bench/gateway-post.lua \
  "$url" >"$work/warmup.txt"
rss_before=$(rss)
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency \
  -s bench/gateway-post.lua "$url" >"$work/wrk.txt" &
wrk_pid=$!
rss_max=$rss_before
while kill -0 "$wrk_pid" 2>/dev/null; do
  r=$(rss)
  [ "$r" -gt "$rss_max" ] && rss_max=$r
  sleep 1
done
wait "$wrk_pid"
rss_after=$(rss)

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=""

python3 - "$work/wrk.txt" "$rss_before" "$rss_after" "$rss_max" "$status" \
  "$DURATION" "$CONNECTIONS" "$THREADS" "$HANDLERS" <<'PY'
import json, sys
(wrk_file, before, after, peak, status, duration, conns, threads,
 handlers) = sys.argv[1:]
line = next(l for l in open(wrk_file) if l.startswith("WRK_JSON "))
w = json.loads(line[len("WRK_JSON "):])
errors = sum(w["errors"].values())
rps = w["requests"] / w["duration_s"]
p99_ms = w["latency_us"]["p99"] / 1000
out = {
    "benchmark": "gateway-load",
    "endpoint": "POST /process",
    "workflow": "examples/workflows/seed-workflow.yaml",
    "handlers": handlers,
    "duration_s": int(duration), "connections": int(conns),
    "threads": int(threads),
    "requests": w["requests"],
    "requests_per_second": round(rps),
    "latency_ms": {k: round(v / 1000, 3) for k, v in w["latency_us"].items()},
    "errors": errors, "error_detail": w["errors"],
    "rss_kb": {"before": int(before), "after": int(after), "max": int(peak)},
    "rss_growth_kb": int(after) - int(before),
    "server_exit": int(status),
    "target": {"requests_per_second": 20000, "p99_ms": 5,
               "met": rps >= 20000 and p99_ms < 5 and errors == 0},
}
print(json.dumps(out))
sys.exit(0 if errors == 0 and int(status) == 0 else 1)
PY
