// The lecture's general framework loss and its special cases.
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { expectClose, flat, randomTensor } from '../helpers.js';

const target = ng.tensor([0, 3, 1, 1, 2], { dtype: 'int32' });

describe('frameworkLoss', () => {
  it('ε = 1 with L = 0 is cross-entropy (multinomial logistic regression)', () => {
    const F = randomTensor([5, 4], 1, 'float64').mul(3);
    expectClose(
      [ng.frameworkLoss(F, target, { epsilon: 1, reduction: 'sum' }).item()],
      [ng.crossEntropy(F, target, { reduction: 'sum' }).item()],
      1e-12,
      1e-12,
    );
  });

  it('ε = 0 with the 0/1 task loss is the multiclass hinge max(0, 1 + max_{ŷ≠y} F_ŷ − F_y)', () => {
    const F = randomTensor([5, 4], 2, 'float64').mul(2);
    const scores = F.toArray() as number[][];
    const t = flat(target);
    const hinge = scores.map((row, i) => Math.max(0, 1 + Math.max(...row.filter((_, c) => c !== t[i])) - row[t[i]]));
    expectClose(
      flat(ng.frameworkLoss(F, target, { epsilon: 0, taskLoss: 'zeroOne', reduction: 'none' })),
      hinge,
      1e-12,
      1e-12,
    );
  });

  it('ε → 0 converges to the hinge', () => {
    const F = randomTensor([5, 4], 3, 'float64');
    const hinge = ng.frameworkLoss(F, target, { epsilon: 0, taskLoss: 'zeroOne' }).item();
    const gaps = [1, 0.1, 0.01, 0.001].map((eps) =>
      Math.abs(ng.frameworkLoss(F, target, { epsilon: eps, taskLoss: 'zeroOne' }).item() - hinge),
    );
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]).toBeLessThan(gaps[i - 1]);
    expect(gaps.at(-1)).toBeLessThan(0.01);
  });

  it('two classes with scores (0, f) give logistic regression: log(1 + e^{−y·f}) with y = ±1', () => {
    const f = flat(randomTensor([6], 4, 'float64').mul(2));
    const y = [1, 0, 1, 1, 0, 0];
    const scores = ng.tensor(
      f.map((v) => [0, v]),
      { dtype: 'float64' },
    );
    const loss = flat(ng.frameworkLoss(scores, ng.tensor(y, { dtype: 'int32' }), { reduction: 'none' }));
    expectClose(
      loss,
      f.map((v, i) => Math.log(1 + Math.exp(-(y[i] ? 1 : -1) * v))),
      1e-12,
      1e-12,
    );
  });

  it('two classes at ε = 0 with the 0/1 loss give the binary SVM hinge max(0, 1 − y·f)', () => {
    const f = flat(randomTensor([6], 5, 'float64').mul(2));
    const y = [1, 0, 1, 1, 0, 0];
    const scores = ng.tensor(
      f.map((v) => [-v / 2, v / 2]),
      { dtype: 'float64' },
    );
    const loss = flat(
      ng.frameworkLoss(scores, ng.tensor(y, { dtype: 'int32' }), {
        epsilon: 0,
        taskLoss: 'zeroOne',
        reduction: 'none',
      }),
    );
    expectClose(
      loss,
      f.map((v, i) => Math.max(0, 1 - (y[i] ? 1 : -1) * v)),
      1e-12,
      1e-12,
    );
  });

  it('a task-loss matrix enters as L[y, ŷ]', () => {
    const F = randomTensor([5, 4], 6, 'float64');
    const L = ng.tensor(
      [
        [0, 1, 2, 3],
        [1, 0, 1, 2],
        [2, 1, 0, 1],
        [3, 2, 1, 0],
      ],
      { dtype: 'float64' },
    );
    const rows = F.toArray() as number[][];
    const Lr = L.toArray() as number[][];
    const t = flat(target);
    const expected = rows.map((r, i) => {
      const z = r.map((v, c) => v + Lr[t[i]][c]);
      const m = Math.max(...z);
      return m + Math.log(z.reduce((a, v) => a + Math.exp(v - m), 0)) - r[t[i]];
    });
    expectClose(flat(ng.frameworkLoss(F, target, { taskLoss: L, reduction: 'none' })), expected, 1e-12, 1e-12);
  });

  it('the gradient for linear scores F = XW is Xᵀ(p − δ) with p = softmax((L + F)/ε), plus C·w from weightDecay', () => {
    const X = randomTensor([5, 3], 7, 'float64');
    const W = randomTensor([3, 4], 8, 'float64', true);
    const eps = 0.7;
    ng.frameworkLoss(X.matmul(W), target, { epsilon: eps, taskLoss: 'zeroOne', reduction: 'sum' }).backward();
    const F = X.matmul(W.detach());
    const onehot = ng.tensor(
      flat(target).map((t) => [0, 1, 2, 3].map((c) => (c === t ? 1 : 0))),
      { dtype: 'float64' },
    );
    const p = ng.softmax(F.add(ng.sub(1, onehot)).div(eps), 1);
    expectClose(flat(W.grad!), flat(X.t().matmul(p.sub(onehot))), 1e-10, 1e-12);
    // The regularizer C/2‖w‖² is SGD's weightDecay: one step moves w by −lr·(grad + C·w).
    const C = 0.3;
    const w0 = flat(W.detach().clone());
    const g = flat(W.grad!);
    new ng.optim.SGD([W], { lr: 0.1, weightDecay: C }).step();
    expectClose(
      flat(W),
      w0.map((v, i) => v - 0.1 * (g[i] + C * v)),
      1e-12,
      1e-12,
    );
  });
});
