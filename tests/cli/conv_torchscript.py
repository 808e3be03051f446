"""Writes a small multitask CNN as TorchScript, for the EK-FAC checks of torchscript.sh.

    /usr/bin/python3 conv_torchscript.py OUT.pt TASKS SIDE [--norm]

Trunk: Conv2d(1, 2, 3, padding 1) - tanh - 2x2 average pool - Linear - tanh
(with --norm a LayerNorm after the Linear: parameters EK-FAC cannot cover);
one nn.Linear head per task. Inputs are SIDE x SIDE images as rows of pixels.
"""
import sys

import torch
from torch import nn


class ConvNet(nn.Module):
    def __init__(self, tasks: int, side: int, norm: bool):
        super().__init__()
        self.side = side
        layers = [nn.Conv2d(1, 2, 3, padding=1), nn.Tanh(), nn.AvgPool2d(2), nn.Flatten(),
                  nn.Linear(2 * (side // 2) ** 2, 3)]
        if norm:
            layers.append(nn.LayerNorm(3))
        self.trunk = nn.Sequential(*layers, nn.Tanh())
        self.heads = nn.ModuleList([nn.Linear(3, 1) for _ in range(tasks)])

    def forward(self, x: torch.Tensor, task: torch.Tensor) -> torch.Tensor:
        h = self.trunk(x.view(-1, 1, self.side, self.side))
        out = h.new_zeros([x.size(0), 1])
        for k, head in enumerate(self.heads):
            rows = (task == k).nonzero().squeeze(1)
            out = out.index_add(0, rows, head(h.index_select(0, rows)))
        return out


if __name__ == "__main__":
    torch.manual_seed(0)
    net = ConvNet(int(sys.argv[2]), int(sys.argv[3]), "--norm" in sys.argv).double()
    torch.jit.save(torch.jit.script(net), sys.argv[1])
