#!/usr/bin/env bash
# Issue 14: the linear model's subset losses of 1,000 random task subsets at 131 tasks, by Newton
# removal (Schur complement), and the surrogate fit on them (`mtif relatedness --method surrogate
# --subset-losses newton --subsets 1000`). On the real cast chem97-all (all 131 education
# authorities of Chem97, split seed 1, chem97's penalties) and on generated data of the same shape
# (3 features, ~180 train rows per task) and with the orange-juice casts' 13 features. Each case
# runs REPEATS times (default 5); the JSON keeps every run and the median ("total_seconds": mtif's
# own reported time; "process_wall_seconds": the whole process, start and CSV reading included). On chem97-all the same
# 1,000 subsets are also retrained, and the two surrogate matrices compared (Newton removal is
# exact for the squared loss, so they should agree to rounding). The 1-minute load average is
# recorded before and after. Writes bench/results/surrogate/newton_subsets.json and prints a summary.
#
# Usage: bench/newton_subsets.sh [BUILD_DIR]   (after scripts/fetch_data.sh --real; DATA_DIR honoured)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
mtif="$build/mtif"; data="${DATA_DIR:-$root/data}"; out="$root/bench/results/surrogate"
repeats="${REPEATS:-5}"
[ -x "$mtif" ] || { echo "bench/newton_subsets.sh: no $mtif (build first)" >&2; exit 1; }
real="$data/chem97-all/seed1"
[ -s "$real/train.csv" ] || { echo "bench/newton_subsets.sh: $real missing: run scripts/fetch_data.sh --real" >&2; exit 1; }
mkdir -p "$out"
runs="$(mktemp -d)"; trap 'rm -rf "$runs"' EXIT

for features in 3 13; do
  "$mtif" generate --tasks 131 --features $features --rows 180 --test-rows 60 --seed 1 --out-dir "$runs/k131_$features" -q
done
load_before="$(cut -d' ' -f1 /proc/loadavg)"
# name|train folder|model flags
cases=(
  "chem97-all|$real|--intercept --lambda-task 1 --lambda-shared 0.1"
  "generated-3|$runs/k131_3|--intercept"
  "generated-13|$runs/k131_13|--intercept"
)
for c in "${cases[@]}"; do
  IFS='|' read -r name dir flags <<<"$c"
  read -r -a model <<<"$flags"
  for ((i = 1; i <= repeats; i++)); do
    t0=$(date +%s.%N)
    "$mtif" relatedness --train "$dir/train.csv" --test "$dir/test.csv" "${model[@]}" --method surrogate \
      --subset-losses newton --subsets 1000 --out "$runs/R_${name}_newton.csv" --json "$runs/${name}_$i.json" -q
    t1=$(date +%s.%N)
    echo "$t0 $t1" >"$runs/${name}_$i.wall"
  done
done
read -r -a model <<<"${cases[0]#*|*|}"
"$mtif" relatedness --train "$real/train.csv" --test "$real/test.csv" "${model[@]}" --method surrogate \
  --subset-losses retrain --subsets 1000 --out "$runs/R_chem97-all_retrain.csv" --json "$runs/chem97-all_retrain.json" -q
load_after="$(cut -d' ' -f1 /proc/loadavg)"

python3 - "$runs" "$out/newton_subsets.json" "$repeats" "$load_before" "$load_after" "$(uname -srm)" "$(nproc)" <<'PYEOF'
import csv, datetime, json, statistics, sys
runs, target, repeats, load_before, load_after, system, cores = sys.argv[1:8]
repeats = int(repeats)
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
data = {"chem97-all": "data/chem97-all/seed1 (real: all education authorities of mlmRev::Chem97), --intercept --lambda-task 1 --lambda-shared 0.1 (chem97's penalties)",
        "generated-3": "mtif generate --tasks 131 --features 3 --rows 180 --test-rows 60 --seed 1, --intercept",
        "generated-13": "mtif generate --tasks 131 --features 13 --rows 180 --test-rows 60 --seed 1, --intercept"}
result = {"date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
          "machine": f"{cpu}, {cores} cores ({system})", "load_average_1min": {"before": float(load_before),
          "after": float(load_after)}, "subsets": 1000, "repeats": repeats, "cases": {}}
for name, what in data.items():
    js = [json.load(open(f"{runs}/{name}_{i}.json")) for i in range(1, repeats + 1)]
    subset = [j["settings"]["surrogate"]["subset_loss_seconds"] for j in js]
    total = [j["seconds"] for j in js]
    walls = [float(b) - float(a) for a, b in (open(f"{runs}/{name}_{i}.wall").read().split()
                                               for i in range(1, repeats + 1))]
    result["cases"][name] = {"data": what, "tasks": len(js[0]["sources"]),
                             "subset_loss_seconds": {"median": statistics.median(subset), "runs": subset},
                             "total_seconds": {"median": statistics.median(total), "runs": total},
                             "process_wall_seconds": {"median": statistics.median(walls), "runs": walls}}

def matrix(path):  # long format: source_task,target_task,value
    return {(r[0], r[1]): float(r[2]) for r in list(csv.reader(open(path)))[1:]}

newton, retrain = matrix(f"{runs}/R_chem97-all_newton.csv"), matrix(f"{runs}/R_chem97-all_retrain.csv")
assert newton.keys() == retrain.keys()
diff = max(abs(newton[k] - retrain[k]) for k in newton)
scale = max(abs(v) for v in retrain.values())
rj = json.load(open(f"{runs}/chem97-all_retrain.json"))
result["chem97-all_retrain_same_subsets"] = {
    "subset_loss_seconds": rj["settings"]["surrogate"]["subset_loss_seconds"], "total_seconds": rj["seconds"],
    "max_abs_difference_of_matrices": diff, "max_abs_entry": scale}
json.dump(result, open(target, "w"), indent=1)
for name, c in result["cases"].items():
    print(f"1,000 Newton subsets, {name} ({c['tasks']} tasks): median {c['subset_loss_seconds']['median']:.3f} s "
          f"subset losses, {c['total_seconds']['median']:.3f} s with the surrogate fit, "
          f"{c['process_wall_seconds']['median']:.3f} s whole process with reading the CSVs ({repeats} runs)")
r = result["chem97-all_retrain_same_subsets"]
print(f"chem97-all, the same 1,000 subsets retrained: {r['subset_loss_seconds']:.3f} s subset losses; "
      f"surrogate matrices differ by at most {diff:.2e} (largest entry {scale:.2e})")
print(f"machine: {result['machine']}; 1-min load average {load_before} before, {load_after} after")
PYEOF
