#!/usr/bin/env bash
# Same-run comparison of builds: signed GetCallerIdentity (authenticated, never authorized) and an
# authorized GetUser (scripts/bench/authz.sh), ROUNDS rounds, the builds interleaved within each
# round so drift on a shared machine hits them alike; prints each run and the medians.
# Usage: scripts/bench/compare.sh ROUNDS DURATION NAME=BINARY...
set -euo pipefail
ROUNDS=$1; DUR=$2; shift 2
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
for round in $(seq 1 "$ROUNDS"); do
  for build in "$@"; do
    name=${build%%=*}; bin=${build#*=}
    ROLEPLANE_BIN=$bin bash "$ROOT/scripts/bench/authz.sh" 1 "$DUR" 4 2>&1 \
      | sed -n 's/^\(GetCallerIdentity\|GetUser\) *([^)]*) *: RESULT rps=\([0-9.]*\).*/\1 \2/p' \
      | while read -r op rps; do echo "$round $name $op $rps" | tee -a "$OUT"; done
  done
done
echo "median req/s over $ROUNDS rounds:"
for build in "$@"; do
  name=${build%%=*}
  for op in GetCallerIdentity GetUser; do
    awk -v n="$name" -v o="$op" '$2 == n && $3 == o { print $4 }' "$OUT" | sort -n \
      | awk -v n="$name" -v o="$op" '{ v[NR] = $1 } END { printf "%-10s %-18s %.0f\n", n, o, v[int((NR + 1) / 2)] }'
  done
done
