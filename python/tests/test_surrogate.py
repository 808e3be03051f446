"""Surrogate-model task affinity from Python (issue 14): the same matrix as the CLI,
Newton subset losses equal refits, and the surrogate's attributes."""
import csv

import numpy as np

import mtif
from conftest import cli_ok


def test_surrogate_matches_cli_and_newton_losses_are_refits(tmp_path, data_dir):
    tr, te = mtif.read_csv(str(data_dir / "train.csv"), str(data_dir / "test.csv"))
    model = mtif.LinearMultitask().fit(tr)
    r = model.surrogate(te, subsets=60, subset_losses="newton", validate_subsets=20, seed=4)
    K = tr.n_tasks
    assert r.matrix.shape == (K, K) and r.method == "surrogate"
    assert r.subsets.shape == (60, K) and r.subsets.dtype == bool and r.subsets.any(axis=1).all()
    assert r.held_out.shape == (20, K) and r.held_out_r2.shape == (K,)
    # The CLI with the same settings writes the same matrix.
    out = tmp_path / "R.csv"
    cli_ok("relatedness", "--train", data_dir / "train.csv", "--test", data_dir / "test.csv", "--method", "surrogate",
           "--subset-losses", "newton", "--subsets", 60, "--validate-subsets", 20, "--subset-seed", 4, "--out", out, "-q")
    cli = {(row["source_task"], row["target_task"]): float(row["loss_change_if_removed"]) for row in csv.DictReader(open(out))}
    for l, src in enumerate(r.sources):
        for t, tgt in enumerate(r.target_task):
            assert abs(r.matrix[l, t] - cli[(src, tgt)]) <= 1e-9 * np.abs(r.matrix).max()
    # Newton removal is the refit for the squared loss; the surrogate was fitted on those losses.
    newton = model.subset_losses(te, r.subsets, method="newton")
    refit = model.subset_losses(te, r.subsets, method="retrain")
    np.testing.assert_allclose(newton, refit, rtol=1e-8)
    np.testing.assert_allclose(newton, r.losses, rtol=1e-12)
    # Prediction of the surrogate = intercept + kept tasks' coefficients (= -R).
    predicted = r.intercept[None, :] - r.subsets.astype(float) @ r.matrix
    resid = ((r.losses - predicted) ** 2).sum(axis=0)
    total = ((r.losses - r.losses.mean(axis=0)) ** 2).sum(axis=0)
    np.testing.assert_allclose(1 - resid / total, r.fitted_r2, rtol=1e-9)


def test_gradient_estimate_is_named_and_refuses_bad_method(data_dir):
    tr, te = mtif.read_csv(str(data_dir / "train.csv"), str(data_dir / "test.csv"))
    model = mtif.LinearMultitask().fit(tr)
    g = model.surrogate(te, subsets=30, subset_losses="gradient", projection_dim=5)
    assert g.method == "gradient-estimate" and np.isfinite(g.matrix).all()
    try:
        model.subset_losses(te, [[True] * tr.n_tasks], method="exact")
    except ValueError as e:
        assert "exact" in str(e)
    else:
        raise AssertionError("an unknown method was accepted")
