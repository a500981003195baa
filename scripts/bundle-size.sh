#!/usr/bin/env bash
# Prints the size of the release build in dist/: raw, gzipped (-9) and as
# the Brotli copy confab-proxy serves (dist/*.br, scripts/precompress.mjs),
# per file type, for the first load (what index.html loads) and, apart, for
# the lazy parts, each fetched the first time it is used: the render worker
# (code highlighting and math) and the main wasm's split chunks
# (src/split.rs). The first load's js counts sw.js, which the page
# registers on the first visit. `make bundle-size` builds first.
. "$(dirname "$0")/lib.sh" bundle-size
[ -f dist/index.html ] || { echo "dist/ is missing: run make build first" >&2; exit 1; }

# Whether file $1 of dist/ is loaded lazily.
is_lazy() { [[ ${1##*/} == confab-render-worker* || ${1##*/} == split_* || ${1##*/} == chunk_* ]]; }
brotli_size() { if [ -f "$1.br" ]; then wc -c < "$1.br"; else wc -c < "$1"; fi; }

# Prints one table of the files of dist/ that are (or, with "lazy", are not)
# in the first load.
sizes() {
  local part=$1 total_raw=0 total_gz=0 total_br=0
  printf '%-6s %10s %10s %10s\n' kind bytes gzipped brotli
  for kind in wasm js css html; do
    raw=0 gz=0 br=0
    # wasm-bindgen's inline JS modules are files of their own, under snippets/.
    for f in dist/*."$kind" dist/snippets/*/*."$kind"; do
      [ -e "$f" ] || continue
      if is_lazy "$f"; then [ "$part" = lazy ] || continue; else [ "$part" = first ] || continue; fi
      raw=$((raw + $(wc -c < "$f")))
      gz=$((gz + $(gzip -9 -c "$f" | wc -c)))
      br=$((br + $(brotli_size "$f")))
    done
    printf '%-6s %10d %10d %10d\n' "$kind" "$raw" "$gz" "$br"
    total_raw=$((total_raw + raw)) total_gz=$((total_gz + gz)) total_br=$((total_br + br))
  done
  printf '%-6s %10d %10d %10d\n' total "$total_raw" "$total_gz" "$total_br"
}

echo "first load (index.html and what it loads)"
sizes first
echo
echo "lazy: the render worker (highlighting, math), fetched with the first code block or formula,"
echo "and the split chunks, each fetched when its part is first used"
sizes lazy
echo
printf '%-44s %10s %10s\n' "lazy file" gzipped brotli
for f in dist/confab-render-worker* dist/split_* dist/chunk_*; do
  [[ -e $f && $f != *.br && $f != *.gz ]] || continue
  printf '%-44s %10d %10d\n' "${f#dist/}" "$(gzip -9 -c "$f" | wc -c)" "$(brotli_size "$f")"
done
