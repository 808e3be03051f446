#!/usr/bin/env bash
# Issue 14 item 4: task grouping on the real casts. For each cast, split seed (1..3), affinity
# measure and budget g = 2, 3, 5: `mtif group` chooses the groups from the measure's matrix on
# the VALIDATION rows (--valid; TAG and gradient cosine use the training rows only), trains one
# linear model per group and reports each task's TEST loss, against one model for all tasks and
# one model per task. TAG's groups are the `tag` measure's. Penalties: those of
# bench/surrogate_table.sh (chosen by validation loss in bench/selection.sh), the same for every
# group's model. Writes bench/results/grouping.json and prints the markdown table.
#
# Usage: bench/grouping.sh [BUILD_DIR] [CASTS...]
#   default: build; oj-brands oj-stores chem97 fashion-ovr digits-ovr (scripts/fetch_data.sh first;
#   SEEDS=1,2,3 there makes the real casts' seeds; the image casts are made here by mtif images)
#   SEEDS="1 2 3" and MEASURES="..." in the environment narrow the run.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"; shift || true
casts=("$@"); [ ${#casts[@]} -gt 0 ] || casts=(oj-brands oj-stores chem97 fashion-ovr digits-ovr)
mtif="$build/mtif"; data="${DATA_DIR:-$root/data}"; out="$root/bench/results/grouping.json"
seeds=(${SEEDS:-1 2 3})
measures=(${MEASURES:-mtif newton retrain tag gradcos surrogate gradient-estimate})
[ -x "$mtif" ] || { echo "bench/grouping.sh: no $mtif (build first)" >&2; exit 1; }
runs="$(mktemp -d)"; trap 'rm -rf "$runs"' EXIT

source "$root/bench/casts.sh"  # image_cast, model_args
measure_args() {
  case "$1" in
    surrogate) echo "--method surrogate --subset-losses newton" ;;  # Newton subset losses: = retrain for squared loss
    *) echo "--method $1" ;;
  esac
}

start=$SECONDS
for cast in "${casts[@]}"; do
  for seed in "${seeds[@]}"; do
    case "$cast" in fashion-ovr | digits-ovr) image_cast "$cast" "$seed" ;; esac
    d="$data/$cast/seed$seed"
    [ -s "$d/valid.csv" ] || { echo "bench/grouping.sh: $d/valid.csv missing: run SEEDS=1,2,3 scripts/fetch_data.sh" >&2; exit 1; }
    read -r -a model <<<"$(model_args "$cast")"
    for m in "${measures[@]}"; do
      read -r -a flags <<<"$(measure_args "$m")"
      echo "bench/grouping.sh: $cast seed $seed $m ($((SECONDS - start)) s)" >&2
      "$mtif" group --train "$d/train.csv" --valid "$d/valid.csv" --test "$d/test.csv" "${model[@]}" "${flags[@]}" \
        --groups 2,3,5 --out "$runs/g.csv" --json "$runs/${cast}_${seed}_$m.json" -q
    done
    # Chance: groups from a random affinity matrix (seeded by the split seed), through --affinity.
    python3 - "$runs/${cast}_${seed}_${measures[0]}.json" "$runs/random.csv" "$seed" <<'PY'
import csv, json, random, sys
tasks, rng = json.load(open(sys.argv[1]))["tasks"], random.Random(int(sys.argv[3]))
with open(sys.argv[2], "w", newline="") as f:
    w = csv.writer(f); w.writerow(["source_task", "target_task", "loss_change_if_removed"])
    for l in tasks:
        for k in tasks: w.writerow([l, k, rng.gauss(0, 1)])
PY
    "$mtif" group --train "$d/train.csv" --test "$d/test.csv" "${model[@]}" --affinity "$runs/random.csv" \
      --groups 2,3,5 --out "$runs/g.csv" --json "$runs/${cast}_${seed}_random.json" -q
  done
done

python3 - "$runs" "$out" "$(nproc)" "$((SECONDS - start))" "${seeds[*]}" "${measures[*]} random" "${casts[@]}" <<'PYEOF'
import json, sys, statistics as st
runs, target, cores, seconds, seeds, measures, casts = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), \
    [int(s) for s in sys.argv[5].split()], sys.argv[6].split(), sys.argv[7:]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
table = {"machine": f"{cpu}, {cores} cores", "seeds": seeds, "budgets": [2, 3, 5], "wall_seconds": seconds,
         "loss": "mean over tasks of each task's mean test loss (squared error or logistic loss)",
         "chosen_on": "validation rows (tag, gradcos: training rows)", "casts": {}}
for cast in casts:
    c = {"measures": {}, "all_tasks": [], "single_task": [], "search": {}}
    for seed in seeds:
        for i, m in enumerate(measures):
            j = json.load(open(f"{runs}/{cast}_{seed}_{m}.json"))
            if i == 0:
                c["tasks"] = len(j["tasks"])
                c["all_tasks"].append(j["all_tasks"]["mean_test_loss"])
                c["single_task"].append(j["single_task"]["mean_test_loss"])
            r = c["measures"].setdefault(m, {str(g): [] for g in (2, 3, 5)})
            for b in j["budgets"]:
                r[str(b["groups"])].append(b["mean_test_loss"])
                r.setdefault("partitions", {}).setdefault(str(seed), {})[str(b["groups"])] = b["partition"]
                c["search"][str(b["groups"])] = b["search"]
            r.setdefault("affinity_seconds", []).append(j["affinity_seconds"])
    table["casts"][cast] = c
json.dump(table, open(target, "w"), indent=1)

mean = lambda v: sum(v) / len(v)
print("Mean test loss over tasks, mean over split seeds", seeds, "(lower is better); in brackets: % change vs one model for all tasks")
print(f"| cast (tasks) | one model | one per task | measure | g = 2 | g = 3 | g = 5 | runs below one model (of {3 * len(seeds)}) |")
print("|---|---|---|---|---|---|---|---|")
for cast, c in table["casts"].items():
    a, s = mean(c["all_tasks"]), mean(c["single_task"])
    for m, r in c["measures"].items():
        cells, wins = [], 0
        for g in ("2", "3", "5"):
            v = mean(r[g]); cells.append(f"{v:.5g} ({100 * (v - a) / a:+.2f}%)")
            wins += sum(x < y for x, y in zip(r[g], c["all_tasks"]))
        print(f"| {cast} ({c['tasks']}) | {a:.5g} | {s:.5g} ({100 * (s - a) / a:+.2f}%) | {m} | " + " | ".join(cells) + f" | {wins} |")
# Which measure's groups win: per cast, the mean over budgets and seeds of the loss change vs one
# model for all tasks and vs TAG's groups (same seed and g), and in how many of those runs it is lower.
pct = lambda x, y: 100 * (x - y) / y
runs_of = lambda r: [(g, i) for g in ("2", "3", "5") for i in range(len(seeds))]
print("\nPer cast, over g = 2, 3, 5 and the seeds: mean % change of test loss vs one model for all tasks, "
      "mean % change vs TAG's groups, runs below TAG's (negative = better):")
summary = {}
for cast, c in table["casts"].items():
    a, tag = c["all_tasks"], c["measures"].get("tag")
    summary[cast] = {}
    for m, r in c["measures"].items():
        row = {"vs_all_tasks_percent": mean([pct(r[g][i], a[i]) for g, i in runs_of(r)]),
               "runs_below_all_tasks": sum(r[g][i] < a[i] for g, i in runs_of(r))}
        if tag:
            row["vs_tag_percent"] = mean([pct(r[g][i], tag[g][i]) for g, i in runs_of(r)])
            row["runs_below_tag"] = sum(r[g][i] < tag[g][i] for g, i in runs_of(r))
        summary[cast][m] = row
    order = sorted(summary[cast], key=lambda m: summary[cast][m]["vs_all_tasks_percent"])
    print(f"- {cast}: " + ", ".join(f"{m} {summary[cast][m]['vs_all_tasks_percent']:+.3f}%"
                                    + (f" (vs TAG {summary[cast][m]['vs_tag_percent']:+.3f}%, {summary[cast][m]['runs_below_tag']}/{3 * len(seeds)})" if tag else "")
                                    for m in order))
overall = {m: mean([summary[c][m]["vs_all_tasks_percent"] for c in summary]) for m in table["casts"][casts[0]]["measures"]}
print("Mean over casts, % change vs one model: " + ", ".join(f"{m} {overall[m]:+.3f}%" for m in sorted(overall, key=overall.get)))
table["summary"] = summary
table["mean_over_casts_vs_all_tasks_percent"] = overall
json.dump(table, open(target, "w"), indent=1)
print(f"machine: {table['machine']}; wall time {seconds} s")
PYEOF
