"""Writes test/fixtures/conv2.safetensors: PyTorch's conv1d, conv_transpose1d/2d, interpolate and the
pixel shuffles, in float64, for test/nn/conv-layers-goldens.test.ts.

    PYTHONPATH=/tmp/pydeps /usr/bin/python3 tools/golden/make_conv2_goldens.py

Functional cases (kind = the nodegrad function's name) store the inputs "x", "weight", "bias" (where
used), "out", the upstream gradient "gout" and "grad_<input>" of sum(out * gout); their options are
nodegrad's (camelCase). Module cases (kind "module") store the state dict under "param/<key>",
"x", "out", "gout", "grad_x" and "grad_param/<key>"; options hold the layer's class, its constructor
arguments, the forward's outputSize where given, the state-dict keys and shapes, and the repr.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from writer import Writer

torch.manual_seed(2026)
torch.set_default_dtype(torch.float64)

SNAKE = {"outputPadding": "output_padding", "scaleFactor": "scale_factor", "alignCorners": "align_corners"}


def py(options):
    """nodegrad's options as PyTorch's keyword arguments (lists as tuples)."""
    return {SNAKE.get(k, k): tuple(v) if isinstance(v, list) else v for k, v in options.items()}


def run(w, name, kind, options, fn, **inputs):
    leaves = {k: v.clone().requires_grad_(True) for k, v in inputs.items() if v is not None}
    out = fn(**leaves)
    gout = torch.randn_like(out)
    (out * gout).sum().backward()
    grads = {f"grad_{k}": v.grad for k, v in leaves.items()}
    w.case(name, kind, options, **inputs, out=out, gout=gout, **grads)


def conv1d(w):
    cases = [
        ("conv1d_basic", (2, 4, 9), (6, 4, 3), True, {}),
        ("conv1d_stride_pad_odd", (3, 4, 11), (5, 4, 4), True, {"stride": 3, "padding": 2}),
        ("conv1d_dilation", (2, 3, 10), (4, 3, 3), False, {"dilation": 2, "padding": 1}),
        ("conv1d_groups", (2, 6, 7), (3, 2, 3), True, {"groups": 3, "padding": 1, "stride": 2}),
        ("conv1d_same_even_kernel", (2, 3, 8), (4, 3, 4), True, {"padding": "same", "dilation": 1}),
        ("conv1d_valid_unbatched", (3, 9), (2, 3, 5), True, {"padding": "valid"}),
    ]
    for name, xs, ws, bias, o in cases:
        run(w, name, "conv1d", o, lambda x, weight, bias=None, o=o: F.conv1d(x, weight, bias, **py(o)),
            x=torch.randn(*xs), weight=torch.randn(*ws), bias=torch.randn(ws[0]) if bias else None)


def conv_transpose(w):
    cases2d = [
        ("convT2d_basic", (2, 3, 4, 5), (3, 4, 3, 3), True, {}),
        ("convT2d_stride2_pad1", (2, 4, 5, 5), (4, 3, 4, 4), True, {"stride": 2, "padding": 1}),
        ("convT2d_output_padding", (2, 3, 5, 4), (3, 2, 3, 2), True,
         {"stride": [2, 3], "padding": [1, 0], "outputPadding": [1, 2]}),
        ("convT2d_dilation", (1, 2, 4, 3), (2, 3, 3, 3), True, {"dilation": [2, 1], "padding": 1, "stride": 2}),
        # output padding at or above the stride, below the dilation
        ("convT2d_output_padding_dilation", (2, 2, 3, 4), (2, 2, 2, 3), True,
         {"dilation": 3, "outputPadding": [2, 1], "stride": 1}),
        ("convT2d_groups", (2, 6, 4, 3), (6, 2, 3, 3), True, {"groups": 3, "stride": 2, "outputPadding": 1}),
        ("convT2d_odd_nobias", (3, 5, 7, 3), (5, 3, 5, 2), False, {"stride": [3, 1], "padding": [2, 1]}),
        ("convT2d_unbatched", (2, 3, 3), (2, 2, 3, 3), True, {"stride": 2}),
        ("convT2d_dcgan_first", (4, 8, 1, 1), (8, 6, 4, 4), False, {"stride": 1, "padding": 0}),
    ]
    for name, xs, ws, bias, o in cases2d:
        run(w, name, "convTranspose2d", o,
            lambda x, weight, bias=None, o=o: F.conv_transpose2d(x, weight, bias, **py(o)),
            x=torch.randn(*xs), weight=torch.randn(*ws), bias=torch.randn(ws[1] * o.get("groups", 1)) if bias else None)
    cases1d = [
        ("convT1d_basic", (2, 3, 6), (3, 4, 3), True, {}),
        ("convT1d_stride_output_padding", (2, 4, 7), (4, 2, 4), True, {"stride": 3, "padding": 1, "outputPadding": 2}),
        ("convT1d_groups_dilation", (1, 4, 5), (4, 3, 3), False, {"groups": 2, "dilation": 2, "stride": 2}),
        ("convT1d_unbatched", (3, 5), (3, 2, 2), True, {"stride": 2, "padding": 1}),
    ]
    for name, xs, ws, bias, o in cases1d:
        run(w, name, "convTranspose1d", o,
            lambda x, weight, bias=None, o=o: F.conv_transpose1d(x, weight, bias, **py(o)),
            x=torch.randn(*xs), weight=torch.randn(*ws), bias=torch.randn(ws[1] * o.get("groups", 1)) if bias else None)


def resizing(w):
    x4 = torch.randn(2, 3, 5, 4)
    x3 = torch.randn(2, 3, 7)
    cases = [
        ("nearest_size", x4, {"size": [7, 9]}),
        ("nearest_scale2", x4, {"scaleFactor": 2}),
        ("nearest_scale_fraction", x4, {"scaleFactor": [1.5, 2.7]}),
        ("nearest_down", x4, {"size": [3, 2]}),
        ("nearest_1d", x3, {"scaleFactor": 1.7}),
        ("bilinear_scale2", x4, {"scaleFactor": 2, "mode": "bilinear"}),
        ("bilinear_scale2_align", x4, {"scaleFactor": 2, "mode": "bilinear", "alignCorners": True}),
        ("bilinear_size_odd", x4, {"size": [9, 7], "mode": "bilinear", "alignCorners": False}),
        ("bilinear_size_odd_align", x4, {"size": [9, 7], "mode": "bilinear", "alignCorners": True}),
        ("bilinear_down", x4, {"size": [3, 1], "mode": "bilinear"}),
        ("bilinear_down_align", x4, {"size": [2, 1], "mode": "bilinear", "alignCorners": True}),
        ("bilinear_scale_fraction", x4, {"scaleFactor": [1.3, 0.6], "mode": "bilinear"}),
        ("linear_1d", x3, {"scaleFactor": 2.5, "mode": "linear"}),
        ("linear_1d_align", x3, {"size": 4, "mode": "linear", "alignCorners": True}),
    ]
    for name, x, o in cases:
        run(w, name, "interpolate", o, lambda x, o=o: F.interpolate(x, **py(o)), x=x)
    run(w, "pixel_shuffle", "pixelShuffle", {"factor": 2}, lambda x: F.pixel_shuffle(x, 2), x=torch.randn(2, 12, 3, 4))
    run(w, "pixel_shuffle_batch_dims", "pixelShuffle", {"factor": 3}, lambda x: F.pixel_shuffle(x, 3),
        x=torch.randn(2, 2, 9, 2, 3))
    run(w, "pixel_unshuffle", "pixelUnshuffle", {"factor": 2}, lambda x: F.pixel_unshuffle(x, 2),
        x=torch.randn(2, 3, 6, 4))
    run(w, "pixel_unshuffle_unbatched", "pixelUnshuffle", {"factor": 3}, lambda x: F.pixel_unshuffle(x, 3),
        x=torch.randn(2, 3, 6))


def modules(w):
    cases = [
        ("Conv1d", [4, 6, 3], {"stride": 2, "padding": 1, "groups": 2}, nn.Conv1d(4, 6, 3, stride=2, padding=1, groups=2),
         (2, 4, 9), None),
        ("Conv1d", [3, 2, 4], {"padding": "same", "bias": False}, nn.Conv1d(3, 2, 4, padding="same", bias=False),
         (2, 3, 6), None),
        ("ConvTranspose1d", [4, 2, 3], {"stride": 2, "outputPadding": 1, "dilation": 2},
         nn.ConvTranspose1d(4, 2, 3, stride=2, output_padding=1, dilation=2), (2, 4, 5), None),
        ("ConvTranspose2d", [4, 6, [3, 2]], {"stride": 2, "padding": [1, 0], "groups": 2},
         nn.ConvTranspose2d(4, 6, (3, 2), stride=2, padding=(1, 0), groups=2), (2, 4, 3, 5), [6, 11]),
        ("ConvTranspose2d", [3, 2, 4], {"stride": 2, "padding": 1, "bias": False},
         nn.ConvTranspose2d(3, 2, 4, stride=2, padding=1, bias=False), (1, 3, 4, 4), [1, 2, 9, 9]),
        ("ConvTranspose1d", [2, 3, 3], {"stride": 3}, nn.ConvTranspose1d(2, 3, 3, stride=3), (2, 6), [19]),
        ("Upsample", [], {"scaleFactor": 2, "mode": "bilinear", "alignCorners": True},
         nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True), (1, 2, 3, 3), None),
        ("Upsample", [], {"size": [5, 4]}, nn.Upsample(size=(5, 4)), (1, 2, 3, 3), None),
        ("PixelShuffle", [2], {}, nn.PixelShuffle(2), (1, 8, 2, 3), None),
        ("PixelUnshuffle", [2], {}, nn.PixelUnshuffle(2), (1, 2, 4, 6), None),
    ]
    for i, (cls, args, o, m, shape, output_size) in enumerate(cases):
        x = torch.randn(*shape).requires_grad_(True)
        out = m(x) if output_size is None else m(x, output_size=output_size)
        gout = torch.randn_like(out)
        (out * gout).sum().backward()
        state = m.state_dict()
        options = {"layer": cls, "args": args, "options": o, "outputSize": output_size,
                   "keys": list(state.keys()), "shapes": [list(v.shape) for v in state.values()], "repr": repr(m)}
        tensors = {f"param/{k}": v for k, v in state.items()}
        tensors.update({f"grad_param/{k}": p.grad for k, p in m.named_parameters()})
        w.case(f"module_{i}_{cls}", "module", options, x=x, out=out, gout=gout, grad_x=x.grad, **tensors)


def main():
    w = Writer()
    conv1d(w)
    conv_transpose(w)
    resizing(w)
    modules(w)
    w.save("conv2.safetensors")


if __name__ == "__main__":
    main()
