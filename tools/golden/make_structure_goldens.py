"""Writes test/fixtures/structure.safetensors: PyTorch's results and gradients for the structure ops
(split/chunk/unbind, tril/triu, gather/scatter/scatterAdd/indexAdd, flip/roll/repeat/repeatInterleave,
sort/topk, clamp with tensor bounds).

Run it as tools/golden/make_goldens.py is run:
    PYTHONPATH=/tmp/pydeps /usr/bin/python3 tools/golden/make_structure_goldens.py

Cases are stored as in make_goldens.py: the __metadata__ "cases" entry lists {name, kind, options}; the
tensors of case `name` are `name/<tensor>`. Float inputs are float64; index tensors int64 (read as int32).
An op with one output stores out, gout and grad_<input> of sum(out * gout); one with several outputs
(split, chunk, unbind) stores out<i> and gout<i>, and the gradient of the sum over all of them; sort and
topk store values, indices and the gradient through values.
"""
import json
import os

import torch
from safetensors.torch import save_file
from writer import Writer

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures")
D = torch.float64
NAN = float("nan")
torch.manual_seed(2024)


def run(w, name, kind, options, fn, inputs, learnable=("x",)):
    leaves = {k: v.clone().requires_grad_(k in learnable) for k, v in inputs.items()}
    result = fn(**leaves)
    stored = dict(inputs)
    if isinstance(result, tuple) and hasattr(result, "indices"):
        values, indices = result
        stored.update(values=values, indices=indices)
        outs = [values]
    elif isinstance(result, (tuple, list)):
        outs = list(result)
        stored.update({f"out{i}": o for i, o in enumerate(outs)})
    else:
        outs = [result]
        stored["out"] = result
    gouts = [torch.randn_like(o) for o in outs]
    total = sum((o * g).sum() for o, g in zip(outs, gouts))
    if learnable and outs and any(o.requires_grad for o in outs):
        total.backward()
    if len(outs) == 1 and "out0" not in stored:
        stored["gout"] = gouts[0]
    else:
        stored.update({f"gout{i}": g for i, g in enumerate(gouts)})
    grads = {f"grad_{k}": leaves[k].grad if leaves[k].grad is not None else torch.zeros_like(leaves[k])
             for k in learnable}
    options = {**options, **({"outputs": len(outs)} if "out0" in stored else {})}
    w.case(name, kind, options, **stored, **grads)


def randn(*shape):
    return torch.randn(*shape, dtype=D)


def pieces(w):
    x = randn(7, 4)
    run(w, "split_size", "split", {"size": 3, "dim": 0}, lambda x: x.split(3, 0), {"x": x})
    run(w, "split_sections_neg_dim", "split", {"size": [1, 0, 3], "dim": -1}, lambda x: x.split([1, 0, 3], -1), {"x": x})
    run(w, "split_empty_dim", "split", {"size": 2, "dim": 1}, lambda x: x.split(2, 1), {"x": randn(3, 0)})
    run(w, "chunk_uneven", "chunk", {"chunks": 3, "dim": 0}, lambda x: x.chunk(3, 0), {"x": x})
    run(w, "chunk_more_than_size", "chunk", {"chunks": 6, "dim": 1}, lambda x: x.chunk(6, 1), {"x": x})
    run(w, "chunk_six_of_four", "chunk", {"chunks": 4, "dim": 0}, lambda x: x.chunk(4, 0), {"x": randn(6, 2)})
    run(w, "unbind_neg_dim", "unbind", {"dim": -1}, lambda x: x.unbind(-1), {"x": randn(2, 3, 4)})
    run(w, "unbind_size1", "unbind", {"dim": 0}, lambda x: x.unbind(0), {"x": randn(1, 3)})


def triangles(w):
    for op in ("tril", "triu"):
        for k in (0, 1, -2):
            run(w, f"{op}_{k}", op, {"diagonal": k}, lambda x, op=op, k=k: getattr(x, op)(k), {"x": randn(2, 3, 5)})
        run(w, f"{op}_tall", op, {"diagonal": 0}, lambda x, op=op: getattr(x, op)(), {"x": randn(5, 2)})
        run(w, f"{op}_far", op, {"diagonal": 9}, lambda x, op=op: getattr(x, op)(9), {"x": randn(3, 4)})
        run(w, f"{op}_empty", op, {"diagonal": -1}, lambda x, op=op: getattr(x, op)(-1), {"x": randn(2, 0, 3)})


def gathers(w):
    x = randn(3, 5)
    idx = torch.tensor([[0, 4, 4], [2, 2, 2]])  # duplicates along the gathered dim
    run(w, "gather_dim1_dup", "gather", {"dim": 1}, lambda x, index: x.gather(1, index), {"x": x, "index": idx})
    idx0 = torch.tensor([[2, 0, 1, 1, 2], [0, 0, 0, 0, 0]])
    run(w, "gather_dim0_dup", "gather", {"dim": 0}, lambda x, index: x.gather(0, index), {"x": x, "index": idx0})
    x3 = randn(2, 4, 3)
    idx3 = torch.randint(0, 4, (2, 6, 2))
    run(w, "gather_neg_dim_3d", "gather", {"dim": -2}, lambda x, index: x.gather(-2, index), {"x": x3, "index": idx3})
    run(w, "gather_empty_index", "gather", {"dim": 1}, lambda x, index: x.gather(1, index),
        {"x": x, "index": torch.zeros(3, 0, dtype=torch.long)})
    run(w, "gather_size1", "gather", {"dim": 0}, lambda x, index: x.gather(0, index),
        {"x": randn(1, 4), "index": torch.zeros(3, 4, dtype=torch.long)})

    tgt = randn(4, 3)
    unique = torch.tensor([[3, 0, 1], [1, 2, 0]])  # distinct targets per column: deterministic
    src = randn(2, 3)
    run(w, "scatter_src", "scatter", {"dim": 0}, lambda x, index, src: x.scatter(0, index, src),
        {"x": tgt, "index": unique, "src": src}, learnable=("x", "src"))
    run(w, "scatter_value_neg_dim", "scatter", {"dim": -1, "value": 2.5}, lambda x, index: x.scatter(-1, index, 2.5),
        {"x": tgt, "index": torch.tensor([[2], [0], [1], [2]])})
    big_src = randn(3, 4)
    run(w, "scatter_src_larger", "scatter", {"dim": 1}, lambda x, index, src: x.scatter(1, index, src),
        {"x": tgt, "index": torch.tensor([[1, 0], [2, 1]]), "src": big_src})  # torch 1.13 cannot give src's grad here
    dup = torch.tensor([[0, 0, 3], [0, 2, 3], [0, 2, 3]])
    run(w, "scatter_add_dup", "scatterAdd", {"dim": 0}, lambda x, index, src: x.scatter_add(0, index, src),
        {"x": tgt, "index": dup, "src": randn(3, 3)}, learnable=("x", "src"))
    run(w, "scatter_add_neg_dim_3d", "scatterAdd", {"dim": -1}, lambda x, index, src: x.scatter_add(-1, index, src),
        {"x": randn(2, 2, 3), "index": torch.randint(0, 3, (2, 2, 5)), "src": randn(2, 2, 5)}, learnable=("x", "src"))

    run(w, "scatter_add_empty_index", "scatterAdd", {"dim": 0}, lambda x, index, src: x.scatter_add(0, index, src),
        {"x": tgt, "index": torch.zeros(0, 3, dtype=torch.long), "src": randn(2, 3)}, learnable=("x",))
    run(w, "index_add_dup", "indexAdd", {"dim": 0}, lambda x, index, source: x.index_add(0, index, source),
        {"x": randn(4, 3), "index": torch.tensor([1, 3, 1, 1]), "source": randn(4, 3)}, learnable=("x", "source"))
    run(w, "index_add_alpha_neg_dim", "indexAdd", {"dim": -1, "alpha": -2.5},
        lambda x, index, source: x.index_add(-1, index, source, alpha=-2.5),
        {"x": randn(2, 3, 4), "index": torch.tensor([3, 0, 3]), "source": randn(2, 3, 3)}, learnable=("x", "source"))
    run(w, "index_add_empty", "indexAdd", {"dim": 1}, lambda x, index, source: x.index_add(1, index, source),
        {"x": randn(2, 3), "index": torch.zeros(0, dtype=torch.long), "source": randn(2, 0)}, learnable=("x", "source"))


def reorder(w):
    x = randn(3, 4, 2)
    run(w, "flip_one", "flip", {"dims": [0]}, lambda x: x.flip([0]), {"x": x})
    run(w, "flip_many_neg", "flip", {"dims": [-1, 1]}, lambda x: x.flip([-1, 1]), {"x": x})
    run(w, "flip_empty_dim", "flip", {"dims": [1]}, lambda x: x.flip([1]), {"x": randn(2, 0, 3)})
    run(w, "roll_empty_dim", "roll", {"shifts": [2], "dims": [0]}, lambda x: x.roll([2], [0]), {"x": randn(0, 3)})
    run(w, "roll_flat", "roll", {"shifts": 5}, lambda x: x.roll(5), {"x": x})
    run(w, "roll_dims", "roll", {"shifts": [1, -3], "dims": [0, -2]}, lambda x: x.roll([1, -3], [0, -2]), {"x": x})
    run(w, "roll_wrap_size1", "roll", {"shifts": [9, 2], "dims": [1, 0]}, lambda x: x.roll([9, 2], [1, 0]), {"x": randn(3, 1)})
    run(w, "repeat_more_dims", "repeat", {"sizes": [2, 1, 3]}, lambda x: x.repeat(2, 1, 3), {"x": randn(2, 3)})
    run(w, "repeat_zero", "repeat", {"sizes": [0, 2]}, lambda x: x.repeat(0, 2), {"x": randn(2, 3)})
    run(w, "repeat_interleave_flat", "repeatInterleave", {"repeats": 2}, lambda x: x.repeat_interleave(2), {"x": randn(2, 3)})
    run(w, "repeat_interleave_list", "repeatInterleave", {"repeats": [1, 0, 3], "dim": -1},
        lambda x: x.repeat_interleave(torch.tensor([1, 0, 3]), dim=-1), {"x": randn(2, 3)})


def sorting(w):
    # Ties and NaN: a stable sort is deterministic, so indices are compared too.
    x = torch.tensor([[3.0, 1.0, NAN, 1.0, -2.0, 3.0], [0.5, 0.5, 0.5, -1.0, NAN, NAN]], dtype=D)
    for desc in (False, True):
        for dim in (-1, 0):
            run(w, f"sort_ties_nan_{'desc' if desc else 'asc'}_{dim}", "sort", {"dim": dim, "descending": desc},
                lambda x, d=desc, dim=dim: torch.sort(x, dim=dim, descending=d, stable=True), {"x": x})
    run(w, "sort_3d_middle", "sort", {"dim": 1, "descending": False}, lambda x: torch.sort(x, dim=1, stable=True),
        {"x": randn(2, 5, 3)})
    run(w, "sort_empty_dim", "sort", {"dim": 1, "descending": False}, lambda x: torch.sort(x, dim=1, stable=True),
        {"x": randn(2, 0)})
    # topk among distinct values (PyTorch's choice among ties is unspecified); NaN counts as largest.
    y = torch.tensor([[0.3, -1.0, NAN, 2.0, 0.7], [5.0, 4.0, 3.0, -2.0, 1.0]], dtype=D)
    run(w, "topk_largest_nan", "topk", {"k": 3, "dim": -1, "largest": True}, lambda x: torch.topk(x, 3, dim=-1), {"x": y})
    run(w, "topk_smallest", "topk", {"k": 2, "dim": 1, "largest": False},
        lambda x: torch.topk(x, 2, dim=1, largest=False), {"x": y})
    run(w, "topk_dim0", "topk", {"k": 2, "dim": 0, "largest": True}, lambda x: torch.topk(x, 2, dim=0), {"x": randn(4, 3)})
    run(w, "topk_zero", "topk", {"k": 0, "dim": -1, "largest": True}, lambda x: torch.topk(x, 0), {"x": randn(2, 3)})


def clamps(w):
    x = torch.tensor([[-2.0, -0.5, 0.0, 0.5, 2.0], [1.0, NAN, -1.0, 0.25, 3.0]], dtype=D)
    lo = torch.tensor([-1.0, -0.5, 0.5, 0.0, 2.5], dtype=D)  # x == min at [0, 1]; min > max at [0, 4]
    hi = torch.tensor([[1.0], [0.5]], dtype=D)
    run(w, "clamp_both", "clamp", {}, lambda x, min, max: torch.clamp(x, min, max),
        {"x": x, "min": lo, "max": hi}, learnable=("x", "min", "max"))
    run(w, "clamp_min_only", "clamp", {}, lambda x, min: torch.clamp(x, min=min),
        {"x": x, "min": lo}, learnable=("x", "min"))
    run(w, "clamp_max_only", "clamp", {}, lambda x, max: torch.clamp(x, max=max),
        {"x": x, "max": hi}, learnable=("x", "max"))
    run(w, "clamp_bound_broadcasts_x", "clamp", {}, lambda x, min: torch.clamp(x, min=min),
        {"x": randn(3), "min": randn(2, 3)}, learnable=("x", "min"))


def main():
    w = Writer()
    pieces(w)
    triangles(w)
    gathers(w)
    reorder(w)
    sorting(w)
    clamps(w)
    w.save("structure.safetensors")
    print(f"structure.safetensors: {len(w.cases)} cases")


if __name__ == "__main__":
    main()
