#!/usr/bin/env bash
# The seed document's IAM steps, verbatim, with the AWS CLI against a fresh roleplane server:
# the EC2 trust policy file, create-role, put-role-policy, create-instance-profile,
# add-role-to-instance-profile (and a second one, which AWS refuses with LimitExceeded), plus
# sts get-caller-identity and iam get-access-key-last-used. Responses are checked against the
# seed's examples with python3.
#
# Usage: scripts/cli/seed_iam.sh   (ROLEPLANE_BIN overrides target/debug/roleplane)
# Prints "N passed, M failed" and exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/../.."

# shellcheck source=scripts/cli/lib.sh
source scripts/cli/lib.sh

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

# update-role: its response is an empty UpdateRoleResult, which botocore requires.
run iam update-role --role-name s3access --description "the seed's S3 role" --max-session-duration 7200
expect_success "update-role"
run iam get-role --role-name s3access
json_check "update-role changed the description and the session limit" "
role = r['Role']
assert role['Description'] == \"the seed's S3 role\", role
assert role['MaxSessionDuration'] == 7200, role
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

# get-access-key-last-used on the admin's own key: the newest use is this very IAM call.
run iam list-access-keys --user-name admin
KEY_ID=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["AccessKeyMetadata"][0]["AccessKeyId"])' <<<"$OUT")
run iam get-access-key-last-used --access-key-id "$KEY_ID"
expect_success "iam get-access-key-last-used"
json_check "get-access-key-last-used names the time, service and region of the newest use" "
used = r['AccessKeyLastUsed']
assert r['UserName'] == 'admin', r
assert used['ServiceName'] == 'iam' and used['Region'] == 'us-east-1', used
assert used['LastUsedDate'][:2] == '20', used
"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
