#!/usr/bin/env bash
# Installs everything building and testing Confab needs on a fresh machine,
# and skips each piece that is already there at the right version, so a
# second run takes seconds. Why each pin: docs/toolchain.md.
. "$(dirname "$0")/lib.sh" setup

TRUNK_VERSION=0.21.14

have_version() { [ "$("$1" --version 2>/dev/null | head -n1)" = "$2" ]; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# (Lists are read whole before grep: `list | grep -q` can fail under pipefail
# when grep exits first and the lister gets SIGPIPE.)
if ! grep -qx wasm32-unknown-unknown <<< "$(rustup target list --installed)"; then
  step "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# The release wasm alone is built with a pinned nightly, with rust-src to
# rebuild std (scripts/release-env.sh); everything else stays on stable.
release_toolchain=$(< scripts/release-toolchain)
release_std() { echo "$(rustup run "$release_toolchain" rustc --print sysroot)/lib/rustlib/src/rust/library"; }
if ! grep -q "^$release_toolchain-" <<< "$(rustup toolchain list)" ||
  [ ! -d "$(release_std)/std" ] ||
  ! grep -qx wasm32-unknown-unknown <<< "$(rustup target list --toolchain "$release_toolchain" --installed)"; then
  step "installing Rust $release_toolchain for the release wasm (about 20 seconds)"
  if ! timeout 600 rustup toolchain install "$release_toolchain" --profile minimal \
    --component rust-src --target wasm32-unknown-unknown; then
    echo "error: Rust $release_toolchain (with rust-src and wasm32-unknown-unknown) could not be installed" >&2
    echo "  (rustup failed, see above, or took more than 10 minutes). The release build needs it" >&2
    echo "  (scripts/release-toolchain); retry \`make setup\` once rustup's dist server answers." >&2
    exit 1
  fi
fi

# Every crate the builds need, fetched now (a no-op once cached): trunk runs
# cargo with --offline. The project's crates, and those the nightly's std
# sources build from, for the release wasm's rebuilt std.
cargo fetch --locked --quiet
rustup run "$release_toolchain" cargo fetch --locked --quiet --manifest-path "$(release_std)/Cargo.toml"

# wasm-bindgen's CLI must equal the library version locked in Cargo.lock.
WASM_BINDGEN_VERSION=$(cargo pkgid --locked --offline wasm-bindgen)
WASM_BINDGEN_VERSION=${WASM_BINDGEN_VERSION##*@}

if ! have_version trunk "trunk $TRUNK_VERSION"; then
  step "installing trunk $TRUNK_VERSION (about 5 minutes)"
  cargo install trunk --version "$TRUNK_VERSION" --locked
fi

if ! have_version wasm-bindgen "wasm-bindgen $WASM_BINDGEN_VERSION"; then
  step "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 2 minutes)"
  # Not --locked: a dependency pinned in its lock file is missing from the registry.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

# The release build splits the main wasm into chunks loaded on first use
# (scripts/build-release.sh, docs/wasm-split.md). Pinned: its marker format
# must match wasm_split_helpers, which Leptos pulls in (0.2.3).
WASM_SPLIT_VERSION=0.2.4
if ! grep -qx "wasm_split_cli_support v$WASM_SPLIT_VERSION:" <<< "$(cargo install --list)"; then
  step "installing wasm-split-cli $WASM_SPLIT_VERSION (about 3 minutes)"
  cargo install --locked wasm_split_cli_support --version "$WASM_SPLIT_VERSION" --features build-binary
fi

if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  step "installing Chromium and ChromeDriver from Debian"
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver
fi

# npm packages: wasm-opt from binaryen 132 (Debian's wasm-opt breaks release
# builds) and Playwright. Reinstalled only when package-lock.json changes.
stamp=node_modules/.confab-lock.sha256
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_sum" ] || [ ! -x node_modules/.bin/wasm-opt ]; then
  step "installing npm packages (binaryen, Playwright)"
  npm ci --no-audit --no-fund
  echo "$lock_sum" > "$stamp"
fi

# Real third-party peers the tests run against, each in its own virtualenv
# under .tools/ (git-ignored): rotel, an OTLP/HTTP receiver that prints the
# spans it decodes.
# True when the virtualenv $1 has package $2 at exactly version $3. Asks
# importlib.metadata (faster than `pip show`) and compares whole strings: a
# `pip show | grep -q` pipeline can fail under pipefail when grep exits first
# and pip gets SIGPIPE, which would reinstall every time.
venv_has() {
  [ -x "$1/bin/python" ] &&
    [ "$("$1/bin/python" -c "import importlib.metadata as m; print(m.version('$2'))" 2>/dev/null)" = "$3" ]
}

ROTEL_VERSION=0.0.1a15
if ! venv_has .tools/rotel rotel "$ROTEL_VERSION"; then
  step "installing rotel $ROTEL_VERSION (OTLP receiver for the trace export tests)"
  python3 -m venv .tools/rotel
  .tools/rotel/bin/python -m pip install --quiet --pre "rotel==$ROTEL_VERSION"
fi


# llmock: a scriptable OpenAI-compatible mock (echo replies, 429s, stream
# faults) for the model transport tests and the proxy load test.
LLMOCK_VERSION=0.2.2
if ! venv_has .tools/llmock llmock "$LLMOCK_VERSION"; then
  step "installing llmock $LLMOCK_VERSION (scriptable model mock for the transport tests)"
  python3 -m venv .tools/llmock
  .tools/llmock/bin/python -m pip install --quiet --disable-pip-version-check "llmock==$LLMOCK_VERSION"
fi

# LiteLLM: a real OpenAI-compatible model proxy whose mock_response models
# answer (or fail with real 429/500s) without any upstream. Pinned: newer
# versions need a dependency that is missing from the registry here.
LITELLM_VERSION=1.106.12
if ! venv_has .tools/litellm litellm "$LITELLM_VERSION" || [ ! -x .tools/litellm/bin/litellm ]; then
  step "installing litellm[proxy] $LITELLM_VERSION (model proxy peer for the transport tests)"
  python3 -m venv .tools/litellm
  .tools/litellm/bin/python -m pip install --quiet --disable-pip-version-check "litellm[proxy]==$LITELLM_VERSION"
fi

# Google ADK: its `adk api_server` is the agent peer for agent mode (issue 6).
# The test agents in tests/adk_agents/ are BaseAgent subclasses that need no
# LLM, so the server answers offline.
ADK_VERSION=2.13.0
if ! venv_has .tools/adk google-adk "$ADK_VERSION" || [ ! -x .tools/adk/bin/adk ]; then
  step "installing google-adk $ADK_VERSION (agent server peer for the agent-mode tests)"
  python3 -m venv .tools/adk
  .tools/adk/bin/python -m pip install --quiet --disable-pip-version-check "google-adk==$ADK_VERSION"
fi

step "toolchain ready: $(rustup run "$release_toolchain" rustc --version) for the release wasm, $(trunk --version), $(wasm-bindgen --version), $(wasm-opt --version | head -n1), $(chromium --version 2>/dev/null | head -n1)"
