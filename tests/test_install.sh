#!/bin/sh
# Installation as a downstream project sees it: install the build into a
# temporary prefix, then
#   - build and run a program with `pkg-config --cflags --libs workflow`;
#   - build and run a program with find_package(workflow) and
#     workflow::workflow;
#   - check that libworkflow.so exports only wf_ symbols;
#   - compile each public header alone with -std=c11 -pedantic -Werror.
# Both programs load and validate definitions through the installed library.
#
# usage: test_install.sh BUILD_DIR C_COMPILER SANITIZE(0|1) [EXE_LINKER_FLAGS]
# (the build's own CMAKE_EXE_LINKER_FLAGS, so that a sanitized library and
# the programs loading it use the same sanitizer runtime).
set -eu

build=$1
cc=$2
sanitize=$3
ldflags=${4:-}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/wf-install-XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
prefix=$tmp/prefix
fail() { echo "FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" ||
  { cat "$tmp/install.log" >&2; fail "cmake --install"; }

lib=$(find "$prefix" -name 'libworkflow.so' | head -n 1)
[ -n "$lib" ] || fail "no libworkflow.so under $prefix"
libdir=$(dirname "$lib")
[ -f "$prefix/include/workflow/workflow.h" ] || fail "headers not installed"
[ -f "$libdir/pkgconfig/workflow.pc" ] || fail "workflow.pc not installed"
[ -f "$libdir/cmake/workflow/workflowConfig.cmake" ] ||
  fail "workflowConfig.cmake not installed"

# A sanitized library needs its runtime in the programs that load it.
san_flags=
[ "$sanitize" = 1 ] && san_flags="-fsanitize=address,undefined"

# --- the downstream program -------------------------------------------------
mkdir -p "$tmp/app"
cat >"$tmp/app/main.c" <<'EOF'
/* Validates a definition AWS accepts and one it rejects. */
#include <stdio.h>
#include <string.h>
#include <workflow/workflow.h>

int main(void) {
  wf_machine *m = NULL;
  wf_error err;
  if (wf_machine_load_json(&m,
          "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Pass\","
          "\"End\":true}}}", NULL, &err) != WF_OK) {
    fprintf(stderr, "valid definition rejected: %s\n", err.message);
    return 1;
  }
  printf("start %s, %zu state(s), library %s\n", wf_machine_start_at(m),
         wf_machine_state_count(m), wf_version_string());
  wf_machine_free(m);
  int rc = wf_machine_load_json(&m, "{\"StartAt\":\"A\",\"States\":{}}", NULL,
                                &err);
  if (rc != WF_EINVALID || strcmp(err.path, "/States") != 0) {
    fprintf(stderr, "invalid definition: %s %s %s\n", wf_error_name(rc),
            err.path, err.message);
    return 1;
  }
  printf("rejected: %s at %s\n", err.message, err.path);
  return 0;
}
EOF

# --- pkg-config ---------------------------------------------------------------
PKG_CONFIG_PATH=$libdir/pkgconfig
export PKG_CONFIG_PATH
flags=$(pkg-config --cflags --libs workflow) || fail "pkg-config workflow"
case " $flags " in
  *" -I$prefix/include "*) ;;
  *)
    # workflow.pc names the prefix chosen at configure time, so it does not
    # follow `cmake --install --prefix`; let pkg-config derive the prefix
    # from the .pc file's own location instead.
    echo "note: workflow.pc is not relocatable ($flags); using --define-prefix"
    flags=$(pkg-config --define-prefix --cflags --libs workflow) ||
      fail "pkg-config --define-prefix workflow"
    ;;
esac
# shellcheck disable=SC2086
"$cc" -std=c11 -Wall -Wextra -Werror $san_flags $ldflags -o "$tmp/app-pc" \
  "$tmp/app/main.c" $flags || fail "building with pkg-config ($flags)"
out=$(LD_LIBRARY_PATH=$libdir "$tmp/app-pc") || fail "pkg-config program"
echo "pkg-config program: $out"
case $out in *"start A, 1 state(s)"*"rejected: "*) ;; *) fail "output: $out" ;; esac

# --- find_package -------------------------------------------------------------
cat >"$tmp/app/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.25)
project(wf_downstream LANGUAGES C)
find_package(workflow 0.1 REQUIRED)
add_executable(app main.c)
set_target_properties(app PROPERTIES C_STANDARD 11)
target_link_libraries(app PRIVATE workflow::workflow)
target_compile_options(app PRIVATE -Wall -Wextra -Werror)
if(WF_DOWNSTREAM_SANITIZE)
  target_compile_options(app PRIVATE -fsanitize=address,undefined)
  target_link_options(app PRIVATE -fsanitize=address,undefined)
endif()
EOF
san_cmake=OFF
[ "$sanitize" = 1 ] && san_cmake=ON
cmake -S "$tmp/app" -B "$tmp/app-build" -DCMAKE_C_COMPILER="$cc" \
  -DCMAKE_PREFIX_PATH="$prefix" -DWF_DOWNSTREAM_SANITIZE=$san_cmake \
  -DCMAKE_EXE_LINKER_FLAGS="$ldflags" \
  >"$tmp/cmake.log" 2>&1 || { cat "$tmp/cmake.log" >&2; fail "cmake configure"; }
cmake --build "$tmp/app-build" >"$tmp/build.log" 2>&1 ||
  { cat "$tmp/build.log" >&2; fail "cmake build"; }
# The imported target carries the library's location: no LD_LIBRARY_PATH.
out=$("$tmp/app-build/app") || fail "find_package program"
echo "find_package program: $out"
case $out in *"start A, 1 state(s)"*"rejected: "*) ;; *) fail "output: $out" ;; esac

# --- exported symbols -----------------------------------------------------------
others=$(nm -D --defined-only "$lib" | awk 'NF >= 3 { print $3 }' |
  grep -v '^wf_' || true)
[ -z "$others" ] || fail "libworkflow.so exports non-wf_ symbols: $others"
count=$(nm -D --defined-only "$lib" | awk 'NF >= 3 && $3 ~ /^wf_/' | wc -l)
[ "$count" -gt 0 ] || fail "libworkflow.so exports no wf_ symbol"
echo "exports: $count wf_ symbols, nothing else"

# --- each public header alone ---------------------------------------------------
for h in "$prefix"/include/workflow/*.h; do
  name=$(basename "$h")
  printf '#include <workflow/%s>\n' "$name" >"$tmp/header.c"
  "$cc" -std=c11 -Wall -Wextra -pedantic -Werror -fsyntax-only \
    -I"$prefix/include" "$tmp/header.c" || fail "header $name alone"
done
echo "headers compile alone: $(ls "$prefix"/include/workflow | tr '\n' ' ')"
echo "PASS"
