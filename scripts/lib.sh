# Sourced first by every script in scripts/, with the make target that runs
# it: `. "$(dirname "$0")/lib.sh" TARGET`. Strict mode, the repository root
# as the working directory, and the one rule for PATH: the Makefile sets it
# (node_modules/.bin first, for binaryen's wasm-opt and Playwright, then
# ~/.cargo/bin, for trunk and wasm-bindgen) and no script does, so scripts
# run through make. Run on its own, a script stops here and names its target.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
case ":$PATH:" in
  *":$(pwd -P)/node_modules/.bin:"*) ;;
  *) echo "${0##*/}: run this through make: \`make $1\` (the Makefile sets PATH; scripts do not)" >&2
     exit 2 ;;
esac
step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
