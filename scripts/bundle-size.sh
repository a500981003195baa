#!/usr/bin/env bash
# Prints the size of the release build in dist/: raw and gzipped (-9), per
# file type, for the first load (what index.html loads) and, apart, for the
# lazy part: the render worker (code highlighting and math), fetched only
# the first time a reply has a code block or a formula. The first load's js
# counts sw.js, which the page registers on the first visit. `make bundle-size`
# builds first.
. "$(dirname "$0")/lib.sh" bundle-size
[ -f dist/index.html ] || { echo "dist/ is missing: run make build first" >&2; exit 1; }
lazy_pattern='dist/confab-render-worker*'

# Prints one table of the files of dist/ that are (or, with "lazy", are not
# in) the first load.
sizes() {
  local part=$1 total_raw=0 total_gz=0
  printf '%-6s %10s %10s\n' kind bytes gzipped
  for kind in wasm js css html; do
    raw=0
    gz=0
    # wasm-bindgen's inline JS modules are files of their own, under snippets/.
    for f in dist/*."$kind" dist/snippets/*/*."$kind"; do
      [ -e "$f" ] || continue
      # shellcheck disable=SC2053
      if [[ $f == $lazy_pattern ]]; then [ "$part" = lazy ] || continue; else [ "$part" = first ] || continue; fi
      raw=$((raw + $(wc -c < "$f")))
      gz=$((gz + $(gzip -9 -c "$f" | wc -c)))
    done
    printf '%-6s %10d %10d\n' "$kind" "$raw" "$gz"
    total_raw=$((total_raw + raw))
    total_gz=$((total_gz + gz))
  done
  printf '%-6s %10d %10d\n' total "$total_raw" "$total_gz"
}

echo "first load (index.html and what it loads)"
sizes first
echo
echo "lazy: the render worker (highlighting, math), fetched with the first code block or formula"
sizes lazy
