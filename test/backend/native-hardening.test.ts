// The native boundary against hostile arguments, empty work and int32 extremes: a JS error or a
// correct result, never an out-of-bounds access, an abort or a huge allocation.
import { afterAll, describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { BinaryOp, ReduceOp, type Backend, type Conv2dParams } from '../../lib/backend/types.js';
import { flat } from '../helpers.js';

const addon = ng.backend.loadAddon();
const F = ng.nn.functional;
const native = ng.backend.nativeBackend(addon);
const reference = ng.backend.referenceBackend;

// Node 20's resizable ArrayBuffer, which this TypeScript lib does not declare yet.
type ResizableBuffer = ArrayBuffer & { resize(byteLength: number): void };
const ResizableBuffer = ArrayBuffer as unknown as new (
  byteLength: number,
  options: { maxByteLength: number },
) => ResizableBuffer;

/** A resizable buffer of `n` floats, and a function that shrinks it to one float. */
function shrinkable(n: number): { data: Float32Array; shrink: () => void } {
  const buffer = new ResizableBuffer(4 * n, { maxByteLength: 4 * n });
  return { data: new Float32Array(buffer), shrink: () => buffer.resize(4) };
}

/** A buffer of `n` floats, and a function that detaches it (transfers it away). */
function detachable(n: number): { data: Float32Array; detach: () => void } {
  const data = new Float32Array(n);
  return {
    data,
    detach: () => {
      structuredClone(data.buffer, { transfer: [data.buffer] });
    },
  };
}

/** [1] as a strides array whose element getter runs `effect` first. */
function hostileStrides(effect: () => void): number[] {
  const strides = [1];
  Object.defineProperty(strides, 0, {
    get() {
      effect();
      return 1;
    },
  });
  return strides;
}

function expectNativeError(call: () => unknown, ...fragments: string[]): void {
  let caught: (Error & { code?: string }) | undefined;
  try {
    call();
  } catch (error) {
    caught = error as Error & { code?: string };
  }
  expect(caught, 'expected an error').toBeInstanceOf(Error);
  expect(caught!.code).toBe('ERR_NODEGRAD_NATIVE');
  for (const fragment of fragments) expect(caught!.message).toContain(fragment);
}

const n = 4096;
const conv1x1 = (over: Partial<Conv2dParams> = {}): Conv2dParams => ({
  batch: 1,
  inChannels: 1,
  inH: 64,
  inW: 64,
  outChannels: 1,
  kernelH: 1,
  kernelW: 1,
  strideH: 1,
  strideW: 1,
  padH: 0,
  padW: 0,
  dilationH: 1,
  dilationW: 1,
  groups: 1,
  ...over,
});

describe('arguments whose getters shrink or detach buffers', () => {
  it('binary: a strides getter that shrinks operand a', () => {
    const a = shrinkable(n);
    expectNativeError(
      () =>
        addon.binary(
          BinaryOp.Add,
          [n],
          { data: a.data, offset: 0, strides: hostileStrides(a.shrink) },
          { data: new Float32Array(n), offset: 0, strides: [1] },
          new Float32Array(n),
        ),
      'native binary',
      'buffer a',
      `at least ${n}`,
    );
  });

  it('binary: a getter on b that shrinks the output', () => {
    const out = shrinkable(n);
    const b = {
      get data() {
        out.shrink();
        return new Float32Array(n);
      },
      offset: 0,
      strides: [1],
    };
    expectNativeError(
      () => addon.binary(BinaryOp.Add, [n], { data: new Float32Array(n), offset: 0, strides: [1] }, b, out.data),
      'buffer out',
      `at least ${n}`,
    );
  });

  it('copyStrided: a dst strides getter that detaches src', () => {
    const src = detachable(n);
    expectNativeError(
      () =>
        addon.copyStrided(
          [n],
          { data: src.data, offset: 0, strides: [1] },
          { data: new Float32Array(n), offset: 0, strides: hostileStrides(src.detach) },
        ),
      'native copyStrided',
      'buffer src',
      '0 elements',
    );
  });

  it('copyStrided: a shape getter that shrinks dst', () => {
    const dst = shrinkable(n);
    const shape = [0];
    Object.defineProperty(shape, 0, {
      get() {
        dst.shrink();
        return n;
      },
    });
    expectNativeError(
      () =>
        addon.copyStrided(
          shape,
          { data: new Float32Array(n), offset: 0, strides: [1] },
          { data: dst.data, offset: 0, strides: [1] },
        ),
      'buffer dst',
    );
  });

  it('conv2dForward: a params field getter that detaches the input', () => {
    const input = detachable(64 * 64);
    const params = conv1x1();
    Object.defineProperty(params, 'groups', {
      get() {
        input.detach();
        return 1;
      },
    });
    expectNativeError(
      () => addon.conv2dForward(params, input.data, new Float32Array(1), null, new Float32Array(64 * 64), false),
      'native conv2dForward',
      'buffer input',
    );
  });

  it('gemm: a params field getter that shrinks c', () => {
    const c = shrinkable(64 * 64);
    const params = {
      transA: false,
      transB: false,
      m: 64,
      n: 64,
      k: 64,
      alpha: 1,
      beta: 0,
      aOffset: 0,
      lda: 64,
      bOffset: 0,
      ldb: 64,
      cOffset: 0,
      ldc: 64,
      batch: 1,
      strideA: 0,
      strideB: 0,
      get strideC() {
        c.shrink();
        return 0;
      },
    };
    expectNativeError(
      () => addon.gemm(params, new Float32Array(64 * 64), new Float32Array(64 * 64), c.data),
      'native gemm',
      'buffer c',
    );
  });

  it('sgdStep: an options getter that shrinks the gradient; a consistent call still updates', () => {
    const grad = shrinkable(n);
    const options = {
      lr: 0.5,
      momentum: 0,
      dampening: 0,
      weightDecay: 0,
      nesterov: false,
      get maximize() {
        grad.shrink();
        return false;
      },
    };
    expectNativeError(
      () => addon.sgdStep(new Float32Array(n), grad.data, null, options, true),
      'native sgdStep',
      'buffer grad',
    );
    const param = new Float32Array([1, 2]);
    addon.sgdStep(param, new Float32Array([2, 4]), null, { ...options, maximize: false }, true);
    expect(Array.from(param)).toEqual([0, 0]);
  });

  it('a getter that throws propagates its own error', () => {
    const params = {
      ...conv1x1(),
      get batch(): number {
        throw new TypeError('hostile getter');
      },
    };
    expect(() =>
      addon.conv2dForward(params, new Float32Array(4096), new Float32Array(1), null, new Float32Array(4096), false),
    ).toThrow(new TypeError('hostile getter'));
  });

  it('getters that leave the buffers alone give the correct result', () => {
    const a = new Float32Array([1, 2, 3]),
      b = new Float32Array([10, 20, 30]),
      out = new Float32Array(3);
    addon.binary(
      BinaryOp.Add,
      [3],
      { data: a, offset: 0, strides: hostileStrides(() => undefined) },
      { data: b, offset: 0, strides: [1] },
      out,
    );
    expect(Array.from(out)).toEqual([11, 22, 33]);
  });
});

describe.each([
  ['native', native],
  ['reference', reference],
] as [string, Backend][])('empty work (%s)', (_name, backend) => {
  const previous = ng.backend.getBackend();
  ng.backend.setBackend(backend);
  afterAll(() => ng.backend.setBackend(previous));
  const use = () => ng.backend.setBackend(backend);

  it('conv2d with no input channels gives the bias (or 0)', () => {
    use();
    const y = ng.conv2d(ng.zeros([1, 0, 8, 8]), ng.zeros([1, 0, 3, 3]), null, { stride: 2 });
    expect(y.shape).toEqual([1, 1, 3, 3]);
    expect(flat(y)).toEqual(new Array(9).fill(0));
    const biased = ng.conv2d(ng.zeros([2, 0, 8, 8]), ng.zeros([2, 0, 3, 3]), ng.tensor([2.5, -1]), { stride: 2 });
    expect(flat(biased)).toEqual([
      ...new Array<number>(9).fill(2.5),
      ...new Array<number>(9).fill(-1),
      ...new Array<number>(9).fill(2.5),
      ...new Array<number>(9).fill(-1),
    ]);
  });

  it('conv2d backward with no output channels gives a zero input gradient', () => {
    use();
    const x = ng.randn([1, 32, 40, 40], { requiresGrad: true });
    const y = ng.conv2d(x, ng.zeros([0, 32, 3, 3]));
    expect(y.shape).toEqual([1, 0, 38, 38]);
    y.sum().backward();
    expect(x.grad!.shape).toEqual([1, 32, 40, 40]);
    expect(flat(x.grad!).every((v) => v === 0)).toBe(true);
  });

  it('conv2d with no output channels and huge padding allocates nothing', () => {
    use();
    const y = ng.conv2d(ng.ones([1, 1, 1, 1]), ng.zeros([0, 1, 1, 1]), null, { padding: 100000 });
    expect(y.shape).toEqual([1, 0, 200001, 200001]);
    expect(y.numel).toBe(0);
  });

  it('crossEntropy over no rows allocates nothing, whatever the class count', () => {
    use();
    const before = process.memoryUsage().rss;
    for (const classes of [2 ** 40, 1e8]) {
      const target = ng.zeros([0], { dtype: 'int32' });
      expect(Number.isNaN(F.crossEntropy(ng.zeros([0, classes]), target).item())).toBe(true);
      expect(F.crossEntropy(ng.zeros([0, classes]), target, { reduction: 'sum' }).item()).toBe(0);
      expect(F.crossEntropy(ng.zeros([0, classes]), target, { reduction: 'none' }).shape).toEqual([0]);
    }
    expect(process.memoryUsage().rss - before).toBeLessThan(100 * 2 ** 20);
  });
});

describe('native zero-size guards on the kernels directly', () => {
  it('conv2dBackwardWeight with an empty input: zero weight gradient, bias gradient sums gradOut', () => {
    const p = conv1x1({ inChannels: 0, outChannels: 2, inH: 2, inW: 2 });
    const gradWeight = new Float32Array(0),
      gradBias = new Float32Array([7, 7]);
    addon.conv2dBackwardWeight(
      p,
      new Float32Array(0),
      new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]),
      gradWeight,
      gradBias,
    );
    expect(Array.from(gradBias)).toEqual([10, 26]);
  });

  it('reduce over an empty axis: sum 0, logsumexp -inf, max refused', () => {
    const values = new Float32Array([5, 5]);
    addon.reduce(ReduceOp.Sum, new Float32Array(0), 2, 0, 1, values, null);
    expect(Array.from(values)).toEqual([0, 0]);
    addon.reduce(ReduceOp.LogSumExp, new Float32Array(0), 2, 0, 1, values, null);
    expect(Array.from(values)).toEqual([-Infinity, -Infinity]);
    expectNativeError(() => addon.reduce(ReduceOp.Max, new Float32Array(0), 2, 0, 1, values, null), 'axis of size 0');
  });
});

describe.each([
  ['native', native],
  ['reference', reference],
] as [string, Backend][])('int32 max/min/argmax (%s)', (_name, backend) => {
  const previous = ng.backend.getBackend();
  afterAll(() => ng.backend.setBackend(previous));

  it('compares integers above 2^24 exactly and returns int32 values', () => {
    ng.backend.setBackend(backend);
    const x = ng.tensor([16777216, 16777217], { dtype: 'int32' });
    expect(x.argmax().item()).toBe(1);
    expect(x.argmin().item()).toBe(0);
    const max = x.max();
    expect(max.dtype).toBe('int32');
    expect(max.item()).toBe(16777217);
    const m = ng.tensor(
      [
        [2147483647, 2147483646],
        [-2147483648, -2147483647],
      ],
      { dtype: 'int32' },
    );
    expect(flat(m.max(1))).toEqual([2147483647, -2147483647]);
    expect(flat(m.min(0))).toEqual([-2147483648, -2147483647]);
    expect(flat(m.argmax(0))).toEqual([0, 0]);
    expect(flat(m.transpose(0, 1).argmin(1))).toEqual([1, 1]);
  });

  it('the kernel takes Int32Array directly', () => {
    const values = new Int32Array(1),
      indices = new Int32Array(1);
    backend.reduce(ReduceOp.Min, new Int32Array([-16777217, -16777216, 3]), 1, 3, 1, values, indices);
    expect([values[0], indices[0]]).toEqual([-16777217, 0]);
  });
});
