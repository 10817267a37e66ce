// A seeded, bounded fuzzer over the native entry points that test/backend/native-boundary.test.ts
// does not fuzz: random sizes, offsets, strides and buffer lengths, a share of them invalid. Every
// call either throws ERR_NODEGRAD_NATIVE naming its kernel or matches the reference backend; a crash
// kills the worker and fails the file. `npm run test:asan` runs it under ASan/UBSan too.
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { BinaryOp, ReduceOp, UnaryOp, type Backend, type DataArray } from '../../lib/backend/types.js';

const native = ng.backend.nativeBackend(ng.backend.loadAddon());
const reference = ng.backend.referenceBackend;

/** A linear congruential generator: the same calls on every run. */
function generator(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return n <= 0 ? 0 : s % n;
  };
}

type Outcome = 'valid' | 'rejected';

/**
 * Runs `call` on the native backend with fresh outputs, then (when it did not throw) on the reference
 * backend with copies of them as they were, and compares the outputs NaN-aware over `extents[i]`
 * elements each (what the kernel defines; past that a buffer is only required to be long enough).
 */
function fuzzCall(
  kernel: string,
  extents: number[],
  makeOutputs: () => DataArray[],
  call: (backend: Backend, outputs: DataArray[]) => void,
  context: unknown = '',
): Outcome {
  const nativeOut = makeOutputs();
  const referenceOut = nativeOut.map((out) => out.slice());
  try {
    call(native, nativeOut);
  } catch (error) {
    const e = error as Error & { code?: string };
    expect(e.code, e.message).toBe('ERR_NODEGRAD_NATIVE');
    expect(e.message.startsWith(`native ${kernel}: `), e.message).toBe(true);
    return 'rejected';
  }
  call(reference, referenceOut);
  nativeOut.forEach((out, i) => {
    const expected = referenceOut[i];
    for (let j = 0; j < Math.min(out.length, extents[i]); j++) {
      const a = out[j],
        b = expected[j];
      if (Number.isNaN(b)) expect(a, `${kernel} output ${i}[${j}] ${JSON.stringify(context)}`).toBeNaN();
      else
        expect(
          Math.abs(a - b),
          `${kernel} output ${i}[${j}]: ${a} vs ${b} ${JSON.stringify(context)}`,
        ).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(b)));
    }
  });
  return 'valid';
}

const tally = () => ({ valid: 0, rejected: 0 });
const values = (rnd: (n: number) => number, n: number) => new Float64Array(Math.max(0, n)).map(() => rnd(200) / 50 - 2);
/** A length near `n`: exact most of the time, a little short or long otherwise. */
const near = (rnd: (n: number) => number, n: number) => Math.max(0, n + (rnd(4) === 0 ? rnd(5) - 2 : 0));

describe('fuzzing the element-wise, reduction and index entry points', () => {
  it('unary and binary: valid calls match the reference, invalid ones throw', () => {
    const rnd = generator(11);
    const count = tally();
    const unaryOps = [
      UnaryOp.Neg,
      UnaryOp.Exp,
      UnaryOp.Abs,
      UnaryOp.Relu,
      UnaryOp.Sigmoid,
      UnaryOp.Tanh,
      UnaryOp.Clamp,
    ];
    for (let trial = 0; trial < 300; trial++) {
      const n = rnd(70);
      const x = values(rnd, near(rnd, n));
      const op = rnd(8) === 0 ? 200 + rnd(5) : unaryOps[rnd(unaryOps.length)];
      count[
        fuzzCall(
          'unary',
          [n],
          () => [new Float64Array(near(rnd, n)).fill(7)],
          // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment -- ids 200-204 outside the enum are fuzzed on purpose
          (b, [out]) => b.unary(op, x, out as Float64Array, n, -0.5, 0.5),
        )
      ]++;
    }
    const binaryOps = [BinaryOp.Add, BinaryOp.Sub, BinaryOp.Mul, BinaryOp.Div, BinaryOp.Maximum, BinaryOp.Minimum];
    for (let trial = 0; trial < 300; trial++) {
      const shape = Array.from({ length: rnd(4) }, () => rnd(4));
      const numel = shape.reduce((p, s) => p * s, 1);
      const stridesOf = () => shape.map(() => rnd(6));
      const aStrides = stridesOf(),
        bStrides = stridesOf();
      const a = values(rnd, rnd(50)),
        b = values(rnd, rnd(50));
      const aOffset = rnd(4),
        bOffset = rnd(4);
      const op = binaryOps[rnd(binaryOps.length)];
      count[
        fuzzCall(
          'binary',
          [numel],
          () => [new Float64Array(near(rnd, numel)).fill(7)],
          (be, [out]) =>
            be.binary(
              op,
              shape,
              { data: a, offset: aOffset, strides: aStrides },
              { data: b, offset: bOffset, strides: bStrides },
              out,
            ),
        )
      ]++;
    }
    expect(count.valid).toBeGreaterThan(150);
    expect(count.rejected).toBeGreaterThan(50);
  });

  it('reduce, softmax and its backward: valid calls match the reference, invalid ones throw', () => {
    const rnd = generator(12);
    const count = tally();
    for (let trial = 0; trial < 400; trial++) {
      const outer = rnd(4),
        n = rnd(6),
        inner = rnd(4);
      const x = values(rnd, near(rnd, outer * n * inner));
      const op = [ReduceOp.Sum, ReduceOp.Max, ReduceOp.Min, ReduceOp.LogSumExp][rnd(4)];
      const withIndices = (op === ReduceOp.Max || op === ReduceOp.Min) && rnd(2) === 1;
      count[
        fuzzCall(
          'reduce',
          [outer * inner, outer * inner],
          () => {
            const outs: DataArray[] = [new Float64Array(near(rnd, outer * inner)).fill(7)];
            if (withIndices) outs.push(new Int32Array(near(rnd, outer * inner)).fill(-7));
            return outs;
          },
          (b, outs) => b.reduce(op, x, outer, n, inner, outs[0], withIndices ? (outs[1] as Int32Array) : null),
        )
      ]++;
    }
    for (let trial = 0; trial < 300; trial++) {
      const outer = rnd(4),
        n = rnd(6),
        inner = rnd(4),
        log = rnd(2) === 1;
      const size = outer * n * inner;
      const x = values(rnd, near(rnd, size));
      count[
        fuzzCall(
          'softmax',
          [size],
          () => [new Float64Array(near(rnd, size)).fill(7)],
          (b, [out]) => b.softmax(x, outer, n, inner, out as Float64Array, log),
        )
      ]++;
      const y = values(rnd, near(rnd, size)),
        g = values(rnd, near(rnd, size));
      count[
        fuzzCall(
          'softmaxBackward',
          [size],
          () => [new Float64Array(near(rnd, size)).fill(7)],
          (b, [gx]) => b.softmaxBackward(y, g, outer, n, inner, gx as Float64Array, log),
        )
      ]++;
    }
    expect(count.valid).toBeGreaterThan(300);
    expect(count.rejected).toBeGreaterThan(100);
  });

  it('indexSelect, indexAdd and crossEntropy: indices out of range are refused, valid calls match', () => {
    const rnd = generator(13);
    const count = tally();
    for (let trial = 0; trial < 400; trial++) {
      const outer = rnd(3),
        n = rnd(5),
        inner = rnd(3),
        k = rnd(5);
      const index = new Int32Array(near(rnd, k)).map(() => rnd(n + 2) - (rnd(10) === 0 ? 3 : 0));
      const src = values(rnd, near(rnd, outer * n * inner));
      count[
        fuzzCall(
          'indexSelect',
          [outer * k * inner],
          () => [new Float64Array(near(rnd, outer * k * inner)).fill(7)],
          (b, [out]) => b.indexSelect(src, outer, n, inner, index, k, out),
        )
      ]++;
      const grad = values(rnd, near(rnd, outer * k * inner));
      count[
        fuzzCall(
          'indexAdd',
          [outer * n * inner],
          () => [new Float64Array(near(rnd, outer * n * inner)).fill(1)],
          (b, [out]) => b.indexAdd(grad, outer, k, inner, index, n, out as Float64Array),
        )
      ]++;
    }
    for (let trial = 0; trial < 300; trial++) {
      const rows = rnd(5),
        classes = rnd(5);
      const logits = values(rnd, near(rnd, rows * classes));
      const target = new Int32Array(near(rnd, rows)).map(() => (rnd(8) === 0 ? -100 : rnd(classes + 1)));
      const weight = rnd(2) === 1 ? values(rnd, near(rnd, classes)).map(Math.abs) : null;
      const withGrad = rnd(2) === 1;
      const p = { n: rows, classes, ignoreIndex: -100, labelSmoothing: rnd(3) / 10 };
      count[
        fuzzCall(
          'crossEntropy',
          [rows, rows * classes],
          () => {
            const outs: DataArray[] = [new Float64Array(near(rnd, rows)).fill(7)];
            if (withGrad) outs.push(new Float64Array(near(rnd, rows * classes)).fill(7));
            return outs;
          },
          (b, outs) =>
            b.crossEntropy(
              p,
              logits,
              target,
              weight,
              outs[0] as Float64Array,
              withGrad ? (outs[1] as Float64Array) : null,
            ),
        )
      ]++;
    }
    expect(count.valid).toBeGreaterThan(300);
    expect(count.rejected).toBeGreaterThan(100);
  });
});

describe('fuzzing the convolution and pooling backward entry points', () => {
  it('conv2d backward input and weight: valid calls match the reference, invalid ones throw', () => {
    const rnd = generator(14);
    const count = tally();
    for (let trial = 0; trial < 250; trial++) {
      const groups = 1 + rnd(2);
      const p = {
        batch: rnd(3),
        inChannels: groups * rnd(3),
        inH: rnd(7),
        inW: rnd(7),
        outChannels: groups * rnd(3),
        kernelH: 1 + rnd(3),
        kernelW: 1 + rnd(3),
        strideH: 1 + rnd(2),
        strideW: rnd(3),
        padH: rnd(2),
        padW: rnd(2),
        dilationH: 1 + rnd(2),
        dilationW: 1 + rnd(2),
        groups,
      };
      const outH = Math.max(
        0,
        Math.floor((p.inH + 2 * p.padH - p.dilationH * (p.kernelH - 1) - 1) / Math.max(1, p.strideH)) + 1,
      );
      const outW = Math.max(
        0,
        Math.floor((p.inW + 2 * p.padW - p.dilationW * (p.kernelW - 1) - 1) / Math.max(1, p.strideW)) + 1,
      );
      const inputSize = p.batch * p.inChannels * p.inH * p.inW;
      const weightSize = p.outChannels * (p.inChannels / groups) * p.kernelH * p.kernelW;
      const gradOut = values(rnd, near(rnd, p.batch * p.outChannels * outH * outW));
      const weight = values(rnd, near(rnd, weightSize));
      const input = values(rnd, near(rnd, inputSize));
      count[
        fuzzCall(
          'conv2dBackwardInput',
          [inputSize],
          () => [new Float64Array(near(rnd, inputSize)).fill(7)],
          (b, [gi]) => b.conv2dBackwardInput(p, gradOut, weight, gi as Float64Array),
          p,
        )
      ]++;
      const withBias = rnd(2) === 1;
      count[
        fuzzCall(
          'conv2dBackwardWeight',
          [weightSize, p.outChannels],
          () => {
            const outs: DataArray[] = [new Float64Array(near(rnd, weightSize)).fill(7)];
            if (withBias) outs.push(new Float64Array(near(rnd, p.outChannels)).fill(7));
            return outs;
          },
          (b, outs) =>
            b.conv2dBackwardWeight(
              p,
              input,
              gradOut,
              outs[0] as Float64Array,
              withBias ? (outs[1] as Float64Array) : null,
            ),
          { p, gradOut: gradOut.length, input: input.length },
        )
      ]++;
    }
    expect(count.valid).toBeGreaterThan(100);
    expect(count.rejected).toBeGreaterThan(50);
  });

  it('pooling backward and adaptive pooling: valid calls match the reference, invalid ones throw', () => {
    const rnd = generator(15);
    const count = tally();
    for (let trial = 0; trial < 300; trial++) {
      const p = {
        planes: rnd(3),
        inH: rnd(7),
        inW: rnd(7),
        kernelH: 1 + rnd(3),
        kernelW: 1 + rnd(3),
        strideH: 1 + rnd(2),
        strideW: rnd(3),
        padH: rnd(2),
        padW: rnd(2),
        dilationH: 1,
        dilationW: 1,
        ceilMode: rnd(2) === 1,
        countIncludePad: rnd(2) === 1,
        divisorOverride: 0,
      };
      const outH = ng.backend.poolOutputSize(p.inH, p.kernelH, p.strideH, p.padH, 1, p.ceilMode);
      const outW = ng.backend.poolOutputSize(p.inW, p.kernelW, Math.max(1, p.strideW), p.padW, 1, p.ceilMode);
      const outSize = Math.max(0, p.planes * outH * outW),
        inSize = p.planes * p.inH * p.inW;
      const gradOut = values(rnd, near(rnd, outSize));
      count[
        fuzzCall(
          'avgPool2dBackward',
          [inSize],
          () => [new Float64Array(near(rnd, inSize)).fill(7)],
          (b, [gi]) => b.avgPool2dBackward(p, gradOut, gi as Float64Array),
        )
      ]++;
      const indices = new Int32Array(near(rnd, outSize)).map(() => rnd(p.inH * p.inW + 2));
      count[
        fuzzCall(
          'maxPool2dBackward',
          [inSize],
          () => [new Float64Array(near(rnd, inSize)).fill(7)],
          (b, [gi]) => b.maxPool2dBackward(p, gradOut, indices, gi as Float64Array),
          p,
        )
      ]++;
      const a = { planes: rnd(3), inH: rnd(6), inW: rnd(6), outH: rnd(4), outW: rnd(4) };
      const aIn = values(rnd, near(rnd, a.planes * a.inH * a.inW));
      count[
        fuzzCall(
          'adaptiveAvgPool2dForward',
          [a.planes * a.outH * a.outW],
          () => [new Float64Array(near(rnd, a.planes * a.outH * a.outW)).fill(7)],
          (b, [out]) => b.adaptiveAvgPool2dForward(a, aIn, out as Float64Array),
        )
      ]++;
    }
    expect(count.valid).toBeGreaterThan(150);
    expect(count.rejected).toBeGreaterThan(100);
  });
});
