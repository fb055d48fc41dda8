#!/usr/bin/env bash
# Builds the libFuzzer harnesses (tests/fuzz, clang, ASan+UBSan; the
# gateway's request handling among them) and runs
# each for FUZZ_SECONDS (60 by default; CI runs this), after replaying the
# inputs that once broke it (tests/fuzz/regress/NAME/). Corpora start from
# ../shared (conformance definitions) and tests/data, and grow in
# build-fuzz/corpus between runs. A crash, leak, timeout or failed property
# stops that harness; its input is written to build-fuzz/artifacts/.
#   scripts/fuzz.sh [NAME...]            FUZZ_SECONDS=600 for a longer run
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
SECONDS_EACH=${FUZZ_SECONDS:-60}
BUILD=${BUILD:-build-fuzz}
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
      -DCMAKE_C_COMPILER=clang -DWF_FUZZ=ON -DWF_BUILD_TESTS=OFF \
      -DWF_BUILD_EXAMPLES=ON -DWF_BUILD_BENCH=OFF -DWF_BUILD_PLUGINS=OFF \
      >/dev/null
cmake --build "$BUILD"
NAMES=("$@")
if [ ${#NAMES[@]} -eq 0 ]; then
  for f in tests/fuzz/fuzz_*.c; do NAMES+=("$(basename "$f" .c | sed 's/^fuzz_//')"); done
fi
CORPUS=$BUILD/corpus
ARTIFACTS=$BUILD/artifacts
mkdir -p "$ARTIFACTS"

# Seeds: what the project already knows is interesting for each surface.
seed() {
  local name=$1 dir=$CORPUS/$1
  [ -d "$dir" ] && return
  mkdir -p "$dir"
  # Hand-made seeds, where the surface has its own input format.
  [ -d "tests/fuzz/seeds/$name" ] && cp tests/fuzz/seeds/"$name"/* "$dir"/
  case $name in
    definition)
      cp "$SHARED"/conformance/definitions/valid/*.json "$dir"/ 2>/dev/null || true
      for d in "$SHARED"/conformance/executions/*/; do
        [ -f "$d/definition.json" ] && cp "$d/definition.json" "$dir/$(basename "$d").json"
      done ;;
    definition_yaml)
      cp tests/data/yaml/*.yaml tests/data/yaml/bad/*.yaml examples/workflows/*.yaml \
         "$dir"/ 2>/dev/null || true ;;
    store_file)
      # A small store of real executions, histories and a machine.
      printf '%s' '{"StartAt":"A","States":{"A":{"Type":"Pass","Result":{"x":[1,"y"]},"Next":"B"},"B":{"Type":"Succeed"}}}' \
        > "$dir/machine.json"
      "$BUILD"/examples/wf run --store "$dir/seed.db" "$dir/machine.json" \
        --input-json '{"k":"v"}' >/dev/null
      rm -f "$dir/machine.json" "$dir"/seed.db-* ;;
    json)
      for d in "$SHARED"/conformance/executions/*/; do
        [ -f "$d/input.json" ] && cp "$d/input.json" "$dir/$(basename "$d").json"
      done ;;
    jsonata)
      # Every expression of the JSONata test suite.
      python3 - "$dir" "$SHARED"/jsonata-suite/groups <<'PY'
import glob, hashlib, json, os, sys
out, groups = sys.argv[1], sys.argv[2]
for f in glob.glob(os.path.join(groups, '*', '*.json')):
    cases = json.load(open(f))
    for c in cases if isinstance(cases, list) else [cases]:
        x = c.get('expr')
        if isinstance(x, str):
            data = x.encode('utf-8', 'surrogatepass')  # lone surrogates too
            open(os.path.join(out, hashlib.sha1(data).hexdigest()), 'wb').write(data)
PY
      ;;
    expression)
      python3 - "$dir" tests/data/jsonpath_cases.json tests/data/intrinsic_cases.json <<'PY'
import hashlib, json, os, sys
out = sys.argv[1]
def walk(v):
    if isinstance(v, dict):
        for k, x in v.items():
            if k.endswith('.$') and isinstance(x, str):
                name = hashlib.sha1(x.encode()).hexdigest()
                open(os.path.join(out, name), 'w').write(x)
            walk(x)
    elif isinstance(v, list):
        for x in v:
            walk(x)
for f in sys.argv[2:]:
    for case in json.load(open(f)):
        walk(case.get('state', {}))
PY
      ;;
  esac
}

failed=()
for name in "${NAMES[@]}"; do
  bin=$BUILD/fuzz/fuzz_$name
  [ -x "$bin" ] || { echo "no harness $name" >&2; exit 2; }
  seed "$name"
  if [ -d "tests/fuzz/regress/$name" ]; then
    echo "=== $name: replaying tests/fuzz/regress/$name"
    "$bin" -rss_limit_mb=2048 -timeout=10 tests/fuzz/regress/"$name"/* \
      || { failed+=("$name (regression)"); continue; }
  fi
  echo "=== $name: fuzzing for ${SECONDS_EACH}s"
  log=$ARTIFACTS/$name.log
  if "$bin" "$CORPUS/$name" -max_total_time="$SECONDS_EACH" \
       -rss_limit_mb=2048 -timeout=10 -max_len=65536 \
       -artifact_prefix="$ARTIFACTS/$name-" -print_final_stats=1 >"$log" 2>&1; then
    grep -E "^stat::number_of_executed_units|^Done" "$log" | tail -2
  else
    echo "$name FAILED: see $log and $ARTIFACTS/$name-*"
    grep -E "property failed|ERROR|SUMMARY" "$log" | head -5
    failed+=("$name")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing failed: ${failed[*]}"
  exit 1
fi
echo "fuzzing passed: ${NAMES[*]}"
