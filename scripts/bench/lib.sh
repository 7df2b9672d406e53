# Sourced by the load scripts: one `roleplane serve` on a free port with a known admin key,
# ready before the script goes on and stopped (its data dir removed) when the script exits.
#
#   roleplane_binary          ROLEPLANE_BIN, else this tree's release build (built first)
#   start_roleplane [FLAGS]   extra `serve` flags; sets W (work dir), PORT, RP (pid)
#   AK, SK                    the admin's key pair
ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
AK=AKIABENCHADMIN000001
SK=bench/secret/bench/secret/bench/secret00

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

roleplane_binary() {
  if [ -z "${ROLEPLANE_BIN:-}" ]; then
    (cd "$ROOT" && cargo build -q --release -p roleplane)
    ROLEPLANE_BIN=$ROOT/target/release/roleplane
  fi
}

start_roleplane() {
  roleplane_binary
  W=$(mktemp -d)
  PORT=$(free_port)
  ROLEPLANE_ADMIN_ACCESS_KEY_ID=$AK ROLEPLANE_ADMIN_SECRET_ACCESS_KEY=$SK ROLEPLANE_LOG=warn \
    "$ROLEPLANE_BIN" serve --data-dir "$W/data" --api-addr "127.0.0.1:$PORT" --imds-port 0 "$@" \
    > "$W/roleplane.log" 2>&1 &
  RP=$!
  trap 'kill $RP 2>/dev/null; rm -rf "$W"' EXIT
  for _ in $(seq 100); do
    [ -f "$W/data/endpoints.json" ] && return 0
    sleep 0.1
  done
  echo "roleplane did not become ready:" >&2
  cat "$W/roleplane.log" >&2
  return 1
}
