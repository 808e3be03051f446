"""The Python API itself: data in and out, shapes, signs, errors."""
import numpy as np
import pytest

import mtif
from conftest import run_cli


def test_dataset_from_csv_and_arrays_agree(data_dir):
    tr, te = mtif.read_csv(str(data_dir / "train.csv"), str(data_dir / "test.csv"))
    assert (tr.n_tasks, tr.n_features) == (5, 4) and tr.n_rows == 150
    assert tr.feature_names == ["x1", "x2", "x3", "x4"]
    # Same data through numpy, with task labels: same tasks, same scores.
    labels = np.array([tr.task_names[k] for k in tr.task])
    tr2 = mtif.Dataset.from_arrays(tr.X, tr.y, labels)
    te2 = mtif.Dataset.from_arrays(te.X, te.y, np.array([te.task_names[k] for k in te.task]), like=tr2)
    assert tr2.task_names == tr.task_names
    a = mtif.LinearMultitask().fit(tr).influence(te)
    b = mtif.LinearMultitask().fit(tr2).influence(te2)
    assert np.array_equal(a.total, b.total)
    # A single file read alone, and against the training tasks.
    assert mtif.Dataset.from_csv(str(data_dir / "train.csv")).n_rows == tr.n_rows
    assert mtif.Dataset.from_csv(str(data_dir / "test.csv"), like=tr).task_names == tr.task_names


def test_scores_shapes_parts_and_zero_copy(data_dir):
    tr, te = mtif.read_csv(str(data_dir / "train.csv"), str(data_dir / "test.csv"))
    model = mtif.LinearMultitask().fit(tr)
    s = model.influence(te)
    assert s.total.shape == (tr.n_rows, tr.n_tasks)
    assert s.target_task == tr.task_names and list(s.target_row) == [-1] * tr.n_tasks
    np.testing.assert_allclose(s.task_part + s.shared_part, s.total, rtol=0, atol=1e-12 * np.abs(s.total).max())
    # Between-task influence flows only through the shared part.
    off = s.train_task[:, None] != np.arange(tr.n_tasks)[None, :]
    assert np.all(s.task_part[off] == 0)
    # The score matrix is handed over without a copy, C-contiguous.
    assert s.total.flags["C_CONTIGUOUS"] and not s.total.flags["OWNDATA"]
    assert s.total.dtype == np.float64
    assert model.influence(te, parts=False).task_part is None
    top = s.top(tr.task_names[0], k=3)
    assert s.total[top[0], 0] == s.total[:, 0].max()
    assert model.gamma_.shape == (4,) and model.theta_.shape == (5, 4)
    assert set(model.timings_) >= {"fit_s", "factor_s", "score_s"}
    assert model.predict(te).shape == (te.n_rows,) and np.all(np.isfinite(model.score(te)))


def test_sklearn_style_params():
    m = mtif.LinearMultitask(lambda_task=0.2)
    assert m.get_params()["lambda_task"] == 0.2
    assert m.set_params(loss="logistic") is m and m.loss == "logistic"
    assert "lambda_task=0.2" in repr(m)
    with pytest.raises(ValueError):
        m.set_params(bogus=1)


def test_errors_are_python_exceptions_with_the_cli_message(tmp_path, data_dir):
    bad = tmp_path / "bad.csv"
    bad.write_text("task,y,x1\nt0,1.0,2.0\nt0,abc,3.0\n")
    with pytest.raises(mtif.DataError) as e:
        mtif.read_csv(str(bad), str(data_dir / "test.csv"))
    r = run_cli("fit", "--train", bad, "--test", data_dir / "test.csv")
    assert r.returncode == 2
    assert r.stderr.strip() == "mtif: error: " + str(e.value)
    assert isinstance(e.value, ValueError)

    tr, te = mtif.read_csv(str(data_dir / "train.csv"), str(data_dir / "test.csv"))
    with pytest.raises(RuntimeError, match="not fitted"):
        mtif.LinearMultitask().influence(te)
    with pytest.raises(ValueError, match="loss"):
        mtif.LinearMultitask(loss="hinge").fit(tr)
    with pytest.raises(ValueError, match="mode"):
        mtif.LinearMultitask().fit(tr).influence(te, mode="approximate")
    with pytest.raises(mtif.DataError, match="logistic loss needs 0/1"):
        mtif.LinearMultitask(loss="logistic").fit(tr)
    with pytest.raises(mtif.DataError, match="task id 7"):
        mtif.Dataset.from_arrays(np.zeros((2, 2)), np.zeros(2), np.array([0, 7]), task_names=["a", "b"])
    with pytest.raises(mtif.DataError, match="row 1"):
        mtif.Dataset.from_arrays(np.array([[0.0], [np.nan]]), np.zeros(2), np.array([0, 0]))
    with pytest.raises(ValueError, match="outside"):
        mtif.LinearMultitask().fit(tr).loo(te, rows=[10**6])


def test_sign_convention_on_corrupted_rows(tmp_path):
    # generate marks the rows whose labels it corrupted; on average they hurt their task.
    from conftest import cli_ok
    cli_ok("generate", "--tasks", 3, "--features", 5, "--rows", 200, "--label-noise", 0.1, "--seed", 1,
           "--out-dir", tmp_path, "-q")
    tr, te = mtif.read_csv(str(tmp_path / "train.csv"), str(tmp_path / "test.csv"))
    s = mtif.LinearMultitask().fit(tr).influence(te)
    own = s.total[np.arange(tr.n_rows), s.train_task]
    import csv
    corrupted = np.zeros(tr.n_rows, bool)
    for r in csv.DictReader(open(tmp_path / "truth.csv")):
        corrupted[int(r["train_row"])] = r["corrupted_label"] == "1"
    assert corrupted.sum() > 10
    # Corrupted labels hurt their own task: negative on average, below the clean rows.
    assert own[corrupted].mean() < 0 < own[~corrupted].mean()


def test_progress_is_off_by_default_and_can_be_turned_on(data_dir):
    import os
    import subprocess
    import sys
    script = (
        "import sys, mtif\n"
        "if sys.argv[1] == 'on': mtif.set_progress(True)\n"
        f"tr, te = mtif.read_csv({str(data_dir / 'train.csv')!r}, {str(data_dir / 'test.csv')!r})\n"
        "mtif.LinearMultitask().fit(tr).loo(te, rows='all')\n"
    )
    env = dict(os.environ, MTIF_PROGRESS_DELAY="0")  # draw at once, however fast the machine
    runs = {w: subprocess.run([sys.executable, "-c", script, w], capture_output=True, text=True, env=env)
            for w in ("off", "on")}
    assert all(r.returncode == 0 for r in runs.values()), {w: r.stderr for w, r in runs.items()}
    assert runs["off"].stderr == ""
    assert "leave-one-out refits [" in runs["on"].stderr and "100% 150/150" in runs["on"].stderr
