#!/usr/bin/env node
// `node bench/overhead.mjs [packageRoot ...]`: the fixed cost of an op through the public API (tiny
// tensors, so arithmetic is negligible) and the public-API training step (zoo LeNet-5 with
// optim.SGD, an MLP in nn.Sequential). With several package roots (e.g. a checkout of an older
// commit, built), they run interleaved over rounds, each round in a fresh process (two packages in
// one process would share its heap and collector), and each reports its best round, so both see
// the same stretches of a noisy machine. Needs dist/ (npm run build) in each root.
import { execFileSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
if (process.argv[2] === '--child') {
  const ng = await import(`${process.argv[3]}/dist/index.js`);
  console.log(JSON.stringify(measure(ng)));
  process.exit(0);
}
const roots =
  process.argv.slice(2).length > 0 ? process.argv.slice(2).map((r) => resolve(r)) : [resolve(dirname(self), '..')];

/** Median of 5 timed repetitions of n calls, after warm-up; microseconds per call. */
function micros(fn, n) {
  for (let i = 0; i < Math.min(n, 2000); i++) fn();
  const times = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn();
    times.push(((performance.now() - t0) * 1000) / n);
  }
  return times.sort((a, b) => a - b)[2];
}

function measure(ng) {
  ng.manualSeed(0);
  const a = ng.randn([16]),
    b = ng.randn([16]);
  const x = ng.randn([16]);
  x.requiresGrad = true;
  const step = (model, inputShape, batch) => {
    const opt = new ng.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
    const input = ng.randn([batch, ...inputShape]);
    const target = ng.tensor(
      Array.from({ length: batch }, (_, i) => i % 10),
      { dtype: 'int32' },
    );
    const once = () => {
      opt.zeroGrad();
      ng.nn.functional.crossEntropy(model.forward(input), target).backward();
      opt.step();
    };
    return batch / (micros(once, 60) / 1e6);
  };
  const mlp = new ng.nn.Sequential(
    new ng.nn.Flatten(),
    new ng.nn.Linear(784, 256),
    new ng.nn.ReLU(),
    new ng.nn.Linear(256, 256),
    new ng.nn.ReLU(),
    new ng.nn.Linear(256, 10),
  );
  return {
    'a.add(b), 16 floats (µs)': micros(() => a.add(b), 20000),
    'mul, add, relu, sum + backward, 16 floats (µs)': micros(() => {
      x.mul(b).add(a).relu().sum().backward();
      x.grad = null;
    }, 5000),
    'LeNet-5 zoo + optim.SGD training, batch 64 (images/s)': step(
      ng.models.lenet5({ numClasses: 10 }),
      [1, 28, 28],
      64,
    ),
    'MLP nn.Sequential training, batch 128 (images/s)': step(mlp, [1, 28, 28], 128),
  };
}

const best = roots.map(() => ({}));
for (let round = 0; round < 3; round++) {
  roots.forEach((root, i) => {
    const figures = JSON.parse(execFileSync(process.execPath, [self, '--child', root], { encoding: 'utf8' }));
    for (const [name, value] of Object.entries(figures)) {
      const better = name.includes('µs') ? Math.min : Math.max;
      best[i][name] = best[i][name] === undefined ? value : better(best[i][name], value);
    }
  });
}
for (const name of Object.keys(best[0])) {
  const cells = best.map((b) => b[name].toFixed(name.includes('µs') ? 2 : 0));
  const ratio =
    best.length > 1
      ? `  (${roots[0].split('/').pop()} / ${roots.at(-1).split('/').pop()}: ${(best[0][name] / best.at(-1)[name]).toFixed(2)})`
      : '';
  console.log(`${name.padEnd(56)} ${cells.join('  ')}${ratio}`);
}
