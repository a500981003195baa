#!/usr/bin/env bash
# Prints the size of the release build in dist/: raw and gzipped (-9), per
# file type. `make bundle-size` builds first.
. "$(dirname "$0")/lib.sh" bundle-size
[ -f dist/index.html ] || { echo "dist/ is missing: run make build first" >&2; exit 1; }
total_raw=0
total_gz=0
printf '%-6s %10s %10s\n' kind bytes gzipped
for kind in wasm js css html; do
  raw=0
  gz=0
  for f in dist/*."$kind"; do
    [ -e "$f" ] || continue
    raw=$((raw + $(wc -c < "$f")))
    gz=$((gz + $(gzip -9 -c "$f" | wc -c)))
  done
  printf '%-6s %10d %10d\n' "$kind" "$raw" "$gz"
  total_raw=$((total_raw + raw))
  total_gz=$((total_gz + gz))
done
printf '%-6s %10d %10d\n' total "$total_raw" "$total_gz"
