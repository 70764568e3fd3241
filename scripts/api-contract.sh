#!/usr/bin/env bash
# The API contract: starts `herald serve` on a free loopback port with a fresh data directory,
# checks that the OpenAPI document it serves at /openapi.json validates
# (openapi-spec-validator), then runs a bounded, deterministic schemathesis run over every
# operation, admin and ingest, with every check (configuration: scripts/schemathesis.toml).
# Any failure fails the script. Called by scripts/test.sh, after the Python venv (with the
# pinned schemathesis and openapi-spec-validator of tests/sdk/requirements.txt) is installed.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/herald/target}"
cargo build --quiet -p herald
bin="$CARGO_TARGET_DIR/debug/herald"

work="$(mktemp -d)"
server=""
cleanup() {
    if [ -n "$server" ]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

export HERALD_WRITE_KEY="hwk_contract_write"
export HERALD_ADMIN_KEY="hak_contract_admin"
touch "$work/stdout"
HERALD_LOG="${HERALD_LOG:-warn}" "$bin" serve --data-dir "$work/data" --listen 127.0.0.1:0 \
    >"$work/stdout" 2>"$work/server.log" &
server=$!

url=""
for _ in $(seq 1 300); do
    url="$(sed -n 's/^listening on //p' "$work/stdout")"
    [ -n "$url" ] && break
    kill -0 "$server" 2>/dev/null || { cat "$work/server.log"; echo "herald exited" >&2; exit 1; }
    sleep 0.1
done
[ -n "$url" ] || { echo "herald did not start listening" >&2; exit 1; }
for _ in $(seq 1 100); do
    curl -fsS "$url/readyz" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fsS "$url/readyz" >/dev/null

echo "==> the OpenAPI document validates ($url/openapi.json)"
curl -fsS "$url/openapi.json" >"$work/openapi.json"
.venv/bin/openapi-spec-validator "$work/openapi.json"

echo "==> schemathesis over the whole API"
.venv/bin/schemathesis --config-file scripts/schemathesis.toml run "$url/openapi.json"

echo "==> the server logged no panic"
if grep -q "panicked" "$work/server.log"; then
    grep -A3 "panicked" "$work/server.log" >&2
    exit 1
fi
