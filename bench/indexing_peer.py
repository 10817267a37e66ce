"""PyTorch peer for bench/indexing.mjs: the same indexing cases on the same shapes.

Run with Debian's python3-torch: /usr/bin/python3 bench/indexing_peer.py
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


def indices(count, n):
    """The same 32-bit LCG sequence as bench/indexing.mjs."""
    out, s = [], 12345
    for _ in range(count):
        s = (s * 1103515245 + 12345) % 4294967296
        out.append(s % n)
    return torch.tensor(out, dtype=torch.long)


def main():
    for rows, cols, picks in [(1024, 512, 256), (8192, 64, 4096)]:
        x = torch.randn(rows, cols)
        xt = torch.randn(cols, rows)
        idx = indices(picks, rows)
        v = torch.randn(picks, cols)
        shape = f"{rows}x{cols}"

        def put():
            x[idx] = v

        cases = [
            (f"x[:, -1] {shape}", lambda: x[:, -1]),
            (f"x[idx] ({picks}) {shape}", lambda: x[idx]),
            (f"x[:, idx] ({picks}) {cols}x{rows}", lambda: xt[:, idx]),
            (f"x[idx] = v ({picks}) {shape}", put),
            (f"x[idx] += v accum {shape}", lambda: x.index_put_((idx,), v, accumulate=True)),
        ]
        for name, fn in cases:
            print(json.dumps({"name": name, "value": median_us(fn)}), flush=True)


if __name__ == "__main__":
    main()
