# Sourced by the scripts that build the release wasm (build-release.sh,
# bundle-breakdown.sh, bundle-floor.sh), so they build the same bytes.
#
# The release wasm, and only it, is built with the nightly pinned in
# scripts/release-toolchain (setup.sh installs it, with rust-src): std is
# rebuilt from source (-Zbuild-std) with panics that abort at once
# (-Cpanic=immediate-abort): no panic messages, locations or unwinding code,
# about 36 KB smaller gzipped than the stable std. A panic in the release
# build shows as "RuntimeError: unreachable" in the console; `trunk serve`
# (debug) keeps the messages. Host tests, clippy, the proxy and `trunk serve`
# stay on the stable toolchain. The flags apply to the wasm32 target only
# (added to .cargo/config.toml's).
#
# No fallback: without the pinned nightly or its rust-src, or with a wasm-opt
# other than binaryen's from npm, the build stops here and says what to do.
release_toolchain=$(< scripts/release-toolchain)
release_env_fail() {
  printf 'error: %s\n' "$1" >&2
  printf '  %s\n' "${@:2}" >&2
  exit 1
}
if ! grep -q "^$release_toolchain-" <<< "$(rustup toolchain list)"; then
  release_env_fail "the release wasm is built with Rust $release_toolchain (pinned in scripts/release-toolchain), which is not installed." \
    "Install it with \`make setup\`, or: rustup toolchain install $release_toolchain --profile minimal --component rust-src --target wasm32-unknown-unknown"
fi
release_sysroot=$(rustup run "$release_toolchain" rustc --print sysroot)
if [ ! -d "$release_sysroot/lib/rustlib/src/rust/library/std" ]; then
  release_env_fail "$release_toolchain has no rust-src, which rebuilding std needs." \
    "Add it with \`make setup\`, or: rustup component add rust-src --toolchain $release_toolchain"
fi
if [ "$(command -v wasm-opt)" != "$(pwd -P)/node_modules/.bin/wasm-opt" ]; then
  release_env_fail "wasm-opt must be binaryen's from npm (node_modules/.bin; other versions break the page), found: $(command -v wasm-opt || echo none)." \
    "Run the build through make (\`make build\`), after \`make setup\`."
fi
export RUSTUP_TOOLCHAIN=$release_toolchain RUSTUP_AUTO_INSTALL=0
export CARGO_UNSTABLE_BUILD_STD=std,panic_abort
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort"
