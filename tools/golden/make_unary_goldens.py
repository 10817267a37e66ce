"""Writes test/fixtures/unary.safetensors: PyTorch's values and gradients for every table-driven unary
op of lib/ops/unary.ts (test/ops/unary.test.ts fails for a table row with no case here).

    PYTHONPATH=/tmp/pydeps /usr/bin/python3 tools/golden/make_unary_goldens.py

One row per op: its name in lib/ops/unary.ts, the PyTorch call (x, options), the option sets to run
(nodegrad's option names) and the input range. Each case stores x (float64, [3, 5]), out, gout,
grad_x (of sum(out * gout)), and special / out_special: the forward on NaN, ±inf, ±0 and edge values.
"""
import json
import os

import torch
import torch.nn.functional as F

from writer import Writer

torch.manual_seed(4321)

OPS = [
    # name, fn(x, options), option sets, input range
    ("square", lambda x, o: torch.square(x), [{}], (-3, 3)),
    ("gelu", lambda x, o: F.gelu(x, approximate=o.get("approximate", "none")), [{}, {"approximate": "tanh"}], (-4, 4)),
    ("sin", lambda x, o: torch.sin(x), [{}], (-3, 3)),
    ("cos", lambda x, o: torch.cos(x), [{}], (-3, 3)),
    ("tan", lambda x, o: torch.tan(x), [{}], (-1.4, 1.4)),
    ("asin", lambda x, o: torch.asin(x), [{}], (-0.95, 0.95)),
    ("acos", lambda x, o: torch.acos(x), [{}], (-0.95, 0.95)),
    ("atan", lambda x, o: torch.atan(x), [{}], (-3, 3)),
    ("sinh", lambda x, o: torch.sinh(x), [{}], (-3, 3)),
    ("cosh", lambda x, o: torch.cosh(x), [{}], (-3, 3)),
    ("erf", lambda x, o: torch.erf(x), [{}], (-3, 3)),
    ("erfc", lambda x, o: torch.erfc(x), [{}], (-3, 3)),
    ("erfinv", lambda x, o: torch.erfinv(x), [{}], (-0.95, 0.95)),
    ("expm1", lambda x, o: torch.expm1(x), [{}], (-3, 3)),
    ("log1p", lambda x, o: torch.log1p(x), [{}], (-0.9, 3)),
    ("log2", lambda x, o: torch.log2(x), [{}], (0.1, 4)),
    ("log10", lambda x, o: torch.log10(x), [{}], (0.1, 4)),
    ("floor", lambda x, o: torch.floor(x), [{}], (-3, 3)),
    ("ceil", lambda x, o: torch.ceil(x), [{}], (-3, 3)),
    ("round", lambda x, o: torch.round(x), [{}], (-3, 3)),
    ("trunc", lambda x, o: torch.trunc(x), [{}], (-3, 3)),
    ("frac", lambda x, o: torch.frac(x), [{}], (-3, 3)),
    ("reciprocal", lambda x, o: torch.reciprocal(x), [{}], (0.2, 3)),
    ("rsqrt", lambda x, o: torch.rsqrt(x), [{}], (0.1, 4)),
    ("silu", lambda x, o: F.silu(x), [{}], (-4, 4)),
    ("mish", lambda x, o: F.mish(x), [{}], (-4, 4)),
    ("softplus", lambda x, o: F.softplus(x, o.get("beta", 1), o.get("threshold", 20)),
     [{}, {"beta": 2.0, "threshold": 3.0}], (-4, 4)),
    ("elu", lambda x, o: F.elu(x, o.get("alpha", 1.0)), [{}, {"alpha": 0.5}], (-3, 3)),
    ("selu", lambda x, o: F.selu(x), [{}], (-3, 3)),
    ("leakyRelu", lambda x, o: F.leaky_relu(x, o.get("negativeSlope", 0.01)), [{}, {"negativeSlope": 0.2}], (-3, 3)),
    ("hardtanh", lambda x, o: F.hardtanh(x, o.get("minVal", -1.0), o.get("maxVal", 1.0)),
     [{}, {"minVal": -0.5, "maxVal": 2.0}], (-3, 3)),
    ("hardswish", lambda x, o: F.hardswish(x), [{}], (-5, 5)),
    ("logSigmoid", lambda x, o: F.logsigmoid(x), [{}], (-4, 4)),
    ("softsign", lambda x, o: F.softsign(x), [{}], (-3, 3)),
]

SPECIAL = [float("nan"), float("inf"), float("-inf"), 0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.5, -2.5, 30.0, -30.0, 1e-30]


def main():
    w = Writer()
    for name, fn, option_sets, (lo, hi) in OPS:
        for i, options in enumerate(option_sets):
            x = (torch.rand(3, 5, dtype=torch.float64) * (hi - lo) + lo).requires_grad_(True)
            out = fn(x, options)
            gout = torch.randn_like(out)
            (out * gout).sum().backward()
            special = torch.tensor(SPECIAL, dtype=torch.float64)
            w.case(f"{name}_{i}", name, options, x=x, out=out, gout=gout, grad_x=x.grad,
                   special=special, out_special=fn(special, options))
    w.save("unary.safetensors")
    print(f"unary.safetensors: {len(w.cases)} cases")


if __name__ == "__main__":
    main()
