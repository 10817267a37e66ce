// `node --expose-gc bench/attention.mjs` (after `npx tsc -p tsconfig.build.json`): causal scaled dot-product
// attention, forward + backward, at B = 4, H = 4, E = 64, against PyTorch's naive softmax attention
// (bench/attention_peer.py, run with /usr/bin/python3 when it exists), both on 2 threads; then the
// peak tensor memory of forward + backward at T = 1024, 2048, 4096, which grows linearly in T.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as ng from '../dist/index.js';
import { median } from './timing.mjs';

const [B, H, E] = [4, 4, 64];
const lengths = [256, 1024];
const F = ng.nn.functional;
ng.setNumThreads(2);
ng.manualSeed(0);

function inputs(T) {
  const [q, k, v] = [0, 1, 2].map(() => ng.randn([B, H, T, E], { requiresGrad: true }));
  return { q, k, v, grad: ng.randn([B, H, T, E]) };
}

function step({ q, k, v, grad }) {
  F.scaledDotProductAttention(q, k, v, { isCausal: true }).backward(grad);
  q.grad = k.grad = v.grad = null;
}

const peer = new Map();
if (existsSync('/usr/bin/python3')) {
  const url = new URL('./attention_peer.py', import.meta.url);
  const run = spawnSync('/usr/bin/python3', [url.pathname, ...lengths.map(String)], { encoding: 'utf8' });
  for (const line of run.stdout.split('\n').filter(Boolean)) {
    const { T, ms } = JSON.parse(line);
    peer.set(T, ms);
  }
}

for (const T of lengths) {
  const ms = median(() => step(inputs.cached ?? (inputs.cached = inputs(T)))) * 1e3;
  inputs.cached = undefined;
  const torchMs = peer.get(T);
  console.log(
    JSON.stringify({
      name: `sdpa causal fwd+bwd B=${B} H=${H} T=${T} E=${E}`,
      ms: +ms.toFixed(2),
      torchMs: torchMs ?? null,
      ratio: torchMs ? +(torchMs / ms).toFixed(2) : null,
    }),
  );
}

// Above the inputs (q, k, v and the output's gradient): the output, the log-sum-exp rows and the
// three gradients, all O(T); the naive composition would add B·H·T² scores and weights.
for (const T of [1024, 2048, 4096]) {
  globalThis.gc?.();
  const x = inputs(T);
  ng.resetPeakMemory();
  const before = ng.memory().liveBytes;
  step(x);
  const peak = ng.memory().peakBytes - before;
  console.log(JSON.stringify({ name: `sdpa causal fwd+bwd peak memory T=${T}`, MiB: +(peak / 2 ** 20).toFixed(1) }));
  for (const t of Object.values(x)) t.dispose();
}
