#!/usr/bin/env bash
# Issue 13: the randomized sweep of the linear engine against the dense
# full-Hessian reference, long form: the suite's generator and checks
# (tests/validation/random_sweep_test.cpp) on many more problems, in two parts:
#   small  PROBLEMS problems (default 3000), the suite's shapes, seeds from SEED (default 100001);
#   large  LARGE problems (default 150; 0 skips the part), up to 700 parameters and 80 rows per task, seeds from SEED + 500000.
# Counts per kind (tried, passed, refused with a reason, failed) and per check go to
# bench/results/random_sweep.json; failures list their shape. Runs niced.
#
# Usage: bench/random_sweep.sh [BUILD_DIR]     Env: PROBLEMS, LARGE, SEED
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
tests="$build/tests/mtif_tests"
[ -x "$tests" ] || { echo "bench/random_sweep.sh: no $tests (build first)" >&2; exit 1; }
problems="${PROBLEMS:-3000}" large="${LARGE:-150}" seed="${SEED:-100001}"
out="$root/bench/results/random_sweep.json"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

part() {  # part NAME PROBLEMS FIRST_SEED LARGE(0|1)
  local status=0
  MTIF_SWEEP_PROBLEMS="$2" MTIF_SWEEP_SEED="$3" MTIF_SWEEP_LARGE="$4" MTIF_SWEEP_JSON="$scratch/$1.json" \
    nice -n 10 "$tests" --gtest_filter='RandomSweep.*' >"$scratch/$1.log" 2>&1 || status=$?
  grep -E '^random sweep|^  [a-z]+: ' "$scratch/$1.log" | sed "s/^/$1: /"
  [ -s "$scratch/$1.json" ] || { echo "bench/random_sweep.sh: part $1 wrote no counts" >&2; cat "$scratch/$1.log" >&2; exit 1; }
  return 0
}
part small "$problems" "$seed" 0
if [ "$large" -gt 0 ]; then part large "$large" "$((seed + 500000))" 1; fi

/usr/bin/python3 - "$scratch/small.json" "$scratch/large.json" "$out" "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import json, platform, subprocess, sys
import os
small = json.load(open(sys.argv[1]))
large = json.load(open(sys.argv[2])) if os.path.exists(sys.argv[2]) else {"all": {}, "by_kind": {}}
def add(a, b):
    return {k: a.get(k, 0) + b.get(k, 0) for k in set(a) | set(b)}
by_kind = {}
for part in (small, large):
    for kind, c in part["by_kind"].items():
        by_kind[kind] = add(by_kind.get(kind, {}), c)
cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True, text=True).stdout.strip()
result = {
    "benchmark": "bench/random_sweep.sh",
    "machine": {"cpu": cpu, "cores": int(subprocess.run(["nproc"], capture_output=True, text=True).stdout),
                "load_before": sys.argv[4], "load_after": sys.argv[5], "niced": 10},
    "all": add(small["all"], large["all"]),
    "by_kind": by_kind,
    "parts": {"small": small, "large": large if large["all"] else "not run (LARGE=0)"},
}
json.dump(result, open(sys.argv[3], "w"), indent=2)
a = result["all"]
print(f"random sweep: {a['tried']} problems: {a['passed']} passed, {a['refused_with_reason']} refused with a reason, "
      f"{a['failed']} failed -> {sys.argv[3]}")
PY
