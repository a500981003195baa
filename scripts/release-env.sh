# Sourced by the scripts that build the release wasm (build-release.sh,
# bundle-breakdown.sh), so they build the same bytes.
#
# Panics abort at once (-Cpanic=immediate-abort, with std rebuilt from the
# rust-src component): no panic messages, locations or unwinding code in the
# bundle, about 36 KB smaller gzipped. A panic in the release build then shows
# as "RuntimeError: unreachable" in the console; `trunk serve` (debug) keeps
# the messages. Both flags are unstable, which RUSTC_BOOTSTRAP=1 allows on
# the stable toolchain; they apply to the wasm32 target only (the flags are
# added to .cargo/config.toml's). Without rust-src the prebuilt std is used.
if [ -d "$(rustc --print sysroot)/lib/rustlib/src/rust/library/std" ]; then
  export RUSTC_BOOTSTRAP=1
  export CARGO_UNSTABLE_BUILD_STD=std,panic_abort
  export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort"
else
  echo "note: rust-src is missing (rustup component add rust-src): building with the prebuilt std, a larger bundle" >&2
fi
