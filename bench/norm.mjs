#!/usr/bin/env node
// `node bench/norm.mjs [--no-peers]`: LayerNorm and RMSNorm forward + backward (input, weight and
// bias gradients) on [64*64, 512] float32, beside PyTorch (bench/norm_peer.py) when /usr/bin/python3
// has torch. Needs dist/ (npm run build:ts). Figures are medians of 5 timed repetitions after warm-up;
// ratios are PyTorch time / nodegrad time (above 1.0x: nodegrad is faster).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ng from '../dist/index.js';
import { median } from './timing.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const usePeers = !process.argv.includes('--no-peers');

function peerFigures() {
  const python = '/usr/bin/python3';
  if (!usePeers || !existsSync(python)) return new Map();
  const run = spawnSync(python, [join(here, 'norm_peer.py')], {
    env: { ...process.env, TORCH_THREADS: String(ng.getNumThreads()) },
    encoding: 'utf8',
  });
  if (run.status !== 0) return new Map();
  return new Map(
    run.stdout
      .trim()
      .split('\n')
      .map((line) => {
        const { name, value } = JSON.parse(line);
        return [name, value];
      }),
  );
}

const [rows, cols] = [64 * 64, 512];
const x = ng.randn([rows, cols], { requiresGrad: true });
const gout = ng.randn([rows, cols]);
const layerNorm = new ng.nn.LayerNorm(cols);
const rmsNorm = new ng.nn.RMSNorm(cols);

function step(layer) {
  return () => {
    x.grad = null;
    layer.zeroGrad();
    layer.forward(x).backward(gout);
  };
}

const cases = [
  ['LayerNorm forward', () => ng.noGrad(() => layerNorm.forward(x))],
  ['LayerNorm forward+backward', step(layerNorm)],
  ['RMSNorm forward+backward', step(rmsNorm)],
];

const peer = peerFigures();
console.log(`normalization on [${rows}, ${cols}] float32, ${ng.getNumThreads()} thread(s); microseconds per call`);
for (const [name, fn] of cases) {
  const us = median(fn) * 1e6;
  const theirs = peer.get(name);
  const ratio = theirs ? `${(theirs / us).toFixed(2)}x PyTorch (${theirs.toFixed(1)} us)` : '';
  console.log(`${name.padEnd(28)} ${us.toFixed(1).padStart(10)} us  ${ratio}`);
}
