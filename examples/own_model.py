# %% [markdown]
# # Your own multitask network: a small CNN in PyTorch, attributed by mtif
#
#     scripts/fetch_data.sh --images                  # Fashion-MNIST from Debian's dataset package
#     build/mtif images --source fashion-mnist --pool 2 --train-pos 70 --train-neg 70 \
#         --test-pos 50 --test-neg 50 --seed 1 --out-dir fm14
#     scripts/python.sh examples/own_model.py fm14 [--tasks 4] [--loo-rows 500] [--json out.json]
#
# 1. define a multitask CNN (a convolutional trunk shared by all tasks, one linear
#    head per task) and train it in plain PyTorch;
# 2. score it with mtif from Python (mtif.TorchMultitask), and check the scores
#    against real leave-one-out refits and leave-one-task-out retraining;
# 3. save it as TorchScript and score the same file with the CLI
#    (`mtif influence --model torchscript --module cnn.pt`): the same numbers.
#
# Sign convention: a score is the change of the target's test loss if the row
# were removed; positive = the row HELPS the target.

# %%
import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import List

import numpy as np
import torch
from torch import nn

import mtif

parser = argparse.ArgumentParser()
parser.add_argument("data", nargs="?", default="fm14", help="folder written by `mtif images --pool 2`")
parser.add_argument("--tasks", type=int, default=4, help="use the first TASKS one-vs-rest tasks")
parser.add_argument("--loo-rows", type=int, default=500, help="leave-one-out refits to check the scores on")
parser.add_argument("--epochs", type=int, default=60)
parser.add_argument("--retrain-steps", type=int, default=300, help="L-BFGS iterations per warm-started refit")
parser.add_argument("--lds-subsets", type=int, default=30, help="random half-data refits per LDS seed (0: skip)")
parser.add_argument("--lds-seeds", type=int, default=3)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--curvature", default="hessian", choices=["hessian", "ggn"],
                    help="hessian: the refits' own local response; ggn: Gauss-Newton, positive semi-definite "
                         "everywhere but blind to the network's own second derivatives")
parser.add_argument("--damping", type=float, default=0.0)
parser.add_argument("--mtif", default=str(Path(__file__).resolve().parents[1] / "build" / "mtif"))
parser.add_argument("--json", help="write the measured numbers here")
args = parser.parse_args()
data = Path(args.data)
if not (data / "train.csv").exists():
    sys.exit(f"{data}/train.csv not found: run `mtif images --pool 2 ... --out-dir {data}` first")


# %% Keep the first tasks (a smaller problem runs the refits in minutes).
def first_tasks(path: Path, keep: List[str], out: Path) -> Path:
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    column = header.index("task")
    kept = [lines[0]] + [l for l in lines[1:] if l.split(",")[column].strip('"') in keep]
    out.write_text("\n".join(kept) + "\n")
    return out


full_train = mtif.Dataset.from_csv(str(data / "train.csv"))
keep = full_train.task_names[: args.tasks]
work = Path(data / f"first{args.tasks}")
work.mkdir(exist_ok=True)
train_csv = first_tasks(data / "train.csv", keep, work / "train.csv")
test_csv = first_tasks(data / "test.csv", keep, work / "test.csv")
train, test = mtif.read_csv(str(train_csv), str(test_csv))
side = int(round(train.n_features ** 0.5))
print(train, f"images {side}x{side}, tasks {train.task_names}")


# %% A multitask CNN. mtif calls `forward(x, task)` with x = rows x pixels
# (float64) and task = each row's task index, and wants each row's logit from
# its own task's head. Parameter names decide what is shared: `trunk.*` is
# gamma, `heads.<k>.*` is theta_k (mtif's default patterns).
class MultitaskCNN(nn.Module):
    def __init__(self, side: int, tasks: int, channels: int = 4, hidden: int = 16):
        super().__init__()
        self.side = side
        self.trunk = nn.Sequential(
            nn.Conv2d(1, channels, kernel_size=3), nn.Tanh(), nn.AvgPool2d(2), nn.Flatten(),
            nn.Linear(channels * ((side - 2) // 2) ** 2, hidden), nn.Tanh())
        self.heads = nn.ModuleList([nn.Linear(hidden, 1) for _ in range(tasks)])

    def forward(self, x: torch.Tensor, task: torch.Tensor) -> torch.Tensor:
        h = self.trunk(x.view(-1, 1, self.side, self.side))
        out = h.new_zeros([x.size(0), 1])
        for k, head in enumerate(self.heads):
            rows = (task == k).nonzero().squeeze(1)
            out = out.index_add(0, rows, head(h.index_select(0, rows)))
        return out


# %% Train it in plain PyTorch: Adam on the per-task averaged logistic loss
# plus weight decay, the objective mtif attributes (docs/mtif-math.md 1).
weight_decay = 1e-2
torch.manual_seed(args.seed)
net = MultitaskCNN(side, train.n_tasks).double()
x, y = torch.tensor(train.X), torch.tensor(train.y)
task = torch.tensor(train.task, dtype=torch.int64)
per_task = torch.bincount(task).double()
optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
start = time.time()
for epoch in range(args.epochs):
    for batch in torch.randperm(len(y)).split(64):
        optimizer.zero_grad()
        rows = nn.functional.binary_cross_entropy_with_logits(net(x[batch], task[batch]).squeeze(1), y[batch],
                                                              reduction="none")
        # each row weighs 1 / n_k (scaled to the batch), so tasks count equally
        loss = (rows / per_task[task[batch]]).sum() * len(y) / (len(batch) * train.n_tasks)
        loss = loss + weight_decay / 2 * sum((p ** 2).sum() for p in net.parameters())
        loss.backward()
        optimizer.step()
epoch_seconds = (time.time() - start) / args.epochs
print(f"trained {args.epochs} epochs in plain PyTorch ({epoch_seconds:.3f} s per epoch)")

# %% Score it with mtif. weights="polish" runs full-batch L-BFGS from the
# trained weights to a stationary point first (influence functions assume
# one; weights="as-is" attributes the weights exactly as they are and warns
# when the gradient is far from zero). curvature="hessian" (the default of
# this script): at a polished minimum the Hessian is what the refits answer to;
# Gauss-Newton drops the CNN's own second derivatives and ranks LOO effects far
# worse here (Spearman 0.52 vs 0.93; docs/results/own-models.md).
model = mtif.TorchMultitask(net, loss="logistic", weight_decay=weight_decay, weights="polish",
                            solver="cg", curvature=args.curvature, damping=args.damping,
                            retrain_steps=args.retrain_steps)
start = time.time()
model.fit(train)
scores = model.influence(test)
influence_seconds = time.time() - start
print(model.description_, f"| max |gradient| {model.max_abs_gradient_:.1e} | scored in {influence_seconds:.1f} s")
for w in model.warnings_:
    print("warning:", w)
helps = scores.top(0, k=5)
print(f"rows that help task {train.task_names[0]} most:", helps.tolist())


# %% The same network from the command line: save it, score the file.
model.save(str(work / "cnn.pt"))  # the polished weights
subprocess.run([args.mtif, "influence", "--model", "torchscript", "--module", str(work / "cnn.pt"),
                "--loss", "logistic", "--weight-decay", str(weight_decay), "--solver", "cg",
                "--curvature", args.curvature, "--damping", str(args.damping),
                "--train", str(train_csv), "--test", str(test_csv), "--out", str(work / "cli.npy"), "-q"],
               check=True)
cli = np.load(work / "cli.npy")
cli_gap = float(np.abs(cli - scores.total).max() / np.abs(scores.total).max())
print(f"CLI on cnn.pt vs Python: max relative difference {cli_gap:.1e}")

# %% Check against the truth: leave-one-out refits (warm-started L-BFGS).
def spearman(a, b):
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


rows = f"0-{min(args.loo_rows, train.n_rows) - 1}"
start = time.time()
loo = model.loo(test, rows=rows)
loo_seconds = time.time() - start
predicted = scores.total[loo.rows]
same_task = scores.train_task[loo.rows][:, None] == np.arange(train.n_tasks)[None, :]
result = {
    "data": str(data), "tasks": train.task_names, "train_rows": train.n_rows, "test_rows": test.n_rows,
    "image_side": side, "parameters": model.description_, "max_abs_gradient": model.max_abs_gradient_,
    "loo_refits": len(loo.rows), "loo_seconds": loo_seconds, "epoch_seconds": epoch_seconds,
    "spearman_all": spearman(predicted.ravel(), loo.actual.ravel()),
    "spearman_within_task": spearman(predicted[same_task], loo.actual[same_task]),
    "spearman_between_task": spearman(predicted[~same_task], loo.actual[~same_task]),
    "cli_max_relative_difference": cli_gap, "retrain_steps": args.retrain_steps,
    "solver": "cg", "curvature": args.curvature, "damping": args.damping,
}
print(f"{len(loo.rows)} LOO refits in {loo_seconds:.0f} s: Spearman all {result['spearman_all']:.3f}, "
      f"within-task {result['spearman_within_task']:.3f}, between-task {result['spearman_between_task']:.3f}")

# %% Task relatedness: MTIF against brute-force leave-one-task-out retraining.
R = model.relatedness(test, "mtif").matrix
truth = model.relatedness(test, "retrain").matrix
result["relatedness_spearman"] = spearman(R.ravel(), truth.ravel())
print(f"task relatedness, MTIF vs retraining without each task: Spearman {result['relatedness_spearman']:.3f}")

# %% Linear datamodeling score: do summed row scores predict the test losses of
# models refitted on random halves of the data? One value per seed.
if args.lds_subsets:
    result["lds"] = {}
    for seed in range(args.lds_seeds):
        lds = model.lds(test, subsets=args.lds_subsets, keep=0.5, seed=seed)
        result["lds"][str(seed)] = {"mean": lds.mean, "per_task": lds.per_target.tolist()}
        print(f"LDS seed {seed} ({args.lds_subsets} half-data refits): mean {lds.mean:.3f}")

if args.json:
    Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
