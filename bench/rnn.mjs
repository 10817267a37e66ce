// `node bench/rnn.mjs` (after `npx tsc -p tsconfig.build.json`): one training step of a 2-layer LSTM
// language model (embedding 200, hidden 200, T = 35, batch 20, vocabulary 1000, Linear decoder,
// cross-entropy, SGD) in tokens per second, median of RNN_BENCH_STEPS (20) steps, against the same
// model in PyTorch (bench/rnn_peer.py with /usr/bin/python3, 2 threads); prints both and the ratio.
// NODEGRAD_NUM_THREADS sets nodegrad's threads (default 2, as the peer's).
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ng from '../dist/index.js';

const VOCAB = 1000;
const EMB = 200;
const HIDDEN = 200;
const LAYERS = 2;
const T = 35;
const N = 20;
const STEPS = Number(process.env.RNN_BENCH_STEPS ?? 20);
const { nn } = ng;

ng.setNumThreads(Number(process.env.NODEGRAD_NUM_THREADS ?? 2));
ng.manualSeed(0);

class Model extends nn.Module {
  encoder = new nn.Parameter(ng.randn([VOCAB, EMB]));
  rnn = new nn.LSTM(EMB, HIDDEN, { numLayers: LAYERS });
  decoder = new nn.Linear(HIDDEN, VOCAB);

  forward(ids, hidden) {
    const [output, next] = this.rnn.forward(this.encoder.indexSelect(0, ids.flatten()).view([T, N, EMB]), hidden);
    return [this.decoder.forward(output).view([-1, VOCAB]), next];
  }
}

const model = new Model();
const optimizer = new ng.optim.SGD(model.parameters(), { lr: 0.1 });
const data = ng.randint(0, VOCAB, [T + 1, N], { dtype: 'int32' });
const inputs = data.narrow(0, 0, T).contiguous();
const targets = data.narrow(0, 1, T).reshape([-1]);
let hidden = [ng.zeros([LAYERS, N, HIDDEN]), ng.zeros([LAYERS, N, HIDDEN])];

function step() {
  hidden = hidden.map((h) => h.detach());
  optimizer.zeroGrad();
  const [logits, next] = model.forward(inputs, hidden);
  hidden = next;
  nn.functional.crossEntropy(logits, targets).backward();
  optimizer.step();
}

for (let i = 0; i < 3; i++) step();
const times = [];
for (let i = 0; i < STEPS; i++) {
  const t0 = performance.now();
  step();
  times.push(performance.now() - t0);
}
const ms = times.sort((a, b) => a - b)[Math.floor(STEPS / 2)];
const ours = { name: 'nodegrad lstm lm step', tokensPerSecond: Math.round((T * N) / (ms / 1e3)), ms: +ms.toFixed(2) };
console.log(JSON.stringify(ours));
if (process.env.RNN_BENCH_PEER !== '0') {
  const peerScript = join(dirname(fileURLToPath(import.meta.url)), 'rnn_peer.py');
  const peer = JSON.parse(execFileSync('/usr/bin/python3', [peerScript], { encoding: 'utf8' }).trim());
  console.log(JSON.stringify(peer));
  console.log(
    JSON.stringify({
      name: 'nodegrad / torch tokens/s',
      ratio: +(ours.tokensPerSecond / peer.tokensPerSecond).toFixed(2),
    }),
  );
}
