#!/usr/bin/env bash
# Herald's whole test suite, from a fresh clone: installs the third-party SDKs the black-box
# tests drive (Python venv in .venv, npm packages in tests/sdk/node_modules, Debian's chromium
# for the browser SDKs' and the dashboard's tests), runs the dashboard's unit tests (web/), every test
# of the workspace (the storage conformance suite on SQLite and on PostgreSQL + JetStream), the
# black-box suites again against cluster mode, the API contract (scripts/api-contract.sh: the
# OpenAPI document validates, and a bounded schemathesis run over the whole API passes), 30 s
# of coverage-guided fuzzing of the event parser (fuzz/), then the benchmarks in their short
# smoke mode.
# Needs the PostgreSQL (127.0.0.1:5432) and NATS JetStream (127.0.0.1:4222) servers; override
# with HERALD_TEST_DATABASE_URL / HERALD_TEST_NATS_URL.
set -euo pipefail
cd "$(dirname "$0")/.."

# Build outside the clone so fresh clones share one cache. No incremental compilation: a test
# run builds each crate once, and its incremental caches (tens of GB for every clone path that
# ever built here) only fill the disk.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/herald/target}"
export CARGO_INCREMENTAL=0

echo "==> installing SDKs for the black-box tests"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r tests/sdk/requirements.txt
# `npm install` honours the lock file; `npm ci` trips over platform-specific optional packages.
(cd tests/sdk && npm install --no-audit --no-fund --loglevel=error)
# Headless Chromium for crates/herald/tests/browser.rs (driven by playwright-core, which
# downloads no browser of its own). CI runs as root; elsewhere, install it once with sudo.
command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }
# strace counts the server's fsyncs in crates/herald/tests/durability.rs.
command -v strace >/dev/null || { apt-get update -qq && apt-get install -y -qq strace; }

command -v cargo-nextest >/dev/null || cargo install --locked cargo-nextest

echo "==> the dashboard's unit tests (web/, Vitest)"
# crates/herald-web/build.rs installs web/node_modules too; done here first so the tests run
# before the long cargo build.
(cd web && { [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error; } && npm test)

echo "==> tests"
cargo nextest run --workspace --no-fail-fast

echo "==> black-box suites against cluster mode (PostgreSQL + JetStream)"
HERALD_TEST_BACKEND=cluster cargo nextest run -p herald --no-fail-fast \
    --test ingest_api --test admin_api --test durability --test sdks --test browser --test audiences --test cli \
    --test endpoint --test profiles_api --test graphql_api --test dashboard_auth --test insights_api --test templates_api --test messages_api --test preferences_api --test broadcasts_api --test inbox_api --test tracking_api --test postmark_webhooks --test messaging_settings_api --test twilio_callbacks

echo "==> the API contract (OpenAPI validation, schemathesis)"
scripts/api-contract.sh

echo "==> fuzzing the event parser for 30 s from its regression corpus (fuzz/README.md)"
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
mkdir -p fuzz/corpus/event_parser
(cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run -s none --target-dir "$HOME/.cache/herald/fuzz-target" \
    event_parser corpus/event_parser regressions -- -max_total_time=30)

echo "==> benchmark smoke runs"
cargo run --quiet -p herald -- bench ingest --smoke
cargo run --quiet -p herald -- bench ingest --smoke --nodes 2 --connections 1
cargo run --quiet -p herald -- bench audiences --smoke
cargo run --quiet -p herald -- bench insights --smoke
cargo run --quiet -p herald -- bench render --smoke --smtp
cargo run --quiet -p herald -- bench governor --smoke
cargo run --quiet -p herald -- bench broadcast --smoke
