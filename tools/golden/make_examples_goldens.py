"""Writes test/fixtures/examples.safetensors: PyTorch's outputs for the layers the examples once built
in examples/parts/ and now take from nodegrad (LSTM, LSTMCell, ConvTranspose2d, MultiheadAttention, TransformerEncoderLayer,
layer_norm, tanh GELU) and the steps of torch.optim.Adadelta, in float64.

    PYTHONPATH=/tmp/pydeps /usr/bin/python3 tools/golden/make_examples_goldens.py

Each case stores the module's state dict under "<case>/param/<key>", its inputs ("x", and "h0",
"c0" or "mask" where used) and its outputs ("y", and "hn", "cn" for the LSTMs); "gx" is the
gradient of sum(y * weights) with respect to x, "weights" being stored too. An Adadelta case
stores the start "p", the gradient of each step "g0", "g1", ... and the parameter after each step
"p0", "p1", ...; its options hold lr, rho, eps and steps.
"""
import json
import os

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures")
torch.manual_seed(2024)
torch.set_default_dtype(torch.float64)


def causal_mask(size):
    return torch.full((size, size), float("-inf")).triu(1)


def main():
    tensors = {}
    cases = []

    def case(name, kind, options, module, inputs, run):
        x = inputs["x"].clone().requires_grad_(True)
        outputs = run(module, x, inputs)
        weights = torch.randn(outputs["y"].shape)
        (outputs["y"] * weights).sum().backward()
        cases.append({"name": name, "kind": kind, "options": options})
        if module is not None:
            for key, value in module.state_dict().items():
                tensors[f"{name}/param/{key}"] = value.contiguous()
        for key, value in inputs.items():
            tensors[f"{name}/{key}"] = value.contiguous()
        for key, value in outputs.items():
            tensors[f"{name}/{key}"] = value.detach().contiguous()
        tensors[f"{name}/weights"] = weights
        tensors[f"{name}/gx"] = x.grad

    def run_lstm(m, x, inputs):
        y, (hn, cn) = m(x, (inputs["h0"], inputs["c0"]))
        return {"y": y, "hn": hn, "cn": cn}

    lstm = torch.nn.LSTM(3, 4, num_layers=2)
    case("lstm_two_layers", "LSTM", {"inputSize": 3, "hiddenSize": 4, "numLayers": 2}, lstm,
         {"x": torch.randn(5, 2, 3), "h0": torch.randn(2, 2, 4), "c0": torch.randn(2, 2, 4)}, run_lstm)

    def run_cell(m, x, inputs):
        h, c = m(x, (inputs["h0"], inputs["c0"]))
        return {"y": h, "cn": c}

    cell = torch.nn.LSTMCell(3, 5)
    case("lstm_cell", "LSTMCell", {"inputSize": 3, "hiddenSize": 5}, cell,
         {"x": torch.randn(4, 3), "h0": torch.randn(4, 5), "c0": torch.randn(4, 5)}, run_cell)

    for name, (cin, cout, k, stride, padding, shape) in {
        "conv_transpose_stride2": (3, 2, 4, 2, 1, (2, 3, 3, 4)),
        "conv_transpose_from_1x1": (4, 3, 4, 1, 0, (2, 4, 1, 1)),
        "conv_transpose_stride3_odd": (2, 2, 3, 3, 2, (1, 2, 4, 3)),
    }.items():
        conv = torch.nn.ConvTranspose2d(cin, cout, k, stride=stride, padding=padding)
        case(name, "ConvTranspose2d",
             {"inChannels": cin, "outChannels": cout, "kernelSize": k, "stride": stride, "padding": padding},
             conv, {"x": torch.randn(*shape)}, lambda m, x, _: {"y": m(x)})

    mha = torch.nn.MultiheadAttention(8, 2)
    case("multihead_attention_causal", "MultiheadAttention", {"embedDim": 8, "numHeads": 2}, mha,
         {"x": torch.randn(5, 3, 8), "mask": causal_mask(5)},
         lambda m, x, inputs: {"y": m(x, x, x, attn_mask=inputs["mask"], need_weights=False)[0]})

    layer = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)
    case("transformer_encoder_layer", "TransformerEncoderLayer", {"dModel": 8, "nhead": 2, "dimFeedforward": 16},
         layer, {"x": torch.randn(6, 2, 8), "mask": causal_mask(6)},
         lambda m, x, inputs: {"y": m(x, src_mask=inputs["mask"])})

    norm = torch.nn.LayerNorm(7)
    with torch.no_grad():
        norm.weight.copy_(torch.randn(7))
        norm.bias.copy_(torch.randn(7))
    case("layer_norm", "LayerNorm", {"ndim": 7}, norm, {"x": torch.randn(3, 4, 7) * 3 + 1}, lambda m, x, _: {"y": m(x)})

    case("gelu_tanh", "gelu", {}, None, {"x": torch.randn(4, 9) * 3},
         lambda m, x, _: {"y": F.gelu(x, approximate="tanh")})

    for name, (lr, rho, eps) in {"adadelta_defaults": (1.0, 0.9, 1e-6), "adadelta_lr_0_1_rho_0_5": (0.1, 0.5, 1e-3)}.items():
        p = torch.randn(3, 4, requires_grad=True)
        tensors[f"{name}/p"] = p.detach().clone()
        optimizer = torch.optim.Adadelta([p], lr=lr, rho=rho, eps=eps)
        for step in range(3):
            p.grad = torch.randn(3, 4)
            tensors[f"{name}/g{step}"] = p.grad.clone()
            optimizer.step()
            tensors[f"{name}/p{step}"] = p.detach().clone()
        cases.append({"name": name, "kind": "Adadelta", "options": {"lr": lr, "rho": rho, "eps": eps, "steps": 3}})

    save_file(tensors, os.path.join(ROOT, "examples.safetensors"), metadata={"cases": json.dumps(cases)})


if __name__ == "__main__":
    main()
