"""PyTorch peer of bench/cnn.mjs (`npm run bench -- cnn`): deep CNNs written as torchvision 0.14 defines
them (torchvision is not installed for Debian's python3): ResNet-18/50 (BasicBlock, Bottleneck),
vgg11_bn, GoogLeNet (no auxiliary heads, as nodegrad's zoo by default) and AlexNet, with
torchvision's module names (the same state-dict keys as nodegrad's zoo) and initialization.

Run with Debian's python3-torch: /usr/bin/python3 bench/cnn_peer.py JOB 'JSON'
  params {"models": [{"model": "resnet18", "numClasses": 10}, ...]}       parameter counts
  keys   {"models": [...]}                                                 the counts and state-dict keys
  train  {"model": ..., "numClasses": ..., "batch": ..., "size": ...}    SGD momentum 0.9 steps, img/s
  infer  {"model": ..., "numClasses": ..., "batch": ..., "size": ...}    eval + no_grad forward, img/s
  layers {"shapes": [{"key", "n", "c", "h", "w", "oc", "k", "s", "p"}]} conv fwd / input grad / weight grad, GFLOP/s
  bn     {"shapes": [{"key", "n", "c", "h", "w"}]}                       BatchNorm2d training fwd+bwd, calls/s
Prints one JSON object per line: {"name": ..., "value": ...}.
"""
import json
import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from peer_timing import median_seconds  # noqa: E402

torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "2")))
torch.manual_seed(0)


def conv3x3(inp, out, stride=1):
    return nn.Conv2d(inp, out, 3, stride=stride, padding=1, bias=False)


def conv1x1(inp, out, stride=1):
    return nn.Conv2d(inp, out, 1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv1x1(inplanes, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = conv1x1(planes, planes * 4)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class ResNet(nn.Module):
    def __init__(self, block, layers, num_classes):
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], 2)
        self.layer3 = self._make_layer(block, 256, layers[2], 2)
        self.layer4 = self._make_layer(block, 512, layers[3], 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                conv1x1(self.inplanes, planes * block.expansion, stride), nn.BatchNorm2d(planes * block.expansion)
            )
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class Classifier(nn.Module):
    """features → avgpool → flatten → classifier (VGG's and AlexNet's forward), keeping their keys."""

    def __init__(self, features, avgpool, classifier):
        super().__init__()
        self.features, self.avgpool, self.classifier = features, avgpool, classifier

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def vgg11_bn(num_classes):
    layers, channels = [], 3
    for v in [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]:
        if v == "M":
            layers.append(nn.MaxPool2d(2, stride=2))
        else:
            layers += [nn.Conv2d(channels, v, 3, padding=1), nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
            channels = v
    classifier = nn.Sequential(
        nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(0.5),
        nn.Linear(4096, num_classes),
    )
    model = Classifier(nn.Sequential(*layers), nn.AdaptiveAvgPool2d((7, 7)), classifier)
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            nn.init.constant_(m.bias, 0)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.constant_(m.bias, 0)
    return model


def alexnet(num_classes):
    features = nn.Sequential(
        nn.Conv2d(3, 64, 11, stride=4, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, stride=2),
        nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, stride=2),
        nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, stride=2),
    )
    classifier = nn.Sequential(
        nn.Dropout(0.5), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
        nn.Dropout(0.5), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
        nn.Linear(4096, num_classes),
    )
    return Classifier(features, nn.AdaptiveAvgPool2d((6, 6)), classifier)


class BasicConv2d(nn.Module):
    def __init__(self, inp, out, kernel_size, **kwargs):
        super().__init__()
        self.conv = nn.Conv2d(inp, out, kernel_size, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(out, eps=0.001)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)), inplace=True)


class Inception(nn.Module):
    def __init__(self, inp, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
        super().__init__()
        self.branch1 = BasicConv2d(inp, ch1x1, 1)
        self.branch2 = nn.Sequential(BasicConv2d(inp, ch3x3red, 1), BasicConv2d(ch3x3red, ch3x3, 3, padding=1))
        # torchvision's "5x5" branch is a 3×3 convolution.
        self.branch3 = nn.Sequential(BasicConv2d(inp, ch5x5red, 1), BasicConv2d(ch5x5red, ch5x5, 3, padding=1))
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True), BasicConv2d(inp, pool_proj, 1))

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class GoogLeNet(nn.Module):
    """torchvision's GoogLeNet with aux_logits=False, transform_input=False."""

    def __init__(self, num_classes):
        super().__init__()
        self.conv1 = BasicConv2d(3, 64, 7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = BasicConv2d(64, 64, 1)
        self.conv3 = BasicConv2d(64, 192, 3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception3a = Inception(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = Inception(256, 128, 128, 192, 32, 96, 64)
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception4a = Inception(480, 192, 96, 208, 16, 48, 64)
        self.inception4b = Inception(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = Inception(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = Inception(512, 112, 144, 288, 32, 64, 64)
        self.inception4e = Inception(528, 256, 160, 320, 32, 128, 128)
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.inception5a = Inception(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = Inception(832, 384, 192, 384, 48, 128, 128)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(0.2)
        self.fc = nn.Linear(1024, num_classes)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(m.weight, mean=0.0, std=0.01, a=-2, b=2)

    def forward(self, x):
        x = self.maxpool1(self.conv1(x))
        x = self.maxpool2(self.conv3(self.conv2(x)))
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        x = self.inception4d(self.inception4c(self.inception4b(self.inception4a(x))))
        x = self.maxpool4(self.inception4e(x))
        x = self.inception5b(self.inception5a(x))
        return self.fc(self.dropout(torch.flatten(self.avgpool(x), 1)))


MODELS = {
    "resnet18": lambda classes: ResNet(BasicBlock, [2, 2, 2, 2], classes),
    "resnet50": lambda classes: ResNet(Bottleneck, [3, 4, 6, 3], classes),
    "vgg11_bn": vgg11_bn,
    "googlenet": GoogLeNet,
    "alexnet": alexnet,
}


def emit(name, value):
    print(json.dumps({"name": name, "value": value}), flush=True)


def train(spec):
    model = MODELS[spec["model"]](spec["numClasses"]).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    b, size = spec["batch"], spec["size"]
    x = torch.randn(b, 3, size, size)
    y = torch.arange(b) % spec["numClasses"]

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()

    emit("train", b / median_seconds(step))


def infer(spec):
    model = MODELS[spec["model"]](spec["numClasses"]).eval()
    x = torch.randn(spec["batch"], 3, spec["size"], spec["size"])
    with torch.no_grad():
        emit("infer", spec["batch"] / median_seconds(lambda: model(x)))


def layers(spec):
    for s in spec["shapes"]:
        n, c, h, w, oc, k, st, p = (s[i] for i in ("n", "c", "h", "w", "oc", "k", "s", "p"))
        x = torch.randn(n, c, h, w, requires_grad=True)
        wt = torch.randn(oc, c, k, k, requires_grad=True)
        with torch.no_grad():
            y = F.conv2d(x, wt, stride=st, padding=p)
            fwd = median_seconds(lambda: F.conv2d(x, wt, stride=st, padding=p))
        flops = 2 * n * oc * c * k * k * y.shape[2] * y.shape[3]
        y = F.conv2d(x, wt, stride=st, padding=p)
        g = torch.randn_like(y)
        dx = median_seconds(lambda: torch.autograd.grad(y, [x], g, retain_graph=True))
        dw = median_seconds(lambda: torch.autograd.grad(y, [wt], g, retain_graph=True))
        for part, seconds in (("forward", fwd), ("input-grad", dx), ("weight-grad", dw)):
            emit(f"{s['key']} {part}", flops / seconds / 1e9)


def bn(spec):
    for s in spec["shapes"]:
        layer = nn.BatchNorm2d(s["c"]).train()
        x = torch.randn(s["n"], s["c"], s["h"], s["w"], requires_grad=True)
        g = torch.randn_like(x)

        def step():
            torch.autograd.grad(layer(x), [x, layer.weight, layer.bias], g)

        emit(s["key"], 1 / median_seconds(step))


def uninitialized(name, classes):
    """The model with its random initialization skipped: parameter counts and keys need only the shapes."""
    skip = lambda *args, **kwargs: None  # noqa: E731
    saved = {}
    for owner, attr in [(nn.init, f) for f in ("kaiming_normal_", "normal_", "trunc_normal_", "constant_")] + [
        (nn.Linear, "reset_parameters"), (nn.Conv2d, "reset_parameters")
    ]:
        saved[(owner, attr)] = getattr(owner, attr)
        setattr(owner, attr, skip)
    try:
        return MODELS[name](classes)
    finally:
        for (owner, attr), fn in saved.items():
            setattr(owner, attr, fn)


def main(job, spec):
    if job in ("params", "keys"):
        emit("torch", torch.__version__)
        for m in spec["models"]:
            model = uninitialized(m["model"], m["numClasses"])
            emit(f"{m['model']} {m['numClasses']}", sum(p.numel() for p in model.parameters()))
            if job == "keys":
                print(json.dumps({"name": m["model"], "keys": list(model.state_dict().keys())}), flush=True)
    else:
        {"train": train, "infer": infer, "layers": layers, "bn": bn}[job](spec)


if __name__ == "__main__":
    main(sys.argv[1], json.loads(sys.argv[2]))
