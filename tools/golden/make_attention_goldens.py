"""Goldens for scaled dot-product attention, MultiheadAttention and the transformer layers.

Run: PYTHONPATH=/tmp/pydeps /usr/bin/python3 tools/golden/make_attention_goldens.py
torch 1.13 has no F.scaled_dot_product_attention: its reference is softmax(q kᵀ · scale + mask) v
in float64. Modules run in eval mode (no dropout) in float64; each case stores the parameters
(`p.<state-dict key>`), the inputs, the output, the upstream gradient `gout` and the gradients of
the inputs and parameters (`grad_<name>`, `grad_p.<key>`).
"""
import math

import torch
import torch.nn.functional as F

from writer import Writer

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)
w = Writer()


def sdpa(q, k, v, mask=None, causal=False, scale=None):
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = q @ k.transpose(-2, -1) * scale
    L, S = q.shape[-2], k.shape[-2]
    if causal:
        mask = torch.ones(L, S, dtype=torch.bool).tril()
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool else scores + mask
    return torch.softmax(scores, -1) @ v


def sdpa_case(name, qs, ks, vs, mask=None, causal=False, scale=None):
    q, k, v = (torch.randn(*s, requires_grad=True) for s in (qs, ks, vs))
    out = sdpa(q, k, v, mask, causal, scale)
    gout = torch.randn_like(out)
    out.backward(gout)
    options = {"isCausal": causal}
    if scale is not None:
        options["scale"] = scale
    w.case(name, "sdpa", options, q=q, k=k, v=v, mask=mask, out=out, gout=gout, grad_q=q.grad, grad_k=k.grad,
           grad_v=v.grad)


sdpa_case("sdpa_unmasked", (2, 3, 9, 8), (2, 3, 9, 8), (2, 3, 9, 5))
sdpa_case("sdpa_causal", (2, 3, 70, 8), (2, 3, 70, 8), (2, 3, 70, 8), causal=True)
sdpa_case("sdpa_causal_l_gt_s", (3, 80, 4), (3, 66, 4), (3, 66, 6), causal=True)
sdpa_case("sdpa_causal_l_lt_s", (3, 10, 4), (3, 20, 4), (3, 20, 6), causal=True)
sdpa_case("sdpa_unmasked_l_ne_s_scale", (2, 7, 6), (2, 130, 6), (2, 130, 3), scale=0.3)
sdpa_case("sdpa_bool_mask", (2, 2, 6, 4), (2, 2, 5, 4), (2, 2, 5, 4), mask=torch.rand(6, 5) > 0.3)
sdpa_case("sdpa_float_mask", (2, 2, 6, 4), (2, 2, 5, 4), (2, 2, 5, 4), mask=torch.randn(2, 1, 6, 5))
sdpa_case("sdpa_2d", (5, 4), (5, 4), (5, 4), causal=True)


def module_case(name, kind, options, module, inputs, forward):
    module.eval()
    module.zero_grad(set_to_none=True)
    leaves = {k: v.clone().requires_grad_(v.dtype.is_floating_point) for k, v in inputs.items()}
    out = forward(module, leaves)
    weights = None
    if isinstance(out, tuple):
        out, weights = out
    gout = torch.randn_like(out)
    out.backward(gout)
    tensors = {f"p.{k}": v for k, v in module.state_dict().items()}
    tensors.update({f"grad_p.{k}": p.grad for k, p in module.named_parameters()})
    tensors.update(leaves)
    tensors.update({f"grad_{k}": v.grad for k, v in leaves.items() if v.grad is not None})
    w.case(name, kind, options, out=out, weights=weights, gout=gout, **tensors)


def randn(*shape):
    return torch.randn(*shape)


L, S, N, E = 5, 7, 2, 8
padding = torch.zeros(N, S, dtype=torch.bool)
padding[0, -2:] = True
mha = torch.nn.MultiheadAttention(E, 2)
module_case("mha_self", "mha", {"embedDim": E, "numHeads": 2}, mha, {"query": randn(L, N, E)},
            lambda m, x: m(x["query"], x["query"], x["query"]))
module_case("mha_cross_padding", "mha", {"embedDim": E, "numHeads": 2}, mha,
            {"query": randn(L, N, E), "key": randn(S, N, E), "value": randn(S, N, E), "keyPaddingMask": padding},
            lambda m, x: m(x["query"], x["key"], x["value"], key_padding_mask=x["keyPaddingMask"]))
mask = torch.rand(L, L) > 0.7
mask.fill_diagonal_(False)
module_case("mha_no_weights_mask", "mha", {"embedDim": E, "numHeads": 4, "needWeights": False},
            torch.nn.MultiheadAttention(E, 4), {"query": randn(L, N, E), "attnMask": mask},
            lambda m, x: m(x["query"], x["query"], x["query"], attn_mask=x["attnMask"], need_weights=False)[0])
module_case("mha_kdim_vdim_batch_first", "mha",
            {"embedDim": E, "numHeads": 2, "kdim": 3, "vdim": 5, "batchFirst": True, "averageAttnWeights": False},
            torch.nn.MultiheadAttention(E, 2, kdim=3, vdim=5, batch_first=True),
            {"query": randn(N, L, E), "key": randn(N, S, 3), "value": randn(N, S, 5)},
            lambda m, x: m(x["query"], x["key"], x["value"], average_attn_weights=False))
module_case("mha_unbatched_no_bias", "mha", {"embedDim": E, "numHeads": 2, "bias": False},
            torch.nn.MultiheadAttention(E, 2, bias=False), {"query": randn(L, E), "key": randn(S, E)},
            lambda m, x: m(x["query"], x["key"], x["key"]))

d, nhead, ff = 8, 2, 16
for norm_first, activation in [(False, "relu"), (True, "gelu")]:
    suffix = f"{'pre' if norm_first else 'post'}_{activation}"
    opts = {"dModel": d, "nhead": nhead, "dimFeedforward": ff, "normFirst": norm_first, "activation": activation}
    enc = torch.nn.TransformerEncoderLayer(d, nhead, ff, activation=activation, norm_first=norm_first)
    module_case(f"encoder_layer_{suffix}", "encoderLayer", opts, enc,
                {"src": randn(L, N, d), "srcKeyPaddingMask": padding[:, :L]},
                lambda m, x: m(x["src"], src_key_padding_mask=x["srcKeyPaddingMask"]))
    dec = torch.nn.TransformerDecoderLayer(d, nhead, ff, activation=activation, norm_first=norm_first,
                                           batch_first=True)
    causal = torch.nn.Transformer.generate_square_subsequent_mask(L)
    module_case(f"decoder_layer_{suffix}", "decoderLayer", {**opts, "batchFirst": True}, dec,
                {"tgt": randn(N, L, d), "memory": randn(N, S, d), "tgtMask": causal},
                lambda m, x: m(x["tgt"], x["memory"], tgt_mask=x["tgtMask"]))
    model = torch.nn.Transformer(d, nhead, 2, 1, ff, activation=activation, norm_first=norm_first)
    module_case(f"transformer_{suffix}", "transformer",
                {**opts, "numEncoderLayers": 2, "numDecoderLayers": 1}, model,
                {"src": randn(S, N, d), "tgt": randn(L, N, d), "tgtMask": causal},
                lambda m, x: m(x["src"], x["tgt"], tgt_mask=x["tgtMask"]))

enc = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(d, nhead, ff), 2, norm=torch.nn.LayerNorm(d))
module_case("encoder_stack", "encoder", {"dModel": d, "nhead": nhead, "dimFeedforward": ff, "numLayers": 2}, enc,
            {"src": randn(L, N, d)}, lambda m, x: m(x["src"]))
w.save("attention.safetensors")
