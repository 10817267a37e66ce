// Native convolution, pooling, softmax and cross-entropy against the direct-loop reference, with
// outputs poisoned (NaN) beforehand. float32 within 1e-5 of the float64-accumulated reference.
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import {
  convOutputSize,
  poolOutputSize,
  type Backend,
  type Conv2dParams,
  type FloatArray,
  type Pool2dParams,
} from '../../lib/backend/types.js';
import { expectClose, randomArray } from '../helpers.js';

const native: Backend = ng.backend.getBackend();
const reference = ng.backend.referenceBackend;
const DTYPES = ['float32', 'float64'] as const;
const poisoned = (kind: 'float32' | 'float64', n: number): FloatArray =>
  (kind === 'float32' ? new Float32Array(n) : new Float64Array(n)).fill(NaN);
const tol = (kind: 'float32' | 'float64') =>
  kind === 'float32' ? { rtol: 1e-5, atol: 1e-5 } : { rtol: 1e-11, atol: 1e-11 };

function conv(
  batch: number,
  inC: number,
  inH: number,
  inW: number,
  outC: number,
  k: [number, number],
  extra: Partial<Conv2dParams> = {},
): Conv2dParams {
  return {
    batch,
    inChannels: inC,
    inH,
    inW,
    outChannels: outC,
    kernelH: k[0],
    kernelW: k[1],
    strideH: 1,
    strideW: 1,
    padH: 0,
    padW: 0,
    dilationH: 1,
    dilationW: 1,
    groups: 1,
    ...extra,
  };
}

const convCases: [string, Conv2dParams][] = [
  ['3x3', conv(2, 3, 7, 7, 4, [3, 3])],
  ['1x1 pointwise (no-copy path)', conv(3, 5, 4, 6, 7, [1, 1])],
  ['1x1 strided', conv(2, 5, 7, 7, 3, [1, 1], { strideH: 2, strideW: 2 })],
  ['stride 2 pad 1', conv(2, 3, 9, 8, 4, [3, 3], { strideH: 2, strideW: 2, padH: 1, padW: 1 })],
  ['asymmetric stride/pad/kernel', conv(1, 2, 10, 7, 3, [3, 2], { strideH: 3, strideW: 1, padH: 1, padW: 0 })],
  ['dilation 2', conv(2, 2, 9, 9, 3, [3, 3], { dilationH: 2, dilationW: 2, padH: 2, padW: 2 })],
  ['groups 2', conv(2, 4, 6, 6, 6, [3, 3], { groups: 2, padH: 1, padW: 1 })],
  ['depthwise', conv(2, 3, 5, 5, 3, [3, 3], { groups: 3 })],
  ['5x5 LeNet-like', conv(4, 1, 28, 28, 6, [5, 5], { padH: 2, padW: 2 })],
  ['odd sizes 17 channels', conv(1, 17, 7, 3, 129, [1, 3], { padW: 1 })],
  ['batch of 1 (parallel GEMM path)', conv(1, 8, 12, 12, 16, [3, 3], { padH: 1, padW: 1 })],
  [
    'large columns: im2col and GEMM in row tiles, padding reused across tiles',
    conv(2, 64, 30, 30, 8, [3, 3], { padH: 1, padW: 1 }),
  ],
  ['small planes: several images per GEMM', conv(9, 4, 6, 5, 6, [3, 3], { padH: 1, padW: 1, groups: 2 })],
  ['small planes, strided, odd batch', conv(7, 3, 9, 9, 5, [3, 3], { strideH: 2, strideW: 2 })],
  ['LeNet conv2-like, odd batch (direct kernels: channel remainders, position tails)', conv(9, 6, 14, 14, 16, [5, 5])],
  [
    'wide kernel with padding past kernel - 1 (input gradient not direct)',
    conv(3, 2, 6, 9, 7, [2, 5], { padH: 2, padW: 1 }),
  ],
  ['13 output channels, 3 input channels, 5x3 kernel', conv(5, 3, 11, 13, 13, [5, 3], { padH: 2, padW: 1 })],
  [
    'implicit GEMM on large planes: groups 2, batch of 1',
    conv(1, 4, 24, 24, 6, [3, 3], { groups: 2, padH: 1, padW: 1 }),
  ],
  ['implicit GEMM: 2x4 kernel, padding (0, 2), 20 output channels', conv(3, 3, 25, 26, 20, [2, 4], { padW: 2 })],
  ['padding-only taps: 3x3 pad 1 on 1x1 planes (a linear layer)', conv(5, 6, 1, 1, 8, [3, 3], { padH: 1, padW: 1 })],
  [
    'padding-only taps: 3x3 pad 1 on 1x1 planes, groups 2, batch of 1',
    conv(1, 6, 1, 1, 4, [3, 3], { padH: 1, padW: 1, groups: 2 }),
  ],
  [
    'padding-only taps, kernel kept whole: 5x5 pad 2 on 2x2 planes, groups 2',
    conv(3, 4, 2, 2, 6, [5, 5], { padH: 2, padW: 2, groups: 2 }),
  ],
  ['padding-only taps, kernel kept whole: rows only (1x3 planes)', conv(3, 4, 1, 3, 5, [3, 3], { padH: 1, padW: 1 })],
  [
    'padding-only taps, kernel kept whole: stride 2 on 1x1 planes',
    conv(3, 4, 1, 1, 5, [3, 3], { strideH: 2, strideW: 2, padH: 1, padW: 1 }),
  ],
  [
    'padding-only taps: dilation 2 on 2x2 planes (cut to 1x1)',
    conv(2, 3, 2, 2, 4, [3, 3], { dilationH: 2, dilationW: 2, padH: 2, padW: 2 }),
  ],
];

// float32 convolutions with few channels run the direct AVX-512 kernels where the CPU has them;
// every case also runs with them switched off, on the im2col + GEMM path.
const addon = ng.backend.loadAddon();
const convPaths = (kind: string) => (kind === 'float32' && addon.convDirect() ? ['direct', 'gemm'] : ['gemm']);

function checkConv(kind: 'float32' | 'float64', p: Conv2dParams): void {
  const outH = convOutputSize(p.inH, p.kernelH, p.strideH, p.padH, p.dilationH);
  const outW = convOutputSize(p.inW, p.kernelW, p.strideW, p.padW, p.dilationW);
  const inSize = p.batch * p.inChannels * p.inH * p.inW;
  const wSize = p.outChannels * (p.inChannels / p.groups) * p.kernelH * p.kernelW;
  const outSize = p.batch * p.outChannels * outH * outW;
  const x = randomArray(inSize, 3, kind);
  const w = randomArray(wSize, 5, kind);
  const b = randomArray(p.outChannels, 7, kind);
  const g = randomArray(outSize, 11, kind);
  const { rtol, atol } = tol(kind);
  for (const relu of [false, true]) {
    const o1 = poisoned(kind, outSize);
    const o2 = poisoned(kind, outSize);
    native.conv2dForward(p, x, w, b, o1, relu);
    reference.conv2dForward(p, x, w, b, o2, relu);
    expectClose(o1, o2, rtol, atol);
  }
  const gi1 = poisoned(kind, inSize);
  const gi2 = poisoned(kind, inSize);
  native.conv2dBackwardInput(p, g, w, gi1);
  reference.conv2dBackwardInput(p, g, w, gi2);
  expectClose(gi1, gi2, rtol, atol);
  const gw1 = poisoned(kind, wSize);
  const gw2 = poisoned(kind, wSize);
  const gb1 = poisoned(kind, p.outChannels);
  const gb2 = poisoned(kind, p.outChannels);
  native.conv2dBackwardWeight(p, x, g, gw1, gb1);
  reference.conv2dBackwardWeight(p, x, g, gw2, gb2);
  expectClose(gw1, gw2, rtol * 10, atol * 10);
  expectClose(gb1, gb2, rtol * 10, atol * 10);
}

describe('conv2d path switch', () => {
  it('switches the direct kernels off and on again', () => {
    const before = addon.convDirect(false);
    expect(addon.convDirect()).toBe(false);
    addon.convDirect(before);
    expect(addon.convDirect()).toBe(before);
    expect(() => (addon.convDirect as (v: unknown) => boolean)(1)).toThrow(/convDirect: enabled must be a boolean/);
  });
});

describe.each(DTYPES)('conv2d kernels (%s)', (kind) => {
  const cases = convCases.flatMap(([name, p]) =>
    convPaths(kind).map((path) => [`${name} [${path}]`, p, path] as const),
  );
  it.each(cases)('%s: forward (with bias, with fused ReLU), backward input, backward weight', (_name, p, path) => {
    const before = addon.convDirect(path === 'direct');
    try {
      checkConv(kind, p);
    } finally {
      addon.convDirect(before);
    }
  });

  it('keeps backward weight right as its per-thread buffers are reused by larger and smaller shapes', () => {
    // Batches large enough to split images over 2 threads (each thread's partial sums are kept
    // between calls); every shape checked against the reference after the others ran.
    const shapes = [
      conv(8, 16, 10, 10, 32, [3, 3], { padH: 1, padW: 1 }),
      conv(6, 3, 8, 8, 4, [3, 3], { strideH: 2, strideW: 2, padH: 1, padW: 1 }),
      conv(8, 16, 10, 10, 32, [3, 3], { padH: 1, padW: 1 }),
    ];
    const threads = ng.getNumThreads();
    ng.setNumThreads(2);
    try {
      for (const path of convPaths(kind)) {
        const before = addon.convDirect(path === 'direct');
        try {
          for (const p of shapes) checkConv(kind, p);
        } finally {
          addon.convDirect(before);
        }
      }
    } finally {
      ng.setNumThreads(threads);
    }
  });

  it('never reads the weight taps that meet only padding: NaN there stays out, their gradient is 0', () => {
    // 3x3 pad 1 over 1x1 planes: every tap but the centre multiplies padding only.
    const p = conv(4, 6, 1, 1, 8, [3, 3], { padH: 1, padW: 1, groups: 2 });
    const x = randomArray(4 * 6, 1, kind);
    const w = randomArray(8 * 3 * 9, 2, kind);
    for (let i = 0; i < w.length; i++) if (i % 9 !== 4) w[i] = NaN;
    const g = randomArray(4 * 8, 3, kind);
    g[5] = Infinity;
    const o1 = poisoned(kind, 4 * 8);
    const o2 = poisoned(kind, 4 * 8);
    native.conv2dForward(p, x, w, null, o1, false);
    reference.conv2dForward(p, x, w, null, o2, false);
    expect(o1.every(Number.isFinite)).toBe(true);
    expectClose(o1, o2, tol(kind).rtol, tol(kind).atol);
    const gi = poisoned(kind, 4 * 6);
    native.conv2dBackwardInput(p, g, w, gi);
    expect(gi.filter(Number.isNaN).length).toBe(0);
    const gw = poisoned(kind, w.length);
    native.conv2dBackwardWeight(p, x, g, gw, null);
    for (let i = 0; i < gw.length; i++) if (i % 9 !== 4) expect(gw[i]).toBe(0);
  });

  it('gives the same results with 1 thread and with all threads', () => {
    const p = conv(4, 3, 9, 9, 5, [3, 3], { padH: 1, padW: 1 });
    const x = randomArray(4 * 3 * 81, 1, kind);
    const w = randomArray(5 * 27, 2, kind);
    const out = (threads: number) => {
      const before = ng.getNumThreads();
      ng.setNumThreads(threads);
      const o = poisoned(kind, 4 * 5 * 81);
      native.conv2dForward(p, x, w, null, o, false);
      ng.setNumThreads(before);
      return o;
    };
    expect(Array.from(out(1))).toEqual(Array.from(out(2)));
  });
});

function pool(
  planes: number,
  inH: number,
  inW: number,
  k: [number, number],
  extra: Partial<Pool2dParams> = {},
): Pool2dParams {
  return {
    planes,
    inH,
    inW,
    kernelH: k[0],
    kernelW: k[1],
    strideH: k[0],
    strideW: k[1],
    padH: 0,
    padW: 0,
    dilationH: 1,
    dilationW: 1,
    ceilMode: false,
    countIncludePad: true,
    divisorOverride: 0,
    ...extra,
  };
}

const poolCases: [string, Pool2dParams][] = [
  ['2x2', pool(6, 8, 8, [2, 2])],
  ['2x2 on odd sizes (last row and column unread)', pool(5, 7, 9, [2, 2])],
  ['2x2 on wide rows (vector loop and tail)', pool(3, 4, 70, [2, 2])],
  ['3x3 stride 2 pad 1', pool(4, 9, 7, [3, 3], { strideH: 2, strideW: 2, padH: 1, padW: 1 })],
  ['ceil mode', pool(3, 7, 7, [2, 2], { ceilMode: true })],
  [
    'ceil mode with padding (last window rule)',
    pool(2, 6, 6, [3, 3], { strideH: 2, strideW: 2, padH: 1, padW: 1, ceilMode: true }),
  ],
  ['exclude padding', pool(2, 5, 5, [3, 3], { strideH: 2, strideW: 2, padH: 1, padW: 1, countIncludePad: false })],
  ['divisor override', pool(2, 6, 6, [2, 3], { divisorOverride: 4 })],
  ['odd sizes', pool(17, 13, 3, [3, 1], { strideH: 1, strideW: 1 })],
];

describe.each(DTYPES)('pooling kernels (%s)', (kind) => {
  it.each(poolCases)('%s: max and average, forward and backward', (_name, p) => {
    const outH = poolOutputSize(p.inH, p.kernelH, p.strideH, p.padH, p.dilationH, p.ceilMode);
    const outW = poolOutputSize(p.inW, p.kernelW, p.strideW, p.padW, p.dilationW, p.ceilMode);
    const inSize = p.planes * p.inH * p.inW;
    const outSize = p.planes * outH * outW;
    const x = randomArray(inSize, 13, kind);
    const g = randomArray(outSize, 17, kind);
    const { rtol, atol } = tol(kind);
    const [o1, o2] = [poisoned(kind, outSize), poisoned(kind, outSize)];
    const [i1, i2] = [new Int32Array(outSize).fill(-1), new Int32Array(outSize).fill(-1)];
    native.maxPool2dForward(p, x, o1, i1);
    reference.maxPool2dForward(p, x, o2, i2);
    expect(Array.from(o1)).toEqual(Array.from(o2));
    expect(Array.from(i1)).toEqual(Array.from(i2));
    const [gi1, gi2] = [poisoned(kind, inSize), poisoned(kind, inSize)];
    native.maxPool2dBackward(p, g, i1, gi1);
    reference.maxPool2dBackward(p, g, i2, gi2);
    expectClose(gi1, gi2, rtol, atol);
    const [a1, a2] = [poisoned(kind, outSize), poisoned(kind, outSize)];
    native.avgPool2dForward(p, x, a1);
    reference.avgPool2dForward(p, x, a2);
    expectClose(a1, a2, rtol, atol);
    const [ag1, ag2] = [poisoned(kind, inSize), poisoned(kind, inSize)];
    native.avgPool2dBackward(p, g, ag1);
    reference.avgPool2dBackward(p, g, ag2);
    expectClose(ag1, ag2, rtol, atol);
  });

  it('max pooling ties pick the first element of the window', () => {
    const p = pool(1, 2, 4, [2, 2]);
    const x =
      kind === 'float32' ? new Float32Array([1, 5, 5, 5, 5, 2, 5, 5]) : new Float64Array([1, 5, 5, 5, 5, 2, 5, 5]);
    const out = poisoned(kind, 2);
    const idx = new Int32Array(2);
    native.maxPool2dForward(p, x, out, idx);
    expect(Array.from(idx)).toEqual([1, 2]);
  });

  it('max pooling propagates NaN from any window position, as the reference does', () => {
    const p = pool(4, 2, 2, [2, 2]);
    const x = (kind === 'float32' ? new Float32Array(16) : new Float64Array(16)).fill(1);
    for (let q = 0; q < 4; q++) x[q * 4 + q] = NaN;
    x[3 * 4 + 0] = 7;
    const [o1, o2] = [poisoned(kind, 4), poisoned(kind, 4)];
    const [i1, i2] = [new Int32Array(4), new Int32Array(4)];
    native.maxPool2dForward(p, x, o1, i1);
    reference.maxPool2dForward(p, x, o2, i2);
    expect(Array.from(o1)).toEqual([NaN, NaN, NaN, NaN]);
    expect(Array.from(i1)).toEqual(Array.from(i2));
    expect(Array.from(i1)).toEqual([0, 1, 2, 3]);
  });

  it.each([
    [1, 1],
    [3, 2],
    [4, 4],
    [5, 3],
  ] as const)('adaptive average to %ix%i', (outH, outW) => {
    const [planes, inH, inW] = [3, 7, 5];
    const x = randomArray(planes * inH * inW, 19, kind);
    const g = randomArray(planes * outH * outW, 23, kind);
    const { rtol, atol } = tol(kind);
    const [o1, o2] = [poisoned(kind, planes * outH * outW), poisoned(kind, planes * outH * outW)];
    native.adaptiveAvgPool2dForward({ planes, inH, inW, outH, outW }, x, o1);
    reference.adaptiveAvgPool2dForward({ planes, inH, inW, outH, outW }, x, o2);
    expectClose(o1, o2, rtol, atol);
    const [g1, g2] = [poisoned(kind, x.length), poisoned(kind, x.length)];
    native.adaptiveAvgPool2dBackward({ planes, inH, inW, outH, outW }, g, g1);
    reference.adaptiveAvgPool2dBackward({ planes, inH, inW, outH, outW }, g, g2);
    expectClose(g1, g2, rtol, atol);
  });
});

describe.each(DTYPES)('softmax family (%s)', (kind) => {
  it.each([
    [1, 1, 1],
    [3, 7, 1],
    [2, 17, 3],
    [1, 129, 2],
    [5, 300, 1],
  ] as const)('softmax/logSoftmax [%i, %i, %i] forward and backward', (outer, n, inner) => {
    const size = outer * n * inner;
    const x = randomArray(size, 29, kind).map((v) => v * 20);
    const g = randomArray(size, 31, kind);
    const { rtol, atol } = tol(kind);
    for (const log of [false, true]) {
      const [y1, y2] = [poisoned(kind, size), poisoned(kind, size)];
      native.softmax(x, outer, n, inner, y1, log);
      reference.softmax(x, outer, n, inner, y2, log);
      expectClose(y1, y2, rtol, atol);
      const [gx1, gx2] = [poisoned(kind, size), poisoned(kind, size)];
      native.softmaxBackward(y1, g, outer, n, inner, gx1, log);
      reference.softmaxBackward(y1, g, outer, n, inner, gx2, log);
      expectClose(gx1, gx2, rtol, atol);
    }
  });

  it('huge and tiny logits give no inf or NaN', () => {
    const big = kind === 'float32' ? 3e38 : 1e308;
    const x = kind === 'float32' ? new Float32Array([big, -big, 0, -1e-30]) : new Float64Array([big, -big, 0, -1e-300]);
    const y = poisoned(kind, 4);
    const l = poisoned(kind, 4);
    native.softmax(x, 1, 4, 1, y, false);
    native.softmax(x, 1, 4, 1, l, true);
    for (const v of y) expect(Number.isFinite(v)).toBe(true);
    expect(y[0]).toBe(1);
    expect(l[0]).toBe(0);
    expect(Number.isNaN(l[1])).toBe(false);
  });

  it('cross-entropy: loss and gradient per row, with weights, ignored rows and smoothing', () => {
    const [n, classes] = [9, 7];
    const logits = randomArray(n * classes, 37, kind).map((v) => v * 5);
    const target = new Int32Array([0, 6, 3, -100, 2, 2, 5, 1, 4]);
    const weight = randomArray(classes, 41, kind).map((v) => Math.abs(v) + 0.1);
    const { rtol, atol } = tol(kind);
    for (const [w, smoothing] of [
      [null, 0],
      [weight, 0],
      [weight, 0.3],
      [null, 1],
    ] as const) {
      const p = { n, classes, ignoreIndex: -100, labelSmoothing: smoothing };
      const [l1, l2] = [poisoned(kind, n), poisoned(kind, n)];
      const [g1, g2] = [poisoned(kind, n * classes), poisoned(kind, n * classes)];
      native.crossEntropy(p, logits, target, w, l1, g1);
      reference.crossEntropy(p, logits, target, w, l2, g2);
      expectClose(l1, l2, rtol, atol);
      expectClose(g1, g2, rtol, atol);
    }
  });

  it('cross-entropy of logits 1e4 apart stays finite', () => {
    const logits = kind === 'float32' ? new Float32Array([1e4, -1e4, 0]) : new Float64Array([1e4, -1e4, 0]);
    const loss = poisoned(kind, 1);
    const grad = poisoned(kind, 3);
    native.crossEntropy(
      { n: 1, classes: 3, ignoreIndex: -100, labelSmoothing: 0 },
      logits,
      new Int32Array([1]),
      null,
      loss,
      grad,
    );
    expect(loss[0]).toBeCloseTo(2e4, 0);
    for (const v of grad) expect(Number.isFinite(v)).toBe(true);
  });
});
