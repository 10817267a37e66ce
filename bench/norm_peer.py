"""PyTorch peer for bench/norm.mjs: LayerNorm (and RMSNorm, composed where torch has none) forward
and backward on [64*64, 512] float32.

Run with Debian's python3-torch: /usr/bin/python3 bench/norm_peer.py
Prints one JSON object per line: {"name": ..., "value": microseconds per call}.
"""
import json
import os

import torch
from peer_timing import median_seconds  # noqa: E402

torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "2")))
torch.manual_seed(0)


def median_us(fn):
    return median_seconds(fn) * 1e6


rows, cols = 64 * 64, 512
x = torch.randn(rows, cols, requires_grad=True)
gout = torch.randn(rows, cols)
layer_norm = torch.nn.LayerNorm(cols)
rms_weight = torch.ones(cols, requires_grad=True)


def rms_norm(t):
    # torch 1.13 has no RMSNorm: the composition torch 2.4's nn.RMSNorm runs on CPU.
    return t * torch.rsqrt(t.pow(2).mean(-1, keepdim=True) + torch.finfo(t.dtype).eps) * rms_weight


def step(fn, params):
    def run():
        x.grad = None
        for p in params:
            p.grad = None
        fn(x).backward(gout)

    return run


def forward_only():
    with torch.no_grad():
        layer_norm(x)


cases = [
    ("LayerNorm forward", forward_only),
    ("LayerNorm forward+backward", step(layer_norm, list(layer_norm.parameters()))),
    ("RMSNorm forward+backward", step(rms_norm, [rms_weight])),
]
for name, fn in cases:
    print(json.dumps({"name": name, "value": median_us(fn)}))
