"""Writes the PyTorch golden fixtures under test/fixtures/ (tests read them; they never run Python).

Needs Debian's python3-torch and the safetensors package:
    apt-get install -y python3-torch
    pip install --no-deps --target /tmp/pydeps safetensors
    PYTHONPATH=/tmp/pydeps /usr/bin/python3 tools/golden/make_goldens.py

Each fixture is a safetensors file written by the safetensors library itself (so loading them also
proves nodegrad reads files PyTorch's tooling writes). Its __metadata__ "cases" entry is a JSON list
of {name, kind, options}; the tensors of case `name` are stored as `name/<tensor>`.
For layers and losses, `gout` is the upstream gradient: grads are of sum(out * gout).
"""
import json
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from writer import Writer

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures")
torch.manual_seed(1234)


def run_layer(w, name, kind, options, fn, inputs, params):
    """inputs/params: dicts name -> tensor (float64). Stores them, out, gout and all grads."""
    leaves = {k: v.clone().requires_grad_(True) for k, v in {**inputs, **params}.items()}
    out = fn(**leaves)
    gout = torch.randn_like(out)
    (out * gout).sum().backward()
    grads = {f"grad_{k}": v.grad for k, v in leaves.items() if v.grad is not None}
    w.case(name, kind, options, **inputs, **params, out=out, gout=gout, **grads)


def layers():
    w = Writer()
    d = torch.float64
    x = torch.randn(2, 3, 9, 8, dtype=d)
    run_layer(w, "linear", "linear", {}, lambda x, weight, bias: F.linear(x, weight, bias),
              {"x": torch.randn(4, 5, dtype=d)}, {"weight": torch.randn(3, 5, dtype=d), "bias": torch.randn(3, dtype=d)})
    run_layer(w, "linear_3d_nobias", "linear", {}, lambda x, weight: F.linear(x, weight),
              {"x": torch.randn(2, 4, 5, dtype=d)}, {"weight": torch.randn(3, 5, dtype=d)})
    conv_cases = [
        ("conv_basic", {}),
        ("conv_stride_pad", {"stride": [2, 1], "padding": [1, 2]}),
        ("conv_dilation", {"dilation": 2, "padding": 2}),
        ("conv_groups", {"groups": 3, "padding": 1}),
        ("conv_same", {"padding": "same"}),
    ]
    for name, opts in conv_cases:
        groups = opts.get("groups", 1)
        weight = torch.randn(6, 3 // groups, 3, 2 if name == "conv_same" else 3, dtype=d)
        tp = {k: (tuple(v) if isinstance(v, list) else v) for k, v in opts.items()}
        run_layer(w, name, "conv2d", opts, lambda x, weight, bias, tp=tp: F.conv2d(x, weight, bias, **tp),
                  {"x": x}, {"weight": weight, "bias": torch.randn(6, dtype=d)})
    pool_cases = [
        ("maxpool_2", "maxPool2d", 2, {}),
        ("maxpool_3_s2_p1_ceil", "maxPool2d", 3, {"stride": 2, "padding": 1, "ceilMode": True}),
        ("maxpool_dilated", "maxPool2d", 2, {"stride": 1, "dilation": 2}),
        ("avgpool_2", "avgPool2d", 2, {}),
        ("avgpool_3_s2_p1_ceil", "avgPool2d", 3, {"stride": 2, "padding": 1, "ceilMode": True}),
        ("avgpool_exclude_pad", "avgPool2d", 3, {"stride": 2, "padding": 1, "countIncludePad": False}),
    ]
    for name, kind, k, opts in pool_cases:
        if kind == "maxPool2d":
            fn = lambda x, k=k, o=opts: F.max_pool2d(x, k, o.get("stride"), o.get("padding", 0), o.get("dilation", 1), o.get("ceilMode", False))
        else:
            fn = lambda x, k=k, o=opts: F.avg_pool2d(x, k, o.get("stride"), o.get("padding", 0), o.get("ceilMode", False), o.get("countIncludePad", True))
        run_layer(w, name, kind, {"kernelSize": k, **opts}, fn, {"x": x}, {})
    run_layer(w, "adaptive_3x2", "adaptiveAvgPool2d", {"outputSize": [3, 2]}, lambda x: F.adaptive_avg_pool2d(x, (3, 2)), {"x": x}, {})
    for name, kind, fn, opts in [
        ("relu", "relu", F.relu, {}), ("sigmoid", "sigmoid", torch.sigmoid, {}), ("tanh", "tanh", torch.tanh, {}),
        ("softmax_1", "softmax", lambda x: F.softmax(x, 1), {"dim": 1}),
        ("logsoftmax_last", "logSoftmax", lambda x: F.log_softmax(x, -1), {"dim": -1}),
        ("flatten", "flatten", lambda x: torch.flatten(x, 1), {}),
    ]:
        run_layer(w, name, kind, opts, lambda x, fn=fn: fn(x), {"x": x}, {})
    for name, dims, momentum in [("bn2d", 4, 0.1), ("bn1d", 2, 0.3), ("bn2d_cumulative", 4, None)]:
        shape = (4, 3, 5, 5) if dims == 4 else (8, 3)
        bn = (nn.BatchNorm2d if dims == 4 else nn.BatchNorm1d)(3, momentum=momentum).double()
        with torch.no_grad():
            bn.weight.copy_(torch.randn(3, dtype=d))
            bn.bias.copy_(torch.randn(3, dtype=d))
        params = {"weight": bn.weight.detach().clone(), "bias": bn.bias.detach().clone()}
        xin = torch.randn(*shape, dtype=d)
        xs = xin.clone().requires_grad_(True)
        out = bn(xs)
        out2 = bn(xs * 2 + 1)  # a second training step, to check the running average
        gout = torch.randn_like(out)
        (out * gout).sum().backward()
        bn.eval()
        xe = torch.randn(*shape, dtype=d)
        w.case(name, "batchNorm", {"dims": dims, "momentum": momentum}, x=xin, **params, out=out, out2=out2, gout=gout,
               grad_x=xs.grad, grad_weight=bn.weight.grad, grad_bias=bn.bias.grad,
               running_mean=bn.running_mean, running_var=bn.running_var, x_eval=xe, out_eval=bn(xe))
    w.save("layers.safetensors")


def losses():
    w = Writer()
    d = torch.float64
    logits = torch.randn(6, 5, dtype=d)
    target = torch.tensor([0, 4, 2, 2, 1, 3])
    probs = torch.softmax(torch.randn(6, 5, dtype=d), 1)
    class_weight = torch.rand(5, dtype=d) + 0.2

    def case(name, kind, options, fn, inputs, extra):
        leaves = {k: v.clone().requires_grad_(True) for k, v in inputs.items()}
        out = fn(**leaves)
        gout = torch.randn_like(out)
        (out * gout).sum().backward()
        w.case(name, kind, options, **inputs, **extra, out=out, gout=gout,
               **{f"grad_{k}": v.grad for k, v in leaves.items()})

    for reduction in ("mean", "sum", "none"):
        case(f"ce_{reduction}", "crossEntropy", {"reduction": reduction},
             lambda x: F.cross_entropy(x, target, reduction=reduction), {"x": logits}, {"target": target.int()})
    case("ce_weight_ignore_smooth", "crossEntropy", {"ignoreIndex": 2, "labelSmoothing": 0.2, "reduction": "mean"},
         lambda x: F.cross_entropy(x, target, weight=class_weight, ignore_index=2, label_smoothing=0.2),
         {"x": logits}, {"target": target.int(), "weight": class_weight})
    case("ce_prob_targets", "crossEntropy", {"labelSmoothing": 0.1, "reduction": "mean"},
         lambda x: F.cross_entropy(x, probs, label_smoothing=0.1), {"x": logits}, {"target": probs})
    spatial_t = torch.randint(0, 5, (2, 3, 4))
    case("ce_spatial", "crossEntropy", {"reduction": "mean"}, lambda x: F.cross_entropy(x, spatial_t),
         {"x": torch.randn(2, 5, 3, 4, dtype=d)}, {"target": spatial_t.int()})
    logp = torch.log_softmax(logits, 1)
    for reduction in ("mean", "sum", "none"):
        case(f"nll_{reduction}", "nllLoss", {"reduction": reduction},
             lambda x: F.nll_loss(x, target, weight=class_weight, reduction=reduction), {"x": logp},
             {"target": target.int(), "weight": class_weight})
    pred = torch.randn(4, 3, dtype=d)
    real = torch.randn(4, 3, dtype=d)
    for reduction in ("mean", "sum", "none"):
        case(f"mse_{reduction}", "mseLoss", {"reduction": reduction}, lambda x: F.mse_loss(x, real, reduction=reduction), {"x": pred}, {"target": real})
        case(f"l1_{reduction}", "l1Loss", {"reduction": reduction}, lambda x: F.l1_loss(x, real, reduction=reduction), {"x": pred}, {"target": real})
    p = torch.sigmoid(torch.randn(4, 3, dtype=d))
    y = torch.randint(0, 2, (4, 3)).double()
    elem_w = torch.rand(4, 3, dtype=d)
    for reduction in ("mean", "sum", "none"):
        case(f"bce_{reduction}", "bceLoss", {"reduction": reduction}, lambda x: F.binary_cross_entropy(x, y, weight=elem_w, reduction=reduction),
             {"x": p}, {"target": y, "weight": elem_w})
    p_edge = torch.tensor([[0.0, 1.0, 0.5], [1e-50, 1 - 1e-12, 0.3]], dtype=d)
    y_edge = torch.tensor([[1.0, 0.0, 1.0], [1.0, 0.0, 0.0]], dtype=d)
    with torch.no_grad():
        w.case("bce_clamped_log", "bceLoss", {"reduction": "sum", "forwardOnly": True}, x=p_edge, target=y_edge,
               out=F.binary_cross_entropy(p_edge, y_edge, reduction="sum"))
    z = torch.randn(4, 3, dtype=d) * 3
    pos_weight = torch.rand(3, dtype=d) + 0.5
    for reduction in ("mean", "sum", "none"):
        case(f"bcelogits_{reduction}", "bceWithLogits", {"reduction": reduction},
             lambda x: F.binary_cross_entropy_with_logits(x, y, pos_weight=pos_weight, reduction=reduction),
             {"x": z}, {"target": y, "posWeight": pos_weight})
    z_big = torch.tensor([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 20.0]], dtype=d)
    case("bcelogits_extreme", "bceWithLogits", {"reduction": "mean"}, lambda x: F.binary_cross_entropy_with_logits(x, y[:2]),
         {"x": z_big}, {"target": y[:2]})
    q = torch.log_softmax(torch.randn(4, 5, dtype=d), 1)
    t = torch.softmax(torch.randn(4, 5, dtype=d), 1)
    t[0, 1] = 0  # a zero target probability: 0·log 0 = 0
    for reduction in ("batchmean", "sum", "mean", "none"):
        case(f"kl_{reduction}", "klDiv", {"reduction": reduction}, lambda x: F.kl_div(x, t, reduction=reduction), {"x": q}, {"target": t})
    case("kl_log_target", "klDiv", {"reduction": "batchmean", "logTarget": True},
         lambda x: F.kl_div(x, torch.log_softmax(t + 0.1, 1), reduction="batchmean", log_target=True),
         {"x": q}, {"target": torch.log_softmax(t + 0.1, 1)})
    w.save("losses.safetensors")


def inits():
    """Empirical statistics of PyTorch's initializers on large tensors (RNGs differ; moments agree)."""
    w = Writer()
    shape = (256, 128, 3, 3)
    nn_init = torch.nn.init
    for name, fn, options in [
        ("uniform_fan_in", lambda t: nn_init.kaiming_uniform_(t, a=math.sqrt(5)), {}),
        ("xavier_uniform", nn_init.xavier_uniform_, {}),
        ("xavier_normal", nn_init.xavier_normal_, {}),
        ("kaiming_uniform_relu", lambda t: nn_init.kaiming_uniform_(t, nonlinearity="relu"), {"nonlinearity": "relu"}),
        ("kaiming_normal_fan_out", lambda t: nn_init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"),
         {"mode": "fan_out", "nonlinearity": "relu"}),
        ("kaiming_normal_leaky", lambda t: nn_init.kaiming_normal_(t, a=0.2), {"a": 0.2}),
    ]:
        t = fn(torch.empty(*shape))
        w.case(name, "init", options, stats=torch.tensor([t.min(), t.max(), t.mean(), t.std()], dtype=torch.float64))
    w.save("init.safetensors")


class SmallNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 6)
        self.fc2 = nn.Linear(6, 3)

    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x)))


def optimizers():
    w = Writer()
    x = torch.randn(16, 4)
    y = torch.randint(0, 3, (16,))
    start = SmallNet()
    init = {k: v.detach().clone() for k, v in start.state_dict().items()}
    configs = [
        ("sgd_plain", "SGD", {"lr": 0.1}),
        ("sgd_momentum_nesterov_wd", "SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weightDecay": 1e-3}),
        ("sgd_dampening", "SGD", {"lr": 0.05, "momentum": 0.8, "dampening": 0.3}),
        ("adam", "Adam", {"lr": 0.01}),
        ("adam_wd_amsgrad", "Adam", {"lr": 0.01, "weightDecay": 0.01, "amsgrad": True}),
        ("adamw", "AdamW", {"lr": 0.01, "weightDecay": 0.1}),
    ]
    for name, kind, opts in configs:
        net = SmallNet()
        net.load_state_dict(init)
        kwargs = {"lr": opts["lr"], "weight_decay": opts.get("weightDecay", 0 if kind != "AdamW" else 0.01)}
        if kind == "SGD":
            opt = torch.optim.SGD(net.parameters(), momentum=opts.get("momentum", 0), dampening=opts.get("dampening", 0),
                                  nesterov=opts.get("nesterov", False), **kwargs)
        else:
            opt = getattr(torch.optim, kind)(net.parameters(), amsgrad=opts.get("amsgrad", False), **kwargs)
        losses = []
        for _ in range(20):
            opt.zero_grad()
            loss = F.cross_entropy(net(x), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        w.case(name, kind, opts, losses=torch.tensor(losses, dtype=torch.float64),
               **{f"final.{k}": v for k, v in net.state_dict().items()})
    w.case("data", "data", {}, x=x, y=y.int(), **{f"init.{k}": v for k, v in init.items()})
    w.save("optim.safetensors")


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(400, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


def lenet():
    net = LeNet()
    x = torch.randn(8, 1, 28, 28)
    y = torch.randint(0, 10, (8,))
    loss = F.cross_entropy(net(x), y)
    loss.backward()
    tensors = {k: v.detach().clone() for k, v in net.state_dict().items()}
    tensors.update({f"grad.{k}": p.grad for k, p in net.named_parameters()})
    tensors.update({"input": x, "target": y.int(), "loss": loss.detach().reshape(1)})
    save_file(tensors, os.path.join(ROOT, "lenet.safetensors"), metadata={"model": "lenet5"})


def check_nodegrad_file():
    """The file nodegrad wrote (test/fixtures/written-by-nodegrad.safetensors) must load here."""
    path = os.path.join(ROOT, "written-by-nodegrad.safetensors")
    if not os.path.exists(path):
        print("note: run the nodegrad test suite once to create", path)
        return
    tensors = load_file(path)
    expected = {
        "weight": torch.arange(12, dtype=torch.float32).reshape(3, 4) / 4,
        "bias": torch.tensor([-1.5, 0.0, 2.25], dtype=torch.float64),
        "steps": torch.tensor([[7, -3]], dtype=torch.int32),
    }
    for k, v in expected.items():
        assert torch.equal(tensors[k], v), k
    print("written-by-nodegrad.safetensors loads with safetensors", "OK")


if __name__ == "__main__":
    os.makedirs(ROOT, exist_ok=True)
    layers()
    losses()
    inits()
    optimizers()
    lenet()
    check_nodegrad_file()
    print("fixtures written to", os.path.abspath(ROOT))
