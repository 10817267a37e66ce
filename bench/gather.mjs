#!/usr/bin/env node
// `node bench/gather.mjs [--no-peers]` (after `npx tsc -p tsconfig.build.json`): gather and
// scatterAdd throughput on float32 [rows, cols] with an index of the same shape, forward only, in
// million elements per second, beside PyTorch (bench/gather_peer.py) when /usr/bin/python3 has
// torch. Each figure follows bench/timing.mjs's rule (median of 5 repetitions after warm-up).
// Two nodegrad columns: results dropped for the collector to free, and results released at the
// end of each call by ng.tidy (freed as PyTorch's reference counting frees them).
import * as ng from '../dist/index.js';
import { peerFigures } from './peers.mjs';
import { median } from './timing.mjs';

const sizes = [
  [256, 256],
  [1024, 1024],
  [64, 65536],
];

const peer = peerFigures('gather_peer.py');
ng.manualSeed(0);
console.log(`gather and scatterAdd, ${ng.getNumThreads()} thread(s); Melem/s (higher is better)`);
console.log(
  `${'case'.padEnd(26)} ${'dropped'.padStart(9)} ${'ng.tidy'.padStart(9)} ${'PyTorch'.padStart(9)}  tidy/PyTorch`,
);
for (const [rows, cols] of sizes) {
  const x = ng.randn([rows, cols]);
  const src = ng.randn([rows, cols]);
  const index = ng.rand([rows, cols], { dtype: 'float64' }).mul(cols).to('int32');
  const rowIndex = ng.rand([rows, cols], { dtype: 'float64' }).mul(rows).to('int32');
  const n = rows * cols;
  for (const [op, fn] of [
    ['gather', () => x.gather(1, index)],
    ['scatterAdd', () => x.scatterAdd(1, index, src)],
    ['gather dim 0', () => x.gather(0, rowIndex)],
  ]) {
    const name = `${op} [${rows}, ${cols}]`;
    const dropped = n / median(fn) / 1e6;
    const scoped = n / median(() => ng.tidy(() => void fn())) / 1e6;
    const theirs = peer.get(name);
    const ratio = theirs ? (scoped / theirs).toFixed(2) : '';
    console.log(
      `${name.padEnd(26)} ${dropped.toFixed(1).padStart(9)} ${scoped.toFixed(1).padStart(9)} ${(theirs ?? NaN).toFixed(1).padStart(9)}  ${ratio}`,
    );
  }
}
