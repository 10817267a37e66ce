"""Writes test/fixtures/autograd.safetensors: second-order gradients (a WGAN-GP gradient penalty).

    PYTHONPATH=/tmp/pydeps /usr/bin/python3 tools/golden/make_autograd_goldens.py

Each case is a critic D(x) given by its weights w1, b1, w2, b2, w3, b3 and activations
(options.act1, options.act2): an MLP, or (options.conv) a first layer conv2d(stride 2, padding 1)
whose output is flattened. Stored: x, the weights, out = D(x), gx = ∂ sum(D(x)) / ∂x,
penalty = mean((||gx_row||₂ - 1)²), and grad_<name> = ∂ penalty / ∂<name> for x and every weight.
"""
import json
import os

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures")
torch.manual_seed(4321)

ACTIVATIONS = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu}


def critic(leaves, act1, act2, conv):
    if conv:
        h = ACTIVATIONS[act1](F.conv2d(leaves["x"], leaves["w1"], leaves["b1"], stride=2, padding=1)).flatten(1)
    else:
        h = ACTIVATIONS[act1](F.linear(leaves["x"], leaves["w1"], leaves["b1"]))
    h = ACTIVATIONS[act2](F.linear(h, leaves["w2"], leaves["b2"]))
    return F.linear(h, leaves["w3"], leaves["b3"])


def main():
    d = torch.float64
    tensors = {}
    cases = []
    for name, act1, act2, conv, n, features, hidden in [
        ("gp_tanh_relu", "tanh", "relu", False, 6, 5, 8),
        ("gp_relu_sigmoid", "relu", "sigmoid", False, 4, 3, 7),
        ("gp_conv_tanh_sigmoid", "tanh", "sigmoid", True, 3, 2, 12),
    ]:
        first = {
            "x": torch.randn(n, features, 4, 4, dtype=d),
            "w1": torch.randn(3, features, 3, 3, dtype=d) * 0.5, "b1": torch.randn(3, dtype=d) * 0.3,
        } if conv else {
            "x": torch.randn(n, features, dtype=d),
            "w1": torch.randn(hidden, features, dtype=d) * 0.7, "b1": torch.randn(hidden, dtype=d) * 0.3,
        }
        base = {
            **first,
            "w2": torch.randn(hidden - 2, hidden, dtype=d) * 0.5, "b2": torch.randn(hidden - 2, dtype=d) * 0.3,
            "w3": torch.randn(1, hidden - 2, dtype=d), "b3": torch.randn(1, dtype=d),
        }
        leaves = {k: v.clone().requires_grad_(True) for k, v in base.items()}
        out = critic(leaves, act1, act2, conv)
        (gx,) = torch.autograd.grad(out.sum(), leaves["x"], create_graph=True)
        penalty = ((gx.flatten(1).norm(2, dim=1) - 1) ** 2).mean()
        penalty.backward()
        cases.append({"name": name, "kind": "gradientPenalty", "options": {"act1": act1, "act2": act2, "conv": conv}})
        stored = {**base, "out": out, "gx": gx, "penalty": penalty}
        # A weight the penalty does not depend on (b3) has no gradient and is not stored.
        stored.update({f"grad_{k}": v.grad for k, v in leaves.items() if v.grad is not None})
        for key, value in stored.items():
            tensors[f"{name}/{key}"] = value.detach().contiguous().clone()
    save_file(tensors, os.path.join(ROOT, "autograd.safetensors"), metadata={"cases": json.dumps(cases)})


if __name__ == "__main__":
    main()
