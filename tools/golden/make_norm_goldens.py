"""Writes test/fixtures/norm.safetensors: normalization layers, embeddings, PReLU and GLU against
PyTorch (forward, and gradients of sum(out * gout) for the input, weight and bias), plus the
modules' state-dict keys and reprs.

    PYTHONPATH=/tmp/pydeps /usr/bin/python3 tools/golden/make_norm_goldens.py

torch 1.13 has no RMSNorm: its cases use torch 2.4's definition, x * rsqrt(mean(x^2) + eps) * weight.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from writer import Writer

torch.manual_seed(2024)
d = torch.float64
SHAPES = {"small": [2, 3, 5], "conv": [4, 6, 3, 3]}


def run(w, name, kind, options, fn, inputs, params, plain=None):
    """inputs/params: name -> float64 tensor (leaves); plain: tensors passed as they are (indices)."""
    plain = plain or {}
    leaves = {k: v.clone().requires_grad_(True) for k, v in {**inputs, **params}.items()}
    out = fn(**leaves, **plain)
    gout = torch.randn_like(out)
    (out * gout).sum().backward()
    grads = {f"grad_{k}": v.grad for k, v in leaves.items() if v.grad is not None}
    w.case(name, kind, options, **inputs, **params, **plain, out=out, gout=gout, **grads)


def rms_norm(x, shape, weight, eps):
    dims = tuple(range(-len(shape), 0))
    eps = torch.finfo(x.dtype).eps if eps is None else eps
    y = x * torch.rsqrt(x.pow(2).mean(dims, keepdim=True) + eps)
    return y if weight is None else y * weight


def norms(w):
    for label, shape in SHAPES.items():
        x = torch.randn(*shape, dtype=d)
        for k in (1, 2):
            ns = shape[-k:]
            wb = {"weight": torch.randn(*ns, dtype=d), "bias": torch.randn(*ns, dtype=d)}
            run(w, f"layerNorm_{label}_{k}", "layerNorm", {"normalizedShape": ns},
                lambda x, weight, bias, ns=ns: F.layer_norm(x, ns, weight, bias), {"x": x}, wb)
            run(w, f"rmsNorm_{label}_{k}", "rmsNorm", {"normalizedShape": ns},
                lambda x, weight, ns=ns: rms_norm(x, ns, weight, None), {"x": x}, {"weight": wb["weight"]})
        ns = shape[-1:]
        run(w, f"layerNorm_{label}_eps_noaffine", "layerNorm", {"normalizedShape": ns, "eps": 1e-2},
            lambda x, ns=ns: F.layer_norm(x, ns, None, None, 1e-2), {"x": x}, {})
        run(w, f"layerNorm_{label}_nobias", "layerNorm", {"normalizedShape": ns},
            lambda x, weight, ns=ns: F.layer_norm(x, ns, weight, None), {"x": x}, {"weight": torch.randn(*ns, dtype=d)})
        run(w, f"rmsNorm_{label}_eps_noaffine", "rmsNorm", {"normalizedShape": ns, "eps": 1e-2},
            lambda x, ns=ns: rms_norm(x, ns, None, 1e-2), {"x": x}, {})
        C = shape[1]
        cw = {"weight": torch.randn(C, dtype=d), "bias": torch.randn(C, dtype=d)}
        for groups in sorted({1, C // 2 if C % 2 == 0 else C, C}):
            run(w, f"groupNorm_{label}_{groups}", "groupNorm", {"numGroups": groups},
                lambda x, weight, bias, g=groups: F.group_norm(x, g, weight, bias), {"x": x}, cw)
        run(w, f"groupNorm_{label}_eps_noaffine", "groupNorm", {"numGroups": 1, "eps": 1e-2},
            lambda x: F.group_norm(x, 1, None, None, 1e-2), {"x": x}, {})
        run(w, f"instanceNorm_{label}", "instanceNorm", {},
            lambda x, weight, bias: F.instance_norm(x, weight=weight, bias=bias), {"x": x}, cw)
        run(w, f"instanceNorm_{label}_eps_noaffine", "instanceNorm", {"eps": 1e-2},
            lambda x: F.instance_norm(x, eps=1e-2), {"x": x}, {})
        # Running statistics: one training step updates them, eval mode normalizes with them.
        cls = nn.InstanceNorm1d if len(shape) == 3 else nn.InstanceNorm2d
        layer = cls(C, momentum=0.3, affine=True, track_running_stats=True).double()
        out_train = layer(x)
        layer.eval()
        w.case(f"instanceNormModule_{label}", "instanceNormModule", {"momentum": 0.3},
               x=x, out=out_train, running_mean=layer.running_mean, running_var=layer.running_var, out_eval=layer(x))


def embeddings(w):
    weight = torch.randn(10, 4, dtype=d)
    idx = torch.tensor([[1, 2, 4, 5], [4, 3, 2, 9]], dtype=torch.int64)
    for name, opts, kw in [
        ("embedding", {}, {}),
        ("embedding_padding", {"paddingIdx": 2}, {"padding_idx": 2}),
        ("embedding_padding_negative", {"paddingIdx": -1}, {"padding_idx": -1}),
        ("embedding_freq", {"scaleGradByFreq": True}, {"scale_grad_by_freq": True}),
    ]:
        run(w, name, "embedding", opts, lambda weight, index, kw=kw: F.embedding(index, weight, **kw),
            {}, {"weight": weight}, {"index": idx.int()})
    # maxNorm renormalizes the looked-up rows in place; the fixture keeps the weight after the call.
    big = weight * 3
    renormed = big.clone()
    out = F.embedding(idx, renormed, max_norm=2.0)
    w.case("embedding_maxnorm", "embeddingMaxNorm", {"maxNorm": 2.0}, weight=big, index=idx.int(), out=out,
           weight_after=renormed)
    flat = torch.tensor([1, 2, 4, 5, 4, 3, 2, 9, 0], dtype=torch.int64)
    offsets = torch.tensor([0, 2, 2, 5], dtype=torch.int64)
    for mode in ("sum", "mean", "max"):
        run(w, f"embeddingBag_2d_{mode}", "embeddingBag", {"mode": mode},
            lambda weight, index, m=mode: F.embedding_bag(index, weight, mode=m), {}, {"weight": weight},
            {"index": idx.int()})
        run(w, f"embeddingBag_offsets_{mode}", "embeddingBag", {"mode": mode},
            lambda weight, index, offsets, m=mode: F.embedding_bag(index, weight, offsets, mode=m), {},
            {"weight": weight}, {"index": flat.int(), "offsets": offsets.int()})
        run(w, f"embeddingBag_padding_{mode}", "embeddingBag", {"mode": mode, "paddingIdx": 4},
            lambda weight, index, offsets, m=mode: F.embedding_bag(index, weight, offsets, mode=m, padding_idx=4), {},
            {"weight": weight}, {"index": flat.int(), "offsets": offsets.int()})
    last = torch.tensor([0, 2, 2, 5, 9], dtype=torch.int64)
    run(w, "embeddingBag_lastoffset", "embeddingBag", {"mode": "mean", "includeLastOffset": True},
        lambda weight, index, offsets: F.embedding_bag(index, weight, offsets, mode="mean", include_last_offset=True),
        {}, {"weight": weight}, {"index": flat.int(), "offsets": last.int()})
    run(w, "embeddingBag_psw", "embeddingBag", {"mode": "sum"},
        lambda weight, perSampleWeights, index, offsets: F.embedding_bag(
            index, weight, offsets, mode="sum", per_sample_weights=perSampleWeights),
        {"perSampleWeights": torch.randn(9, dtype=d)}, {"weight": weight}, {"index": flat.int(), "offsets": offsets.int()})


def activations(w):
    x = torch.randn(4, 6, 3, 3, dtype=d)
    for n in (1, 6):
        run(w, f"prelu_{n}", "prelu", {}, lambda x, weight: F.prelu(x, weight), {"x": x},
            {"weight": torch.rand(n, dtype=d)})
    run(w, "prelu_small", "prelu", {}, lambda x, weight: F.prelu(x, weight), {"x": torch.randn(2, 3, 5, dtype=d)},
        {"weight": torch.rand(3, dtype=d)})
    run(w, "glu_last", "glu", {"dim": -1}, lambda x: F.glu(x, -1), {"x": torch.randn(2, 3, 4, dtype=d)}, {})
    run(w, "glu_channels", "glu", {"dim": 1}, lambda x: F.glu(x, 1), {"x": x}, {})


def module_keys(w):
    modules = {
        "LayerNorm(5)": nn.LayerNorm(5),
        "LayerNorm([3, 5], noaffine, eps)": nn.LayerNorm([3, 5], eps=1e-3, elementwise_affine=False),
        "GroupNorm(2, 6)": nn.GroupNorm(2, 6),
        "GroupNorm(3, 6, noaffine)": nn.GroupNorm(3, 6, affine=False),
        "InstanceNorm1d(3)": nn.InstanceNorm1d(3),
        "InstanceNorm2d(6, affine, track)": nn.InstanceNorm2d(6, affine=True, track_running_stats=True),
        "Embedding(10, 4, padding 0)": nn.Embedding(10, 4, padding_idx=0),
        "EmbeddingBag(10, 4, sum)": nn.EmbeddingBag(10, 4, mode="sum"),
        "PReLU(6)": nn.PReLU(6),
        "GLU(1)": nn.GLU(1),
        "Dropout1d": nn.Dropout1d(0.2),
        "Dropout2d": nn.Dropout2d(0.3),
        "AlphaDropout": nn.AlphaDropout(0.1),
    }
    for label, m in modules.items():
        w.case(f"keys {label}", "moduleKeys", {"label": label, "keys": list(m.state_dict().keys()), "repr": repr(m)})


w = Writer()
norms(w)
embeddings(w)
activations(w)
module_keys(w)
w.save("norm.safetensors")
