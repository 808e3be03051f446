#!/usr/bin/env bash
# Issue 4 for the shared-bottom network (--model mlp) on Fashion-MNIST:
# task-level relatedness (MTIF with Hessian and Gauss-Newton curvature, TAG,
# gradient cosine, each against brute-force leave-one-task-out on the test
# half) and data selection (MTIF vs full data, random, loss heuristic, whole
# tasks by LOTO), over image-sampling seeds. The linear logistic model runs on
# the same files for comparison.
#
# Usage: bench/mlp_issue4.sh [BUILD_DIR]      (default: build)
# Env:   SEEDS="1 2 3"  CASTS="one-vs-rest grouped"  SELECT=1 (0: relatedness only)
# Writes bench/results/mlp_issue4/*.json (one summary per run) and, through
# bench/mlp_issue4_report.py, bench/results/relatedness_fashion_mlp.json and
# bench/results/selection_fashion_mlp.json, and prints the README tables.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
mtif="$build/mtif"
seeds="${SEEDS:-1 2 3}"
casts="${CASTS:-one-vs-rest grouped}"
out="$root/bench/results/mlp_issue4"
work="${TMPDIR:-/tmp}/mtif_mlp_issue4"
[ -x "$mtif" ] || { echo "bench/mlp_issue4.sh: no $mtif (build first)" >&2; exit 1; }
[ -s "$root/data/fashion-mnist/train-images-idx3-ubyte.gz" ] || [ -d "$root/data/fashion-mnist" ] ||
  { echo "bench/mlp_issue4.sh: data/fashion-mnist missing: run scripts/fetch_data.sh" >&2; exit 1; }
mkdir -p "$out" "$work"

# The network of README "Neural models" (49 -> 32 tanh, weight decay 0.03, Adam 30 epochs, L-BFGS polish);
# nothing here is tuned, on validation or test.
one_vs_rest_net=(--model mlp --loss logistic --hidden 32 --weight-decay 0.03)
grouped_net=(--model mlp --loss softmax --hidden 32 --weight-decay 0.03)
linear=(--loss logistic --intercept --lambda-task 0.001 --lambda-shared 0.01)  # the linear reference's settings

make_data() {  # make_data CAST SEED DIR
  local cast="$1" seed="$2" d="$3"
  if [ "$cast" = one-vs-rest ]; then
    "$mtif" images --source fashion-mnist --pool 4 --train-pos 100 --train-neg 100 --test-pos 300 --test-neg 300 \
      --seed "$seed" --out-dir "$d" -q
  else
    "$mtif" images --source fashion-mnist --cast grouped --pool 4 --rows-per-task 200 --test-rows-per-task 600 \
      --seed "$seed" --out-dir "$d" -q
  fi
  # Validation and test halves: alternate rows of the generated test file.
  awk 'NR == 1 || NR % 2 == 0' "$d/test.csv" >"$d/valid.csv"
  awk 'NR == 1 || NR % 2 == 1' "$d/test.csv" >"$d/test_half.csv"
}

for cast in $casts; do
  if [ "$cast" = one-vs-rest ]; then net=("${one_vs_rest_net[@]}"); else net=("${grouped_net[@]}"); fi
  for s in $seeds; do
    d="$work/${cast}_seed$s"
    make_data "$cast" "$s" "$d"
    tt=(--train "$d/train.csv" --test "$d/test_half.csv" --seed "$s" -q)
    for method in mtif tag gradcos; do
      echo "$cast seed $s: network relatedness $method" >&2
      "$mtif" relatedness "${tt[@]}" "${net[@]}" --method $method --solver cg --curvature hessian --damping 0 \
        --validate --out "$work/R.csv" --json "$out/R_${cast}_mlp_${method}_seed$s.json"
    done
    "$mtif" relatedness "${tt[@]}" "${net[@]}" --method mtif --solver cg --curvature ggn --damping 1e-3 \
      --validate --out "$work/R.csv" --json "$out/R_${cast}_mlp_mtif-ggn_seed$s.json"
    if [ "$cast" = one-vs-rest ] && [ "$s" = 1 ]; then  # the cost/quality of observing every 10th step only
      for method in tag gradcos; do
        "$mtif" relatedness "${tt[@]}" "${net[@]}" --method $method --trajectory-every 10 --validate \
          --out "$work/R.csv" --json "$out/R_${cast}_mlp_${method}-every10_seed$s.json"
      done
    fi
    if [ "$cast" = one-vs-rest ]; then
      for method in mtif tag gradcos; do
        "$mtif" relatedness "${tt[@]}" "${linear[@]}" --method $method --validate --out "$work/R.csv" \
          --json "$out/R_${cast}_linear_${method}_seed$s.json"
      done
    fi
    [ "${SELECT:-1}" = 1 ] || continue
    sel=(--train "$d/train.csv" --valid "$d/valid.csv" --test "$d/test_half.csv" "${net[@]}" --solver cg
         --curvature hessian --damping 0 --budget 0.05 --repeats 3 --seed "$s" -q)
    echo "$cast seed $s: network select" >&2
    "$mtif" select "${sel[@]}" --json "$out/S_${cast}_all_seed$s.json"
    "$mtif" select "${sel[@]}" --include-own --baseline random --json "$out/S_${cast}_allown_seed$s.json"
  done
done
/usr/bin/python3 "$root/bench/mlp_issue4_report.py" "$out" "$root/bench/results"
