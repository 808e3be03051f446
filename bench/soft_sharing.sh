#!/usr/bin/env bash
# Soft parameter sharing (issue 12 item 4): LOO of every row, LOTO and LDS on a small logistic cast.
# Run in an empty folder: MTIF=/path/to/build/mtif bench/soft_sharing.sh
set -e
M=${MTIF:-build/mtif}
$M generate --tasks 4 --features 5 --rows 80 --test-rows 40 --seed 3 --loss logistic --out-dir . -q
net="--model mlp --sharing soft --coupling 0.3 --hidden 8 --loss logistic --weight-decay 0.05 --train train.csv --test test.csv --solver exact --curvature hessian --damping 0"
$M loo $net --rows all --out loo.csv --json loo.json
$M relatedness $net --method mtif --validate --out R.csv --json R.json
$M lds $net --subsets 30 --seed 0 --out lds.csv --json lds.json
echo done
