#!/usr/bin/env bash
# 1 vs 2 vs 4 MPI ranks for `mtif influence` (issue 7): whole-process wall time
# and the time split reported by --json (read, fit, reduce, factor, score,
# gather, write) of rank 0, on `mtif generate` data (default 100 tasks x 1000
# rows x 50 features), CSV and .npy input, first-order scores to .npy.
# Also checks the N-rank scores against the plain run. Writes bench/results/mpi.json.
#
#   scripts/bench_mpi.sh [BUILD_DIR] [REPS]       (default build-mpi, 3)
# Environment: MTIF_BENCH_SHAPE="TASKS ROWS FEATURES" (default "100 1000 50").
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${1:-$ROOT/build-mpi}"
REPS="${2:-3}"
read -r TASKS ROWS FEATURES <<<"${MTIF_BENCH_SHAPE:-100 1000 50}"
MTIF="$BUILD/mtif"
PY=/usr/bin/python3
WORK="$(mktemp -d /tmp/mtif-bench-mpi.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
"$MTIF" generate --tasks "$TASKS" --features "$FEATURES" --rows "$ROWS" --test-rows 50 --seed 1 --out-dir "$WORK/d" -q
"$PY" "$ROOT/tests/cli/csv_to_npy.py" "$WORK/d/train.csv" "$WORK/train"
"$PY" "$ROOT/tests/cli/csv_to_npy.py" "$WORK/d/test.csv" "$WORK/test" "$WORK/d/train.csv"
"$MTIF" influence --train "$WORK/d/train.csv" --test "$WORK/d/test.csv" --out "$WORK/plain.npy" -q

runs="$WORK/runs.jsonl"
: >"$runs"
for input in csv npy; do
  if [ $input = csv ]; then data=(--train "$WORK/d/train.csv" --test "$WORK/d/test.csv")
  else data=(--train-npy "$WORK/train" --test-npy "$WORK/test"); fi
  for ranks in 0 1 2 4; do  # 0: plain run without mpirun
    for rep in $(seq "$REPS"); do
      launcher=()
      [ "$ranks" -gt 0 ] && launcher=(mpirun --oversubscribe -np "$ranks")
      start=$(date +%s.%N)
      "${launcher[@]}" "$MTIF" influence "${data[@]}" --out "$WORK/s.npy" --json "$WORK/s.json" -q
      end=$(date +%s.%N)
      cmp=$("$PY" "$ROOT/tests/cli/compare_scores.py" "$WORK/plain.npy" "$WORK/s.npy" 1 | sed 's/^[^ ]* //')
      "$PY" - "$WORK/s.json" "$input" "$ranks" "$start" "$end" "$cmp" >>"$runs" <<'PYEOF'
import json, sys
summary = json.load(open(sys.argv[1]))
print(json.dumps({"input": sys.argv[2], "ranks": int(sys.argv[3]), "wall_s": float(sys.argv[5]) - float(sys.argv[4]),
                  "timings_rank0": summary["timings"], "vs_plain": sys.argv[6]}))
PYEOF
    done
  done
done
"$PY" - "$runs" "$ROOT/bench/results/mpi.json" "$TASKS" "$ROWS" "$FEATURES" <<'PYEOF'
import json, statistics, subprocess, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
summary = {}
for r in runs:
    key = f"{r['input']}_{'plain' if r['ranks'] == 0 else str(r['ranks']) + '_ranks'}"
    summary.setdefault(key, []).append(r)
table = {}
for key, rs in summary.items():
    med = lambda f: statistics.median(f(r) for r in rs)
    phases = sorted({p for r in rs for p in r["timings_rank0"]})
    table[key] = {"runs": len(rs), "wall_s_median": med(lambda r: r["wall_s"]),
                  **{p + "_median": med(lambda r, p=p: r["timings_rank0"].get(p, 0.0)) for p in phases},
                  "vs_plain": rs[-1]["vs_plain"]}
out = {"shape": {"tasks": int(sys.argv[3]), "rows_per_task": int(sys.argv[4]), "features": int(sys.argv[5]),
                 "test_rows_per_task": 50},
       "command": "scripts/bench_mpi.sh", "machine": subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip() + " cores",
       "summary": table, "runs": runs}
json.dump(out, open(sys.argv[2], "w"), indent=1)
for key, row in table.items():
    print(f"{key:16s} wall {row['wall_s_median']:.3f}s  " +
          "  ".join(f"{p[:-7]} {v:.3f}" for p, v in row.items() if p.endswith("_s_median") and p != "wall_s_median") +
          f"  | {row['vs_plain']}")
PYEOF
