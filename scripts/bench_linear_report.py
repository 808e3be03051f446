#!/usr/bin/env python3
"""Summarises the raw runs of scripts/bench_linear.sh.

usage: bench_linear_report.py RAW_DIR OUT_JSON

Reads RAW_DIR/<label>/<variant>_<what>_<rep>.{time,json,rc} (GNU time -v output
and the `mtif --json` summary of each run), writes medians, the memory model and
the scaling ratios to OUT_JSON, and prints markdown tables. Standard library only.
"""
import glob
import json
import os
import re
import statistics
import sys

MB = 1e6
WHATS = ("fit", "first_order", "exact")


def parse_time_v(path):
    out = {}
    for line in open(path):
        line = line.strip()
        key, _, value = line.rpartition(": ")
        if key.startswith("Elapsed (wall clock) time"):
            parts = [float(p) for p in value.split(":")]
            seconds = 0.0
            for p in parts:
                seconds = seconds * 60 + p
            out["wall_s"] = seconds
        elif key == "Maximum resident set size (kbytes)":
            out["peak_rss_bytes"] = int(value) * 1024
        elif key == "Minor (reclaiming a frame) page faults":
            out["minor_faults"] = int(value)
        elif key == "User time (seconds)":
            out["user_s"] = float(value)
        elif key == "System time (seconds)":
            out["sys_s"] = float(value)
        elif key == "Percent of CPU this job got":
            out["cpu_percent"] = float(value.rstrip("%") or 0)
    return out


def others_cpu(stat_path, record):
    """Share of the machine's CPU used by other processes during a run (from /proc/stat)."""
    try:
        lines = open(stat_path).read().split("\n")
        a = [int(x) for x in lines[0].split()[1:]]
        b = [int(x) for x in lines[1].split()[1:]]
    except (OSError, ValueError, IndexError):
        return None
    d = [y - x for x, y in zip(a, b)]
    hz = os.sysconf("SC_CLK_TCK")
    total = sum(d) / hz
    busy = total - (d[3] + d[4]) / hz
    ours = record.get("user_s", 0) + record.get("sys_s", 0)
    if total <= 0:
        return None
    return max(0.0, min(1.0, (busy - ours) / total))


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def load_runs(label_dir):
    runs = {}
    for time_path in sorted(glob.glob(os.path.join(label_dir, "*.time"))):
        stem = time_path[: -len(".time")]
        m = re.match(r"(\w+?)_(fit|first_order|exact)_(\d+)$", os.path.basename(stem))
        if not m:
            continue
        variant, what, rep = m.group(1), m.group(2), int(m.group(3))
        rc = int(open(stem + ".rc").read().strip()) if os.path.exists(stem + ".rc") else None
        record = {"rep": rep, "rc": rc}
        try:
            record.update(parse_time_v(time_path))
        except (OSError, ValueError):
            pass
        record["others_cpu_fraction"] = others_cpu(stem + ".stat", record)
        if os.path.exists(stem + ".attempts"):
            record["attempts"] = int(open(stem + ".attempts").read().strip())
        if rc == 0 and os.path.exists(stem + ".json"):
            record["timings"] = json.load(open(stem + ".json")).get("timings", {})
        elif os.path.exists(stem + ".err"):
            record["error"] = open(stem + ".err").read()[-500:]
        runs.setdefault(what, []).append(record)
    return runs


def summarise(records):
    ok = [r for r in records if r.get("rc") == 0]
    s = {"runs": len(records), "ok": len(ok)}
    if len(ok) < len(records):
        s["failures"] = [{"rep": r["rep"], "rc": r["rc"], "error": r.get("error", "")} for r in records if r.get("rc") != 0]
    if not ok:
        return s
    for key in ("wall_s", "peak_rss_bytes", "minor_faults", "user_s", "sys_s", "cpu_percent", "others_cpu_fraction"):
        s[key] = median([r.get(key) for r in ok])
    s["wall_s_min"] = min(r["wall_s"] for r in ok if "wall_s" in r)
    s["wall_s_all"] = [r.get("wall_s") for r in ok]
    s["cpu_s"] = median([(r.get("user_s") or 0) + (r.get("sys_s") or 0) for r in ok])
    s["others_cpu_fraction_max"] = max((r.get("others_cpu_fraction") or 0) for r in ok)
    s["reruns_for_load"] = sum(r.get("attempts", 1) - 1 for r in records)
    keys = sorted({k for r in ok for k in r.get("timings", {})})
    s["timings_median"] = {k: median([r.get("timings", {}).get(k) for r in ok]) for k in keys}
    return s


def memory_model(K, n_k, d, csv_bytes, threads):
    """Bytes the CLI is expected to hold, by component (see bench/README.md).

    Matches the code as of commit dee073a: the CSV is read into one buffer sized
    from the file, the parsed values are reserved, `linear_influence` keeps only
    the total n x T matrix (row-major) when the output is .npy, and write_npy
    writes it without a copy. `mtif` sets M_MMAP_THRESHOLD/M_TRIM_THRESHOLD to
    1 GiB, so freed buffers stay in the heap: the CSV buffer freed after parsing
    is still counted in RSS when the score matrix is allocated above it.
    """
    n, T, m_per_task = K * n_k, K, 50
    X = n * d * 8
    blocks = 4 * K * d * d * 8  # A_k, B_k, C_k in BlockHessian + the LDLT of each A_k
    pxp = 3 * d * d * 8         # C, N and its LDLT
    score = n * T * 8           # one n x T matrix of doubles
    rank = min(m_per_task, d)   # rows of each target's curvature factor
    exact_extra = threads * 256 * T * rank * 8 + T * rank * d * 8 + K * d * d * 8  # Y per thread, G_all, D_k
    runtime = 12e6              # binary, libraries, test set, small buffers (measured: ~12 MB)
    read_peak = max(csv_bytes + X, 2 * X)  # text + parsed values; then parsed values + X
    fit_peak = max(read_peak, X + blocks + pxp) + runtime
    return {
        "data_X_bytes": X,
        "task_blocks_bytes": blocks,
        "pxp_bytes": pxp,
        "one_score_matrix_bytes": score,
        "train_csv_bytes": csv_bytes,
        "issue_model_bytes": X + blocks // 4 + d * d * 8,
        "issue_model_plus_one_score_matrix_bytes": X + blocks // 4 + d * d * 8 + score,
        "predicted_fit_peak_bytes": fit_peak,
        "predicted_first_order_peak_bytes": fit_peak + score,
        "predicted_exact_peak_bytes": fit_peak + score + exact_extra,
        "predicted_first_order_peak_if_read_buffers_returned_bytes": max(read_peak, X + blocks + pxp + score) + runtime,
        "exact_extra_bytes": exact_extra,
    }


def fmt(v, digits=3):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{digits}g}" if abs(v) < 1000 else f"{v:.0f}"
    return str(v)


def main():
    raw, out_path = sys.argv[1], sys.argv[2]
    meta = json.load(open(os.path.join(raw, "meta.json")))
    if os.path.exists(os.path.join(raw, "total_s")):
        meta["script_total_s"] = int(open(os.path.join(raw, "total_s")).read())
    if os.path.exists(os.path.join(raw, "loadavg_end")):
        meta["load_avg_end"] = open(os.path.join(raw, "loadavg_end")).read().split()[:3]
    threads = meta.get("nproc") or 1
    shapes = []
    for shape_path in sorted(glob.glob(os.path.join(raw, "*", "shape.json")), key=os.path.getmtime):
        label_dir = os.path.dirname(shape_path)
        shape = json.load(open(shape_path))
        stamp = json.load(open(os.path.join(label_dir, "stamp.json")))
        shape.pop("data", None)
        shape["rows"] = shape["K"] * shape["n_k"]
        shape["targets"] = shape["K"]
        shape["generate"] = {k: v for k, v in stamp.items() if k != "cmd"}
        skipped = os.path.join(label_dir, "skipped_influence.txt")
        if os.path.exists(skipped):
            shape["influence_skipped"] = open(skipped).read().strip()
        runs = load_runs(label_dir)
        shape["results"] = {what: summarise(runs[what]) for what in WHATS if what in runs}
        res = shape["results"]
        # fit_s: median over every run of the shape (each one fits).
        all_fit = [r.get("timings", {}).get("fit_s") for rs in runs.values() for r in rs if r.get("rc") == 0]
        all_read = [r.get("timings", {}).get("read_s") for rs in runs.values() for r in rs if r.get("rc") == 0]
        all_factor = [r.get("timings", {}).get("factor_s") for rs in runs.values() for r in rs if r.get("rc") == 0]
        fit_s, read_s, factor_s = median(all_fit), median(all_read), median(all_factor)
        shape["fit_s_median_all_runs"] = fit_s
        shape["read_s_median_all_runs"] = read_s
        shape["factor_s_median_all_runs"] = factor_s
        ratios = {}
        for what in ("first_order", "exact"):
            t = res.get(what, {}).get("timings_median", {})
            if t.get("score_s") is not None and fit_s:
                ratios[f"{what}_score_over_fit"] = t["score_s"] / fit_s
                ratios[f"{what}_factor_plus_score_over_fit"] = (t["score_s"] + (factor_s or 0)) / fit_s
            if res.get(what, {}).get("wall_s") and res.get("fit", {}).get("wall_s"):
                ratios[f"{what}_whole_process_over_fit_whole_process"] = res[what]["wall_s"] / res["fit"]["wall_s"]
        shape["ratios"] = ratios
        shape["memory_model"] = memory_model(shape["K"], shape["n_k"], shape["d"], stamp["train_csv_bytes"], threads)
        shapes.append(shape)

    by_label = {s["label"]: s for s in shapes}

    def metric(s, what, key):
        r = s["results"].get(what, {})
        if key in r:
            return r[key]
        return r.get("timings_median", {}).get(key)

    scaling = {}
    base = by_label.get("base")
    if base:
        for label, expect in (("rows_x10", {"fit": 10, "first_order": 10, "exact": 10}),
                              ("tasks_x10_same_rows", {"fit": 1, "first_order": 10, "exact": 10}),
                              ("tasks_x10", {"fit": 10, "first_order": 100, "exact": 100}),
                              # exact: n d T min(m_k, d) with m_k = 50 test rows, so x4 in d is x4 here
                              ("features_x4", {"fit": 16, "first_order": 4, "exact": 4})):
            s = by_label.get(label)
            if not s:
                continue
            entry = {}
            for what, key in (("fit", "fit_s"), ("fit", "read_s"), ("first_order", "score_s"), ("exact", "score_s"),
                              ("fit", "wall_s"), ("first_order", "wall_s"), ("exact", "wall_s"),
                              ("fit", "cpu_s"), ("first_order", "cpu_s"), ("exact", "cpu_s"),
                              ("fit", "peak_rss_bytes"), ("first_order", "peak_rss_bytes")):
                a, b = metric(s, what, key), metric(base, what, key)
                if a is not None and b:
                    entry[f"{what}.{key}"] = a / b
            entry["expected_flop_ratio"] = expect
            scaling[label] = entry

    gbench = None
    entries, context = [], None
    for name in ("gbench.json", "gbench_exact.json"):
        gpath = os.path.join(raw, name)
        if not os.path.exists(gpath):
            continue
        g = json.load(open(gpath))
        context = context or {k: g["context"].get(k) for k in ("num_cpus", "mhz_per_cpu", "load_avg", "library_build_type")}
        for b in g.get("benchmarks", []):
            if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
                continue
            entries.append({k: b.get(k) for k in ("name", "real_time", "cpu_time", "time_unit", "iterations",
                                                  "repetitions", "score/fit", "(factor+score)/fit", "factor/fit",
                                                  "bytes_per_second", "csv_MB", "rows", "targets") if k in b})
    if entries:
        gbench = {"context": context, "benchmarks": entries}

    result = {"meta": meta, "shapes": shapes, "scaling_vs_base": scaling, "google_benchmark_base_shape": gbench}
    with open(out_path, "w") as f:
        json.dump(result, f, indent=1, sort_keys=False)
        f.write("\n")

    # Markdown.
    print(f"Machine: {meta.get('nproc')} x {meta.get('cpu_model')}, {meta.get('mem_total')}, kernel {meta.get('kernel')}; "
          f"load average start {' '.join(meta.get('load_avg_start', []))}, end {' '.join(meta.get('load_avg_end', []))}; "
          f"script {meta.get('script_total_s', '?')} s")
    print()
    print("| shape K x n_k x d | rows | runs fit/fo/exact | read s | fit s | factor s | first-order score s | exact score s "
          "| whole-process s fit / fo / exact | CPU s (user+sys) fit / fo / exact | peak RSS MB fit / fo / exact | score/fit fo / exact | whole fo/fit | others' CPU % median (max) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for s in shapes:
        res, rt = s["results"], s["ratios"]
        def w(what, key="wall_s", scale=1.0):
            v = res.get(what, {}).get(key)
            return fmt(v / scale) if v is not None else "-"
        runs = "/".join(str(res.get(what, {}).get("ok", 0)) for what in WHATS)
        name = f"{s['label']} {s['K']}x{s['n_k']}x{s['d']}"
        print(f"| {name} | {s['rows']:,} | {runs} | {fmt(s['read_s_median_all_runs'])} | {fmt(s['fit_s_median_all_runs'])} "
              f"| {fmt(s['factor_s_median_all_runs'])} "
              f"| {fmt(metric(s, 'first_order', 'score_s'))} | {fmt(metric(s, 'exact', 'score_s'))} "
              f"| {w('fit')} / {w('first_order')} / {w('exact')} "
              f"| {w('fit', 'cpu_s')} / {w('first_order', 'cpu_s')} / {w('exact', 'cpu_s')} "
              f"| {w('fit', 'peak_rss_bytes', MB)} / {w('first_order', 'peak_rss_bytes', MB)} / {w('exact', 'peak_rss_bytes', MB)} "
              f"| {fmt(rt.get('first_order_score_over_fit'))} / {fmt(rt.get('exact_score_over_fit'))} "
              f"| {fmt(rt.get('first_order_whole_process_over_fit_whole_process'))} "
              f"| {max((r.get('others_cpu_fraction') or 0) for r in res.values()) * 100:.0f} "
              f"({max((r.get('others_cpu_fraction_max') or 0) for r in res.values()) * 100:.0f}) |")
    for s in shapes:
        if "influence_skipped" in s:
            print(f"\n{s['label']}: influence not run: {s['influence_skipped']}")
    print()
    print("Write time (s, median) fo / exact, and minor page faults (median) fit / fo / exact:")
    for s in shapes:
        res = s["results"]
        print(f"- {s['label']}: write {fmt(metric(s, 'first_order', 'write_s'))} / {fmt(metric(s, 'exact', 'write_s'))}; "
              f"faults {fmt(metric(s, 'fit', 'minor_faults'))} / {fmt(metric(s, 'first_order', 'minor_faults'))} / "
              f"{fmt(metric(s, 'exact', 'minor_faults'))}; CSV {s['generate']['train_csv_bytes'] / MB:.0f} MB generated in "
              f"{s['generate']['generate_s']:.1f} s")
    print()
    print("Memory model (MB): X = n d 8 | K blocks | issue model (X + K d^2 + p^2) | one n x K score matrix "
          "| predicted CLI peak fit / fo / exact | measured peak fit / fo / exact")
    print()
    print("| shape | X | K blocks (4 copies) | issue model | one score matrix | predicted fit / fo / exact | measured fit / fo / exact |")
    print("|---|---|---|---|---|---|---|")
    for s in shapes:
        mm, res = s["memory_model"], s["results"]
        meas = " / ".join(fmt(res.get(w_, {}).get("peak_rss_bytes", 0) / MB) if res.get(w_, {}).get("peak_rss_bytes") else "-"
                          for w_ in WHATS)
        print(f"| {s['label']} | {mm['data_X_bytes'] / MB:.0f} | {mm['task_blocks_bytes'] / MB:.1f} | {mm['issue_model_bytes'] / MB:.0f} "
              f"| {mm['one_score_matrix_bytes'] / MB:.0f} | {mm['predicted_fit_peak_bytes'] / MB:.0f} / "
              f"{mm['predicted_first_order_peak_bytes'] / MB:.0f} / {mm['predicted_exact_peak_bytes'] / MB:.0f} | {meas} |")
    if scaling:
        print()
        print("Scaling vs base (measured ratio; expected flop ratio in brackets):")
        for label, e in scaling.items():
            exp = e["expected_flop_ratio"]
            parts = [f"{k} {v:.2f}" for k, v in e.items() if k != "expected_flop_ratio"]
            print(f"- {label} [fit {exp['fit']}x, first-order {exp['first_order']}x, exact {exp['exact']}x]: " + ", ".join(parts))
    if gbench:
        print()
        print("Google Benchmark, base shape (in-process kernels):")
        for b in gbench["benchmarks"]:
            extra = ", ".join(f"{k}={b[k]:.3g}" for k in ("score/fit", "(factor+score)/fit", "factor/fit") if k in b)
            if "bytes_per_second" in b:
                extra = f"{b['bytes_per_second'] / MB:.0f} MB/s"
            print(f"- {b['name']}: {b['real_time']:.1f} {b['time_unit']} real, {b['cpu_time']:.1f} cpu {extra}")


if __name__ == "__main__":
    main()
