"""PyTorch CPU peer of bench/rnn.mjs: the same 2-layer LSTM language-model training step.

Run with Debian's python3-torch: /usr/bin/python3 bench/rnn_peer.py
Prints one JSON object: tokens per second and the median step time.
"""
import json
import os
import time

# torch's GEMMs go to OpenBLAS, whose own thread pool would oversubscribe the 2 cores (BENCHMARKS.md).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "2")))
torch.manual_seed(0)
VOCAB, EMB, HIDDEN, LAYERS, T, N = 1000, 200, 200, 2, 35, 20
STEPS = int(os.environ.get("RNN_BENCH_STEPS", "20"))


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Embedding(VOCAB, EMB)
        self.rnn = nn.LSTM(EMB, HIDDEN, LAYERS)
        self.decoder = nn.Linear(HIDDEN, VOCAB)

    def forward(self, ids, hidden):
        output, hidden = self.rnn(self.encoder(ids), hidden)
        return self.decoder(output).view(-1, VOCAB), hidden


model = Model()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
data = torch.randint(0, VOCAB, (T + 1, N))
hidden = (torch.zeros(LAYERS, N, HIDDEN), torch.zeros(LAYERS, N, HIDDEN))


def step():
    global hidden
    hidden = tuple(h.detach() for h in hidden)
    optimizer.zero_grad()
    logits, hidden = model(data[:-1], hidden)
    loss = nn.functional.cross_entropy(logits, data[1:].reshape(-1))
    loss.backward()
    optimizer.step()


for _ in range(3):
    step()
times = []
for _ in range(STEPS):
    t0 = time.perf_counter()
    step()
    times.append(time.perf_counter() - t0)
ms = sorted(times)[len(times) // 2] * 1e3
print(json.dumps({"name": "torch lstm lm step", "tokensPerSecond": round(T * N / ms * 1e3), "ms": round(ms, 2)}))
