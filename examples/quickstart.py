# %% [markdown]
# # mtif quickstart: which rows and which tasks help or hurt each task?
#
# Run it cell by cell in an editor that understands `# %%` cells, or as a script:
#
#     build/mtif demo                          # writes mtif-demo/train.csv, test.csv, truth.csv
#     scripts/python.sh examples/quickstart.py
#
# Sign convention everywhere: a score is `loss_change_if_removed`, the change of
# the target's test loss if the row (or task) were removed. Positive = it HELPS
# the target, negative = it HURTS.

# %%
import sys
from pathlib import Path

import numpy as np

import mtif

data = Path(sys.argv[1] if len(sys.argv) > 1 else "mtif-demo")
if not (data / "train.csv").exists():
    sys.exit(f"{data}/train.csv not found: run `build/mtif demo` first (or pass a folder)")

# %% Read the data exactly as the CLI does (`--train ... --test ...`).
train, test = mtif.read_csv(str(data / "train.csv"), str(data / "test.csv"))
print(train)   # Dataset('.../train.csv': 720 rows, 6 tasks, 8 features)

# %% Fit the linear multitask model f_k(x) = x^T (gamma + theta_k).
# Same parameters and defaults as the CLI flags --loss, --lambda-task, --lambda-shared, --intercept.
model = mtif.LinearMultitask(loss="squared", lambda_task=1.0, lambda_shared=1.0).fit(train)
print(model, "fitted in", model.n_iter_, "Newton iteration(s)")

# %% Score every training row against every task's mean test loss.
s = model.influence(test)                  # mode="exact" for leave-one-out equal to retraining
print("scores:", s.total.shape, "(train rows x tasks)")
# The score splits into a task part (the row's own task only) and a shared part.
assert np.allclose(s.task_part + s.shared_part, s.total)

# %% The rows that hurt each task most (for the demo: mostly the corrupted labels).
for k, name in enumerate(s.target_task):
    worst = s.top(k, k=5, helpful=False)
    print(f"{name}: most harmful train rows {list(worst)}  scores {np.round(s.total[worst, k], 5)}")

# %% Check the first-order scores against real retraining for a few rows.
loo = model.loo(test, rows="0-29")
pred = s.total[loo.rows]
print("Pearson(predicted, actual) over 30 refits:", np.corrcoef(pred.ravel(), loo.actual.ravel())[0, 1].round(4))

# %% Task relatedness: R[l, k] = change of task k's loss if task l were removed.
R = model.relatedness(test, method="newton")   # also "mtif" (sum of row scores) or "retrain"
print("removed \\ on " + " ".join(f"{t:>9}" for t in R.target_task))
for l, src in enumerate(R.sources):
    print(f"{src:>12} " + " ".join(f"{v:>+9.2e}" for v in R.matrix[l]))
hurts = [src for l, src in enumerate(R.sources)
         if np.all(np.delete(R.matrix[l], R.target_task.index(src)) < 0)]
print("tasks that hurt every other task (negative transfer):", hurts)

# %% Do summed row scores predict removing random halves of the data? (linear datamodeling score)
lds = mtif.lds(model, test, subsets=20, keep=0.5, seed=0)
print("LDS per task:", np.round(lds.per_target, 3), "mean", round(lds.mean, 3))
