#!/usr/bin/env bash
# The dashboard's first load (BENCHMARKS.md): starts BINARY (default: the release build in
# $CARGO_TARGET_DIR) on a free port with a fresh data directory and a dashboard admin, then
# tests/sdk/bench-dashboard.mjs measures, over RUNS cold loads in headless Chromium, the gzip
# bytes the sign-in page fetches and its time until rendered, and the time from "Sign in" to
# the rendered overview. Also prints the binary's size and its idle RSS after 10 s.
#
#   scripts/bench-dashboard.sh [BINARY] [RUNS]
#
# Needs tests/sdk/node_modules and /usr/bin/chromium (scripts/test.sh installs both).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/herald/target}"
binary="${1:-$CARGO_TARGET_DIR/release/herald}"
runs="${2:-5}"
[ -x "$binary" ] || { echo "no binary at $binary: cargo build --release -p herald" >&2; exit 1; }

data=$(mktemp -d)
log="$data/serve.log"
email=bench@herald.test
password=bench-password-1
HERALD_ADMIN_EMAIL=$email HERALD_ADMIN_PASSWORD=$password \
    "$binary" serve --data-dir "$data/data" --listen 127.0.0.1:0 >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 1 200); do
    url=$(sed -n 's/^listening on //p' "$log")
    [ -n "$url" ] && break
    sleep 0.1
done
[ -n "$url" ] || { cat "$log" >&2; exit 1; }

sleep 10
rss_kb=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
size=$(stat -c %s "$binary")
echo "binary: $binary, $((size / 1024)) KiB; idle RSS after 10 s: $((rss_kb / 1024)) MiB ($rss_kb kB)"
(cd tests/sdk && node bench-dashboard.mjs "$url" "$email" "$password" "$runs")
