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
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

# What NumPy accepts as an array (numpy.typing.ArrayLike, spelled here so that
# the docs need no NumPy typing stubs).
ArrayLike = Union[np.ndarray, Sequence]

from . import _core
from ._core import DataError, set_progress

__all__ = [
    "Dataset", "LinearMultitask", "Influence", "LeaveOneOut", "TaskRelatedness", "SurrogateRelatedness", "LdsResult",
    "read_csv", "lds", "group", "group_tasks", "TaskGrouping", "DataError", "set_progress", "TorchMultitask", "SharedBottomMLP",
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
    Build one with :meth:`from_csv`, :func:`read_csv` or :meth:`from_arrays`;
    a test or validation set is read ``like`` its training set, so that both
    number the tasks and name the features the same way.

    Examples
    --------
    >>> train, test = mtif.read_csv("mtif-demo/train.csv", "mtif-demo/test.csv")
    >>> valid = mtif.Dataset.from_csv("valid.csv", like=train)
    >>> data = mtif.Dataset.from_arrays(X, y, task=["a", "b", "a"])
    """

    def __init__(self, core: _core.Dataset):
        self._core = core

    # -- construction ---------------------------------------------------------
    @classmethod
    def from_csv(cls, path: str, like: Optional["Dataset"] = None, *, target: str = "y",
                 task_column: str = "task", features: Sequence[str] = ()) -> "Dataset":
        """Reads one CSV file of the data contract (a header; task, target and feature columns).

        Parameters
        ----------
        path : str
            The CSV file.
        like : Dataset, optional
            A training set whose tasks and features this file must use (for a
            test or validation file). Without it the file is read as a training set.
        target : str
            Name of the target column (``--target``).
        task_column : str
            Name of the task column (``--task-column``).
        features : sequence of str
            Feature columns to use (``--features``); empty: every other column.

        Raises
        ------
        DataError
            Bad input, with ``FILE:LINE:COLUMN:`` in the message.
        """
        if like is not None:
            return cls(_core.Dataset.read_like(path, like._core, target, task_column, list(features)))
        return cls(_core.Dataset.read_one(path, target, task_column, list(features)))

    @classmethod
    def from_arrays(cls, X: ArrayLike, y: ArrayLike, task: ArrayLike, *, task_names: Optional[Sequence[str]] = None,
                    feature_names: Optional[Sequence[str]] = None, like: Optional["Dataset"] = None,
                    source: str = "arrays") -> "Dataset":
        """A data set from NumPy arrays.

        Parameters
        ----------
        X : array_like, shape (n, d)
            Features (converted to float64).
        y : array_like, shape (n,)
            Target: real values for the squared loss, 0/1 for the logistic loss.
        task : array_like, shape (n,)
            The task of each row: integer ids 0..K-1, or labels (numbered in
            natural order, ``task2`` before ``task10``, as the CLI does).
        task_names : sequence of str, optional
            Labels of the task ids (default: the ids, or the sorted labels).
        feature_names : sequence of str, optional
            Default ``x1..xd``.
        like : Dataset, optional
            For a test set: use the training set's tasks and features.
        source : str
            Name used in error messages.

        Raises
        ------
        DataError
            A non-finite value, a task outside the training tasks, mismatched lengths.
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
    @property
    def task_names(self) -> List[str]:
        """Task labels; task id k is ``task_names[k]``."""
        return list(self._core.task_names)

    @property
    def feature_names(self) -> List[str]:
        """Feature names, in column order."""
        return list(self._core.feature_names)

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return self._core.n_rows

    @property
    def n_tasks(self) -> int:
        """Number of tasks K."""
        return self._core.n_tasks

    @property
    def n_features(self) -> int:
        """Number of features d."""
        return self._core.n_features

    @property
    def X(self) -> np.ndarray:
        """Features, n x d, in file order (a copy)."""
        return self._core.X

    @property
    def y(self) -> np.ndarray:
        """Target, in file order (a copy)."""
        return self._core.y

    @property
    def task(self) -> np.ndarray:
        """Task id of each row, in file order."""
        return np.asarray(self._core.task)

    @property
    def source(self) -> str:
        """The file (or ``source`` name) the data came from."""
        return self._core.source

    def __len__(self) -> int:
        return self.n_rows

    def __repr__(self) -> str:
        return (f"Dataset({self.source!r}: {self.n_rows} rows, {self.n_tasks} tasks, "
                f"{self.n_features} features)")


def read_csv(train: str, test: Optional[str] = None, *, target: str = "y", task_column: str = "task",
             features: Sequence[str] = ()) -> Tuple[Dataset, Dataset]:
    """Reads a training and a test set exactly like ``mtif ... --train TRAIN --test TEST``.

    Parameters
    ----------
    train : str
        CSV file of training rows.
    test : str, optional
        CSV file of test rows. Omitted: ``train`` must have a ``split``
        column (``train``/``test``) that says which row is which.
    target, task_column, features
        As ``--target``, ``--task-column`` and ``--features``.

    Returns
    -------
    (Dataset, Dataset)
        The training set and the test set (numbered like the training set).

    Raises
    ------
    DataError
        Bad input, with ``FILE:LINE:COLUMN:`` in the message.
    """
    a, b = _core.Dataset.read_train_test(train, test or "", target, task_column, list(features))
    return Dataset(a), Dataset(b)


# -- results ---------------------------------------------------------------------

@dataclass
class Influence:
    """Scores of every training row (rows, file order) against every target (columns).

    ``total[r, t]`` is ``loss_change_if_removed``: > 0, row r helps target t;
    < 0, it hurts it. In first-order mode ``task_part + shared_part == total``.

    Attributes
    ----------
    total : numpy.ndarray
        float64, train rows x targets.
    task_part, shared_part : numpy.ndarray or None
        The parts through the task's own and the shared parameters (None with ``parts=False``).
    train_task : numpy.ndarray
        Task id of each training row.
    target_task : list of str
        Task label of each target (column).
    target_row : numpy.ndarray
        Test row of each target; -1 for task targets.
    task_names : list of str
        The training set's task labels.
    mode : str
        ``'first-order'`` or ``'exact'``.
    leverage : numpy.ndarray or None
        Exact mode: the leverage term of each row.
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
        """The ``k`` training rows that help (``helpful=True``) or hurt a target most, strongest first.

        ``target`` is a column index or a task label (for task targets).
        """
        t = self.target_task.index(target) if isinstance(target, str) else target
        order = np.argsort(-self.total[:, t] if helpful else self.total[:, t], kind="stable")
        return order[:k]


@dataclass
class LeaveOneOut:
    """Actual changes of each target's loss when the model is refitted without each row.

    Attributes
    ----------
    actual : numpy.ndarray
        Rows left out x targets, in the sign of the scores (> 0: the row helped).
    rows : numpy.ndarray
        The training rows left out.
    target_task : list of str
        Task label of each target.
    target_row : numpy.ndarray
        Test row of each target; -1 for task targets.
    refit_stops : dict or None
        Networks: how the warm-started refits ended (``refits``, ``stopped_by`` reason -> count,
        ``most_iterations``, ``largest_final_max_abs_gradient``); None for the linear model,
        whose refits either converge or raise.
    """
    actual: np.ndarray               # rows x targets: actual change of each target's loss
    rows: np.ndarray                 # train rows left out
    target_task: List[str]
    target_row: np.ndarray
    refit_stops: Optional[dict] = None


@dataclass
class TaskRelatedness:
    """Task x task relatedness: ``matrix[l, k]`` = change of task k's test loss if task l were removed.

    Attributes
    ----------
    matrix : numpy.ndarray
        K sources x T targets; > 0: the source helps the target.
    method : str
        ``'mtif'``, ``'newton'`` or ``'retrain'``.
    sources : list of str
        Task label of each row of the matrix.
    target_task : list of str
        Task label of each column.
    refit_stops : dict or None
        Networks: how the warm-started refits ended (``refits``, ``stopped_by`` reason -> count,
        ``most_iterations``, ``largest_final_max_abs_gradient``); None for the linear model,
        whose refits either converge or raise.
    """
    matrix: np.ndarray               # K sources x T targets; > 0: source helps target
    method: str
    sources: List[str]
    target_task: List[str]
    refit_stops: Optional[dict] = None


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
class TaskGrouping:
    """Groups of tasks for each budget g, one linear model per group (as ``mtif group``).

    ``groups[g]``: the partition into g groups (lists of task labels); ``test_loss[g]``: each
    task's mean test loss under its group's model, in ``tasks`` order; ``all_tasks`` and
    ``single_task``: the same under one model for all tasks and one model per task.
    ``affinity[k, l]`` = benefit to task k of training with task l (the relatedness matrix
    transposed); ``objective[g]``: the sum over tasks of the mean affinity from the other
    members of its group, which the search maximised.
    """
    tasks: List[str]
    affinity: np.ndarray
    groups: Dict[int, List[List[str]]]
    objective: Dict[int, float]
    search: Dict[int, str]
    test_loss: Dict[int, np.ndarray]
    all_tasks: np.ndarray
    single_task: np.ndarray


def group_tasks(affinity: ArrayLike, groups: int, search: str = "auto") -> Tuple[List[List[int]], float]:
    """Partition of the K tasks into ``groups`` groups maximising TAG's objective (see TaskGrouping).

    ``affinity[k, l]``: benefit to task k from task l (higher = helps); ``search``: 'auto' (exact
    branch and bound for K <= 12, greedy above), 'exact', 'brute-force' or 'greedy'.
    Returns the groups (task indices) and the objective.
    """
    r = _core.group_tasks(np.asarray(affinity, dtype=float), int(groups), search)
    return [list(g) for g in r["groups"]], float(r["objective"])


@dataclass
class LdsResult:
    """Linear datamodeling score: do summed row scores predict the effect of removing random subsets?

    Attributes
    ----------
    per_target : numpy.ndarray
        Spearman correlation over the subsets, per target.
    mean : float
        Mean of ``per_target``.
    predicted, actual : numpy.ndarray
        Subsets x targets: the summed scores of the removed rows, and the refits' loss changes.
    target_task : list of str
        Task label of each target.
    target_row : numpy.ndarray
        Test row of each target (0-based, file order), -1 for a task target.
    refit_stops : dict or None
        Networks: how the warm-started refits ended (``refits``, ``stopped_by`` reason -> count,
        ``most_iterations``, ``largest_final_max_abs_gradient``); None for the linear model,
        whose refits either converge or raise.
    """
    per_target: np.ndarray           # Spearman per target over the subsets
    mean: float
    predicted: np.ndarray            # subsets x targets
    actual: np.ndarray
    target_task: List[str]
    target_row: Optional[np.ndarray] = None
    refit_stops: Optional[dict] = None


# -- the model -------------------------------------------------------------------

class LinearMultitask:
    """The linear multitask model ``f_k(x) = x^T (gamma + theta_k)`` (Evgeniou-Pontil).

    It minimises ``sum_k [(1/n_k) sum_i loss(f_k(x_ki), y_ki) + lambda_task/2 |theta_k|^2]
    + lambda_shared/2 |gamma|^2`` and factors its block Hessian once, so that
    every later call (influence, relatedness, refits) reuses it. The numbers
    are the CLI's: ``mtif influence`` on the same data gives the same scores.

    Parameters
    ----------
    loss : {'squared', 'logistic'}
        ``--loss``; the logistic loss needs 0/1 targets.
    lambda_task : float
        ``--lambda-task``: penalty on each task's own weights ``theta_k`` (> 0).
    lambda_shared : float
        ``--lambda-shared``: penalty on the shared weights ``gamma`` (> 0).
    intercept : bool
        ``--intercept``: add a constant-1 feature, penalised like the others.

    Attributes
    ----------
    gamma_ : numpy.ndarray
        Shared weights, shape (d,), after :meth:`LinearMultitask.fit`.
    theta_ : numpy.ndarray
        Task weights, K x d.
    task_names_ : list of str
        The training tasks.
    n_iter_ : int
        Newton iterations of the fit.
    timings_ : dict
        Seconds spent inside C++ per phase (fit, factor, score, ...).
    warnings_ : list of str
        Warnings of the factorisation (ill-conditioned blocks).

    Examples
    --------
    >>> model = mtif.LinearMultitask(lambda_task=1.0, lambda_shared=1.0).fit(train)
    >>> s = model.influence(test)               # rows x tasks
    >>> R = model.relatedness(test, "newton")   # R.matrix[l, k] > 0: task l helps task k
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
        """The constructor's parameters (scikit-learn convention)."""
        return {"loss": self.loss, "lambda_task": self.lambda_task, "lambda_shared": self.lambda_shared,
                "intercept": self.intercept}

    def set_params(self, **params) -> "LinearMultitask":
        """Changes constructor parameters; the model must be fitted again."""
        for name, value in params.items():
            if name not in self.get_params():
                raise ValueError(f"unknown parameter {name!r}")
            setattr(self, name, value)
        self._engine = None
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"LinearMultitask({args})"

    def fit(self, train: Dataset) -> "LinearMultitask":
        """Fits the model to ``train`` (Newton's method) and factors its block Hessian; returns self."""
        engine = _core.LinearEngine(self.loss, float(self.lambda_task), float(self.lambda_shared), bool(self.intercept))
        engine.fit(train._core)
        self._engine = engine
        self.task_names_ = train.task_names
        return self

    @property
    def engine(self) -> _core.LinearEngine:
        """The fitted C++ engine (RuntimeError before :meth:`LinearMultitask.fit`)."""
        if self._engine is None:
            raise RuntimeError("the model is not fitted: call fit(train) first")
        return self._engine

    @property
    def gamma_(self) -> np.ndarray:
        """Shared weights gamma, shape (features,)."""
        return self.engine.gamma

    @property
    def theta_(self) -> np.ndarray:
        """Task weights theta_k, tasks x features."""
        return self.engine.theta

    @property
    def n_iter_(self) -> int:
        """Newton iterations of the fit."""
        return self.engine.n_iter

    @property
    def timings_(self) -> Dict[str, float]:
        """Seconds spent inside C++ per phase (fit, factor, score, ...)."""
        return dict(self.engine.timings)

    @property
    def warnings_(self) -> List[str]:
        """Warnings of the factorisation (ill-conditioned blocks)."""
        return list(self.engine.warnings)

    def predict(self, data: Dataset) -> np.ndarray:
        """f_k(x) for each row of ``data`` (its own task's weights), file order."""
        return self.engine.predict(data._core)

    def score(self, data: Dataset) -> np.ndarray:
        """Mean loss of each task on ``data`` (NaN for a task without rows)."""
        return self.engine.task_loss(data._core)

    def influence(self, test: Dataset, targets: str = "tasks", mode: str = "first-order",
                  parts: bool = True) -> Influence:
        """Scores every training row against every target: ``loss_change_if_removed``.

        Parameters
        ----------
        test : Dataset
            Defines the targets (read ``like`` the training set).
        targets : {'tasks', 'rows'}
            ``'tasks'``: each task's mean test loss (train rows x K);
            ``'rows'``: each test row's loss (train rows x test rows).
        mode : {'first-order', 'exact'}
            ``'exact'`` adds the leverage correction and the second-order loss
            change: equal to retraining without the row for the squared loss,
            one Newton step for the logistic loss.
        parts : bool
            Also return the task and shared parts (two more n x T matrices).

        Returns
        -------
        Influence
        """
        r = self.engine.influence(test._core, targets, mode, parts)
        return Influence(total=r["total"], task_part=r["task_part"], shared_part=r["shared_part"],
                         train_task=r["train_task"], target_task=list(r["target_task"]),
                         target_row=np.asarray(r["target_row"]), task_names=self.task_names_, mode=mode,
                         leverage=r.get("leverage"))

    def loo(self, test: Dataset, rows: Union[str, Sequence[int]] = "all", targets: str = "tasks") -> LeaveOneOut:
        """Refits without each of ``rows`` and returns the actual change of each target's loss.

        Parameters
        ----------
        test : Dataset
            Defines the targets.
        rows : str or sequence of int
            A spec like ``'0-99,250'`` or ``'all'`` (as ``mtif loo --rows``), or row indices.
        targets : {'tasks', 'rows'}
            As in :meth:`LinearMultitask.influence`.

        Returns
        -------
        LeaveOneOut
        """
        n = self.engine_train_rows()
        idx = _core.parse_row_spec(rows, n) if isinstance(rows, str) else [int(r) for r in rows]
        r = self.engine.loo(test._core, idx, targets)
        return LeaveOneOut(actual=r["actual"], rows=np.asarray(r["rows"]), target_task=list(r["target_task"]),
                           target_row=np.asarray(r["target_row"]))

    def relatedness(self, test: Dataset, method: str = "mtif") -> TaskRelatedness:
        """The K x K task matrix: ``R[l, k]`` = change of task k's test loss if task l were removed.

        Parameters
        ----------
        test : Dataset
            Whose per-task losses are the targets.
        method : {'mtif', 'newton', 'retrain'}
            ``'mtif'``: the sum of the first-order scores of task l's rows;
            ``'newton'``: one Newton step without the task (exact for the
            squared loss); ``'retrain'``: brute-force refits.

        Returns
        -------
        TaskRelatedness
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

    def subset_losses(self, test: Dataset, keep: ArrayLike, method: str = "newton", projection_dim: int = 100,
                      seed: int = 1) -> np.ndarray:
        """Each target's test loss after training on each subset (keep: subsets x K booleans)."""
        keep = [[bool(v) for v in row] for row in np.asarray(keep, dtype=bool)]
        return np.asarray(self.engine.subset_losses(test._core, keep, method, int(projection_dim), int(seed)))

    def lds(self, test: Dataset, subsets: int = 50, keep: float = 0.5, seed: int = 0,
            targets: str = "tasks") -> LdsResult:
        """Linear datamodeling score, as ``mtif lds``.

        Draws ``subsets`` random subsets keeping a fraction ``keep`` of every
        task's rows, refits on each, and correlates (Spearman, per target) the
        summed scores of the removed rows with the actual loss changes.
        ``targets``: 'tasks' (each task's mean test loss) or 'rows' (each test
        row's loss: one LDS per test row).

        Returns
        -------
        LdsResult
        """
        r = self.engine.lds(test._core, int(subsets), float(keep), int(seed), targets)
        return LdsResult(per_target=r["per_target"], mean=float(r["mean"]), predicted=r["predicted"],
                         actual=r["actual"], target_task=list(r["target_task"]),
                         target_row=np.asarray(r["target_row"]))

    def group(self, test: Dataset, groups: Union[int, Sequence[int]], relatedness: Optional[TaskRelatedness] = None,
              method: str = "newton", valid: Optional[Dataset] = None, search: str = "auto") -> TaskGrouping:
        """Groups of tasks and their test losses, as ``mtif group``.

        The affinity is ``relatedness`` (any TaskRelatedness, e.g. from another measure) or
        ``self.relatedness(valid or test, method)`` (``method`` 'surrogate' or
        'gradient-estimate': :meth:`surrogate` with Newton / gradient losses). Give ``valid``
        so that the groups are not chosen on the test rows that judge them. Each group's model
        is this model refitted on the group's tasks alone (same penalties).
        """
        budgets = [int(groups)] if np.isscalar(groups) else [int(g) for g in groups]
        chooser = valid if valid is not None else test
        if relatedness is None:
            if method in ("surrogate", "gradient-estimate"):
                relatedness = self.surrogate(chooser, subset_losses="newton" if method == "surrogate" else "gradient")
            else:
                relatedness = self.relatedness(chooser, method)
        tasks = list(relatedness.sources)
        if list(relatedness.target_task) != tasks or tasks != list(self.task_names_):
            raise ValueError("group needs a square relatedness matrix over the model's tasks, in its order")
        affinity = np.asarray(relatedness.matrix, dtype=float).T
        K = len(tasks)
        each = self.subset_losses(test, np.eye(K, dtype=bool), method="retrain")
        out = TaskGrouping(tasks=tasks, affinity=affinity, groups={}, objective={}, search={}, test_loss={},
                           all_tasks=np.asarray(self.score(test)), single_task=np.diag(each).copy())
        for g in budgets:
            r = _core.group_tasks(affinity, g, search)
            keep = np.zeros((len(r["groups"]), K), dtype=bool)
            for c, members in enumerate(r["groups"]):
                keep[c, list(members)] = True
            losses = self.subset_losses(test, keep, method="retrain")
            loss = np.empty(K)
            for c, members in enumerate(r["groups"]):
                loss[list(members)] = losses[c, list(members)]
            out.groups[g] = [[tasks[k] for k in members] for members in r["groups"]]
            out.objective[g], out.search[g], out.test_loss[g] = float(r["objective"]), r["search"], loss
        return out

    # `select` (issue 4) will be one more method here over _core, like lds().

    def engine_train_rows(self) -> int:
        """Number of training rows of the fit."""
        return int(self.engine.train_rows)


def lds(model: LinearMultitask, test: Dataset, subsets: int = 50, keep: float = 0.5, seed: int = 0,
        targets: str = "tasks") -> LdsResult:
    """Function form of :meth:`LinearMultitask.lds`."""
    return model.lds(test, subsets=subsets, keep=keep, seed=seed, targets=targets)


def group(model: LinearMultitask, test: Dataset, groups: Union[int, Sequence[int]], **kwargs) -> TaskGrouping:
    """Function form of :meth:`LinearMultitask.group`."""
    return model.group(test, groups, **kwargs)
