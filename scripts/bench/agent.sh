#!/usr/bin/env bash
# The host metadata agent under load, with its yardstick measured in the same run, and the
# control plane's load per agent.
#   (a) the agent's IMDSv2 credentials GET with a token, on an instance's own endpoint
#       (`roleplane agent --instance-port`: attribution by the address reached)
#   (b) the static-body hyper server (crates/imds/examples/static_baseline.rs, same body size)
#   (c) `serve`'s own metadata service, the same GET for an instance on no host (for reference)
# each at 4 and 64 connections; then (d) the agent API calls the control plane served while the
# agent held INSTANCES instances for IDLE seconds, from the server's own request counter
# (`roleplane_requests_total{service="roleplane-agent"}` on --admin-addr), per minute and per
# instance, once with the default rotation (6 h sets, a new one each hour) and once with
# one-minute sets refreshed every 20 s (to show the per-instance part).
#
# Usage: scripts/bench/agent.sh [runs] [duration] [instances] [idle]   (defaults: 3 10s 20 120)
#        ROLEPLANE_BIN=path/to/release/roleplane scripts/bench/agent.sh …
# Needs wrk (Debian); installs it when missing.
set -euo pipefail
RUNS=${1:-3}; DUR=${2:-10s}; INSTANCES=${3:-20}; IDLE=${4:-120}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
command -v aws >/dev/null || python3 -m pip install -q -r "$ROOT/scripts/requirements-test.txt"
BIN=${ROLEPLANE_BIN:-$ROOT/target/release/roleplane}
[ -n "${ROLEPLANE_BIN:-}" ] || (cd "$ROOT" && cargo build -q --release -p roleplane)
(cd "$ROOT" && cargo build -q --release -p imds --example static_baseline)

W=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$W"' EXIT
AK=AKIABENCHAGENTADMIN1
SK=bench/agent/secret/bench/agent/secret/00

# serve DIR [FLAGS]: a control plane with its admin listener; sets API and ADMIN.
serve() {
  local dir=$1; shift
  local api admin
  api=127.0.0.1:$(free_port)
  admin=127.0.0.1:$(free_port)
  ROLEPLANE_ADMIN_ACCESS_KEY_ID=$AK ROLEPLANE_ADMIN_SECRET_ACCESS_KEY=$SK ROLEPLANE_LOG=warn \
    "$BIN" serve --data-dir "$dir" --api-addr "$api" --imds-port 0 --admin-addr "$admin" "$@" \
    >"$dir.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 100); do [ -f "$dir/endpoints.json" ] && break; sleep 0.1; done
  [ -f "$dir/endpoints.json" ] || { echo "roleplane did not start:" >&2; cat "$dir.log" >&2; exit 1; }
  API=http://$api ADMIN=http://$admin
}
export AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK AWS_CONFIG_FILE=$W/no-config
export AWS_SHARED_CREDENTIALS_FILE=$W/no-credentials AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
cli() { aws --endpoint-url "$API" --output text "$@"; }
# setup N: a role and profile, a host with N instances on it; sets HOST, IPS.
setup() {
  cli iam create-role --role-name bench --assume-role-policy-document \
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}' >/dev/null
  cli iam create-instance-profile --instance-profile-name bench >/dev/null
  cli iam add-role-to-instance-profile --instance-profile-name bench --role-name bench
  HOST=$(cli ec2 allocate-hosts --availability-zone us-east-1a --instance-family m5 --quantity 1 --query 'HostIds[0]')
  IPS=$(cli ec2 run-instances --image-id ami-0123456789abcdef0 --count "$1" --instance-type m5.large \
    --placement "HostId=$HOST" --iam-instance-profile Name=bench --query 'Instances[].PrivateIpAddress')
}
# agent DIR: the host's agent on a per-instance port; sets PORT.
agent() {
  "$BIN" host credentials "$HOST" --data-dir "$1" >"$1.credentials"
  chmod 600 "$1.credentials"
  ROLEPLANE_LOG=info "$BIN" agent --control-plane "$API" --host-id "$HOST" \
    --credentials "$1.credentials" --instance-port 0 >"$1.agent.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 100); do grep -q "roleplane agent ready" "$1.agent.log" && break; sleep 0.1; done
  PORT=$(sed -n 's/.*roleplane agent ready.* instance_port=\([0-9]*\).*/\1/p' "$1.agent.log")
  [ -n "$PORT" ] || { echo "the agent did not start:" >&2; cat "$1.agent.log" >&2; exit 1; }
}
agent_calls() { # the agent API calls the control plane answered so far
  curl -s "$ADMIN/metrics" | awk '/^roleplane_requests_total\{.*service="roleplane-agent"/ {n += $2} END {print n + 0}'
}

# --- (a)–(c): throughput -------------------------------------------------------------------

serve "$W/data"
setup 1
IP=$IPS
agent "$W/data"
CREDS=/latest/meta-data/iam/security-credentials/bench
ENDPOINT=http://$IP:$PORT
for _ in $(seq 1 50); do curl -sf -o /dev/null "$ENDPOINT/latest/meta-data/instance-id" && break; sleep 0.1; done
TOKEN=$(curl -sf -X PUT "$ENDPOINT/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 21600")
BODY=$(curl -sf -H "X-aws-ec2-metadata-token: $TOKEN" "$ENDPOINT$CREDS")
grep -q '"Code" : "Success"' <<<"$BODY" || { echo "no credentials from the agent: $BODY" >&2; exit 1; }
SIZE=$(printf '%s' "$BODY" | wc -c)
# An instance on no host, served by `serve` itself.
OWN_IP=$(cli ec2 run-instances --image-id ami-0123456789abcdef0 --count 1 \
  --iam-instance-profile Name=bench --query 'Instances[0].PrivateIpAddress')
OWN_PORT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["imdsPort"])' "$W/data/endpoints.json")
OWN=http://$OWN_IP:$OWN_PORT
OWN_TOKEN=$(curl -sf -X PUT "$OWN/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 21600")
"$ROOT/target/release/examples/static_baseline" 127.0.0.1:0 "$SIZE" >"$W/static.log" 2>&1 & PIDS+=($!)
for _ in $(seq 1 50); do grep -q listening "$W/static.log" && break; sleep 0.1; done
STATIC=$(sed -n 's/^listening on //p' "$W/static.log")
echo "agent endpoint $ENDPOINT (host $HOST), credentials document $SIZE bytes"

CHECK=$ROOT/scripts/bench/anchors/check.lua
measure() { # NAME CONNECTIONS URL [HEADER]
  local line
  line=$(wrk -t1 -c"$2" -d"$DUR" -s "$CHECK" ${4:+-H "$4"} "$3" | grep '^RESULT')
  printf '%-12s c=%-3s %s\n' "$1" "$2" "$line"
  printf '%s\t%s\t%s\n' "$1" "$2" "$line" >>"$W/results.tsv"
}
before=$(agent_calls)
for r in $(seq 1 "$RUNS"); do
  echo "### run $r (wrk -t1 -d$DUR)"
  for c in 4 64; do
    measure agent-get "$c" "$ENDPOINT$CREDS" "X-aws-ec2-metadata-token: $TOKEN"
    measure static "$c" "http://$STATIC$CREDS"
    measure serve-get "$c" "$OWN$CREDS" "X-aws-ec2-metadata-token: $OWN_TOKEN"
  done
done
echo "agent API calls the control plane answered during the load runs: $(( $(agent_calls) - before ))"

python3 - "$W/results.tsv" <<'EOF'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, conns, result = line.rstrip("\n").split("\t")
    rows.setdefault((name, int(conns)), []).append(dict(re.findall(r"(\w+)=([\d.]+)", result)))
def med(name, c, key):
    return statistics.median(float(f[key]) for f in rows[(name, c)])
print("\nmedians of the runs")
for (name, c) in sorted(rows, key=lambda k: (k[1], k[0])):
    bad = sum(int(float(f['non200'])) + int(float(f['errors'])) for f in rows[(name, c)])
    print(f"{name:10} c={c:<3} {med(name, c, 'rps'):>10,.0f} req/s  p50 {med(name, c, 'p50'):.2f} ms"
          f"  p99 {med(name, c, 'p99'):.2f} ms  non200/errors {bad}")
for c in (4, 64):
    agent, static, own = med("agent-get", c, "rps"), med("static", c, "rps"), med("serve-get", c, "rps")
    print(f"c={c}: agent GET / static {agent / static:.2f}x   serve GET / static {own / static:.2f}x")
EOF

# --- (d): the control plane's load per agent ----------------------------------------------------

# idle_load DIR LABEL [FLAGS]: a fresh control plane with one host of INSTANCES instances and
# its agent; every instance asks for its credentials (IMDSv2) once a second for IDLE seconds.
idle_load() {
  local dir=$1 label=$2; shift 2
  serve "$dir" "$@"
  setup "$INSTANCES"
  agent "$dir"
  local ip
  for ip in $IPS; do
    for _ in $(seq 1 50); do curl -sf -o /dev/null "http://$ip:$PORT/latest/meta-data/instance-id" && break; sleep 0.1; done
  done
  sleep 3 # the first sets fetched
  local start end until
  start=$(agent_calls)
  until=$(($(date +%s) + IDLE))
  while [ "$(date +%s)" -lt "$until" ]; do
    for ip in $IPS; do
      t=$(curl -s -X PUT "http://$ip:$PORT/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 60")
      curl -s -o /dev/null -H "X-aws-ec2-metadata-token: $t" "http://$ip:$PORT$CREDS"
    done
    sleep 1
  done
  end=$(agent_calls)
  python3 - "$label" "$((end - start))" "$IDLE" "$INSTANCES" <<'EOF'
import sys
label, calls, idle, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
minutes = idle / 60
print(f"{label}: {calls} agent API calls in {minutes:g} min with {n} instances in use: "
      f"{calls / minutes:.2f}/min per agent, {calls / minutes / n:.3f}/min per instance")
EOF
}
echo
idle_load "$W/default" "default rotation (6 h sets, a new one each hour)"
# One-minute sets need the test-only margin (ROLEPLANE_TEST_ROTATION_MARGIN) serve reads.
ROLEPLANE_TEST_ROTATION_MARGIN=10 idle_load "$W/short" "one-minute sets, a new one every 20 s" \
  --imds-credential-lifetime 60 --imds-credential-refresh 20
