#!/usr/bin/env bash
# The PostgreSQL store against the embedded SQLite store, in one run: a signed read
# (GetCallerIdentity), an authorized call with a store read (GetUser), durable writes
# (CreateRole, each a new role), each on one SQLite server, one replica on PostgreSQL, and two
# replicas on that database (loaded together, half the connections each); then the cache
# staleness bound: how long after a write through one replica the other decides by it.
# PostgreSQL is a throwaway cluster with production durability (fsync and synchronous_commit
# on, as SQLite's synchronous=FULL). Everything shares this machine's cores.
# Usage: scripts/bench/store.sh [runs] [duration] [connections] [staleness samples]
# (ROLEPLANE_BIN to measure another build)
set -euo pipefail
RUNS=${1:-3}; DUR=${2:-10s}; CONN=${3:-4}; SAMPLES=${4:-40}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ANCHORS=$ROOT/scripts/bench/anchors
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
source "$ROOT/scripts/bench/lib.sh"
roleplane_binary

W=$(mktemp -d)
chmod 755 "$W"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -n "${ROLEPLANE_TEST_PG_DIR:-}" ] && "$ROOT/scripts/pg-test-cluster" stop "$ROLEPLANE_TEST_PG_DIR"
  rm -rf "$W"
}
trap cleanup EXIT
eval "$("$ROOT/scripts/pg-test-cluster" start --durable)"
MASTER=$(head -c 32 /dev/urandom | base64)

# serve NAME [FLAGS…]: a server with data dir $W/NAME; prints its port once ready.
serve() {
  local name=$1; shift
  local port; port=$(free_port)
  ROLEPLANE_ADMIN_ACCESS_KEY_ID=$AK ROLEPLANE_ADMIN_SECRET_ACCESS_KEY=$SK ROLEPLANE_LOG=warn \
    ROLEPLANE_MASTER_KEY=$MASTER \
    "$ROLEPLANE_BIN" serve --data-dir "$W/$name" --api-addr "127.0.0.1:$port" --imds-port 0 \
    --s3-dir "$W/s3" "$@" > "$W/$name.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 300); do
    [ -f "$W/$name/endpoints.json" ] && { echo "$port"; return 0; }
    sleep 0.1
  done
  echo "$name did not become ready:" >&2; cat "$W/$name.log" >&2; return 1
}

# The user the authorized call reads.
setup_user() {
  python3 - "$1" "$AK" "$SK" <<'PY'
import json, sys, boto3
port, ak, sk = sys.argv[1:4]
iam = boto3.client("iam", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                   aws_access_key_id=ak, aws_secret_access_key=sk)
iam.create_user(UserName="app")
PY
}
# Signatures cover the Host header, so every server gets scripts of its own: NAME-PORT.lua.
lua() { # NAME SERVICE BODY PORT
  python3 "$ROOT/scripts/bench/mk_signed_lua.py" "http://127.0.0.1:$4/" "$2" "$AK" "$SK" "$3" > "$W/$1-$4.lua"
  cat "$ANCHORS/check.lua" >> "$W/$1-$4.lua"
}
# Distinct CreateRole requests per load, so every request is a durable write.
createrole() { # NAME PORT
  python3 "$ROOT/scripts/bench/mk_createrole_lua.py" "http://127.0.0.1:$2/" "$AK" "$SK" 25000 "$W/$1-$2.tsv" > "$W/$1-$2.lua"
  sed '/^function init/d' "$ANCHORS/check.lua" >> "$W/$1-$2.lua"
}

rps() { sed -n 's/^RESULT rps=\([0-9.]*\).*non200=\([0-9]*\).*/\1 \2/p'; }
# load SCRIPT PORT… : wrk on every port at once, CONN connections split among them; prints
# the summed requests per second and non-200 count.
load() {
  local script=$1; shift
  local each=$((CONN / $#)) outs=() i=0
  for port in "$@"; do
    wrk -t1 -c"$each" -d"$DUR" -s "$W/$script-$port.lua" "http://127.0.0.1:$port/" > "$W/wrk.$i" &
    outs+=("$W/wrk.$i"); i=$((i + 1))
  done
  wait
  cat "${outs[@]}" | rps | awk '{r += $1; b += $2} END {printf "%.0f req/s (non-200: %d)", r, b}'
}

SQLITE=$(serve sqlite)
A=$(serve a --store "$ROLEPLANE_TEST_PG_URL")
B=$(serve b --store "$ROLEPLANE_TEST_PG_URL")
setup_user "$SQLITE"
setup_user "$A"
for port in "$SQLITE" "$A" "$B"; do
  lua gci sts "Action=GetCallerIdentity&Version=2011-06-15" "$port"
  lua getuser iam "Action=GetUser&UserName=app&Version=2010-05-08" "$port"
done
echo "roleplane $("$ROLEPLANE_BIN" --version 2>/dev/null || echo '?'); PostgreSQL cluster durable; wrk -t1 -c$CONN -d$DUR"
for r in $(seq 1 "$RUNS"); do
  echo "### run $r"
  for call in gci getuser; do
    echo "$call  SQLite: $(load $call "$SQLITE")  | PG 1 replica: $(load $call "$A")  | PG 2 replicas: $(load $call "$A" "$B")"
  done
  createrole "cr$r" "$SQLITE"; createrole "cr$r" "$A"; createrole "crab$r" "$A"; createrole "crab$r" "$B"
  echo "CreateRole  SQLite: $(load "cr$r" "$SQLITE")  | PG 1 replica: $(load "cr$r" "$A")  | PG 2 replicas: $(load "crab$r" "$A" "$B")"
done

echo "### staleness: a write through A, decided by on B ($SAMPLES samples each)"
python3 - "$A" "$B" "$AK" "$SK" "$SAMPLES" <<'PY'
import json, statistics, sys, time, boto3
from botocore.config import Config
a, b, ak, sk, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
cfg = Config(retries={"max_attempts": 1})
def client(port, service, key, secret):
    return boto3.client(service, endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret, config=cfg)
iam_a = client(a, "iam", ak, sk)
iam_a.create_user(UserName="probe")
iam_a.put_user_policy(UserName="probe", PolicyName="read", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}]}))
deny = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]})
key = iam_a.create_access_key(UserName="probe")["AccessKey"]
probe_b = client(b, "iam", key["AccessKeyId"], key["SecretAccessKey"])
def allowed():
    try:
        probe_b.get_user(UserName="probe"); return True
    except probe_b.exceptions.ClientError as e:
        assert e.response["Error"]["Code"] == "AccessDenied", e
        return False
time.sleep(2)
assert allowed()
samples = {"deny": [], "allow": []}
for _ in range(n):
    for kind, write, want in [
        ("deny", lambda: iam_a.put_user_policy(UserName="probe", PolicyName="stop", PolicyDocument=deny), False),
        ("allow", lambda: iam_a.delete_user_policy(UserName="probe", PolicyName="stop"), True),
    ]:
        write()
        start = time.monotonic()
        while allowed() != want:
            if time.monotonic() - start > 30: raise SystemExit("B did not follow within 30 s")
        samples[kind].append((time.monotonic() - start) * 1000)
        time.sleep(0.05)
for kind, values in samples.items():
    values.sort()
    print(f"policy {kind} seen on B after: median {statistics.median(values):.1f} ms, "
          f"p95 {values[int(len(values) * 0.95) - 1]:.1f} ms, max {values[-1]:.1f} ms ({len(values)} samples)")
PY
