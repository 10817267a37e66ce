"""PyTorch running the recipe of `node dist/cli.js train --model gpt` (lib/train/text-trainer.ts with
lib/cli-text.ts's defaults) on the same names split (lib/data/text.ts), for its time and validation loss.

GPT (bench/lm_peer.py, nanoGPT's model) 4 layers, 4 heads, width 64, block 16, dropout 0, bias; batch
32, 12 epochs, AdamW lr 3e-3 decayed by a cosine to a tenth, betas (0.9, 0.99), weight decay 0.1 on
matrices, gradients clipped at norm 1. The names are split and shuffled exactly as nodegrad does
(the same filter, dedupe, sort, and lib/data/dataset.ts's permutation), so both see the same batches.

Run: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/names_peer.py
Prints one JSON object per epoch ({"epoch", "seconds", "trainLoss", "validationLoss"}) and a total.
"""
import json
import math
import os
import re
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import lm_peer  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
EPOCHS, BATCH, LR, WEIGHT_DECAY, BLOCK = 12, 32, 3e-3, 0.1, 16
CONFIG = dict(n_layer=4, n_head=4, n_embd=64, block_size=BLOCK, vocab_size=27, dropout=0.0, bias=True)


def permutation(n, seed):
    """lib/data/dataset.ts's permutation(n, seed): Fisher–Yates driven by a 32-bit mixing generator."""
    mask = 0xFFFFFFFF

    def imul(a, b):
        return (a * b) & mask

    order = list(range(n))
    s = ((seed & mask) ^ 0x9E3779B9) & mask
    for i in range(n - 1, 0, -1):
        s = (s + 0x6D2B79F5) & mask
        z = s
        z = imul(z ^ (z >> 15), z | 1)
        z ^= (z + imul(z ^ (z >> 7), z | 61)) & mask
        j = math.floor(((z ^ (z >> 14)) & mask) / 4294967296 * (i + 1))
        order[i], order[j] = order[j], order[i]
    return order


def names_split():
    """lib/data/text.ts's names(): lowercase a–z names of both packages, deduplicated, sorted, every tenth held out."""
    words = []
    for package in ("female", "male"):
        path = os.path.join(HERE, "..", "node_modules", "@stdlib", f"datasets-{package}-first-names-en", "data", "names.txt")
        with open(path, encoding="utf8") as f:
            words += [w.strip().lower() for w in f.read().split("\n")]
    words = sorted(set(w for w in words if re.fullmatch("[a-z]+", w)))
    train, validation = [], []
    for i, j in enumerate(permutation(len(words), 1234)):
        (validation if i % 10 == 9 else train).append(words[j])
    return train, validation


def dataset(words):
    """x = '.' + name, y = name + '.', padded (x with 0, y with -1) or cut to BLOCK tokens."""
    x = torch.zeros(len(words), BLOCK, dtype=torch.long)
    y = torch.full((len(words), BLOCK), -1, dtype=torch.long)
    for row, word in enumerate(words):
        ids = [ord(c) - ord("a") + 1 for c in word]
        for t in range(min(BLOCK, len(ids) + 1)):
            x[row, t] = 0 if t == 0 else ids[t - 1]
            y[row, t] = ids[t] if t < len(ids) else 0
    return x, y


def main():
    torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "2")))
    torch.manual_seed(0)
    train_words, validation_words = names_split()
    xs, ys = dataset(train_words)
    xv, yv = dataset(validation_words)
    model = lm_peer.GPT(CONFIG)
    optimizer = model.configure_optimizers(WEIGHT_DECAY, LR, (0.9, 0.99))
    batches = math.ceil(len(xs) / BATCH)
    total_steps = EPOCHS * batches
    step = 0
    started_all = time.perf_counter()
    for epoch in range(EPOCHS):
        started = time.perf_counter()
        model.train()
        order = torch.tensor(permutation(len(xs), epoch))  # DataLoader: seed 0 + epoch
        loss_sum, tokens = 0.0, 0
        for b in range(batches):
            idx = order[b * BATCH : (b + 1) * BATCH]
            x, y = xs[idx], ys[idx]
            lr = LR * (0.1 + 0.45 * (1 + math.cos(math.pi * step / max(1, total_steps))))
            step += 1
            for group in optimizer.param_groups:
                group["lr"] = lr
            optimizer.zero_grad(set_to_none=True)
            _, loss = model(x, y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            counted = int((y != -1).sum())
            loss_sum += loss.item() * counted
            tokens += counted
        seconds = time.perf_counter() - started
        model.eval()
        with torch.no_grad():
            total, counted = 0.0, 0
            for b in range(0, len(xv), 512):
                x, y = xv[b : b + 512], yv[b : b + 512]
                n = int((y != -1).sum())
                total += model(x, y)[1].item() * n
                counted += n
        print(
            json.dumps(
                {
                    "epoch": epoch + 1,
                    "seconds": round(seconds, 3),
                    "trainLoss": round(loss_sum / tokens, 4),
                    "validationLoss": round(total / counted, 4),
                }
            ),
            flush=True,
        )
    print(json.dumps({"totalSeconds": round(time.perf_counter() - started_all, 2)}))


if __name__ == "__main__":
    main()
