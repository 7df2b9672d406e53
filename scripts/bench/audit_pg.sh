#!/usr/bin/env bash
# Audited calls per second with the trail in PostgreSQL (`--store postgres://…`, decision 0027)
# against the embedded trail (the data dir's mapped journal, decision 0003), one release build,
# one run: signed STS GetCallerIdentity (audited, no store write) replayed by wrk against three
# servers measured alternately:
#   files     the embedded store and trail;
#   postgres  a replica on PostgreSQL: each record waits for its group commit;
#   off       the embedded store with ROLEPLANE_AUDIT=off (no record at all: the ceiling).
# PostgreSQL runs on this machine with its durable defaults (fsync, synchronous_commit on:
# `scripts/pg-test-cluster start --durable`), over TLS as the server's default `sslmode=prefer`
# takes it. After each postgres phase the replica's commit counters (/metrics) give that
# phase's average batch (records per commit). The last lines count every record each trail
# holds (both exports) and the trail's size in the database against its records' bytes.
# ROLEPLANE_BIN=path measures a prebuilt binary instead.
# Usage: scripts/bench/audit_pg.sh [runs] [duration] ["connection counts"]
set -euo pipefail
RUNS=${1:-3}; DUR=${2:-10s}; CONNS=${3:-"4 64"}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ANCHORS=$ROOT/scripts/bench/anchors
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
BIN=${ROLEPLANE_BIN:-$ROOT/target/release/roleplane}
[ -n "${ROLEPLANE_BIN:-}" ] || (cd "$ROOT" && cargo build -q --release -p roleplane)

eval "$("$ROOT/scripts/pg-test-cluster" start --durable --watch-pid $$)"
URL=$ROLEPLANE_TEST_PG_URL
W=$(mktemp -d)
AK=AKIABENCHADMIN000001; SK=bench/secret/bench/secret/bench/secret00
MASTER=$(head -c 32 /dev/urandom | base64)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
start() { # name port audit-mode [serve flags…]
  local name=$1 port=$2 mode=$3
  shift 3
  ROLEPLANE_ADMIN_ACCESS_KEY_ID=$AK ROLEPLANE_ADMIN_SECRET_ACCESS_KEY=$SK ROLEPLANE_LOG=warn \
    ROLEPLANE_AUDIT=$mode ROLEPLANE_MASTER_KEY=$MASTER "$BIN" serve --data-dir "$W/data-$name" \
    --api-addr "127.0.0.1:$port" --imds-port 0 "$@" > "$W/$name.log" 2>&1 &
  echo $!
}
ready() { for _ in $(seq 600); do [ -s "$W/data-$1/endpoints.json" ] && return; sleep 0.1; done; echo "server $1 did not start: $(cat "$W/$1.log")" >&2; exit 1; }
P_FILES=$(free_port); P_PG=$(free_port); P_OFF=$(free_port); ADMIN=127.0.0.1:$(free_port)
FILES=$(start files "$P_FILES" on)
PG=$(start postgres "$P_PG" on --store "$URL" --admin-addr "$ADMIN")
OFF=$(start off "$P_OFF" off)
trap 'kill $FILES $PG $OFF 2>/dev/null; rm -rf "$W"' EXIT
ready files; ready postgres; ready off
for port in "$P_FILES" "$P_PG" "$P_OFF"; do
  python3 "$ANCHORS/mk_sts_lua.py" "http://127.0.0.1:$port/" "$AK" "$SK" > "$W/gci_$port.lua"
  cat "$ANCHORS/check.lua" >> "$W/gci_$port.lua"
done
counter() { curl -s "http://$ADMIN/metrics" | awk -v name="$1" '$1 == name { print $2 }'; }
wrk_result() { wrk -t"$1" -c"$2" -d"$DUR" -s "$3" "$4" | grep -E '^RESULT'; }
for r in $(seq 1 "$RUNS"); do
  for c in $CONNS; do
    t=$(( c < 2 ? 1 : 2 ))
    echo "### run $r (wrk -t$t -c$c -d$DUR)"
    echo "off     : $(wrk_result $t "$c" "$W/gci_$P_OFF.lua" "http://127.0.0.1:$P_OFF/")"
    echo "files   : $(wrk_result $t "$c" "$W/gci_$P_FILES.lua" "http://127.0.0.1:$P_FILES/")"
    commits=$(counter roleplane_audit_commits_total); records=$(counter roleplane_audit_committed_records_total)
    echo "postgres: $(wrk_result $t "$c" "$W/gci_$P_PG.lua" "http://127.0.0.1:$P_PG/")"
    commits=$(( $(counter roleplane_audit_commits_total) - commits ))
    records=$(( $(counter roleplane_audit_committed_records_total) - records ))
    echo "postgres: $records records in $commits commits, $(python3 -c "print(f'{$records / max($commits, 1):.1f}')") records per commit"
  done
done
echo "records in the embedded trail: $("$BIN" audit export --since 0 --data-dir "$W/data-files" | wc -l)"
echo "records in the PostgreSQL trail: $("$BIN" audit export --since 0 --store "$URL" | wc -l)"
PGPASSWORD=$(python3 -c "import sys, urllib.parse; print(urllib.parse.urlsplit(sys.argv[1]).password)" "$URL") \
  psql -X -At "$URL" -c "SELECT 'PostgreSQL trail: ' || pg_size_pretty(pg_total_relation_size('audit_events')) \
    || ' on disk (table, TOAST, indexes) for ' || pg_size_pretty((SELECT SUM(bytes) FROM audit_usage)::BIGINT) \
    || ' of records (what --audit-max-mib counts)'"
