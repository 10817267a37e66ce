#!/usr/bin/env node
// `node bench/gather.mjs [--no-peers] [--rounds=3]` (after `npx tsc -p tsconfig.build.json`): gather and
// scatterAdd throughput on float32 [rows, cols] with an index of the same shape, forward only, in
// million elements per second, beside PyTorch (bench/gather_peer.py) when /usr/bin/python3 has
// torch. Each figure follows bench/timing.mjs's rule (median of 5 repetitions after warm-up).
// Two nodegrad columns: results dropped for the collector to free, and results released at the
// end of each call by ng.tidy (freed as PyTorch's reference counting frees them).
import * as ng from '../dist/index.js';
import { interleaved, peerFigures } from './peers.mjs';
import { median } from './timing.mjs';

const sizes = [
  [256, 256],
  [1024, 1024],
  [64, 65536],
];

const rounds = Number(process.argv.find((a) => a.startsWith('--rounds='))?.slice(9) ?? 3);
ng.manualSeed(0);
const cases = [];
for (const [rows, cols] of sizes) {
  const x = ng.randn([rows, cols]);
  const src = ng.randn([rows, cols]);
  const index = ng.rand([rows, cols], { dtype: 'float64' }).mul(cols).to('int32');
  const rowIndex = ng.rand([rows, cols], { dtype: 'float64' }).mul(rows).to('int32');
  for (const [op, fn] of [
    ['gather', () => x.gather(1, index)],
    ['scatterAdd', () => x.scatterAdd(1, index, src)],
    ['gather dim 0', () => x.gather(0, rowIndex)],
  ]) {
    cases.push({ name: `${op} [${rows}, ${cols}]`, n: rows * cols, fn });
  }
}
// Rounds alternate the peer and nodegrad; each side keeps its best figure per case.
const { peer, mine } = interleaved(
  rounds,
  () => peerFigures('gather_peer.py'),
  (once) => {
    for (const { name, n, fn } of cases) {
      once.set(`${name} dropped`, n / median(fn) / 1e6);
      once.set(name, n / median(() => ng.tidy(() => void fn())) / 1e6);
    }
  },
);
console.log(
  `gather and scatterAdd, ${ng.getNumThreads()} thread(s), ${rounds} interleaved round(s), each side's best; Melem/s (higher is better)`,
);
console.log(
  `${'case'.padEnd(26)} ${'dropped'.padStart(9)} ${'ng.tidy'.padStart(9)} ${'PyTorch'.padStart(9)}  tidy/PyTorch`,
);
for (const { name } of cases) {
  const theirs = peer.get(name);
  const scoped = mine.get(name);
  const ratio = theirs ? (scoped / theirs).toFixed(2) : '';
  console.log(
    `${name.padEnd(26)} ${mine.get(`${name} dropped`).toFixed(1).padStart(9)} ${scoped.toFixed(1).padStart(9)} ${(theirs ?? NaN).toFixed(1).padStart(9)}  ${ratio}`,
  );
}
