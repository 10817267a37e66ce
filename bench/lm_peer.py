"""PyTorch side of bench/lm.mjs's suites (gpt, lstm, attention), run through bench/torch_peer.py.

GPT is nanoGPT's model.py (Karpathy) written out, with its manual causal attention (torch 1.13 has no
F.scaled_dot_product_attention); bench/names_peer.py reuses it.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class LayerNorm(nn.Module):
    """LayerNorm with an optional bias (nanoGPT's)."""

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
        self.attn_dropout = nn.Dropout(c["dropout"])
        self.resid_dropout = nn.Dropout(c["dropout"])
        self.n_head = c["n_head"]
        n = c["block_size"]
        self.register_buffer("bias", torch.tril(torch.ones(n, n)).view(1, 1, n, n))

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(C, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
        att = self.attn_dropout(F.softmax(att, dim=-1))
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c_fc = nn.Linear(c["n_embd"], 4 * c["n_embd"], bias=c["bias"])
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * c["n_embd"], c["n_embd"], bias=c["bias"])
        self.dropout = nn.Dropout(c["dropout"])

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
        self.config = c
        self.transformer = nn.ModuleDict(
            dict(
                wte=nn.Embedding(c["vocab_size"], c["n_embd"]),
                wpe=nn.Embedding(c["block_size"], c["n_embd"]),
                drop=nn.Dropout(c["dropout"]),
                h=nn.ModuleList([Block(c) for _ in range(c["n_layer"])]),
                ln_f=LayerNorm(c["n_embd"], bias=c["bias"]),
            )
        )
        self.lm_head = nn.Linear(c["n_embd"], c["vocab_size"], bias=False)
        self.transformer.wte.weight = self.lm_head.weight
        self.apply(self._init_weights)
        for pn, p in self.named_parameters():
            if pn.endswith("c_proj.weight"):
                torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * c["n_layer"]))

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, idx, targets=None):
        t = idx.size(1)
        pos = torch.arange(0, t, dtype=torch.long, device=idx.device)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
        for block in self.transformer.h:
            x = block(x)
        x = self.transformer.ln_f(x)
        if targets is not None:
            logits = self.lm_head(x)
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
            return logits, loss
        return self.lm_head(x[:, [-1], :]), None

    def configure_optimizers(self, weight_decay, learning_rate, betas):
        params = [p for p in self.parameters() if p.requires_grad]
        groups = [
            {"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
            {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
        ]
        return torch.optim.AdamW(groups, lr=learning_rate, betas=betas)


GPT_CONFIG = dict(n_layer=4, n_head=4, n_embd=128, block_size=64, vocab_size=65, dropout=0.0, bias=True)
GPT_BATCH = 16


def gpt_step():
    """One step as bench/lm.mjs's gptStep: zero_grad, forward(x, y), backward, clip_grad_norm_(1.0), step."""
    c = GPT_CONFIG
    model = GPT(c)
    optimizer = model.configure_optimizers(0.1, 1e-3, (0.9, 0.99))
    x = torch.randint(0, c["vocab_size"], (GPT_BATCH, c["block_size"]))
    y = torch.randint(0, c["vocab_size"], (GPT_BATCH, c["block_size"]))

    def step():
        optimizer.zero_grad(set_to_none=True)
        _, loss = model(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

    return step, GPT_BATCH * c["block_size"]


VOCAB, EMB, HIDDEN, LAYERS, T, N = 1000, 200, 200, 2, 35, 20


def lstm_step():
    """One step as bench/lm.mjs's lstmStep: embedding, 2-layer LSTM, Linear decoder, cross-entropy, SGD 0.1."""
    encoder = nn.Embedding(VOCAB, EMB)
    rnn = nn.LSTM(EMB, HIDDEN, LAYERS)
    decoder = nn.Linear(HIDDEN, VOCAB)
    params = [*encoder.parameters(), *rnn.parameters(), *decoder.parameters()]
    optimizer = torch.optim.SGD(params, lr=0.1)
    data = torch.randint(0, VOCAB, (T + 1, N))
    state = [(torch.zeros(LAYERS, N, HIDDEN), torch.zeros(LAYERS, N, HIDDEN))]

    def step():
        hidden = tuple(h.detach() for h in state[0])
        optimizer.zero_grad()
        output, state[0] = rnn(encoder(data[:-1]), hidden)
        F.cross_entropy(decoder(output).view(-1, VOCAB), data[1:].reshape(-1)).backward()
        optimizer.step()

    return step, T * N


ATTENTION_B, ATTENTION_H, ATTENTION_E = 4, 4, 64


def attention_step(t):
    """Naive causal attention forward + backward: softmax(q kᵀ / √E + mask) v."""
    q, k, v = (torch.randn(ATTENTION_B, ATTENTION_H, t, ATTENTION_E, requires_grad=True) for _ in range(3))
    mask = torch.full((t, t), float("-inf")).triu(1)
    grad = torch.randn(ATTENTION_B, ATTENTION_H, t, ATTENTION_E)

    def step():
        scores = q @ k.transpose(-2, -1) / math.sqrt(ATTENTION_E) + mask
        (torch.softmax(scores, -1) @ v).backward(grad)
        q.grad = k.grad = v.grad = None

    return step
