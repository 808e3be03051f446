#!/usr/bin/env bash
# One command for a fresh machine: install, build, run the main job.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
build/mtif demo "$@"
