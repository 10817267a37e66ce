#!/usr/bin/env node
// `node bench/indexing.mjs [--no-peers] [--rounds=3]`: indexing on this machine — a basic view (`x[:, -1]`), an
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

const rounds = Number(process.argv.find((a) => a.startsWith('--rounds='))?.slice(9) ?? 3);
// Rounds alternate the peer and nodegrad, and each side keeps its best (lowest) time per case, so a
// burst of load on this shared machine hits both sides alike.
const peer = new Map();
const dropped = new Map();
const scoped = new Map();
const keepLowest = (into, name, value) => into.set(name, Math.min(into.get(name) ?? Infinity, value));
for (let r = 0; r < rounds; r++) {
  for (const [name, value] of peerFigures('indexing_peer.py')) keepLowest(peer, name, value);
  for (const [name, fn] of cases) {
    keepLowest(dropped, name, median(fn) * 1e6);
    keepLowest(scoped, name, median(() => ng.tidy(() => void fn())) * 1e6);
  }
}
console.log(
  `indexing, ${ng.getNumThreads()} thread(s), ${rounds} interleaved round(s), each side's best; microseconds per call (lower is better)`,
);
console.log(
  `${'case'.padEnd(36)} ${'dropped'.padStart(9)} ${'ng.tidy'.padStart(9)} ${'PyTorch'.padStart(9)}  tidy/PyTorch`,
);
for (const [name] of cases) {
  const theirs = peer.get(name.replace(/\s+/g, ' '));
  const mine = scoped.get(name);
  const ratio = theirs ? (mine / theirs).toFixed(2) : '';
  console.log(
    `${name.padEnd(36)} ${dropped.get(name).toFixed(1).padStart(9)} ${mine.toFixed(1).padStart(9)} ${(theirs ?? NaN).toFixed(1).padStart(9)}  ${ratio}`,
  );
}
