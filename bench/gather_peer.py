"""PyTorch CPU peer of bench/gather.mjs: gather and scatter_add throughput at the same sizes.

Run with Debian's python3-torch: /usr/bin/python3 bench/gather_peer.py
Prints one JSON object per line, as bench/gather.mjs does.
"""
import json
import os

import torch
from peer_timing import median_seconds  # noqa: E402

torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "2")))
torch.manual_seed(0)


def median(fn):
    """Milliseconds per call."""
    return median_seconds(fn) * 1e3


for rows, cols in [(256, 256), (1024, 1024), (64, 65536)]:
    x = torch.randn(rows, cols)
    src = torch.randn(rows, cols)
    index = (torch.rand(rows, cols) * cols).long()
    row_index = (torch.rand(rows, cols) * rows).long()
    n = rows * cols
    for name, fn in [
        ("gather", lambda: x.gather(1, index)),
        ("scatterAdd", lambda: x.scatter_add(1, index, src)),
        ("gather dim 0", lambda: x.gather(0, row_index)),
    ]:
        ms = median(fn)
        print(json.dumps({"name": f"{name} [{rows}, {cols}]", "value": round(n / ms / 1e3, 1), "unit": "Melem/s",
                          "ms": round(ms, 2)}), flush=True)
