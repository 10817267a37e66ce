"""PyTorch CPU peer for `npm run bench`: the same models, batch sizes and step as bench/run.mjs.

Run with Debian's python3-torch: /usr/bin/python3 bench/torch_peer.py [suite ...]
Prints one JSON object per line: {"name": ..., "value": ..., "unit": ...}.
"""
import json
import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import torch  # noqa: E402
from peer_timing import median_seconds  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import lm_peer  # noqa: E402  (bench/lm_peer.py: the sequence models)

torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "2")))
torch.manual_seed(0)


def emit(name, value, unit):
    print(json.dumps({"name": name, "value": value, "unit": unit}), flush=True)


class LeNet5(nn.Module):
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
        x = x.flatten(1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))


def train_throughput(model, batch):
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(batch, 1, 28, 28)
    y = torch.arange(batch) % 10

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()

    return batch / median_seconds(step)


def infer_throughput(model, batch):
    x = torch.randn(batch, 1, 28, 28)
    with torch.no_grad():
        return batch / median_seconds(lambda: model(x))


def conv_times(prefix, n, c, h, w, out_c, k, pad):
    x = torch.randn(n, c, h, w, requires_grad=True)
    conv = nn.Conv2d(c, out_c, k, padding=pad)
    flops = 2 * n * out_c * c * k * k * ((h + 2 * pad - k + 1) * (w + 2 * pad - k + 1))
    with torch.no_grad():
        fwd = median_seconds(lambda: conv(x))
    y = conv(x)
    g = torch.randn_like(y)
    bwd = median_seconds(lambda: torch.autograd.grad(y, [x, conv.weight, conv.bias], g, retain_graph=True))
    emit(f"{prefix} forward", flops / fwd / 1e9, "GFLOP/s")
    emit(f"{prefix} backward", 2 * flops / bwd / 1e9, "GFLOP/s")


def main(suites):
    if "conv" in suites:
        conv_times("conv lenet conv1 64x1x28x28 6@5x5", 64, 1, 28, 28, 6, 5, 2)
        conv_times("conv lenet conv2 64x6x14x14 16@5x5", 64, 6, 14, 14, 16, 5, 0)
        conv_times("conv resnet 32x64x56x56 64@3x3", 32, 64, 56, 56, 64, 3, 1)
    if "train" in suites:
        for name, make in (("lenet5", LeNet5), ("mlp", mlp)):
            for batch in (64, 128):
                emit(f"train {name} batch {batch}", train_throughput(make(), batch), "images/s")
            model = make().eval()
            emit(f"inference {name} batch 256", infer_throughput(model, 256), "images/s")
    if "gpt" in suites:
        step, tokens = lm_peer.gpt_step()
        emit("train gpt 4x128 T=64 batch 16", tokens / median_seconds(step), "tokens/s")
    if "lstm" in suites:
        step, tokens = lm_peer.lstm_step()
        emit("train lstm lm 2x200 T=35 batch 20", tokens / median_seconds(step), "tokens/s")
    if "attention" in suites:
        for t in (256, 1024):
            emit(f"sdpa causal fwd+bwd B=4 H=4 E=64 T={t}", 1 / median_seconds(lm_peer.attention_step(t)), "calls/s")


if __name__ == "__main__":
    main(sys.argv[1:] or ["conv", "train"])
