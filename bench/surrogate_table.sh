#!/usr/bin/env bash
# Issue 14 items 1-3: every task-relatedness measure on the real casts, in one run, over split
# seeds 1..3. For each cast, seed and measure: mean over targets of the Spearman with brute-force
# leave-one-task-out (all sources, and the other tasks only), mean over targets of the Spearman
# of the matrix's predicted subset losses with 100 retrained random subsets (the same subsets
# for every measure: --subset-seed), the measure's own wall time, and the surrogates' held-out
# R^2; then mean and spread (sample standard deviation) over the seeds. VMTL and feedback MTL
# train networks of their own: their matrices are scored (relatedness --score) against the SAME
# truth, the linear model's retraining on that cast. Then the timing of 1,000 Newton subsets at
# 131 tasks (bench/newton_subsets.sh: real chem97-all, and generated data). Writes bench/results/surrogate/table.json
# (summaries only; casts of earlier runs that this run did not measure are kept, each with its
# run's date, machine and companions) and prints the markdown table.
#
# Usage: bench/surrogate_table.sh [BUILD_DIR] [CASTS...]
#   default: build; oj-brands oj-stores chem97 fashion-ovr digits-ovr (SEEDS=1,2,3
#   scripts/fetch_data.sh first; the image casts' seed folders are made here by mtif images).
#   SEEDS="1 2 3" in the environment narrows the run.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"; shift || true
casts=("$@"); [ ${#casts[@]} -gt 0 ] || casts=(oj-brands oj-stores chem97 fashion-ovr digits-ovr)
mtif="$build/mtif"; data="${DATA_DIR:-$root/data}"; out="$root/bench/results/surrogate"
seeds=(${SEEDS:-1 2 3})
[ -x "$mtif" ] || { echo "bench/surrogate_table.sh: no $mtif (build first)" >&2; exit 1; }
[ -s "$data/chem97-all/seed1/train.csv" ] ||
  { echo "bench/surrogate_table.sh: $data/chem97-all missing: run scripts/fetch_data.sh --real" >&2; exit 1; }
mkdir -p "$out"
# The per-run files are kept when the script fails (a failed summary need not cost the whole run).
runs="$(mktemp -d)"; trap 'if [ $? = 0 ]; then rm -rf "$runs"; else echo "bench/surrogate_table.sh: run files kept in $runs" >&2; fi' EXIT

source "$root/bench/casts.sh"  # image_cast, model_args
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
# VMTL / feedback MTL flags on a cast (network defaults otherwise: --hidden 32, --lr 0.01, --batch-size
# 64, --seed 0), or "skip:<reason>". Epochs are small to keep the whole run under half an hour on 2 cores.
mtl_args() {
  case "$1:$2" in
    fashion-ovr:vmtl | digits-ovr:vmtl) echo "--epochs 5" ;;
    fashion-ovr:feedback | digits-ovr:feedback) echo "--epochs 1" ;;
    chem97:vmtl) echo "--regression --epochs 1" ;;
    oj-*:vmtl) echo "skip:not run: too slow (63k training rows; 10 epochs ran over 10 min on this machine)" ;;
    *:feedback) echo "skip:cannot run: feedback MTL is a classifier (regression cast)" ;;
  esac
}

start=$SECONDS
for cast in "${casts[@]}"; do
  for seed in "${seeds[@]}"; do
    case "$cast" in fashion-ovr | digits-ovr) image_cast "$cast" "$seed" ;; esac
    d="$data/$cast/seed$seed"
    [ -s "$d/train.csv" ] || { echo "bench/surrogate_table.sh: $d missing: run SEEDS=1,2,3 scripts/fetch_data.sh" >&2; exit 1; }
    read -r -a model <<<"$(model_args "$cast")"
    truth=(--validate --compare-subsets 100 --subset-seed 1)
    for m in "${measures[@]}"; do
      name="${m%%|*}"; read -r -a flags <<<"${m#*|}"
      echo "bench/surrogate_table.sh: $cast seed $seed $name ($((SECONDS - start)) s)" >&2
      "$mtif" relatedness --train "$d/train.csv" --test "$d/test.csv" "${model[@]}" "${flags[@]}" "${truth[@]}" \
        --out "$runs/R.csv" --json "$runs/${cast}_${seed}_$name.json" -q
    done
    for name in vmtl feedback; do
      args="$(mtl_args "$cast" "$name")"
      if [[ "$args" == skip:* ]]; then echo "${args#skip:}" >"$runs/${cast}_${seed}_$name.skip"; continue; fi
      read -r -a flags <<<"$args"
      echo "bench/surrogate_table.sh: $cast seed $seed $name ($((SECONDS - start)) s)" >&2
      t0=$(date +%s.%N)
      "$mtif" relatedness --train "$d/train.csv" --test "$d/test.csv" --method "$name" "${flags[@]}" \
        --out "$runs/R_$name.csv" -q >/dev/null
      t1=$(date +%s.%N)
      "$mtif" relatedness --train "$d/train.csv" --test "$d/test.csv" "${model[@]}" --score "$runs/R_$name.csv" \
        "${truth[@]}" --out "$runs/R.csv" --json "$runs/${cast}_${seed}_$name.json" -q
      python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]), ' '.join(sys.argv[3:]))" "$t0" "$t1" \
        "${flags[@]}" >"$runs/${cast}_${seed}_$name.seconds"
    done
  done
done

# 1,000 Newton subsets at 131 tasks: real chem97-all and generated data of its shape
# (bench/newton_subsets.sh writes newton_subsets.json; the table keeps a copy).
"$root/bench/newton_subsets.sh" "$build" >&2

commit="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
git -C "$root" diff --quiet HEAD -- src apps 2>/dev/null || commit="$commit (with uncommitted changes to src/ or apps/)"
python3 - "$runs" "$out/table.json" "$(uname -srm)" "$(nproc)" "$((SECONDS - start))" "${seeds[*]}" "$commit" "${casts[@]}" <<'PYEOF'
import datetime, json, os, statistics, sys
runs, target, system, cores, total, seeds, commit, casts = (sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4],
                                                            int(sys.argv[5]), sys.argv[6].split(), sys.argv[7],
                                                            sys.argv[8:])
names = ["mtif", "newton", "retrain", "tag", "gradcos", "surrogate-newton", "surrogate-retrain", "gradient-estimate",
         "vmtl", "feedback"]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
# This run's casts replace their own entries in an existing table.json; the other casts are kept
# with the record of the run that measured them ("run"), so a table built in several runs says so.
this_run = {"date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
            "machine": f"{cpu}, {cores} cores ({system})", "split_seeds": [int(s) for s in seeds],
            "casts": casts, "benchmark_seconds": total, "commit": commit}
table = {"compare_subsets": 100, "subset_size": 0.5, "spread": "sample standard deviation over the split seeds",
         "casts": {}}
if os.path.exists(target):
    old = json.load(open(target))
    legacy_run = {k: old[k] for k in ("machine", "split_seeds", "benchmark_seconds") if k in old}
    legacy_run["casts"] = list(old.get("casts", {}))
    for cast, entry in old.get("casts", {}).items():
        if cast not in casts:
            entry.setdefault("run", legacy_run)
            table["casts"][cast] = entry
metrics = ["loto_spearman", "loto_spearman_between_tasks", "subsets_spearman", "seconds", "held_out_r2"]

def one_run(cast, seed, n):
    base = f"{runs}/{cast}_{seed}_{n}"
    if os.path.exists(base + ".skip"):
        return {"skipped": open(base + ".skip").read().strip()}
    j = json.load(open(base + ".json"))
    v, c = j["versus_retrain"], j["versus_retrained_subsets"]
    row = {"loto_spearman": v["mean_spearman"], "loto_spearman_between_tasks": v["mean_spearman_between_tasks"],
           "subsets_spearman": c["mean_spearman"], "seconds": j["seconds"],
           "_truth": (v["retrain_seconds"], c["retrain_seconds"], len(j["sources"]))}
    if os.path.exists(base + ".seconds"):  # vmtl/feedback: the network's own training and matrix
        secs, flags = open(base + ".seconds").read().split(" ", 1)
        row["seconds"], row["flags"] = float(secs), flags.strip()
    if "mean_held_out_r2" in j:
        row["held_out_r2"] = j["mean_held_out_r2"]
    return row

def summary(values):
    values = [x for x in values if x is not None]
    if not values:
        return None
    return {"mean": statistics.mean(values), "spread": statistics.stdev(values) if len(values) > 1 else 0.0,
            "per_seed": values}

for cast in casts:
    rows, truth = {}, None
    for n in names:
        per_seed = [one_run(cast, s, n) for s in seeds]
        if "skipped" in per_seed[0]:
            rows[n] = {"skipped": per_seed[0]["skipped"]}
            continue
        truth = truth or [r["_truth"] for r in per_seed]
        rows[n] = {m: summary([r.get(m) for r in per_seed]) for m in metrics}
        rows[n] = {m: x for m, x in rows[n].items() if x is not None}
        if "flags" in per_seed[0]:
            rows[n]["flags"] = per_seed[0]["flags"]
    table["casts"][cast] = {"tasks": truth[0][2], "loto_retrain_seconds": summary([t[0] for t in truth]),
                            "subsets_retrain_seconds": summary([t[1] for t in truth]), "measures": rows,
                            "run": this_run}
order = ["oj-brands", "oj-stores", "chem97", "fashion-ovr", "digits-ovr"]  # the page's order, whichever run measured them
table["casts"] = dict(sorted(table["casts"].items(), key=lambda c: order.index(c[0]) if c[0] in order else len(order)))
table["newton_1000_subsets_131_tasks"] = json.load(open(os.path.join(os.path.dirname(target), "newton_subsets.json")))
json.dump(table, open(target, "w"), indent=1)
f = lambda s: "n/a" if s is None else f"{s['mean']:.3f} ± {s['spread']:.3f}"
fs = lambda s: f"{s['mean']:.2f} ± {s['spread']:.2f}"
print(f"| cast (tasks) | measure | Spearman vs LOTO | ... other tasks only | Spearman vs 100 retrained subsets | wall s | held-out R^2 |")
print("|---|---|---|---|---|---|---|")
for cast, c in table["casts"].items():
    for n, r in c["measures"].items():
        label = n + (f" ({r['flags']})" if "flags" in r else "")
        if "skipped" in r:
            print(f"| {cast} ({c['tasks']}) | {n} | {r['skipped']} | | | | |")
            continue
        print(f"| {cast} ({c['tasks']}) | {label} | {f(r['loto_spearman'])} | {f(r['loto_spearman_between_tasks'])} | "
              f"{f(r['subsets_spearman'])} | {fs(r['seconds'])} | {f(r.get('held_out_r2'))} |")
for cast, c in table["casts"].items():
    r = c["run"]
    print(f"{cast}: run {r.get('date_utc', 'date not recorded')}, with {' '.join(r['casts'])}, seeds "
          f"{' '.join(map(str, r['split_seeds']))}, {r['machine']}, whole run {r['benchmark_seconds']} s"
          + (f" ({r['note']})" if "note" in r else ""))
PYEOF
