#!/usr/bin/env bash
# Issue 4 on the real data of scripts/fetch_data.sh --real: task-level
# relatedness (MTIF, Newton, TAG, gradient cosine vs brute-force LOTO) and data
# selection (MTIF vs full data, random, loss heuristic, task removal) over the
# split seeds. Writes bench/results/selection_<cast>.json (+ the per-run
# summaries under bench/results/selection/) and prints the README tables.
#
# Usage: bench/selection.sh [--tune] [BUILD_DIR] [CASTS...]   (default: build-sel; oj-brands oj-stores chem97)
#   --tune  only print the full-data validation loss of split seed 1 over the lambda grid below
# Env:   SEEDS="1 2 3 4 5"  BUDGET=0.05
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tune=0; [ "${1:-}" = "--tune" ] && { tune=1; shift; }
build="${1:-$root/build-sel}"; shift || true
casts=("$@"); [ ${#casts[@]} -gt 0 ] || casts=(oj-brands oj-stores chem97)
seeds="${SEEDS:-1 2 3 4 5}"; budget="${BUDGET:-0.05}"
mtif="$build/mtif"; data="$root/data"; out="$root/bench/results/selection"
[ -x "$mtif" ] || { echo "bench/selection.sh: no $mtif (build first)" >&2; exit 1; }
mkdir -p "$out"

# Penalties, chosen ONCE per data set by the full-data validation loss of split
# seed 1 over lambda_task in {0.01, 0.1, 1} x lambda_shared in {0.001, 0.01, 0.1}
# (bench/selection.sh --tune prints that grid); never by test loss.
tune_grid() {
  local cast="$1" d="$data/$1/seed1" lt ls
  for lt in 0.01 0.1 1; do
    for ls in 0.001 0.01 0.1; do
      "$mtif" select --train "$d/train.csv" --valid "$d/valid.csv" --test "$d/test.csv" --intercept \
        --lambda-task $lt --lambda-shared $ls --budget 0 --baseline random --repeats 1 --json "$out/tune.json" -q
      python3 -c "import json; j = json.load(open('$out/tune.json')); print('$cast', $lt, $ls, 'valid loss', j['full_data']['valid_loss'])"
    done
  done
  rm -f "$out/tune.json"
}
lambdas() {
  case "$1" in
    oj-brands) echo "--lambda-task 0.01 --lambda-shared 0.01" ;;  # valid loss 0.195833 (grid: 0.19583..0.2864)
    oj-stores) echo "--lambda-task 0.1 --lambda-shared 0.001" ;;  # 0.483712 (grid: 0.48371..0.48769)
    chem97) echo "--lambda-task 1 --lambda-shared 0.1" ;;         # 2.873873 (grid: 2.8739..2.8915; at the grid's edge)
  esac
}

for cast in "${casts[@]}"; do
  [ -s "$data/$cast/seed1/train.csv" ] || { echo "bench/selection.sh: $data/$cast missing: run scripts/fetch_data.sh --real" >&2; exit 1; }
  if [ "$tune" = 1 ]; then tune_grid "$cast"; continue; fi
  read -r -a lam <<<"$(lambdas "$cast")"
  d="$data/$cast/seed1"
  for method in mtif newton tag gradcos; do
    "$mtif" relatedness --train "$d/train.csv" --test "$d/test.csv" --intercept "${lam[@]}" --method "$method" \
      --validate --out "$out/${cast}_R_$method.csv" --json "$out/${cast}_relatedness_$method.json" -q
  done
  for s in $seeds; do
    d="$data/$cast/seed$s"
    sel=(--train "$d/train.csv" --valid "$d/valid.csv" --test "$d/test.csv" --intercept "${lam[@]}" --budget "$budget"
         --repeats 5 --seed "$s" -q)
    # All tasks: rows ranked by their effect on the other tasks (default) or on every task (--include-own).
    "$mtif" select "${sel[@]}" --json "$out/${cast}_all_seed$s.json"
    "$mtif" select "${sel[@]}" --include-own --json "$out/${cast}_allown_seed$s.json"
    # ... keeping only rows predicted harmful on both halves of the validation split.
    "$mtif" select "${sel[@]}" --include-own --agree-halves --baseline random --json "$out/${cast}_allownagree_seed$s.json"
    # One target at a time (other tasks' rows only), for the data sets with few enough tasks.
    if [ "$cast" != oj-stores ]; then
      for t in $(tail -n +2 "$d/train.csv" | cut -d, -f1 | sort -u); do
        "$mtif" select "${sel[@]}" --target-task "$t" --json "$out/${cast}_target-${t}_seed$s.json"
      done
    fi
  done
done
[ "$tune" = 1 ] && exit 0
python3 "$root/bench/selection_report.py" "$out" "$root/bench/results" "${casts[@]}"
