#!/usr/bin/env node
// `node bench/indexing.mjs [--no-peers]`: indexing on this machine — a basic view (`x[:, -1]`), an
// advanced gather (`x[idx]`, `x[:, idx]`) and an indexed write (`x[idx] = v`, with accumulate) —
// beside PyTorch (bench/indexing_peer.py) when /usr/bin/python3 has torch. Needs dist/ (npm run
// build:ts). Each figure is the median of 5 timed repetitions after warm-up; ratios are nodegrad / PyTorch.
import * as ng from '../dist/index.js';
import { peerFigures } from './peers.mjs';
import { median } from './timing.mjs';

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

const peer = peerFigures('indexing_peer.py');
console.log(`indexing, ${ng.getNumThreads()} thread(s); microseconds per call (lower is better)`);
console.log(
  `${'case'.padEnd(36)} ${'dropped'.padStart(9)} ${'ng.tidy'.padStart(9)} ${'PyTorch'.padStart(9)}  tidy/PyTorch`,
);
for (const [name, fn] of cases) {
  const dropped = median(fn) * 1e6;
  const scoped = median(() => ng.tidy(() => void fn())) * 1e6;
  const theirs = peer.get(name.replace(/\s+/g, ' '));
  const ratio = theirs ? (scoped / theirs).toFixed(2) : '';
  console.log(
    `${name.padEnd(36)} ${dropped.toFixed(1).padStart(9)} ${scoped.toFixed(1).padStart(9)} ${(theirs ?? NaN).toFixed(1).padStart(9)}  ${ratio}`,
  );
}
