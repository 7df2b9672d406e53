#!/usr/bin/env bash
# The clients real machines boot with, against host mode across Linux network namespaces:
# cloud-init's EC2 data source (Debian's cloud-init 22.4, run through its own code), and
# `ec2metadata` (cloud-guest-utils) and `ec2-metadata` (amazon-ec2-utils), which hard-code
# 169.254.169.254.
#
#   server ns:  lo 127.0.0.1 (API), 169.254.169.254/32 (IMDS)
#     veth 10.214.1.1 ── 10.214.1.2  instance A: HttpTokens=required, gzip'd cloud-config user
#                                    data, a key pair, an instance profile
#     veth 10.214.2.1 ── 10.214.2.2  instance B: HttpTokens=optional, a shell script as user
#                                    data, tags in metadata
#   Each instance namespace's eth0 carries its instance's MAC (IMDS `mac`).
#
# cloud-init runs as on EC2 in A: in a mount namespace whose /sys also has hypervisor/uuid
# starting with "ec2" (what cloud-init's identify_platform reads first, as on Xen-based EC2
# instances; it ignores DMI inside a container), so it asks for an IMDSv2 token and crawls with
# it. In B it runs as on a platform it does not know (another hypervisor uuid) and crawls over
# IMDSv1; in A that path is refused. Checked: platform, token use, API version, instance ID,
# region, availability zone, user data byte for byte, and the network configuration for the
# namespace's MAC. ec2metadata and ec2-metadata print, field by field, what EC2 prints for the
# same instance (fields EC2 answers 404 for say `unavailable` / `not available`).
#
# Usage: scripts/netns/clients.sh   (as root; ROLEPLANE_BIN overrides target/debug/roleplane)
# Installs iproute2, curl, cloud-init, cloud-guest-utils and amazon-ec2-utils with apt-get when
# missing (services are not started: policy-rc.d refuses them), and the AWS CLI with pip.
# Every address, route and mount lives in namespaces this script creates and deletes on exit,
# also on failure; the root namespace is not touched.
# Prints "N passed, M failed"; exits 0 when all passed, 1 on failures, 2 when it could not run,
# 77 (skip, with the reason) when the kernel refuses network namespaces or veth pairs.
set -uo pipefail
cd "$(dirname "$0")/../.."
HERE=$PWD/scripts/netns

BIN=${ROLEPLANE_BIN:-target/debug/roleplane}
[ -x "$BIN" ] || { echo "$BIN is missing: run cargo build -p roleplane" >&2; exit 2; }
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")

# Debian's Python: cloud-init is a Debian package, importable only there (not from pyenv's).
DEBIAN_PYTHON=/usr/bin/python3

# --- what the clients need, installed the way scripts/test does --------------------------------

missing=()
command -v ip >/dev/null || missing+=(iproute2)
command -v curl >/dev/null || missing+=(curl)
command -v unshare >/dev/null || missing+=(util-linux)
command -v gzip >/dev/null || missing+=(gzip)
[ -x /usr/bin/ec2metadata ] || missing+=(cloud-guest-utils)
[ -x /usr/bin/ec2-metadata ] || missing+=(amazon-ec2-utils)
{ [ -x "$DEBIAN_PYTHON" ] && "$DEBIAN_PYTHON" -c 'import cloudinit' 2>/dev/null; } || missing+=(cloud-init)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}"
  # cloud-init's package enables boot units; nothing may start now. Docker-style images carry a
  # policy-rc.d that refuses every start; where there is none, one does so for this install.
  policy=/usr/sbin/policy-rc.d
  own_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && own_policy=1
  fi
  { apt-get update -qq -o DPkg::Lock::Timeout=300 &&
    DEBIAN_FRONTEND=noninteractive apt-get install -o DPkg::Lock::Timeout=300 -y -qq --no-install-recommends "${missing[@]}"; } >/dev/null
  installed=$?
  [ -n "$own_policy" ] && rm -f "$policy"
  [ "$installed" -eq 0 ] || { echo "could not install ${missing[*]}" >&2; exit 2; }
fi

# Unique per run, so parallel runs (and leftovers of a killed one) never collide.
RUN=rc$(printf '%x%04x' $$ $((RANDOM)))
NS_SRV=$RUN-srv NS_A=$RUN-a NS_B=$RUN-b
NAMESPACES=("$NS_SRV" "$NS_A" "$NS_B")
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
    # Anything this run left inside (a client still waiting): ours, by namespace. Its mount
    # namespace, and the mounts in it, go with its last process.
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

# --- topology -----------------------------------------------------------------------------------

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
for ns in "$NS_A" "$NS_B"; do
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
link "$NS_SRV" to-a 10.214.1.1 "$NS_A" eth0 10.214.1.2
link "$NS_SRV" to-b 10.214.2.1 "$NS_B" eth0 10.214.2.2
{
  ip -n "$NS_A" route add "$IMDS/32" via 10.214.1.1 &&
    ip -n "$NS_B" route add "$IMDS/32" via 10.214.2.1
} || die "routes"

# --- the server, in its namespace ---------------------------------------------------------------

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
# check_text NAME ACTUAL_FILE EXPECTED_FILE: multi-line output, a diff when it differs.
check_text() {
  if cmp -s "$2" "$3"; then
    pass "$1"
  else
    failed=$((failed + 1))
    echo "FAIL $1 (- expected, + actual)"
    diff -u "$3" "$2" | tail -n +3 | sed 's/^/     /'
  fi
}

aws_srv() { ip netns exec "$NS_SRV" aws --endpoint-url "http://$API" --output text "$@"; }
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
# imds NS PATH: an IMDS value as the instance sees it, over IMDSv2.
imds() {
  local token
  token=$(in_ns "$1" curl -s --max-time 3 -X PUT "http://$IMDS/latest/api/token" \
    -H "X-aws-ec2-metadata-token-ttl-seconds: 60") &&
    in_ns "$1" curl -s -f --max-time 3 -H "X-aws-ec2-metadata-token: $token" "http://$IMDS$2"
}

# --- what the instances launch with -------------------------------------------------------------

ACCOUNT=123456789012
AMI=ami-0123456789abcdef0
KEY_NAME=clients-key
PUBLIC_KEY="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICmjSOpBo2V3jBF6LNckQqPDhxqxpRHDbwPgwLdtqnxs"
# A: a gzip'd cloud-config, as EC2 users send it to fit the 16 KB limit (binary: NULs, high bytes).
UD_A=$WORK/user-data-a.gz
printf '#cloud-config\nwrite_files:\n  - path: /etc/clients-marker\n    content: "%s"\n' \
  "$(printf 'A%.0s' $(seq 1 64))" | gzip -9n >"$UD_A"
# B: a shell script with a trailing newline and UTF-8 beyond ASCII.
UD_B=$WORK/user-data-b.sh
printf '#!/bin/sh\necho "grüße from user data" > /tmp/clients-marker\n' >"$UD_B"

TRUST='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
printf '%s clients-test\n' "$PUBLIC_KEY" >"$WORK/key.pub"
{
  aws_srv iam create-role --role-name clients-role --assume-role-policy-document "$TRUST" >/dev/null &&
    aws_srv iam create-instance-profile --instance-profile-name clients-profile >/dev/null &&
    aws_srv iam add-role-to-instance-profile --instance-profile-name clients-profile \
      --role-name clients-role &&
    aws_srv ec2 import-key-pair --key-name "$KEY_NAME" \
      --public-key-material "fileb://$WORK/key.pub" >/dev/null
} || die "role, instance profile and key pair"
ID_A=$(aws_srv ec2 run-instances --image-id "$AMI" --count 1 --private-ip-address 10.214.1.2 \
  --iam-instance-profile Name=clients-profile --key-name "$KEY_NAME" \
  --user-data "fileb://$UD_A" \
  --metadata-options HttpTokens=required,HttpPutResponseHopLimit=1,HttpEndpoint=enabled \
  --query 'Instances[0].InstanceId') || die "launch A"
ID_B=$(aws_srv ec2 run-instances --image-id "$AMI" --count 1 --private-ip-address 10.214.2.2 \
  --user-data "file://$UD_B" \
  --tag-specifications 'ResourceType=instance,Tags=[{Key=Name,Value=clients-b}]' \
  --metadata-options HttpTokens=optional,HttpEndpoint=enabled,InstanceMetadataTags=enabled \
  --query 'Instances[0].InstanceId') || die "launch B"
echo "instances: A=$ID_A (10.214.1.2, tokens required) B=$ID_B (10.214.2.2, tokens optional)"

# described ID QUERY: one field of DescribeInstances, the control plane's word for what IMDS shows.
described() {
  aws_srv ec2 describe-instances --instance-ids "$1" --query "Reservations[0].$2"
}
AZ_A=$(described "$ID_A" 'Instances[0].Placement.AvailabilityZone')
AZ_B=$(described "$ID_B" 'Instances[0].Placement.AvailabilityZone')

# Each namespace's eth0 takes its instance's MAC, so cloud-init's interfaces match the metadata.
MAC_A=$(imds "$NS_A" /latest/meta-data/mac) || die "A's mac"
MAC_B=$(imds "$NS_B" /latest/meta-data/mac) || die "B's mac"
in_ns "$NS_A" ip link set dev eth0 address "$MAC_A" || die "MAC $MAC_A on A's eth0"
in_ns "$NS_B" ip link set dev eth0 address "$MAC_B" || die "MAC $MAC_B on B's eth0"
check "A: IMDS mac (now eth0's) is DescribeInstances' MacAddress" \
  "$(described "$ID_A" 'Instances[0].NetworkInterfaces[0].MacAddress')" "$MAC_A"

# --- cloud-init ---------------------------------------------------------------------------------

# as_platform NS HYPERVISOR_UUID CMD…: CMD in NS and in a mount namespace whose /sys is this
# namespace's sysfs plus hypervisor/uuid (which sysfs cannot hold: a tmpfs over /sys carries it,
# with each sysfs directory bound back in). The mounts end with CMD.
as_platform() {
  local ns=$1 uuid=$2; shift 2
  in_ns "$ns" unshare --mount --propagation private bash -c '
    set -e
    uuid=$1; shift
    real=$(mktemp -d)
    mount -t sysfs sysfs "$real"
    mount -t tmpfs -o mode=0755 sysfs-plus-hypervisor /sys
    for entry in "$real"/*; do
      mkdir "/sys/${entry##*/}" && mount --rbind "$entry" "/sys/${entry##*/}"
    done
    umount "$real" && rmdir "$real"
    mkdir /sys/hypervisor && echo "$uuid" >/sys/hypervisor/uuid
    exec "$@"' as-platform "$uuid" "$@"
}
EC2_UUID=ec2e1916-9099-7caf-fd21-0123456789ab
OTHER_UUID=4c4c4544-0042-4d10-8051-b7c04f4e3232
# cloud_init NS UUID MAX_WAIT NAME: cloud-init's data source in NS, its report kept as NAME.json.
cloud_init() {
  TMPDIR=$WORK as_platform "$1" "$2" "$DEBIAN_PYTHON" "$HERE/cloud_init_ec2.py" "$3" \
    >"$WORK/$4.json" 2>"$WORK/$4.log"
}
# report NAME EXPR: a Python expression over the report `r` (and `json`).
report() {
  "$DEBIAN_PYTHON" -c 'import json, sys; r = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
    "$WORK/$1.json" "$2" 2>/dev/null
}
# What the crawl sent: the token PUT first and a token on every GET, or no token anywhere.
TOKENS='"v2: PUT first, token on every GET" if r["requests"] and r["requests"][0]["method"] == "PUT" and r["requests"][0]["path"] == "/latest/api/token" and all(q["token"] for q in r["requests"] if q["method"] == "GET") else "v1: no PUT, no token" if not any(q["token"] or q["method"] == "PUT" for q in r["requests"]) else "mixed: %s" % r["requests"]'
# network_config for one interface with MAC: what cloud-init derives on EC2 for a single ENI.
netplan_for() {
  printf '{"ethernets": {"eth0": {"dhcp4": true, "dhcp6": false, "match": {"macaddress": "%s"}, "set-name": "eth0"}}, "version": 2}' "$1"
}
show_log() { sed 's/^/     [cloud-init] /' "$WORK/$1.log" | tail -n 15; }

cloud_init "$NS_A" "$EC2_UUID" 30 aws-a || { fail "cloud-init ran in A (AWS platform)"; show_log aws-a; }
check "A, as on EC2: cloud-init identifies the platform as aws" "$(report aws-a 'r["cloud_name"]')" aws
check "A, as on EC2: the data source finds its data" "$(report aws-a 'r["found"]')" True
check "A, as on EC2: it asked for a token and sent it with every request" "$(report aws-a "$TOKENS")" \
  "v2: PUT first, token on every GET"
check "A, as on EC2: it crawled API version 2021-03-23" "$(report aws-a 'r["api_version"]')" 2021-03-23
check "A, as on EC2: instance ID" "$(report aws-a 'r["instance_id"]')" "$ID_A"
check "A, as on EC2: region" "$(report aws-a 'r["region"]')" us-east-1
check "A, as on EC2: availability zone" "$(report aws-a 'r["availability_zone"]')" "$AZ_A"
check "A, as on EC2: gzip'd user data, byte for byte" "$(report aws-a 'r["user_data_sha256"]')" \
  "$(sha256sum <"$UD_A" | cut -d' ' -f1)"
check "A, as on EC2: cloud-init sees eth0 with A's MAC" "$(report aws-a "r['interfaces'].get('$MAC_A')")" eth0
check "A, as on EC2: network config for eth0's MAC, DHCPv4" \
  "$(report aws-a 'json.dumps(r["network_config"], sort_keys=True)')" "$(netplan_for "$MAC_A")"
if [ "$(report aws-a 'r["found"]')" != True ]; then show_log aws-a; fi

# Off EC2, cloud-init uses IMDSv1; A requires tokens, so that path finds nothing (2 s of retries).
cloud_init "$NS_A" "$OTHER_UUID" 2 v1-a
check "A, off EC2 (IMDSv1), tokens required: the data source finds nothing" \
  "$(report v1-a '(r["cloud_name"], r["found"])')" "('unknown', False)"

cloud_init "$NS_B" "$OTHER_UUID" 30 v1-b || { fail "cloud-init ran in B (unknown platform)"; show_log v1-b; }
check "B, off EC2: cloud-init does not identify the platform" "$(report v1-b 'r["cloud_name"]')" unknown
check "B, off EC2: the data source finds its data" "$(report v1-b 'r["found"]')" True
check "B, off EC2: IMDSv1 only, no token" "$(report v1-b "$TOKENS")" "v1: no PUT, no token"
check "B, off EC2: it crawled API version 2021-03-23" "$(report v1-b 'r["api_version"]')" 2021-03-23
check "B, off EC2: instance ID" "$(report v1-b 'r["instance_id"]')" "$ID_B"
check "B, off EC2: region (from the zone)" "$(report v1-b 'r["region"]')" us-east-1
check "B, off EC2: availability zone" "$(report v1-b 'r["availability_zone"]')" "$AZ_B"
check "B, off EC2: user data, byte for byte" "$(report v1-b 'r["user_data_sha256"]')" \
  "$(sha256sum <"$UD_B" | cut -d' ' -f1)"
check "B, off EC2: cloud-init sees eth0 with B's MAC" "$(report v1-b "r['interfaces'].get('$MAC_B')")" eth0
check "B, off EC2: network config for eth0's MAC, DHCPv4" \
  "$(report v1-b 'json.dumps(r["network_config"], sort_keys=True)')" "$(netplan_for "$MAC_B")"
if [ "$(report v1-b 'r["found"]')" != True ]; then show_log v1-b; fi

# --- ec2metadata and ec2-metadata ---------------------------------------------------------------

# The zone ID EC2 serves beside the zone name (e.g. use1-az4), as DescribeInstances reports it.
AZ_ID_A=$(described "$ID_A" 'Instances[0].Placement.AvailabilityZoneId')
AZ_ID_B=$(described "$ID_B" 'Instances[0].Placement.AvailabilityZoneId')
check "A: placement/availability-zone-id is DescribeInstances' AvailabilityZoneId" \
  "$(imds "$NS_A" /latest/meta-data/placement/availability-zone-id)" "$AZ_ID_A"

# expected_ec2metadata ID IP AZ AZ_ID MAC USER_DATA_FILE RESERVATION TYPE PUBLIC_KEYS: what
# `ec2metadata` prints (every field, "name: value") on an EC2 instance launched like this one:
# an EBS-backed HVM instance in a VPC without a public IP, placement group or dedicated host.
expected_ec2metadata() {
  local host=ip-${2//./-}.ec2.internal
  printf '%s\n' \
    "ami-id: $AMI" \
    "ami-launch-index: 0" \
    "ami-manifest-path: (unknown)" \
    "ancestor-ami-ids: unavailable" \
    "availability-zone: $3" \
    "block-device-mapping: ami" "root" \
    "instance-action: none" \
    "instance-id: $1" \
    "instance-type: $8" \
    "local-hostname: $host" \
    "local-ipv4: $2" \
    "kernel-id: unavailable" \
    "mac: $5" \
    "profile: default-hvm" \
    "product-codes: unavailable" \
    "public-hostname: unavailable" \
    "public-ipv4: unavailable" \
    "public-keys: $9" \
    "ramdisk-id: unavailable" \
    "reservation-id: $7"
  printf 'security-groups: default\n'
  # ec2metadata prints user data as Python's bytes repr when it prints every field.
  "$DEBIAN_PYTHON" -c 'import sys; print("user-data: %s" % open(sys.argv[1], "rb").read())' "$6"
  printf '%s\n' \
    "availability-zone-id: $4" \
    "region: us-east-1" \
    "host-id: unavailable" \
    "group-name: unavailable" \
    "partition-number: unavailable"
}
RES_A=$(described "$ID_A" ReservationId)
RES_B=$(described "$ID_B" ReservationId)
TYPE_A=$(described "$ID_A" 'Instances[0].InstanceType')
TYPE_B=$(described "$ID_B" 'Instances[0].InstanceType')
KEY_LINE="$PUBLIC_KEY $KEY_NAME" # EC2 serves the key with the key pair's name as its comment.

expected_ec2metadata "$ID_A" 10.214.1.2 "$AZ_A" "$AZ_ID_A" "$MAC_A" "$UD_A" "$RES_A" "$TYPE_A" \
  "['$KEY_LINE']" >"$WORK/ec2metadata-a.expected"
in_ns "$NS_A" ec2metadata >"$WORK/ec2metadata-a.out" 2>"$WORK/ec2metadata-a.err" ||
  cat "$WORK/ec2metadata-a.err" >>"$WORK/ec2metadata-a.out"
check_text "A: ec2metadata prints every field as EC2 does" "$WORK/ec2metadata-a.out" "$WORK/ec2metadata-a.expected"
check "A: ec2metadata --user-data prints the gzip'd user data byte for byte" \
  "$(in_ns "$NS_A" ec2metadata --user-data | sha256sum | cut -d' ' -f1)" "$(sha256sum <"$UD_A" | cut -d' ' -f1)"

expected_ec2metadata "$ID_B" 10.214.2.2 "$AZ_B" "$AZ_ID_B" "$MAC_B" "$UD_B" "$RES_B" "$TYPE_B" \
  unavailable >"$WORK/ec2metadata-b.expected"
in_ns "$NS_B" ec2metadata >"$WORK/ec2metadata-b.out" 2>"$WORK/ec2metadata-b.err" ||
  cat "$WORK/ec2metadata-b.err" >>"$WORK/ec2metadata-b.out"
check_text "B: ec2metadata prints every field as EC2 does" "$WORK/ec2metadata-b.out" "$WORK/ec2metadata-b.expected"
check "B: ec2metadata --instance-id --local-ipv4" \
  "$(in_ns "$NS_B" ec2metadata --instance-id --local-ipv4 | tr '\n' ' ')" "$ID_B 10.214.2.2 "

# expected_ec2_metadata ID IP AZ USER_DATA_FILE RESERVATION TYPE KEYS TAGS: what `ec2-metadata
# --all` prints for such an instance. KEYS and TAGS are its blocks after their headings.
expected_ec2_metadata() {
  local host=ip-${2//./-}.ec2.internal
  printf '%s\n' \
    "ami-id: $AMI" \
    "ami-launch-index: 0" \
    "ami-manifest-path: (unknown)" \
    "ancestor-ami-ids: not available" \
    "block-device-mapping: " \
    "$(printf '\t') ami: /dev/xvda" \
    "$(printf '\t') root: /dev/xvda" \
    "instance-id: $1" \
    "instance-type: $6" \
    "local-hostname: $host" \
    "local-ipv4: $2" \
    "kernel-id: not available" \
    "placement: $3" \
    "product-codes: not available" \
    "public-hostname: not available" \
    "public-ipv4: not available" \
    "public-keys: " \
    "$7" \
    "ramdisk-id: not available" \
    "reservation-id: $5" \
    "security-groups: default"
  # The script reads user data into a shell variable, as it does on EC2: NULs and final line
  # breaks do not survive, the same bytes would not on EC2 either.
  local user_data
  { user_data=$(cat "$4"); } 2>/dev/null
  printf 'user-data: %s\n' "$user_data"
  printf '%s\n' "tags: " "$8"
}
expected_ec2_metadata "$ID_A" 10.214.1.2 "$AZ_A" "$UD_A" "$RES_A" "$TYPE_A" \
  "$(printf '%s\n' "keyname:$KEY_NAME" "index:0" "format:openssh-key" 'key:(begins from next line)' "$KEY_LINE")" \
  "not available" >"$WORK/ec2-metadata-a.expected"
in_ns "$NS_A" ec2-metadata --all >"$WORK/ec2-metadata-a.out" 2>/dev/null
check_text "A: ec2-metadata --all prints what EC2 prints (over IMDSv2, through //meta-data paths)" \
  "$WORK/ec2-metadata-a.out" "$WORK/ec2-metadata-a.expected"

expected_ec2_metadata "$ID_B" 10.214.2.2 "$AZ_B" "$UD_B" "$RES_B" "$TYPE_B" "not available" \
  "$(printf '\t') Name: clients-b" >"$WORK/ec2-metadata-b.expected"
in_ns "$NS_B" ec2-metadata --all >"$WORK/ec2-metadata-b.out" 2>/dev/null
check_text "B: ec2-metadata --all prints what EC2 prints, tags included" \
  "$WORK/ec2-metadata-b.out" "$WORK/ec2-metadata-b.expected"
check "B: ec2-metadata -i -z -d, one option each" \
  "$(in_ns "$NS_B" ec2-metadata -i -z -d)" \
  "$(printf 'instance-id: %s\nplacement: %s\nuser-data: %s' "$ID_B" "$AZ_B" "$(cat "$UD_B")")"

echo "$passed passed, $failed failed"
if [ "$failed" -gt 0 ]; then
  echo "--- server log ---"
  tail -n 30 "$LOG"
  exit 1
fi
