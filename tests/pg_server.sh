#!/bin/sh
# A throwaway PostgreSQL server for the tests (the ctest fixture
# "postgres"): Debian's binaries, a cluster initialised into a new
# directory under /tmp, listening on a Unix socket in that directory only
# (no TCP), run as `nobody` when this runs as root (PostgreSQL refuses
# root), torn down with its directory by `stop`.
#   pg_server.sh start STATE   writes STATE/conninfo ("host=DIR user=wf",
#                              no database), or STATE/skip saying why
#                              there is no server (no binaries)
#   pg_server.sh restart STATE  stops the server at once (as a crash
#                              would) and starts it again on its data
#   pg_server.sh stop STATE
# Local connections are trusted, except for the role wf_secret, which
# must give its password (wf-secret-pw-4417: tests/support/pg_support.h).
set -eu
cmd=$1
state=$2

run() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u nobody -- "$@"
  else
    "$@"
  fi
}

# Start the server of cluster DIR/data. fsync off: nothing here must
# survive a power failure (PG_FSYNC=on, for benchmarks: as deployed). The server's output goes where pg_ctl's does:
# the log.
serve() {
  if ! run "$1/pg_ctl" -D "$2/data" -w -t 60 \
         -o "-c listen_addresses='' -c unix_socket_directories='$2'
             -c fsync=${PG_FSYNC:-off} -c max_connections=200" start \
         >> "$2/server.log" 2>&1; then
    cat "$2/server.log"
    exit 1
  fi
}

case $cmd in
start)
  rm -rf "$state"
  mkdir -p "$state"
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
    echo "PostgreSQL's server binaries are not installed" \
         "(/usr/lib/postgresql/*/bin/initdb; Debian package postgresql)" \
         > "$state/skip"
    cat "$state/skip"
    exit 0
  fi
  dir=$(mktemp -d /tmp/wf-pg-XXXXXX)
  echo "$dir" > "$state/dir"
  [ "$(id -u)" = 0 ] && chown nobody "$dir"
  if ! run "$bindir/initdb" -D "$dir/data" -U wf -A trust -E UTF8 \
         --no-sync > "$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log"
    exit 1
  fi
  hba="$dir/data/pg_hba.conf"
  { echo "local all wf_secret scram-sha-256"; cat "$hba"; } > "$dir/hba"
  run sh -c "cat '$dir/hba' > '$hba'"
  serve "$bindir" "$dir"
  "$bindir/psql" -qX "host=$dir user=wf dbname=postgres" -c \
    "CREATE ROLE wf_secret LOGIN PASSWORD 'wf-secret-pw-4417'" > /dev/null
  echo "host=$dir user=wf" > "$state/conninfo"
  echo "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}')" \
       "on the socket in $dir"
  ;;
restart)
  dir=$(cat "$state/dir")
  bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  run "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop > /dev/null
  serve "$bindir" "$dir"
  ;;
stop)
  [ -f "$state/dir" ] || exit 0
  dir=$(cat "$state/dir")
  bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  run "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop > /dev/null || true
  rm -rf "$dir" "$state"
  ;;
*)
  echo "usage: pg_server.sh start|restart|stop STATE_DIR" >&2
  exit 2
  ;;
esac
