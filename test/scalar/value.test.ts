import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';

const { Value, MLP } = ng.scalar;
type Value = ng.scalar.Value;

/** Central difference of f at x, the oracle for every scalar op. */
function numericalGrad(f: (x: number) => number, x: number, eps = 1e-6): number {
  return (f(x + eps) - f(x - eps)) / (2 * eps);
}

const unaryCases: [string, (v: Value) => Value, number][] = [
  ['exp', (v) => v.exp(), 0.7],
  ['log', (v) => v.log(), 1.3],
  ['tanh', (v) => v.tanh(), -0.4],
  ['sigmoid', (v) => v.sigmoid(), 0.9],
  ['relu (positive side)', (v) => v.relu(), 0.5],
  ['relu (negative side)', (v) => v.relu(), -0.5],
  ['neg', (v) => v.neg(), 2.0],
  ['pow 3', (v) => v.pow(3), 1.1],
  ['pow -0.5', (v) => v.pow(-0.5), 2.2],
  ['add number', (v) => v.add(3), 0.2],
  ['sub number', (v) => v.sub(3), 0.2],
  ['mul number', (v) => v.mul(-2.5), 0.2],
  ['div number', (v) => v.div(4), 0.2],
  ['number divided by', (v) => new Value(4).div(v), 1.7],
];

describe('scalar Value', () => {
  it.each(unaryCases)('%s: gradient matches finite differences', (_name, op, x0) => {
    const x = new Value(x0);
    const y = op(x);
    y.backward();
    expect(x.grad).toBeCloseTo(
      numericalGrad((t) => op(new Value(t)).data, x0),
      6,
    );
  });

  it.each([
    ['add', (a: Value, b: Value) => a.add(b)],
    ['sub', (a: Value, b: Value) => a.sub(b)],
    ['mul', (a: Value, b: Value) => a.mul(b)],
    ['div', (a: Value, b: Value) => a.div(b)],
    ['pow with a Value exponent', (a: Value, b: Value) => a.pow(b)],
  ] as const)('%s: both input gradients match finite differences', (_name, op) => {
    const a = new Value(1.5);
    const b = new Value(-0.8);
    op(a, b).backward();
    expect(a.grad).toBeCloseTo(
      numericalGrad((t) => op(new Value(t), new Value(-0.8)).data, 1.5),
      6,
    );
    expect(b.grad).toBeCloseTo(
      numericalGrad((t) => op(new Value(1.5), new Value(t)).data, -0.8),
      6,
    );
  });

  it('diamond graph: a value used twice receives both contributions', () => {
    // y = (x * 2) * (x + 3): dy/dx = 2(x + 3) + 2x = 4x + 6.
    const x = new Value(1.25);
    const left = x.mul(2);
    const right = x.add(3);
    const y = left.mul(right);
    y.backward();
    expect(y.data).toBeCloseTo(2.5 * 4.25, 12);
    expect(x.grad).toBeCloseTo(4 * 1.25 + 6, 12);
  });

  it('a node reached along many paths runs its local gradient once', () => {
    const x = new Value(0.3);
    const h = x.tanh();
    let calls = 0;
    // Count how often the tanh node's backward step runs by wrapping it.
    const step = (h as unknown as { backwardStep: () => void }).backwardStep;
    (h as unknown as { backwardStep: () => void }).backwardStep = () => {
      calls++;
      step();
    };
    const y = h.mul(h).add(h).add(h.mul(3));
    y.backward();
    expect(calls).toBe(1);
    const t = Math.tanh(0.3);
    expect(x.grad).toBeCloseTo((2 * t + 1 + 3) * (1 - t * t), 12);
  });

  it('MLP trained on two moons reaches >= 95% training accuracy', () => {
    ng.manualSeed(1);
    const points: { x: [number, number]; y: number }[] = [];
    const perClass = 50;
    for (let i = 0; i < perClass; i++) {
      // Two interleaved half circles with a little deterministic jitter.
      const t = (Math.PI * i) / (perClass - 1);
      const jitter = () => ((Math.sin(i * 12.9898) * 43758.5453) % 1) * 0.1;
      points.push({ x: [Math.cos(t) + jitter(), Math.sin(t) + jitter()], y: 1 });
      points.push({ x: [1 - Math.cos(t) - jitter(), 0.5 - Math.sin(t) - jitter()], y: -1 });
    }
    const model = new MLP(2, [16, 16, 1], { activation: 'relu' });
    const accuracy = () => points.filter((p) => Math.sign(model.forward(p.x)[0].data) === p.y).length / points.length;
    for (let step = 0; step < 100; step++) {
      // SVM max-margin loss plus L2 regularization, as in the course.
      const losses = points.map((p) => model.forward(p.x)[0].mul(-p.y).add(1).relu());
      const dataLoss = losses.reduce((a, b) => a.add(b), new Value(0)).div(points.length);
      const reg = model
        .parameters()
        .reduce((a, w) => a.add(w.mul(w)), new Value(0))
        .mul(1e-4);
      const loss = dataLoss.add(reg);
      model.zeroGrad();
      loss.backward();
      const lr = 1 - (0.9 * step) / 100;
      for (const w of model.parameters()) w.data -= lr * w.grad;
    }
    expect(accuracy()).toBeGreaterThanOrEqual(0.95);
    // ~20 s of scalar autograd on a quiet machine; the default 60 s is too tight when the cores are shared.
  }, 180_000);
});
