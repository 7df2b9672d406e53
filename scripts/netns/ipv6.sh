#!/usr/bin/env bash
# IMDS over IPv6 in host mode, across Linux network namespaces: roleplane serves both
# 169.254.169.254:80 and [fd00:ec2::254]:80 (one --imds-listen each, given through the
# comma-separated ROLEPLANE_IMDS_LISTEN) in a server namespace, and attributes an IPv6
# connection by its source address, answering it only while the instance's HttpProtocolIpv6 is
# enabled.
#
#   server ns:  lo 127.0.0.1 (API), 169.254.169.254/32, fd00:ec2::254/128 (IMDS)
#     veth 10.213.1.1 fd00:db8:1::1 ── 10.213.1.2 fd00:db8:1::2  instance A (IPv6 enabled at launch)
#     veth            fd00:db8:2::1 ──            fd00:db8:2::2  instance B (IPv6 disabled, EC2's default)
#     veth            fd00:db8:3::1 ── router (IPv6 forwarding) fd00:db8:4::1 ── fd00:db8:4::2  instance C
#
# Checked: DescribeInstances shows each instance's ipv6Address and RunInstances refuses an address
# in use and the metadata service's own; A gets its instance ID, meta-data/ipv6 and working role
# credentials over IPv6 (IMDSv1 and v2), and over IPv4 as before, with a token minted on either
# endpoint good on the other; B is refused over IPv6 until modify-instance-metadata-options
# --http-protocol-ipv6 enabled, then served as itself (A and B told apart by IPv6 source: their
# tokens do not cross); the server itself is no instance; behind the router, hop limit 1 makes
# the IPv6 token PUT time out while IMDSv1 GETs work, hop limit 2 lets it through, and back to 1
# it times out again; A disabled again is refused over IPv6 and still served over IPv4.
#
# Usage: scripts/netns/ipv6.sh   (as root; ROLEPLANE_BIN overrides target/debug/roleplane)
# Every address and route lives in namespaces this script creates (names unique per run) and
# deletes on exit, also on failure; the root namespace is not touched.
# Prints "N passed, M failed"; exits 0 when all passed, 1 on failures, 2 when it could not run,
# 77 (skip, with the reason) when the kernel refuses network namespaces, veth pairs or IPv6.
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
RUN=rp6$(printf '%x%04x' $$ $((RANDOM)))
NS_SRV=$RUN-srv NS_A=$RUN-a NS_B=$RUN-b NS_R=$RUN-r NS_C=$RUN-c
NAMESPACES=("$NS_SRV" "$NS_A" "$NS_B" "$NS_R" "$NS_C")
IMDS4=169.254.169.254
IMDS6=fd00:ec2::254
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
[ -d /proc/sys/net/ipv6 ] || skip "the kernel has no IPv6 (/proc/sys/net/ipv6 is missing)"
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
  # No duplicate address detection on the links made below (their link-local addresses too),
  # so no address waits out DAD before it can be used.
  if ! why=$(ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 \
    net.ipv6.conf.default.disable_ipv6=0 net.ipv6.conf.default.accept_dad=0 2>&1); then
    skip "the kernel refused IPv6 in a namespace ($why)"
  fi
  ip -n "$ns" link set lo up || die "lo up in $ns"
done

# add6 NS DEV ADDR/LEN: an IPv6 address used at once (no DAD); skips when IPv6 is refused.
add6() {
  local why
  if ! why=$(ip -n "$1" -6 addr add "$3" dev "$2" nodad 2>&1); then
    case $why in
      *"not supported"* | *"Permission denied"* | *"Operation not permitted"*)
        skip "the kernel refused an IPv6 address ($why)" ;;
      *) die "$3 on $1/$2: $why" ;;
    esac
  fi
}
# link NS1 IF1 NS2 IF2: a veth pair created straight inside the two namespaces, both ends up.
link() {
  local why
  if ! why=$(ip -n "$1" link add "$2" type veth peer name "$4" netns "$3" 2>&1); then
    case $why in
      *"not supported"* | *"Unknown device type"* | *"Operation not permitted"*)
        skip "the kernel refused a veth pair ($why)" ;;
      *) die "veth $1/$2 - $3/$4: $why" ;;
    esac
  fi
  ip -n "$1" link set "$2" up && ip -n "$3" link set "$4" up || die "links $1/$2 - $3/$4 up"
}

ip -n "$NS_SRV" addr add "$IMDS4/32" dev lo || die "$IMDS4 on the server's loopback"
add6 "$NS_SRV" lo "$IMDS6/128"
link "$NS_SRV" to-a "$NS_A" eth0
link "$NS_SRV" to-b "$NS_B" eth0
link "$NS_SRV" to-r "$NS_R" up0
link "$NS_R" down0 "$NS_C" eth0
{
  ip -n "$NS_SRV" addr add 10.213.1.1/24 dev to-a &&
    ip -n "$NS_A" addr add 10.213.1.2/24 dev eth0 &&
    ip -n "$NS_A" route add "$IMDS4/32" via 10.213.1.1
} || die "IPv4 for A"
add6 "$NS_SRV" to-a fd00:db8:1::1/64
add6 "$NS_A" eth0 fd00:db8:1::2/64
add6 "$NS_SRV" to-b fd00:db8:2::1/64
add6 "$NS_B" eth0 fd00:db8:2::2/64
add6 "$NS_SRV" to-r fd00:db8:3::1/64
add6 "$NS_R" up0 fd00:db8:3::2/64
add6 "$NS_R" down0 fd00:db8:4::1/64
add6 "$NS_C" eth0 fd00:db8:4::2/64
{
  ip -n "$NS_A" -6 route add "$IMDS6/128" via fd00:db8:1::1 &&
    ip -n "$NS_B" -6 route add "$IMDS6/128" via fd00:db8:2::1 &&
    ip -n "$NS_R" -6 route add "$IMDS6/128" via fd00:db8:3::1 &&
    ip -n "$NS_C" -6 route add "$IMDS6/128" via fd00:db8:4::1 &&
    ip -n "$NS_SRV" -6 route add fd00:db8:4::/64 via fd00:db8:3::2 &&
    ip netns exec "$NS_R" sysctl -qw net.ipv6.conf.all.forwarding=1
} || die "IPv6 routes"

# --- the server, in its namespace: two host-mode endpoints through the env twin ----------------

ip netns exec "$NS_SRV" env ROLEPLANE_LOG=info ROLEPLANE_IMDS_LISTEN="$IMDS4:80,[$IMDS6]:80" \
  "$BIN" serve --data-dir "$DATA" --api-addr 127.0.0.1:0 >"$LOG" 2>&1 &
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

check "the ready line announces the first endpoint's port" \
  "$(sed -n 's/.*ready.*imds_port=\([0-9]*\).*/\1/p' "$LOG" | head -n 1)" 80

# --- roles, profiles, instances --------------------------------------------------------------

TRUST='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
make_role() { # ROLE PROFILE
  aws_srv iam create-role --role-name "$1" --assume-role-policy-document "$TRUST" >/dev/null &&
    aws_srv iam create-instance-profile --instance-profile-name "$2" >/dev/null &&
    aws_srv iam add-role-to-instance-profile --instance-profile-name "$2" --role-name "$1"
}
# launch PROFILE IPV6 IPV6_PROTOCOL [EXTRA…] -> instance ID
launch() {
  local profile=$1 ipv6=$2 protocol=$3; shift 3
  aws_srv ec2 run-instances --image-id ami-0123456789abcdef0 --count 1 \
    --ipv6-addresses "[{\"Ipv6Address\":\"$ipv6\"}]" --iam-instance-profile "Name=$profile" \
    --metadata-options "HttpTokens=optional,HttpPutResponseHopLimit=1,HttpEndpoint=enabled,HttpProtocolIpv6=$protocol" \
    --query 'Instances[0].InstanceId' "$@"
}
make_role role-a profile-a || die "role A"
make_role role-b profile-b || die "role B"
make_role role-c profile-c || die "role C"
ID_A=$(launch profile-a fd00:db8:1::2 enabled --private-ip-address 10.213.1.2) || die "launch A"
ID_B=$(launch profile-b fd00:db8:2::2 disabled) || die "launch B"
ID_C=$(launch profile-c fd00:db8:4::2 enabled) || die "launch C"
echo "instances: A=$ID_A (10.213.1.2, fd00:db8:1::2) B=$ID_B (fd00:db8:2::2) C=$ID_C (fd00:db8:4::2, behind the router)"

check "DescribeInstances: A's ipv6Address" \
  "$(aws_srv ec2 describe-instances --instance-ids "$ID_A" --query 'Reservations[0].Instances[0].Ipv6Address')" \
  fd00:db8:1::2
check "DescribeInstances: B's ipv6Address" \
  "$(aws_srv ec2 describe-instances --instance-ids "$ID_B" --query 'Reservations[0].Instances[0].Ipv6Address')" \
  fd00:db8:2::2
# refused ADDRESS: the EC2 error code RunInstances answers with for that IPv6 address.
refused() {
  local out
  out=$(launch profile-a "$1" enabled 2>&1) && { echo "launched: $out"; return; }
  sed -n 's/.*An error occurred (\([^)]*\)).*/\1/p' <<<"$out" | head -n 1
}
check "RunInstances: A's IPv6 address again is in use" "$(refused fd00:db8:1::2)" InvalidIPAddress.InUse
check "RunInstances: the same address spelled out is in use" "$(refused fd00:db8:1:0:0:0:0:2)" InvalidIPAddress.InUse
check "RunInstances: the metadata service's own address is refused" "$(refused "$IMDS6")" InvalidParameterValue

# --- attribution by IPv6 source address ------------------------------------------------------

# get6 NS TOKEN PATH / get4 …: body of an IMDS GET (IMDSv1 when TOKEN is empty).
get_at() {
  local ns=$1 base=$2 token=$3 path=$4
  if [ -n "$token" ]; then
    in_ns "$ns" curl -g -s --max-time 3 -H "X-aws-ec2-metadata-token: $token" "$base$path"
  else
    in_ns "$ns" curl -g -s --max-time 3 "$base$path"
  fi
}
get6() { get_at "$1" "http://[$IMDS6]" "$2" "$3"; }
get4() { get_at "$1" "http://$IMDS4" "$2" "$3"; }
# status6 NS TOKEN PATH: HTTP status of an IMDS GET over IPv6.
status6() {
  in_ns "$1" curl -g -s --max-time 3 -o /dev/null -w '%{http_code}' \
    -H "X-aws-ec2-metadata-token: $2" "http://[$IMDS6]$3"
}
token_at() {
  in_ns "$1" curl -g -s --max-time 3 -X PUT "$2/latest/api/token" \
    -H "X-aws-ec2-metadata-token-ttl-seconds: 21600"
}
token6() { token_at "$1" "http://[$IMDS6]"; }
token4() { token_at "$1" "http://$IMDS4"; }
# caller CREDENTIALS_JSON: the ARN STS sees for credentials served by IMDS, and nothing else.
caller() {
  env -u AWS_DEFAULT_PROFILE AWS_SHARED_CREDENTIALS_FILE=/nonexistent \
    AWS_ACCESS_KEY_ID="$(field "$1" AccessKeyId)" \
    AWS_SECRET_ACCESS_KEY="$(field "$1" SecretAccessKey)" \
    AWS_SESSION_TOKEN="$(field "$1" Token)" \
    ip netns exec "$NS_SRV" aws --endpoint-url "http://$API" --output text \
    sts get-caller-identity --query Arn
}
ACCOUNT=123456789012

TOKEN_A6=$(token6 "$NS_A")
check "A over IPv6, IMDSv1: instance-id is A's" "$(get6 "$NS_A" "" /latest/meta-data/instance-id)" "$ID_A"
check "A over IPv6, IMDSv2: instance-id is A's" "$(get6 "$NS_A" "$TOKEN_A6" /latest/meta-data/instance-id)" "$ID_A"
check "A over IPv6: meta-data/ipv6 is its address" "$(get6 "$NS_A" "$TOKEN_A6" /latest/meta-data/ipv6)" fd00:db8:1::2
check "A over IPv6: meta-data/ lists ipv6" \
  "$(get6 "$NS_A" "$TOKEN_A6" /latest/meta-data/ | grep -cx ipv6)" 1
CREDS_A=$(get6 "$NS_A" "$TOKEN_A6" /latest/meta-data/iam/security-credentials/role-a)
check "A over IPv6, IMDSv2: credentials Code Success" "$(field "$CREDS_A" Code)" Success
check "A's IPv6 credentials are A's instance session of role A" "$(caller "$CREDS_A")" \
  "arn:aws:sts::$ACCOUNT:assumed-role/role-a/$ID_A"
CREDS_A1=$(get6 "$NS_A" "" /latest/meta-data/iam/security-credentials/role-a)
check "A over IPv6, IMDSv1: credentials Code Success" "$(field "$CREDS_A1" Code)" Success
check "A over IPv4 on the same server: instance-id is A's" "$(get4 "$NS_A" "" /latest/meta-data/instance-id)" "$ID_A"
TOKEN_A4=$(token4 "$NS_A")
CREDS_A4=$(get4 "$NS_A" "$TOKEN_A4" /latest/meta-data/iam/security-credentials/role-a)
check "A over IPv4, IMDSv2: credentials Code Success" "$(field "$CREDS_A4" Code)" Success
check "A: a token minted over IPv4 works over IPv6 (bound to the instance)" \
  "$(get6 "$NS_A" "$TOKEN_A4" /latest/meta-data/instance-id)" "$ID_A"
check "A: a token minted over IPv6 works over IPv4" \
  "$(get4 "$NS_A" "$TOKEN_A6" /latest/meta-data/instance-id)" "$ID_A"

check "B, HttpProtocolIpv6 disabled: IPv6 GET is refused (404, as for no instance)" \
  "$(status6 "$NS_B" "" /latest/meta-data/instance-id)" 404
check "B, HttpProtocolIpv6 disabled: IPv6 token PUT is refused" \
  "$(in_ns "$NS_B" curl -g -s --max-time 3 -o /dev/null -w '%{http_code}' -X PUT "http://[$IMDS6]/latest/api/token" -H 'X-aws-ec2-metadata-token-ttl-seconds: 60')" 404
check "B, disabled: credentials are refused" \
  "$(status6 "$NS_B" "" /latest/meta-data/iam/security-credentials/role-b)" 404
aws_srv ec2 modify-instance-metadata-options --instance-id "$ID_B" \
  --http-protocol-ipv6 enabled --http-endpoint enabled >/dev/null || die "modify-instance-metadata-options B"
check "B after --http-protocol-ipv6 enabled: DescribeInstances shows it" \
  "$(aws_srv ec2 describe-instances --instance-ids "$ID_B" --query 'Reservations[0].Instances[0].MetadataOptions.HttpProtocolIpv6')" enabled
TOKEN_B6=$(token6 "$NS_B")
check "B after enabling: instance-id over IPv6 is B's" "$(get6 "$NS_B" "$TOKEN_B6" /latest/meta-data/instance-id)" "$ID_B"
check "B: meta-data/ipv6 is its address" "$(get6 "$NS_B" "" /latest/meta-data/ipv6)" fd00:db8:2::2
CREDS_B=$(get6 "$NS_B" "$TOKEN_B6" /latest/meta-data/iam/security-credentials/role-b)
check "B's IPv6 credentials are B's instance session of role B" "$(caller "$CREDS_B")" \
  "arn:aws:sts::$ACCOUNT:assumed-role/role-b/$ID_B"
check "A presenting B's token over IPv6: 401" "$(status6 "$NS_A" "$TOKEN_B6" /latest/meta-data/instance-id)" 401
check "B presenting A's token over IPv6: 401" "$(status6 "$NS_B" "$TOKEN_A6" /latest/meta-data/instance-id)" 401
check "A asking for B's role over IPv6: 404" \
  "$(status6 "$NS_A" "$TOKEN_A6" /latest/meta-data/iam/security-credentials/role-b)" 404
# The server namespace itself (source fd00:ec2::254) is no instance.
check "a caller that is no instance: 404 over IPv6" \
  "$(in_ns "$NS_SRV" curl -g -s --max-time 3 -o /dev/null -w '%{http_code}' "http://[$IMDS6]/latest/meta-data/instance-id")" 404

# --- hop limit across a router, over IPv6 ----------------------------------------------------

# timed_put NS: curl's exit code and HTTP status of an IPv6 token PUT that gives up after 3 s.
timed_put() {
  local code out
  out=$(in_ns "$1" curl -g -s --max-time 3 -o /dev/null -w '%{http_code}' -X PUT \
    "http://[$IMDS6]/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 60")
  code=$?
  echo "exit=$code http=$out"
}
# 28 is curl's timeout: connected (the handshake is not hop-limited) but no response arrived.
check "C behind a router, hop limit 1: IPv6 token PUT times out" "$(timed_put "$NS_C")" "exit=28 http=000"
check "C, hop limit 1: IPv6 IMDSv1 GET still works (only the PUT response is hop-limited)" \
  "$(get6 "$NS_C" "" /latest/meta-data/instance-id)" "$ID_C"
check "A, directly attached, hop limit 1: IPv6 token PUT works" "$(timed_put "$NS_A")" "exit=0 http=200"
aws_srv ec2 modify-instance-metadata-options --instance-id "$ID_C" \
  --http-put-response-hop-limit 2 --http-endpoint enabled >/dev/null || die "modify-instance-metadata-options C"
check "C, hop limit 2: IPv6 token PUT works" "$(timed_put "$NS_C")" "exit=0 http=200"
TOKEN_C=$(token6 "$NS_C")
check "C, hop limit 2: instance-id with the token is C's" "$(get6 "$NS_C" "$TOKEN_C" /latest/meta-data/instance-id)" "$ID_C"
aws_srv ec2 modify-instance-metadata-options --instance-id "$ID_C" \
  --http-put-response-hop-limit 1 --http-endpoint enabled >/dev/null || die "modify-instance-metadata-options C"
check "C, back to hop limit 1: IPv6 token PUT times out again" "$(timed_put "$NS_C")" "exit=28 http=000"

# --- IPv6 off again for A; IPv4 unaffected ----------------------------------------------------

aws_srv ec2 modify-instance-metadata-options --instance-id "$ID_A" \
  --http-protocol-ipv6 disabled --http-endpoint enabled >/dev/null || die "modify-instance-metadata-options A"
check "A after --http-protocol-ipv6 disabled: IPv6 is refused, its token too" \
  "$(status6 "$NS_A" "$TOKEN_A6" /latest/meta-data/instance-id)" 404
check "A after disabling IPv6: IPv4 still serves A" "$(get4 "$NS_A" "$TOKEN_A4" /latest/meta-data/instance-id)" "$ID_A"

echo "$passed passed, $failed failed"
if [ "$failed" -gt 0 ]; then
  echo "--- server log ---"
  tail -n 50 "$LOG"
  exit 1
fi
