#!/usr/bin/env bash
# Runs one benchmark; each prints figures (README, Figures) and asserts
# nothing. Needs the release build (`make build`: dist/ and
# target/release/confab-proxy); builds only the small history generator
# (core/examples) that storage and ui need. Usage (through make):
#   make bench-storage | bench-ui | bench-proxy | bench-delivery   (`make bench`: all)
#
# storage  tests/bench/storage.mjs: side by side at 20, 200 and 2,000
#          conversations: startup vs an empty store, one long reply's
#          localStorage writes and main-thread time from Enter to saved (and,
#          at 200, against a client that rewrites its whole store on every
#          token); at 2,000, the sidebar, search and a profile switch with
#          their tasks over 50 ms. Knobs: BENCH_SIZES (20,200,2000),
#          BENCH_MESSAGES (20), BENCH_RUNS (5), BENCH_REPLY_RUNS (3),
#          BENCH_REPLY_TOKENS (1000), BENCH_TOKEN_DELAY_MS (5),
#          BENCH_BASELINE_SIZE (200); BENCH_ONLY=startup runs the startup
#          loads alone (e.g. BENCH_ONLY=startup BENCH_SIZES=2000 make bench-storage),
#          BENCH_ONLY=responsive the sidebar, search and profile-switch steps.
# ui       tests/bench/ui.mjs: a 20,000-token markdown reply streamed at 500
#          tokens/s (long tasks, final DOM), opening a conversation of 1,000
#          messages, typing in it, and the task that handles Enter in a new
#          conversation (from a Chrome trace). Knobs: BENCH_UI_REPLY_TOKENS
#          (20000), BENCH_UI_TOKENS_PER_SECOND (500), BENCH_UI_OPEN_MESSAGES
#          (1000), BENCH_UI_OPEN_RUNS (7), BENCH_UI_KEYSTROKES (40),
#          BENCH_UI_SEND_RUNS (5); BENCH_UI_ONLY=send runs the send alone
#          (e.g. BENCH_UI_ONLY=send BENCH_UI_SEND_RUNS=20 make bench-ui).
# proxy    tests/load/proxy-load.mjs: the same streamed load straight to a
#          paced local SSE upstream and through confab-proxy in front of it
#          (throughput, first chunk, total, gaps, added latency, peak memory).
#          Knobs: LOAD_REQUESTS (200), LOAD_CONCURRENCY (50), LOAD_CHUNKS (20),
#          LOAD_CHUNK_DELAY_MS (10), LOAD_ROUNDS (3), LOAD_TIME_LIMIT_S (60).
# delivery tests/bench/delivery.mjs: bytes on the wire for a first, second and
#          offline visit and the time to an interactive message box,
#          unthrottled and on a slow mobile profile, for Confab and, side by
#          side in the same run, ADK's `adk web`. Knobs: BENCH_DELIVERY_RUNS
#          (3), BENCH_DELIVERY_SETTLE_MS (4000), BENCH_DELIVERY_QUIET_MS (1500),
#          BENCH_DELIVERY_TIMEOUT_MS (90000).
# Everything runs on 127.0.0.1 and is stopped at the end.
. "$(dirname "$0")/lib.sh" "bench-${1:-storage}"
case "${1:-}" in
  storage | ui)
    cargo build --release --locked --quiet -p confab-core --example gen_history
    exec node "tests/bench/$1.mjs" ;;
  proxy) exec node tests/load/proxy-load.mjs ;;
  delivery) exec node tests/bench/delivery.mjs ;;
  *) echo "usage: scripts/bench.sh storage|ui|proxy|delivery (through make: make bench-storage, ...)" >&2
     exit 2 ;;
esac
