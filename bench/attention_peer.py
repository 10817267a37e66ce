"""PyTorch CPU peer of bench/attention.mjs: naive causal attention, softmax(q kᵀ / √E + mask) v,
forward and backward at the same sizes (torch 1.13 has no fused scaled_dot_product_attention).

Run with Debian's python3-torch: /usr/bin/python3 bench/attention_peer.py
Prints one JSON object per line: {"T": ..., "ms": ...}.
"""
import json
import math
import os
import sys
import time

import torch

torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "2")))
torch.manual_seed(0)
B, H, E = 4, 4, 64


def median(fn, repeats=5):
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return sorted(times)[repeats // 2]


for T in [int(t) for t in sys.argv[1:]] or [256, 1024]:
    q, k, v = (torch.randn(B, H, T, E, requires_grad=True) for _ in range(3))
    mask = torch.full((T, T), float("-inf")).triu(1)
    grad = torch.randn(B, H, T, E)

    def step():
        scores = q @ k.transpose(-2, -1) / math.sqrt(E) + mask
        (torch.softmax(scores, -1) @ v).backward(grad)

    print(json.dumps({"T": T, "ms": round(median(step), 2)}), flush=True)
