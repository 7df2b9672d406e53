#!/usr/bin/env bash
# IMDS host mode across Linux network namespaces: roleplane serves 169.254.169.254:80 in a server
# namespace and attributes every connection by its source address, the instance's private IP.
#
#   server ns:  lo 127.0.0.1 (API), 169.254.169.254/32 (IMDS)
#     veth 10.213.1.1 ── 10.213.1.2  instance A   (profile A, role A)
#     veth 10.213.2.1 ── 10.213.2.2  instance B   (profile B, role B)
#     veth 10.213.3.1 ── 10.213.3.2  router (forwarding) 10.213.4.1 ── 10.213.4.2  instance C
#
# Checked: each namespace gets its own instance ID and role credentials (which work, as that
# instance's session); a token minted in B is refused from A; A cannot read B's role; a caller
# that is no instance gets nothing; behind the router, hop limit 1 makes the token PUT time out
# while IMDSv1 GETs work, and after modify-instance-metadata-options to 2 the PUT works.
#
# Usage: scripts/netns/host_mode.sh   (as root; ROLEPLANE_BIN overrides target/debug/roleplane)
# Every address and route lives in namespaces this script creates (names unique per run) and
# deletes on exit, also on failure; the root namespace is not touched.
# Prints "N passed, M failed"; exits 0 when all passed, 1 on failures, 2 when it could not run,
# 77 (skip, with the reason) when the kernel refuses network namespaces or veth pairs.
set -uo pipefail
cd "$(dirname "$0")/../.."

BIN=${ROLEPLANE_BIN:-target/debug/roleplane}
[ -x "$BIN" ] || { echo "$BIN is missing: run cargo build -p roleplane" >&2; exit 2; }
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")

# What the test needs beyond the toolchain, installed the way scripts/test does.
missing=()
command -v ip >/dev/null || missing+=(iproute2)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}"
  { apt-get update -qq && apt-get install -y -qq "${missing[@]}"; } >/dev/null ||
    { echo "could not install ${missing[*]}" >&2; exit 2; }
fi

# Unique per run, so parallel runs (and leftovers of a killed one) never collide.
RUN=rp$(printf '%x%04x' $$ $((RANDOM)))
NS_SRV=$RUN-srv NS_A=$RUN-a NS_B=$RUN-b NS_R=$RUN-r NS_C=$RUN-c
NAMESPACES=("$NS_SRV" "$NS_A" "$NS_B" "$NS_R" "$NS_C")
IMDS=169.254.169.254
WORK=$(mktemp -d)
DATA=$WORK/data
LOG=$WORK/server.log
SERVER=""

cleanup() {
  if [ -n "$SERVER" ]; then
    kill "$SERVER" 2>/dev/null
    wait "$SERVER" 2>/dev/null
  fi
  local ns pid
  for ns in "${NAMESPACES[@]}"; do
    [ -e "/run/netns/$ns" ] || continue
    # Anything this run left inside (a curl still waiting): ours, by namespace.
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
    # Deleting a namespace destroys the veth ends inside it, and with them their peers.
    ip netns del "$ns" 2>/dev/null
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

skip() { echo "SKIP: $*"; exit 77; }
die() { echo "setup failed: $*" >&2; [ -f "$LOG" ] && sed 's/^/  [server] /' "$LOG" >&2; exit 2; }

# --- topology -------------------------------------------------------------------------------

if ! why=$(ip netns add "$NS_SRV" 2>&1); then
  skip "the kernel refused a network namespace (ip netns add: $why)"
fi
if ! command -v aws >/dev/null; then
  echo "installing the AWS CLI"
  python3 -m pip install --quiet --disable-pip-version-check -r scripts/requirements-test.txt ||
    { echo "could not install the AWS CLI" >&2; exit 2; }
  command -v pyenv >/dev/null && pyenv rehash
  hash -r
fi
for ns in "$NS_A" "$NS_B" "$NS_R" "$NS_C"; do
  ip netns add "$ns" || die "ip netns add $ns"
done
for ns in "${NAMESPACES[@]}"; do
  ip -n "$ns" link set lo up || die "lo up in $ns"
done

# link NS1 IF1 ADDR1 NS2 IF2 ADDR2: a veth pair created straight inside the two namespaces.
link() {
  local why
  if ! why=$(ip -n "$1" link add "$2" type veth peer name "$5" netns "$4" 2>&1); then
    case $why in
      *"not supported"* | *"Unknown device type"* | *"Operation not permitted"*)
        skip "the kernel refused a veth pair ($why)" ;;
      *) die "veth $1/$2 - $4/$5: $why" ;;
    esac
  fi
  ip -n "$1" addr add "$3/24" dev "$2" && ip -n "$1" link set "$2" up &&
    ip -n "$4" addr add "$6/24" dev "$5" && ip -n "$4" link set "$5" up ||
    die "addresses on $1/$2 - $4/$5"
}

ip -n "$NS_SRV" addr add "$IMDS/32" dev lo || die "$IMDS on the server's loopback"
link "$NS_SRV" to-a 10.213.1.1 "$NS_A" eth0 10.213.1.2
link "$NS_SRV" to-b 10.213.2.1 "$NS_B" eth0 10.213.2.2
link "$NS_SRV" to-r 10.213.3.1 "$NS_R" up0 10.213.3.2
link "$NS_R" down0 10.213.4.1 "$NS_C" eth0 10.213.4.2
{
  ip -n "$NS_A" route add "$IMDS/32" via 10.213.1.1 &&
    ip -n "$NS_B" route add "$IMDS/32" via 10.213.2.1 &&
    ip -n "$NS_C" route add "$IMDS/32" via 10.213.4.1 &&
    ip -n "$NS_R" route add "$IMDS/32" via 10.213.3.1 &&
    ip -n "$NS_SRV" route add 10.213.4.0/24 via 10.213.3.2 &&
    ip netns exec "$NS_R" sysctl -qw net.ipv4.ip_forward=1
} || die "routes"

# --- the server, in its namespace --------------------------------------------------------------

ip netns exec "$NS_SRV" env ROLEPLANE_LOG=info "$BIN" serve --data-dir "$DATA" \
  --api-addr 127.0.0.1:0 --imds-listen "$IMDS:80" >"$LOG" 2>&1 &
SERVER=$!
API=""
for _ in $(seq 1 300); do
  API=$(sed -n 's/.*ready.*api=\([^ ]*\).*/\1/p' "$LOG" | head -n 1)
  [ -n "$API" ] && break
  kill -0 "$SERVER" 2>/dev/null || break
  sleep 0.1
done
[ -n "$API" ] || die "the server did not become ready"

# Only the data dir's admin credentials: nothing from the environment or ~/.aws.
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL
export AWS_SHARED_CREDENTIALS_FILE=$DATA/credentials
export AWS_CONFIG_FILE=$WORK/no-config
export AWS_DEFAULT_PROFILE=roleplane
export AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; shift; printf '     %s\n' "$@"; }
# check NAME ACTUAL EXPECTED
check() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected: $3" "actual:   $2"; fi; }

# aws ARGS…: the AWS CLI from inside the server namespace (the API listens on its loopback).
aws_srv() { ip netns exec "$NS_SRV" aws --endpoint-url "http://$API" --output text "$@"; }
# in NS CMD…: a command inside an instance's namespace.
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
# field JSON KEY: one top-level string of a JSON document.
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2], ""))' "$1" "$2" 2>/dev/null; }

# --- roles, profiles, instances --------------------------------------------------------------

TRUST='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
# Each role may list roles only when called from its own instance's private IP, and instance
# profiles only from an address no instance has: one call allowed and one denied prove that
# aws:Ec2InstanceSourcePrivateIPv4 carries the host-mode address and is evaluated.
role_policy() {
  printf '{"Version":"2012-10-17","Statement":[%s,%s]}' \
    "$(printf '{"Effect":"Allow","Action":"iam:ListRoles","Resource":"*","Condition":{"IpAddress":{"aws:Ec2InstanceSourcePrivateIPv4":"%s/32"}}}' "$1")" \
    '{"Effect":"Allow","Action":"iam:ListInstanceProfiles","Resource":"*","Condition":{"IpAddress":{"aws:Ec2InstanceSourcePrivateIPv4":"10.213.9.9/32"}}}'
}
make_role() { # ROLE PROFILE PRIVATE_IP
  aws_srv iam create-role --role-name "$1" --assume-role-policy-document "$TRUST" >/dev/null &&
    aws_srv iam put-role-policy --role-name "$1" --policy-name instance \
      --policy-document "$(role_policy "$3")" &&
    aws_srv iam create-instance-profile --instance-profile-name "$2" >/dev/null &&
    aws_srv iam add-role-to-instance-profile --instance-profile-name "$2" --role-name "$1"
}
launch() { # PROFILE PRIVATE_IP -> instance ID
  aws_srv ec2 run-instances --image-id ami-0123456789abcdef0 --count 1 \
    --private-ip-address "$2" --iam-instance-profile "Name=$1" \
    --metadata-options HttpTokens=optional,HttpPutResponseHopLimit=1,HttpEndpoint=enabled \
    --query 'Instances[0].InstanceId'
}
make_role role-a profile-a 10.213.1.2 || die "role A"
make_role role-b profile-b 10.213.2.2 || die "role B"
make_role role-c profile-c 10.213.4.2 || die "role C"
ID_A=$(launch profile-a 10.213.1.2) || die "launch A"
ID_B=$(launch profile-b 10.213.2.2) || die "launch B"
ID_C=$(launch profile-c 10.213.4.2) || die "launch C"
echo "instances: A=$ID_A (10.213.1.2) B=$ID_B (10.213.2.2) C=$ID_C (10.213.4.2, behind the router)"

# --- attribution by source address -----------------------------------------------------------

# The seed's IMDSv2 pair, verbatim but for -s, from inside namespace $1 for role $2.
seed_v2() {
  in_ns "$1" bash -c 'TOKEN=`curl -s -X PUT "http://169.254.169.254/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 21600"` && curl -s -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/iam/security-credentials/'"$2"
}
token() { in_ns "$1" curl -s --max-time 3 -X PUT "http://$IMDS/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 21600"; }
# get NS TOKEN PATH: body of an IMDS GET (IMDSv1 when TOKEN is empty).
get() {
  if [ -n "$2" ]; then
    in_ns "$1" curl -s --max-time 3 -H "X-aws-ec2-metadata-token: $2" "http://$IMDS$3"
  else
    in_ns "$1" curl -s --max-time 3 "http://$IMDS$3"
  fi
}
# status NS TOKEN PATH: HTTP status of an IMDS GET.
status() {
  in_ns "$1" curl -s --max-time 3 -o /dev/null -w '%{http_code}' \
    -H "X-aws-ec2-metadata-token: $2" "http://$IMDS$3"
}
# as_instance CREDENTIALS_JSON AWS_ARGS…: the AWS CLI (in the server namespace) signing with
# credentials served by IMDS, and nothing else.
as_instance() {
  local creds=$1; shift
  env -u AWS_DEFAULT_PROFILE AWS_SHARED_CREDENTIALS_FILE=/nonexistent \
    AWS_ACCESS_KEY_ID="$(field "$creds" AccessKeyId)" \
    AWS_SECRET_ACCESS_KEY="$(field "$creds" SecretAccessKey)" \
    AWS_SESSION_TOKEN="$(field "$creds" Token)" \
    ip netns exec "$NS_SRV" aws --endpoint-url "http://$API" --output text "$@"
}
# caller CREDENTIALS_JSON: the ARN STS sees for those credentials.
caller() { as_instance "$1" sts get-caller-identity --query Arn; }
# may CREDENTIALS_JSON IAM_LIST_COMMAND: allowed, AccessDenied, or the CLI's error.
may() {
  local out
  if out=$(as_instance "$1" iam "$2" --max-items 1 2>&1); then
    echo allowed
  elif [[ $out == *"(AccessDenied)"* ]]; then
    echo AccessDenied
  else
    echo "error: $out"
  fi
}
ACCOUNT=123456789012

CREDS_A=$(seed_v2 "$NS_A" role-a)
CREDS_B=$(seed_v2 "$NS_B" role-b)
check "A: seed IMDSv2 pair returns Code Success" "$(field "$CREDS_A" Code)" Success
check "B: seed IMDSv2 pair returns Code Success" "$(field "$CREDS_B" Code)" Success
KEY_A=$(field "$CREDS_A" AccessKeyId)
KEY_B=$(field "$CREDS_B" AccessKeyId)
if [[ $KEY_A == ASIA* && $KEY_B == ASIA* && $KEY_A != "$KEY_B" ]]; then
  pass "A and B hold different temporary key IDs"
else
  fail "A and B hold different temporary key IDs" "A: $KEY_A" "B: $KEY_B"
fi
check "A's credentials are A's instance session of role A" "$(caller "$CREDS_A")" \
  "arn:aws:sts::$ACCOUNT:assumed-role/role-a/$ID_A"
check "B's credentials are B's instance session of role B" "$(caller "$CREDS_B")" \
  "arn:aws:sts::$ACCOUNT:assumed-role/role-b/$ID_B"
check "A's session: aws:Ec2InstanceSourcePrivateIPv4 10.213.1.2 matches" "$(may "$CREDS_A" list-roles)" allowed
check "A's session: a condition on another address denies" "$(may "$CREDS_A" list-instance-profiles)" AccessDenied
check "B's session: aws:Ec2InstanceSourcePrivateIPv4 10.213.2.2 matches" "$(may "$CREDS_B" list-roles)" allowed

TOKEN_A=$(token "$NS_A")
TOKEN_B=$(token "$NS_B")
check "A: instance-id is A's" "$(get "$NS_A" "$TOKEN_A" /latest/meta-data/instance-id)" "$ID_A"
check "B: instance-id is B's" "$(get "$NS_B" "$TOKEN_B" /latest/meta-data/instance-id)" "$ID_B"
check "A: local-ipv4 is its source address" "$(get "$NS_A" "$TOKEN_A" /latest/meta-data/local-ipv4)" 10.213.1.2
check "A: the role list names role A" "$(get "$NS_A" "$TOKEN_A" /latest/meta-data/iam/security-credentials/)" role-a
check "B: the role list names role B" "$(get "$NS_B" "$TOKEN_B" /latest/meta-data/iam/security-credentials/)" role-b
check "A: IMDSv1 instance-id is A's" "$(get "$NS_A" "" /latest/meta-data/instance-id)" "$ID_A"

# Nothing in a request selects an instance: B's token and B's role name are worthless from A.
check "A presenting B's token: 401" "$(status "$NS_A" "$TOKEN_B" /latest/meta-data/instance-id)" 401
check "A presenting B's token for B's credentials: 401" \
  "$(status "$NS_A" "$TOKEN_B" /latest/meta-data/iam/security-credentials/role-b)" 401
check "A asking for B's role with its own token: 404" \
  "$(status "$NS_A" "$TOKEN_A" /latest/meta-data/iam/security-credentials/role-b)" 404
check "B presenting A's token: 401" "$(status "$NS_B" "$TOKEN_A" /latest/meta-data/instance-id)" 401
# The server namespace itself (source 169.254.169.254) is no instance.
check "a caller that is no instance: 404 on credentials" \
  "$(in_ns "$NS_SRV" curl -s --max-time 3 -o /dev/null -w '%{http_code}' "http://$IMDS/latest/meta-data/iam/security-credentials/role-a")" 404

# --- hop limit across a router ---------------------------------------------------------------

# timed_put NS: curl's exit code and HTTP status of a token PUT that gives up after 3 s.
timed_put() {
  local code out
  out=$(in_ns "$1" curl -s --max-time 3 -o /dev/null -w '%{http_code}' -X PUT \
    "http://$IMDS/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 60")
  code=$?
  echo "exit=$code http=$out"
}
# 28 is curl's timeout: connected (the handshake is not TTL-limited) but no response arrived.
check "C behind a router, hop limit 1: token PUT times out" "$(timed_put "$NS_C")" "exit=28 http=000"
check "C, hop limit 1: IMDSv1 GET still works (only the PUT response is TTL-limited)" \
  "$(get "$NS_C" "" /latest/meta-data/instance-id)" "$ID_C"
check "A, directly attached, hop limit 1: token PUT works" "$(timed_put "$NS_A")" "exit=0 http=200"

aws_srv ec2 modify-instance-metadata-options --instance-id "$ID_C" \
  --http-put-response-hop-limit 2 --http-endpoint enabled >/dev/null || die "modify-instance-metadata-options"
check "C, hop limit 2: token PUT works" "$(timed_put "$NS_C")" "exit=0 http=200"
TOKEN_C=$(token "$NS_C")
check "C, hop limit 2: instance-id with the token is C's" "$(get "$NS_C" "$TOKEN_C" /latest/meta-data/instance-id)" "$ID_C"
CREDS_C=$(get "$NS_C" "$TOKEN_C" /latest/meta-data/iam/security-credentials/role-c)
check "C's credentials (through the router) are C's instance session of role C" "$(caller "$CREDS_C")" \
  "arn:aws:sts::$ACCOUNT:assumed-role/role-c/$ID_C"

aws_srv ec2 modify-instance-metadata-options --instance-id "$ID_C" \
  --http-put-response-hop-limit 1 --http-endpoint enabled >/dev/null || die "modify-instance-metadata-options"
check "C, back to hop limit 1: token PUT times out again" "$(timed_put "$NS_C")" "exit=28 http=000"

echo "$passed passed, $failed failed"
if [ "$failed" -gt 0 ]; then
  echo "--- server log ---"
  tail -n 50 "$LOG"
  exit 1
fi
