#!/usr/bin/env bash
# S3 GetObject and PutObject of 4 KiB and 1 MiB objects: roleplane (release build, audit on),
# moto's server (IAM auth on, as in api.sh) and nginx serving the same files (sendfile, access log
# off: the ceiling for GETs; PUTs have no static counterpart and are compared with moto only).
# ROUNDS interleaved rounds (every case against every server in each round, as compare.sh does),
# wrk -t1 -cCONNECTIONS -dDURATION per measurement, botocore-signed requests replayed by wrk
# (anchors/mk_s3_lua.py: GET with UNSIGNED-PAYLOAD; PUT with the body's SHA-256 signed, to 32
# keys in turn, since moto fails overlapping PUTs of one key), each pre-flighted once for a 200
# and the exact length. anchors/check_status.lua reports (no response() callback: 1 MiB bodies
# would otherwise be copied into Lua, making wrk the bottleneck). A measurement with any status
# >= 400 or socket error is marked INVALID and the script exits 1. Prints every measurement, then
# medians and ratios.
# Usage: scripts/bench/s3.sh [ROUNDS] [DURATION] [CONNECTIONS]
# Needs wrk and nginx (Debian; nginx-light is installed if no nginx), moto[server] + boto3 (PyPI).
set -euo pipefail
ROUNDS=${1:-3}; DUR=${2:-10s}; CONN=${3:-4}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ANCHORS=$ROOT/scripts/bench/anchors
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
command -v nginx >/dev/null || { apt-get update -qq && apt-get install -y -qq nginx-light >/dev/null; }
python3 -c 'import moto, boto3' 2>/dev/null || python3 -m pip install -q 'moto[server]' boto3
command -v moto_server >/dev/null || { command -v pyenv >/dev/null && pyenv rehash; }
source "$ROOT/scripts/bench/lib.sh"

MOTO=; NGX=
start_roleplane            # W, PORT, RP; its EXIT trap is replaced by the one below
cleanup() {
  for p in $RP $MOTO $NGX; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT
RP_PORT=$PORT; MOTO_PORT=$(free_port); NGX_PORT=$(free_port)

# The objects, byte for byte the same in every server.
mkdir -p "$W/www/bench" "$W/nginx"
head -c 4096 /dev/urandom > "$W/www/bench/obj4k"
head -c 1048576 /dev/urandom > "$W/www/bench/obj1m"
chmod -R a+rX "$W/www"

INITIAL_NO_AUTH_ACTION_COUNT=3 moto_server -H 127.0.0.1 -p "$MOTO_PORT" > "$W/moto.log" 2>&1 & MOTO=$!

# nginx as root would serve as nobody, who cannot enter the private temp dir.
[ "$(id -u)" = 0 ] && NGX_USER="user root;" || NGX_USER=
cat > "$W/nginx/nginx.conf" <<EOF
$NGX_USER
worker_processes auto;
pid $W/nginx/nginx.pid;
error_log $W/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000000;
  default_type application/octet-stream;
  client_body_temp_path $W/nginx/body;
  proxy_temp_path $W/nginx/proxy;
  fastcgi_temp_path $W/nginx/fastcgi;
  uwsgi_temp_path $W/nginx/uwsgi;
  scgi_temp_path $W/nginx/scgi;
  server {
    listen 127.0.0.1:$NGX_PORT;
    root $W/www;
  }
}
EOF
nginx -e "$W/nginx/error.log" -p "$W/nginx" -c "$W/nginx/nginx.conf" -g 'daemon off;' \
  > "$W/nginx/stdout.log" 2>&1 & NGX=$!

# A TCP connect, not a request: moto would count a request against its 3 unauthenticated calls.
up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for _ in $(seq 100); do up "$MOTO_PORT" && up "$NGX_PORT" && break; sleep 0.2; done
up "$MOTO_PORT" || { echo "moto did not start:" >&2; cat "$W/moto.log" >&2; exit 1; }
up "$NGX_PORT" || { echo "nginx did not start:" >&2; cat "$W/nginx/error.log" >&2; exit 1; }

read -r MAK MSK < <(python3 "$ANCHORS/setup_auth.py" "http://127.0.0.1:$MOTO_PORT")
python3 "$ANCHORS/s3_setup.py" "http://127.0.0.1:$RP_PORT" "$AK" "$SK" "$W/www/bench"
python3 "$ANCHORS/s3_setup.py" "http://127.0.0.1:$MOTO_PORT" "$MAK" "$MSK" "$W/www/bench"

CASES="get4k get1m put4k put1m"
declare -A PATH_OF=([get4k]=/bench/obj4k [get1m]=/bench/obj1m [put4k]=/bench/put4k [put1m]=/bench/put1m)
declare -A SIZE_OF=([get4k]=4096 [get1m]=1048576 [put4k]=4096 [put1m]=1048576)
declare -A NAME_OF=([get4k]="GET 4 KiB" [get1m]="GET 1 MiB" [put4k]="PUT 4 KiB" [put1m]="PUT 1 MiB")

# Writes the wrk script for server $1, case $2 to stdout; pre-flights the request once.
mk_script() {
  local server=$1 case=$2 method=GET
  case $case in put*) method=PUT ;; esac
  case $server in
    roleplane) python3 "$ANCHORS/mk_s3_lua.py" "http://127.0.0.1:$RP_PORT" "$AK" "$SK" \
                 "$method" "${PATH_OF[$case]}" "${SIZE_OF[$case]}" --verify ;;
    moto) python3 "$ANCHORS/mk_s3_lua.py" "http://127.0.0.1:$MOTO_PORT" "$MAK" "$MSK" \
            "$method" "${PATH_OF[$case]}" "${SIZE_OF[$case]}" --verify ;;
    static)
      local got
      got=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' "http://127.0.0.1:$NGX_PORT${PATH_OF[$case]}")
      [ "$got" = "200 ${SIZE_OF[$case]}" ] || { echo "static pre-flight: $got" >&2; return 1; }
      echo "wrk.path = \"${PATH_OF[$case]}\"" ;;
  esac
  cat "$ANCHORS/check_status.lua"
}
port_of() { case $1 in roleplane) echo "$RP_PORT" ;; moto) echo "$MOTO_PORT" ;; static) echo "$NGX_PORT" ;; esac; }

OUT=$W/results; : > "$OUT"; INVALID=0
echo "wrk -t1 -c$CONN -d$DUR per measurement; $ROUNDS rounds; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq 1 "$ROUNDS"); do
  echo "### round $round"
  for case in $CASES; do
    servers="roleplane moto static"; case $case in put*) servers="roleplane moto" ;; esac
    for server in $servers; do
      mk_script "$server" "$case" > "$W/req.lua"   # signed afresh: every round is inside 15 min
      line=$(wrk -t1 -c"$CONN" -d"$DUR" --timeout 10s -s "$W/req.lua" "http://127.0.0.1:$(port_of "$server")/" \
        | grep -E '^RESULT') || { echo "wrk failed: $server $case" >&2; exit 1; }
      flag=
      if ! [[ $line =~ non2xx=0\ errors=0 ]]; then flag=" INVALID"; INVALID=1; fi
      printf '%-9s %-9s %s%s\n' "$server" "${NAME_OF[$case]}" "$line" "$flag"
      rps=$(sed 's/.*rps=\([0-9.]*\).*/\1/' <<< "$line")
      echo "$round $server $case $rps" >> "$OUT"
    done
  done
done

median() {  # median req/s of server $1, case $2
  awk -v s="$1" -v c="$2" '$2 == s && $3 == c { print $4 }' "$OUT" | sort -n \
    | awk '{ v[NR] = $1 } END { if (NR) printf "%.0f", v[int((NR + 1) / 2)]; else printf "-" }'
}
echo
echo "median req/s over $ROUNDS rounds (wrk -t1 -c$CONN -d$DUR):"
printf '%-10s %10s %10s %10s %10s %12s\n' case roleplane moto static rp/moto rp/static
for case in $CASES; do
  rp=$(median roleplane "$case"); mo=$(median moto "$case"); st=$(median static "$case")
  rm_ratio=$(awk -v a="$rp" -v b="$mo" 'BEGIN { printf "%.1fx", a / b }')
  rs_ratio=-; [ "$st" != - ] && rs_ratio=$(awk -v a="$rp" -v b="$st" 'BEGIN { printf "%.3fx", a / b }')
  printf '%-10s %10s %10s %10s %10s %12s\n' "${NAME_OF[$case]}" "$rp" "$mo" "$st" "$rm_ratio" "$rs_ratio"
done
echo "goals: roleplane >= 50x moto (every case); >= 0.5x static on GETs"
[ "$INVALID" = 0 ] || { echo "INVALID: some measurement had status >= 400 or socket errors" >&2; exit 1; }
