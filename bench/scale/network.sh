#!/usr/bin/env bash
# Issue 7, network rows: wall time, CPU time and peak RSS of each --model mlp command on
# Fashion-MNIST one-vs-rest (10 tasks, 7x7 pooled pixels, 49 -> 32 tanh, the network of
# README "Neural models") at 10^4 training rows (1,000 per task) and, for fit and influence,
# at 6 x 10^4 rows (6,000 per task, disjoint images). Writes bench/results/scale_network.json
# and prints a markdown table.
#
# Usage: bench/scale/network.sh [BUILD_DIR]   (default: build)   Env: SIZES="1000 6000" (rows per task)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$root/build}"
mtif="$build/mtif"
work="${TMPDIR:-/tmp}/mtif_scale_network"
out="$root/bench/results/scale_network.json"
[ -x "$mtif" ] || { echo "bench/scale/network.sh: no $mtif (build first)" >&2; exit 1; }
[ -d "$root/data/fashion-mnist" ] || { echo "bench/scale/network.sh: run scripts/fetch_data.sh --images" >&2; exit 1; }
mkdir -p "$work"
net=(--model mlp --loss logistic --hidden 32 --weight-decay 0.03 -q)
runs="$work/runs.jsonl"
: >"$runs"

measure() {  # measure LABEL ROWS COMMAND...: one line of JSON per run
  local label="$1" rows="$2"
  shift 2
  /usr/bin/time -f "%e %U %S %M" -o "$work/time.txt" "$@" >/dev/null
  read -r wall user sys rss <"$work/time.txt"
  printf '{"command": "%s", "train_rows": %s, "wall_s": %s, "cpu_s": %.2f, "peak_rss_mb": %.0f, "load": "%s"}\n' \
    "$label" "$rows" "$wall" "$(echo "$user + $sys" | bc)" "$(echo "$rss / 1024" | bc)" \
    "$(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$runs"
}

for per_task in ${SIZES:-1000 6000}; do
  d="$work/ovr$per_task"
  half=$((per_task / 2))
  "$mtif" images --source fashion-mnist --data-dir "$root/data/fashion-mnist" --pool 4 --train-pos "$half" \
    --train-neg "$half" --valid-fraction 0.1 --valid-pos 300 --valid-neg 300 --test-pos 300 --test-neg 300 \
    --seed 1 --out-dir "$d" -q
  rows=$((per_task * 10))
  data=(--train "$d/train.csv" --test "$d/test.csv")
  measure fit "$rows" "$mtif" fit "${data[@]}" "${net[@]}" --save "$d/model.json"
  measure "influence cg" "$rows" "$mtif" influence "${data[@]}" "${net[@]}" --model-file "$d/model.json" \
    --solver cg --out "$d/cg.npy"
  measure "influence ekfac" "$rows" "$mtif" influence "${data[@]}" "${net[@]}" --model-file "$d/model.json" \
    --solver ekfac --out "$d/ekfac.npy"
  [ "$per_task" -le 1000 ] || continue  # refits at 6 x 10^4 rows take hours on 2 cores
  measure "loo (10 rows)" "$rows" "$mtif" loo "${data[@]}" "${net[@]}" --rows 0-9 --out "$d/loo.csv"
  measure "relatedness mtif + LOTO" "$rows" "$mtif" relatedness "${data[@]}" "${net[@]}" --method mtif --validate \
    --out "$d/R.csv"
  measure "select 5%" "$rows" "$mtif" select "${data[@]}" --valid "$d/valid.csv" "${net[@]}" --budget 0.05 \
    --baseline random --repeats 1 --json "$d/sel.json"
done
/usr/bin/python3 - "$runs" "$out" <<'PY'
import json, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
json.dump({"what": "bench/scale/network.sh: --model mlp on Fashion-MNIST one-vs-rest", "runs": runs},
          open(sys.argv[2], "w"), indent=1)
print("| command | train rows | wall s | CPU s | peak RSS |\n|---|---|---|---|---|")
for r in runs:
    print(f"| {r['command']} | {r['train_rows']:,} | {r['wall_s']} | {r['cpu_s']} | {r['peak_rss_mb']} MB |")
PY
