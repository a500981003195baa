#!/usr/bin/env bash
# Builds what `make run`, the end-to-end tests and the benchmarks use: the
# release app in dist/ (trunk, with scripts/release-env.sh) and
# target/release/confab-proxy.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# In a subshell: the proxy is a host binary, built with the prebuilt std like
# the host tests (the same artifacts), not with the wasm's flags.
(. scripts/release-env.sh && trunk build --release --offline)
cargo build --release -p confab-proxy --locked
