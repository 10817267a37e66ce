import '../deterministic-memory.js';
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { expectNodegradError, flat } from '../helpers.js';

describe('creation', () => {
  it('tensor() infers shape from nested arrays and defaults to float32', () => {
    const t = ng.tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe('float32');
    expect(t.device).toBe('cpu');
    expect(t.ndim).toBe(2);
    expect(t.numel).toBe(6);
    expect(t.strides).toEqual([3, 1]);
    expect(t.toArray()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
  });

  it('tensor() of a number is 0-d; item() reads it', () => {
    const t = ng.tensor(2.5, { dtype: 'float64' });
    expect(t.shape).toEqual([]);
    expect(t.item()).toBe(2.5);
    expect(t.toArray()).toBe(2.5);
  });

  it('tensor() copies a typed array and takes its dtype', () => {
    const src = new Float64Array([1, 2, 3, 4]);
    const t = ng.tensor(src, { shape: [2, 2] });
    src[0] = 100;
    expect(t.dtype).toBe('float64');
    expect(t.toArray()).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it('rejects ragged nested arrays and unknown dtypes', () => {
    expectNodegradError(() => ng.tensor([[1, 2], [3]]), 'ERR_NODEGRAD_SHAPE', 'tensor', 'ragged');
    expectNodegradError(() => ng.zeros([2], { dtype: 'float16' as ng.DType }), 'ERR_NODEGRAD_DTYPE', 'float16');
    expectNodegradError(() => ng.zeros([2, -1]), 'ERR_NODEGRAD_SHAPE', 'zeros:', '[2, -1]');
  });

  it('zeros, ones, full, eye, arange', () => {
    expect(flat(ng.zeros([2, 2]))).toEqual([0, 0, 0, 0]);
    expect(flat(ng.ones([3], { dtype: 'int32' }))).toEqual([1, 1, 1]);
    expect(ng.ones([3], { dtype: 'int32' }).dtype).toBe('int32');
    expect(flat(ng.full([2], 7))).toEqual([7, 7]);
    expect(ng.eye(2, 3).toArray()).toEqual([
      [1, 0, 0],
      [0, 1, 0],
    ]);
    expect(flat(ng.arange(4))).toEqual([0, 1, 2, 3]);
    expect(flat(ng.arange(1, 2, 0.25))).toEqual([1, 1.25, 1.5, 1.75]);
    expect(flat(ng.arange(3, 0, -1))).toEqual([3, 2, 1]);
    expectNodegradError(() => ng.arange(0, 1, 0), 'ERR_NODEGRAD_ARGUMENT', 'arange', 'step');
  });

  it('manualSeed: the same seed gives the same numbers, another seed others', () => {
    ng.manualSeed(42);
    const a = flat(ng.randn([64]));
    const u = flat(ng.rand([8]));
    ng.manualSeed(42);
    expect(flat(ng.randn([64]))).toEqual(a);
    expect(flat(ng.rand([8]))).toEqual(u);
    ng.manualSeed(43);
    expect(flat(ng.randn([64]))).not.toEqual(a);
  });

  it('manualSeed: the sequence is fixed across machines (integer-only generator)', () => {
    // These values come from the xoshiro128** definition with a splitmix32 seed expansion; any
    // change to the generator (and so to every seeded run users recorded) fails here.
    ng.manualSeed(0);
    const raw = flat(ng.rand([4], { dtype: 'float64' })).map((v) => v * 4294967296);
    expect(raw).toEqual([3809008728, 1133695204, 53579671, 2891528803]);
  });

  it('rand is in [0, 1) and randn has mean ~0 and std ~1', () => {
    ng.manualSeed(7);
    const u = flat(ng.rand([10000]));
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    const n = flat(ng.randn([20000], { dtype: 'float64' }));
    const mean = n.reduce((a, b) => a + b, 0) / n.length;
    const variance = n.reduce((a, b) => a + (b - mean) ** 2, 0) / n.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(Math.sqrt(variance) - 1)).toBeLessThan(0.03);
  });
});

describe('views and data access', () => {
  it('transpose is a view: shared storage, swapped strides, data() in logical order', () => {
    const x = ng.arange(6).reshape([2, 3]);
    const t = x.t();
    expect(t.storage).toBe(x.storage);
    expect(t.strides).toEqual([1, 3]);
    expect(t.isContiguous()).toBe(false);
    expect(flat(t)).toEqual([0, 3, 1, 4, 2, 5]);
    expect(t.contiguous().isContiguous()).toBe(true);
  });

  it('data() returns a copy: writing it does not change the tensor', () => {
    const x = ng.tensor([1, 2, 3]);
    const d = x.data();
    d[0] = 99;
    expect(flat(x)).toEqual([1, 2, 3]);
  });

  it('narrow, expand, squeeze, unsqueeze, permute, flatten give the right values', () => {
    const x = ng.arange(24).reshape([2, 3, 4]);
    expect(flat(x.narrow(2, 1, 2))).toEqual([1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22]);
    expect(x.permute([2, 0, 1]).shape).toEqual([4, 2, 3]);
    expect(flat(x.permute([2, 0, 1])).slice(0, 6)).toEqual([0, 4, 8, 12, 16, 20]);
    expect(x.flatten(1).shape).toEqual([2, 12]);
    expect(x.flatten().shape).toEqual([24]);
    expect(ng.zeros([1, 3, 1]).squeeze().shape).toEqual([3]);
    expect(ng.zeros([3]).unsqueeze(-1).shape).toEqual([3, 1]);
    const e = ng.tensor([[1], [2]]).expand([2, 3]);
    expect(e.strides).toEqual([1, 0]);
    expect(flat(e)).toEqual([1, 1, 1, 2, 2, 2]);
  });

  it('view refuses a non-contiguous tensor; reshape copies instead', () => {
    const t = ng.arange(6).reshape([2, 3]).t();
    expectNodegradError(() => t.view([6]), 'ERR_NODEGRAD_SHAPE', 'view', 'not contiguous', 'reshape');
    expect(flat(t.reshape([6]))).toEqual([0, 3, 1, 4, 2, 5]);
  });

  it('cat, stack and indexSelect', () => {
    const a = ng.tensor([
      [1, 2],
      [3, 4],
    ]);
    const b = ng.tensor([[5, 6]]);
    expect(ng.cat([a, b]).toArray()).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(ng.cat([a, a], 1).toArray()).toEqual([
      [1, 2, 1, 2],
      [3, 4, 3, 4],
    ]);
    expect(ng.stack([a, a], 2).shape).toEqual([2, 2, 2]);
    expect(a.indexSelect(1, [1, 1, 0]).toArray()).toEqual([
      [2, 2, 1],
      [4, 4, 3],
    ]);
  });

  it('int32 arithmetic stays int32; division promotes to float32', () => {
    const i = ng.tensor([7, 8], { dtype: 'int32' });
    expect(i.add(i).dtype).toBe('int32');
    expect(flat(i.mul(3))).toEqual([21, 24]);
    expect(i.div(2).dtype).toBe('float32');
    expect(flat(i.div(2))).toEqual([3.5, 4]);
    expect(i.add(0.5).dtype).toBe('float32');
    expect(ng.tensor([1], { dtype: 'float64' }).add(ng.tensor([1])).dtype).toBe('float64');
  });

  it('reductions: values, keepDim, argmax ties pick the first', () => {
    const x = ng.tensor([
      [1, 5, 5],
      [7, 0, 2],
    ]);
    expect(flat(x.sum(1))).toEqual([11, 9]);
    expect(x.sum(0, true).shape).toEqual([1, 3]);
    expect(x.mean().item()).toBeCloseTo(20 / 6, 6);
    expect(flat(x.max(1))).toEqual([5, 7]);
    expect(flat(x.argmax(1))).toEqual([1, 0]);
    expect(x.argmax().item()).toBe(3);
    expect(flat(x.min(0))).toEqual([1, 0, 2]);
    const big = ng.tensor([
      [1000, 1000],
      [-1000, -1000],
    ]);
    expect(flat(big.logsumexp(1))).toEqual([1000 + Math.log(2), -1000 + Math.log(2)].map(Math.fround));
  });

  it('toString names shape and dtype', () => {
    expect(String(ng.tensor([1, 2]))).toContain('shape=[2], dtype=float32');
  });
});

describe('memory accounting', () => {
  it('counts live bytes on allocation and releases them on dispose', () => {
    const before = ng.memory();
    const t = ng.zeros([1000], { dtype: 'float64' });
    const during = ng.memory();
    expect(during.liveBytes - before.liveBytes).toBe(8000);
    expect(during.liveTensors - before.liveTensors).toBe(1);
    expect(during.peakBytes).toBeGreaterThanOrEqual(during.liveBytes);
    t.dispose();
    expect(ng.memory().liveBytes).toBe(before.liveBytes);
    ng.resetPeakMemory();
    expect(ng.memory().peakBytes).toBe(ng.memory().liveBytes);
  });

  it('a disposed tensor (and its views) throws a clear error on use', () => {
    const t = ng.ones([4]);
    const v = t.reshape([2, 2]);
    t.dispose();
    expectNodegradError(() => t.data(), 'ERR_NODEGRAD_DISPOSED', 'disposed');
    expectNodegradError(() => v.add(1), 'ERR_NODEGRAD_DISPOSED', 'disposed');
  });

  it('garbage collection releases the bytes of dropped tensors', async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (!gc) {
      // Without --expose-gc, force collection by allocation pressure and waiting.
      const { setFlagsFromString } = await import('node:v8');
      const { runInNewContext } = await import('node:vm');
      setFlagsFromString('--expose-gc');
      (globalThis as { gc?: () => void }).gc = runInNewContext('gc') as () => void;
    }
    const base = ng.memory().liveBytes;
    (() => {
      for (let i = 0; i < 20; i++) ng.zeros([100000]);
    })();
    for (let i = 0; i < 10 && ng.memory().liveBytes > base; i++) {
      (globalThis as unknown as { gc: () => void }).gc();
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(ng.memory().liveBytes).toBeLessThanOrEqual(base);
  });
});

describe('generator fast paths', () => {
  it('rand (inlined generator) gives the same sequence as repeated draws', async () => {
    const random = await import('../../lib/tensor/random.js');
    ng.manualSeed(9);
    const fast = flat(ng.rand([1001], { dtype: 'float64' }));
    ng.manualSeed(9);
    const slow = Array.from({ length: 1001 }, () => random.nextUniform());
    expect(fast).toEqual(slow);
  });

  it('randn of odd and chunk-crossing lengths is reproducible and standard normal', () => {
    ng.manualSeed(4);
    const a = flat(ng.randn([70001], { dtype: 'float64' }));
    ng.manualSeed(4);
    expect(flat(ng.randn([70001], { dtype: 'float64' }))).toEqual(a);
    const mean = a.reduce((x, y) => x + y, 0) / a.length;
    const sd = Math.sqrt(a.reduce((x, y) => x + (y - mean) ** 2, 0) / a.length);
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(sd - 1)).toBeLessThan(0.02);
  });
});
