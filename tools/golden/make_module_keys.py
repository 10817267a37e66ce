"""Writes test/fixtures/module-keys.json: PyTorch's state-dict keys, parameter and buffer names and
reprs for the container structures test/nn/containers.test.ts builds the same way.

    /usr/bin/python3 tools/golden/make_module_keys.py
"""
import json
import os

import torch
import torch.nn as nn

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "module-keys.json")


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)])
        self.blocks = nn.ModuleDict({"attn": nn.Linear(2, 2), "norm": nn.BatchNorm1d(2)})
        self.params = nn.ParameterList([nn.Parameter(torch.zeros(3)), nn.Parameter(torch.zeros(2, 2))])
        self.pdict = nn.ParameterDict({"weight": nn.Parameter(torch.zeros(2)), "bias": nn.Parameter(torch.zeros(2))})
        self.register_buffer("step", torch.zeros(1))
        self.register_buffer("cache", torch.zeros(2), persistent=False)
        self.scale = nn.Parameter(torch.ones(1))


class Nested(nn.Module):
    def __init__(self):
        super().__init__()
        self.stages = nn.ModuleList([nn.Sequential(nn.Linear(2, 2), nn.ReLU()), nn.ModuleList([nn.Linear(2, 1)])])
        self.heads = nn.ModuleDict({"a": nn.ModuleDict({"b": nn.Linear(1, 1, bias=False)})})


def describe(model):
    return {
        "stateDict": list(model.state_dict().keys()),
        "namedParameters": [n for n, _ in model.named_parameters()],
        "namedBuffers": [n for n, _ in model.named_buffers()],
        "namedModules": [n for n, _ in model.named_modules()],
        "namedChildren": [n for n, _ in model.named_children()],
        "repr": repr(model),
    }


def main():
    lst = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])
    lst.insert(0, nn.ReLU())
    lst.insert(2, nn.Tanh())
    result = {
        "Net": describe(Net()),
        "Nested": describe(Nested()),
        "insert": describe(lst),
        "ParameterList": repr(nn.ParameterList([nn.Parameter(torch.zeros(3)), nn.Parameter(torch.zeros(2, 2, dtype=torch.float64))])),
    }
    result["torch"] = torch.__version__
    with open(OUT, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
