#!/usr/bin/env node
/**
 * The `nodegrad` command. `nodegrad train` (what `npm start` runs) trains a two-layer network
 * with tensor autograd on a generated two-moons set and prints progress and accuracy.
 */
import { parseArgs } from 'node:util';
import * as ng from './index.js';

const USAGE = `usage: nodegrad <command> [options]

commands:
  train     train a classifier on generated two-moons data
            --epochs N (1000)  --lr X (1)  --hidden N (32)  --seed N (0)  --samples N (400)
  help      show this text`;

function twoMoons(samples: number): { x: ng.Tensor; y: ng.Tensor } {
  const points: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < samples; i++) {
    const upper = i % 2 === 0;
    const t = Math.PI * ng.rand([1], { dtype: 'float64' }).item();
    const noise = ng.randn([2], { dtype: 'float64' }).mul(0.1).data();
    points.push(upper ? Math.cos(t) + noise[0] : 1 - Math.cos(t) + noise[0],
      upper ? Math.sin(t) + noise[1] : 0.5 - Math.sin(t) + noise[1]);
    labels.push(upper ? 1 : 0);
  }
  return { x: ng.tensor(points, { shape: [samples, 2] }), y: ng.tensor(labels, { shape: [samples, 1] }) };
}

function train(args: string[]): number {
  const { values } = parseArgs({
    args,
    options: {
      epochs: { type: 'string', default: '1000' },
      lr: { type: 'string', default: '1' },
      hidden: { type: 'string', default: '32' },
      seed: { type: 'string', default: '0' },
      samples: { type: 'string', default: '400' },
    },
  });
  const epochs = Number(values.epochs);
  const lr = Number(values.lr);
  const hidden = Number(values.hidden);
  const samples = Number(values.samples);
  for (const [name, v] of [['epochs', epochs], ['lr', lr], ['hidden', hidden], ['samples', samples]] as const) {
    if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number, got ${values[name]}`);
  }
  ng.manualSeed(Number(values.seed));
  const { x, y } = twoMoons(samples);
  const init = (fanIn: number, shape: number[]) =>
    ng.rand(shape).mul(2).sub(1).mul(1 / Math.sqrt(fanIn)).detach();
  const params = [init(2, [2, hidden]), init(2, [hidden]), init(hidden, [hidden, 1]), init(hidden, [1])];
  for (const p of params) p.requiresGrad = true;
  const [w1, b1, w2, b2] = params;
  const forward = () => x.matmul(w1).add(b1).tanh().matmul(w2).add(b2);
  const started = performance.now();
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const logits = forward();
    // Binary cross-entropy from logits, stable form: max(z, 0) - z*y + log(1 + exp(-|z|)).
    const loss = logits.relu().sub(logits.mul(y)).add(logits.abs().neg().exp().add(1).log()).mean();
    for (const p of params) p.grad = null;
    loss.backward();
    ng.noGrad(() => {
      for (const p of params) {
        p.storage.data.set(p.sub(p.grad!.mul(lr)).data());
        p.storage.version++;
      }
    });
    if (epoch % Math.max(1, Math.floor(epochs / 10)) === 0 || epoch === epochs) {
      const accuracy = ng.noGrad(() => {
        const predicted = forward().data();
        const labels = y.data();
        let correct = 0;
        for (let i = 0; i < samples; i++) if ((predicted[i] > 0 ? 1 : 0) === labels[i]) correct++;
        return correct / samples;
      });
      console.log(`epoch ${String(epoch).padStart(4)}  loss ${loss.item().toFixed(4)}  accuracy ${(accuracy * 100).toFixed(1)}%`);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`done: ${epochs} epochs in ${seconds.toFixed(2)} s (backend: ${ng.backend.getBackend().name})`);
  return 0;
}

function main(argv: string[]): number {
  const [command, ...rest] = argv;
  switch (command ?? 'help') {
    case 'train': return train(rest);
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return 0;
    default:
      console.error(`nodegrad: unknown command '${command}'; valid commands: train, help`);
      return 2;
  }
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  console.error(`nodegrad: ${(error as Error).message}`);
  process.exitCode = 2;
}
