"""Writes the ONNX import fixtures: test/fixtures/onnx/*.onnx (PyTorch's own exports, opset 17) and
test/fixtures/onnx.safetensors (PyTorch's outputs for fixed inputs).

    PYTHONPATH=/tmp/pydeps /usr/bin/python3 tools/golden/make_onnx_goldens.py
    npx tsc -p tsconfig.build.json && node tools/golden/onnx-external-data.mjs

Models: LeNet-5 as ng.models.lenet5 builds it (1×28×28, ReLU, 10 classes), torchvision's ResNet-18
(written out here: torchvision is not installed) on 3×32×32 inputs, and the nanoGPT GPT of
make_lm_goldens.py (a small config; its logits only). Weights come from formulas, not a seed:

- LeNet-5 and GPT: make_lm_goldens.fill_weights (stored in the .onnx files, which stay small).
- ResNet-18: every conv/linear weight of shape S is resnet_weight(S) below, a formula of its shape
  alone, so the test can regenerate the ONNX initializers from their dims:
      w[i] = 1.5 / sqrt(fan_in) * sin(0.37 * i + 0.0013 * i * i + 0.011 * numel), fan_in = numel / S[0],
      in float64 then float32
  BatchNorm is the identity with running_var = 1 - eps, so that the Conv+BN fold PyTorch's eval export
  does (w * gamma / sqrt(var + eps)) multiplies by exactly 1.0f and leaves w bit-identical; the folded
  conv biases are exactly 0. The fc bias is 0.01 * sin(0.37 * i). onnx-external-data.mjs then moves
  every initializer of 4096 elements or more out of resnet18.onnx into external data (checking that
  each equals the formula); test/onnx/import.test.ts writes that file again from the formula.
- ResNet-18 again (resnet18-bn.onnx), exported without constant folding so that its 20
  BatchNormalization nodes stay, with statistics far from the identity (fill_batchnorm); its conv
  and fc weights are the same formula, moved to external data the same way.
"""
import io
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from make_lm_goldens import GPT, fill_weights, tokens
from writer import ROOT, Writer

OPSET = 17
ONNX_DIR = os.path.join(ROOT, "onnx")


class LeNet5(nn.Module):
    """lib/models/lenet.ts with its defaults."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2)
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10)
        )

    def forward(self, x):
        return self.classifier(self.features(x))


class BasicBlock(nn.Module):
    """torchvision.models.resnet.BasicBlock."""

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu(out + identity)


class ResNet18(nn.Module):
    """torchvision.models.resnet18(): BasicBlock, layers [2, 2, 2, 2], 1000 classes."""

    def __init__(self, num_classes=1000):
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(64, 2)
        self.layer2 = self._make_layer(128, 2, 2)
        self.layer3 = self._make_layer(256, 2, 2)
        self.layer4 = self._make_layer(512, 2, 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512, num_classes)

    def _make_layer(self, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes)
            )
        layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [BasicBlock(planes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def resnet_weight(shape):
    numel = math.prod(shape)
    i = torch.arange(numel, dtype=torch.float64)
    value = 1.5 * math.sqrt(shape[0] / numel) * torch.sin(0.37 * i + 0.0013 * i * i + 0.011 * numel)
    return value.to(torch.float32).view(shape)


def fill_resnet(model):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                m.weight.copy_(resnet_weight(list(m.weight.shape)))
            if isinstance(m, nn.Linear):
                m.bias.copy_(0.01 * torch.sin(0.37 * torch.arange(m.bias.numel(), dtype=torch.float64)))
            if isinstance(m, nn.BatchNorm2d):
                m.weight.fill_(1)
                m.bias.zero_()
                m.running_mean.zero_()
                m.running_var.fill_(1 - m.eps)
                assert bool((m.running_var + m.eps == 1).all()), "the Conv+BN fold would not be exact"


def fill_batchnorm(model):
    """Statistics far from the identity, for the unfolded export (they stay in the file)."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                i = torch.arange(m.num_features, dtype=torch.float64)
                m.weight.copy_(1 + 0.2 * torch.sin(0.7 * i))
                m.bias.copy_(0.1 * torch.cos(0.3 * i))
                m.running_mean.copy_(0.1 * torch.sin(1.1 * i))
                m.running_var.copy_(0.75 + 0.25 * torch.cos(0.9 * i))


def images(shape):
    """x[i] = sin(0.1 * i) + 0.5 * cos(0.013 * i * i), a formula the test does not need (inputs are stored)."""
    i = torch.arange(math.prod(shape), dtype=torch.float64)
    return (torch.sin(0.1 * i) + 0.5 * torch.cos(0.013 * i * i)).to(torch.float32).view(shape)


def export(model, args, name, **kwargs):
    buffer = io.BytesIO()
    torch.onnx.export(model, args, buffer, opset_version=OPSET, **kwargs)
    return buffer.getvalue()


class GPTLogits(nn.Module):
    def __init__(self, gpt):
        super().__init__()
        self.gpt = gpt

    def forward(self, idx):
        return self.gpt(idx, torch.zeros_like(idx))[0]


def main():
    os.makedirs(ONNX_DIR, exist_ok=True)
    w = Writer()

    lenet = LeNet5().eval()
    fill_weights(lenet)
    x = images([2, 1, 28, 28])
    with open(os.path.join(ONNX_DIR, "lenet5.onnx"), "wb") as f:
        f.write(export(lenet, (x,), "lenet5", input_names=["input"], output_names=["logits"],
                       dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}))
    target = torch.tensor([3, 7])
    loss = F.cross_entropy(lenet(x), target)
    w.case("lenet5", "lenet5", {"parameters": sum(p.numel() for p in lenet.parameters()),
                                "tensors": len(list(lenet.parameters()))},
           input=x, output=lenet(x), target=target.to(torch.int32), loss=loss.reshape([]))

    resnet = ResNet18().eval()
    fill_resnet(resnet)
    x = images([2, 3, 32, 32])
    # Written in full to /tmp; onnx-external-data.mjs makes the small fixture from it.
    with open("/tmp/resnet18-full.onnx", "wb") as f:
        f.write(export(resnet, (x,), "resnet18", input_names=["input"], output_names=["logits"]))
    w.case("resnet18", "resnet18", {}, input=x, output=resnet(x))
    # The same network with its BatchNormalization nodes kept (PRESERVE skips the eval-mode Conv+BN
    # fold; no constant folding), with real statistics.
    fill_batchnorm(resnet)
    with open("/tmp/resnet18-bn-full.onnx", "wb") as f:
        f.write(export(resnet, (x,), "resnet18-bn", input_names=["input"], output_names=["logits"],
                       do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE))
    w.case("resnet18_bn", "resnet18", {}, input=x, output=resnet(x))

    c = dict(vocab_size=65, block_size=16, n_layer=2, n_head=2, n_embd=32, bias=True)
    gpt = GPT(c).eval()
    fill_weights(gpt)
    idx = tokens([2, 12], c["vocab_size"], 0)
    model = GPTLogits(gpt)
    with open(os.path.join(ONNX_DIR, "gpt.onnx"), "wb") as f:
        f.write(export(model, (idx,), "gpt", input_names=["idx"], output_names=["logits"],
                       dynamic_axes={"idx": {0: "batch", 1: "sequence"}, "logits": {0: "batch", 1: "sequence"}}))
    short = tokens([1, 5], c["vocab_size"], 3)
    w.case("gpt", "gpt", {"config": c}, input=idx.to(torch.int32), output=model(idx),
           shortInput=short.to(torch.int32), shortOutput=model(short))
    w.save("onnx.safetensors")


if __name__ == "__main__":
    main()
