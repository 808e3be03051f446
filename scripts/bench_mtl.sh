#!/usr/bin/env bash
# VMTL and feedback MTL against single-task and shared-bottom training, and
# the relatedness matrices against MTIF and brute force (issue 5).
# Needs the data (scripts/fetch_data.sh) and a build with the bench target:
#   cmake -S . -B build -DMTIF_BUILD_BENCH=ON && cmake --build build --target mtif_bench_mtl
# Accuracy runs follow one protocol for every model (bench/mtl_compare.cpp,
# "protocol" in the JSON): validation rows carved out of the labelled rows,
# Adam with epoch selection on validation accuracy, a small learning-rate /
# weight-decay grid chosen on validation, no L-BFGS polish.
# Writes bench/results/mtl_rotated_accuracy.json, mtl_rotated_feedback.json,
# mtl_fashion.json, mtl_digits*.json, mtl_rotated_relatedness.json and mtl_angles_*.json (the README tables); the
# tables also go to stdout. Over an hour on 2 shared cores.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/bench/mtif_bench_mtl}
SEEDS=${SEEDS:-0,1,2}
mkdir -p bench/results
"$BIN" digits --seeds "$SEEDS" --train-images 200 --models single_task,shared_bottom,feedback --out bench/results/mtl_digits.json
# feedback MTL ablations on the same splits: last iteration supervised only; two head layers
"$BIN" digits --seeds "$SEEDS" --train-images 200 --models feedback --feedback-supervise-all false \
  --out bench/results/mtl_digits_last_iteration_only.json
"$BIN" digits --seeds "$SEEDS" --train-images 200 --models feedback --feedback-head-layers 2 \
  --out bench/results/mtl_digits_two_head_layers.json
# feedback MTL's cut matrix against leave-one-task-out (network and feedback MTL) and MTIF, 5 seeds
"$BIN" digits --seeds 0,1,2,3,4 --train-images 200 --skip-accuracy --relatedness \
  --out bench/results/mtl_digits_relatedness.json
"$BIN" fashion --seeds "$SEEDS" --models single_task,shared_bottom,feedback --out bench/results/mtl_fashion.json
"$BIN" rotated --seeds "$SEEDS" --skip-relatedness --models single_task,shared_bottom,vmtl \
  --out bench/results/mtl_rotated_accuracy.json
"$BIN" rotated --seeds "$SEEDS" --skip-relatedness --models feedback --out bench/results/mtl_rotated_feedback.json
# is the 150-epoch cap what holds VMTL back at 20%? the same with 300
"$BIN" rotated --seeds "$SEEDS" --fractions 0.2 --models vmtl --max-epochs 300 --skip-relatedness \
  --out bench/results/mtl_rotated_vmtl_300_epochs.json
"$BIN" rotated --seeds "$SEEDS" --relatedness-fraction 0.1 --skip-accuracy --out bench/results/mtl_rotated_relatedness.json
# VMTL's regression setting: Rotated MNIST angles (one task per digit), RMSE in degrees; the MLPs
# again with two hidden layers (VMTL's encoder depth: hidden layer + z); relatedness at 10%.
"$BIN" angles --seeds "$SEEDS" --skip-relatedness --out bench/results/mtl_angles_accuracy.json
"$BIN" angles --seeds "$SEEDS" --skip-relatedness --models single_task,shared_bottom --hidden 32,32 \
  --out bench/results/mtl_angles_two_layer_mlps.json
"$BIN" angles --seeds "$SEEDS" --relatedness-fraction 0.1 --skip-accuracy --out bench/results/mtl_angles_relatedness.json
# the same question for the angles, where two runs reached the cap
"$BIN" angles --seeds "$SEEDS" --fractions 0.05,0.1 --models vmtl --max-epochs 300 --skip-relatedness \
  --out bench/results/mtl_angles_vmtl_300_epochs.json
