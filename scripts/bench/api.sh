#!/usr/bin/env bash
# Load runs of the signed AWS API: roleplane and moto's server measured in the same run, so the
# report can give ratios. Usage: scripts/bench/api.sh [runs] [duration] [connections]
# Needs wrk (Debian) and moto[server] + boto3 (PyPI); installs them when missing.
set -euo pipefail
RUNS=${1:-3}; DUR=${2:-10s}; CONN=${3:-4}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ANCHORS=$ROOT/scripts/bench/anchors
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
python3 -c 'import moto, boto3' 2>/dev/null || python3 -m pip install -q 'moto[server]' boto3
command -v moto_server >/dev/null || { command -v pyenv >/dev/null && pyenv rehash; }
(cd "$ROOT" && cargo build -q --release -p roleplane)

W=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
RP_PORT=$(free_port); MOTO_PORT=$(free_port)
AK=AKIABENCHADMIN000001; SK=bench/secret/bench/secret/bench/secret00
ROLEPLANE_ADMIN_ACCESS_KEY_ID=$AK ROLEPLANE_ADMIN_SECRET_ACCESS_KEY=$SK ROLEPLANE_LOG=warn \
  "$ROOT/target/release/roleplane" serve --data-dir "$W/data" --api-addr 127.0.0.1:$RP_PORT --imds-port 0 \
  > "$W/roleplane.log" 2>&1 & RP=$!
INITIAL_NO_AUTH_ACTION_COUNT=3 moto_server -H 127.0.0.1 -p $MOTO_PORT > "$W/moto.log" 2>&1 & MOTO=$!
trap 'kill $RP $MOTO 2>/dev/null; rm -rf "$W"' EXIT
sleep 5
read -r MAK MSK < <(python3 "$ANCHORS/setup_auth.py" http://127.0.0.1:$MOTO_PORT)

python3 "$ANCHORS/mk_sts_lua.py" http://127.0.0.1:$RP_PORT/ "$AK" "$SK" > "$W/gci_rp.lua"; cat "$ANCHORS/check.lua" >> "$W/gci_rp.lua"
python3 "$ANCHORS/mk_sts_lua.py" http://127.0.0.1:$MOTO_PORT/ "$MAK" "$MSK" > "$W/gci_moto.lua"; cat "$ANCHORS/check.lua" >> "$W/gci_moto.lua"

wrk_result() { wrk -t1 -c"$CONN" -d"$DUR" -s "$1" "$2" | grep -E '^RESULT'; }
for r in $(seq 1 "$RUNS"); do
  echo "### run $r (wrk -t1 -c$CONN -d$DUR)"
  echo "roleplane GetCallerIdentity (signed, auth always on): $(wrk_result "$W/gci_rp.lua" http://127.0.0.1:$RP_PORT/)"
  echo "moto      GetCallerIdentity (signed, IAM auth on)   : $(wrk_result "$W/gci_moto.lua" http://127.0.0.1:$MOTO_PORT/)"
  python3 "$ROOT/scripts/bench/mk_createrole_lua.py" http://127.0.0.1:$RP_PORT/ "$AK" "$SK" 40000 "$W/cr.tsv" > "$W/cr.lua"
  # check.lua's init would replace ours; keep its response/done counters only.
  sed '/^function init/d' "$ANCHORS/check.lua" >> "$W/cr.lua"
  echo "roleplane CreateRole (distinct signed writes)       : $(wrk_result "$W/cr.lua" http://127.0.0.1:$RP_PORT/)"
  echo "roleplane CreateRole boto3 loop x500: $(python3 "$ANCHORS/createrole.py" http://127.0.0.1:$RP_PORT 500 "$AK" "$SK")"
  echo "moto      CreateRole boto3 loop x500: $(python3 "$ANCHORS/createrole.py" http://127.0.0.1:$MOTO_PORT 500 "$MAK" "$MSK")"
done
