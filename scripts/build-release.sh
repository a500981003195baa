#!/usr/bin/env bash
# Builds what `make run`, the end-to-end tests and the benchmarks use: the
# release app in dist/ (trunk, with scripts/release-env.sh) and
# target/release/confab-proxy.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
. scripts/release-env.sh
trunk build --release --offline
# The proxy is a host binary: the wasm32-only flags above do not reach it.
cargo build --release -p confab-proxy --locked
