#!/usr/bin/env bash
# threads.sh MTIF WORK: scores are bit-identical with 1 and 2 OpenMP threads
# (the parallel loops run over tasks, each task's sums in a fixed order).
source "$(dirname "$0")/lib.sh"
set -e
D="$WORK/data"
"$MTIF" generate --tasks 9 --features 6 --rows 40 --test-rows 10 --seed 13 --out-dir "$D" -q
data=(--train "$D/train.csv" --test "$D/test.csv")
for mode in first-order exact; do
  for t in 1 2; do
    OMP_NUM_THREADS=$t "$MTIF" influence "${data[@]}" --mode $mode --targets rows --out "$WORK/$mode-$t.csv" -q
    OMP_NUM_THREADS=$t "$MTIF" relatedness "${data[@]}" --method newton --out "$WORK/R-$mode-$t.csv" -q
  done
  cmp -s "$WORK/$mode-1.csv" "$WORK/$mode-2.csv" || fail "$mode: scores differ between 1 and 2 threads"
  cmp -s "$WORK/R-$mode-1.csv" "$WORK/R-$mode-2.csv" || fail "relatedness differs between 1 and 2 threads"
done
echo "ok: threads"
