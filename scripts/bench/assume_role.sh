#!/usr/bin/env bash
# AssumeRole under load (authorization, the trust policy, a sealed session token, the role's
# last use), with GetCallerIdentity measured in the same run as the baseline.
# Usage: scripts/bench/assume_role.sh [runs] [duration] [connections]  (ROLEPLANE_BIN for another build)
set -euo pipefail
RUNS=${1:-3}; DUR=${2:-10s}; CONN=${3:-4}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ANCHORS=$ROOT/scripts/bench/anchors
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
source "$ROOT/scripts/bench/lib.sh"
start_roleplane
AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK AWS_DEFAULT_REGION=us-east-1 python3 - "$PORT" <<'PY'
import sys, boto3
iam = boto3.client("iam", endpoint_url="http://127.0.0.1:" + sys.argv[1])
iam.create_role(RoleName="worker", AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}')
PY
python3 "$ANCHORS/mk_sts_lua.py" "http://127.0.0.1:$PORT/" "$AK" "$SK" > "$W/gci.lua"
cat "$ANCHORS/check.lua" >> "$W/gci.lua"
python3 "$ROOT/scripts/bench/mk_signed_lua.py" "http://127.0.0.1:$PORT/" sts "$AK" "$SK" \
  "Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fworker&RoleSessionName=bench&Version=2011-06-15" \
  > "$W/assume.lua"
cat "$ANCHORS/check.lua" >> "$W/assume.lua"
wrk_result() { wrk -t1 -c"$CONN" -d"$DUR" -s "$W/$1.lua" "http://127.0.0.1:$PORT/" | grep -E '^RESULT'; }
for r in $(seq 1 "$RUNS"); do
  echo "### run $r (wrk -t1 -c$CONN -d$DUR)"
  echo "GetCallerIdentity: $(wrk_result gci)"
  echo "AssumeRole       : $(wrk_result assume)"
done
