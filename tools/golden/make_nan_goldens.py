"""Writes test/fixtures/nan.safetensors: PyTorch's outputs and gradients for inputs holding NaN and ±inf.

Run it as tools/golden/make_goldens.py is run (Debian's python3-torch, safetensors in /tmp/pydeps):
    pip install --no-deps --target /tmp/pydeps safetensors
    PYTHONPATH=/tmp/pydeps /usr/bin/python3 tools/golden/make_nan_goldens.py

Cases are stored as in make_goldens.py: the __metadata__ "cases" entry lists {name, kind, options},
the tensors of case `name` are `name/<tensor>`; options.shared names a case whose tensors (x, gout)
this case reads too. Gradients are of sum(out * gout). Each case is also run in float32, and the
script stops if that changes where the NaNs are (the test checks both dtypes against these values).
"""
import json
import os

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from writer import Writer

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures")
NAN, INF = float("nan"), float("inf")
D = torch.float64
torch.manual_seed(4321)


def evaluate(fn, inputs, learnable, gout, dtype):
    leaves = {k: None if v is None else (v.to(dtype) if v.is_floating_point() else v).clone().requires_grad_(k in learnable)
              for k, v in inputs.items()}
    out = fn(**leaves)
    if learnable:
        (out * gout.to(dtype)).sum().backward()
    return out.detach(), {f"grad_{k}": leaves[k].grad for k in learnable}


def run(w, name, kind, options, fn, inputs, learnable=("x",), shared=None):
    """Stores PyTorch's float64 out and grads of fn(**inputs); inputs of a shared case are not stored again."""
    out, _ = evaluate(fn, inputs, (), None, D)
    gout = shared["gout"] if shared and "gout" in shared else torch.randn_like(out.double())
    out, grads = evaluate(fn, inputs, learnable, gout, D)
    out32, grads32 = evaluate(fn, inputs, learnable, gout, torch.float32)
    for key, a, b in [("out", out, out32), *[(k, grads[k], grads32[k]) for k in grads]]:
        if a.is_floating_point() and not torch.equal(a.isnan(), b.isnan()):
            raise SystemExit(f"{name}: float32 and float64 disagree on where {key} is NaN")
    stored = {} if shared else {k: v for k, v in inputs.items()}
    if learnable and not (shared and "gout" in shared):
        stored["gout"] = gout
    w.case(name, kind, {**options, **({"shared": shared["name"]} if shared else {})}, **stored, out=out, **grads)


def special_vector(n, nan_at, posinf_at, neginf_at, zero_at, scale=2.0):
    x = torch.randn(n, dtype=D) * scale
    x[nan_at], x[posinf_at], x[neginf_at], x[zero_at] = NAN, INF, -INF, 0.0
    return x


def pointwise(w):
    # NaN at the first lanes, across 8- and 16-lane boundaries, in the middle and in the tail.
    x = special_vector(520, [0, 1, 7, 8, 15, 16, 17, 31, 63, 64, 300, 518, 519], [3, 100, 413], [4, 101, 414], [5, 200])
    gout = torch.randn(520, dtype=D)
    w.case("pointwise", "shared", {}, x=x, gout=gout)
    shared = {"name": "pointwise", "gout": gout}
    for op, fn in [("relu", torch.relu), ("sigmoid", torch.sigmoid), ("tanh", torch.tanh), ("abs", torch.abs)]:
        run(w, f"unary_{op}", "unary", {"op": op}, fn, {"x": x}, shared=shared)
    run(w, "unary_sign", "unary", {"op": "sign"}, torch.sign, {"x": x}, learnable=(), shared=shared)
    for name, lo, hi in [("clamp", -0.5, 1.0), ("clamp_min", -0.5, None), ("clamp_max", None, 1.0)]:
        run(w, f"unary_{name}", "unary", {"op": "clamp", "min": lo, "max": hi},
            lambda x, lo=lo, hi=hi: torch.clamp(x, lo, hi), {"x": x}, shared=shared)
    for e in [0.0, 2.0, 3.0, 0.5, -0.5, 1.5, -1.0]:
        run(w, f"unary_pow_{e}", "unary", {"op": "pow", "exponent": e}, lambda x, e=e: x.pow(e), {"x": x}, shared=shared)

    # pow, maximum and minimum pair NaN, ±inf and 0 in either operand, and 1 ** NaN, (-1) ** inf, 0 ** 0.
    e = special_vector(520, [2, 9, 13, 33, 450], [10, 14, 34], [11], [0, 5, 12, 40])
    x2 = x.clone()
    x2[13], x2[14], x2[40] = 1.0, -1.0, 0.0
    w.case("pair", "shared", {}, x=x2, e=e, gout=gout)
    shared = {"name": "pair", "gout": gout}
    run(w, "binary_pow", "binary", {"op": "pow"}, lambda x, e: torch.pow(x, e), {"x": x2, "e": e}, learnable=("x", "e"), shared=shared)
    run(w, "binary_maximum", "binary", {"op": "maximum"}, lambda x, e: torch.maximum(x, e), {"x": x2, "e": e}, learnable=(), shared=shared)
    run(w, "binary_minimum", "binary", {"op": "minimum"}, lambda x, e: torch.minimum(x, e), {"x": x2, "e": e}, learnable=(), shared=shared)


def reductions(w):
    x = torch.randn(8, 67, dtype=D)
    x[0, 0] = NAN                      # NaN first
    x[1, 66] = NAN                     # NaN last (the tail of a vector loop)
    x[2, 5], x[2, 40] = NAN, NAN       # two NaNs: the first one's index
    x[3, 3], x[3, 50] = INF, NAN       # +inf before a NaN: NaN still wins
    x[4, :] = -INF                     # all -inf
    x[5, 10], x[5, 20] = INF, INF      # tied +inf maxima
    x[6, 7] = -INF                     # a -inf min
    xt = x.t().contiguous()            # the same rows as columns: the strided (inner > 1) kernels
    w.case("rows", "shared", {}, x=x)
    w.case("columns", "shared", {}, x=xt)
    for layout, data, dim in [("rows", x, 1), ("columns", xt, 0)]:
        shared = {"name": layout}
        for op in ["max", "min"]:
            run(w, f"reduce_{op}_{layout}", "reduce", {"op": op, "dim": dim},
                lambda x, op=op, dim=dim: getattr(torch, op)(x, dim)[0], {"x": data}, shared=shared)
        for op in ["argmax", "argmin"]:
            run(w, f"reduce_{op}_{layout}", "reduce", {"op": op, "dim": dim},
                lambda x, op=op, dim=dim: getattr(torch, op)(x, dim).int(), {"x": data}, learnable=(), shared=shared)
        run(w, f"reduce_logsumexp_{layout}", "reduce", {"op": "logsumexp", "dim": dim},
            lambda x, dim=dim: torch.logsumexp(x, dim), {"x": data}, shared=shared)
        for op, fn in [("softmax", torch.softmax), ("logSoftmax", torch.log_softmax)]:
            run(w, f"{op}_{layout}", "reduce", {"op": op, "dim": dim}, lambda x, fn=fn, dim=dim: fn(x, dim), {"x": data}, shared=shared)
    # Over all elements, PyTorch splits the gradient among all maxima (all NaNs when one is NaN).
    for name, values in [("nans", [[1.0, NAN], [3.0, NAN]]), ("ties", [[1.0, 3.0], [3.0, -INF]]),
                         ("infs", [[-INF, 2.0], [-INF, INF]])]:
        for op in ["max", "min"]:
            run(w, f"reduce_{op}_all_{name}", "reduce", {"op": op}, lambda x, op=op: getattr(torch, op)(x),
                {"x": torch.tensor(values, dtype=D)})
        run(w, f"reduce_argmax_all_{name}", "reduce", {"op": "argmax"}, lambda x: torch.argmax(x).int(),
            {"x": torch.tensor(values, dtype=D)}, learnable=())


def pooling(w):
    # 40 columns: 20 outputs per row, the vectorized 2x2 path with its NaN redo; 10 columns: the scalar one.
    wide = torch.randn(2, 2, 6, 40, dtype=D)
    wide[0, 0, 0, 0] = NAN                           # first element of a window
    wide[0, 0, 1, 3] = NAN                           # last element of a window
    wide[0, 0, 0, 10], wide[0, 0, 1, 11] = NAN, NAN  # two NaNs: the last one's index
    wide[0, 0, 0, 15], wide[0, 0, 1, 14] = NAN, INF
    wide[0, 0, 2:4, 4:6] = -INF                      # an all -inf window
    wide[0, 0, 5, 39] = NAN                          # last window
    wide[0, 1, 2, 4], wide[0, 1, 3, 5] = 5.0, 5.0    # a tie, no NaN in the plane
    wide[1, 0, 3, 22] = NAN
    wide[1, 1, 4, 8], wide[1, 1, 5, 9] = INF, -INF
    narrow = torch.randn(1, 2, 6, 10, dtype=D)
    narrow[0, 0, 0, 0], narrow[0, 0, 1, 1] = NAN, NAN
    narrow[0, 0, 2, 3] = NAN
    narrow[0, 0, 4:6, 6:8] = -INF
    narrow[0, 1, 3, 9], narrow[0, 1, 5, 2] = INF, NAN
    for name, x in [("wide", wide), ("narrow", narrow)]:
        run(w, f"maxpool_2_{name}", "maxPool2d", {"kernelSize": 2}, lambda x: F.max_pool2d(x, 2), {"x": x})
    run(w, "maxpool_3_s1_p1", "maxPool2d", {"kernelSize": 3, "stride": 1, "padding": 1},
        lambda x: F.max_pool2d(x, 3, 1, 1), {"x": narrow})
    run(w, "maxpool_3_s2_p1_ceil", "maxPool2d", {"kernelSize": 3, "stride": 2, "padding": 1, "ceilMode": True},
        lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True), {"x": narrow})
    run(w, "maxpool_dilated", "maxPool2d", {"kernelSize": 2, "stride": 1, "dilation": 2},
        lambda x: F.max_pool2d(x, 2, 1, dilation=2), {"x": narrow})
    run(w, "avgpool_2", "avgPool2d", {"kernelSize": 2}, lambda x: F.avg_pool2d(x, 2), {"x": narrow})
    run(w, "avgpool_3_exclude_pad", "avgPool2d", {"kernelSize": 3, "stride": 2, "padding": 1, "countIncludePad": False},
        lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False), {"x": narrow})
    run(w, "adaptive_4x3", "adaptiveAvgPool2d", {"outputSize": [4, 3]}, lambda x: F.adaptive_avg_pool2d(x, (4, 3)), {"x": narrow})


def layers(w):
    x = torch.randn(4, 6, dtype=D)
    x[1, 2], x[2, 0] = NAN, INF
    params = {"weight": torch.randn(5, 6, dtype=D), "bias": torch.randn(5, dtype=D)}
    run(w, "linear_relu", "linearRelu", {}, lambda x, weight, bias: F.relu(F.linear(x, weight, bias)),
        {"x": x, **params}, learnable=("x", "weight", "bias"))
    image = torch.randn(1, 2, 6, 6, dtype=D)
    image[0, 0, 1, 1], image[0, 1, 4, 5] = NAN, -INF
    params = {"weight": torch.randn(3, 2, 3, 3, dtype=D), "bias": torch.randn(3, dtype=D)}
    run(w, "conv2d_relu", "conv2dRelu", {"padding": 1},
        lambda x, weight, bias: F.relu(F.conv2d(x, weight, bias, padding=1)), {"x": image, **params},
        learnable=("x", "weight", "bias"))


def losses(w):
    logits = torch.randn(6, 5, dtype=D)
    logits[0, 1] = NAN    # NaN off the target
    logits[2, 0] = INF    # +inf: the row's log-softmax is NaN
    logits[3, 0] = -INF   # -inf on the target: loss inf
    logits[4, 0] = NAN    # NaN in a row that some cases ignore
    logits[5, 4] = -INF   # a masked class: finite loss
    target = torch.tensor([0, 1, 2, 0, 1, 2])
    weight = torch.rand(5, dtype=D) + 0.2
    ti = target.int()
    # name, reduction, ignore_index, label_smoothing, class weights
    for name, reduction, ignore, smoothing, weighted in [
            ("none", "none", -100, 0.0, False), ("mean", "mean", -100, 0.0, False),
            ("ignore_none", "none", 1, 0.0, False), ("ignore_weight_mean", "mean", 1, 0.0, True),
            ("ignore_smooth_none", "none", 1, 0.1, False)]:
        inputs = {"x": logits, "target": ti, "weight": weight if weighted else None}
        run(w, f"ce_{name}", "crossEntropy", {"reduction": reduction, "ignoreIndex": ignore, "labelSmoothing": smoothing},
            lambda x, target, weight, r=reduction, i=ignore, s=smoothing: F.cross_entropy(
                x, target.long(), weight=weight, reduction=r, ignore_index=i, label_smoothing=s), inputs)
        if smoothing == 0:
            run(w, f"nll_{name}", "nllLoss", {"reduction": reduction, "ignoreIndex": ignore},
                lambda x, target, weight, r=reduction, i=ignore: F.nll_loss(
                    x, target.long(), weight=weight, reduction=r, ignore_index=i), inputs)
    # Only the ignored row holds a NaN: a finite loss, a NaN gradient in that row alone.
    rows = logits[[1, 4, 5]]
    run(w, "ce_ignored_nan_row_mean", "crossEntropy", {"reduction": "mean", "ignoreIndex": 1},
        lambda x, target: F.cross_entropy(x, target.long(), ignore_index=1), {"x": rows, "target": torch.tensor([0, 1, 2]).int()})

    x = torch.tensor([[NAN, 1.0, INF], [-INF, 0.5, -INF], [0.2, -0.7, 2.0]], dtype=D)
    y = torch.tensor([[0.0, NAN, 1.0], [0.0, 0.0, 1.0], [1.0, 0.0, INF]], dtype=D)
    for reduction in ["none", "mean"]:
        run(w, f"mse_{reduction}", "mseLoss", {"reduction": reduction}, lambda x, target, r=reduction: F.mse_loss(x, target, reduction=r),
            {"x": x, "target": y})
        run(w, f"l1_{reduction}", "l1Loss", {"reduction": reduction}, lambda x, target, r=reduction: F.l1_loss(x, target, reduction=r),
            {"x": x, "target": y})
    labels = torch.tensor([[0.0, NAN, 1.0], [0.0, 1.0, 1.0], [1.0, 0.0, 0.0]], dtype=D)
    run(w, "bcelogits_none", "bceWithLogits", {"reduction": "none"},
        lambda x, target: F.binary_cross_entropy_with_logits(x, target, reduction="none"), {"x": x, "target": labels})
    pos_weight = torch.tensor([0.5, 2.0, 1.5], dtype=D)
    run(w, "bcelogits_pos_weight", "bceWithLogits", {"reduction": "none"},
        lambda x, target, posWeight: F.binary_cross_entropy_with_logits(x, target, reduction="none", pos_weight=posWeight),
        {"x": x, "target": labels, "posWeight": pos_weight})
    q = torch.tensor([[NAN, -1.0, -INF], [-0.3, INF, -2.0], [-1.0, -0.5, -2.0]], dtype=D)
    t = torch.tensor([[0.0, 0.5, 0.0], [NAN, 0.3, 0.2], [0.2, 0.0, 0.8]], dtype=D)
    for reduction in ["none", "batchmean"]:
        run(w, f"kl_{reduction}", "klDiv", {"reduction": reduction}, lambda x, target, r=reduction: F.kl_div(x, target, reduction=r),
            {"x": q, "target": t})
    run(w, "kl_log_target", "klDiv", {"reduction": "none", "logTarget": True},
        lambda x, target: F.kl_div(x, target, reduction="none", log_target=True), {"x": q, "target": t.log()})


def main():
    w = Writer()
    pointwise(w)
    reductions(w)
    pooling(w)
    layers(w)
    losses(w)
    w.save("nan.safetensors")
    print(f"nan.safetensors: {len(w.cases)} cases, {len(w.tensors)} tensors")


if __name__ == "__main__":
    main()
