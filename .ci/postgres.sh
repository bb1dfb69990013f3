#!/usr/bin/env bash
# A throw-away PostgreSQL server for the SQL equivalence tests (tests/sql_engines.py).
#
#   eval "$(.ci/postgres.sh start)"   # initdb into a new temporary folder, start on a free
#                                     # port of 127.0.0.1 (trust auth), print the exports:
#                                     # CHS_TEST_POSTGRES (the URL) and CHS_PG_DIR (the folder)
#   .ci/postgres.sh stop              # stop the server in $CHS_PG_DIR, remove the folder
#
# PostgreSQL refuses to run as root: as root, the cluster belongs to the system user
# $CHS_PG_USER (default postgres, created when missing) and its commands run through runuser.
# The server binaries come from $PG_BIN, else the newest /usr/lib/postgresql/*/bin, else PATH.
set -euo pipefail

pg_bin() {
    if [[ -n "${PG_BIN:-}" ]]; then
        echo "$PG_BIN"
        return
    fi
    local newest
    newest=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -n "$newest" && -x "$newest/initdb" ]]; then
        echo "$newest"
    elif command -v initdb >/dev/null; then
        dirname "$(command -v initdb)"
    else
        echo "postgres.sh: no initdb (install the postgresql package or set PG_BIN)" >&2
        exit 1
    fi
}

# as_owner CMD...: run CMD as the cluster's owner (root hands it to $CHS_PG_USER)
as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u "${CHS_PG_USER:-postgres}" -- "$@"
    else
        "$@"
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
    local bin dir port
    bin=$(pg_bin)
    dir=$(mktemp -d "${TMPDIR:-/tmp}/chs-pg.XXXXXX")
    if [[ $(id -u) -eq 0 ]]; then
        local user=${CHS_PG_USER:-postgres}
        id -u "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
        chown "$user" "$dir"
    fi
    # -U postgres: the same superuser name (and URL) whoever runs it; --no-sync, fsync=off:
    # nothing here needs to survive a crash; locale C: strings sort byte by byte, as in DuckDB and Spark
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C \
        --no-sync >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        rm -rf "$dir"
        exit 1
    }
    port=$(free_port)
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c full_page_writes=off" \
        start >/dev/null || {
        cat "$dir/server.log" >&2
        rm -rf "$dir"
        exit 1
    }
    echo "export CHS_PG_DIR=$dir"
    echo "export CHS_TEST_POSTGRES=postgresql://postgres@127.0.0.1:$port/postgres"
}

stop() {
    local dir=${CHS_PG_DIR:?postgres.sh stop: CHS_PG_DIR names no cluster (set by start)}
    if [[ -f "$dir/data/postmaster.pid" ]]; then
        as_owner "$(pg_bin)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    fi
    rm -rf "$dir"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
*)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
