#!/usr/bin/env bash
# Builds what `make run`, the end-to-end tests and the benchmarks use: the
# release app in dist/ (trunk, on the pinned nightly with the flags of
# scripts/release-env.sh), its service worker (scripts/service-worker.mjs:
# dist/sw.js, naming the build's files and version; before the copies, so
# it has its own), a Brotli and a gzip copy beside each text and wasm file
# in it (scripts/precompress.mjs, served by Accept-Encoding), and
# target/release/confab-proxy (stable).
. "$(dirname "$0")/lib.sh" build
# In a subshell: the proxy is a host binary, built on stable like the host
# tests (the same artifacts), not with the wasm's toolchain and flags.
(. scripts/release-env.sh && trunk build --release --offline)
node scripts/service-worker.mjs dist
node scripts/precompress.mjs dist
cargo build --release -p confab-proxy --locked
