"""Networks from Python: your own torch.nn.Module (TorchMultitask) and the
built-in network (SharedBottomMLP) give the CLI's numbers, and their scores
track real refits."""
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import mtif  # noqa: E402
from conftest import ROOT, cli_ok  # noqa: E402

sys.path.insert(0, str(ROOT / "tests" / "cli"))
from export_mlp_torchscript import SharedBottom  # noqa: E402  (trunk.* / heads.<k>.* names)


def spearman(a, b):
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return np.corrcoef(ra, rb)[0, 1]


def trained_module(train, hidden=8, steps=300, seed=0):
    """A small shared-bottom net trained in plain PyTorch, as a user would."""
    torch.manual_seed(seed)
    net = SharedBottom(train.n_features, [hidden], "tanh", train.n_tasks, 1).double()
    x, y = torch.tensor(train.X), torch.tensor(train.y)
    task = torch.tensor(train.task, dtype=torch.int64)
    opt = torch.optim.Adam(net.parameters(), lr=0.05)
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.binary_cross_entropy_with_logits(net(x, task).squeeze(1), y)
        loss.backward()
        opt.step()
    return net


def test_import_mtif_does_not_load_torch():
    code = "import sys, mtif; assert 'torch' not in sys.modules; assert mtif.TorchMultitask; print('ok')"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0 and "ok" in r.stdout, r.stderr


@pytest.mark.parametrize("solver", ["exact", "cg"])
def test_own_module_equals_cli(tmp_path, logistic_dir, solver):
    tr, te = mtif.read_csv(str(logistic_dir / "train.csv"), str(logistic_dir / "test.csv"))
    net = trained_module(tr)
    torch.jit.save(torch.jit.script(net), str(tmp_path / "net.pt"))
    cli_ok("influence", "--model", "torchscript", "--module", tmp_path / "net.pt", "--loss", "logistic",
           "--solver", solver, "--train", logistic_dir / "train.csv", "--test", logistic_dir / "test.csv",
           "--out", tmp_path / "s.npy", "-q")
    model = mtif.TorchMultitask(net, loss="logistic", solver=solver).fit(tr)
    s = model.influence(te)
    cli = np.load(tmp_path / "s.npy")
    assert s.total.shape == cli.shape == (tr.n_rows, tr.n_tasks)
    assert np.abs(s.total - cli).max() <= 1e-12 * np.abs(cli).max()
    np.testing.assert_allclose(s.task_part + s.shared_part, s.total, rtol=0, atol=1e-12 * np.abs(s.total).max())
    assert model.max_abs_gradient_ > 0


def test_builtin_network_equals_cli(tmp_path, logistic_dir):
    flags = ["--hidden", "6", "--epochs", "20", "--polish-steps", "200"]
    cli_ok("influence", "--model", "mlp", "--loss", "logistic", *flags, "--train", logistic_dir / "train.csv",
           "--test", logistic_dir / "test.csv", "--out", tmp_path / "s.npy", "-q")
    tr, te = mtif.read_csv(str(logistic_dir / "train.csv"), str(logistic_dir / "test.csv"))
    s = mtif.SharedBottomMLP(hidden=[6], epochs=20, polish_steps=200).fit(tr).influence(te)
    cli = np.load(tmp_path / "s.npy")
    assert np.abs(s.total - cli).max() <= 1e-12 * np.abs(cli).max()


def test_scores_track_refits(logistic_dir):
    tr, te = mtif.read_csv(str(logistic_dir / "train.csv"), str(logistic_dir / "test.csv"))
    # weight decay 0.05: at 0.01 this 40-rows-per-task net is far from quadratic over a
    # one-row removal (LOO Spearman 0.65, within-task 0.85; 0.98 at 0.05)
    model = mtif.TorchMultitask(trained_module(tr), loss="logistic", weights="polish", solver="exact",
                                curvature="hessian", damping=0.0, weight_decay=0.05).fit(tr)
    assert model.max_abs_gradient_ < 1e-6 and not model.warnings_
    s = model.influence(te)
    loo = model.loo(te, rows="0-59")
    # each refit (60 rows and the full data) says why it stopped
    assert loo.refit_stops["refits"] == 61 and sum(loo.refit_stops["stopped_by"].values()) == 61
    predicted = s.total[loo.rows]
    assert spearman(predicted.ravel(), loo.actual.ravel()) > 0.9
    R = model.relatedness(te, "mtif").matrix
    retrained = model.relatedness(te, "retrain")
    assert retrained.refit_stops["refits"] == tr.n_tasks + 1
    truth = retrained.matrix
    assert R.shape == truth.shape == (tr.n_tasks, tr.n_tasks)
    assert spearman(R.ravel(), truth.ravel()) > 0.8
    rows = model.influence(te, targets="rows", parts=False)
    assert rows.total.shape == (tr.n_rows, te.n_rows)
    # Row targets: a task's test loss is the mean of its rows' losses, so the refits'
    # changes averaged over a task's test rows are the task target's changes.
    loo_rows = model.loo(te, rows="0-4", targets="rows")
    assert loo_rows.actual.shape == (5, te.n_rows) and list(loo_rows.target_row) == list(range(te.n_rows))
    row_task = np.asarray(loo_rows.target_task)
    for k, name in enumerate(loo.target_task):
        np.testing.assert_allclose(loo_rows.actual[:, row_task == name].mean(axis=1), loo.actual[:5, k],
                                   rtol=1e-9, atol=1e-12)
    lds = model.lds(te, subsets=4, seed=1, targets="rows")
    assert lds.per_target.shape == (te.n_rows,) and lds.actual.shape == (4, te.n_rows)
    assert lds.refit_stops["refits"] == 5


def test_weights_as_is_far_from_stationary_warn(logistic_dir):
    tr, _ = mtif.read_csv(str(logistic_dir / "train.csv"), str(logistic_dir / "test.csv"))
    model = mtif.TorchMultitask(trained_module(tr, steps=2), loss="logistic").fit(tr)
    assert any("not at a stationary point" in w for w in model.warnings_)


def test_trained_weights_come_back(tmp_path, logistic_dir):
    tr, te = mtif.read_csv(str(logistic_dir / "train.csv"), str(logistic_dir / "test.csv"))
    model = mtif.TorchMultitask(trained_module(tr, steps=2), loss="logistic", weights="train", epochs=5).fit(tr)
    back = model.module_()
    x, task = torch.tensor(te.X), torch.tensor(te.task, dtype=torch.int64)
    logits = back(x, task).squeeze(1).detach().numpy()
    y = te.y
    loss = np.logaddexp(0, logits) - y * logits  # mean per task = mtif's test loss
    per_task = [loss[te.task == k].mean() for k in range(te.n_tasks)]
    np.testing.assert_allclose(per_task, model.score(te), rtol=1e-10)


class NoTaskArgument(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.trunk = nn.Linear(d, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.trunk(x)


def test_bad_module_is_refused(logistic_dir):
    tr, _ = mtif.read_csv(str(logistic_dir / "train.csv"), str(logistic_dir / "test.csv"))
    with pytest.raises(ValueError) as error:
        mtif.TorchMultitask(NoTaskArgument(tr.n_features), loss="logistic").fit(tr)
    assert "\n" not in str(error.value).strip()
    net = trained_module(tr)
    with pytest.raises(ValueError, match="matched by no pattern|no parameter matches"):
        mtif.TorchMultitask(net, shared=["nothing.*"], loss="logistic").fit(tr)
