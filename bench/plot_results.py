#!/usr/bin/env python3
"""Draws the plots of the results pages (docs/results/) from bench/results/*.json.

    bench/plot_results.py [RESULTS_DIR] [OUT_DIR]     # defaults: bench/results, docs/_generated/plots

The documentation build (docs/conf.py) calls draw_all(), so every plot on the site
is drawn from the numbers the benchmarks wrote, never typed in. A plot whose
input file is missing is skipped with a note on stderr (its page then fails the
-W build on the missing image, which is what should happen). Needs matplotlib
(Debian python3-matplotlib).
"""
import json
import statistics
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

FIGSIZE = (7.0, 3.8)
DPI = 110


def load(results: Path, name: str):
    path = results / name
    if not path.exists():
        print(f"plot_results: {path} is missing, its plot is skipped", file=sys.stderr)
        return None
    return json.loads(path.read_text())


def save(fig, out: Path, name: str) -> None:
    fig.tight_layout()
    fig.savefig(out / f"{name}.png", dpi=DPI)
    plt.close(fig)


def grouped_bars(ax, groups, series, values, errors=None):
    """Bars of series (one colour each) side by side for each group."""
    width = 0.8 / len(series)
    for i, s in enumerate(series):
        xs = [g + (i - (len(series) - 1) / 2) * width for g in range(len(groups))]
        ax.bar(xs, values[i], width, label=s, yerr=errors[i] if errors else None, capsize=3)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels(groups)


def linear_speed(results: Path, out: Path) -> None:
    data = load(results, "linear.json")
    if data is None:
        return
    labels = {"base": "100x1,000x50", "rows_x10": "rows x10", "features_x4": "features x4",
              "tasks_x10_same_rows": "tasks x10,\nsame rows"}
    shapes = [s for s in data["shapes"] if s["label"] in labels]
    phases = [("fit", "fit"), ("first_order", "first-order"), ("exact", "exact")]
    values = [[s["results"][key]["wall_s"] if key in s["results"] else 0 for s in shapes] for key, _ in phases]
    fig, ax = plt.subplots(figsize=FIGSIZE)
    grouped_bars(ax, [labels[s["label"]] for s in shapes], [name for _, name in phases], values)
    ax.set_yscale("log")
    ax.set_ylabel("whole process, s (median)")
    ax.set_title("Linear engine: tasks x rows per task x features")
    ax.legend()
    save(fig, out, "linear_speed")


def scale_streaming(results: Path, out: Path) -> None:
    data = load(results, "scale_streaming.json")
    if data is None:
        return
    rows = sorted((s for s in data["streaming"] if s["series"] == "rows"), key=lambda s: s["rows"])
    n = [s["rows"] for s in rows]
    fig, ax = plt.subplots(figsize=FIGSIZE)
    ax.loglog(n, [s["npy_float32"]["wall_s"] for s in rows], "o-", label="wall s")
    ax.loglog(n, [s["npy_float32"]["cpu_s"] for s in rows], "s--", label="CPU s")
    ax.set_xlabel("training rows (100 tasks, 50 features)")
    ax.set_ylabel("seconds")
    ax.set_title("mtif influence --memory 2G: all scores to a float32 .npy")
    for s in rows:
        ax.annotate(f"{s['npy_float32']['peak_rss_bytes'] / 1e6:.0f} MB", (s["rows"], s["npy_float32"]["wall_s"]),
                    textcoords="offset points", xytext=(6, 6), fontsize=8)
    ax.legend()
    save(fig, out, "scale_streaming")


def scale_dense(results: Path, out: Path) -> None:
    data = load(results, "scale_dense.json")
    if data is None:
        return
    runs = data["dense"]
    groups = [f"{r['tasks']} x {r['rows']:.0e}".replace("e+0", "e") for r in runs]
    series = ["mtif", "numpy (dense)", "PyTorch (dense)"]
    keys = ["mtif_in_memory", "dense_numpy", "dense_torch"]
    fig, ax = plt.subplots(figsize=FIGSIZE)
    grouped_bars(ax, groups, series, [[r[k]["wall_s"] for r in runs] for k in keys])
    ax.set_yscale("log")
    ax.set_xlabel("tasks x training rows")
    ax.set_ylabel("whole process, s")
    ax.set_title("Every row x task score: block engine against a dense full Hessian")
    ax.legend()
    save(fig, out, "scale_dense")


def mpi_phases(results: Path, out: Path) -> None:
    data = load(results, "mpi.json")
    if data is None:
        return
    runs = data["summary"]
    names = list(runs)
    phases = ["read", "fit", "factor", "score", "gather", "write"]
    fig, ax = plt.subplots(figsize=FIGSIZE)
    bottom = [0.0] * len(names)
    for p in phases:
        v = [runs[n].get(f"{p}_s_median", 0.0) for n in names]
        ax.bar(range(len(names)), v, bottom=bottom, label=p)
        bottom = [b + x for b, x in zip(bottom, v)]
    ax.plot(range(len(names)), [runs[n]["wall_s_median"] for n in names], "k_", markersize=20, label="wall")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels([n.replace("_ranks", " ranks").replace("_", "\n") for n in names], fontsize=8)
    ax.set_ylabel("seconds (rank 0, median of 3)")
    ax.set_title("mtif influence under mpirun, 10^5 rows x 100 tasks, 2 cores")
    ax.legend(fontsize=8, ncol=2)
    save(fig, out, "mpi_phases")


CASTS = ["oj-brands", "oj-stores", "chem97", "fashion-ovr", "digits-ovr"]


def relatedness_real(results: Path, out: Path) -> None:
    per_cast = {c: load(results, f"selection_{c}.json") for c in CASTS}
    casts = [c for c in CASTS if per_cast[c] is not None]
    if not casts:
        return
    methods = ["mtif", "newton", "tag", "gradcos"]
    values = [[per_cast[c]["relatedness_vs_loto"][m]["mean_spearman"] for c in casts] for m in methods]
    fig, ax = plt.subplots(figsize=FIGSIZE)
    grouped_bars(ax, casts, ["MTIF", "Newton", "TAG", "gradient cosine"], values)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_ylabel("mean Spearman vs LOTO")
    ax.set_title("Ranking source tasks like leave-one-task-out retraining (linear model)")
    ax.legend(fontsize=8)
    save(fig, out, "relatedness_real")


def paired(per_seed, method):
    """Mean and sd over seeds of (method's test loss - full data's), relative to the full loss."""
    diffs = [(s[method]["test_loss"] - s["full"]) / s["full"] for s in per_seed]
    return statistics.mean(diffs), statistics.stdev(diffs) if len(diffs) > 1 else 0.0


def selection_real(results: Path, out: Path) -> None:
    per_cast = {c: load(results, f"selection_{c}.json") for c in CASTS}
    casts = [c for c in CASTS if per_cast[c] is not None and "allown" in per_cast[c]["selection"]]
    if not casts:
        return
    series, values, errors = ["MTIF", "random"], [[], []], [[], []]
    for c in casts:
        seeds = per_cast[c]["selection"]["allown"]["per_seed"]
        for i, m in enumerate(["mtif", "random"]):
            mean, sd = paired(seeds, m)
            values[i].append(100 * mean)
            errors[i].append(100 * sd)
    fig, ax = plt.subplots(figsize=FIGSIZE)
    grouped_bars(ax, casts, series, values, errors)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_ylabel("test loss change vs full data, %")
    ax.set_title("Dropping 5% of training rows (all+own); below 0 is better")
    ax.legend()
    save(fig, out, "selection_real")


def mlp_solvers(results: Path, out: Path) -> None:
    data = load(results, "mlp_agreement.json")
    if data is None:
        return
    order = ["exact_hessian", "cg_hessian", "exact_ggn", "cg_ggn", "lissa_ggn", "ekfac"]
    solvers = [s for s in order if s in data["solvers"]]
    measures = [("LOO Spearman, all pairs", lambda v: v["loo"]["all"]["spearman"]),
                ("LOO Spearman, between tasks", lambda v: v["loo"]["between_task"]["spearman"]),
                ("LDS", lambda v: v["lds"]["mean"])]
    fig, ax = plt.subplots(figsize=FIGSIZE)
    grouped_bars(ax, [s.replace("_", "\n") for s in solvers], [m for m, _ in measures],
                 [[f(data["solvers"][s]) for s in solvers] for _, f in measures])
    ax.set_ylim(0, 1)
    ax.set_ylabel("agreement with retraining")
    ax.set_title("Shared-bottom network, Fashion-MNIST one-vs-rest, 1,000 LOO refits")
    ax.legend(fontsize=8)
    save(fig, out, "mlp_solvers")


def by_fraction(results: Path, out: Path, file: str, key: str, ylabel: str, title: str, name: str) -> None:
    data = load(results, file)
    if data is None:
        return
    fig, ax = plt.subplots(figsize=FIGSIZE)
    for method, cells in data[key].items():
        fractions = sorted(cells, key=lambda f: float(f.rstrip("%")))
        xs = [float(f.rstrip("%")) for f in fractions]
        ax.errorbar(xs, [cells[f]["mean"] for f in fractions], yerr=[cells[f]["sd"] for f in fractions],
                    marker="o", capsize=3, label=method)
    ax.set_xlabel("labelled fraction, %")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    save(fig, out, name)


def draw_all(results: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    linear_speed(results, out)
    scale_streaming(results, out)
    scale_dense(results, out)
    mpi_phases(results, out)
    relatedness_real(results, out)
    selection_real(results, out)
    mlp_solvers(results, out)
    by_fraction(results, out, "mtl_rotated_accuracy.json", "accuracy", "mean test accuracy (3 seeds)",
                "Rotated MNIST, 6 tasks", "mtl_rotated")
    by_fraction(results, out, "mtl_angles_accuracy.json", "rmse_degrees", "mean test RMSE, degrees (3 seeds)",
                "Rotated MNIST angles, 10 regression tasks", "mtl_angles")


if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    results_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else here / "results"
    out_dir = Path(sys.argv[2]) if len(sys.argv) > 2 else here.parent / "docs" / "_generated" / "plots"
    draw_all(results_dir, out_dir)
    print(f"plots in {out_dir}")
