"""EK-FAC on a multitask CNN at 60,000 images against one training epoch (issue 12).

    /usr/bin/python3 bench/ekfac_cnn.py DATA_DIR MTIF OUT.json

DATA_DIR: `mtif images --pool 2 --disjoint --train-pos 3000 --train-neg 3000 ...` (60,000
Fashion-MNIST training images, 10 one-vs-rest tasks, 14x14). Trains the CNN of
examples/own_model.py for one epoch in plain PyTorch (float64, minibatch 64, the
per-task averaged objective), saves it as TorchScript, then runs
`mtif influence --model torchscript --solver ekfac` on it and reads the EK-FAC
factorisation time from the run summary. Same process, same machine, one after the other.
"""
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn



class Cnn(nn.Module):
    """examples/own_model.py's CNN: Conv2d(1, 4, 3) - tanh - pool - Linear(., 16) - tanh, one head per task."""

    def __init__(self, side: int, tasks: int):
        super().__init__()
        self.side = side
        self.trunk = nn.Sequential(nn.Conv2d(1, 4, kernel_size=3), nn.Tanh(), nn.AvgPool2d(2), nn.Flatten(),
                                   nn.Linear(4 * ((side - 2) // 2) ** 2, 16), nn.Tanh())
        self.heads = nn.ModuleList([nn.Linear(16, 1) for _ in range(tasks)])

    def forward(self, x: torch.Tensor, task: torch.Tensor) -> torch.Tensor:
        h = self.trunk(x.view(-1, 1, self.side, self.side))
        out = h.new_zeros([x.size(0), 1])
        for k, head in enumerate(self.heads):
            rows = (task == k).nonzero().squeeze(1)
            out = out.index_add(0, rows, head(h.index_select(0, rows)))
        return out


def read(path):
    with open(path) as f:
        header = f.readline().strip().split(",")
    raw = np.genfromtxt(path, delimiter=",", skip_header=1, dtype=str)
    tasks = sorted(set(raw[:, header.index("task")]), key=lambda t: [int(p) if p.isdigit() else p for p in t])
    task = np.array([tasks.index(t) for t in raw[:, header.index("task")]])
    y = raw[:, header.index("y")].astype(float)
    x = raw[:, [i for i, h in enumerate(header) if h.startswith("px")]].astype(float)
    return x, y, task, len(tasks)


def main(data, mtif, out):
    x, y, task, tasks = read(f"{data}/train.csv")
    side = int(round(x.shape[1] ** 0.5))
    torch.manual_seed(0)
    net = Cnn(side, tasks).double()
    X, Y, T = torch.tensor(x), torch.tensor(y), torch.tensor(task)
    per_task = torch.bincount(T).double()
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    start = time.time()
    for batch in torch.randperm(len(Y)).split(64):
        opt.zero_grad()
        rows = nn.functional.binary_cross_entropy_with_logits(net(X[batch], T[batch]).squeeze(1), Y[batch],
                                                              reduction="none")
        loss = (rows / per_task[T[batch]]).sum() * len(Y) / (len(batch) * tasks)
        (loss + 0.01 / 2 * sum((p ** 2).sum() for p in net.parameters())).backward()
        opt.step()
    epoch_s = time.time() - start
    torch.jit.save(torch.jit.script(net), f"{data}/cnn.pt")
    start = time.time()
    subprocess.run([mtif, "influence", "--model", "torchscript", "--module", f"{data}/cnn.pt", "--loss", "logistic",
                    "--weight-decay", "0.01", "--solver", "ekfac", "--train", f"{data}/train.csv", "--test",
                    f"{data}/test.csv", "--out", f"{data}/scores.npy", "--json", f"{data}/run.json", "-q"], check=True)
    whole_s = time.time() - start
    run = json.load(open(f"{data}/run.json"))
    result = {"train_rows": int(len(Y)), "tasks": tasks, "image_side": side, "epoch_s": epoch_s,
              "ekfac_factor_s": run["timings"]["curvature_s"], "score_s": run["timings"]["score_s"],
              "mtif_whole_process_s": whole_s, "warnings": run["warnings"],
              "ratio_factor_to_epoch": run["timings"]["curvature_s"] / epoch_s,
              "note": "one epoch = Adam, minibatch 64, float64, plain PyTorch (1.13, Debian); mtif float64"}
    Path(out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main(*sys.argv[1:4])
