"""Task grouping from Python (issue 14 item 4): the same groups and losses as `mtif group`,
the planted clusters found, and bad input refused."""
import csv

import numpy as np
import pytest

import mtif
from conftest import cli_ok


@pytest.fixture(scope="module")
def clusters(tmp_path_factory):
    # Three tasks along the shared direction, three against it: two planted clusters.
    d = tmp_path_factory.mktemp("clusters")
    cli_ok("generate", "--tasks", 6, "--features", 5, "--rows", 40, "--test-rows", 100, "--conflicting", 3,
           "--similarity", 0.95, "--label-noise", 0, "--seed", 3, "--out-dir", d, "-q")
    return d


def planted(d):
    rows = list(csv.DictReader(open(d / "truth.csv")))
    against = sorted({r["task"] for r in rows if r["conflicting_task"] == "1"})
    return sorted([sorted({r["task"] for r in rows} - set(against)), against])


def test_group_matches_cli_and_finds_planted_clusters(tmp_path, clusters):
    tr, te = mtif.read_csv(str(clusters / "train.csv"), str(clusters / "test.csv"))
    model = mtif.LinearMultitask(lambda_task=0.1, lambda_shared=0.1).fit(tr)
    g = mtif.group(model, te, [2, 3], method="newton")
    assert sorted(sorted(x) for x in g.groups[2]) == planted(clusters)
    assert g.search[2] == "exact" and len(g.groups[3]) == 3
    assert g.test_loss[2].mean() < g.all_tasks.mean()
    out = tmp_path / "groups.csv"
    cli_ok("group", "--train", clusters / "train.csv", "--test", clusters / "test.csv", "--lambda-task", 0.1,
           "--lambda-shared", 0.1, "--method", "newton", "--groups", "2,3", "--out", out, "-q")
    for row in csv.DictReader(open(out)):
        k = g.tasks.index(row["task"])
        assert abs(float(row["test_loss"]) - g.test_loss[int(row["groups"])][k]) <= 1e-9
        assert abs(float(row["all_tasks_loss"]) - g.all_tasks[k]) <= 1e-9
        assert abs(float(row["single_task_loss"]) - g.single_task[k]) <= 1e-9
    # A relatedness object of another measure gives its own groups through the same call.
    r = model.surrogate(te, subsets=60, subset_losses="newton")
    assert sorted(sorted(x) for x in model.group(te, 2, relatedness=r).groups[2]) == planted(clusters)


def test_group_tasks_is_exact_on_small_matrices_and_refuses_bad_input():
    rng = np.random.default_rng(5)
    a = rng.normal(size=(7, 7))
    exact, best = mtif.group_tasks(a, 3, search="exact")
    _, brute = mtif.group_tasks(a, 3, search="brute-force")
    assert abs(best - brute) < 1e-9 and sorted(k for g in exact for k in g) == list(range(7))
    _, greedy = mtif.group_tasks(a, 3, search="greedy")
    assert greedy <= best + 1e-9
    with pytest.raises(ValueError, match="between 1 and the 7 tasks"):
        mtif.group_tasks(a, 8)
    with pytest.raises(ValueError, match="square"):
        mtif.group_tasks(a[:, :5], 2)
    a[1, 2] = np.nan
    with pytest.raises(ValueError, match="not a finite number"):
        mtif.group_tasks(a, 2)
