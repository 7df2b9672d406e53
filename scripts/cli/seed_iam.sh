#!/usr/bin/env bash
# The seed document's IAM steps, verbatim, with the AWS CLI against a fresh roleplane server:
# the EC2 trust policy file, create-role, put-role-policy, create-instance-profile,
# add-role-to-instance-profile (and a second one, which AWS refuses with LimitExceeded), plus
# sts get-caller-identity. Responses are checked against the seed's examples with python3.
#
# Usage: scripts/cli/seed_iam.sh   (ROLEPLANE_BIN overrides target/debug/roleplane)
# Prints "N passed, M failed" and exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/../.."

BIN=${ROLEPLANE_BIN:-target/debug/roleplane}
command -v aws >/dev/null || { echo "aws (the AWS CLI) is not on PATH" >&2; exit 2; }
[ -x "$BIN" ] || { echo "$BIN is missing: run cargo build -p roleplane" >&2; exit 2; }

WORK=$(mktemp -d)
DATA=$WORK/data
LOG=$WORK/server.log
"$BIN" serve --api-addr 127.0.0.1:0 --imds-port 0 --data-dir "$DATA" >"$LOG" 2>&1 &
SERVER=$!
stop() {
  kill "$SERVER" 2>/dev/null
  wait "$SERVER" 2>/dev/null
  rm -rf "$WORK"
}
trap stop EXIT

API=""
for _ in $(seq 1 300); do
  API=$(sed -n 's/.*ready.*api=\([^ ]*\).*/\1/p' "$LOG" | head -n 1)
  [ -n "$API" ] && break
  kill -0 "$SERVER" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$API" ]; then
  echo "the server did not become ready:" >&2
  cat "$LOG" >&2
  exit 1
fi

# Only the data dir's admin credentials: nothing from the environment or ~/.aws.
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL
export AWS_SHARED_CREDENTIALS_FILE=$DATA/credentials
export AWS_CONFIG_FILE=$WORK/no-config
export AWS_DEFAULT_PROFILE=roleplane
export AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
ENDPOINT=http://$API
ACCOUNT=123456789012

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; shift; printf '     %s\n' "$@"; }

# Runs the AWS CLI against the server; output in $OUT, errors in $ERR, exit code in $CODE.
run() {
  OUT=$(aws --endpoint-url "$ENDPOINT" --output json "$@" 2>"$WORK/stderr")
  CODE=$?
  ERR=$(cat "$WORK/stderr")
}

# json_check NAME PYTHON: PYTHON sees the parsed $OUT as `r` and asserts about it.
json_check() {
  local name=$1 program=$2 why
  if why=$(OUT="$OUT" python3 -c "
import json, os, sys
r = json.loads(os.environ['OUT'])
$program
" 2>&1); then
    pass "$name"
  else
    fail "$name" "$why" "output: $OUT"
  fi
}

expect_success() {
  if [ "$CODE" -eq 0 ]; then pass "$1"; else fail "$1" "exit $CODE: $ERR"; fi
}

cd "$WORK"

# 1. The trust policy file.
echo '{ "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Principal": { "Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole" } ] }' > ec2-role-trust-policy.json

# 2. create-role with it.
run iam create-role --role-name s3access --assume-role-policy-document file://ec2-role-trust-policy.json
expect_success "create-role"
json_check "create-role answers the seed's Role shape" "
role = r['Role']
assert set(role) == {'AssumeRolePolicyDocument', 'RoleId', 'CreateDate', 'RoleName', 'Path', 'Arn'}, sorted(role)
assert role['RoleName'] == 's3access' and role['Path'] == '/', role
assert role['Arn'] == 'arn:aws:iam::$ACCOUNT:role/s3access', role['Arn']
assert role['RoleId'].startswith('AROA') and len(role['RoleId']) == 21, role['RoleId']
assert role['AssumeRolePolicyDocument'] == json.load(open('ec2-role-trust-policy.json')), role['AssumeRolePolicyDocument']
assert role['CreateDate'][:2] == '20' and role['CreateDate'].endswith(('Z', '+00:00')), role['CreateDate']
"

# 3. The access policy file.
echo '{ "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Action": ["s3:*"], "Resource": ["*"] } ] }' > ec2-role-access-policy.json

# 4. put-role-policy.
run iam put-role-policy --role-name s3access --policy-name S3-Permissions --policy-document file://ec2-role-access-policy.json
expect_success "put-role-policy"
if [ -z "$OUT" ]; then pass "put-role-policy prints nothing"; else fail "put-role-policy prints nothing" "output: $OUT"; fi
run iam get-role-policy --role-name s3access --policy-name S3-Permissions
json_check "get-role-policy returns the access policy" "
assert r['RoleName'] == 's3access' and r['PolicyName'] == 'S3-Permissions', r
assert r['PolicyDocument'] == json.load(open('ec2-role-access-policy.json')), r['PolicyDocument']
"

# 5. create-instance-profile.
run iam create-instance-profile --instance-profile-name s3access-profile
expect_success "create-instance-profile"
json_check "create-instance-profile answers the seed's InstanceProfile shape" "
p = r['InstanceProfile']
assert set(p) == {'InstanceProfileId', 'Roles', 'CreateDate', 'InstanceProfileName', 'Path', 'Arn'}, sorted(p)
assert p['InstanceProfileName'] == 's3access-profile' and p['Path'] == '/' and p['Roles'] == [], p
assert p['Arn'] == 'arn:aws:iam::$ACCOUNT:instance-profile/s3access-profile', p['Arn']
assert p['InstanceProfileId'].startswith('AIPA') and len(p['InstanceProfileId']) == 21, p
"

# 6. add-role-to-instance-profile.
run iam add-role-to-instance-profile --instance-profile-name s3access-profile --role-name s3access
expect_success "add-role-to-instance-profile"
run iam get-instance-profile --instance-profile-name s3access-profile
json_check "the profile now holds s3access" "
roles = r['InstanceProfile']['Roles']
assert [x['RoleName'] for x in roles] == ['s3access'], roles
"

# A second role: an instance profile holds one role, a hard limit.
run iam create-role --role-name s3access-second --assume-role-policy-document file://ec2-role-trust-policy.json
expect_success "create-role (a second role)"
run iam add-role-to-instance-profile --instance-profile-name s3access-profile --role-name s3access-second
want="An error occurred (LimitExceeded) when calling the AddRoleToInstanceProfile operation: Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1"
if [ "$CODE" -ne 0 ] && [[ "$ERR" == *"$want"* ]]; then
  pass "a second add-role-to-instance-profile is LimitExceeded"
else
  fail "a second add-role-to-instance-profile is LimitExceeded" "exit $CODE" "stderr: $ERR"
fi

# sts get-caller-identity: the data dir's admin.
run sts get-caller-identity
expect_success "sts get-caller-identity"
json_check "get-caller-identity names the admin user" "
assert r['Account'] == '$ACCOUNT', r
assert r['Arn'] == 'arn:aws:iam::$ACCOUNT:user/admin', r
assert r['UserId'].startswith('AIDA') and len(r['UserId']) == 21, r
"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
