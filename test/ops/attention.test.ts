// scaledDotProductAttention: PyTorch goldens (float64 softmax(q kᵀ · scale + mask) v) on both
// backends in float64 and float32, native-vs-reference parity of the tiled kernel on shapes that
// cut tiles unevenly, float64 gradchecks, linear memory, and errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import type { Backend } from '../../lib/backend/types.js';
import { expectClose, expectNodegradError, flat, randomTensor } from '../helpers.js';
import { goldenCases } from '../fixtures.js';

const F = ng.nn.functional;
const backends = [
  ['native', ng.backend.getBackend()],
  ['reference', ng.backend.referenceBackend],
] as const;

describe.each(backends)('scaledDotProductAttention matches PyTorch (%s backend)', (_name, backend: Backend) => {
  const previous = ng.backend.getBackend();
  beforeAll(() => ng.backend.setBackend(backend));
  afterAll(() => ng.backend.setBackend(previous));

  const cases = goldenCases('attention.safetensors').filter((c) => c.kind === 'sdpa');
  it.each(cases.flatMap((c) => (['float64', 'float32'] as const).map((d) => [`${c.name} ${d}`, c, d] as const)))(
    '%s',
    (_label, c, dtype) => {
      const [rtol, atol] = dtype === 'float64' ? [1e-9, 1e-10] : [1e-4, 1e-5];
      const [q, k, v] = ['q', 'k', 'v'].map((key) => {
        const t = c.t[key].to(dtype).detach();
        t.requiresGrad = true;
        return t;
      });
      const mask = c.t.mask as ng.Tensor | undefined;
      const out = F.scaledDotProductAttention(q, k, v, {
        isCausal: c.options.isCausal as boolean,
        scale: c.options.scale as number | undefined,
        attnMask: mask ? (mask.dtype === 'bool' ? mask : mask.to(dtype)) : null,
      });
      expect(out.shape).toEqual(c.t.out.shape);
      expectClose(flat(out), flat(c.t.out), rtol, atol);
      out.backward(c.t.gout.to(dtype));
      for (const [key, t] of [
        ['q', q],
        ['k', k],
        ['v', v],
      ] as const) {
        expectClose(flat(t.grad!), flat(c.t[`grad_${key}`]), rtol, atol);
      }
    },
  );
});

describe('scaledDotProductAttention native kernel against the reference', () => {
  const shapes = [
    // [batch, L, S, E, Ev, causal]: tiles of 64 cut unevenly, L ≠ S, one row, fewer batch entries than threads
    [3, 70, 70, 5, 7, true],
    [2, 65, 130, 8, 3, false],
    [1, 130, 65, 8, 3, true],
    [1, 1, 1, 1, 1, true],
    [2, 0, 4, 3, 3, false],
  ] as const;
  it.each(shapes.map((s) => [s.join(' '), s] as const))('%s', (_label, [B, L, S, E, Ev, causal]) => {
    const run = (backend: Backend) => {
      const previous = ng.backend.getBackend();
      ng.backend.setBackend(backend);
      try {
        const q = randomTensor([B, L, E], 1, 'float32', true);
        const k = randomTensor([B, S, E], 2, 'float32', true);
        const v = randomTensor([B, S, Ev], 3, 'float32', true);
        const y = F.scaledDotProductAttention(q.mul(3), k.mul(3), v, { isCausal: causal });
        y.backward(randomTensor([B, L, Ev], 4, 'float32'));
        return [y, q.grad!, k.grad!, v.grad!].map(flat);
      } finally {
        ng.backend.setBackend(previous);
      }
    };
    const native = run(backends[0][1]);
    const reference = run(backends[1][1]);
    native.forEach((values, i) => expectClose(values, reference[i], 1e-4, 1e-5));
  });
});

describe('scaledDotProductAttention gradcheck (float64)', () => {
  it.each([
    ['causal', { isCausal: true }],
    ['unmasked', {}],
    [
      'bool mask',
      {
        attnMask: ng.tensor(
          [
            [true, false, true],
            [true, true, false],
          ],
          { dtype: 'bool' },
        ),
      },
    ],
  ] as const)('%s', (_name, options) => {
    const q = randomTensor([2, 2, 3], 11, 'float64', true);
    const k = randomTensor([2, 3, 3], 12, 'float64', true);
    const v = randomTensor([2, 3, 2], 13, 'float64', true);
    expect(ng.gradcheck((a, b, c) => F.scaledDotProductAttention(a, b, c, options), [q, k, v])).toBe(true);
  });
});

describe('scaledDotProductAttention without a mask', () => {
  it('keeps memory linear in the sequence length (no L x S matrix)', () => {
    const peak = (T: number) => {
      const [q, k, v] = [1, 2, 3].map((s) => randomTensor([1, T, 16], s, 'float32', true));
      const g = randomTensor([1, T, 16], 4, 'float32');
      ng.resetPeakMemory();
      const before = ng.memory().liveBytes;
      F.scaledDotProductAttention(q, k, v, { isCausal: true }).backward(g);
      return ng.memory().peakBytes - before;
    };
    // T² floats would be 16 MiB at T = 2048; the fused op needs O(T · E).
    expect(peak(2048)).toBeLessThan(2 * 2048 * 16 * 4 * 4);
  });

  it('leaves dropout to the composed path and drops with dropoutP = 1', () => {
    const q = randomTensor([4, 3], 1, 'float32');
    expect(flat(F.scaledDotProductAttention(q, q, q, { dropoutP: 1 }))).toEqual(new Array(12).fill(0));
  });
});

describe('scaledDotProductAttention errors', () => {
  const q = randomTensor([2, 4, 3], 1, 'float32');
  it.each([
    ['a 1-D input', () => F.scaledDotProductAttention(ng.zeros([3]), q, q), 'at least 2 dims'],
    ['mismatched E', () => F.scaledDotProductAttention(q, ng.zeros([2, 4, 5]), q), 'expected q [..., L, E]'],
    ['mismatched S', () => F.scaledDotProductAttention(q, q, ng.zeros([2, 5, 3])), 'expected q [..., L, E]'],
    ['int32 input', () => F.scaledDotProductAttention(q.to('int32'), q, q), 'float32 or float64'],
    ['mixed dtypes', () => F.scaledDotProductAttention(q, q.to('float64'), q), 'share a dtype'],
    [
      'mask with isCausal',
      () => F.scaledDotProductAttention(q, q, q, { isCausal: true, attnMask: ng.zeros([4, 4]) }),
      'isCausal',
    ],
    ['dropoutP > 1', () => F.scaledDotProductAttention(q, q, q, { dropoutP: 2 }), 'dropoutP'],
    [
      'batch dims',
      () => F.scaledDotProductAttention(q, ng.zeros([3, 4, 3]), ng.zeros([3, 4, 3])),
      'scaledDotProductAttention',
    ],
  ] as const)('%s', (_name, fn, fragment) => {
    expectNodegradError(
      fn,
      _name === 'batch dims' ? 'ERR_NODEGRAD_SHAPE' : 'ERR_NODEGRAD_ARGUMENT',
      'scaledDotProductAttention',
      fragment,
    );
  });

  it('native boundary rejects short buffers', () => {
    const addon = ng.backend.tryAddon();
    if (!addon) return;
    const p = { batch: 1, queries: 4, keys: 4, headDim: 2, valueDim: 2, scale: 1, causal: false };
    const small = new Float32Array(3),
      full = new Float32Array(8),
      lse = new Float32Array(4);
    expect(() => addon.attentionForward(p, small, full, full, full, lse)).toThrow(/attentionForward.*buffer q/);
    expect(() => addon.attentionForward({ ...p, scale: NaN }, full, full, full, full, lse)).toThrow(/scale/);
    expect(() => addon.attentionForward({ ...p, keys: -1 }, full, full, full, full, lse)).toThrow(/keys/);
    expect(() => addon.attentionForward({ ...p, batch: 2 ** 52 }, full, full, full, full, lse)).toThrow(/overflow/);
    expect(() => addon.attentionForward(p, full, new Float64Array(8), full, full, lse)).toThrow(/Float64Array/);
    const grads = [full, full, small] as const;
    expect(() => addon.attentionBackward(p, full, full, full, full, lse, full, ...grads)).toThrow(/buffer gradV/);
  });
});
