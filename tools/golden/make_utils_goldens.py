"""Writes test/fixtures/utils.safetensors: torch.nn.utils.clip_grad_norm_ on small gradient sets.

    PYTHONPATH=/tmp/pydeps /usr/bin/python3 tools/golden/make_utils_goldens.py

Each case stores the gradients before clipping (grad0, grad1, ...), after clipping (clipped0, ...)
and the returned total norm (total, a 0-d tensor); its options hold maxNorm and normType
("inf" for infinity).
"""
import json
import math
import os

import torch
from safetensors.torch import save_file

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures")
torch.manual_seed(4321)


def main():
    tensors = {}
    cases = []

    def case(name, shapes, max_norm, norm_type, dtype=torch.float32, scale=1.0):
        params = [torch.zeros(s, dtype=dtype, requires_grad=True) for s in shapes]
        for p in params:
            p.grad = torch.randn(p.shape, dtype=dtype) * scale
        before = [p.grad.clone() for p in params]
        total = torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)
        opts = {"maxNorm": max_norm, "normType": "inf" if math.isinf(norm_type) else norm_type, "count": len(params)}
        cases.append({"name": name, "kind": "clipGradNorm", "options": opts})
        for i, (b, p) in enumerate(zip(before, params)):
            tensors[f"{name}/grad{i}"] = b.contiguous()
            tensors[f"{name}/clipped{i}"] = p.grad.contiguous()
        tensors[f"{name}/total"] = total.detach().to(dtype).reshape([])

    case("l2_clipped", [[3, 4], [5], [2, 1, 3]], 1.0, 2.0)
    case("l2_not_clipped", [[3, 4], [5]], 100.0, 2.0)
    case("l1", [[4, 4], [7]], 2.0, 1.0)
    case("l3", [[6], [2, 5]], 0.5, 3.0)
    case("inf", [[3, 3], [4]], 0.25, math.inf)
    case("size1_dims_float64", [[1, 1], [1, 6, 1]], 0.75, 2.0, dtype=torch.float64, scale=10.0)
    save_file(tensors, os.path.join(ROOT, "utils.safetensors"), metadata={"cases": json.dumps(cases)})


if __name__ == "__main__":
    main()
