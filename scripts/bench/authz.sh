#!/usr/bin/env bash
# What authorizing a call costs: signed calls of a user whose permissions are spread over inline
# and managed policies, with GetCallerIdentity (authenticated, never authorized) measured in the
# same run as the baseline. Usage: scripts/bench/authz.sh [runs] [duration] [connections]
# (ROLEPLANE_BIN to measure another build)
set -euo pipefail
RUNS=${1:-3}; DUR=${2:-10s}; CONN=${3:-4}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ANCHORS=$ROOT/scripts/bench/anchors
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
source "$ROOT/scripts/bench/lib.sh"
start_roleplane

# A user "app" with two inline and two managed policies (one of them with conditions), and a key.
read -r UAK USK < <(python3 - "$PORT" "$AK" "$SK" <<'PY'
import json, sys, boto3
port, ak, sk = sys.argv[1:4]
iam = boto3.client("iam", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                   aws_access_key_id=ak, aws_secret_access_key=sk)
def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
iam.create_user(UserName="app")
iam.put_user_policy(UserName="app", PolicyName="read-iam", PolicyDocument=doc(
    {"Effect": "Allow", "Action": ["iam:Get*", "iam:List*"], "Resource": "*"}))
iam.put_user_policy(UserName="app", PolicyName="no-deletes", PolicyDocument=doc(
    {"Effect": "Deny", "Action": "iam:Delete*", "Resource": "*"}))
for name, statement in [
    ("ec2-read", {"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*",
                  "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}}),
    ("s3-data", {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
                 "Resource": "arn:aws:s3:::bucket-*/*"}),
]:
    arn = iam.create_policy(PolicyName=name, PolicyDocument=doc(statement))["Policy"]["Arn"]
    iam.attach_user_policy(UserName="app", PolicyArn=arn)
key = iam.create_access_key(UserName="app")["AccessKey"]
print(key["AccessKeyId"], key["SecretAccessKey"])
PY
)

script() { # $1 name, $2 service, $3 body
  python3 "$ROOT/scripts/bench/mk_signed_lua.py" "http://127.0.0.1:$PORT/" "$2" "$UAK" "$USK" "$3" > "$W/$1.lua"
  cat "$ANCHORS/check.lua" >> "$W/$1.lua"
}
script gci sts "Action=GetCallerIdentity&Version=2011-06-15"
script getuser iam "Action=GetUser&UserName=app&Version=2010-05-08"
script describe ec2 "Action=DescribeInstances&Version=2016-11-15"
wrk_result() { wrk -t1 -c"$CONN" -d"$DUR" -s "$W/$1.lua" "http://127.0.0.1:$PORT/" | grep -E '^RESULT'; }
for r in $(seq 1 "$RUNS"); do
  echo "### run $r (wrk -t1 -c$CONN -d$DUR)"
  echo "GetCallerIdentity (not authorized): $(wrk_result gci)"
  echo "GetUser           (authorized)    : $(wrk_result getuser)"
  echo "DescribeInstances (authorized)    : $(wrk_result describe)"
done
