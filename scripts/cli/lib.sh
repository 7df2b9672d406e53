#!/usr/bin/env bash
# The harness the AWS CLI scripts share, sourced by each of them after `cd` to the repository root:
# starts a fresh `roleplane serve` on ephemeral ports, points the AWS CLI at it with only the data
# dir's admin credentials, and counts checks. Defines BIN, WORK, DATA, ENDPOINT, ACCOUNT and
# pass / fail / run / json_check / expect_success; the caller prints the tally at its end.

BIN=${ROLEPLANE_BIN:-target/debug/roleplane}
command -v aws >/dev/null || { echo "aws (the AWS CLI) is not on PATH" >&2; exit 2; }
[ -x "$BIN" ] || { echo "$BIN is missing: run cargo build -p roleplane" >&2; exit 2; }
BIN=$(realpath "$BIN") # scripts may run their steps in a scratch directory

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
import json, os, re, sys
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
