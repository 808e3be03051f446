#!/usr/bin/env bash
# One command for a fresh machine: install, build, run every test.
#   1. the GoogleTest suite and CLI tests (ctest) on the Release build, with the image data
#      fetched first (from Debian and npm) so the real-data reader test runs, not skips;
#   2. the same suite under AddressSanitizer + UndefinedBehaviorSanitizer;
#   3. a bounded libFuzzer run on the CSV, .npy and JSON readers (60 s each).
# Set MTIF_QUICK=1 to run only step 1.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
scripts/fetch_data.sh --images
(cd build && ctest --output-on-failure -j2)
if [ "${MTIF_QUICK:-0}" != "1" ]; then
  scripts/sanitize.sh
  scripts/fuzz.sh 60
fi
