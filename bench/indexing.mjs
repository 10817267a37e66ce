#!/usr/bin/env node
// `node bench/indexing.mjs [--no-peers]`: indexing on this machine — a basic view (`x[:, -1]`), an
// advanced gather (`x[idx]`, `x[:, idx]`) and an indexed write (`x[idx] = v`, with accumulate) —
// beside PyTorch (bench/indexing_peer.py) when /usr/bin/python3 has torch. Needs dist/ (npm run
// build:ts). Each figure is the median of 5 timed repetitions after warm-up; ratios are nodegrad / PyTorch.
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
  const run = spawnSync(python, [join(here, 'indexing_peer.py')], {
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

/** Random row indices in [0, n), the same sequence as the peer's (a 32-bit LCG). */
function indices(count, n) {
  const out = new Int32Array(count);
  let s = 12345;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = s % n;
  }
  return ng.tensor(out);
}

const cases = [];
for (const [rows, cols, picks] of [
  [1024, 512, 256],
  [8192, 64, 4096],
]) {
  const x = ng.randn([rows, cols]);
  const xt = ng.randn([cols, rows]);
  const idx = indices(picks, rows);
  const v = ng.randn([picks, cols]);
  const shape = `${rows}x${cols}`;
  cases.push([`x[:, -1]            ${shape}`, () => x.index(':', -1)]);
  cases.push([`x[idx] (${picks})      ${shape}`, () => x.index(idx)]);
  cases.push([`x[:, idx] (${picks})   ${cols}x${rows}`, () => xt.index(':', idx)]);
  cases.push([`x[idx] = v (${picks})  ${shape}`, () => x.indexPut_([idx], v)]);
  cases.push([`x[idx] += v accum    ${shape}`, () => x.indexPut_([idx], v, { accumulate: true })]);
}

const peer = peerFigures();
console.log(`indexing, ${ng.getNumThreads()} thread(s); microseconds per call`);
for (const [name, fn] of cases) {
  const us = median(fn) * 1e6;
  const theirs = peer.get(name.replace(/\s+/g, ' '));
  const ratio = theirs ? `${(us / theirs).toFixed(2)}x PyTorch (${theirs.toFixed(1)})` : '';
  console.log(`${name.padEnd(36)} ${us.toFixed(1).padStart(10)} us  ${ratio}`);
}
