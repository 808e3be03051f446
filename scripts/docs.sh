#!/usr/bin/env bash
# Builds the documentation site into build/docs/html (or OUT_DIR) and checks it:
#   scripts/docs.sh [OUT_DIR]
# Sphinx with warnings as errors and nitpicky references (a broken cross-reference,
# heading anchor, image or docstring fails the build), a fresh environment every
# time (-E, so no warning hides in a cache), then every internal link of the HTML
# (docs/tools/check_links.py). Needs a build first (scripts/build.sh): the CLI
# reference comes from build/mtif --help, the API reference from build/python.
# MTIF_BIN and MTIF_PYTHON_PATH point elsewhere (the docs ctest uses them).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/build/docs/html}"
python=/usr/bin/python3  # Debian's: it has sphinx, myst-parser and matplotlib (scripts/setup.sh)
export MTIF_BIN="${MTIF_BIN:-$root/build/mtif}"
export MTIF_PYTHON_PATH="${MTIF_PYTHON_PATH:-$root/build/python}"
rm -rf "$out"
"$python" -m sphinx -W --keep-going -n -E -q -b html -d "$out/.doctrees" "$root/docs" "$out"
"$python" "$root/docs/tools/check_links.py" "$out"
echo "docs: $out/index.html" >&2
