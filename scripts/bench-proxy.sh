#!/usr/bin/env bash
# Proxy load test: the same streamed load straight to a paced local SSE
# upstream and through confab-proxy in front of it. Prints throughput, time
# to first chunk, total time, inter-chunk gaps, the latency the proxy adds
# and its peak memory; asserts nothing. Everything runs on 127.0.0.1 and is
# stopped at the end (see tests/load/proxy-load.mjs).
#
# Needs target/release/confab-proxy (`cargo build --release -p confab-proxy`,
# or `make test`); builds nothing itself. Knobs (environment):
# LOAD_REQUESTS (200), LOAD_CONCURRENCY (50), LOAD_CHUNKS (20),
# LOAD_CHUNK_DELAY_MS (10), LOAD_ROUNDS (3), LOAD_TIME_LIMIT_S per run (60).
set -euo pipefail
cd "$(dirname "$0")/.."
exec node tests/load/proxy-load.mjs
