// The N-API boundary: every native entry point validates buffers against shapes and throws a JS
// error naming the kernel; random, partly invalid calls never crash the process.
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import {
  BinaryOp,
  ReduceOp,
  UnaryOp,
  type Conv2dParams,
  type DataArray,
  type GemmParams,
  type Pool2dParams,
} from '../../lib/backend/types.js';
import { expectNodegradError } from '../helpers.js';

const addon = ng.backend.loadAddon();

/** A Conv2dParams from [batch, inC, inH, inW, outC, kH, kW, sH, sW, pH, pW, dH, dW, groups]. */
const conv = (v: number[]): Conv2dParams => ({
  batch: v[0],
  inChannels: v[1],
  inH: v[2],
  inW: v[3],
  outChannels: v[4],
  kernelH: v[5],
  kernelW: v[6],
  strideH: v[7],
  strideW: v[8],
  padH: v[9],
  padW: v[10],
  dilationH: v[11],
  dilationW: v[12],
  groups: v[13],
});
/** A Pool2dParams from [planes, inH, inW, kH, kW, sH, sW, pH, pW, dH, dW, ceilMode, countIncludePad, divisorOverride]. */
const pool = (v: number[]): Pool2dParams => ({
  planes: v[0],
  inH: v[1],
  inW: v[2],
  kernelH: v[3],
  kernelW: v[4],
  strideH: v[5],
  strideW: v[6],
  padH: v[7],
  padW: v[8],
  dilationH: v[9],
  dilationW: v[10],
  ceilMode: v[11] === 1,
  countIncludePad: v[12] === 1,
  divisorOverride: v[13],
});
const gemmParams = (
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  lda: number,
  ldb: number,
  ldc: number,
  batch = 1,
  strideA = 0,
  strideB = 0,
  strideC = 0,
): GemmParams => ({
  transA,
  transB,
  m,
  n,
  k,
  alpha: 1,
  beta: 0,
  aOffset: 0,
  lda,
  bOffset: 0,
  ldb,
  cOffset: 0,
  ldc,
  batch,
  strideA,
  strideB,
  strideC,
});
const view = (data: DataArray, offset: number, strides: number[]) => ({ data, offset, strides });

describe('native argument checks', () => {
  const f = (n: number) => new Float32Array(n);
  const cases: [string, () => void, string[]][] = [
    [
      'unary: out too short',
      () => addon.unary(UnaryOp.Exp, f(10), f(5), 10, 0, 0),
      ['native unary', 'out', '5 elements', 'at least 10'],
    ],
    [
      'unary: mixed dtypes',
      () => addon.unary(UnaryOp.Exp, f(4), new Float64Array(4), 4, 0, 0),
      ['Float32Array', 'Float64Array'],
    ],
    [
      'unary: int32 input',
      () =>
        addon.unary(
          UnaryOp.Exp,
          new Int32Array(4) as unknown as Float32Array,
          new Int32Array(4) as unknown as Float32Array,
          4,
          0,
          0,
        ),
      ['Int32Array'],
    ],
    // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment -- an op id outside the enum is the case
    ['unary: unknown op', () => addon.unary(99 as UnaryOp, f(4), f(4), 4, 0, 0), ['unknown op 99']],
    ['unary: negative n', () => addon.unary(UnaryOp.Exp, f(4), f(4), -1, 0, 0), ['n must be a non-negative integer']],
    ['unary: NaN n', () => addon.unary(UnaryOp.Exp, f(4), f(4), NaN, 0, 0), ['n must be a non-negative integer']],
    [
      'unaryBackward: not a table op',
      () => addon.unaryBackward(UnaryOp.Exp, f(4), f(4), f(4), 4, 0, 0),
      ['native unaryBackward', `unknown op ${UnaryOp.Exp}`],
    ],
    [
      'unaryBackward: grad too short',
      () => addon.unaryBackward(UnaryOp.FirstTableOp, f(4), f(3), f(4), 4, 0, 0),
      ['native unaryBackward', 'grad', 'at least 4'],
    ],
    [
      'unaryBackward: mixed dtypes',
      () => addon.unaryBackward(UnaryOp.FirstTableOp, f(4), f(4), new Float64Array(4), 4, 0, 0),
      ['Float32Array', 'Float64Array'],
    ],
    [
      'reduce: sizes overflow',
      () => addon.reduce(ReduceOp.Sum, f(4), 2 ** 40, 2 ** 40, 1, f(4), null),
      ['size overflow'],
    ],
    [
      'unary: not a typed array',
      () => addon.unary(UnaryOp.Exp, [1, 2] as unknown as Float32Array, f(2), 2, 0, 0),
      ['x must be a typed array'],
    ],
    [
      'binary: a too short for its strides',
      () => addon.binary(BinaryOp.Add, [4, 4], view(f(15), 0, [4, 1]), view(f(16), 0, [4, 1]), f(16)),
      ['native binary', 'buffer a', 'at least 16'],
    ],
    [
      'binary: offset past the end',
      () => addon.binary(BinaryOp.Add, [4], view(f(4), 1, [1]), view(f(4), 0, [1]), f(4)),
      ['buffer a', 'at least 5'],
    ],
    [
      'binary: strides rank mismatch',
      () => addon.binary(BinaryOp.Add, [4, 4], view(f(16), 0, [1]), view(f(16), 0, [4, 1]), f(16)),
      ['strides have 1 entries', 'rank 2'],
    ],
    [
      'binary: int32 division',
      () =>
        addon.binary(
          BinaryOp.Div,
          [2],
          view(new Int32Array(2), 0, [1]),
          view(new Int32Array(2), 0, [1]),
          new Int32Array(2),
        ),
      ['not defined for Int32Array'],
    ],
    [
      'copyStrided: dst too short',
      () => addon.copyStrided([3, 3], view(f(9), 0, [3, 1]), view(f(8), 0, [3, 1])),
      ['native copyStrided', 'dst', 'at least 9'],
    ],
    [
      'reduce: x too short',
      () => addon.reduce(ReduceOp.Sum, f(5), 2, 3, 1, f(2), null),
      ['native reduce', 'buffer x', 'at least 6'],
    ],
    ['reduce: empty axis', () => addon.reduce(ReduceOp.Max, f(5), 1, 0, 1, f(1), null), ['axis of size 0']],
    [
      'reduce: sum with indices',
      () => addon.reduce(ReduceOp.Sum, f(6), 2, 3, 1, f(2), new Int32Array(2)),
      ['only max and min'],
    ],
    [
      'indexSelect: index out of range',
      () => addon.indexSelect(f(6), 1, 3, 2, new Int32Array([0, 3]), 2, f(4)),
      ['native indexSelect', 'index 3 is out of range', 'size 3'],
    ],
    [
      'indexSelect: negative index',
      () => addon.indexSelect(f(6), 1, 3, 2, new Int32Array([-1]), 1, f(2)),
      ['index -1'],
    ],
    [
      'indexAdd: out too short',
      () => addon.indexAdd(f(4), 1, 2, 2, new Int32Array([0, 1]), 3, f(5)),
      ['native indexAdd', 'out', 'at least 6'],
    ],
    [
      'gemm: c too short',
      () => addon.gemm(gemmParams(false, false, 4, 4, 4, 4, 4, 4), f(16), f(16), f(15)),
      ['native gemm', 'buffer c', 'at least 16'],
    ],
    [
      'gemm: lda too small',
      () => addon.gemm(gemmParams(false, false, 4, 4, 4, 3, 4, 4), f(16), f(16), f(16)),
      ['lda 3', 'row length 4'],
    ],
    [
      'gemm: transposed a too short',
      () => addon.gemm(gemmParams(true, false, 2, 2, 8, 2, 2, 2), f(15), f(16), f(4)),
      ['buffer a', 'at least 16'],
    ],
    [
      'gemm: batch overruns b',
      () => addon.gemm(gemmParams(false, false, 2, 2, 2, 2, 2, 2, 2, 4, 4, 4), f(8), f(4), f(8)),
      ['buffer b', 'at least 8'],
    ],
    [
      'conv2d: input too short',
      () => addon.conv2dForward(conv([1, 3, 5, 5, 2, 3, 3, 1, 1, 0, 0, 1, 1, 1]), f(74), f(54), null, f(18), false),
      ['native conv2dForward', 'buffer input', 'at least 75'],
    ],
    [
      'conv2d: output too short',
      () => addon.conv2dForward(conv([1, 1, 5, 5, 1, 3, 3, 1, 1, 0, 0, 1, 1, 1]), f(25), f(9), null, f(8), false),
      ['output', 'at least 9'],
    ],
    [
      'conv2d: stride 0',
      () => addon.conv2dForward(conv([1, 1, 5, 5, 1, 3, 3, 0, 1, 0, 0, 1, 1, 1]), f(25), f(9), null, f(9), false),
      ['stride must be >= 1'],
    ],
    [
      'conv2d: groups not dividing channels',
      () => addon.conv2dForward(conv([1, 3, 5, 5, 2, 3, 3, 1, 1, 0, 0, 1, 1, 2]), f(75), f(54), null, f(18), false),
      ['groups 2', 'in channels 3'],
    ],
    [
      'conv2d: kernel larger than padded input',
      () => addon.conv2dForward(conv([1, 1, 2, 2, 1, 5, 5, 1, 1, 1, 1, 1, 1, 1]), f(4), f(25), null, f(1), false),
      ['smaller than the kernel'],
    ],
    [
      'conv2d: bias too short',
      () => addon.conv2dForward(conv([1, 1, 5, 5, 2, 3, 3, 1, 1, 0, 0, 1, 1, 1]), f(25), f(18), f(1), f(18), false),
      ['bias', 'at least 2'],
    ],
    [
      'conv2d: missing param field',
      () => addon.conv2dForward({ batch: 1 } as Conv2dParams, f(25), f(9), null, f(9), false),
      ['inChannels must be a number'],
    ],
    [
      'maxPool2d: padding over half the kernel',
      () => addon.maxPool2dForward(pool([1, 4, 4, 2, 2, 2, 2, 2, 2, 1, 1, 0, 1, 0]), f(16), f(9), new Int32Array(9)),
      ['padding 2', 'half of the kernel'],
    ],
    [
      'maxPool2d: indices too short',
      () => addon.maxPool2dForward(pool([1, 4, 4, 2, 2, 2, 2, 0, 0, 1, 1, 0, 1, 0]), f(16), f(4), new Int32Array(3)),
      ['indices', 'at least 4'],
    ],
    [
      'maxPool2d backward: index outside the plane',
      () =>
        addon.maxPool2dBackward(
          pool([1, 4, 4, 2, 2, 2, 2, 0, 0, 1, 1, 0, 1, 0]),
          f(4),
          new Int32Array([0, 1, 2, 16]),
          f(16),
        ),
      ['index 16', 'outside the input plane'],
    ],
    [
      'avgPool2d: dilation refused',
      () => addon.avgPool2dForward(pool([1, 4, 4, 2, 2, 2, 2, 0, 0, 2, 1, 0, 1, 0]), f(16), f(4)),
      ['no dilation'],
    ],
    [
      'adaptiveAvgPool2d: zero output',
      () => addon.adaptiveAvgPool2dForward({ planes: 1, inH: 4, inW: 4, outH: 0, outW: 2 }, f(16), f(4)),
      ['output size must be >= 1'],
    ],
    [
      'softmax: out too short',
      () => addon.softmax(f(12), 3, 4, 1, f(11), false),
      ['native softmax', 'out', 'at least 12'],
    ],
    [
      'crossEntropy: target out of range',
      () =>
        addon.crossEntropy(
          { n: 2, classes: 3, ignoreIndex: -100, labelSmoothing: 0 },
          f(6),
          new Int32Array([0, 3]),
          null,
          f(2),
          null,
        ),
      ['target 3', 'row 1', '3 classes'],
    ],
    [
      'crossEntropy: float targets',
      () =>
        addon.crossEntropy(
          { n: 2, classes: 3, ignoreIndex: -100, labelSmoothing: 0 },
          f(6),
          f(2) as unknown as Int32Array,
          null,
          f(2),
          null,
        ),
      ['target must be an Int32Array'],
    ],
    [
      'gemm: params not an object',
      () => (addon.gemm as unknown as (...a: unknown[]) => void)(false, f(4), f(4), f(4)),
      ['params must be an object'],
    ],
  ];

  it.each(cases)('%s', (_name, call, fragments) => {
    expectNodegradError(call, 'ERR_NODEGRAD_NATIVE', ...fragments);
  });
});

describe('fuzzing the native entry points', () => {
  it('survives hundreds of random, partly invalid calls; valid ones match the reference', () => {
    let seed = 2024;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed % n;
    };
    const reference = ng.backend.referenceBackend;
    let valid = 0;
    let rejected = 0;
    for (let trial = 0; trial < 400; trial++) {
      const m = rnd(6),
        n = rnd(6),
        k = rnd(6);
      const transA = rnd(2) === 1,
        transB = rnd(2) === 1;
      const lda = (transA ? m : k) + rnd(3) - 1;
      const ldb = (transB ? k : n) + rnd(3) - 1;
      const ldc = n + rnd(3) - 1;
      const size = (rows: number, ld: number) => Math.max(0, rows * ld + rnd(5) - 2);
      const a = new Float64Array(size(transA ? k : m, lda)).map(() => rnd(100) / 10);
      const b = new Float64Array(size(transB ? n : k, ldb)).map(() => rnd(100) / 10);
      const c = new Float64Array(size(m, ldc));
      try {
        addon.gemm(gemmParams(transA, transB, m, n, k, lda, ldb, ldc), a, b, c);
      } catch (error) {
        expect((error as { code?: string }).code).toBe('ERR_NODEGRAD_NATIVE');
        expect((error as Error).message).toMatch(/^native gemm: /);
        rejected++;
        continue;
      }
      const expected = new Float64Array(c.length);
      reference.gemm(
        {
          transA,
          transB,
          m,
          n,
          k,
          alpha: 1,
          beta: 0,
          aOffset: 0,
          lda,
          bOffset: 0,
          ldb,
          cOffset: 0,
          ldc,
          batch: 1,
          strideA: 0,
          strideB: 0,
          strideC: 0,
        },
        a,
        b,
        expected,
      );
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) expect(c[i * ldc + j]).toBeCloseTo(expected[i * ldc + j], 9);
      valid++;
    }
    for (let trial = 0; trial < 300; trial++) {
      const shape = Array.from({ length: 1 + rnd(3) }, () => rnd(4));
      const strides = shape.map(() => rnd(5));
      const len = rnd(40);
      const src = new Float32Array(len).map((_, i) => i);
      const dst = new Float32Array(rnd(40)).fill(-1);
      const dst2 = dst.slice();
      const offset = rnd(4);
      const dstStrides = shape.map((_, d) => shape.slice(d + 1).reduce((p, s) => p * s, 1));
      try {
        addon.copyStrided(shape, view(src, offset, strides), view(dst, 0, dstStrides));
      } catch (error) {
        expect((error as { code?: string }).code).toBe('ERR_NODEGRAD_NATIVE');
        rejected++;
        continue;
      }
      reference.copyStrided(shape, { data: src, offset, strides }, { data: dst2, offset: 0, strides: dstStrides });
      expect(Array.from(dst)).toEqual(Array.from(dst2));
      valid++;
    }
    for (let trial = 0; trial < 300; trial++) {
      // [batch, inC, inH, inW, outC, kH, kW, sH, sW, pH, pW, dH, dW, groups], some of them invalid
      const params = [
        1 + rnd(2),
        1 + rnd(4),
        rnd(7),
        rnd(7),
        1 + rnd(4),
        rnd(4),
        rnd(4),
        rnd(3),
        rnd(3),
        rnd(3),
        rnd(3),
        rnd(3),
        rnd(3),
        rnd(3),
      ];
      const [batch, inC, inH, inW, outC, kH, kW] = params;
      const input = new Float64Array(Math.max(0, batch * inC * inH * inW - rnd(2))).map(() => rnd(100) / 50 - 1);
      const weight = new Float64Array(Math.max(0, outC * inC * kH * kW)).map(() => rnd(100) / 50 - 1);
      const out = new Float64Array(rnd(200)).fill(NaN);
      try {
        addon.conv2dForward(conv(params), input, weight, null, out, false);
      } catch (error) {
        expect((error as { code?: string }).code).toBe('ERR_NODEGRAD_NATIVE');
        expect((error as Error).message).toMatch(/^native conv2dForward: /);
        rejected++;
        continue;
      }
      const p = {
        batch,
        inChannels: inC,
        inH,
        inW,
        outChannels: outC,
        kernelH: kH,
        kernelW: kW,
        strideH: params[7],
        strideW: params[8],
        padH: params[9],
        padW: params[10],
        dilationH: params[11],
        dilationW: params[12],
        groups: params[13],
      };
      const expected = out.slice().fill(NaN);
      reference.conv2dForward(p, input, weight, null, expected, false);
      const outH = Math.floor((inH + 2 * p.padH - p.dilationH * (kH - 1) - 1) / p.strideH) + 1;
      const outW = Math.floor((inW + 2 * p.padW - p.dilationW * (kW - 1) - 1) / p.strideW) + 1;
      const n = batch * outC * outH * outW;
      for (let i = 0; i < n; i++) expect(out[i]).toBeCloseTo(expected[i], 9);
      valid++;
    }
    for (let trial = 0; trial < 300; trial++) {
      const params = [
        1 + rnd(3),
        rnd(8),
        rnd(8),
        rnd(4),
        rnd(4),
        rnd(3),
        rnd(3),
        rnd(3),
        rnd(3),
        1 + rnd(2),
        1 + rnd(2),
        rnd(2),
        rnd(2),
        0,
      ];
      const [planes, inH, inW] = params;
      const input = new Float32Array(Math.max(0, planes * inH * inW - rnd(2))).map(() => rnd(10));
      const out = new Float32Array(rnd(120));
      const indices = new Int32Array(out.length);
      try {
        addon.maxPool2dForward(pool(params), input, out, indices);
        addon.avgPool2dForward(pool([...params.slice(0, 9), 1, 1, ...params.slice(11)]), input, out);
        valid++;
      } catch (error) {
        expect((error as { code?: string }).code).toBe('ERR_NODEGRAD_NATIVE');
        rejected++;
      }
    }
    expect(valid).toBeGreaterThan(100);
    expect(rejected).toBeGreaterThan(100);
  });
});

describe('addon loader', () => {
  it('names every path it tried and the command that builds the addon', () => {
    expectNodegradError(
      () => ng.backend.loadAddon(['/nonexistent/nodegrad.node']),
      'ERR_NODEGRAD_ADDON',
      '/nonexistent/nodegrad.node: not found',
      'npm run build:native',
      'NODEGRAD_ADDON',
    );
  });
});

describe('op-level bad input', () => {
  const cases: [string, () => unknown, string, string[]][] = [
    ['shape mismatch', () => ng.ones([2, 3]).add(ng.ones([4])), 'ERR_NODEGRAD_SHAPE', ['add', '[2, 3]', '[4]']],
    [
      'matmul inner dims',
      () => ng.ones([2, 3]).matmul(ng.ones([4, 5])),
      'ERR_NODEGRAD_SHAPE',
      ['matmul', '[2, 3]', '[4, 5]', '3 columns vs 4 rows'],
    ],
    ['matmul 0-d', () => ng.ones([]).matmul(ng.ones([2])), 'ERR_NODEGRAD_SHAPE', ['matmul', 'at least 1 dimension']],
    ['dim out of range', () => ng.ones([2, 3]).sum(2), 'ERR_NODEGRAD_DIM', ['sum', 'dim 2', 'rank 2', '[-2, 1]']],
    ['negative dim out of range', () => ng.ones([2, 3]).transpose(-3, 0), 'ERR_NODEGRAD_DIM', ['transpose', 'dim -3']],
    [
      'reshape to a wrong size',
      () => ng.ones([2, 3]).reshape([4, 2]),
      'ERR_NODEGRAD_SHAPE',
      ['reshape', '[4, 2]', '[2, 3]', '6 elements'],
    ],
    ['expand a non-1 dim', () => ng.ones([2, 3]).expand([4, 3]), 'ERR_NODEGRAD_SHAPE', ['expand', '[2, 3]', '[4, 3]']],
    [
      'narrow past the end',
      () => ng.ones([4]).narrow(0, 2, 3),
      'ERR_NODEGRAD_ARGUMENT',
      ['narrow', 'start 2', 'length 3', 'size 4'],
    ],
    [
      'cat mismatched shapes',
      () => ng.cat([ng.ones([2, 3]), ng.ones([2, 4])]),
      'ERR_NODEGRAD_SHAPE',
      ['cat', 'tensor 1', '[2, 4]'],
    ],
    [
      'indexSelect out of range',
      () => ng.ones([3]).indexSelect(0, [5]),
      'ERR_NODEGRAD_ARGUMENT',
      ['indexSelect', 'index 5', 'size 3'],
    ],
    [
      'indexSelect float index',
      () => ng.ones([3]).indexSelect(0, ng.tensor([0])),
      'ERR_NODEGRAD_ARGUMENT',
      ['indexSelect', 'int32', 'float32'],
    ],
    ['item on many elements', () => ng.ones([2]).item(), 'ERR_NODEGRAD_SHAPE', ['item', '[2]']],
    [
      'wrong dtype for grad',
      () => {
        ng.ones([2], { dtype: 'int32' }).requiresGrad = true;
      },
      'ERR_NODEGRAD_DTYPE',
      ['requiresGrad', 'int32'],
    ],
    ['clamp with min > max', () => ng.ones([2]).clamp(1, 0), 'ERR_NODEGRAD_ARGUMENT', ['clamp', 'min 1', 'max 0']],
    ['permute with repeated dims', () => ng.ones([2, 3]).permute([0, 0]), 'ERR_NODEGRAD_DIM', ['permute', '[0, 0]']],
    ['max of an empty tensor', () => ng.ones([0]).max(), 'ERR_NODEGRAD_SHAPE', ['max', 'empty']],
  ];
  it.each(cases)('%s', (_name, fn, code, fragments) => {
    expectNodegradError(fn, code, ...fragments);
  });
});
