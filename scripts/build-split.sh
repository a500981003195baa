#!/usr/bin/env bash
# A spike (docs/wasm-split.md): the release app of `make build`, but with the
# main wasm split at the `part!` split points (src/ui/split.rs), so rarely
# used parts are fetched on first use. Trunk knows nothing of splitting, so
# this does what `trunk build --release` does for the main wasm by hand:
#   cargo (--cfg confab_split, relocations kept for the splitter)
#   -> wasm-split-cli (crate wasm_split_cli_support) -> wasm-bindgen
#   -> wasm-opt -Oz on every piece -> hashed names -> index.html
# Trunk still builds the render worker and the CSS (from an index.html
# without the main wasm's link). The split build has its own target dir:
# its rustflags differ, and sharing one with `make build` would rebuild
# everything at each switch. dist/ then holds the split app; `make build`
# puts the plain one back.
. "$(dirname "$0")/lib.sh" build-split
command -v wasm-split-cli > /dev/null || {
  echo "wasm-split-cli is missing: cargo install --locked wasm_split_cli_support --version 0.2.4 --features build-binary" >&2
  exit 1
}
work=target/split
raw=$work/wasm32-unknown-unknown/release/confab.wasm
rm -rf "$work/out" "$work/bindgen" "$work/final"
mkdir -p "$work/out" "$work/bindgen" "$work/final"
(
  . scripts/release-env.sh
  step "trunk: the render worker, the CSS and index.html (without the main wasm)"
  # data-trunk-skip: Trunk leaves the main wasm out (without its link it
  # would build the crate as a default app, unoptimized).
  sed 's/data-bin="confab" /&data-trunk-skip /' index.html > index.split.html
  trap 'rm -f index.split.html' EXIT
  trunk build --release --offline=true index.split.html
  # (Trunk names its output index.html whatever the source is called.)

  step "cargo: the main wasm with its split points, relocations kept"
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS --cfg confab_split -Clink-args=--emit-relocs" \
    cargo build --release --offline --locked --target wasm32-unknown-unknown --bin confab --target-dir "$work"
)

step "wasm-split-cli: main module and chunks"
wasm-split-cli --out-name confab "$raw" "$work/out"
step "wasm-bindgen (keeping the exports the chunks import)"
wasm-bindgen --target=web --keep-lld-exports --no-demangle --no-typescript \
  --out-dir="$work/bindgen" --out-name=confab "$work/out/confab.wasm"
step "wasm-opt -Oz: main module and each chunk"
wasm-opt -Oz --output="$work/final/confab_bg.wasm" "$work/bindgen/confab_bg.wasm"
for chunk in "$work"/out/*.wasm; do
  name=${chunk##*/}
  [ "$name" = confab.wasm ] && continue
  wasm-opt -Oz --output="$work/final/$name" "$chunk"
done
cp "$work/bindgen/confab.js" "$work/out/__wasm_split.js" "$work/final/"

step "hashed names, index.html"
# The main JS and the split loader import each other, so no file's hash can
# name the other's: one hash of every wasm piece names them all.
hash=$(cat "$work"/final/*.wasm | sha256sum | cut -c1-16)
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
sri() { echo "sha384-$(openssl dgst -sha384 -binary "dist/$1" | base64 -w0)"; }
js=confab-$hash.js wasm=confab-${hash}_bg.wasm loader=wasm-split-$hash.js
# What Trunk writes for a rust link, plus a modulepreload of the split
# loader (the main JS imports it at once).
tags="<script type=\"module\">
import init, * as bindings from '/$js';
const wasm = await init({ module_or_path: '/$wasm' });
window.wasmBindings = bindings;
dispatchEvent(new CustomEvent(\"TrunkApplicationStarted\", {detail: {wasm}}));
</script>
<link rel=\"modulepreload\" href=\"/$js\" crossorigin=\"anonymous\" integrity=\"$(sri "$js")\"><link rel=\"modulepreload\" href=\"/$loader\" crossorigin=\"anonymous\" integrity=\"$(sri "$loader")\"><link rel=\"preload\" href=\"/$wasm\" crossorigin=\"anonymous\" integrity=\"$(sri "$wasm")\" as=\"fetch\" type=\"application/wasm\">"
TAGS=$tags node -e '
  const fs = require("fs");
  const html = fs.readFileSync("dist/index.html", "utf8");
  const kept = html.replace(/ *<link [^>]*data-trunk-skip[^>]*>\n/, "");
  fs.writeFileSync("dist/index.html", kept.replace("</head>", process.env.TAGS + "</head>"));
'
node scripts/precompress.mjs dist
cargo build --release -p confab-proxy --locked
ls -l dist/*.wasm dist/*.js
