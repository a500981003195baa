#!/usr/bin/env bash
# Rendering benchmark: a 20,000-token markdown reply streamed at 500 tokens/s
# (long tasks, final DOM), opening a conversation of 1,000 messages, and
# typing in it. Prints figures; asserts nothing.
#
# Needs the release build (dist/ and target/release/confab-proxy, see
# `make test`); builds only the small history generator (core/examples).
# Knobs (environment): BENCH_UI_REPLY_TOKENS (20000),
# BENCH_UI_TOKENS_PER_SECOND (500), BENCH_UI_OPEN_MESSAGES (1000),
# BENCH_UI_OPEN_RUNS (7), BENCH_UI_KEYSTROKES (40).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"

cargo build --release --locked --quiet -p confab-core --example gen_history
exec node tests/bench/ui.mjs
