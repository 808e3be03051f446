"""mtif: multitask influence functions from Python.

Which training rows and which tasks help or hurt each task of a multitask
model. The numbers come from the same C++ library as the `mtif` command line
(module mtif._core), so both give the same scores for the same data.

Sign convention: every score is ``loss_change_if_removed`` = (test loss of the
target without the row) - (with it). Positive: the row HELPS the target;
negative: it HURTS. Relatedness ``R[l, k] > 0``: task l helps task k.

    import mtif
    train, test = mtif.read_csv("mtif-demo/train.csv", "mtif-demo/test.csv")
    model = mtif.LinearMultitask(lambda_task=1.0, lambda_shared=1.0).fit(train)
    s = model.influence(test)              # s.total: train rows x tasks
    R = model.relatedness(test, method="newton")
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Union

import numpy as np

from . import _core
from ._core import DataError, set_progress

__all__ = [
    "Dataset", "LinearMultitask", "Influence", "LeaveOneOut", "TaskRelatedness", "SurrogateRelatedness", "LdsResult",
    "read_csv", "lds", "DataError", "set_progress", "TorchMultitask", "SharedBottomMLP",
]
__version__ = "0.1.0"

# The network models load LibTorch: imported on first use, so that `import mtif`
# stays light for the linear model.
_NETWORK_MODELS = ("TorchMultitask", "SharedBottomMLP")


def __getattr__(name):
    if name in _NETWORK_MODELS:
        from . import networks
        return getattr(networks, name)
    raise AttributeError(f"module 'mtif' has no attribute {name!r}")


def _natural_key(label: str):
    # The CLI numbers tasks in natural order of their labels (task2 before task10).
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", str(label))]


class Dataset:
    """A multitask data set: features X (n x d), target y (n,), a task per row.

    Rows keep their input order: ``train_row`` i in every result is row i here.
    Build one with :meth:`from_csv`, :func:`read_csv` or :meth:`from_arrays`.
    """

    def __init__(self, core: _core.Dataset):
        self._core = core

    # -- construction ---------------------------------------------------------
    @classmethod
    def from_csv(cls, path: str, like: Optional["Dataset"] = None, *, target: str = "y",
                 task_column: str = "task", features: Sequence[str] = ()) -> "Dataset":
        """Reads one CSV file of the data contract (header; task, y, features).

        ``like``: a training set whose task ids this file must use (a test or
        validation file). Without it the file is read as a training set.
        """
        if like is not None:
            return cls(_core.Dataset.read_like(path, like._core, target, task_column, list(features)))
        return cls(_core.Dataset.read_one(path, target, task_column, list(features)))

    @classmethod
    def from_arrays(cls, X, y, task, *, task_names: Optional[Sequence[str]] = None,
                    feature_names: Optional[Sequence[str]] = None, like: Optional["Dataset"] = None,
                    source: str = "arrays") -> "Dataset":
        """From NumPy arrays. ``task`` holds integer ids 0..K-1 or labels.

        Labels are numbered in natural order (as the CLI does); a test set
        passes ``like=train`` to use the training set's tasks and features.
        """
        task = np.asarray(task)
        if like is not None:
            task_names = like.task_names
            feature_names = like.feature_names if feature_names is None else feature_names
        if task.dtype.kind in "iu" and task_names is None:
            task_names = [str(i) for i in range(int(task.max()) + 1 if task.size else 0)]
            ids = task
        elif task.dtype.kind in "iu":
            ids = task
        else:
            labels = [str(t) for t in task.tolist()]
            if task_names is None:
                task_names = sorted(set(labels), key=_natural_key)
            index = {name: i for i, name in enumerate(task_names)}
            missing = sorted(set(labels) - set(index))
            if missing:
                raise DataError(f"{source}: task {missing[0]!r} is not one of the training tasks")
            ids = np.fromiter((index[l] for l in labels), dtype=np.int64, count=len(labels))
        return cls(_core.Dataset.from_arrays(np.asarray(X, dtype=float), np.asarray(y, dtype=float).reshape(-1),
                                             np.asarray(ids, dtype=np.int64).reshape(-1), list(map(str, task_names)),
                                             list(feature_names or []), source))

    # -- contents (file order) ------------------------------------------------
    task_names = property(lambda self: list(self._core.task_names))
    feature_names = property(lambda self: list(self._core.feature_names))
    n_rows = property(lambda self: self._core.n_rows)
    n_tasks = property(lambda self: self._core.n_tasks)
    n_features = property(lambda self: self._core.n_features)
    X = property(lambda self: self._core.X, doc="features, n x d, file order (a copy)")
    y = property(lambda self: self._core.y, doc="target, file order (a copy)")
    task = property(lambda self: np.asarray(self._core.task), doc="task id of each row, file order")
    source = property(lambda self: self._core.source)

    def __len__(self):
        return self.n_rows

    def __repr__(self):
        return (f"Dataset({self.source!r}: {self.n_rows} rows, {self.n_tasks} tasks, "
                f"{self.n_features} features)")


def read_csv(train: str, test: Optional[str] = None, *, target: str = "y", task_column: str = "task",
             features: Sequence[str] = ()):
    """(train, test) Datasets, read exactly like ``mtif ... --train TRAIN --test TEST``.

    With ``test`` omitted, ``train`` must have a ``split`` column (train/test).
    """
    a, b = _core.Dataset.read_train_test(train, test or "", target, task_column, list(features))
    return Dataset(a), Dataset(b)


# -- results ---------------------------------------------------------------------

@dataclass
class Influence:
    """Scores of every train row (rows, file order) against every target (columns).

    ``total[r, t]`` = loss_change_if_removed: > 0 the row helps target t.
    ``task_part + shared_part == total`` in first-order mode.
    """
    total: np.ndarray
    task_part: Optional[np.ndarray]
    shared_part: Optional[np.ndarray]
    train_task: np.ndarray           # task id of each train row
    target_task: List[str]           # task label of each target
    target_row: np.ndarray           # test row of each target (-1 for task targets)
    task_names: List[str]
    mode: str
    leverage: Optional[np.ndarray] = None

    def top(self, target: Union[int, str], k: int = 10, helpful: bool = True) -> np.ndarray:
        """The k train rows that help (or hurt) a target most, strongest first."""
        t = self.target_task.index(target) if isinstance(target, str) else target
        order = np.argsort(-self.total[:, t] if helpful else self.total[:, t], kind="stable")
        return order[:k]


@dataclass
class LeaveOneOut:
    actual: np.ndarray               # rows x targets: actual change of each target's loss
    rows: np.ndarray                 # train rows left out
    target_task: List[str]
    target_row: np.ndarray


@dataclass
class TaskRelatedness:
    matrix: np.ndarray               # K sources x T targets; > 0: source helps target
    method: str
    sources: List[str]
    target_task: List[str]


@dataclass
class SurrogateRelatedness(TaskRelatedness):
    """A surrogate's matrix (R = minus the coefficients) with what it was fitted on."""
    intercept: np.ndarray = None     # per target
    subsets: np.ndarray = None       # fitting subsets x K, True = task kept
    losses: np.ndarray = None        # fitting subsets x targets
    held_out: np.ndarray = None      # held-out subsets x K
    held_out_losses: np.ndarray = None
    held_out_r2: np.ndarray = None   # per target (empty without held-out subsets)
    fitted_r2: np.ndarray = None     # per target, on the fitting subsets


@dataclass
class LdsResult:
    per_target: np.ndarray           # Spearman per target over the subsets
    mean: float
    predicted: np.ndarray            # subsets x targets
    actual: np.ndarray
    target_task: List[str]


# -- the model -------------------------------------------------------------------

class LinearMultitask:
    """The linear multitask model f_k(x) = x^T (gamma + theta_k) (Evgeniou-Pontil).

    Parameters mirror the CLI flags: ``loss`` ('squared' or 'logistic'),
    ``lambda_task``, ``lambda_shared`` and ``intercept`` (a constant-1 feature,
    penalised like the others). After :meth:`fit`: ``gamma_`` (d,), ``theta_``
    (K x d), ``task_names_``, ``n_iter_``, ``timings_`` (seconds inside C++).
    """

    def __init__(self, loss: str = "squared", lambda_task: float = 1.0, lambda_shared: float = 1.0,
                 intercept: bool = False):
        self.loss = loss
        self.lambda_task = lambda_task
        self.lambda_shared = lambda_shared
        self.intercept = intercept
        self._engine = None

    # scikit-learn conventions
    def get_params(self, deep: bool = True) -> dict:
        return {"loss": self.loss, "lambda_task": self.lambda_task, "lambda_shared": self.lambda_shared,
                "intercept": self.intercept}

    def set_params(self, **params) -> "LinearMultitask":
        for name, value in params.items():
            if name not in self.get_params():
                raise ValueError(f"unknown parameter {name!r}")
            setattr(self, name, value)
        self._engine = None
        return self

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"LinearMultitask({args})"

    def fit(self, train: Dataset) -> "LinearMultitask":
        engine = _core.LinearEngine(self.loss, float(self.lambda_task), float(self.lambda_shared), bool(self.intercept))
        engine.fit(train._core)
        self._engine = engine
        self.task_names_ = train.task_names
        return self

    @property
    def engine(self) -> _core.LinearEngine:
        if self._engine is None:
            raise RuntimeError("the model is not fitted: call fit(train) first")
        return self._engine

    gamma_ = property(lambda self: self.engine.gamma)
    theta_ = property(lambda self: self.engine.theta)
    n_iter_ = property(lambda self: self.engine.n_iter)
    timings_ = property(lambda self: dict(self.engine.timings))
    warnings_ = property(lambda self: list(self.engine.warnings))

    def predict(self, data: Dataset) -> np.ndarray:
        """f_k(x) for each row of ``data`` (its own task's weights), file order."""
        return self.engine.predict(data._core)

    def score(self, data: Dataset) -> np.ndarray:
        """Mean loss of each task on ``data`` (NaN for a task without rows)."""
        return self.engine.task_loss(data._core)

    def influence(self, test: Dataset, targets: str = "tasks", mode: str = "first-order",
                  parts: bool = True) -> Influence:
        """Scores of every train row against every task ('tasks') or test row ('rows').

        ``mode='exact'`` adds the leverage correction and the second-order loss
        change (equal to retraining for the squared loss). ``parts=False``
        skips the task/shared split (two fewer n x T matrices).
        """
        r = self.engine.influence(test._core, targets, mode, parts)
        return Influence(total=r["total"], task_part=r["task_part"], shared_part=r["shared_part"],
                         train_task=r["train_task"], target_task=list(r["target_task"]),
                         target_row=np.asarray(r["target_row"]), task_names=self.task_names_, mode=mode,
                         leverage=r.get("leverage"))

    def loo(self, test: Dataset, rows: Union[str, Sequence[int]] = "all", targets: str = "tasks") -> LeaveOneOut:
        """Actual change of each target's loss when refitting without each row.

        ``rows``: a spec like '0-99,250' or 'all' (as ``mtif loo --rows``), or indices.
        """
        n = self.engine_train_rows()
        idx = _core.parse_row_spec(rows, n) if isinstance(rows, str) else [int(r) for r in rows]
        r = self.engine.loo(test._core, idx, targets)
        return LeaveOneOut(actual=r["actual"], rows=np.asarray(r["rows"]), target_task=list(r["target_task"]),
                           target_row=np.asarray(r["target_row"]))

    def relatedness(self, test: Dataset, method: str = "mtif") -> TaskRelatedness:
        """K x K task matrix: R[l, k] = change of task k's test loss if task l were removed.

        method: 'mtif' (sum of first-order row scores), 'newton' (one Newton step
        without the task; exact for the squared loss) or 'retrain' (brute force).
        """
        r = self.engine.relatedness(test._core, method)
        return TaskRelatedness(matrix=r["matrix"], method=r["method"], sources=list(r["sources"]),
                               target_task=list(r["target_task"]))

    def surrogate(self, test: Dataset, subsets: int = 200, subset_size: float = 0.5, subset_losses: str = "retrain",
                  projection_dim: int = 100, ridge: float = 1e-3, validate_subsets: int = 0,
                  seed: int = 1) -> SurrogateRelatedness:
        """Surrogate-model task affinity (Li, Zhang et al. 2023), as ``mtif relatedness --method surrogate``.

        Each task is kept in a random subset with probability subset_size; subset_losses
        'retrain', 'newton' (exact for the squared loss) or 'gradient' (the gradient estimate
        of Li et al. 2024 on projection_dim projected gradients). R[l, t] = minus the
        coefficient of task l in target t's ridge surrogate: > 0, task l helps t.
        """
        r = self.engine.surrogate(test._core, int(subsets), float(subset_size), subset_losses, int(projection_dim),
                                  float(ridge), int(validate_subsets), int(seed))
        shape = lambda m: np.asarray(m, dtype=bool).reshape(len(m), len(r["sources"]))
        return SurrogateRelatedness(matrix=r["matrix"], method=r["method"], sources=list(r["sources"]),
                                    target_task=list(r["target_task"]), intercept=r["intercept"],
                                    subsets=shape(r["subsets"]), losses=r["losses"], held_out=shape(r["held_out"]),
                                    held_out_losses=r["held_out_losses"], held_out_r2=r["held_out_r2"],
                                    fitted_r2=r["fitted_r2"])

    def subset_losses(self, test: Dataset, keep, method: str = "newton", projection_dim: int = 100,
                      seed: int = 1) -> np.ndarray:
        """Each target's test loss after training on each subset (keep: subsets x K booleans)."""
        keep = [[bool(v) for v in row] for row in np.asarray(keep, dtype=bool)]
        return np.asarray(self.engine.subset_losses(test._core, keep, method, int(projection_dim), int(seed)))

    def lds(self, test: Dataset, subsets: int = 50, keep: float = 0.5, seed: int = 0) -> LdsResult:
        """Linear datamodeling score: do summed row scores predict random group removals?"""
        r = self.engine.lds(test._core, int(subsets), float(keep), int(seed))
        return LdsResult(per_target=r["per_target"], mean=float(r["mean"]), predicted=r["predicted"],
                         actual=r["actual"], target_task=list(r["target_task"]))

    # `select` (issue 4) will be one more method here over _core, like lds().

    def engine_train_rows(self) -> int:
        return int(self.engine.train_rows)


def lds(model: LinearMultitask, test: Dataset, subsets: int = 50, keep: float = 0.5, seed: int = 0) -> LdsResult:
    """Function form of :meth:`LinearMultitask.lds`."""
    return model.lds(test, subsets=subsets, keep=keep, seed=seed)
