"""Multitask networks in mtif: your own PyTorch module, or the built-in ones.

:class:`TorchMultitask` takes a ``torch.nn.Module`` from your session, scripts
it (``torch.jit.script``) and attributes it with the same C++ engine as
``mtif ... --model torchscript --module NET.pt``; :class:`SharedBottomMLP` is
the built-in network (``--model mlp``, hard or soft sharing). Both return the
:class:`~mtif.Influence`, :class:`~mtif.LeaveOneOut`,
:class:`~mtif.TaskRelatedness` and :class:`~mtif.LdsResult` objects of
:class:`~mtif.LinearMultitask`.

The module contract (docs/interfaces.md, "TorchScript models"): a method
(``forward`` by default) ``(x: float64 rows x features, task: int64 rows) ->
rows x 1`` (rows x classes for ``loss='softmax'``), each row's prediction by its
own task's head. Parameters are sorted by fnmatch patterns on their
``named_parameters()`` names: ``shared`` (gamma), ``task_params`` with ``{k}``
for the task index (theta_k) and ``frozen``; each parameter must match
exactly one.
"""

from __future__ import annotations

import os
import tempfile
from typing import Dict, List, Optional, Sequence, Union

import numpy as np

from . import _core
from . import Dataset, Influence, LdsResult, LeaveOneOut, TaskRelatedness  # networks is imported after mtif


def _engine_module():
    try:
        from . import _torch
    except ImportError as error:  # built without LibTorch (MTIF_WITH_TORCH=OFF)
        raise ImportError(f"mtif was built without its network engine (mtif._torch): {error}") from error
    return _torch


class _NetworkMultitask:
    """What the network models share: solver settings, fit, and the analyses."""

    def __init__(self, settings: Dict, solver: str, curvature: str, damping: float, cg_iterations: int,
                 cg_tolerance: float, lissa_depth: int, lissa_scale: float, retrain_optimizer: str,
                 retrain_steps: int):
        self._settings = dict(settings, solver=solver, curvature=curvature, damping=float(damping),
                              cg_iterations=int(cg_iterations), cg_tolerance=float(cg_tolerance),
                              lissa_depth=int(lissa_depth), lissa_scale=float(lissa_scale),
                              retrain_optimizer=retrain_optimizer, retrain_steps=int(retrain_steps))
        self._engine = None

    def get_params(self, deep: bool = True) -> dict:
        """The model's settings, as given to the engine (scikit-learn convention)."""
        return dict(self._settings)

    def _fit_engine(self, settings: Dict, train: Dataset) -> None:
        engine = _engine_module().NetworkEngine(settings)
        engine.fit(train._core)
        self._engine = engine
        self.task_names_ = train.task_names

    @property
    def engine(self):
        """The C++ engine of the fitted model (mtif._torch.NetworkEngine); an error before fit."""
        if self._engine is None:
            raise RuntimeError("the model is not fitted: call fit(train) first")
        return self._engine

    max_abs_gradient_ = property(lambda self: self.engine.max_abs_gradient,
                                 doc="largest absolute entry of the objective's gradient at the weights attributed")
    description_ = property(lambda self: self.engine.description, doc="architecture and parameter counts")
    warnings_ = property(lambda self: list(self.engine.warnings),
                         doc="warnings of the fit and the solver (far from stationary, uncovered parameters)")
    timings_ = property(lambda self: dict(self.engine.timings), doc="seconds spent inside C++ per phase")

    def score(self, data: Dataset) -> np.ndarray:
        """Mean loss of each task on ``data`` (NaN for a task without rows)."""
        return self.engine.task_loss(data._core)

    def influence(self, test: Dataset, targets: str = "tasks", parts: bool = True) -> Influence:
        """First-order scores of every train row (file order) against every task or test row.

        ``targets``: 'tasks' (mean test loss of each task) or 'rows' (each test
        row's loss). ``parts=False`` skips the task/shared split.
        """
        r = self.engine.influence(test._core, targets, parts)
        return Influence(total=r["total"], task_part=r["task_part"], shared_part=r["shared_part"],
                         train_task=np.asarray(r["train_task"]), target_task=list(r["target_task"]),
                         target_row=np.asarray(r["target_row"]), task_names=self.task_names_, mode="first-order")

    def loo(self, test: Dataset, rows: Union[str, Sequence[int]] = "0-99", targets: str = "tasks") -> LeaveOneOut:
        """Actual change of each target's test loss when each row is removed and the
        network refitted, warm-started from the fit (``retrain_optimizer``, ``retrain_steps``).
        ``targets``: 'tasks' or 'rows', as for :meth:`influence`."""
        n = int(self.engine.train_rows)
        idx = _core.parse_row_spec(rows, n) if isinstance(rows, str) else [int(r) for r in rows]
        r = self.engine.loo(test._core, idx, targets)
        return LeaveOneOut(actual=r["actual"], rows=np.asarray(r["rows"]), target_task=list(r["target_task"]),
                           target_row=np.asarray(r["target_row"]), refit_stops=r["refit_stops"])

    def relatedness(self, test: Dataset, method: str = "mtif") -> TaskRelatedness:
        """K x K matrix R[l, k]: change of task k's test loss if task l were removed.

        method: 'mtif' (summed first-order scores) or 'retrain' (brute-force
        leave-one-task-out, warm-started refits).
        """
        r = self.engine.relatedness(test._core, method)
        return TaskRelatedness(matrix=r["matrix"], method=r["method"], sources=list(r["sources"]),
                               target_task=list(r["target_task"]), refit_stops=r.get("refit_stops"))

    def lds(self, test: Dataset, subsets: int = 50, keep: float = 0.5, seed: int = 0, targets: str = "tasks") -> LdsResult:
        """Linear datamodeling score against warm-started refits on random row subsets
        (``targets`` 'tasks' or 'rows': one LDS per task or per test row)."""
        r = self.engine.lds(test._core, int(subsets), float(keep), int(seed), targets)
        return LdsResult(per_target=r["per_target"], mean=float(r["mean"]), predicted=r["predicted"],
                         actual=r["actual"], target_task=list(r["target_task"]),
                         target_row=np.asarray(r["target_row"]), refit_stops=r["refit_stops"])


class TorchMultitask(_NetworkMultitask):
    """Your own multitask PyTorch network, attributed by mtif.

    ``module``: a ``torch.nn.Module`` (scripted here with ``torch.jit.script``)
    or an already scripted / traced module. ``shared`` / ``task_params`` /
    ``frozen``: parameter name patterns (see the module docstring). ``loss``:
    'squared', 'logistic' or 'softmax', applied by mtif to the module's
    outputs with the per-task averaged objective plus ``weight_decay``/2 ``|w|^2``.
    ``weights``: 'as-is' (attribute the module's weights; the usual case when
    you trained it yourself), 'polish' (``polish_steps`` of full-batch L-BFGS
    first) or 'train' (Adam/SGD from them with ``optimizer``, ``lr``,
    ``epochs``, ``batch_size``, ``seed``, then polish). Solver settings as on
    the CLI: ``solver`` exact|cg|lissa, ``curvature`` ggn|hessian, ``damping``.

    After :meth:`fit`: ``max_abs_gradient_`` (a warning in ``warnings_`` when
    above 1e-4: influence then explains the model the weights would converge
    to), :meth:`module_` (the module with the weights attributed).
    """

    def __init__(self, module: "torch.nn.Module", *, shared: Sequence[str] = ("trunk.*",), task_params: str = "heads.{k}.*",
                 frozen: Sequence[str] = (), method: str = "forward", loss: str = "logistic",
                 weight_decay: float = 1e-2, weights: str = "as-is", polish_steps: int = 500,
                 optimizer: str = "adam", lr: float = 1e-2, epochs: int = 30, batch_size: int = 64, seed: int = 0,
                 solver: str = "cg", curvature: str = "ggn", damping: float = 1e-3, cg_iterations: int = 500,
                 cg_tolerance: float = 1e-8, lissa_depth: int = 1000, lissa_scale: float = 0.0,
                 retrain_optimizer: str = "lbfgs", retrain_steps: int = 300):
        self.module = module
        settings = dict(model="torchscript", shared=list(shared), task_params=task_params, frozen=list(frozen),
                        method=method, loss=loss, weight_decay=float(weight_decay), weights=weights,
                        polish_steps=int(polish_steps), optimizer=optimizer, lr=float(lr), epochs=int(epochs),
                        batch_size=int(batch_size), seed=int(seed))
        super().__init__(settings, solver, curvature, damping, cg_iterations, cg_tolerance, lissa_depth, lissa_scale,
                         retrain_optimizer, retrain_steps)

    def __repr__(self):
        return f"TorchMultitask({type(self.module).__name__}, loss={self._settings['loss']!r}, " \
               f"weights={self._settings['weights']!r}, solver={self._settings['solver']!r})"

    def fit(self, train: Dataset) -> "TorchMultitask":
        """Scripts the module, loads it in double precision, checks the contract on
        ``train``, and brings it to the weights to attribute (``weights``)."""
        import torch  # only here: LinearMultitask users need no torch

        scripted = self.module if isinstance(self.module, torch.jit.ScriptModule) else torch.jit.script(self.module)
        with tempfile.TemporaryDirectory(prefix="mtif-module-") as folder:
            path = os.path.join(folder, "module.pt")
            torch.jit.save(scripted, path)
            self._fit_engine(dict(self._settings, module_path=path), train)
        return self

    def save(self, path: str) -> None:
        """Writes the module with the weights attributed (torch.jit.save format)."""
        self.engine.save(path)

    def module_(self) -> "torch.jit.ScriptModule":
        """The scripted module with the weights attributed (float64), as a torch object."""
        import torch

        with tempfile.TemporaryDirectory(prefix="mtif-module-") as folder:
            path = os.path.join(folder, "module.pt")
            self.engine.save(path)
            return torch.jit.load(path)


class SharedBottomMLP(_NetworkMultitask):
    """The built-in multitask network (``--model mlp``): a trunk of ``hidden``
    widths and one linear head per task (``sharing='hard'``), or one network per
    task pulled to a shared centre by ``coupling``/2 ``|trunk_k - gamma|^2``
    (``sharing='soft'``). Trained with ``optimizer`` for ``epochs``, then
    ``polish_steps`` of full-batch L-BFGS."""

    def __init__(self, *, hidden: Sequence[int] = (32,), activation: str = "tanh", loss: str = "logistic",
                 weight_decay: float = 1e-2, sharing: str = "hard", coupling: float = 1.0, optimizer: str = "adam",
                 lr: float = 1e-2, epochs: int = 30, batch_size: int = 64, seed: int = 0, polish_steps: int = 500,
                 solver: str = "cg", curvature: str = "ggn", damping: float = 1e-3, cg_iterations: int = 500,
                 cg_tolerance: float = 1e-8, lissa_depth: int = 1000, lissa_scale: float = 0.0,
                 retrain_optimizer: str = "lbfgs", retrain_steps: int = 300):
        settings = dict(model="mlp", hidden=[int(h) for h in hidden], activation=activation, loss=loss,
                        weight_decay=float(weight_decay), sharing=sharing, coupling=float(coupling),
                        optimizer=optimizer, lr=float(lr), epochs=int(epochs), batch_size=int(batch_size),
                        seed=int(seed), polish_steps=int(polish_steps))
        super().__init__(settings, solver, curvature, damping, cg_iterations, cg_tolerance, lissa_depth, lissa_scale,
                         retrain_optimizer, retrain_steps)

    def __repr__(self):
        s = self._settings
        return f"SharedBottomMLP(hidden={s['hidden']}, loss={s['loss']!r}, sharing={s['sharing']!r})"

    def fit(self, train: Dataset) -> "SharedBottomMLP":
        """Trains the network on ``train`` (then polishes it)."""
        self._fit_engine(self._settings, train)
        return self
