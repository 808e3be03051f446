"""The Python API returns the CLI's numbers for the same CSV files.

.npy outputs are compared bit for bit; CSV outputs (written with round-trip
precision) to 1e-12 relative to each matrix's largest entry.
"""
import csv

import numpy as np
import pytest

import mtif
from conftest import cli_ok


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def close(a, b, tol=1e-12):
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert a.shape == b.shape
    scale = max(np.abs(b).max(), 1e-300)
    assert np.abs(a - b).max() <= tol * scale, np.abs(a - b).max() / scale


def as_matrix(rows, value, n_rows, targets, row_key="train_row", target_key="target_task"):
    col = {t: j for j, t in enumerate(targets)}
    m = np.full((n_rows, len(targets)), np.nan)
    for r in rows:
        m[int(r[row_key]), col[r[target_key]]] = float(r[value])
    return m


@pytest.mark.parametrize("mode", ["first-order", "exact"])
@pytest.mark.parametrize("flags,params", [
    ([], {}),
    (["--lambda-task", "0.3", "--lambda-shared", "2", "--intercept"],
     {"lambda_task": 0.3, "lambda_shared": 2.0, "intercept": True}),
])
def test_influence_tasks(tmp_path, data_dir, mode, flags, params):
    train, test = data_dir / "train.csv", data_dir / "test.csv"
    cli_ok("influence", "--train", train, "--test", test, "--mode", mode, "--out", tmp_path / "s.npy", *flags, "-q")
    cli_ok("influence", "--train", train, "--test", test, "--mode", mode, "--out", tmp_path / "s.csv", *flags, "-q")
    tr, te = mtif.read_csv(str(train), str(test))
    s = mtif.LinearMultitask(**params).fit(tr).influence(te, mode=mode)
    # .npy: bit-identical
    assert np.array_equal(s.total, np.load(tmp_path / "s.npy"))
    # CSV: every column, including the parts
    rows = read_rows(tmp_path / "s.csv")
    for col, ours in [("loss_change_if_removed", s.total), ("task_part", s.task_part), ("shared_part", s.shared_part)]:
        close(ours, as_matrix(rows, col, tr.n_rows, s.target_task))
    assert [r["train_task"] for r in rows[:: len(s.target_task)]] == [tr.task_names[k] for k in s.train_task]


def test_influence_rows_logistic(tmp_path, logistic_dir):
    train, test = logistic_dir / "train.csv", logistic_dir / "test.csv"
    cli_ok("influence", "--train", train, "--test", test, "--loss", "logistic", "--targets", "rows",
           "--out", tmp_path / "s.npy", "-q")
    tr, te = mtif.read_csv(str(train), str(test))
    s = mtif.LinearMultitask(loss="logistic").fit(tr).influence(te, targets="rows")
    assert s.total.shape == (tr.n_rows, te.n_rows)
    assert np.array_equal(s.total, np.load(tmp_path / "s.npy"))
    assert list(s.target_row) == list(range(te.n_rows))


def test_loo_relatedness_lds(tmp_path, data_dir):
    train, test = data_dir / "train.csv", data_dir / "test.csv"
    data = ["--train", train, "--test", test]
    tr, te = mtif.read_csv(str(train), str(test))
    model = mtif.LinearMultitask(lambda_task=0.5).fit(tr)

    cli_ok("loo", *data, "--lambda-task", "0.5", "--rows", "0-9,40", "--out", tmp_path / "loo.csv", "-q")
    loo = model.loo(te, rows="0-9,40")
    rows = read_rows(tmp_path / "loo.csv")
    assert list(loo.rows) == list(range(10)) + [40]
    cli = as_matrix(rows, "actual_loss_change", tr.n_rows, loo.target_task)[loo.rows]
    close(loo.actual, cli)
    close(model.loo(te, rows=[3, 40]).actual, cli[[3, 10]])

    for method in ["mtif", "newton", "retrain"]:
        cli_ok("relatedness", *data, "--lambda-task", "0.5", "--method", method, "--out", tmp_path / "R.csv", "-q")
        R = model.relatedness(te, method=method)
        # source_task holds labels: map them to rows by the task order.
        src = {name: i for i, name in enumerate(R.sources)}
        m = np.full(R.matrix.shape, np.nan)
        for r in read_rows(tmp_path / "R.csv"):
            m[src[r["source_task"]], R.target_task.index(r["target_task"])] = float(r["loss_change_if_removed"])
        close(R.matrix, m)

    cli_ok("lds", *data, "--lambda-task", "0.5", "--subsets", "8", "--keep", "0.6", "--lds-seed", "4",
           "--out", tmp_path / "lds.csv", "-q")
    L = mtif.lds(model, te, subsets=8, keep=0.6, seed=4)
    pred = np.full(L.predicted.shape, np.nan)
    act = np.full(L.actual.shape, np.nan)
    for r in read_rows(tmp_path / "lds.csv"):
        i, j = int(r["subset"]), L.target_task.index(r["target_task"])
        pred[i, j], act[i, j] = float(r["predicted_loss_change"]), float(r["actual_loss_change"])
    close(L.predicted, pred)
    close(L.actual, act)

    # One LDS per test row: the same numbers as `mtif lds --targets rows`.
    cli_ok("lds", *data, "--lambda-task", "0.5", "--subsets", "8", "--keep", "0.6", "--lds-seed", "4",
           "--targets", "rows", "--out", tmp_path / "lds-rows.csv", "-q")
    L = mtif.lds(model, te, subsets=8, keep=0.6, seed=4, targets="rows")
    assert L.per_target.shape == (te.n_rows,) and list(L.target_row) == list(range(te.n_rows))
    act = np.full(L.actual.shape, np.nan)
    for r in read_rows(tmp_path / "lds-rows.csv"):
        act[int(r["subset"]), int(r["target_row"])] = float(r["actual_loss_change"])
    close(L.actual, act)
