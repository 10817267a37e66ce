"""Writes test/fixtures/indexing.safetensors: PyTorch's x[specs] and x[specs] = value, with gradients.

Run it as tools/golden/make_goldens.py is run:
    PYTHONPATH=/tmp/pydeps /usr/bin/python3 tools/golden/make_index_goldens.py

Cases are stored as in make_goldens.py: the __metadata__ "cases" entry lists {name, kind, options},
the tensors of case `name` are `name/<tensor>`. options.specs is the index in JSON: a number, a slice
string 'start:stop:step', null (None), '...', or a (nested) list of integers (an int64 index
tensor here; the test passes it as a number array or an int32 tensor). Gradients are of
sum(out * gout). kind "index" stores x, gout, out, grad_x; kind "put" also value and grad_value
(absent when the value is the number options.value), with options.accumulate.
"""
import json
import os

import torch
from safetensors.torch import save_file

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures")
D = torch.float64
torch.manual_seed(20261202)


def to_index(spec):
    if spec is None or isinstance(spec, int):
        return spec
    if spec == "...":
        return Ellipsis
    if isinstance(spec, str):
        parts = [int(p) if p.strip() else None for p in spec.split(":")]
        return slice(*parts)
    return torch.tensor(spec, dtype=torch.long)


INDEX_CASES = [
    ("negative_number", [4, 5], [-1]),
    ("last_column", [4, 5], [":", -1]),
    ("empty_slice", [4, 5], ["3:1"]),
    ("slices_with_steps", [6, 5], ["1::2", "::3"]),
    ("negative_slices", [6, 5], ["-3:", ":-1"]),
    ("clamped_slices", [4, 5], ["-100:100", "2:50"]),
    ("ellipsis_none_number", [2, 3, 4], ["...", None, 1]),
    ("none_number_ellipsis_slice", [2, 3, 4], [None, 0, "...", "1:3"]),
    ("size1_dims", [1, 3, 1], [0, [2, 2], "..."]),
    ("advanced_duplicates", [5, 3], [[0, 2, 0, -1]]),
    ("advanced_2d", [5, 3], [[[0, 1], [4, 4]]]),
    ("advanced_empty", [4, 3], [[]]),
    ("advanced_adjacent", [3, 4, 5], [":", [0, 2, 2], [1, -1, 0]]),
    ("advanced_separated", [3, 4, 5], [[0, 2], ":", [1, 4]]),
    ("advanced_number_between", [3, 4, 5, 2], [":", [0, 3], 1, [1, 0]]),
    ("advanced_none_between", [3, 4, 5], [[0, 1], None, [2, 3]]),
    ("advanced_broadcast", [4, 5], [[[0], [2], [3]], [1, 4]]),
    ("advanced_with_slices", [4, 6, 3], ["1:", [5, 0, 5], "::2"]),
    ("ellipsis_advanced", [2, 3, 4], ["...", [3, 0]]),
]

# (name, shape, specs, value shape or a number, accumulate)
PUT_CASES = [
    ("put_last_column", [4, 5], [":", -1], [4], False),
    ("put_number_rows", [4, 5], ["1:3"], 7.5, False),
    ("put_steps", [6, 4], ["::2", "1:3"], [3, 2], False),
    ("put_advanced", [5, 3], [[0, 2]], [2, 3], False),
    ("put_accumulate_duplicates", [5, 3], [[0, 2, 0, 0]], [4, 3], True),
    ("put_broadcast_value", [4, 5], [[0, 3]], [5], False),
    ("put_separated", [3, 4, 5], [[0, 2], ":", [1, 4]], [2, 4], False),
    ("put_leading_one", [4, 5], [0], [1, 5], False),
    ("put_accumulate_pairs", [4, 5], [[1, 1, 3], [0, 0, 2]], [1], True),
    ("put_accumulate_number", [4, 5], [[2, 2], [1, 1]], 0.5, True),
]


def main():
    tensors, cases = {}, []

    def store(name, kind, options, **ts):
        cases.append({"name": name, "kind": kind, "options": options})
        for key, value in ts.items():
            tensors[f"{name}/{key}"] = value.detach().contiguous().clone()

    for name, shape, specs in INDEX_CASES:
        x = torch.randn(shape, dtype=D, requires_grad=True)
        out = x[tuple(to_index(s) for s in specs)]
        gout = torch.randn_like(out)
        (out * gout).sum().backward()
        store(name, "index", {"specs": specs}, x=x, gout=gout, out=out, grad_x=x.grad)

    for name, shape, specs, value_shape, accumulate in PUT_CASES:
        x = torch.randn(shape, dtype=D, requires_grad=True)
        number = not isinstance(value_shape, list)
        value = value_shape if number else torch.randn(value_shape, dtype=D, requires_grad=True)
        y = x.clone()
        index = tuple(to_index(s) for s in specs)
        if accumulate:
            y.index_put_(index, value if not number else torch.tensor(value, dtype=D), accumulate=True)
        else:
            y[index] = value
        gout = torch.randn_like(y)
        (y * gout).sum().backward()
        extra = {} if number else {"value": value, "grad_value": value.grad}
        options = {"specs": specs, "accumulate": accumulate, **({"value": value} if number else {})}
        store(name, "put", options, x=x, gout=gout, out=y, grad_x=x.grad, **extra)

    save_file(tensors, os.path.join(ROOT, "indexing.safetensors"), metadata={"cases": json.dumps(cases)})
    print(f"wrote {len(cases)} cases")


if __name__ == "__main__":
    main()
