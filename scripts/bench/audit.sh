#!/usr/bin/env bash
# What the audit trail costs: signed STS GetCallerIdentity against two servers of the same
# release build, one recording every call (journal append at the default --audit-sync, or
# AUDIT_SYNC=full) and one started with the benchmark knob ROLEPLANE_AUDIT=off, measured
# alternately in the same run. ROLEPLANE_BIN=path measures a prebuilt binary instead. The
# last line exports the audited server's trail, which also checks the index caught up.
# Usage: scripts/bench/audit.sh [runs] [duration] ["connection counts"]
set -euo pipefail
RUNS=${1:-3}; DUR=${2:-10s}; CONNS=${3:-"4 64 256"}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ANCHORS=$ROOT/../shared/bench-anchors
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
BIN=${ROLEPLANE_BIN:-$ROOT/target/release/roleplane}
[ -n "${ROLEPLANE_BIN:-}" ] || (cd "$ROOT" && cargo build -q --release -p roleplane)

W=$(mktemp -d)
AK=AKIABENCHADMIN000001; SK=bench/secret/bench/secret/bench/secret00
start() { # port audit-mode
  ROLEPLANE_ADMIN_ACCESS_KEY_ID=$AK ROLEPLANE_ADMIN_SECRET_ACCESS_KEY=$SK ROLEPLANE_LOG=warn ROLEPLANE_AUDIT=$2 \
    ROLEPLANE_AUDIT_SYNC=${AUDIT_SYNC:-normal} "$BIN" serve --data-dir "$W/data-$2" --api-addr "127.0.0.1:$1" --imds-port 0 \
    > "$W/$2.log" 2>&1 &
  echo $!
}
ON=$(start 19310 on); OFF=$(start 19311 off)
trap 'kill $ON $OFF 2>/dev/null; rm -rf "$W"' EXIT
sleep 3
for port in 19310 19311; do
  python3 "$ANCHORS/mk_sts_lua.py" "http://127.0.0.1:$port/" "$AK" "$SK" > "$W/gci_$port.lua"
  cat "$ANCHORS/check.lua" >> "$W/gci_$port.lua"
done
wrk_result() { wrk -t"$1" -c"$2" -d"$DUR" -s "$3" "$4" | grep -E '^RESULT'; }
for r in $(seq 1 "$RUNS"); do
  for c in $CONNS; do
    t=$(( c < 2 ? 1 : 2 ))
    echo "### run $r (wrk -t$t -c$c -d$DUR)"
    echo "audit off: $(wrk_result $t "$c" "$W/gci_19311.lua" http://127.0.0.1:19311/)"
    echo "audit on : $(wrk_result $t "$c" "$W/gci_19310.lua" http://127.0.0.1:19310/)"
  done
done
echo "records written by the audited server: $("$BIN" audit export --since 0 --data-dir "$W/data-on" | wc -l)"
