#!/usr/bin/python3
"""Summarises bench/mlp_issue4.sh's run summaries into two JSON files and the README tables.

Usage: mlp_issue4_report.py RUN_DIR RESULTS_DIR
  RUN_DIR/R_<cast>_<model>_<method>_seed<s>.json   mtif relatedness --validate summaries
  RUN_DIR/S_<cast>_<mode>_seed<s>.json             mtif select summaries
Writes RESULTS_DIR/relatedness_fashion_mlp.json and RESULTS_DIR/selection_fashion_mlp.json.
Spreads are sample standard deviations over the seeds; selection differences are paired by seed.
"""
import glob
import json
import os
import re
import statistics
import sys


def mean_sd(values):
    values = [v for v in values if v is not None]
    if not values:
        return None, None
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def fmt(pair, digits=3):
    m, s = pair
    if m is None:
        return "-"
    return f"{m:.{digits}f} ± {s:.{digits}f}"


def relatedness(run_dir):
    runs = {}
    for path in sorted(glob.glob(os.path.join(run_dir, "R_*.json"))):
        cast, model, method, seed = re.match(r"R_(.+?)_(mlp|linear)_(.+)_seed(\d+)\.json", os.path.basename(path)).groups()
        j = json.load(open(path))
        v = j["versus_retrain"]
        runs.setdefault((cast, model, method), []).append({
            "seed": int(seed),
            "mean_spearman": v["mean_spearman"],
            "mean_spearman_between_tasks": v["mean_spearman_between_tasks"],
            "pearson_all": v["pearson_all"],
            "method_seconds": v["method_seconds"],
            "retrain_seconds": v["retrain_seconds"],
            "max_abs_gradient": j["timings"].get("max_abs_gradient"),
            "warnings": j.get("warnings", []),
        })
    summary = []
    for (cast, model, method), rows in sorted(runs.items()):
        entry = {"cast": cast, "model": model, "method": method, "seeds": rows}
        for key in ("mean_spearman", "mean_spearman_between_tasks", "method_seconds", "retrain_seconds"):
            m, s = mean_sd([r[key] for r in rows])
            entry[key] = {"mean": m, "sd": s}
        # The machine is shared, so seconds move with its load; the ratio within one run is steadier.
        entry["speedup_vs_retrain_median"] = statistics.median(r["retrain_seconds"] / r["method_seconds"] for r in rows)
        summary.append(entry)
    return summary


def selection(run_dir):
    runs = {}
    for path in sorted(glob.glob(os.path.join(run_dir, "S_*.json"))):
        cast, mode, seed = re.match(r"S_(.+?)_(.+)_seed(\d+)\.json", os.path.basename(path)).groups()
        j = json.load(open(path))
        full = j["full_data"]
        row = {"seed": int(seed), "rows_dropped": None, "full_test_loss": full["test_loss"],
               "full_valid_loss": full["valid_loss"], "full_test_accuracy": full.get("test_accuracy"),
               "methods": {}}
        for m in j["methods"]:
            row["methods"][m["method"]] = {
                "test_loss": m["test_loss"], "valid_loss": m["valid_loss"], "rows": m["rows_selected"],
                "test_accuracy": m.get("test_accuracy"), "test_loss_std": m.get("test_loss_std"),
                "tasks_removed": m.get("tasks_removed")}
        row["rows_dropped"] = row["methods"]["mtif"]["rows"]
        row["seconds"] = j["timings"]
        runs.setdefault((cast, mode), []).append(row)
    summary = []
    for (cast, mode), rows in sorted(runs.items()):
        entry = {"cast": cast, "mode": mode, "seeds": rows,
                 "full_test_loss": dict(zip(("mean", "sd"), mean_sd([r["full_test_loss"] for r in rows]))),
                 "full_test_accuracy": dict(zip(("mean", "sd"), mean_sd([r["full_test_accuracy"] for r in rows])))}
        methods = sorted({m for r in rows for m in r["methods"]})
        for m in methods:
            have = [r for r in rows if m in r["methods"]]
            entry[m] = {
                "test_loss_minus_full": dict(zip(("mean", "sd"), mean_sd(
                    [r["methods"][m]["test_loss"] - r["full_test_loss"] for r in have]))),
                "valid_loss_minus_full": dict(zip(("mean", "sd"), mean_sd(
                    [r["methods"][m]["valid_loss"] - r["full_valid_loss"] for r in have]))),
                "test_accuracy_minus_full": dict(zip(("mean", "sd"), mean_sd(
                    [(r["methods"][m]["test_accuracy"] - r["full_test_accuracy"])
                     if r["methods"][m]["test_accuracy"] is not None else None for r in have]))),
            }
        if "mtif" in methods and "random" in methods:
            entry["mtif_minus_random_test_loss"] = dict(zip(("mean", "sd"), mean_sd(
                [r["methods"]["mtif"]["test_loss"] - r["methods"]["random"]["test_loss"] for r in rows])))
        summary.append(entry)
    return summary


def main():
    run_dir, results = sys.argv[1], sys.argv[2]
    rel = relatedness(run_dir)
    sel = selection(run_dir)
    note = ("bench/mlp_issue4.sh: Fashion-MNIST 7x7, network 49 -> 32 tanh, weight decay 0.03, Adam 30 epochs + "
            "L-BFGS polish; LOTO = warm-started L-BFGS refits (300 iterations) on the test half; mean ± sd over seeds")
    json.dump({"note": note, "runs": rel}, open(os.path.join(results, "relatedness_fashion_mlp.json"), "w"), indent=1)
    json.dump({"note": note, "runs": sel}, open(os.path.join(results, "selection_fashion_mlp.json"), "w"), indent=1)

    print("| cast | model | method | Spearman vs LOTO | between tasks | s: method | s: LOTO | LOTO / method (median) | seeds |")
    print("|---|---|---|---|---|---|---|---|---|")
    for e in rel:
        g = lambda k: (e[k]["mean"], e[k]["sd"])
        print(f"| {e['cast']} | {e['model']} | {e['method']} | {fmt(g('mean_spearman'))} | "
              f"{fmt(g('mean_spearman_between_tasks'))} | {fmt(g('method_seconds'), 2)} | "
              f"{fmt(g('retrain_seconds'), 1)} | {e['speedup_vs_retrain_median']:.2f} | {len(e['seeds'])} |")
    print()
    print("| cast | mode | full: test loss | full: accuracy | MTIF − full | random − full | loss − full | task − full "
          "| MTIF − random | MTIF: valid − full | accuracy: MTIF − full / random − full | rows dropped |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for e in sel:
        d = lambda m, k="test_loss_minus_full": fmt((e[m][k]["mean"], e[m][k]["sd"]), 4) if m in e else "-"
        r = e.get("mtif_minus_random_test_loss", {"mean": None, "sd": None})
        print(f"| {e['cast']} | {e['mode']} | {fmt((e['full_test_loss']['mean'], e['full_test_loss']['sd']), 4)} | "
              f"{fmt((e['full_test_accuracy']['mean'], e['full_test_accuracy']['sd']), 4)} | {d('mtif')} | "
              f"{d('random')} | {d('loss')} | {d('task')} | {fmt((r['mean'], r['sd']), 4)} | "
              f"{d('mtif', 'valid_loss_minus_full')} | {d('mtif', 'test_accuracy_minus_full')} / "
              f"{d('random', 'test_accuracy_minus_full')} | {[s['rows_dropped'] for s in e['seeds']]} |")


if __name__ == "__main__":
    main()
