#!/usr/bin/env bash
# Issue 14 items 1-3: every task-relatedness measure on the real casts, in one run. For each
# cast (split seed 1) and measure: mean over targets of the Spearman with brute-force
# leave-one-task-out (all sources, and the other tasks only), mean over targets of the Spearman
# of the matrix's predicted subset losses with 100 retrained random subsets (the same subsets
# for every measure: --subset-seed), the measure's own wall time, and the surrogates' held-out
# R^2. Then the timing of 1,000 Newton subsets at 131 tasks (generated data of Chem97's shape).
# Writes bench/results/surrogate/table.json (summaries only) and prints the markdown table.
#
# Usage: bench/surrogate_table.sh [BUILD_DIR] [CASTS...]
#   default: build; oj-brands oj-stores chem97 fashion-ovr digits-ovr (scripts/fetch_data.sh first)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"; shift || true
casts=("$@"); [ ${#casts[@]} -gt 0 ] || casts=(oj-brands oj-stores chem97 fashion-ovr digits-ovr)
mtif="$build/mtif"; data="${DATA_DIR:-$root/data}"; out="$root/bench/results/surrogate"
[ -x "$mtif" ] || { echo "bench/surrogate_table.sh: no $mtif (build first)" >&2; exit 1; }
mkdir -p "$out"
runs="$(mktemp -d)"; trap 'rm -rf "$runs"' EXIT

# The image casts and penalties of bench/selection.sh (penalties chosen there by validation loss).
image_cast() {
  local cast="$1" d="$data/$1/seed1"
  [ -s "$d/test.csv" ] && return 0
  case "$cast" in
    fashion-ovr) "$mtif" images --source fashion-mnist --data-dir "$data/fashion-mnist" --pool 4 --train-pos 100 \
      --train-neg 100 --valid-fraction 0.2 --valid-pos 500 --valid-neg 500 --test-pos 500 --test-neg 500 \
      --seed 1 --out-dir "$d" -q ;;
    digits-ovr) "$mtif" images --source mnist-digits --data-dir "$data/mnist-digits" --pool 4 --train-pos 100 \
      --train-neg 100 --valid-fraction 0.5 --valid-pos 300 --valid-neg 300 --test-pos 150 --test-neg 150 \
      --seed 1 --out-dir "$d" -q ;;
  esac
}
model_args() {
  case "$1" in
    oj-brands) echo "--intercept --lambda-task 0.01 --lambda-shared 0.01" ;;
    oj-stores) echo "--intercept --lambda-task 0.1 --lambda-shared 0.001" ;;
    chem97) echo "--intercept --lambda-task 1 --lambda-shared 0.1" ;;
    fashion-ovr) echo "--loss logistic --intercept --lambda-task 0.001 --lambda-shared 0.01" ;;
    digits-ovr) echo "--loss logistic --intercept --lambda-task 0.0003 --lambda-shared 0.1" ;;
  esac
}
# name|relatedness flags
measures=(
  "mtif|--method mtif"
  "newton|--method newton"
  "retrain|--method retrain"
  "tag|--method tag"
  "gradcos|--method gradcos"
  "surrogate-newton|--method surrogate --subset-losses newton --validate-subsets 100"
  "surrogate-retrain|--method surrogate --subset-losses retrain --validate-subsets 100"
  "gradient-estimate|--method gradient-estimate --validate-subsets 100"
)

for cast in "${casts[@]}"; do
  case "$cast" in fashion-ovr | digits-ovr) image_cast "$cast" ;; esac
  d="$data/$cast/seed1"
  [ -s "$d/train.csv" ] || { echo "bench/surrogate_table.sh: $d missing: run scripts/fetch_data.sh" >&2; exit 1; }
  read -r -a model <<<"$(model_args "$cast")"
  for m in "${measures[@]}"; do
    name="${m%%|*}"; read -r -a flags <<<"${m#*|}"
    echo "bench/surrogate_table.sh: $cast $name" >&2
    "$mtif" relatedness --train "$d/train.csv" --test "$d/test.csv" "${model[@]}" "${flags[@]}" --validate \
      --compare-subsets 100 --subset-seed 1 --out "$runs/R.csv" --json "$runs/${cast}_$name.json" -q
  done
done

# 1,000 Newton subsets at 131 tasks: Chem97's shape (3 features + intercept, ~180 train rows per
# task), and with the orange-juice casts' 13 features.
for features in 3 13; do
  "$mtif" generate --tasks 131 --features $features --rows 180 --test-rows 60 --seed 1 --out-dir "$runs/k131_$features" -q
  "$mtif" relatedness --train "$runs/k131_$features/train.csv" --test "$runs/k131_$features/test.csv" --intercept \
    --method surrogate --subset-losses newton --subsets 1000 --out "$runs/R131.csv" --json "$runs/k131_$features.json" -q
done

python3 - "$runs" "$out/table.json" "$(uname -srm)" "$(nproc)" "${casts[@]}" <<'PYEOF'
import json, sys, platform
runs, target, system, cores, casts = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
names = ["mtif", "newton", "retrain", "tag", "gradcos", "surrogate-newton", "surrogate-retrain", "gradient-estimate"]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
table = {"machine": f"{cpu}, {cores} cores ({system})", "split_seed": 1, "compare_subsets": 100,
         "subset_size": 0.5, "casts": {}}
for cast in casts:
    rows = {}
    for n in names:
        j = json.load(open(f"{runs}/{cast}_{n}.json"))
        v, c = j["versus_retrain"], j["versus_retrained_subsets"]
        row = {"loto_spearman": v["mean_spearman"], "loto_spearman_between_tasks": v["mean_spearman_between_tasks"],
               "subsets_spearman": c["mean_spearman"], "seconds": j["seconds"]}
        if "mean_held_out_r2" in j:
            row["held_out_r2"] = j["mean_held_out_r2"]
            s = j["settings"]["surrogate"]
            row["subsets"] = s["subsets"]
            if "projection" in s:
                row["projection"] = s["projection"]
        rows[n] = row
    table["casts"][cast] = {"tasks": len(j["sources"]), "loto_retrain_seconds": v["retrain_seconds"],
                            "subsets_retrain_seconds": c["retrain_seconds"], "measures": rows}
table["newton_1000_subsets_131_tasks"] = []
for features in (3, 13):
    k = json.load(open(f"{runs}/k131_{features}.json"))
    table["newton_1000_subsets_131_tasks"].append({
        "data": f"mtif generate --tasks 131 --features {features} --rows 180 --test-rows 60 --seed 1 (+ intercept)",
        "subset_loss_seconds": k["settings"]["surrogate"]["subset_loss_seconds"], "total_seconds": k["seconds"]})
json.dump(table, open(target, "w"), indent=1)
f = lambda x: "n/a" if x is None else f"{x:.3f}"
print("| cast (tasks) | measure | Spearman vs LOTO | ... other tasks only | Spearman vs 100 retrained subsets | wall s | held-out R^2 |")
print("|---|---|---|---|---|---|---|")
for cast, c in table["casts"].items():
    for n, r in c["measures"].items():
        print(f"| {cast} ({c['tasks']}) | {n} | {f(r['loto_spearman'])} | {f(r['loto_spearman_between_tasks'])} | "
              f"{f(r['subsets_spearman'])} | {r['seconds']:.3f} | {f(r.get('held_out_r2'))} |")
for t in table["newton_1000_subsets_131_tasks"]:
    print(f"\n1,000 Newton subsets at 131 tasks ({t['data']}): {t['subset_loss_seconds']:.2f} s subset losses, "
          f"{t['total_seconds']:.2f} s with the surrogate fit")
print(f"machine: {table['machine']}")
PYEOF
