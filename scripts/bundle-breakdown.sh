#!/usr/bin/env bash
# Prints where the release wasm's code goes, by crate (scripts/bundle-breakdown.py).
# Builds the same wasm as `trunk build --release`, then a copy optimized by
# the same `wasm-opt -Oz` that keeps function names (`-g`). Usage:
#   make bundle-breakdown [TOP=20]   # TOP: also list the largest functions
. "$(dirname "$0")/lib.sh" bundle-breakdown
. scripts/release-env.sh
target_dir=${CARGO_TARGET_DIR:-target}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cargo build --quiet --release --locked --target wasm32-unknown-unknown -p confab
wasm-bindgen --target web --out-dir "$out" "$target_dir/wasm32-unknown-unknown/release/confab.wasm"
wasm-opt -Oz -g "$out/confab_bg.wasm" -o "$out/named.wasm"
wasm-opt -Oz "$out/confab_bg.wasm" -o "$out/final.wasm"
echo "wasm as trunk builds it: $(wc -c < "$out/final.wasm") bytes, $(gzip -9 -c "$out/final.wasm" | wc -c) gzipped"
python3 scripts/bundle-breakdown.py "$out/named.wasm" "${1:-0}"
