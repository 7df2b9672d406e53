#!/usr/bin/env bash
# The seeds' closing step with the AWS CLI against a fresh roleplane server: a role with broad
# permissions runs a workload under `roleplane run`; `aws accessanalyzer
# start-policy-generation` / `get-generated-policy` turn its recorded activity into a policy;
# a new role with only that policy runs the same workload, and a call outside it is denied.
# `roleplane policy generate` prints the same policy from the data dir.
#
# Usage: scripts/cli/generate_least_privilege.sh   (ROLEPLANE_BIN overrides target/debug/roleplane)
# Prints the generated policy and "N passed, M failed"; exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/../.."

# shellcheck source=scripts/cli/lib.sh
source scripts/cli/lib.sh

# as_instance PROFILE SCRIPT: runs SCRIPT under `roleplane run`; exit code in $CODE.
as_instance() {
  "$BIN" run --instance-profile "$1" --data-dir "$DATA" --api-endpoint "$ENDPOINT" -- \
    sh -c "$2" >"$WORK/run.out" 2>"$WORK/run.err"
  CODE=$?
  ERR=$(cat "$WORK/run.err")
}

# instance_role ROLE PROFILE POLICY_FILE
instance_role() {
  run iam create-role --role-name "$1" --assume-role-policy-document file://trust.json
  expect_success "create-role $1"
  run iam put-role-policy --role-name "$1" --policy-name only --policy-document "file://$3"
  expect_success "put-role-policy $1"
  run iam create-instance-profile --instance-profile-name "$2"
  run iam add-role-to-instance-profile --instance-profile-name "$2" --role-name "$1"
  expect_success "add-role-to-instance-profile $2"
}

cd "$WORK"
echo '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}' > trust.json
echo '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*","sts:*","ec2:Describe*"],"Resource":"*"}]}' > broad.json
instance_role broad broad-profile broad.json
run iam create-role --role-name target --assume-role-policy-document file://trust.json
run iam create-role --role-name secret --assume-role-policy-document file://trust.json

SINCE=$(( $(date +%s) - 1 ))
WORKLOAD='aws sts get-caller-identity && aws iam get-role --role-name target && aws iam list-roles && aws ec2 describe-instances'
as_instance broad-profile "$WORKLOAD"
expect_success "the workload runs as the broad role"

run accessanalyzer start-policy-generation \
  --policy-generation-details "principalArn=arn:aws:iam::$ACCOUNT:role/broad" \
  --cloud-trail-details "{\"trails\":[{\"cloudTrailArn\":\"arn:aws:cloudtrail:us-east-1:$ACCOUNT:trail/roleplane\",\"allRegions\":true}],\"accessRole\":\"arn:aws:iam::$ACCOUNT:role/service-role/AccessAnalyzer\",\"startTime\":$SINCE}"
expect_success "start-policy-generation"
JOB=$(OUT="$OUT" python3 -c "import json, os; print(json.loads(os.environ['OUT'])['jobId'])")
for _ in $(seq 1 100); do
  run accessanalyzer get-generated-policy --job-id "$JOB"
  [[ "$OUT" == *IN_PROGRESS* ]] || break
  sleep 0.1
done
expect_success "get-generated-policy"
OUT="$OUT" python3 -c "
import json, os
r = json.loads(os.environ['OUT'])
print(json.dumps(json.loads(r['generatedPolicyResult']['generatedPolicies'][0]['policy']), indent=2))
" > generated.json
cat generated.json
if OUT="$OUT" python3 -c "
import json, os
r = json.loads(os.environ['OUT'])
assert r['jobDetails']['status'] == 'SUCCEEDED', r
doc = json.loads(r['generatedPolicyResult']['generatedPolicies'][0]['policy'])
actions = sorted(a for s in doc['Statement'] for a in s['Action'])
assert actions == ['ec2:DescribeInstances', 'iam:GetRole', 'iam:ListRoles', 'sts:GetCallerIdentity'], actions
get_role = [s for s in doc['Statement'] if 'iam:GetRole' in s['Action']][0]
assert get_role['Resource'] == ['arn:aws:iam::$ACCOUNT:role/target'], get_role
"; then pass "exactly the workload's actions, GetRole on the role it read"; else fail "the generated policy" "$OUT"; fi

CLI_POLICY=$("$BIN" policy generate --data-dir "$DATA" --since "$SINCE" \
  --principal "arn:aws:iam::$ACCOUNT:role/broad" 2>/dev/null |
  python3 -c "import json, sys; print(json.load(sys.stdin)['generatedPolicyResult']['generatedPolicies'][0]['policy'])")
API_POLICY=$(OUT="$OUT" python3 -c "import json, os; print(json.loads(os.environ['OUT'])['generatedPolicyResult']['generatedPolicies'][0]['policy'])")
if [ "$CLI_POLICY" = "$API_POLICY" ]; then pass "roleplane policy generate agrees"; else fail "roleplane policy generate agrees" "$CLI_POLICY"; fi

instance_role narrow narrow-profile generated.json
as_instance narrow-profile "$WORKLOAD"
expect_success "the workload runs under the generated policy alone"
as_instance narrow-profile 'aws iam get-role --role-name secret'
if [ "$CODE" -ne 0 ] && [[ "$ERR" == *AccessDenied* ]]; then
  pass "a role the workload never read is denied"
else
  fail "a role the workload never read is denied" "exit $CODE: $ERR"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
