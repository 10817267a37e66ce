// Initializers: bounds from the formulas, and empirical moments on a large tensor against
// PyTorch's (the generators differ, the distributions must not).
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { goldenCases } from '../fixtures.js';
import { flat } from '../helpers.js';

const { init } = ng.nn;
const SHAPE = [256, 128, 3, 3];

const ours: Record<string, (t: ng.Tensor) => ng.Tensor> = {
  uniform_fan_in: (t) => init.uniformFanIn_(t),
  xavier_uniform: (t) => init.xavierUniform_(t),
  xavier_normal: (t) => init.xavierNormal_(t),
  kaiming_uniform_relu: (t) => init.kaimingUniform_(t, { nonlinearity: 'relu' }),
  kaiming_normal_fan_out: (t) => init.kaimingNormal_(t, { mode: 'fan_out', nonlinearity: 'relu' }),
  kaiming_normal_leaky: (t) => init.kaimingNormal_(t, { a: 0.2 }),
};

function moments(values: number[]): { min: number; max: number; mean: number; std: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1);
  return {
    min: Math.min(...values.slice(0, 50000)),
    max: Math.max(...values.slice(0, 50000)),
    mean,
    std: Math.sqrt(variance),
  };
}

describe('init against PyTorch statistics', () => {
  it.each(goldenCases('init.safetensors').map((c) => [c.name, c] as const))('%s', (name, c) => {
    ng.manualSeed(11);
    const values = flat(ours[name](ng.zeros(SHAPE)));
    const [tMin, tMax, , tStd] = flat(c.t.stats);
    const m = moments(values);
    expect(Math.abs(m.std / tStd - 1)).toBeLessThan(0.01);
    expect(Math.abs(m.mean)).toBeLessThan(0.01 * tStd);
    if (name.includes('uniform')) {
      // Uniform: both reach (nearly) the same bound, none beyond it.
      expect(Math.abs(m.max / tMax - 1)).toBeLessThan(0.01);
      expect(Math.abs(m.min / tMin - 1)).toBeLessThan(0.01);
    }
  });

  it('bounds follow the formulas: U(±1/√fan_in), Glorot, He', () => {
    const t = ng.zeros([64, 32, 3, 3]);
    const fanIn = 32 * 9;
    const fanOut = 64 * 9;
    const maxAbs = (x: ng.Tensor) => Math.max(...flat(x).map(Math.abs));
    expect(init.calculateFanInAndFanOut(t)).toEqual([fanIn, fanOut]);
    expect(maxAbs(init.uniformFanIn_(t))).toBeLessThanOrEqual(1 / Math.sqrt(fanIn) + 1e-7);
    expect(maxAbs(init.xavierUniform_(t))).toBeLessThanOrEqual(Math.sqrt(6 / (fanIn + fanOut)) + 1e-7);
    expect(maxAbs(init.kaimingUniform_(t, { nonlinearity: 'relu' }))).toBeLessThanOrEqual(
      Math.sqrt(2) * Math.sqrt(3 / fanIn) + 1e-7,
    );
    expect(init.calculateGain('tanh')).toBeCloseTo(5 / 3, 12);
    expect(init.calculateGain('leaky_relu', 0.2)).toBeCloseTo(Math.sqrt(2 / 1.04), 12);
    expect(flat(init.constant_(ng.zeros([3]), 2.5))).toEqual([2.5, 2.5, 2.5]);
    expect(flat(init.ones_(ng.zeros([2])))).toEqual([1, 1]);
  });

  it('initializers run under no-grad on parameters and bump the version', () => {
    const p = new ng.nn.Parameter(ng.zeros([4, 4]));
    const before = p.storage.version;
    init.xavierNormal_(p);
    expect(p.gradFn).toBeNull();
    expect(p.storage.version).toBe(before + 1);
    expect(() => init.xavierUniform_(ng.zeros([5]))).toThrow(/fewer than 2 dims/);
  });
});
