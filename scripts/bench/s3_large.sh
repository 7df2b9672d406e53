#!/usr/bin/env bash
# A large object through a release roleplane with the AWS CLI: `aws s3 cp` up (multipart above
# 8 MiB: 8 MiB parts, 10 at a time, the CLI's defaults) and down again. Reports MB/s (10^6 bytes)
# each way, the server's CPU seconds and peak RSS (VmHWM from /proc/PID/status), the bytes the data
# dir holds afterwards, and checks the download's MD5 against the upload's. Same-run anchors: the
# disk (dd of the file onto the same filesystem, conv=fsync: what a durable copy costs at least)
# and a presigned GET of the object with curl into /dev/null (one connection, no CLI in the way).
# The files are deleted at the end.
# Usage: scripts/bench/s3_large.sh [MIB]   (default 1024: 1 GiB; needs ~3x that on /tmp's disk)
set -euo pipefail
MIB=${1:-1024}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
command -v aws >/dev/null || { python3 -m pip install -q awscli && { command -v pyenv >/dev/null && pyenv rehash || true; }; }
source "$ROOT/scripts/bench/lib.sh"
start_roleplane            # W, PORT, RP; its EXIT trap stops the server and removes $W
trap 'kill $RP 2>/dev/null; rm -rf "$W"' EXIT INT TERM

cat > "$W/aws_config" <<EOF
[default]
region = us-east-1
s3 =
  addressing_style = path
EOF
export AWS_CONFIG_FILE=$W/aws_config AWS_SHARED_CREDENTIALS_FILE=$W/none
export AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK
S3="aws --endpoint-url http://127.0.0.1:$PORT s3"

now() { date +%s.%N; }
cpu() { awk '{ print ($14 + $15) / '"$(getconf CLK_TCK)"' }' "/proc/$RP/stat"; }
kib() { awk -v k="$1" '$1 == k":" { print $2 }' "/proc/$RP/status"; }
mbs() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", b / 1e6 / s }'; }

head -c "$((MIB * 1048576))" /dev/urandom > "$W/up.bin"
BYTES=$(stat -c %s "$W/up.bin")
UP_MD5=$(md5sum < "$W/up.bin" | cut -d' ' -f1)
$S3 mb s3://big > /dev/null
echo "roleplane $(git -C "$ROOT" rev-parse --short HEAD), $MIB MiB object, aws-cli $(aws --version 2>&1 | cut -d' ' -f1)"
echo "server RSS before: $(kib VmRSS) KiB"

c0=$(cpu); t0=$(now)
$S3 cp --only-show-errors "$W/up.bin" s3://big/object
t1=$(now); c1=$(cpu)
UP_HWM=$(kib VmHWM)
ETAG=$(aws --endpoint-url "http://127.0.0.1:$PORT" s3api head-object --bucket big --key object \
  --query ETag --output text)
$S3 cp --only-show-errors s3://big/object "$W/down.bin"
t2=$(now); c2=$(cpu)
DOWN_MD5=$(md5sum < "$W/down.bin" | cut -d' ' -f1)
rm -f "$W/down.bin"
URL=$(aws --endpoint-url "http://127.0.0.1:$PORT" s3 presign s3://big/object)
CURL=$(curl -s -o /dev/null -w '%{http_code} %{size_download} %{time_total}' "$URL")
t3=$(now)
dd if="$W/up.bin" of="$W/copy.bin" bs=8M conv=fsync status=none
t4=$(now)
rm -f "$W/copy.bin"

up_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
down_s=$(awk -v a="$t1" -v b="$t2" 'BEGIN { print b - a }')
printf 'upload:   %.2f s, %s MB/s, server CPU %.2f s, ETag %s\n' "$up_s" "$(mbs "$BYTES" "$up_s")" \
  "$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')" "$ETAG"
printf 'download: %.2f s, %s MB/s, server CPU %.2f s\n' "$down_s" "$(mbs "$BYTES" "$down_s")" \
  "$(awk -v a="$c1" -v b="$c2" 'BEGIN { print b - a }')"
read -r code got secs <<< "$CURL"
[ "$code $got" = "200 $BYTES" ] || { echo "presigned GET: $CURL" >&2; exit 1; }
echo "anchors:  presigned GET with curl $(mbs "$BYTES" "$secs") MB/s; dd to the same disk with fsync $(mbs "$BYTES" "$(awk -v a="$t3" -v b="$t4" 'BEGIN { print b - a }')") MB/s"
echo "server peak RSS (VmHWM): after the upload $UP_HWM KiB, at the end $(kib VmHWM) KiB"
echo "data dir after: $(du -sk "$W/data" | cut -f1) KiB (blobs $(du -sk "$W/data/s3" 2>/dev/null | cut -f1 || echo ?) KiB)"
rm -f "$W/up.bin"
if [ "$UP_MD5" = "$DOWN_MD5" ]; then
  echo "MD5 match: $UP_MD5"
else
  echo "MD5 MISMATCH: uploaded $UP_MD5, downloaded $DOWN_MD5" >&2; exit 1
fi
