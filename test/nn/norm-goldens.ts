// Shared by the norm, embedding and activation tests: runs a case of test/fixtures/norm.safetensors
// (tools/golden/make_norm_goldens.py) and compares the output and every stored gradient.
import { expect } from 'vitest';
import * as ng from '../../lib/index.js';
import type { GoldenCase } from '../fixtures.js';
import { expectClose, flat } from '../helpers.js';

/** Builds a case's output from its leaves (float tensors, requiring grad) and plain tensors (indices). */
export type NormForward = (
  c: GoldenCase,
  leaf: (key: string) => ng.Tensor,
  has: (key: string) => boolean,
  plain: (key: string) => ng.Tensor,
) => ng.Tensor;

/** Runs `forward` in `dtype` and checks out and the gradients of sum(out · gout) against PyTorch's. */
export function checkNormCase(c: GoldenCase, forward: NormForward, dtype: 'float32' | 'float64'): void {
  const [rtol, atol] = dtype === 'float64' ? [1e-9, 1e-10] : [1e-4, 1e-5];
  const leaves = new Map<string, ng.Tensor>();
  const leaf = (key: string): ng.Tensor => {
    let t = leaves.get(key);
    if (!t) {
      t = c.t[key].to(dtype).detach().clone();
      t.requiresGrad = true;
      leaves.set(key, t);
    }
    return t;
  };
  const out = forward(
    c,
    leaf,
    (key) => key in c.t,
    (key) => c.t[key],
  );
  expect(out.shape).toEqual(c.t.out.shape);
  expectClose(flat(out), flat(c.t.out), rtol, atol);
  out.backward(c.t.gout.to(dtype));
  let checked = 0;
  for (const [key, t] of leaves) {
    expect(`grad_${key}` in c.t, `PyTorch computed a gradient for ${key}`).toBe(true);
    expectClose(flat(t.grad ?? ng.zerosLike(t)), flat(c.t[`grad_${key}`]), rtol, atol);
    checked++;
  }
  expect(checked).toBeGreaterThan(0);
}
