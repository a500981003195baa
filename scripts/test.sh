#!/usr/bin/env bash
# Runs every test: host unit/integration tests, browser tests in headless
# Chromium, then end-to-end tests against the release build. Called by
# `make test` after scripts/setup.sh.
. "$(dirname "$0")/lib.sh" test
export CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}

step "format and lints"
cargo fmt --all -- --check
cargo clippy -p confab-core -p confab-proxy -p confab-render --all-targets --locked -- -D warnings
cargo clippy -p confab -p confab-render --target wasm32-unknown-unknown --all-targets --locked -- -D warnings

step "host tests: session core, SSE parser, wire formats, proxy, code tokenizer and TeX converter"
cargo test -p confab-core -p confab-proxy -p confab-render --locked

step "browser tests: localStorage session service in headless Chromium"
cargo test -p confab --target wasm32-unknown-unknown --locked

step "release build: the app (its wasm split; Trunk for the rest) and the proxy"
scripts/build-release.sh

step "end-to-end tests: Playwright driving Chromium against confab-proxy"
playwright test -c tests/e2e/playwright.config.ts

scripts/bundle-size.sh
