"""Writes test/fixtures/lm.safetensors: nanoGPT's GPT and word_language_model's tied LSTM model.

    PYTHONPATH=/tmp/pydeps /usr/bin/python3 tools/golden/make_lm_goldens.py

Both models are written here as nanoGPT's model.py and word_language_model's model.py define them
(the GPT with the manual causal attention model.py falls back to before torch 2.0). Their weights
are not stored: every parameter, in state-dict order k, is filled by a formula the test repeats,
w[i] = scale * sin(0.37 * i + 1.3 * k) (LayerNorm weights 1 + 0.1 * sin(...)), rounded to float32.
The batches come from a formula too. Stored: the logits and loss of the first batch, and the loss
before each of 20 AdamW steps (weight decay 0.1 on matrices, nanoGPT's grouping; clipping at 1).
"""
import math

import torch
import torch.nn as nn
from torch.nn import functional as F

from writer import Writer

torch.manual_seed(0)


class LayerNorm(nn.Module):
    def __init__(self, ndim, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


class CausalSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c_attn = nn.Linear(c["n_embd"], 3 * c["n_embd"], bias=c["bias"])
        self.c_proj = nn.Linear(c["n_embd"], c["n_embd"], bias=c["bias"])
        self.attn_dropout = nn.Dropout(0.0)
        self.resid_dropout = nn.Dropout(0.0)
        self.n_head = c["n_head"]
        self.n_embd = c["n_embd"]
        bs = c["block_size"]
        self.register_buffer("bias", torch.tril(torch.ones(bs, bs)).view(1, 1, bs, bs))

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        y = att @ v
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c_fc = nn.Linear(c["n_embd"], 4 * c["n_embd"], bias=c["bias"])
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * c["n_embd"], c["n_embd"], bias=c["bias"])
        self.dropout = nn.Dropout(0.0)

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ln_1 = LayerNorm(c["n_embd"], bias=c["bias"])
        self.attn = CausalSelfAttention(c)
        self.ln_2 = LayerNorm(c["n_embd"], bias=c["bias"])
        self.mlp = MLP(c)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.transformer = nn.ModuleDict(
            dict(
                wte=nn.Embedding(c["vocab_size"], c["n_embd"]),
                wpe=nn.Embedding(c["block_size"], c["n_embd"]),
                drop=nn.Dropout(0.0),
                h=nn.ModuleList([Block(c) for _ in range(c["n_layer"])]),
                ln_f=LayerNorm(c["n_embd"], bias=c["bias"]),
            )
        )
        self.lm_head = nn.Linear(c["n_embd"], c["vocab_size"], bias=False)
        self.transformer.wte.weight = self.lm_head.weight

    def forward(self, idx, targets):
        t = idx.size(1)
        pos = torch.arange(0, t, dtype=torch.long)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
        for block in self.transformer.h:
            x = block(x)
        x = self.transformer.ln_f(x)
        logits = self.lm_head(x)
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
        return logits, loss


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
    gpt = GPT(c)
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
