import { expect } from 'vitest';
import * as ng from '../lib/index.js';

/** Deterministic pseudo-random floats in [-1, 1) for test inputs, independent of ng's generator. */
export function randomArray(
  n: number,
  seed: number,
  kind: 'float32' | 'float64' = 'float64',
): Float32Array | Float64Array {
  const out = kind === 'float32' ? new Float32Array(n) : new Float64Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = (s / 4294967296) * 2 - 1;
  }
  return out;
}

export function randomTensor(
  shape: number[],
  seed: number,
  dtype: 'float32' | 'float64' = 'float64',
  requiresGrad = false,
): ng.Tensor {
  const n = shape.reduce((p, s) => p * s, 1);
  return ng.tensor(randomArray(n, seed, dtype), { shape, dtype, requiresGrad });
}

/** Element-wise |a - b| <= atol + rtol * |b|, with the first offending index in the message. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-5, atol = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e)) {
      expect(Number.isNaN(a), `index ${i}: expected NaN, got ${a}`).toBe(true);
      continue;
    }
    if (!Number.isFinite(e)) {
      expect(a, `index ${i}`).toBe(e);
      continue;
    }
    const ok = Math.abs(a - e) <= atol + rtol * Math.abs(e);
    if (!ok) expect.fail(`index ${i}: got ${a}, expected ${e} (rtol ${rtol}, atol ${atol})`);
  }
}

export function flat(t: ng.Tensor): number[] {
  return Array.from(t.data());
}

/** Expects fn to throw a NodegradError with `code` whose message contains every fragment. */
export function expectNodegradError(fn: () => unknown, code: string, ...fragments: string[]): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected an error to be thrown').toBeInstanceOf(Error);
  const error = caught as Error & { code?: string };
  expect(error.code).toBe(code);
  for (const fragment of fragments) expect(error.message).toContain(fragment);
}
