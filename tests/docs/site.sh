#!/usr/bin/env bash
# site.sh MTIF PYTHON_PATH WORK: the documentation site builds and renders.
#   1. scripts/docs.sh builds it from scratch with warnings as errors and checks
#      every internal link (the CLI reference from MTIF's --help, the Python API
#      from the module in PYTHON_PATH);
#   2. every subcommand that `MTIF --help` lists has its section in the CLI reference;
#   3. the front page is rendered in headless Chromium (front_page.mjs): no page or
#      console error, nothing fetched from outside the site, the theme loaded, the
#      title text present; the screenshot is a PNG of the right size that is not blank.
set -euo pipefail
MTIF="$1"; PYTHON_PATH="$2"; WORK="$3"
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
fail() { echo "FAIL: $*" >&2; exit 1; }
rm -rf "$WORK"; mkdir -p "$WORK"

MTIF_BIN="$MTIF" MTIF_PYTHON_PATH="$PYTHON_PATH" "$ROOT/scripts/docs.sh" "$WORK/html" >"$WORK/build.txt" 2>&1 \
  || fail "the site did not build:"$'\n'"$(tail -30 "$WORK/build.txt")"

for sub in $("$MTIF" --help | awk 'tolower($0) ~ /^subcommands:/ {on = 1; next} on && /^  [a-z]/ {print $1}'); do
  grep -qF "id=\"mtif-$sub\"" "$WORK/html/cli.html" || fail "the CLI reference has no section for mtif $sub"
done
grep -qF -- "--lambda-task" "$WORK/html/cli.html" || fail "the CLI reference lacks the --lambda-task flag"
grep -qF "LinearMultitask.influence" "$WORK/html/api/python.html" || fail "the API reference lacks LinearMultitask.influence"

node "$HERE/front_page.mjs" "$WORK/html/index.html" "$WORK/front.png" \
  "mtif: which rows and which tasks help or hurt each task" "User guide" "Python API" "Known gaps" \
  || fail "the front page failed the browser check"
/usr/bin/python3 - "$WORK/front.png" <<'PY' || fail "the screenshot is blank or not a 1280 x 900 PNG"
import sys
from PIL import Image
image = Image.open(sys.argv[1]).convert("RGB")
assert image.size == (1280, 900), image.size
colours = image.getcolors(maxcolors=1 << 20) or []
dark = sum(n for n, (r, g, b) in colours if r + g + b < 300)  # text pixels
assert len(colours) > 50 and dark > 2000, (len(colours), dark)
print(f"ok: screenshot {image.size}, {len(colours)} colours, {dark} dark pixels")
PY
echo "ok: site in $WORK/html, screenshot $WORK/front.png"
