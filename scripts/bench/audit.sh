#!/usr/bin/env bash
# What the audit trail costs: signed STS GetCallerIdentity against two servers of the same
# release build, one recording every call (journal append at the default --audit-sync, or
# AUDIT_SYNC=full) and one started with the benchmark knob ROLEPLANE_AUDIT=off (builds no
# record at all), measured alternately in the same run. After each audited phase it prints how
# far the background indexer was behind the journal (0 bytes: indexing kept up, so its cost is
# inside the audited figure). ROLEPLANE_BIN=path measures a prebuilt binary instead. The last
# line exports the audited server's trail, which also checks every record is there.
# Usage: scripts/bench/audit.sh [runs] [duration] ["connection counts"]
set -euo pipefail
RUNS=${1:-3}; DUR=${2:-10s}; CONNS=${3:-"4 64 256"}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ANCHORS=$ROOT/scripts/bench/anchors
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
BIN=${ROLEPLANE_BIN:-$ROOT/target/release/roleplane}
[ -n "${ROLEPLANE_BIN:-}" ] || (cd "$ROOT" && cargo build -q --release -p roleplane)

W=$(mktemp -d)
AK=AKIABENCHADMIN000001; SK=bench/secret/bench/secret/bench/secret00
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
start() { # port audit-mode
  ROLEPLANE_ADMIN_ACCESS_KEY_ID=$AK ROLEPLANE_ADMIN_SECRET_ACCESS_KEY=$SK ROLEPLANE_LOG=warn ROLEPLANE_AUDIT=$2 \
    ROLEPLANE_AUDIT_SYNC=${AUDIT_SYNC:-normal} "$BIN" serve --data-dir "$W/data-$2" --api-addr "127.0.0.1:$1" --imds-port 0 \
    > "$W/$2.log" 2>&1 &
  echo $!
}
ready() { for _ in $(seq 600); do [ -s "$W/data-$1/endpoints.json" ] && return; sleep 0.1; done; echo "server did not start: $(cat "$W/$1.log")" >&2; exit 1; }
P_ON=$(free_port); P_OFF=$(free_port)
ON=$(start "$P_ON" on); OFF=$(start "$P_OFF" off)
trap 'kill $ON $OFF 2>/dev/null; rm -rf "$W"' EXIT
ready on; ready off  # endpoints.json is written once serving
for port in "$P_ON" "$P_OFF"; do
  python3 "$ANCHORS/mk_sts_lua.py" "http://127.0.0.1:$port/" "$AK" "$SK" > "$W/gci_$port.lua"
  cat "$ANCHORS/check.lua" >> "$W/gci_$port.lua"
done
# Bytes of journal the index has not read yet (segments hold data up to their first NUL).
index_lag() {
  python3 - "$W/data-on" <<'PY'
import os, sqlite3, sys
data = sys.argv[1]
seg, off = sqlite3.connect(f"file:{data}/audit.db?mode=ro", uri=True).execute(
    "SELECT segment, byte_offset FROM journal_position").fetchone()
lag = 0
for name in sorted(os.listdir(f"{data}/audit")):
    if not (name.startswith("journal-") and name.endswith(".jsonl")):
        continue
    n = int(name[8:-6])
    if n < seg:
        continue
    with open(f"{data}/audit/{name}", "rb") as f:
        size = len(f.read().split(b"\0", 1)[0])
    lag += size - (off if n == seg else 0)
print(lag)
PY
}
wrk_result() { wrk -t"$1" -c"$2" -d"$DUR" -s "$3" "$4" | grep -E '^RESULT'; }
for r in $(seq 1 "$RUNS"); do
  for c in $CONNS; do
    t=$(( c < 2 ? 1 : 2 ))
    echo "### run $r (wrk -t$t -c$c -d$DUR)"
    echo "audit off: $(wrk_result $t "$c" "$W/gci_$P_OFF.lua" "http://127.0.0.1:$P_OFF/")"
    echo "audit on : $(wrk_result $t "$c" "$W/gci_$P_ON.lua" "http://127.0.0.1:$P_ON/")"
    echo "index lag at the end of the audited phase: $(index_lag) bytes"
  done
done
echo "records written by the audited server: $("$BIN" audit export --since 0 --data-dir "$W/data-on" | wc -l)"
