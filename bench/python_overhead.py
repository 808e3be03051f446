"""How much does the Python layer add over the C++ calls it wraps?

Data: `mtif generate --tasks 100 --features 50 --rows 1000` (the benchmark
shape: 1e5 train rows, 10^7 first-order scores). For each step the wall time
of the Python call (time.perf_counter around it) is compared with the time the
C++ engine measured inside the same call (model.timings_), so what is left is
argument conversion, the GIL hand-over and wrapping the result arrays:

    overhead = python_wall / cpp_inside - 1      (target: < 10%)

It also times `mtif influence ... --out s.npy` as a whole process for context.
Run:  scripts/python.sh bench/python_overhead.py [--repeat 5] [--data DIR] [--json OUT]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import mtif

ROOT = Path(__file__).resolve().parents[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--data", help="folder with train.csv/test.csv (default: generate the benchmark shape)")
    ap.add_argument("--mtif", default=os.environ.get("MTIF_BIN", str(ROOT / "build" / "mtif")))
    ap.add_argument("--json", help="write the measurements here")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="mtif-pybench-")
    data = Path(args.data or tmp)
    if not args.data:
        subprocess.run([args.mtif, "generate", "--tasks", "100", "--features", "50", "--rows", "1000",
                        "--test-rows", "50", "--out-dir", str(data), "-q"], check=True)
    train_csv, test_csv = str(data / "train.csv"), str(data / "test.csv")

    steps = {"fit": [], "influence": [], "influence_exact": [], "relatedness_newton": []}
    whole = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        train, test = mtif.read_csv(train_csv, test_csv)
        model = mtif.LinearMultitask()
        t = time.perf_counter()
        model.fit(train)
        fit_wall = time.perf_counter() - t
        inside = model.timings_
        steps["fit"].append((fit_wall, inside["fit_s"] + inside["factor_s"]))
        t = time.perf_counter()
        s = model.influence(test, parts=False)  # what `--out s.npy` computes
        wall = time.perf_counter() - t
        steps["influence"].append((wall, model.timings_["score_s"]))
        whole.append(time.perf_counter() - t0)
        assert s.total.shape == (100_000, 100)
        del s
        t = time.perf_counter()
        s = model.influence(test, mode="exact", parts=False)
        steps["influence_exact"].append((time.perf_counter() - t, model.timings_["score_s"]))
        del s
        t = time.perf_counter()
        model.relatedness(test, method="newton")
        steps["relatedness_newton"].append((time.perf_counter() - t, model.timings_["relatedness_s"]))

    cli = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        subprocess.run([args.mtif, "influence", "--train", train_csv, "--test", test_csv, "--out",
                        str(Path(tmp) / "s.npy"), "-q"], check=True)
        cli.append(time.perf_counter() - t)

    report = {"shape": "100 tasks x 1000 rows x 50 features, 50 test rows per task", "repeat": args.repeat,
              "steps": {}}
    print(f"{'step':<20} {'python s':>10} {'C++ s':>10} {'ratio':>8}   (medians of {args.repeat})")
    for name, pairs in steps.items():
        py_s = statistics.median(p for p, _ in pairs)
        cpp_s = statistics.median(c for _, c in pairs)
        ratio = statistics.median(p / c for p, c in pairs)
        report["steps"][name] = {"python_s": py_s, "cpp_s": cpp_s, "ratio": ratio}
        print(f"{name:<20} {py_s:>10.4f} {cpp_s:>10.4f} {ratio:>8.3f}")
    report["python_read_fit_influence_s"] = statistics.median(whole)
    report["cli_influence_npy_process_s"] = statistics.median(cli)
    print(f"python read+fit+influence: {report['python_read_fit_influence_s']:.3f} s; "
          f"`mtif influence --out s.npy` whole process: {report['cli_influence_npy_process_s']:.3f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    worst = max(v["ratio"] for v in report["steps"].values())
    print(f"largest python/C++ ratio: {worst:.3f} ({'under' if worst < 1.10 else 'OVER'} the 1.10 target)")


if __name__ == "__main__":
    sys.exit(main())
