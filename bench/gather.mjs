// `node bench/gather.mjs` (after `npx tsc -p tsconfig.build.json`): gather and scatterAdd throughput
// on float32 [rows, cols] with an index of the same shape along dim 1, forward only, in million
// elements per second (median of 5). bench/gather_peer.py prints PyTorch's figures for the same sizes.
import * as ng from '../dist/index.js';

const sizes = [
  [256, 256],
  [1024, 1024],
  [64, 65536],
];

function median(fn, repeats = 5) {
  fn();
  const times = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[Math.floor(repeats / 2)];
}

ng.manualSeed(0);
for (const [rows, cols] of sizes) {
  const x = ng.randn([rows, cols]);
  const src = ng.randn([rows, cols]);
  const index = ng.rand([rows, cols], { dtype: 'float64' }).mul(cols).to('int32');
  const rowIndex = ng.rand([rows, cols], { dtype: 'float64' }).mul(rows).to('int32');
  const n = rows * cols;
  for (const [name, fn] of [
    ['gather', () => x.gather(1, index)],
    ['scatterAdd', () => x.scatterAdd(1, index, src)],
    ['gather dim 0', () => x.gather(0, rowIndex)],
  ]) {
    const ms = median(fn);
    console.log(
      JSON.stringify({
        name: `${name} [${rows}, ${cols}]`,
        value: +(n / ms / 1e3).toFixed(1),
        unit: 'Melem/s',
        ms: +ms.toFixed(2),
      }),
    );
  }
}
