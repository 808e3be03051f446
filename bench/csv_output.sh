#!/usr/bin/env bash
# Issue 13: whole-process wall time of `mtif influence` writing scores.csv vs
# scores.npy at 100 tasks x 1,000 rows x 50 features (10^7 CSV lines), and the
# disk's own floor: dd writing as many bytes as the CSV has (through the page
# cache, as mtif writes; no fsync in either). Medians of 3, all in one run.
# OLD=path/to/another/mtif adds that binary's CSV time (e.g. the sequential writer).
# Wall and CPU (user + system) seconds. Writes bench/results/csv_output.json.
#
# Usage: bench/csv_output.sh [BUILD_DIR]     Env: WORK (scratch folder), OLD, REPEATS=3
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
mtif="$build/mtif"
work="${WORK:-$build/bench_csv_output}"
repeats="${REPEATS:-3}"
[ -x "$mtif" ] || { echo "bench/csv_output.sh: no $mtif (build first)" >&2; exit 1; }
mkdir -p "$work"
"$mtif" generate --tasks 100 --features 50 --rows 1000 --test-rows 100 --seed 1 --out-dir "$work/data" -q
data=(--train "$work/data/train.csv" --test "$work/data/test.csv")

# seconds COMMAND...: wall time of one run; its CPU time (user + system) is
# appended to $work/cpu, the steadier number on a shared machine.
seconds() {
  local t0 t1
  t0=$(date +%s.%N); /usr/bin/time -f "%U %S" -o "$work/time" "$@" >/dev/null; t1=$(date +%s.%N)
  awk '{ printf "%.2f\n", $1 + $2 }' "$work/time" >>"$work/cpu"
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}
last_cpu() { tail -1 "$work/cpu"; }
median() { printf '%s\n' "$@" | sort -g | sed -n "$((($# + 1) / 2))p"; }

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
csv=() npy=() floor=() old=() csv_cpu=() npy_cpu=() floor_cpu=() old_cpu=()
bytes=0
rm -f "$work/cpu"
for i in $(seq 1 "$repeats"); do
  csv+=("$(seconds "$mtif" influence "${data[@]}" --out "$work/scores.csv" -q)"); csv_cpu+=("$(last_cpu)")
  bytes=$(stat -c %s "$work/scores.csv")
  rm -f "$work/scores.csv"
  npy+=("$(seconds "$mtif" influence "${data[@]}" --out "$work/scores.npy" -q)"); npy_cpu+=("$(last_cpu)")
  rm -f "$work/scores.npy" "$work/scores.npy.json"
  floor+=("$(seconds dd if=/dev/zero of="$work/floor.bin" bs=4M count="$bytes" iflag=count_bytes status=none)")
  floor_cpu+=("$(last_cpu)")
  rm -f "$work/floor.bin"
  if [ -n "${OLD:-}" ]; then
    old+=("$(seconds "$OLD" influence "${data[@]}" --out "$work/scores.csv" -q)"); old_cpu+=("$(last_cpu)")
    rm -f "$work/scores.csv"
  fi
done
m_csv=$(median "${csv[@]}"); m_npy=$(median "${npy[@]}"); m_floor=$(median "${floor[@]}")
m_old=null; [ ${#old[@]} -gt 0 ] && m_old=$(median "${old[@]}")
c_csv=$(median "${csv_cpu[@]}"); c_npy=$(median "${npy_cpu[@]}"); c_floor=$(median "${floor_cpu[@]}")
c_old=null; [ ${#old_cpu[@]} -gt 0 ] && c_old=$(median "${old_cpu[@]}")
join() { local IFS=,; echo "$*"; }
mkdir -p "$root/bench/results"
cat >"$root/bench/results/csv_output.json" <<JSON
{
  "problem": "mtif influence, 100 tasks x 1000 train rows x 50 features, 100 test rows per task, targets = tasks",
  "csv_bytes": $bytes,
  "csv_lines": $((100 * 1000 * 100)),
  "repeats": $repeats,
  "machine": "$(nproc) cores, $(uname -m), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')",
  "load_average_before": "$load_before",
  "median_seconds": {"csv": $m_csv, "npy": $m_npy, "dd_floor_same_bytes": $m_floor, "old_binary_csv": $m_old},
  "median_cpu_seconds": {"csv": $c_csv, "npy": $c_npy, "dd_floor_same_bytes": $c_floor, "old_binary_csv": $c_old},
  "all_seconds": {"csv": [$(join "${csv[@]}")], "npy": [$(join "${npy[@]}")], "dd_floor_same_bytes": [$(join "${floor[@]}")], "old_binary_csv": [$(join "${old[@]+"${old[@]}"}")]},
  "all_cpu_seconds": {"csv": [$(join "${csv_cpu[@]}")], "npy": [$(join "${npy_cpu[@]}")], "dd_floor_same_bytes": [$(join "${floor_cpu[@]}")], "old_binary_csv": [$(join "${old_cpu[@]+"${old_cpu[@]}"}")]}
}
JSON
cat "$root/bench/results/csv_output.json"
