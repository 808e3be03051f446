"""Writes modules that break the --model torchscript contract, for torchscript.sh.

    /usr/bin/python3 bad_torchscript_modules.py FOLDER

FOLDER/wide.pt returns two columns per row; FOLDER/nan.pt returns NaN. Both
have 5 inputs and 3 heads named like mtif's default patterns.
"""
import sys

import torch
from torch import nn


class Broken(nn.Module):
    def __init__(self, mode: int):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(5, 4), nn.Tanh())
        self.heads = nn.ModuleList([nn.Linear(4, 1) for _ in range(3)])
        self.mode = mode

    def forward(self, x: torch.Tensor, task: torch.Tensor) -> torch.Tensor:
        h = self.trunk(x)
        out = h.new_zeros([x.size(0), 1])
        for k, head in enumerate(self.heads):
            rows = (task == k).nonzero().squeeze(1)
            out = out.index_add(0, rows, head(h.index_select(0, rows)))
        if self.mode == 1:
            return torch.cat([out, out], 1)
        if self.mode == 2:
            return out * float("nan")
        return out


if __name__ == "__main__":
    for mode, name in [(1, "wide"), (2, "nan")]:
        torch.jit.save(torch.jit.script(Broken(mode).double()), f"{sys.argv[1]}/{name}.pt")
