#!/usr/bin/env bash
# Builds libworkflow and runs the main job: wf-gateway serving the seed
# workflow (ProcessData -> CheckStatus -> SendNotification ->
# WorkflowCompleted) with both handler plugins, in the foreground on
# 127.0.0.1:${PORT:-8080} until Ctrl-C (or SIGTERM) stops it gracefully.
# Executions are kept in the SQLite file ${STORE:-data/workflow.db}: those
# still running when it stops (or crashes) resume at the next start.
# Trigger it from another terminal with the curl line it prints.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target wf wf-gateway process_data send_notification
build/examples/wf validate examples/workflows/seed-workflow.yaml
PORT=${PORT:-8080}
STORE=${STORE:-data/workflow.db}
mkdir -p "$(dirname "$STORE")"
cat <<EOF
The console (state machines, executions, their graphs and histories):
  http://127.0.0.1:$PORT/console/   (sign in with the API key local-dev-key-change-me)

Trigger the seed workflow (the answer names the execution to follow):
  curl -s -X POST http://127.0.0.1:$PORT/process \\
       -H 'Content-Type: application/json' -H 'x-api-key: local-dev-key-change-me' \\
       --data @examples/workflows/seed-input.json
  curl -s -H 'x-api-key: local-dev-key-change-me' http://127.0.0.1:$PORT/executions/EXECUTION_ID
EOF
exec build/examples/wf-gateway --config examples/gateway/gateway.yaml \
  --plugin-dir build/plugins --port "$PORT" --store "$STORE"
