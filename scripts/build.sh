#!/usr/bin/env bash
# Configures and builds mtif into build/ (Release). Extra arguments go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j"$(nproc)"
if [ -d build/python/mtif ]; then
  echo "build: program build/mtif; Python: scripts/python.sh (= PYTHONPATH=$PWD/build/python /usr/bin/python3), then import mtif" >&2
fi
