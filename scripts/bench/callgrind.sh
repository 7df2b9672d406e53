#!/usr/bin/env bash
# Instructions per signed request, counted by callgrind: deterministic for a given binary and
# request, so builds compare without the ±10% wall-clock noise of this shared 2-core machine.
# Starts `serve` under valgrind, warms up with wrk (one connection, 3 s), zeroes the counters,
# replays the same signed request for 10 s, and divides the instructions by the requests.
# Usage: scripts/bench/callgrind.sh BINARY [SERVICE BODY]   (default: sts GetCallerIdentity)
set -euo pipefail
BIN=$1; SERVICE=${2:-sts}; BODY=${3:-Action=GetCallerIdentity&Version=2011-06-15}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind >/dev/null; }
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
source "$ROOT/scripts/bench/lib.sh"
W=$(mktemp -d); PORT=$(free_port)
ROLEPLANE_ADMIN_ACCESS_KEY_ID=$AK ROLEPLANE_ADMIN_SECRET_ACCESS_KEY=$SK ROLEPLANE_LOG=warn \
  valgrind --tool=callgrind --callgrind-out-file="$W/cg.out" \
  "$BIN" serve --data-dir "$W/data" --api-addr "127.0.0.1:$PORT" --imds-port 0 > "$W/log" 2>&1 &
VG=$!
trap 'kill $VG 2>/dev/null; rm -rf "$W"' EXIT
for _ in $(seq 300); do [ -f "$W/data/endpoints.json" ] && break; sleep 0.2; done
python3 "$ROOT/scripts/bench/mk_signed_lua.py" "http://127.0.0.1:$PORT/" "$SERVICE" "$AK" "$SK" "$BODY" > "$W/req.lua"
wrk -t1 -c1 -d3s -s "$W/req.lua" "http://127.0.0.1:$PORT/" > /dev/null
callgrind_control -z "$VG" > /dev/null
N=$(wrk -t1 -c1 -d10s -s "$W/req.lua" "http://127.0.0.1:$PORT/" | awk '/requests in/ {print $1}')
callgrind_control -d "$VG" > /dev/null
sleep 1
IR=$(callgrind_annotate "$W/cg.out.1" | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
echo "requests=$N instructions=$IR per_request=$((IR / N))"
