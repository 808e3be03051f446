#!/usr/bin/env bash
# Issue 13: libFuzzer under ASan + UBSan (clang 14 from Debian) on the CSV
# reader, the .npy reader and the JSON run and model files, RUNS executions
# each (default 1e6), through scripts/fuzz.sh. Writes bench/results/fuzz.json:
# executions, wall seconds and exit status per target (0 = nothing found).
#
# Usage: bench/fuzz.sh     Env: RUNS (default 1000000)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
runs="${RUNS:-1000000}"
out="$root/bench/results/fuzz.json"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
status=0
RUNS="$runs" nice -n 10 "$root/scripts/fuzz.sh" 0 csv_reader_fuzz npy_reader_fuzz json_files_fuzz | tee "$log" || status=$?
/usr/bin/python3 - "$log" "$out" "$runs" "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)" "$status" <<'PY'
import json, os, re, subprocess, sys
log, out, runs, before, after, status = sys.argv[1:]
targets = {}
for m in re.finditer(r"^fuzz: (\S+): (\S+) executions in (\S+) s, exit status (\d+)$", open(log).read(), re.M):
    name, execs, secs, rc = m.groups()
    targets[name] = {"executions": int(execs) if execs.isdigit() else None, "seconds": float(secs),
                     "exit_status": int(rc), "found": int(rc) != 0}
cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True, text=True).stdout.strip()
json.dump({"benchmark": "bench/fuzz.sh", "runs_asked": int(runs), "sanitizers": "address,undefined",
           "engine": "libFuzzer (clang 14, Debian libclang-rt-14-dev)", "max_len": 4096,
           "machine": {"cpu": cpu, "cores": int(subprocess.run(["nproc"], capture_output=True, text=True).stdout),
                       "load_before": before, "load_after": after, "niced": 10},
           "targets": targets,
           "command": " ".join(filter(None, [f"FUZZ_BUILD={os.environ['FUZZ_BUILD']}" if os.environ.get("FUZZ_BUILD") else "",
                                             f"RUNS={runs}", "bench/fuzz.sh"]))}, open(out, "w"), indent=2)
print(f"bench/fuzz.sh: {len(targets)} targets -> {out}")
PY
exit "$status"
