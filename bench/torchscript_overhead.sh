#!/usr/bin/env bash
# Overhead of the general TorchScript path against the built-in MLP at the same
# architecture and weights (issue 12): the built-in network is fitted once,
# exported with tests/cli/export_mlp_torchscript.py, and the same commands run
# on both, alternating, REPEATS times each; medians and their ratio are printed
# and written to bench/results/torchscript_overhead.json.
#   bench/torchscript_overhead.sh [TASKS ROWS FEATURES HIDDEN REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
tasks=${1:-10} rows=${2:-600} features=${3:-30} hidden=${4:-64} repeats=${5:-5}
[ -x build/mtif ] || scripts/build.sh >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
build/mtif generate --tasks "$tasks" --features "$features" --rows "$rows" --test-rows 100 --loss logistic \
  --seed 1 --out-dir "$work/data" -q
data=(--train "$work/data/train.csv" --test "$work/data/test.csv" --loss logistic -q)
build/mtif fit "${data[@]}" --model mlp --hidden "$hidden" --epochs 5 --save "$work/model.json"
/usr/bin/python3 tests/cli/export_mlp_torchscript.py "$work/model.json" "$work/net.pt"
builtin=(--model mlp --hidden "$hidden" --model-file "$work/model.json")
scripted=(--model torchscript --module "$work/net.pt")
echo "load before: $(uptime)" >&2
/usr/bin/python3 - "$work" "$repeats" "${data[*]}" "${builtin[*]}" "${scripted[*]}" "$tasks $rows $features $hidden" <<'PY'
import json, statistics, subprocess, sys, time
work, repeats, data, builtin, scripted, shape = sys.argv[1], int(sys.argv[2]), *[a.split() for a in sys.argv[3:6]], sys.argv[6]
commands = {
    "influence cg (ggn)": ["influence", "--solver", "cg", "--out", f"{work}/s.csv"],
    "influence lissa": ["influence", "--solver", "lissa", "--lissa-depth", "200", "--out", f"{work}/s.csv"],
    "fit (train 3 epochs + polish 100)": ["fit", "--epochs", "3", "--polish-steps", "100"],
}
results = {}
for name, args in commands.items():
    times = {"builtin": [], "torchscript": []}
    for _ in range(repeats):
        for label, model in (("builtin", builtin), ("torchscript", scripted)):
            extra = list(model)
            if args[0] == "fit":
                extra = ["--model", "mlp", "--hidden", model[model.index("--hidden") + 1]] if label == "builtin" \
                    else list(model) + ["--module-weights", "train"]
            start = time.perf_counter()
            subprocess.run(["build/mtif", *args, *data, *extra], check=True)
            times[label].append(time.perf_counter() - start)
    b, t = statistics.median(times["builtin"]), statistics.median(times["torchscript"])
    results[name] = {"builtin_s": b, "torchscript_s": t, "ratio": t / b, "runs": repeats}
    print(f"{name:36s} builtin {b:7.2f} s  torchscript {t:7.2f} s  ratio {t / b:5.2f}")
out = {"shape (tasks rows/task features hidden)": shape, "machine": "2 cores, shared, medians", "results": results}
json.dump(out, open("bench/results/torchscript_overhead.json", "w"), indent=1)
PY
echo "load after: $(uptime)" >&2
