"""Writes test/fixtures/zoo.safetensors: logits of torchvision's models (and the zoo's LeNet-5)
given deterministic weights, so nodegrad's zoo can be checked without committing the weights.

    apt-get install -y python3-torch python3-torchvision
    PYTHONPATH=/tmp/pydeps /usr/bin/python3 tools/golden/make_zoo_goldens.py

Every state-dict entry k (in order), element i, is filled by the formula that
test/models/zoo.test.ts repeats: weights sqrt(6/fan_in)·sin(0.37 i + 0.11 k); 1-D weights
1 + 0.1 sin(...); biases 0.1 sin(...); running_mean 0.1 sin(0.3 i + k); running_var
1 + 0.25 sin²(0.7 i + k). The input is sin(0.1 i). Models run in eval mode in float64.
"""
import json
import math
import os

import torch
import torch.nn as nn
import torchvision.models as tvm
from safetensors.torch import save_file

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures")



class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                                        nn.Linear(84, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


def fill(model):
    with torch.no_grad():
        for k, (name, t) in enumerate(model.state_dict().items()):
            i = torch.arange(t.numel(), dtype=torch.float64)
            if name.endswith("num_batches_tracked"):
                continue
            if name.endswith("running_mean"):
                v = 0.1 * torch.sin(0.3 * i + k)
            elif name.endswith("running_var"):
                v = 1 + 0.25 * torch.sin(0.7 * i + k) ** 2
            elif t.dim() >= 2:
                fan_in = t.numel() // t.shape[0]
                v = math.sqrt(6 / fan_in) * torch.sin(0.37 * i + 0.11 * k)
            elif name.endswith("weight"):
                v = 1 + 0.1 * torch.sin(0.37 * i + 0.11 * k)
            else:
                v = 0.1 * torch.sin(0.37 * i + 0.11 * k)
            t.copy_(v.reshape(t.shape))


def main():
    cases = [
        ("lenet5", LeNet5(), [2, 1, 28, 28]),
        ("alexnet", tvm.alexnet(num_classes=10), [2, 3, 64, 64]),
        ("vgg11", tvm.vgg11(num_classes=10), [2, 3, 32, 32]),
        ("vgg11_bn", tvm.vgg11_bn(num_classes=10), [2, 3, 32, 32]),
        ("resnet18", tvm.resnet18(num_classes=10), [2, 3, 32, 32]),
        ("resnet50", tvm.resnet50(num_classes=10), [2, 3, 32, 32]),
        ("googlenet", tvm.googlenet(num_classes=10, aux_logits=False, init_weights=False), [2, 3, 32, 32]),
    ]
    tensors, meta = {}, []
    for name, model, shape in cases:
        model = model.double().eval()
        fill(model)
        n = math.prod(shape)
        x = torch.sin(0.1 * torch.arange(n, dtype=torch.float64)).reshape(shape)
        with torch.no_grad():
            tensors[f"{name}/logits"] = model(x).contiguous()
        meta.append({"name": name, "input": shape, "keys": list(model.state_dict().keys())})
    save_file(tensors, os.path.join(ROOT, "zoo.safetensors"), metadata={"cases": json.dumps(meta)})
    print("wrote zoo.safetensors")


if __name__ == "__main__":
    main()
