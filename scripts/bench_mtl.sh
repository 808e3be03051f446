#!/usr/bin/env bash
# VMTL and feedback MTL against single-task, shared-bottom and MTIF (issue 5).
# Needs the data (scripts/fetch_data.sh) and a build with the bench target:
#   cmake -S . -B build -DMTIF_BUILD_BENCH=ON && cmake --build build --target mtif_bench_mtl
# Writes bench/results/mtl_rotated_accuracy.json, mtl_rotated_relatedness.json and
# mtl_fashion.json (the README tables); the tables also go to stdout. About 30 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/bench/mtif_bench_mtl}
SEEDS=${SEEDS:-0,1,2}
mkdir -p bench/results
"$BIN" rotated --seeds "$SEEDS" --skip-relatedness --out bench/results/mtl_rotated_accuracy.json
"$BIN" rotated --seeds "$SEEDS" --fractions 0.1 --out bench/results/mtl_rotated_relatedness.json
"$BIN" fashion --seeds "$SEEDS" --out bench/results/mtl_fashion.json
