// Random creation: statistics over many samples stay within bounds several standard errors wide,
// a manualSeed reproduces every function, and bad arguments throw errors that name the op.
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { expectNodegradError, flat } from '../helpers.js';

/** Pearson's chi-square statistic of observed counts against expected counts. */
function chiSquare(observed: number[], expected: number[]): number {
  return observed.reduce((acc, o, i) => acc + (o - expected[i]) ** 2 / expected[i], 0);
}

/** Counts of each value 0..k-1. */
function counts(values: number[], k: number): number[] {
  const out = new Array<number>(k).fill(0);
  for (const v of values) out[v]++;
  return out;
}

// The 99.9% quantile of chi-square with 9 degrees of freedom is 27.9; with 3, 16.3.
const CHI2_9 = 27.9;
const CHI2_3 = 16.3;

describe('reproducibility after manualSeed', () => {
  const draws: [string, () => ng.Tensor][] = [
    ['randint', () => ng.randint(-5, 5, [50])],
    ['randperm', () => ng.randperm(50)],
    ['randLike', () => ng.randLike(ng.zeros([20]))],
    ['randnLike', () => ng.randnLike(ng.zeros([20], { dtype: 'float64' }))],
    ['bernoulli', () => ng.bernoulli(ng.full([50], 0.3))],
    ['multinomial', () => ng.multinomial(ng.tensor([1, 2, 3, 4]), 3)],
    ['normal_', () => ng.zeros([20]).normal_(2, 3)],
    ['uniform_', () => ng.zeros([20]).uniform_(-1, 1)],
    ['bernoulli_', () => ng.zeros([20]).bernoulli_(0.5)],
  ];
  it.each(draws)('%s gives the same tensor after the same seed, another after another', (_name, draw) => {
    ng.manualSeed(11);
    const first = flat(draw());
    ng.manualSeed(11);
    expect(flat(draw())).toEqual(first);
    ng.manualSeed(12);
    expect(flat(draw())).not.toEqual(first);
  });

  it('keeps the existing rand/randn streams', () => {
    ng.manualSeed(3);
    const a = flat(ng.rand([5]));
    ng.manualSeed(3);
    expect(flat(ng.randLike(ng.zeros([5])))).toEqual(a);
    ng.manualSeed(3);
    expect(flat(ng.zeros([5]).uniform_())).toEqual(a);
    ng.manualSeed(3);
    const b = flat(ng.randn([6]));
    ng.manualSeed(3);
    expect(flat(ng.zeros([6]).normal_())).toEqual(b);
  });
});

describe('distributions', () => {
  it('randint covers [low, high) uniformly (chi-square) with int32 by default', () => {
    ng.manualSeed(1);
    const t = ng.randint(-3, 7, [20000]);
    expect(t.dtype).toBe('int32');
    const values = flat(t);
    expect(Math.min(...values)).toBe(-3);
    expect(Math.max(...values)).toBe(6);
    const observed = counts(
      values.map((v) => v + 3),
      10,
    );
    expect(chiSquare(observed, new Array<number>(10).fill(2000))).toBeLessThan(CHI2_9);
  });

  it('randint(high, shape) starts at 0 and honours dtype', () => {
    const t = ng.randint(4, [2, 3], { dtype: 'float32' });
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe('float32');
    expect(flat(t).every((v) => Number.isInteger(v) && v >= 0 && v < 4)).toBe(true);
  });

  it('randperm is a permutation, each position uniform over values', () => {
    ng.manualSeed(2);
    const firsts: number[] = [];
    for (let i = 0; i < 4000; i++) {
      const p = flat(ng.randperm(4));
      expect([...p].sort()).toEqual([0, 1, 2, 3]);
      firsts.push(p[0]);
    }
    expect(chiSquare(counts(firsts, 4), [1000, 1000, 1000, 1000])).toBeLessThan(CHI2_3);
    expect(ng.randperm(0).shape).toEqual([0]);
  });

  it('normal_ and uniform_ have the asked mean and spread', () => {
    ng.manualSeed(4);
    const n = 40000;
    const normal = flat(ng.zeros([n], { dtype: 'float64' }).normal_(2, 3));
    const mean = normal.reduce((a, b) => a + b, 0) / n;
    const variance = normal.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
    expect(Math.abs(mean - 2)).toBeLessThan((5 * 3) / Math.sqrt(n));
    expect(Math.abs(Math.sqrt(variance) - 3)).toBeLessThan(0.05);
    const uniform = flat(ng.zeros([n], { dtype: 'float64' }).uniform_(-2, 4));
    expect(Math.min(...uniform)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...uniform)).toBeLessThan(4);
    const um = uniform.reduce((a, b) => a + b, 0) / n;
    expect(Math.abs(um - 1)).toBeLessThan((5 * Math.sqrt(3)) / Math.sqrt(n));
  });

  it("bernoulli follows each element's probability and keeps dtype", () => {
    ng.manualSeed(5);
    const p = ng.tensor([0, 0.2, 0.5, 1], { dtype: 'float64' }).reshape([1, 4]).expand([5000, 4]);
    const draws = ng.bernoulli(p);
    expect(draws.dtype).toBe('float64');
    const column = draws.sum(0).data();
    expect(column[0]).toBe(0);
    expect(column[3]).toBe(5000);
    for (const [i, q] of [
      [1, 0.2],
      [2, 0.5],
    ] as const) {
      expect(Math.abs(column[i] / 5000 - q)).toBeLessThan(5 * Math.sqrt((q * (1 - q)) / 5000));
    }
    const viaMethod = ng.full([10000], 0.3).bernoulli();
    expect(Math.abs(flat(viaMethod).reduce((a, b) => a + b, 0) / 10000 - 0.3)).toBeLessThan(0.025);
  });

  it('bernoulli_ takes a number or a tensor broadcast to self', () => {
    ng.manualSeed(6);
    const x = ng.zeros([4000, 2]);
    x.bernoulli_(ng.tensor([0, 1]));
    const sums = flat(x.sum(0));
    expect(sums).toEqual([0, 4000]);
    const y = ng.zeros([20000], { dtype: 'int32' }).bernoulli_(0.25);
    expect(y.dtype).toBe('int32');
    expect(Math.abs(flat(y).reduce((a, b) => a + b, 0) / 20000 - 0.25)).toBeLessThan(0.02);
  });

  it('multinomial with replacement draws in proportion to the weights (chi-square)', () => {
    ng.manualSeed(7);
    const draws = ng.multinomial(ng.tensor([1, 0, 3, 6]), 20000, { replacement: true });
    expect(draws.dtype).toBe('int32');
    expect(draws.shape).toEqual([20000]);
    const observed = counts(flat(draws), 4);
    expect(observed[1]).toBe(0);
    const kept = [observed[0], observed[2], observed[3]];
    expect(chiSquare(kept, [2000, 6000, 12000])).toBeLessThan(13.8); // 99.9% at 2 d.o.f.
  });

  it('multinomial without replacement never repeats a category within a row; 2-D gives rows', () => {
    ng.manualSeed(8);
    const probs = ng.tensor([
      [1, 1, 1, 1, 1],
      [0, 5, 1, 0, 2],
    ]);
    const firstOfRow1: number[] = [];
    for (let i = 0; i < 3000; i++) {
      const out = ng.multinomial(probs, 3);
      expect(out.shape).toEqual([2, 3]);
      const [a, b] = out.toArray() as number[][];
      expect(new Set(a).size).toBe(3);
      expect([...b].sort()).toEqual([1, 2, 4]);
      firstOfRow1.push(b[0]);
    }
    const c = counts(firstOfRow1, 5);
    expect(chiSquare([c[1], c[2], c[4]], [(3000 * 5) / 8, 3000 / 8, (3000 * 2) / 8])).toBeLessThan(13.8);
  });
});

describe('*Like creation', () => {
  const like = ng.ones([2, 3], { dtype: 'float64' });

  it('copies shape and dtype, with options to override', () => {
    expect(flat(ng.zerosLike(like))).toEqual(new Array(6).fill(0));
    expect(flat(ng.onesLike(like))).toEqual(new Array(6).fill(1));
    expect(flat(ng.fullLike(like, 2.5))).toEqual(new Array(6).fill(2.5));
    for (const t of [
      ng.zerosLike(like),
      ng.onesLike(like),
      ng.fullLike(like, 1),
      ng.emptyLike(like),
      ng.randLike(like),
      ng.randnLike(like),
    ]) {
      expect(t.shape).toEqual([2, 3]);
      expect(t.dtype).toBe('float64');
      expect(t.storage).not.toBe(like.storage);
    }
    const g = ng.zerosLike(like, { dtype: 'float32', requiresGrad: true });
    expect(g.dtype).toBe('float32');
    expect(g.requiresGrad).toBe(true);
    expect(ng.onesLike(ng.zeros([2], { dtype: 'int32' })).dtype).toBe('int32');
  });

  it('refuses float samples into int32 and a fraction into an int32 fill', () => {
    const ints = ng.zeros([3], { dtype: 'int32' });
    expectNodegradError(() => ng.randLike(ints), 'ERR_NODEGRAD_DTYPE', 'randLike', "dtype: 'float32'");
    expectNodegradError(() => ng.randnLike(ints), 'ERR_NODEGRAD_DTYPE', 'randnLike');
    expect(ng.randLike(ints, { dtype: 'float32' }).dtype).toBe('float32');
    expectNodegradError(() => ng.fullLike(ints, 0.5), 'ERR_NODEGRAD_DTYPE', 'fullLike');
  });
});

describe('sampling errors', () => {
  it('randint', () => {
    expectNodegradError(() => ng.randint(5, 5, [2]), 'ERR_NODEGRAD_ARGUMENT', 'randint', 'low < high');
    expectNodegradError(() => ng.randint(0, 2.5, [2]), 'ERR_NODEGRAD_ARGUMENT', 'randint', 'integers');
    expectNodegradError(() => ng.randint(0, 2 ** 33, [2]), 'ERR_NODEGRAD_ARGUMENT', 'randint', 'int32');
  });

  it('randperm', () => {
    expectNodegradError(() => ng.randperm(-1), 'ERR_NODEGRAD_ARGUMENT', 'randperm');
  });

  it('bernoulli', () => {
    expectNodegradError(() => ng.bernoulli(ng.tensor([0.5, 1.5])), 'ERR_NODEGRAD_ARGUMENT', 'bernoulli', '1.5');
    expectNodegradError(() => ng.zeros([2]).bernoulli_(-0.1), 'ERR_NODEGRAD_ARGUMENT', 'bernoulli_');
  });

  it('normal_ and uniform_', () => {
    expectNodegradError(() => ng.zeros([2]).normal_(0, -1), 'ERR_NODEGRAD_ARGUMENT', 'normal_', 'std');
    expectNodegradError(() => ng.zeros([2]).uniform_(1, 0), 'ERR_NODEGRAD_ARGUMENT', 'uniform_', 'from <= to');
    expectNodegradError(() => ng.zeros([2], { dtype: 'int32' }).normal_(), 'ERR_NODEGRAD_DTYPE', 'normal_');
  });

  it('multinomial, as PyTorch refuses', () => {
    const p = ng.tensor([0.2, 0.3, 0.5]);
    expectNodegradError(
      () => ng.multinomial(p, 4),
      'ERR_NODEGRAD_ARGUMENT',
      'multinomial',
      'without replacement',
      'replacement: true',
    );
    expectNodegradError(() => ng.multinomial(ng.tensor([0.5, -0.1]), 1), 'ERR_NODEGRAD_ARGUMENT', 'multinomial', '< 0');
    expectNodegradError(() => ng.multinomial(ng.tensor([0.5, NaN]), 1), 'ERR_NODEGRAD_ARGUMENT', 'multinomial', 'NaN');
    expectNodegradError(
      () => ng.multinomial(ng.tensor([0.5, Infinity]), 1),
      'ERR_NODEGRAD_ARGUMENT',
      'multinomial',
      'inf',
    );
    expectNodegradError(() => ng.multinomial(ng.tensor([0, 0]), 1), 'ERR_NODEGRAD_ARGUMENT', 'multinomial', 'sum to 0');
    expectNodegradError(
      () => ng.multinomial(ng.tensor([1, 0, 0]), 2),
      'ERR_NODEGRAD_ARGUMENT',
      'multinomial',
      'non-zero',
    );
    expectNodegradError(() => ng.multinomial(p, 0), 'ERR_NODEGRAD_ARGUMENT', 'multinomial', 'n = 0');
    expectNodegradError(
      () => ng.multinomial(ng.ones([2, 2, 2]), 1),
      'ERR_NODEGRAD_SHAPE',
      'multinomial',
      '1 or 2 dims',
    );
    expect(ng.multinomial(ng.tensor([1, 0, 0]), 2, { replacement: true }).toArray()).toEqual([0, 0]);
  });
});
