#!/usr/bin/env bash
# Regenerates the README's screenshots (docs/screenshot-*.png) from the
# release build: light, dark, and the narrow (360 px) layout with the
# drawer open. `make screenshots` builds first (dist/, target/release/confab-proxy).
. "$(dirname "$0")/lib.sh" screenshots
[ -x target/release/confab-proxy ] && [ -f dist/index.html ] || { echo "run make build first" >&2; exit 1; }
node scripts/screenshots.mjs
ls -l docs/screenshot-*.png
