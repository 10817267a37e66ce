"""Writes test/fixtures/math.safetensors: PyTorch's results and gradients for var/std, norm, prod,
amax/amin/aminmax, cumsum/cumprod/logcumsumexp and the binary math (minimum, maximum, lerp, hypot,
atan2, fmod, remainder).

Run it as tools/golden/make_goldens.py is run:
    PYTHONPATH=/tmp/pydeps /usr/bin/python3 tools/golden/make_math_goldens.py

Cases are stored as in make_goldens.py: the __metadata__ "cases" entry lists {name, kind, options}; the
tensors of case `name` are `name/<tensor>`. Float inputs are float64; integer inputs and results int64
(read back as int32). A case stores out (or out0, out1 for aminmax), gout and grad_<input> of
sum(out * gout) for each learnable float input.
"""
import json
import math
import os

import torch
from safetensors.torch import save_file
from writer import Writer

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures")
D = torch.float64
NAN = float("nan")
INF = float("inf")
torch.manual_seed(2026)


def run(w, name, kind, options, fn, inputs, learnable=("x",)):
    learnable = [k for k in learnable if k in inputs and inputs[k].is_floating_point()]
    leaves = {k: v.clone().requires_grad_(k in learnable) for k, v in inputs.items()}
    result = fn(**leaves)
    stored = dict(inputs)
    outs = list(result) if isinstance(result, tuple) else [result]
    if len(outs) == 1:
        stored["out"] = outs[0]
    else:
        stored.update({f"out{i}": o for i, o in enumerate(outs)})
    gouts = [torch.randn(o.shape, dtype=D) if o.is_floating_point() else None for o in outs]
    if learnable and any(o.requires_grad for o in outs):
        sum((o * g).sum() for o, g in zip(outs, gouts)).backward()
        stored.update({f"gout{i}" if len(outs) > 1 else "gout": g for i, g in enumerate(gouts)})
        for k in learnable:
            stored[f"grad_{k}"] = leaves[k].grad if leaves[k].grad is not None else torch.zeros_like(leaves[k])
    w.case(name, kind, {**options, "outputs": len(outs)}, **stored)


def randn(*shape):
    return torch.randn(*shape, dtype=D)


def t(data):
    return torch.tensor(data, dtype=D)


def variance(w):
    x = randn(3, 4)
    for kind, fn in (("var", torch.var), ("std", torch.std)):
        run(w, f"{kind}_dim1", kind, {"dim": 1}, lambda x: fn(x, 1), {"x": x})
        run(w, f"{kind}_neg_dim_keep_correction0", kind, {"dim": -1, "keepDim": True, "correction": 0},
            lambda x: fn(x, -1, correction=0, keepdim=True), {"x": randn(2, 3, 4)})
        run(w, f"{kind}_dims_list", kind, {"dim": [0, 2]}, lambda x: fn(x, (0, 2)), {"x": randn(2, 3, 4)})
        run(w, f"{kind}_all", kind, {}, lambda x: fn(x), {"x": x})
        run(w, f"{kind}_all_keep", kind, {"keepDim": True}, lambda x: fn(x, None, keepdim=True), {"x": x})
        run(w, f"{kind}_size1_dim", kind, {"dim": 1}, lambda x: fn(x, 1), {"x": randn(3, 1)})
        run(w, f"{kind}_correction2", kind, {"dim": 0, "correction": 2}, lambda x: fn(x, 0, correction=2), {"x": randn(4, 3)})
        run(w, f"{kind}_correction_past_count", kind, {"dim": 0, "correction": 3},
            lambda x: fn(x, 0, correction=3), {"x": randn(2, 3)})
        run(w, f"{kind}_empty_dim", kind, {"dim": 1}, lambda x: fn(x, 1), {"x": randn(3, 0)})
        run(w, f"{kind}_0d", kind, {"correction": 0}, lambda x: fn(x, None, correction=0), {"x": t(1.5)})
        run(w, f"{kind}_nan", kind, {"dim": 1}, lambda x: fn(x, 1), {"x": t([[1.0, NAN, 2.0], [0.5, 1.0, -1.0]])})
    run(w, "std_constant_row", "std", {"dim": 1}, lambda x: torch.std(x, 1), {"x": t([[2.0, 2.0, 2.0], [1.0, 0.0, 4.0]])})


def norms(w):
    x = randn(3, 4)
    x[0, 1] = 0.0
    ties = t([[1.0, -3.0, 3.0, 2.0], [-0.5, 0.25, 0.5, 0.5], [0.0, 0.0, 0.0, 0.0]])
    orders = {"2": 2, "1": 1, "inf": INF, "neg_inf": -INF, "0": 0, "3": 3, "half": 0.5, "1_5": 1.5, "neg1": -1}
    for label, p in orders.items():
        options = {"p": p if math.isfinite(p) else ("inf" if p > 0 else "-inf")}
        run(w, f"norm_p{label}_all", "norm", options, lambda x: torch.norm(x, p), {"x": x})
        run(w, f"norm_p{label}_dim_keep", "norm", {**options, "dim": -1, "keepDim": True},
            lambda x: torch.norm(x, p, -1, keepdim=True), {"x": ties if p != -1 and p != 0.5 else x})
    run(w, "norm_fro_two_dims", "norm", {"p": "fro", "dim": [0, 2]}, lambda x: torch.norm(x, "fro", (0, 2)), {"x": randn(2, 3, 2)})
    run(w, "norm_p2_zero_vector", "norm", {"p": 2, "dim": 1}, lambda x: torch.norm(x, 2, 1), {"x": t([[0.0, 0.0], [3.0, 4.0]])})
    run(w, "norm_p3_zero_vector", "norm", {"p": 3, "dim": 1}, lambda x: torch.norm(x, 3, 1), {"x": t([[0.0, 0.0], [3.0, -4.0]])})
    run(w, "norm_pinf_nan", "norm", {"p": "inf", "dim": 1}, lambda x: torch.norm(x, INF, 1), {"x": t([[1.0, NAN, -2.0], [1.0, 2.0, -2.0]])})
    run(w, "norm_p2_empty", "norm", {"p": 2, "dim": 0}, lambda x: torch.norm(x, 2, 0), {"x": randn(0, 3)})
    run(w, "norm_default_0d", "norm", {}, lambda x: torch.norm(x), {"x": t(-2.5)})


def products(w):
    zeros = t([[1.5, 0.0, 2.0, -3.0], [0.0, 2.0, 0.0, 4.0], [2.0, -0.5, 4.0, 1.25]])
    run(w, "prod_all", "prod", {}, lambda x: torch.prod(x), {"x": randn(2, 3)})
    run(w, "prod_dim1_zeros", "prod", {"dim": 1}, lambda x: torch.prod(x, 1), {"x": zeros})
    run(w, "prod_neg_dim_keep", "prod", {"dim": -2, "keepDim": True}, lambda x: torch.prod(x, -2, keepdim=True), {"x": zeros})
    run(w, "prod_no_zeros", "prod", {"dim": 0}, lambda x: torch.prod(x, 0), {"x": randn(3, 2)})
    run(w, "prod_all_one_zero", "prod", {}, lambda x: torch.prod(x), {"x": t([[1.5, 2.0], [0.0, -3.0]])})
    run(w, "prod_all_two_zeros", "prod", {}, lambda x: torch.prod(x), {"x": t([1.5, 0.0, 0.0, 2.0])})
    run(w, "prod_empty_dim", "prod", {"dim": 1}, lambda x: torch.prod(x, 1), {"x": randn(2, 0)})
    run(w, "prod_0d", "prod", {"dim": 0}, lambda x: torch.prod(x, 0), {"x": t(3.0)})
    ints = torch.tensor([[3, -2, 5], [7, 1, -4]])
    run(w, "prod_int", "prod", {"dim": 1}, lambda x: torch.prod(x, 1), {"x": ints})
    run(w, "sum_int_all", "sum", {}, lambda x: torch.sum(x), {"x": ints})
    run(w, "sum_int_dims", "sum", {"dim": [0, -1], "keepDim": True}, lambda x: torch.sum(x, (0, -1), keepdim=True), {"x": ints})


def extremes(w):
    ties = t([[1.0, 3.0, 3.0, -2.0], [0.5, 0.5, 0.5, 0.5], [-1.0, -4.0, 2.0, -4.0]])
    for op in ("amax", "amin"):
        fn = getattr(torch, op)
        run(w, f"{op}_dim1_ties", op, {"dim": 1}, lambda x: fn(x, 1), {"x": ties})
        run(w, f"{op}_neg_dim_keep", op, {"dim": -2, "keepDim": True}, lambda x: fn(x, -2, keepdim=True), {"x": ties})
        run(w, f"{op}_dims_list", op, {"dim": [0, 2]}, lambda x: fn(x, (0, 2)), {"x": torch.round(randn(2, 3, 4))})
        run(w, f"{op}_all", op, {}, lambda x: fn(x), {"x": ties})
        run(w, f"{op}_size1", op, {"dim": 1}, lambda x: fn(x, 1), {"x": randn(3, 1)})
        run(w, f"{op}_nan", op, {"dim": 1}, lambda x: fn(x, 1), {"x": t([[1.0, NAN, 2.0], [0.5, 1.0, 1.0]])})
        run(w, f"{op}_int", op, {"dim": 0}, lambda x: fn(x, 0), {"x": torch.tensor([[3, -2], [7, -9]])})
    run(w, "aminmax_dim", "aminmax", {"dim": -1}, lambda x: torch.aminmax(x, dim=-1), {"x": ties}, learnable=())
    run(w, "aminmax_all", "aminmax", {}, lambda x: torch.aminmax(x), {"x": ties}, learnable=())


def scans(w):
    zeros = t([[1.5, 0.0, 2.0, -3.0], [0.0, 2.0, 0.0, 4.0], [2.0, -0.5, 4.0, 1.25], [0.5, 2.0, 3.0, 0.0]])
    for op in ("cumsum", "cumprod", "logcumsumexp"):
        fn = getattr(torch, op)
        run(w, f"{op}_dim1", op, {"dim": 1}, lambda x: fn(x, 1), {"x": randn(3, 4)})
        run(w, f"{op}_neg_dim", op, {"dim": -3}, lambda x: fn(x, -3), {"x": randn(3, 2, 2)})
        run(w, f"{op}_size1", op, {"dim": 0}, lambda x: fn(x, 0), {"x": randn(1, 3)})
        run(w, f"{op}_empty", op, {"dim": 1}, lambda x: fn(x, 1), {"x": randn(2, 0)})
        run(w, f"{op}_0d", op, {"dim": 0}, lambda x: fn(x, 0), {"x": t(0.75)})
    run(w, "cumprod_zeros", "cumprod", {"dim": 1}, lambda x: torch.cumprod(x, 1), {"x": zeros})
    run(w, "cumprod_zeros_dim0", "cumprod", {"dim": 0}, lambda x: torch.cumprod(x, 0), {"x": zeros})
    run(w, "logcumsumexp_large", "logcumsumexp", {"dim": 0}, lambda x: torch.logcumsumexp(x, 0),
        {"x": t([1000.0, -1000.0, 999.0, 1001.0])})
    ints = torch.tensor([[3, -2, 5], [7, 1, -4]])
    run(w, "cumsum_int", "cumsum", {"dim": 1}, lambda x: torch.cumsum(x, 1), {"x": ints})
    run(w, "cumprod_int", "cumprod", {"dim": 0}, lambda x: torch.cumprod(x, 0), {"x": ints})


def binary(w):
    a = torch.round(randn(3, 1) * 2) / 2
    b = torch.round(randn(4) * 2) / 2
    b[0] = a[0, 0]  # a tie
    for op in ("maximum", "minimum"):
        fn = getattr(torch, op)
        run(w, f"{op}_broadcast_ties", op, {}, lambda x, y: fn(x, y), {"x": a, "y": b}, learnable=("x", "y"))
        run(w, f"{op}_nan", op, {}, lambda x, y: fn(x, y), {"x": t([NAN, 1.0, 2.0]), "y": t([0.0, NAN, 2.0])},
            learnable=("x", "y"))
        run(w, f"{op}_int", op, {}, lambda x, y: fn(x, y), {"x": torch.tensor([3, -2, 5]), "y": torch.tensor([[1], [4]])})
    run(w, "lerp_number", "lerp", {"weight": 0.3}, lambda x, end: torch.lerp(x, end, 0.3),
        {"x": randn(2, 3), "end": randn(3)}, learnable=("x", "end"))
    run(w, "lerp_tensor_weight", "lerp", {}, lambda x, end, weight: torch.lerp(x, end, weight),
        {"x": randn(2, 1), "end": randn(1, 3), "weight": torch.rand(2, 3, dtype=D)}, learnable=("x", "end", "weight"))
    pairs = {"x": t([[3.0, 0.0, -1.5], [0.0, -2.0, 1e200]]), "y": t([4.0, 0.0, 2.0])}
    run(w, "hypot", "hypot", {}, lambda x, y: torch.hypot(x, y), pairs, learnable=("x", "y"))
    run(w, "atan2", "atan2", {}, lambda x, y: torch.atan2(x, y),
        {"x": t([[1.0, -1.0, 0.0, 2.0], [-0.5, 0.5, 0.0, -3.0]]), "y": t([-1.0, -1.0, 0.0, 0.5])}, learnable=("x", "y"))
    num = t([[5.5, -5.5, 7.0, -7.0], [0.25, -3.0, 3.0, 0.0]])
    den = t([2.0, 2.0, -3.0, -3.0])
    for op in ("fmod", "remainder"):
        fn = getattr(torch, op)
        run(w, f"{op}_broadcast", op, {}, lambda x, y: fn(x, y), {"x": num, "y": den}, learnable=("x", "y"))
        run(w, f"{op}_number", op, {"other": -1.5}, lambda x: fn(x, -1.5), {"x": num})
        run(w, f"{op}_int", op, {}, lambda x, y: fn(x, y), {"x": torch.tensor([7, -7, 7, -7, 0]), "y": torch.tensor([3, 3, -3, -3, 2])})


def main():
    w = Writer()
    variance(w)
    norms(w)
    products(w)
    extremes(w)
    scans(w)
    binary(w)
    w.save("math.safetensors")
    print(f"{len(w.cases)} cases")


if __name__ == "__main__":
    main()
