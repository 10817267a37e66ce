"""Writes test/fixtures/lm.safetensors: nanoGPT's GPT and word_language_model's tied LSTM model.

    PYTHONPATH=/tmp/pydeps /usr/bin/python3 tools/golden/make_lm_goldens.py

The GPT is nanoGPT's model.py as bench/lm_peer.py writes it out (the manual causal attention model.py
falls back to before torch 2.0); the LSTM model is word_language_model's model.py. Their weights
are not stored: every parameter, in state-dict order k, is filled by a formula the test repeats,
w[i] = scale * sin(0.37 * i + 1.3 * k) (LayerNorm weights 1 + 0.1 * sin(...)), rounded to float32.
The batches come from a formula too. Stored: the logits and loss of the first batch, and the loss
before each of 20 AdamW steps (weight decay 0.1 on matrices, nanoGPT's grouping; clipping at 1).
"""
import os
import sys

import torch
import torch.nn as nn
from torch.nn import functional as F

from writer import Writer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
from lm_peer import GPT  # noqa: E402  (nanoGPT's model, shared with the benchmark's peer)

torch.manual_seed(0)


class RNNModel(nn.Module):
    def __init__(self, ntoken, ninp, nhid, nlayers):
        super().__init__()
        self.drop = nn.Dropout(0.0)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = nn.LSTM(ninp, nhid, nlayers, dropout=0.0)
        self.decoder = nn.Linear(nhid, ntoken)
        self.decoder.weight = self.encoder.weight
        self.ntoken = ntoken

    def forward(self, input, hidden=None):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        decoded = self.decoder(self.drop(output)).view(-1, self.ntoken)
        return F.log_softmax(decoded, dim=1), hidden


def fill_weights(model):
    """The formula the test repeats: parameters in state-dict order (tied ones once)."""
    seen = set()
    with torch.no_grad():
        for k, (name, p) in enumerate(model.named_parameters()):
            if id(p) in seen:
                continue
            seen.add(id(p))
            i = torch.arange(p.numel(), dtype=torch.float64)
            wave = torch.sin(0.37 * i + 1.3 * k)
            if p.dim() == 1 and ("ln_" in name or "norm" in name) and name.endswith("weight"):
                value = 1 + 0.1 * wave
            else:
                value = 0.05 * wave
            p.copy_(value.to(torch.float32).view(p.shape))


def tokens(shape, vocab, step):
    """x[b, t] = (131 b + 17 t^2 + 7 step + 3) mod vocab."""
    b = torch.arange(shape[0]).view(-1, 1)
    t = torch.arange(shape[1]).view(1, -1)
    return ((131 * b + 17 * t * t + 7 * step + 3) % vocab).long()


def adamw(model, lr):
    params = [p for p in model.parameters()]
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    return torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}], lr=lr, betas=(0.9, 0.95)
    )


def main():
    w = Writer()
    c = dict(vocab_size=65, block_size=64, n_layer=4, n_head=4, n_embd=128, bias=True)
    gpt = GPT(dict(c, dropout=0.0))
    fill_weights(gpt)
    B, T = 2, 64
    x = tokens([B, T], c["vocab_size"], 0)
    y = tokens([B, T], c["vocab_size"], 1)
    y[0, -5:] = -1
    logits, loss = gpt(x, y)
    opt = adamw(gpt, 1e-3)
    losses = []
    for step in range(20):
        xs = tokens([B, T], c["vocab_size"], 2 * step)
        ys = tokens([B, T], c["vocab_size"], 2 * step + 1)
        _, l = gpt(xs, ys)
        losses.append(l.item())
        opt.zero_grad()
        l.backward()
        torch.nn.utils.clip_grad_norm_(gpt.parameters(), 1.0)
        opt.step()
    keys = [k for k in gpt.state_dict().keys() if not k.endswith(".attn.bias")]
    w.case(
        "gpt",
        "gpt",
        {"config": c, "batch": [B, T], "keys": keys},
        logits=logits,
        loss=loss.reshape([]),
        losses=torch.tensor(losses, dtype=torch.float64),
    )

    ntoken, nhid, nlayers, T, N = 50, 64, 2, 20, 4
    lm = RNNModel(ntoken, nhid, nhid, nlayers)
    fill_weights(lm)
    x = tokens([T, N], ntoken, 0)
    y = tokens([T, N], ntoken, 1)
    log_probs, (h, cell) = lm(x)
    nll = F.nll_loss(log_probs, y.view(-1))
    opt = adamw(lm, 3e-3)
    losses = []
    for step in range(20):
        lp, _ = lm(tokens([T, N], ntoken, 2 * step))
        l = F.nll_loss(lp, tokens([T, N], ntoken, 2 * step + 1).view(-1))
        losses.append(l.item())
        opt.zero_grad()
        l.backward()
        torch.nn.utils.clip_grad_norm_(lm.parameters(), 1.0)
        opt.step()
    w.case(
        "lstm",
        "lstm",
        {"vocabSize": ntoken, "hiddenSize": nhid, "numLayers": nlayers, "batch": [T, N], "keys": list(lm.state_dict().keys())},
        logProbs=log_probs,
        h=h,
        c=cell,
        loss=nll.reshape([]),
        losses=torch.tensor(losses, dtype=torch.float64),
    )
    w.save("lm.safetensors")


if __name__ == "__main__":
    main()
