#!/usr/bin/env bash
# DescribeInstances latency as the store grows from 100 to 10,000 instances: lookups by ID and by
# tag filter must not grow linearly with unrelated instances.
# Usage: scripts/bench/describe_instances.sh [duration] [connections]  (ROLEPLANE_BIN for another build)
set -euo pipefail
DUR=${1:-10s}; CONN=${2:-4}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ANCHORS=$ROOT/scripts/bench/anchors
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
source "$ROOT/scripts/bench/lib.sh"
# Host mode on one loopback address: 10,000 instances need no listener each.
start_roleplane --imds-listen 127.0.0.1:0
export AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK AWS_DEFAULT_REGION=us-east-1
launch() { # launch N instances tagged team=$2, print the first ID
  python3 - "$1" "$2" "$PORT" <<'PY'
import sys, boto3
n, team = int(sys.argv[1]), sys.argv[2]
ec2 = boto3.client("ec2", endpoint_url="http://127.0.0.1:" + sys.argv[3])
first = None
while n > 0:
    batch = min(n, 500)
    r = ec2.run_instances(ImageId="ami-0abcdef1234567890", InstanceType="t3.micro", MinCount=batch, MaxCount=batch,
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "team", "Value": team}]}])
    first = first or r["Instances"][0]["InstanceId"]
    n -= batch
print(first)
PY
}
measure() { # $1 label, $2 body
  python3 "$ROOT/scripts/bench/mk_signed_lua.py" http://127.0.0.1:$PORT/ ec2 "$AK" "$SK" "$2" > "$W/q.lua"
  cat "$ANCHORS/check.lua" >> "$W/q.lua"
  echo "$1: $(wrk -t1 -c"$CONN" -d"$DUR" -s "$W/q.lua" http://127.0.0.1:$PORT/ | grep -E '^RESULT')"
}
ID=$(launch 100 blue)
launch 10 red > /dev/null
for total in 110 10110; do
  [ "$total" = 10110 ] && launch 10000 green > /dev/null
  echo "### $total instances in the store"
  measure "DescribeInstances InstanceId.1=$ID          " "Action=DescribeInstances&Version=2016-11-15&InstanceId.1=$ID"
  measure "DescribeInstances tag:team=red (10 matches)" "Action=DescribeInstances&Version=2016-11-15&Filter.1.Name=tag%3Ateam&Filter.1.Value.1=red"
done
