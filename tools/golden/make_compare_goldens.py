"""Writes test/fixtures/compare.safetensors: PyTorch's results for the bool dtype, comparisons,
logical ops, any/all, value tests, where, masked_fill, masked_select, nonzero and casts.

    PYTHONPATH=/tmp/pydeps /usr/bin/python3 tools/golden/make_compare_goldens.py

Each case stores its inputs (a, b, cond, mask), `out`, and for differentiable ops `gout` and the
gradients of sum(out * gout) as grad_<input>. options.value and options.a / options.b carry plain numbers (infinities as strings);
options.other names a scalar second operand. NaN and inf appear on purpose: NaN != NaN.
"""
import json
import math
import os

import torch
from safetensors.torch import save_file
from writer import Writer

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures")
torch.manual_seed(4321)
nan, inf = math.nan, math.inf


w = Writer()
f32, f64, i32 = torch.float32, torch.float64, torch.int32
special = torch.tensor([[0.0, 1.0, nan, -inf], [inf, -0.0, 2.5, nan]], dtype=f32)
other = torch.tensor([[0.0, nan, nan, -inf], [1.0, 0.0, 2.5, 1.0]], dtype=f32)
ints = torch.tensor([[1, -2, 3], [4, 0, 16777217]], dtype=i32)
bools = torch.tensor([[True, False, True], [False, False, True]])

compare = {"eq": torch.eq, "ne": torch.ne, "lt": torch.lt, "le": torch.le, "gt": torch.gt, "ge": torch.ge}
for op, fn in compare.items():
    w.case(f"{op}_nan", op, {}, a=special, b=other, out=fn(special, other))
    a, b = torch.randint(-2, 3, (3, 1, 4)).to(f64), torch.randint(-2, 3, (2, 1)).to(f32)
    w.case(f"{op}_broadcast_mixed", op, {}, a=a, b=b, out=fn(a, b))
    w.case(f"{op}_int_float", op, {}, a=ints, b=torch.tensor([16777216.0], dtype=f32),
           out=fn(ints, torch.tensor([16777216.0], dtype=f32)))
    w.case(f"{op}_scalar_tenth", op, {"other": 0.1}, a=torch.tensor([0.1, 0.2, nan], dtype=f32),
           out=fn(torch.tensor([0.1, 0.2, nan], dtype=f32), 0.1))
    w.case(f"{op}_int_scalar_float", op, {"other": 1.5}, a=ints, out=fn(ints, 1.5))
    w.case(f"{op}_bool_bool", op, {}, a=bools, b=bools[:1], out=fn(bools, bools[:1]))

logical = {"logicalAnd": torch.logical_and, "logicalOr": torch.logical_or, "logicalXor": torch.logical_xor}
for op, fn in logical.items():
    w.case(f"{op}_nan", op, {}, a=special, b=other, out=fn(special, other))
    w.case(f"{op}_bool_int_broadcast", op, {}, a=bools, b=torch.tensor([0, 3, -1], dtype=i32),
           out=fn(bools, torch.tensor([0, 3, -1], dtype=i32)))
w.case("logicalNot_nan", "logicalNot", {}, a=special, out=torch.logical_not(special))
w.case("logicalNot_int", "logicalNot", {}, a=ints, out=torch.logical_not(ints))
for op, fn in {"isnan": torch.isnan, "isfinite": torch.isfinite, "isinf": torch.isinf}.items():
    w.case(f"{op}_f32", op, {}, a=special, out=fn(special))
    w.case(f"{op}_f64", op, {}, a=special.to(f64).t(), out=fn(special.to(f64).t()))
    w.case(f"{op}_int", op, {}, a=ints, out=fn(ints))

r = torch.tensor([[[0.0, 1.0], [0.0, 0.0], [nan, 0.0]], [[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]]], dtype=f32)
for op, fn in {"any": torch.any, "all": torch.all}.items():
    w.case(f"{op}_full", op, {}, a=r, out=fn(r))
    w.case(f"{op}_dim_neg", op, {"dim": -1}, a=r, out=fn(r, -1))
    w.case(f"{op}_dim1_keep", op, {"dim": 1, "keepDim": True}, a=r, out=fn(r, 1, keepdim=True))
    w.case(f"{op}_bool", op, {"dim": 0}, a=bools, out=fn(bools, 0))
    e = torch.zeros(2, 0)
    w.case(f"{op}_empty", op, {"dim": 1}, a=e, out=fn(e, 1))

sums = [("sum_bool_all", {}, bools.sum()), ("sum_bool_dim", {"dim": 1}, bools.sum(1)),
        ("sum_bool_keep", {"dim": 0, "keepDim": True}, bools.sum(0, keepdim=True))]
for name, options, out in sums:
    w.case(name, "sumBool", options, a=bools, out=out)

for name, x, dtype in [("cast_f32_bool", special, torch.bool), ("cast_bool_f32", bools, f32),
                       ("cast_bool_i32", bools, i32), ("cast_i32_bool", ints, torch.bool),
                       ("cast_bool_f64", bools, f64), ("cast_f64_bool", special.to(f64), torch.bool)]:
    w.case(name, "cast", {"dtype": {f32: "float32", f64: "float64", i32: "int32", torch.bool: "bool"}[dtype]},
           a=x, out=x.to(dtype))


def differentiable(name, kind, options, fn, grads, **inputs):
    leaves = {k: (v.clone().requires_grad_(True) if k in grads else v) for k, v in inputs.items()}
    out = fn(**leaves)
    gout = torch.randn_like(out)
    if out.numel() > 0:
        gout.view(-1)[0] = nan  # a NaN upstream gradient must not leak into unselected entries
    (out * gout).sum().backward()
    extra = {f"grad_{k}": leaves[k].grad for k in grads}
    w.case(name, kind, options, **inputs, out=out, gout=gout, **extra)


cond = torch.tensor([[True, False, True]])
x64 = torch.randn(2, 3, dtype=f64)
y64 = torch.randn(2, 1, dtype=f64)
differentiable("where_broadcast", "where", {}, lambda cond, a, b: torch.where(cond, a, b), ["a", "b"],
               cond=cond, a=x64, b=y64)
differentiable("where_scalar_b", "where", {"b": -1.5}, lambda cond, a: torch.where(cond, a, -1.5), ["a"],
               cond=cond.t(), a=x64[:1])
w.case("where_scalars", "where", {"a": 1.0, "b": 0.0}, cond=bools, out=torch.where(bools, 1.0, 0.0))
w.case("where_int_float", "where", {}, cond=cond, a=ints, b=x64.to(f32),
       out=torch.where(cond, ints, x64.to(f32)))

mask = torch.tensor([[False, True, True]])
differentiable("maskedFill_broadcast", "maskedFill", {"value": "-Infinity"},
               lambda a, mask: a.masked_fill(mask, -inf), ["a"], a=x64, mask=mask)
w.case("maskedFill_int_fraction", "maskedFill", {"value": 2.7}, a=ints, mask=mask,
       out=ints.masked_fill(mask, 2.7))
w.case("maskedFill_nan_input", "maskedFill", {"value": 0.0}, a=special, mask=torch.isnan(special),
       out=special.masked_fill(torch.isnan(special), 0.0))
differentiable("maskedSelect_broadcast", "maskedSelect", {}, lambda a, mask: a.masked_select(mask), ["a"],
               a=y64, mask=torch.tensor([[True, False, True], [False, False, True]]))
differentiable("maskedSelect_same", "maskedSelect", {}, lambda a, mask: a.masked_select(mask), ["a"],
               a=x64, mask=x64 > x64.mean())
w.case("maskedSelect_none", "maskedSelect", {}, a=x64, mask=torch.zeros(2, 3, dtype=torch.bool),
       out=x64.masked_select(torch.zeros(2, 3, dtype=torch.bool)))

for name, x in [("nonzero_2d", special), ("nonzero_3d", r), ("nonzero_bool", bools), ("nonzero_empty", torch.zeros(3, 2)),
                ("nonzero_1d_int", torch.tensor([0, 5, 0, -1], dtype=i32))]:
    w.case(name, "nonzero", {}, a=x, out=torch.nonzero(x))
    tup = torch.nonzero(x, as_tuple=True)
    w.case(name + "_tuple", "nonzeroTuple", {"count": len(tup)}, a=x, **{f"out{d}": t for d, t in enumerate(tup)})

for name, a, b in [("equal_same", x64, x64.clone()), ("equal_nan", special, special.clone()),
                   ("equal_shape", x64, x64.t()), ("equal_int_float", ints, ints.to(f32)),
                   ("equal_differ", x64, x64 + 1e-12)]:
    w.case(name, "equal", {"out": bool(torch.equal(a, b))}, a=a, b=b)

w.save("compare.safetensors")
print(f"wrote {len(w.cases)} cases")
