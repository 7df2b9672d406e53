#!/usr/bin/env bash
# Load runs of the instance metadata service, with its two yardsticks measured in the same run:
# a static-body hyper server (crates/imds/examples/static_baseline.rs, same body size as a
# credentials document) and moto's fake IMDS (`moto_server`, the anchor).
#   (a) IMDSv2 credentials GET with a token, on an instance's own endpoint (local mode)
#   (b) the token PUT (TTL 21600), on the same endpoint
#   (c) the static-body server, GET
#   (d) moto's IMDS credentials GET
# each at 4 and 64 connections. Prints one RESULT line per measurement, then medians and ratios.
#
# Usage: scripts/bench/imds.sh [runs] [duration]      (defaults: 3 runs, 10s)
#        ROLEPLANE_BIN=path/to/release/roleplane scripts/bench/imds.sh …
# Needs wrk (Debian) and moto[server] (PyPI); installs them when missing.
set -euo pipefail
RUNS=${1:-3}; DUR=${2:-10s}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
command -v moto_server >/dev/null || {
  python3 -m pip install -q 'moto[server]'
  command -v pyenv >/dev/null && pyenv rehash
  hash -r
}
command -v aws >/dev/null || python3 -m pip install -q -r "$ROOT/scripts/requirements-test.txt"
# ROLEPLANE_BIN: a roleplane release binary built elsewhere (otherwise this tree's is built).
BIN=${ROLEPLANE_BIN:-$ROOT/target/release/roleplane}
[ -n "${ROLEPLANE_BIN:-}" ] || (cd "$ROOT" && cargo build -q --release -p roleplane)
(cd "$ROOT" && cargo build -q --release -p imds --example static_baseline)

W=$(mktemp -d)
# Ephemeral ports throughout: other servers may be running on this machine.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
MOTO=127.0.0.1:$(free_port)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$W"' EXIT
ROLEPLANE_LOG=warn "$BIN" serve --data-dir "$W/data" \
  --api-addr 127.0.0.1:0 --imds-port 0 > "$W/roleplane.log" 2>&1 & PIDS+=($!)
# The real script, not a pyenv shim: the PID killed on exit must be moto's own.
MOTO_BIN=$(pyenv which moto_server 2>/dev/null || command -v moto_server)
"$MOTO_BIN" -H 127.0.0.1 -p "${MOTO##*:}" > "$W/moto.log" 2>&1 & PIDS+=($!)
for _ in $(seq 1 100); do [ -f "$W/data/endpoints.json" ] && break; sleep 0.1; done
[ -f "$W/data/endpoints.json" ] || { echo "roleplane did not start:" >&2; cat "$W/roleplane.log" >&2; exit 1; }
API=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["api"])' "$W/data/endpoints.json")
IMDS_PORT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["imdsPort"])' "$W/data/endpoints.json")

# One instance with a role, through the real API.
export AWS_SHARED_CREDENTIALS_FILE=$W/data/credentials AWS_CONFIG_FILE=$W/no-config
export AWS_DEFAULT_PROFILE=roleplane AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
cli() { aws --endpoint-url "$API" --output text "$@"; }
cli iam create-role --role-name bench --assume-role-policy-document \
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}' >/dev/null
cli iam create-instance-profile --instance-profile-name bench >/dev/null
cli iam add-role-to-instance-profile --instance-profile-name bench --role-name bench
IP=$(cli ec2 run-instances --image-id ami-0123456789abcdef0 --count 1 \
  --iam-instance-profile Name=bench --query 'Instances[0].PrivateIpAddress')
ENDPOINT=http://$IP:$IMDS_PORT
CREDS=/latest/meta-data/iam/security-credentials/bench
TOKEN=$(curl -sf -X PUT "$ENDPOINT/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 21600")
BODY=$(curl -sf -H "X-aws-ec2-metadata-token: $TOKEN" "$ENDPOINT$CREDS")
SIZE=$(printf '%s' "$BODY" | wc -c)
grep -q '"Code" : "Success"' <<<"$BODY" || { echo "no credentials from $ENDPOINT: $BODY" >&2; exit 1; }
"$ROOT/target/release/examples/static_baseline" 127.0.0.1:0 "$SIZE" > "$W/static.log" 2>&1 & PIDS+=($!)
for _ in $(seq 1 50); do grep -q listening "$W/static.log" && break; sleep 0.1; done
STATIC=$(sed -n 's/^listening on //p' "$W/static.log")
MOTO_PATH=/latest/meta-data/iam/security-credentials/default-role
for _ in $(seq 1 100); do curl -sf -o /dev/null "http://$MOTO$MOTO_PATH" && break; sleep 0.2; done
echo "instance endpoint $ENDPOINT, credentials document $SIZE bytes; moto's is $(curl -s "http://$MOTO$MOTO_PATH" | wc -c) bytes"

# The anchors' counters (non-200 responses, percentiles); a PUT variant for the token request.
CHECK=$ROOT/scripts/bench/anchors/check.lua
cp "$CHECK" "$W/get.lua"
{ echo 'wrk.method = "PUT"'; echo 'wrk.headers["X-aws-ec2-metadata-token-ttl-seconds"] = "21600"'; cat "$CHECK"; } > "$W/put.lua"

measure() { # NAME CONNECTIONS LUA URL [HEADER]
  local line
  line=$(wrk -t1 -c"$2" -d"$DUR" -s "$3" ${5:+-H "$5"} "$4" | grep '^RESULT')
  printf '%-14s c=%-3s %s\n' "$1" "$2" "$line"
  printf '%s\t%s\t%s\n' "$1" "$2" "$line" >> "$W/results.tsv"
}
for r in $(seq 1 "$RUNS"); do
  echo "### run $r (wrk -t1 -d$DUR)"
  for c in 4 64; do
    measure imds-get "$c" "$W/get.lua" "$ENDPOINT$CREDS" "X-aws-ec2-metadata-token: $TOKEN"
    measure imds-put "$c" "$W/put.lua" "$ENDPOINT/latest/api/token"
    measure static "$c" "$W/get.lua" "http://$STATIC$CREDS"
    measure moto-get "$c" "$W/get.lua" "http://$MOTO$MOTO_PATH"
  done
done

python3 - "$W/results.tsv" <<'EOF'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, conns, result = line.rstrip("\n").split("\t")
    fields = dict(re.findall(r"(\w+)=([\d.]+)", result))
    rows.setdefault((name, int(conns)), []).append(fields)
def med(name, c, key):
    return statistics.median(float(f[key]) for f in rows[(name, c)])
print("\nmedians of the runs")
for (name, c) in sorted(rows, key=lambda k: (k[1], k[0])):
    print(f"{name:9} c={c:<3} {med(name, c, 'rps'):>10,.0f} req/s  p50 {med(name, c, 'p50'):.2f} ms"
          f"  p99 {med(name, c, 'p99'):.2f} ms  non200/errors {sum(int(float(f['non200'])) + int(float(f['errors'])) for f in rows[(name, c)])}")
for c in (4, 64):
    get, put = med("imds-get", c, "rps"), med("imds-put", c, "rps")
    static, moto = med("static", c, "rps"), med("moto-get", c, "rps")
    print(f"c={c}: GET/static {get / static:.2f}x  PUT/static {put / static:.2f}x"
          f"  GET/moto {get / moto:.0f}x  PUT/moto {put / moto:.0f}x")
EOF
