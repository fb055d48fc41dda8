#!/usr/bin/env bash
# Builds libworkflow and runs the main job: the seed workflow
# (ProcessData -> CheckStatus -> SendNotification -> WorkflowCompleted)
# through the `wf` tool, validating it first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target wf
DEF=examples/workflows/seed-workflow.json
build/examples/wf validate "$DEF"
build/examples/wf run "$DEF" --input examples/workflows/seed-input.json \
  --mock-config examples/workflows/seed-mocks.json --virtual-time
