#!/usr/bin/env bash
# Storage benchmark: startup with a large history vs an empty store, and
# localStorage writes while one long reply streams, against a client that
# rewrites its whole store on every token. Prints figures; asserts nothing.
#
# Needs the release build (dist/ and target/release/confab-proxy, see
# `make test`); builds only the small history generator (core/examples).
# Knobs (environment): BENCH_RUNS (5), BENCH_CONVERSATIONS (200),
# BENCH_MESSAGES (100), BENCH_REPLY_TOKENS (1000), BENCH_TOKEN_DELAY_MS (5).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"

cargo build --release --locked --quiet -p confab-core --example gen_history
exec node tests/bench/storage.mjs
