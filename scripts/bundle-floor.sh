#!/usr/bin/env bash
# Prints the size floor of Confab's stack: scripts/bundle-floor/, a chat page
# with no features of its own, built exactly like the release wasm (same
# toolchain, profile, flags and Cargo.lock versions, wasm-opt -Oz; see
# scripts/release-env.sh), beside Confab's own
# wasm + JS from dist/ when it is there.
. "$(dirname "$0")/lib.sh" bundle-floor
. scripts/release-env.sh
root=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r scripts/bundle-floor/. "$work/"
cp Cargo.lock "$work/"
mkdir -p "$work/.cargo" && cp .cargo/config.toml "$work/.cargo/"
(cd "$work" && CARGO_TARGET_DIR="$root/target/bundle-floor" \
  cargo build --quiet --release --target wasm32-unknown-unknown)
wasm-bindgen --target web --out-dir "$work/out" "$root/target/bundle-floor/wasm32-unknown-unknown/release/bundle-floor.wasm"
wasm-opt -Oz "$work/out/bundle-floor_bg.wasm" -o "$work/out/final.wasm"
gz() { gzip -9 -c "$@" | wc -c; }
printf '%-34s %10s %10s\n' "wasm + JS" bytes gzipped
printf '%-34s %10d %10d\n' "the stack alone (bundle-floor)" \
  "$(cat "$work/out/final.wasm" "$work/out/bundle-floor.js" | wc -c)" \
  "$(( $(gz "$work/out/final.wasm") + $(gz "$work/out/bundle-floor.js") ))"
if compgen -G "dist/*.wasm" > /dev/null; then
  printf '%-34s %10d %10d\n' "Confab (dist/)" \
    "$(cat dist/*.wasm dist/*.js | wc -c)" "$(( $(gz dist/*.wasm) + $(gz dist/*.js) ))"
fi
