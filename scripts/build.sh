#!/usr/bin/env bash
# Configures and builds mtif into build/ (Release). Extra arguments go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache (from setup.sh), with paths taken relative to the checkout so that other
# checkouts of the same tree (git worktrees, a clean clone) reuse the same objects.
launcher=()
if command -v ccache >/dev/null 2>&1; then
  export CCACHE_BASEDIR="$PWD"
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" "$@" >/dev/null
cmake --build build -j"$(nproc)"
if [ -d build/python/mtif ]; then
  echo "build: program build/mtif; Python: scripts/python.sh (= PYTHONPATH=$PWD/build/python /usr/bin/python3), then import mtif" >&2
fi
