#!/usr/bin/env bash
# Which curvature makes the CNN of examples/own_model.py agree with leave-one-out refits?
# Scores of the saved module (cnn.pt, written by the example) by CG/exact on Gauss-Newton and on
# the Hessian, against warm-started refits of every 19th row at 100, 300 and 1000 L-BFGS
# iterations; prints the Spearman of each pair (docs/results/own-models.md).
#
# Usage: bench/own_model_curvature.sh DATA/first4 [BUILD_DIR]   (after examples/own_model.py DATA)
set -euo pipefail
data="$1"; mtif="${2:-build}/mtif"; work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
common=(--model torchscript --module "$data/cnn.pt" --loss logistic --weight-decay 0.01
        --train "$data/train.csv" --test "$data/test.csv" -q)
rows=$(/usr/bin/python3 -c "print(','.join(str(i) for i in range(0, 560, 19)))")
"$mtif" influence "${common[@]}" --solver cg --curvature ggn --damping 1e-3 --out "$work/inf_cg_ggn.npy"
"$mtif" influence "${common[@]}" --solver exact --curvature ggn --damping 0 --out "$work/inf_exact_ggn.npy"
"$mtif" influence "${common[@]}" --solver cg --curvature hessian --damping 1e-3 --out "$work/inf_cg_hessian_d1e-3.npy"
"$mtif" influence "${common[@]}" --solver cg --curvature hessian --damping 0 --out "$work/inf_cg_hessian.npy"
for steps in 100 300 1000; do
  "$mtif" loo "${common[@]}" --rows "$rows" --retrain-steps $steps --out "$work/loo_$steps.csv"
done
/usr/bin/python3 - "$work" <<'PY'
import csv, glob, sys
import numpy as np
work = sys.argv[1]
def spearman(a, b):
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])
for loo in sorted(glob.glob(f"{work}/loo_*.csv"), key=lambda p: int(p.rsplit("_", 1)[1][:-4])):
    actual = {}
    for r in csv.DictReader(open(loo)):
        actual.setdefault(int(r["train_row"]), {})[r["target_task"]] = float(r["actual_loss_change"])
    rows = sorted(actual); tasks = sorted(actual[rows[0]])
    truth = np.array([[actual[r][t] for t in tasks] for r in rows])
    for scores in sorted(glob.glob(f"{work}/inf_*.npy")):
        s = np.load(scores)[rows]  # columns in task order = sorted labels for these casts
        print(f"{loo.rsplit('/', 1)[1]:>14} {scores.rsplit('/', 1)[1]:>26}  Spearman {spearman(s.ravel(), truth.ravel()):.3f}")
PY
