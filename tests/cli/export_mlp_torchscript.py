"""Writes a built-in network saved by `mtif fit --model mlp --save M.json` as TorchScript.

    /usr/bin/python3 export_mlp_torchscript.py M.json OUT.pt

The module is plain PyTorch (nn.Sequential trunk, nn.ModuleList heads, so its
parameters are named trunk.* and heads.<k>.*, mtif's default patterns) with
the JSON's weights: `--model torchscript --module OUT.pt` must then score
exactly as `--model mlp --model-file M.json`.
"""
import json
import sys
from typing import List

import torch
from torch import nn

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "gelu": nn.GELU}


class SharedBottom(nn.Module):
    def __init__(self, inputs: int, hidden: List[int], activation: str, tasks: int, outputs: int):
        super().__init__()
        layers: List[nn.Module] = []
        for width in hidden:
            layers += [nn.Linear(inputs, width), ACTIVATIONS[activation]()]
            inputs = width
        self.trunk = nn.Sequential(*layers)
        self.heads = nn.ModuleList([nn.Linear(inputs, outputs) for _ in range(tasks)])
        self.outputs = outputs

    def forward(self, x: torch.Tensor, task: torch.Tensor) -> torch.Tensor:
        h = self.trunk(x)
        out = h.new_zeros([x.size(0), self.outputs])
        for k, head in enumerate(self.heads):
            rows = (task == k).nonzero().squeeze(1)
            out = out.index_add(0, rows, head(h.index_select(0, rows)))
        return out


def load_flat(linears: List[nn.Linear], flat: List[float]) -> None:
    """mtif's flattening: per layer W (out x in, row-major), then b."""
    values = torch.tensor(flat, dtype=torch.float64)
    offset = 0
    for layer in linears:
        for p in (layer.weight, layer.bias):
            p.data.copy_(values[offset:offset + p.numel()].view_as(p))
            offset += p.numel()
    assert offset == values.numel(), "parameter count does not match"


def main(model_path: str, out_path: str) -> None:
    model = json.load(open(model_path))
    config = model["config"]
    outputs = config["classes"] if config["loss"] == "softmax" else 1
    net = SharedBottom(int(model["inputs"]), config["hidden"], config["activation"], len(model["task_names"]),
                       outputs).double()
    load_flat([m for m in net.trunk if isinstance(m, nn.Linear)], model["trunk"])
    for head, flat in zip(net.heads, model["heads"]):
        load_flat([head], flat)
    torch.jit.save(torch.jit.script(net), out_path)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
