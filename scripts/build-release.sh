#!/usr/bin/env bash
# Builds what `make run`, the end-to-end tests and the benchmarks use: the
# release app in dist/ and target/release/confab-proxy (stable).
#
# The main wasm is split (src/split.rs, docs/wasm-split.md): each
# `split_point!` becomes a chunk fetched the first time its part is used,
# so the first load leaves rarely used code out. Trunk knows nothing of
# splitting, so this does by hand what `trunk build --release` does for the
# main wasm:
#   cargo (pinned nightly, scripts/release-env.sh; --cfg confab_split,
#   relocations kept for the splitter) -> wasm-split-cli -> wasm-bindgen
#   -> wasm-opt -Oz on every piece -> hashed names -> index.html
# Trunk still builds the render worker, the CSS and index.html (from a copy
# of index.html without the main wasm's link). Then the service worker
# (scripts/service-worker.mjs: dist/sw.js, naming the build's files and
# version; before the copies, so it has its own) and a Brotli and a gzip
# copy beside each text and wasm file (scripts/precompress.mjs).
#
# The split build has a target dir of its own (target/split): its rustflags
# differ from `cargo build`'s and the wasm tests', and a shared one would
# rebuild everything at each switch.
. "$(dirname "$0")/lib.sh" build
work=target/split
raw=$work/wasm32-unknown-unknown/release/confab.wasm
rm -rf "$work/out" "$work/bindgen" "$work/final"
mkdir -p "$work/out" "$work/bindgen" "$work/final"
# In a subshell: the proxy is a host binary, built on stable like the host
# tests (the same artifacts), not with the wasm's toolchain and flags.
(
  . scripts/release-env.sh
  step "trunk: the render worker, the CSS and index.html (without the main wasm)"
  # data-trunk-skip: Trunk leaves the main wasm out (without its link it
  # would build the crate as a default app, unoptimized). Trunk names its
  # output index.html whatever its source is called.
  sed 's/data-bin="confab" /&data-trunk-skip /' index.html > index.split.html
  trap 'rm -f index.split.html' EXIT
  trunk build --release --offline=true index.split.html

  step "cargo: the main wasm with its split points, relocations kept"
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS --cfg confab_split -Clink-args=--emit-relocs" \
    cargo build --release --offline --locked --target wasm32-unknown-unknown --bin confab --target-dir "$work"
)

step "wasm-split-cli: the main module and its chunks"
wasm-split-cli --out-name confab "$raw" "$work/out"
step "wasm-bindgen (keeping the exports the chunks import)"
wasm-bindgen --target=web --keep-lld-exports --no-demangle --no-typescript \
  --out-dir="$work/bindgen" --out-name=confab "$work/out/confab.wasm"
step "wasm-opt -Oz: the main module and each chunk"
wasm-opt -Oz --output="$work/final/confab_bg.wasm" "$work/bindgen/confab_bg.wasm"
for chunk in "$work"/out/*.wasm; do
  name=${chunk##*/}
  [ "$name" = confab.wasm ] && continue
  wasm-opt -Oz --output="$work/final/$name" "$chunk"
done
cp "$work/bindgen/confab.js" "$work/out/__wasm_split.js" "$work/final/"

step "hashed names, index.html"
# The main JS and the split loader import each other, so neither's hash can
# be in the other's name: one hash of every wasm piece and both JS files
# names them all.
hash=$(cat "$work"/final/* | sha256sum | cut -c1-16)
declare -A renamed=([confab.js]="confab-$hash.js" [confab_bg.wasm]="confab-${hash}_bg.wasm"
  [__wasm_split.js]="wasm-split-$hash.js")
for chunk in "$work"/final/*.wasm; do
  name=${chunk##*/}
  [ "$name" = confab_bg.wasm ] && continue
  renamed[$name]="${name%.wasm}-$hash.wasm"
done
# JS modules are renamed in import statements only: the main wasm's import
# module keeps its name ("./__wasm_split.js" in the imports object).
for from in "${!renamed[@]}"; do
  only=
  [[ $from == *.js ]] && only='/^import /'
  for js in "$work"/final/*.js; do
    sed -i "${only}s|\./$from\([\"']\)|./${renamed[$from]}\1|g" "$js"
  done
done
for from in "${!renamed[@]}"; do cp "$work/final/$from" "dist/${renamed[$from]}"; done
# wasm-bindgen's inline JS modules (src/platform/*.rs inline_js).
if [ -d "$work/bindgen/snippets" ]; then cp -r "$work/bindgen/snippets" dist/; fi
sri() { echo "sha384-$(openssl dgst -sha384 -binary "dist/$1" | base64 -w0)"; }
js=confab-$hash.js wasm=confab-${hash}_bg.wasm loader=wasm-split-$hash.js
modulepreload() { printf '<link rel="modulepreload" href="/%s" crossorigin="anonymous" integrity="%s">' "$1" "$(sri "$1")"; }
snippets=
for snippet in $(cd dist && find snippets -name '*.js' 2>/dev/null | sort); do snippets+=$(modulepreload "$snippet"); done
# What Trunk writes for a rust link (the module, its inline snippets, the
# wasm), plus a modulepreload of the split loader (the main JS imports it
# at once).
# (The page's first localStorage access, which Chromium makes load the
# whole store, is made earlier, by src/platform/bulk_store.js at the top of
# index.html, while IndexedDB opens.)
tags="<script type=\"module\">
import init, * as bindings from '/$js';
const wasm = await init({ module_or_path: fetch('/$wasm') });
window.wasmBindings = bindings;
dispatchEvent(new CustomEvent(\"TrunkApplicationStarted\", {detail: {wasm}}));
</script>
$(modulepreload "$js")$snippets$(modulepreload "$loader")<link rel=\"preload\" href=\"/$wasm\" crossorigin=\"anonymous\" integrity=\"$(sri "$wasm")\" as=\"fetch\" type=\"application/wasm\">"
TAGS=$tags node -e '
  const fs = require("fs");
  const html = fs.readFileSync("dist/index.html", "utf8");
  const kept = html.replace(/ *<link [^>]*data-trunk-skip[^>]*>\n/, "");
  if (kept === html) throw new Error("dist/index.html: the skipped main wasm link was not found");
  fs.writeFileSync("dist/index.html", kept.replace("</head>", process.env.TAGS + "</head>"));
'
node scripts/service-worker.mjs dist
node scripts/precompress.mjs dist
cargo build --release -p confab-proxy --locked
