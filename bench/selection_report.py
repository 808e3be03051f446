#!/usr/bin/env python3
"""Summarises bench/selection.sh runs: per data set one JSON
(bench/results/selection_<cast>.json) and the markdown tables of the README.

Usage: selection_report.py RUN_DIR RESULTS_DIR CAST...
Spread = sample standard deviation over the split seeds. Paired differences
(method - full, method - random) are taken seed by seed, because the seeds
change the split and so the level of the test loss."""
import json
import statistics
import sys
from pathlib import Path


def mean_sd(values):
    values = [v for v in values if v is not None]
    if not values:
        return None, None
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def fmt(m, s, digits=4):
    return "n/a" if m is None else f"{m:.{digits}f} ± {s:.{digits}f}"


def relatedness(run_dir, cast):
    rows = {}
    for method in ("mtif", "newton", "tag", "gradcos"):
        f = run_dir / f"{cast}_relatedness_{method}.json"
        if not f.exists():
            continue
        j = json.loads(f.read_text())
        v = j["versus_retrain"]
        rows[method] = {
            "mean_spearman": v["mean_spearman"],
            "mean_spearman_between_tasks": v.get("mean_spearman_between_tasks"),
            "seconds": v["method_seconds"],
            "retrain_seconds": v["retrain_seconds"],
            "speedup_vs_retrain": v["speedup_vs_retrain"],
            "max_rel_error": v["max_rel_error"],
            "summary": f.name,
            "settings": j["settings"],
        }
    return rows


def selection(run_dir, pattern):
    """Per seed, the mean over the files of that seed (one per target task in
    per-target runs) of each method's numbers; then mean and sd over seeds."""
    by_seed = {}
    for f in run_dir.glob(pattern):
        j = json.loads(f.read_text())
        by_seed.setdefault(j["seed"], []).append(j)
    per_seed = []
    for seed in sorted(by_seed):
        runs = by_seed[seed]
        entry = {"seed": seed, "runs": len(runs),
                 "full": statistics.mean(r["full_data"]["test_loss"] for r in runs),
                 "full_valid": statistics.mean(r["full_data"]["valid_loss"] for r in runs)}
        for m in runs[0]["methods"]:
            name = m["method"]
            ms = [next(x for x in r["methods"] if x["method"] == name) for r in runs]
            entry[name] = {"test_loss": statistics.mean(x["test_loss"] for x in ms),
                           "valid_loss": statistics.mean(x["valid_loss"] for x in ms),
                           "rows": statistics.mean(x["rows_selected"] for x in ms)}
        per_seed.append(entry)
    table = {}
    for method in ("full", "mtif", "random", "loss", "task"):
        if method == "full":
            test = [e["full"] for e in per_seed]
            valid = [e["full_valid"] for e in per_seed]
            rows = [0 for _ in per_seed]
        else:
            if not per_seed or not all(method in e for e in per_seed):
                continue
            test = [e[method]["test_loss"] for e in per_seed]
            valid = [e[method]["valid_loss"] for e in per_seed]
            rows = [e[method]["rows"] for e in per_seed]
        diff_full = [t - e["full"] for t, e in zip(test, per_seed)]
        diff_random = [t - e["random"]["test_loss"] for t, e in zip(test, per_seed)] if all("random" in e for e in per_seed) else []
        table[method] = {
            "test_loss": mean_sd(test), "valid_loss": mean_sd(valid), "rows": mean_sd(rows),
            "test_minus_full": mean_sd(diff_full), "test_minus_random": mean_sd(diff_random),
        }
    return per_seed, table


VARIANTS = [("all", "all tasks; a row is scored by its effect on the OTHER tasks' validation loss"),
            ("allown", "all tasks, --include-own; a row is scored by its effect on every task incl. its own"),
            ("allownagree", "all tasks, --include-own --agree-halves; only rows harmful on both validation halves"),
            ("target-*", "one target task at a time (other tasks' rows only), averaged over the targets")]


def main():
    run_dir, results, casts = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
    for cast in casts:
        rel = relatedness(run_dir, cast)
        variants = {}
        for key, what in VARIANTS:
            per_seed, table = selection(run_dir, f"{cast}_{key}_seed*.json")
            if per_seed:
                variants[key] = {"what": what, "per_seed": per_seed, "summary": {
                    m: {k: {"mean": v[0], "sd": v[1]} for k, v in t.items()} for m, t in table.items()}}
        out = {"data": cast, "relatedness_vs_loto": rel, "selection": variants,
               "how": "bench/selection.sh; spread = sample sd over split seeds; differences paired by seed"}
        (results / f"selection_{cast}.json").write_text(json.dumps(out, indent=1))
        print(f"\n### {cast}\n")
        if rel:
            print("| method | mean Spearman vs LOTO (all sources) | between tasks only | seconds | speed-up vs retrain |")
            print("|---|---|---|---|---|")
            for m, r in rel.items():
                b = r["mean_spearman_between_tasks"]
                print(f"| {m} | {r['mean_spearman']:.3f} | {'n/a' if b is None else f'{b:.3f}'} | {r['seconds']:.4f} | {r['speedup_vs_retrain']:.2f}x |")
            print(f"(brute-force LOTO: {next(iter(rel.values()))['retrain_seconds']:.3f} s)\n")
        for key, v in variants.items():
            print(f"\n{v['what']}; {len(v['per_seed'])} split seeds; mean ± sd over seeds\n")
            print("| method | rows dropped | valid loss | test loss | test − full (paired) | test − random (paired) |")
            print("|---|---|---|---|---|---|")
            for m, t in v["summary"].items():
                f = lambda k, d=4: fmt(t[k]["mean"], t[k]["sd"], d)
                print(f"| {m} | {t['rows']['mean']:.0f} | {f('valid_loss')} | {f('test_loss')} | "
                      f"{f('test_minus_full', 5)} | {f('test_minus_random', 5)} |")


if __name__ == "__main__":
    main()
