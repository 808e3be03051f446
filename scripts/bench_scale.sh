#!/usr/bin/env bash
# Scale benchmark of issue 7: streaming at 10^5..10^7 rows and 10..1,000 tasks,
# and the dense numpy / PyTorch full-Hessian alternatives and brute-force
# retraining on the same data. Results: bench/results/scale.json (README "Scale").
#
#   scripts/bench_scale.sh [BUILD_DIR] [--quick] [--reps N] [--only streaming|dense]
#
# Needs /usr/bin/python3 with numpy and torch (Debian python3-numpy,
# python3-torch: scripts/setup.sh), /usr/bin/time, and ~10 GB free under data/
# (the 10^7-row input is 2 GB of float32, the float32 score matrix 4 GB;
# each size's files are deleted after it ran).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${1:-build}"
shift || true
df -h data 2>/dev/null || df -h .
exec /usr/bin/python3 bench/scale/run.py "$BUILD" "$@"
