#!/usr/bin/env bash
# The seed document's EC2 steps, verbatim, with the AWS CLI against a fresh roleplane server:
# run-instances with --iam-instance-profile Name="s3access-profile", describe-instances,
# associate-iam-instance-profile, describe-iam-instance-profile-associations,
# replace-iam-instance-profile-association and disassociate-iam-instance-profile. The roles and
# profiles they name are made first with the seed's IAM steps. Responses are checked against
# the seed's examples (key sets, ID shapes, states) with python3.
#
# Usage: scripts/cli/seed_ec2.sh   (ROLEPLANE_BIN overrides target/debug/roleplane)
# Prints "N passed, M failed" and exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/cli/lib.sh
source scripts/cli/lib.sh

# json_get PYTHON_EXPRESSION: prints the expression evaluated on the parsed $OUT (`r`).
json_get() {
  OUT="$OUT" python3 -c "import json, os; r = json.loads(os.environ['OUT']); print($1)"
}

cd "$WORK"

# The roles and profiles the steps name (the seed's IAM steps).
echo '{ "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Principal": { "Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole" } ] }' > ec2-role-trust-policy.json
for pair in s3access:s3access-profile TestRole-1:TestRole-1 TestRole-2:TestRole-2; do
  role=${pair%%:*}
  profile=${pair#*:}
  run iam create-role --role-name "$role" --assume-role-policy-document file://ec2-role-trust-policy.json
  expect_success "create-role $role"
  run iam create-instance-profile --instance-profile-name "$profile"
  expect_success "create-instance-profile $profile"
  run iam add-role-to-instance-profile --instance-profile-name "$profile" --role-name "$role"
  expect_success "add-role-to-instance-profile $profile $role"
done

ASSOC_SHAPE="
a = r['IamInstanceProfileAssociation']
assert set(a) == {'InstanceId', 'State', 'AssociationId', 'IamInstanceProfile'} | ({'Timestamp'} & set(a)), sorted(a)
assert re.fullmatch(r'iip-assoc-[0-9a-f]{17}', a['AssociationId']), a['AssociationId']
assert re.fullmatch(r'i-[0-9a-f]{17}', a['InstanceId']), a['InstanceId']
assert set(a['IamInstanceProfile']) == {'Id', 'Arn'}, a['IamInstanceProfile']
assert a['IamInstanceProfile']['Id'].startswith('AIPA'), a
"

# The key pair run-instances names (import-key-pair: this server holds public keys only).
echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKm6HYUS+qqLMx8WnF9ybpt5SwXtGRmHaBZip9zjCSyq me@laptop' > my-key-pair.pub
run ec2 import-key-pair --key-name my-key-pair --public-key-material fileb://my-key-pair.pub
expect_success "import-key-pair my-key-pair"

# The seed names subnet-1a2b3c4d, an example ID: a launch must name one of the account's own
# subnets, so the step uses the subnet describe-subnets lists (the default VPC's).
run ec2 describe-subnets
expect_success "describe-subnets"
SUBNET=$(json_get "r['Subnets'][0]['SubnetId']")

# Launch with the role (run-instances --iam-instance-profile Name="s3access-profile").
run ec2 run-instances --image-id ami-11aa22bb --iam-instance-profile Name="s3access-profile" --key-name my-key-pair --security-groups my-security-group --subnet-id "$SUBNET"
expect_success "run-instances with --iam-instance-profile"
json_check "run-instances answers a pending instance carrying the profile" "
assert re.fullmatch(r'r-[0-9a-f]{17}', r['ReservationId']), r
assert r['OwnerId'] == '$ACCOUNT', r
[i] = r['Instances']
assert i['State'] == {'Code': 0, 'Name': 'pending'}, i['State']
assert i['ImageId'] == 'ami-11aa22bb' and i['KeyName'] == 'my-key-pair' and i['SubnetId'] == '$SUBNET', i
assert i['IamInstanceProfile']['Arn'] == 'arn:aws:iam::$ACCOUNT:instance-profile/s3access-profile', i
assert i['PrivateIpAddress'].startswith('127.') and i['PrivateIpAddress'] != '127.0.0.1', i
[g] = i['SecurityGroups']
assert g['GroupName'] == 'my-security-group' and re.fullmatch(r'sg-[0-9a-f]{17}', g['GroupId']), g
"
LAUNCHED=$(json_get "r['Instances'][0]['InstanceId']")

# A second instance without a role, to attach one to.
run ec2 run-instances --image-id ami-11aa22bb --count 1
expect_success "run-instances without a profile"
BARE=$(json_get "r['Instances'][0]['InstanceId']")

# Attach: describe-instances, then associate-iam-instance-profile.
run ec2 describe-instances
expect_success "describe-instances"
json_check "describe-instances lists both instances running" "
instances = [i for res in r['Reservations'] for i in res['Instances']]
assert sorted(i['InstanceId'] for i in instances) == sorted(['$LAUNCHED', '$BARE']), instances
assert all(i['State'] == {'Code': 16, 'Name': 'running'} for i in instances), instances
with_profile = [i['InstanceId'] for i in instances if 'IamInstanceProfile' in i]
assert with_profile == ['$LAUNCHED'], with_profile
"
run ec2 associate-iam-instance-profile --instance-id "$BARE" --iam-instance-profile Name="TestRole-1"
expect_success "associate-iam-instance-profile"
json_check "associate answers the seed's shape, associating" "$ASSOC_SHAPE
assert a['State'] == 'associating' and a['InstanceId'] == '$BARE', a
assert a['IamInstanceProfile']['Arn'] == 'arn:aws:iam::$ACCOUNT:instance-profile/TestRole-1', a
"
FIRST=$(json_get "r['IamInstanceProfileAssociation']['AssociationId']")

# Replace: describe-iam-instance-profile-associations, then replace-…-association.
run ec2 describe-iam-instance-profile-associations
expect_success "describe-iam-instance-profile-associations"
json_check "describe shows both associations associated" "
items = r['IamInstanceProfileAssociations']
assert len(items) == 2, items
for a in items:
    assert set(a) - {'Timestamp'} == {'InstanceId', 'State', 'AssociationId', 'IamInstanceProfile'}, sorted(a)
    assert a['State'] == 'associated', a
assert '$FIRST' in [a['AssociationId'] for a in items], items
"
run ec2 replace-iam-instance-profile-association --association-id "$FIRST" --iam-instance-profile Name="TestRole-2"
expect_success "replace-iam-instance-profile-association"
json_check "replace answers a new association, associating" "$ASSOC_SHAPE
assert a['State'] == 'associating' and a['AssociationId'] != '$FIRST', a
assert a['IamInstanceProfile']['Arn'] == 'arn:aws:iam::$ACCOUNT:instance-profile/TestRole-2', a
"
SECOND=$(json_get "r['IamInstanceProfileAssociation']['AssociationId']")

# Detach: describe-iam-instance-profile-associations, then disassociate-iam-instance-profile.
run ec2 describe-iam-instance-profile-associations --association-ids "$SECOND"
json_check "the replacement is associated" "
[a] = r['IamInstanceProfileAssociations']
assert a['State'] == 'associated' and a['InstanceId'] == '$BARE', a
"
run ec2 disassociate-iam-instance-profile --association-id "$SECOND"
expect_success "disassociate-iam-instance-profile"
json_check "disassociate answers the seed's shape, disassociating" "$ASSOC_SHAPE
assert a['State'] == 'disassociating' and a['AssociationId'] == '$SECOND', a
"
run ec2 describe-iam-instance-profile-associations --filters Name=instance-id,Values="$BARE" Name=state,Values=associated
json_check "no active association remains on the instance" "
assert r['IamInstanceProfileAssociations'] == [], r
"

# An error as the CLI prints it.
run ec2 associate-iam-instance-profile --instance-id "$LAUNCHED" --iam-instance-profile Name="TestRole-1"
want="An error occurred (IncorrectState) when calling the AssociateIamInstanceProfile operation: There is an existing association for instance $LAUNCHED"
if [ "$CODE" -ne 0 ] && [[ "$ERR" == *"$want"* ]]; then
  pass "a second association is IncorrectState"
else
  fail "a second association is IncorrectState" "exit $CODE" "stderr: $ERR"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
