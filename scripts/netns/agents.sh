#!/usr/bin/env bash
# Host metadata agents across Linux network namespaces (issue 17's acceptance): two control-plane
# replicas on one PostgreSQL database, two Dedicated Hosts each running `roleplane agent` on
# 169.254.169.254:80, and instance namespaces routed to it through their host.
#
#   cp ns:  replicas R1 (10.220.1.1:9101 …) and R2 (:9102), both `serve --store` on PostgreSQL
#     veth 10.220.1.1 ── 10.220.1.2  host A ns: agent A on 169.254.169.254:80
#        veth 10.221.1.1 ── 10.221.1.2  instance A1
#        veth 10.221.2.1 ── 10.221.2.2  instance A2
#     veth 10.220.2.1 ── 10.220.2.2  host B ns: agent B on 169.254.169.254:80
#        veth 10.222.1.1 ── 10.222.1.2  instance B1
#        veth 10.222.3.1 ── 10.222.3.2  router (forwarding) 10.222.4.1 ── 10.222.4.2  instance B2
#
# Checked: every instance gets its own role session (the AWS CLI inside each instance namespace
# finds its credentials at 169.254.169.254, as on EC2); an instance cannot use another's token or
# role, a token from one host fails on the other, and a host's agent credential cannot list or
# fetch the other host's instances; behind the router the token PUT's hop limit holds (1: times
# out, 2: works); with one replica stopped the agents carry on through the other, changes
# included; with every replica stopped the instances keep getting their current (one-minute)
# credentials, each only until its expiry, never after; a replica's return brings new sets and
# working calls back, with no restart of any agent.
#
# Usage: scripts/netns/agents.sh   (as root; ROLEPLANE_BIN overrides target/debug/roleplane)
# PostgreSQL comes from scripts/pg-test-cluster (a throwaway cluster, reached through its unix
# socket from the control-plane namespace). Every address and route lives in namespaces this
# script creates (names unique per run) and deletes on exit, also on failure.
# Prints "N passed, M failed"; exits 0 when all passed, 1 on failures, 2 when it could not run,
# 77 (skip, with the reason) when the kernel refuses network namespaces or veth pairs.
set -uo pipefail
cd "$(dirname "$0")/../.."

BIN=${ROLEPLANE_BIN:-target/debug/roleplane}
[ -x "$BIN" ] || { echo "$BIN is missing: run cargo build -p roleplane" >&2; exit 2; }
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")

missing=()
command -v ip >/dev/null || missing+=(iproute2)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}"
  { apt-get update -qq && apt-get install -y -qq "${missing[@]}"; } >/dev/null ||
    { echo "could not install ${missing[*]}" >&2; exit 2; }
fi

RUN=rq$(printf '%x%04x' $$ $((RANDOM)))
NS_CP=$RUN-cp NS_HA=$RUN-ha NS_HB=$RUN-hb NS_A1=$RUN-a1 NS_A2=$RUN-a2 NS_B1=$RUN-b1
NS_RB=$RUN-rb NS_B2=$RUN-b2
NAMESPACES=("$NS_CP" "$NS_HA" "$NS_HB" "$NS_A1" "$NS_A2" "$NS_B1" "$NS_RB" "$NS_B2")
IMDS=169.254.169.254
CP_A=10.220.1.1 CP_B=10.220.2.1
WORK=$(mktemp -d)
PG_DIR=""
declare -A PIDS=()

cleanup() {
  local pid ns
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  for ns in "${NAMESPACES[@]}"; do
    [ -e "/run/netns/$ns" ] || continue
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  [ -n "$PG_DIR" ] && scripts/pg-test-cluster stop "$PG_DIR" >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

skip() { echo "SKIP: $*"; exit 77; }
die() {
  echo "setup failed: $*" >&2
  local log
  for log in "$WORK"/*.log; do
    [ -f "$log" ] && { echo "--- $log" >&2; tail -n 20 "$log" >&2; }
  done
  exit 2
}

# --- topology --------------------------------------------------------------------------------

if ! why=$(ip netns add "$NS_CP" 2>&1); then
  skip "the kernel refused a network namespace (ip netns add: $why)"
fi
if ! command -v aws >/dev/null; then
  echo "installing the AWS CLI"
  python3 -m pip install --quiet --disable-pip-version-check -r scripts/requirements-test.txt ||
    { echo "could not install the AWS CLI" >&2; exit 2; }
  command -v pyenv >/dev/null && pyenv rehash
  hash -r
fi
for ns in "${NAMESPACES[@]:1}"; do
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

link "$NS_CP" to-ha "$CP_A" "$NS_HA" up0 10.220.1.2
link "$NS_CP" to-hb "$CP_B" "$NS_HB" up0 10.220.2.2
link "$NS_HA" to-a1 10.221.1.1 "$NS_A1" eth0 10.221.1.2
link "$NS_HA" to-a2 10.221.2.1 "$NS_A2" eth0 10.221.2.2
link "$NS_HB" to-b1 10.222.1.1 "$NS_B1" eth0 10.222.1.2
link "$NS_HB" to-rb 10.222.3.1 "$NS_RB" up0 10.222.3.2
link "$NS_RB" down0 10.222.4.1 "$NS_B2" eth0 10.222.4.2
{
  ip -n "$NS_HA" addr add "$IMDS/32" dev lo && ip -n "$NS_HB" addr add "$IMDS/32" dev lo &&
    ip -n "$NS_A1" route add default via 10.221.1.1 &&
    ip -n "$NS_A2" route add default via 10.221.2.1 &&
    ip -n "$NS_B1" route add default via 10.222.1.1 &&
    ip -n "$NS_B2" route add default via 10.222.4.1 &&
    ip -n "$NS_RB" route add default via 10.222.3.1 &&
    ip -n "$NS_HB" route add 10.222.4.0/24 via 10.222.3.2 &&
    ip -n "$NS_HA" route add default via "$CP_A" &&
    ip -n "$NS_HB" route add default via "$CP_B" &&
    ip -n "$NS_CP" route add 10.221.0.0/16 via 10.220.1.2 &&
    ip -n "$NS_CP" route add 10.222.0.0/16 via 10.220.2.2 &&
    for ns in "$NS_HA" "$NS_HB" "$NS_RB"; do
      ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 || exit 1
    done
} || die "routes"

# --- PostgreSQL and the two replicas -----------------------------------------------------------

exports=$(scripts/pg-test-cluster start --watch-pid $$) || die "PostgreSQL could not be started"
eval "$exports"
PG_DIR=$ROLEPLANE_TEST_PG_DIR
# The cluster listens on the root namespace's loopback; the control-plane namespace reaches it
# through its unix socket (a file, the same in every namespace).
pg_rest=${ROLEPLANE_TEST_PG_URL#postgres://}
pg_userinfo=${pg_rest%%@*}
pg_port=${pg_rest#*@127.0.0.1:}
pg_port=${pg_port%%/*}
STORE="postgres://$pg_userinfo@localhost:$pg_port/roleplane?host=$PG_DIR/sock"

export ROLEPLANE_MASTER_KEY
ROLEPLANE_MASTER_KEY=$(head -c 32 /dev/urandom | base64)
ADMIN_KEY=AKIANETNSAGENTADMIN1
ADMIN_SECRET=netns/agents/admin/secret/for/tests/0001

# replica N PORT: starts replica N in the control-plane namespace (one-minute credentials,
# refreshed every 20 s; host addressing for the instances' real addresses) and waits for ready.
replica() {
  local n=$1 port=$2 log=$WORK/replica$1.log
  : >"$log"
  ip netns exec "$NS_CP" env ROLEPLANE_LOG=info ROLEPLANE_TEST_ROTATION_MARGIN=10 \
    ROLEPLANE_ADMIN_ACCESS_KEY_ID=$ADMIN_KEY ROLEPLANE_ADMIN_SECRET_ACCESS_KEY=$ADMIN_SECRET \
    "$BIN" serve --store "$STORE" --data-dir "$WORK/data$n" --api-addr "0.0.0.0:$port" \
    --imds-listen 127.0.0.1:0 --imds-credential-lifetime 60 --imds-credential-refresh 20 \
    >>"$log" 2>&1 &
  PIDS[replica$n]=$!
  local _
  for _ in $(seq 1 600); do
    grep -q "roleplane ready" "$log" && return 0
    kill -0 "${PIDS[replica$n]}" 2>/dev/null || break
    sleep 0.1
  done
  die "replica $n did not become ready"
}
# stop NAME: SIGKILL, as a crash.
stop() { kill -9 "${PIDS[$1]}" 2>/dev/null; wait "${PIDS[$1]}" 2>/dev/null; unset "PIDS[$1]"; }

replica 1 9101
replica 2 9102
R1=http://$CP_A:9101 R2=http://$CP_A:9102

unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL \
  AWS_DEFAULT_PROFILE AWS_EC2_METADATA_DISABLED
export AWS_CONFIG_FILE=$WORK/no-config AWS_SHARED_CREDENTIALS_FILE=$WORK/no-credentials
export AWS_DEFAULT_REGION=us-east-1
# aws_cp [--replica URL] ARGS…: the admin's AWS CLI from the control-plane namespace.
aws_cp() {
  local endpoint=$R1
  if [ "$1" = --replica ]; then endpoint=$2; shift 2; fi
  ip netns exec "$NS_CP" env AWS_ACCESS_KEY_ID=$ADMIN_KEY AWS_SECRET_ACCESS_KEY=$ADMIN_SECRET \
    AWS_EC2_METADATA_DISABLED=true aws --endpoint-url "$endpoint" --output text "$@"
}

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; shift; printf '     %s\n' "$@"; }
check() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected: $3" "actual:   $2"; fi; }
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2], ""))' "$1" "$2" 2>/dev/null; }

# --- hosts, roles, instances -----------------------------------------------------------------

TRUST='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
POLICY='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*"}]}'
make_role() { # ROLE PROFILE
  aws_cp iam create-role --role-name "$1" --assume-role-policy-document "$TRUST" >/dev/null &&
    aws_cp iam put-role-policy --role-name "$1" --policy-name instance --policy-document "$POLICY" &&
    aws_cp iam create-instance-profile --instance-profile-name "$2" >/dev/null &&
    aws_cp iam add-role-to-instance-profile --instance-profile-name "$2" --role-name "$1"
}
host() { aws_cp ec2 allocate-hosts --availability-zone us-east-1a --instance-family m5 --quantity 1 --query 'HostIds[0]'; }
launch() { # HOST PROFILE PRIVATE_IP -> instance ID (through replica 2: both serve one state)
  aws_cp --replica "$R2" ec2 run-instances --image-id ami-0123456789abcdef0 --count 1 \
    --instance-type m5.large --placement "HostId=$1" --private-ip-address "$3" \
    --iam-instance-profile "Name=$2" \
    --metadata-options HttpTokens=optional,HttpPutResponseHopLimit=1,HttpEndpoint=enabled \
    --query 'Instances[0].InstanceId'
}
make_role role-a profile-a || die "role A"
make_role role-b profile-b || die "role B"
HOST_A=$(host) || die "host A"
HOST_B=$(host) || die "host B"
ID_A1=$(launch "$HOST_A" profile-a 10.221.1.2) || die "launch A1"
ID_A2=$(launch "$HOST_A" profile-a 10.221.2.2) || die "launch A2"
ID_B1=$(launch "$HOST_B" profile-b 10.222.1.2) || die "launch B1"
ID_B2=$(launch "$HOST_B" profile-b 10.222.4.2) || die "launch B2"
echo "hosts: A=$HOST_A B=$HOST_B; instances A1=$ID_A1 A2=$ID_A2 B1=$ID_B1 B2=$ID_B2 (behind the router)"

# agent NAME NS HOST: the host's credential (0600) and its agent on 169.254.169.254:80.
agent() {
  local name=$1 ns=$2 host=$3 log=$WORK/agent-$1.log
  ip netns exec "$NS_CP" env ROLEPLANE_MASTER_KEY="$ROLEPLANE_MASTER_KEY" \
    "$BIN" host credentials "$host" --store "$STORE" --data-dir "$WORK/data1" \
    >"$WORK/$name.credentials" || die "host credentials $host"
  chmod 600 "$WORK/$name.credentials"
  local cp=$CP_A
  [ "$name" = b ] && cp=$CP_B
  ip netns exec "$ns" env ROLEPLANE_LOG=info "$BIN" agent \
    --control-plane "http://$cp:9101,http://$cp:9102" --host-id "$host" \
    --credentials "$WORK/$name.credentials" --listen "$IMDS:80" --health-addr 127.0.0.1:9191 \
    --report-interval 5 >"$log" 2>&1 &
  PIDS[agent-$name]=$!
  local _
  for _ in $(seq 1 300); do
    grep -q "roleplane agent ready" "$log" && return 0
    kill -0 "${PIDS[agent-$name]}" 2>/dev/null || break
    sleep 0.1
  done
  die "agent $name did not become ready"
}
agent a "$NS_HA" "$HOST_A"
agent b "$NS_HB" "$HOST_B"

# --- attribution, sessions, isolation ----------------------------------------------------------

token() { in_ns "$1" curl -s --max-time 3 -X PUT "http://$IMDS/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 21600"; }
get() { # NS TOKEN PATH
  if [ -n "$2" ]; then
    in_ns "$1" curl -s --max-time 3 -H "X-aws-ec2-metadata-token: $2" "http://$IMDS$3"
  else
    in_ns "$1" curl -s --max-time 3 "http://$IMDS$3"
  fi
}
status() { # NS TOKEN PATH
  in_ns "$1" curl -s --max-time 3 -o /dev/null -w '%{http_code}' \
    -H "X-aws-ec2-metadata-token: $2" "http://$IMDS$3"
}
creds() { local t; t=$(token "$1"); get "$1" "$t" "/latest/meta-data/iam/security-credentials/$2"; }
# whoami NS ENDPOINT: the AWS CLI inside the instance's namespace, with no credentials but what
# it finds at 169.254.169.254 itself (botocore's IMDS provider, IMDSv2 first).
whoami() {
  in_ns "$1" aws --endpoint-url "$2" --output text sts get-caller-identity --query Arn 2>&1
}
ACCOUNT=123456789012

for pair in "A1 $NS_A1 $ID_A1 role-a $R1" "A2 $NS_A2 $ID_A2 role-a $R2" \
  "B1 $NS_B1 $ID_B1 role-b http://$CP_B:9101"; do
  read -r name ns id role endpoint <<<"$pair"
  check "$name: the AWS CLI in the instance signs as its own role session" \
    "$(whoami "$ns" "$endpoint")" "arn:aws:sts::$ACCOUNT:assumed-role/$role/$id"
done
KEY_A1=$(field "$(creds "$NS_A1" role-a)" AccessKeyId)
KEY_A2=$(field "$(creds "$NS_A2" role-a)" AccessKeyId)
KEY_B1=$(field "$(creds "$NS_B1" role-b)" AccessKeyId)
if [[ $KEY_A1 == ASIA* && $KEY_A2 == ASIA* && $KEY_B1 == ASIA* && $KEY_A1 != "$KEY_A2" && $KEY_A1 != "$KEY_B1" ]]; then
  pass "A1, A2 and B1 hold different sets"
else
  fail "A1, A2 and B1 hold different sets" "$KEY_A1 $KEY_A2 $KEY_B1"
fi
TOKEN_A1=$(token "$NS_A1")
TOKEN_A2=$(token "$NS_A2")
TOKEN_B1=$(token "$NS_B1")
check "A1: instance-id is A1's" "$(get "$NS_A1" "$TOKEN_A1" /latest/meta-data/instance-id)" "$ID_A1"
check "A1: placement/host-id is host A" "$(get "$NS_A1" "$TOKEN_A1" /latest/meta-data/placement/host-id)" "$HOST_A"
check "B1: placement/host-id is host B" "$(get "$NS_B1" "$TOKEN_B1" /latest/meta-data/placement/host-id)" "$HOST_B"
check "A1 presenting A2's token (same host): 401" "$(status "$NS_A1" "$TOKEN_A2" /latest/meta-data/instance-id)" 401
check "A1 presenting B1's token (the other host's): 401" "$(status "$NS_A1" "$TOKEN_B1" /latest/meta-data/instance-id)" 401
check "B1 presenting A1's token (the other host's): 401" "$(status "$NS_B1" "$TOKEN_A1" /latest/meta-data/iam/security-credentials/role-a)" 401
check "A1 asking for host B's role: 404" "$(status "$NS_A1" "$TOKEN_A1" /latest/meta-data/iam/security-credentials/role-b)" 404
check "host A itself is no instance: 404" \
  "$(in_ns "$NS_HA" curl -s --max-time 3 -o /dev/null -w '%{http_code}' "http://$IMDS/latest/meta-data/instance-id")" 404

# A host's agent credential against the agent API, by hand (curl signs SigV4).
agent_api() { # NAME METHOD PATH [BODY] -> HTTP status and error type
  local key secret
  key=$(sed -n 's/^aws_access_key_id = //p' "$WORK/$1.credentials")
  secret=$(sed -n 's/^aws_secret_access_key = //p' "$WORK/$1.credentials")
  in_ns "$NS_HA" curl -s --max-time 10 -o /dev/null -D - -X "$2" \
    --aws-sigv4 "aws:amz:us-east-1:roleplane-agent" -u "$key:$secret" \
    -H 'content-type: application/json' ${4:+--data "$4"} "$R1$3" |
    awk 'NR == 1 {status = $2} tolower($1) == "x-amzn-errortype:" {type = $2} END {printf "%s %s", status, type}' |
    tr -d '\r'
}
check "agent A's credential lists host A" "$(agent_api a GET "/v1/hosts/$HOST_A/instances")" "200 "
check "agent A's credential cannot list host B" "$(agent_api a GET "/v1/hosts/$HOST_B/instances")" "403 AccessDeniedException"
check "agent A's credential cannot fetch B1's credentials through host B" \
  "$(agent_api a POST "/v1/hosts/$HOST_B/credentials" "{\"instanceId\":\"$ID_B1\",\"delivery\":\"2.0\"}")" "403 AccessDeniedException"
check "agent A's credential cannot fetch B1's credentials as host A's" \
  "$(agent_api a POST "/v1/hosts/$HOST_A/credentials" "{\"instanceId\":\"$ID_B1\",\"delivery\":\"2.0\"}")" "404 InvalidInstanceID.NotFound"
check "agent A's credential cannot call IAM" \
  "$(in_ns "$NS_HA" env AWS_ACCESS_KEY_ID="$(sed -n 's/^aws_access_key_id = //p' "$WORK/a.credentials")" \
    AWS_SECRET_ACCESS_KEY="$(sed -n 's/^aws_secret_access_key = //p' "$WORK/a.credentials")" \
    aws --endpoint-url "$R1" iam list-users 2>&1 | grep -o AccessDenied | head -n 1)" AccessDenied

# --- hop limit through the router ------------------------------------------------------------

timed_put() {
  local code out
  out=$(in_ns "$1" curl -s --max-time 3 -o /dev/null -w '%{http_code}' -X PUT \
    "http://$IMDS/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 60")
  code=$?
  echo "exit=$code http=$out"
}
check "B2 behind a router, hop limit 1: token PUT times out" "$(timed_put "$NS_B2")" "exit=28 http=000"
check "B2, hop limit 1: IMDSv1 GET still works" "$(get "$NS_B2" "" /latest/meta-data/instance-id)" "$ID_B2"
check "B1, directly attached, hop limit 1: token PUT works" "$(timed_put "$NS_B1")" "exit=0 http=200"
aws_cp ec2 modify-instance-metadata-options --instance-id "$ID_B2" \
  --http-put-response-hop-limit 2 --http-endpoint enabled >/dev/null || die "modify-instance-metadata-options"
# eventually NAME EXPECTED CMD…: CMD's output equals EXPECTED within 15 s (the agent's bound is
# about a second).
eventually() {
  local name=$1 expected=$2 actual="" _
  shift 2
  for _ in $(seq 1 30); do
    actual=$("$@")
    [ "$actual" = "$expected" ] && break
    sleep 0.5
  done
  check "$name" "$actual" "$expected"
}
eventually "B2, hop limit 2: token PUT works" "exit=0 http=200" timed_put "$NS_B2"
check "B2's session through the router is its own" \
  "$(whoami "$NS_B2" "http://$CP_B:9102")" "arn:aws:sts::$ACCOUNT:assumed-role/role-b/$ID_B2"

# --- one replica stopped: the other carries the agents and the changes --------------------------

stop replica1
aws_cp --replica "$R2" ec2 modify-instance-metadata-options --instance-id "$ID_A1" \
  --http-tokens required --http-endpoint enabled >/dev/null || die "modify through replica 2"
eventually "replica 1 stopped: a change made through replica 2 reaches agent A (IMDSv1 refused)" \
  401 status "$NS_A1" "" /latest/meta-data/instance-id
check "replica 1 stopped: A1's CLI signs through replica 2" \
  "$(whoami "$NS_A1" "$R2")" "arn:aws:sts::$ACCOUNT:assumed-role/role-a/$ID_A1"

# --- every replica stopped: sets until their expiry, never after --------------------------------

stop replica2
echo "every replica stopped at $(date -u +%T)"
# The SDK (botocore's credential chain, IMDS at 169.254.169.254) still resolves the instance's
# set: the credentials a client signs with, with no control plane to ask.
sdk_key() {
  in_ns "$1" python3 -c 'import botocore.session; print(botocore.session.get_session().get_credentials().get_frozen_credentials().access_key)' 2>&1
}
SDK_KEY=$(sdk_key "$NS_A1")
if [[ $SDK_KEY == ASIA* ]]; then pass "all stopped: botocore in A1 still resolves its credentials"; else fail "all stopped: botocore in A1 still resolves its credentials" "$SDK_KEY"; fi
# watch NS ROLE: polls the instance's credentials every half second until 3 s past the expiry
# of the last set served; prints "served=N after_expiry=M violations=K".
watch() {
  local ns=$1 role=$2 last=0 served=0 after=0 bad=0 started now body code exp t
  started=$(date +%s)
  while :; do
    now=$(date +%s)
    t=$(token "$ns")
    body=$(in_ns "$ns" curl -s --max-time 3 -w '\n%{http_code}' -H "X-aws-ec2-metadata-token: $t" \
      "http://$IMDS/latest/meta-data/iam/security-credentials/$role")
    code=${body##*$'\n'}
    body=${body%$'\n'*}
    if [ "$code" = 200 ]; then
      exp=$(date -d "$(field "$body" Expiration)" +%s)
      [ "$exp" -gt "$now" ] || bad=$((bad + 1))
      [ "$exp" -gt "$last" ] && last=$exp
      served=$((served + 1))
    elif [ "$code" = 404 ] && [ "$last" -gt 0 ] && [ "$now" -ge $((last - 1)) ]; then
      after=$((after + 1))
    else
      bad=$((bad + 1))
    fi
    [ "$last" -gt 0 ] && [ "$(date +%s)" -gt $((last + 3)) ] && break
    [ "$(date +%s)" -gt $((started + 90)) ] && break
    sleep 0.5
  done
  echo "served=$((served > 0)) after_expiry=$((after > 0)) violations=$bad"
}
watch "$NS_B1" role-b >"$WORK/outage-b" &
OUTAGE_B_PID=$!
OUTAGE_A=$(watch "$NS_A2" role-a)
wait "$OUTAGE_B_PID"
OUTAGE_B=$(cat "$WORK/outage-b")
check "all stopped: A2 kept its set until its expiry, then 404, never an expired set" "$OUTAGE_A" "served=1 after_expiry=1 violations=0"
check "all stopped: B1 (host B) the same" "$OUTAGE_B" "served=1 after_expiry=1 violations=0"
check "all stopped: the rest of the tree is still served" "$(get "$NS_A1" "$(token "$NS_A1")" /latest/meta-data/instance-id)" "$ID_A1"

# --- a replica returns: new sets, calls succeed, no agent restarted -----------------------------

replica 2 9102
new_key() { field "$(creds "$1" "$2")" AccessKeyId; }
fresh() { local k; k=$(new_key "$1" "$2"); [[ $k == ASIA* && $k != "$3" ]] && echo new || echo "none ($k)"; }
eventually "replica 2 back: A2 is served a new set" new fresh "$NS_A2" role-a "$KEY_A2"
eventually "replica 2 back: B1 is served a new set" new fresh "$NS_B1" role-b "$KEY_B1"
check "replica 2 back: A2's CLI signs again" "$(whoami "$NS_A2" "$R2")" "arn:aws:sts::$ACCOUNT:assumed-role/role-a/$ID_A2"
check "replica 2 back: the agents were never restarted" \
  "$(kill -0 "${PIDS[agent-a]}" && kill -0 "${PIDS[agent-b]}" && echo running)" running

echo "$passed passed, $failed failed"
if [ "$failed" -gt 0 ]; then
  for log in "$WORK"/*.log; do
    echo "--- $log"
    tail -n 30 "$log"
  done
  exit 1
fi
