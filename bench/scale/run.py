"""Scale benchmark of issue 7 (README "Scale"; results in bench/results/scale.json).

    /usr/bin/python3 bench/scale/run.py BUILD_DIR [--quick] [--reps N] [--data DIR] [--out JSON]

1. Streaming (`mtif influence --memory 2G`): every row against every task,
   float32 .npy, at 10^5, 10^6, 10^7 rows (100 tasks, 50 features) and 10,
   100, 1,000 tasks (10^6 rows); the reductions (topk:10, source-sums) at
   10^7 rows. Whole process under /usr/bin/time -v (wall, peak RSS).
2. Alternatives on the same data: dense full Hessian in numpy and PyTorch
   (bench/scale/dense_reference.py), mtif in memory (float64 .npy, compared
   with the dense scores), brute-force leave-one-out refits (dense numpy, and
   mtif's own `mtif loo`), per row.
Data: bench/scale/gen_npy.py, deleted after each size.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"


def timed(cmd, env=None):
    """Runs cmd under /usr/bin/time -v: wall seconds, peak RSS bytes, stdout."""
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {p.stderr[-2000:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1)) * 1024
    cpu = sum(float(re.search(rf"{k} time \(seconds\): ([0-9.]+)", p.stderr).group(1)) for k in ["User", "System"])
    # On a shared machine wall time depends on the others' load; CPU time (user + system) much less.
    return {"wall_s": round(wall, 3), "cpu_s": round(cpu, 2), "peak_rss_bytes": rss}, p.stdout


def load():
    return [float(x) for x in open("/proc/loadavg").read().split()[:3]]


def median_runs(cmd, reps, json_path=None):
    runs = []
    for _ in range(reps):
        r, _ = timed(cmd)
        if json_path:
            r["timings"] = json.load(open(json_path))["timings"]
        r["load_before"] = load()
        runs.append(r)
    out = {"wall_s": statistics.median(r["wall_s"] for r in runs), "cpu_s": statistics.median(r["cpu_s"] for r in runs),
           "peak_rss_bytes": max(r["peak_rss_bytes"] for r in runs), "runs": runs}
    return out


def generate(data, K, n, d, seed=1):
    shutil.rmtree(data, ignore_errors=True)
    t0 = time.perf_counter()
    subprocess.run([PY, os.path.join(HERE, "gen_npy.py"), data, "--tasks", str(K), "--rows", str(n),
                    "--features", str(d), "--seed", str(seed)], check=True)
    return round(time.perf_counter() - t0, 2)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("build")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--data", default=os.path.join(HERE, "../../data/scale"))
    p.add_argument("--out", default=os.path.join(HERE, "../results/scale.json"))
    p.add_argument("--only", default="streaming,dense")
    a = p.parse_args()
    mtif = os.path.join(a.build, "mtif")
    data = os.path.abspath(a.data)
    os.makedirs(data, exist_ok=True)
    results = json.load(open(a.out)) if os.path.exists(a.out) else {}
    results["meta"] = {
        "cpu": re.search(r"model name\s*: (.*)", open("/proc/cpuinfo").read()).group(1),
        "nproc": os.cpu_count(),
        "mem_total_kb": int(re.search(r"MemTotal:\s+(\d+)", open("/proc/meminfo").read()).group(1)),
        "git_commit": subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=HERE).stdout.strip(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "load_at_start": load(),
        "memory_budget": "2G",
        "note": "2-core machine shared with other sessions' builds: see load_before per run",
    }

    def save():
        with open(a.out, "w") as f:
            json.dump(results, f, indent=1)

    d = 50
    if "dense" in a.only:
        shapes = [(10, 10_000), (10, 100_000), (100, 10_000), (100, 100_000)]
        if a.quick:
            shapes = [(10, 10_000), (100, 10_000)]
        results["dense"] = []
        for K, n in shapes:
            folder = os.path.join(data, f"dense_{K}_{n}")
            gen_s = generate(folder, K, n, d)
            tr, te = os.path.join(folder, "train"), os.path.join(folder, "test")
            entry = {"tasks": K, "rows": n, "features": d, "parameters": (K + 1) * d, "generate_s": gen_s}
            mem = os.path.join(folder, "mtif64.npy")
            entry["mtif_in_memory"] = median_runs([mtif, "influence", "--train-npy", tr, "--test-npy", te, "--out", mem,
                                                   "-q", "--json", mem + ".run.json"], a.reps, mem + ".run.json")
            st = os.path.join(folder, "mtif32.npy")
            entry["mtif_streaming"] = median_runs([mtif, "influence", "--train-npy", tr, "--test-npy", te, "--memory",
                                                   "2G", "--out", st, "-q", "--json", st + ".run.json"], a.reps,
                                                  st + ".run.json")
            for backend in ["numpy", "torch"]:
                out = os.path.join(folder, f"dense_{backend}.npy")
                reps = a.reps if K <= 10 else 1
                entry[f"dense_{backend}"] = median_runs(
                    [PY, os.path.join(HERE, "dense_reference.py"), tr, te, out, "--backend", backend,
                     "--json", out + ".json"], reps)
                entry[f"dense_{backend}"]["inside"] = json.load(open(out + ".json"))
                ref, got = np.load(out), np.load(mem)
                scale = np.abs(ref).max(axis=0)
                entry[f"dense_{backend}"]["max_diff_rel_to_column_max"] = float((np.abs(ref - got) / scale).max())
                entry[f"dense_{backend}"]["max_diff_rel_elementwise_over_1e-6_of_column_max"] = float(
                    (np.abs(ref - got) / np.abs(ref))[np.abs(ref) > 1e-6 * scale].max())
                entry[f"ratio_dense_{backend}_over_mtif_in_memory"] = round(
                    entry[f"dense_{backend}"]["wall_s"] / entry["mtif_in_memory"]["wall_s"], 1)
                entry[f"ratio_dense_{backend}_over_mtif_streaming"] = round(
                    entry[f"dense_{backend}"]["wall_s"] / entry["mtif_streaming"]["wall_s"], 1)
                entry[f"ratio_cpu_dense_{backend}_over_mtif_in_memory"] = round(
                    entry[f"dense_{backend}"]["cpu_s"] / max(entry["mtif_in_memory"]["cpu_s"], 0.01), 1)
            s32 = np.load(st).astype(np.float64)
            ref = np.load(mem)
            entry["streaming_float32_max_diff_rel_to_column_max"] = float((np.abs(s32 - ref) / np.abs(ref).max(axis=0)).max())
            # Brute-force retraining: dense refits without one row (numpy), and mtif's own refits.
            loo_rows = 2 if K >= 100 else 5
            out = os.path.join(folder, "dense_loo.npy")
            r, _ = timed([PY, os.path.join(HERE, "dense_reference.py"), tr, te, out, "--backend", "numpy",
                          "--loo-rows", str(loo_rows), "--json", out + ".json"])
            entry["dense_numpy_loo_refit_s_per_row"] = json.load(open(out + ".json"))["loo_refit_s_per_row"]
            r0, _ = timed([mtif, "loo", "--train-npy", tr, "--test-npy", te, "--rows", "0", "--out",
                           os.path.join(folder, "loo0.csv"), "-q"])
            r20, _ = timed([mtif, "loo", "--train-npy", tr, "--test-npy", te, "--rows", "0-20", "--out",
                            os.path.join(folder, "loo20.csv"), "-q"])
            entry["mtif_loo_refit_s_per_row"] = round((r20["wall_s"] - r0["wall_s"]) / 20, 5)
            for who in ["dense_numpy_loo_refit_s_per_row", "mtif_loo_refit_s_per_row"]:
                entry["ratio_" + who.replace("_s_per_row", "_all_rows_over_mtif_streaming")] = round(
                    entry[who] * n / entry["mtif_streaming"]["wall_s"], 1)
            entry["load_after"] = load()
            results["dense"].append(entry)
            save()
            shutil.rmtree(folder)
            print(json.dumps({k: v for k, v in entry.items() if not isinstance(v, dict)}), flush=True)

    if "streaming" in a.only:
        results["streaming"] = []
        shapes = [("rows", 100, 100_000), ("rows", 100, 1_000_000), ("rows", 100, 10_000_000),
                  ("tasks", 10, 1_000_000), ("tasks", 1000, 1_000_000)]
        if a.quick:
            shapes = [("rows", 100, 100_000), ("tasks", 10, 100_000)]
        for series, K, n in shapes:
            folder = os.path.join(data, f"stream_{K}_{n}")
            gen_s = generate(folder, K, n, d)
            tr, te = os.path.join(folder, "train"), os.path.join(folder, "test")
            entry = {"series": series, "tasks": K, "rows": n, "features": d, "scores": n * K, "generate_s": gen_s,
                     "disk_free_before": shutil.disk_usage(data).free}
            reps = a.reps if n * K <= 10**7 else 1
            out = os.path.join(folder, "scores.npy")
            entry["npy_float32"] = median_runs([mtif, "influence", "--train-npy", tr, "--test-npy", te, "--memory", "2G",
                                               "--out", out, "-q", "--json", out + ".run.json"], reps, out + ".run.json")
            entry["npy_float32"]["output_bytes"] = os.path.getsize(out)
            m = np.load(out, mmap_mode="r")
            entry["npy_float32"]["shape"] = list(m.shape)
            entry["npy_float32"]["all_finite_sampled"] = bool(np.isfinite(m[:: max(1, n // 1000)]).all())
            del m
            os.remove(out)
            if n >= 10_000_000 or a.quick:
                for red, name in [("topk:10", "topk10.csv"), ("source-sums", "sums.csv")]:
                    p_out = os.path.join(folder, name)
                    entry["reduce_" + red] = median_runs(
                        [mtif, "influence", "--train-npy", tr, "--test-npy", te, "--memory", "2G", "--reduce", red,
                         "--out", p_out, "-q", "--json", p_out + ".run.json"], 1, p_out + ".run.json")
            entry["seconds_per_1e9_scores"] = round(entry["npy_float32"]["wall_s"] / (n * K) * 1e9, 2)
            results["streaming"].append(entry)
            save()
            shutil.rmtree(folder)
            print(json.dumps({"series": series, "K": K, "n": n, "wall_s": entry["npy_float32"]["wall_s"],
                              "rss": entry["npy_float32"]["peak_rss_bytes"]}), flush=True)
    results["meta"]["load_at_end"] = load()
    results["meta"]["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    save()


if __name__ == "__main__":
    main()
