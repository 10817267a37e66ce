// native/gather.cc against lib/backend/reference-gather.ts: gather, scatter, scatterAdd and indexPut
// over [outer, n, inner] layouts in every dtype, with odd sizes, duplicate indices, sizes large enough
// to split over threads, and a seeded fuzzer of partly invalid calls (each either throws
// ERR_NODEGRAD_NATIVE naming its kernel or matches the reference).
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import type { Backend, DataArray } from '../../lib/backend/types.js';

const native = ng.backend.nativeBackend(ng.backend.loadAddon());
const reference = ng.backend.referenceBackend;

type Kind = 'float32' | 'float64' | 'int32';
const kinds: Kind[] = ['float32', 'float64', 'int32'];

function generator(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return n <= 0 ? 0 : s % n;
  };
}

function array(kind: Kind, n: number): DataArray {
  return kind === 'float32' ? new Float32Array(n) : kind === 'float64' ? new Float64Array(n) : new Int32Array(n);
}

/** Random values; float kinds get fractions, so a sum in another order would show. */
function randomArray(kind: Kind, n: number, rnd: (n: number) => number): DataArray {
  return array(kind, n).map(() => (kind === 'int32' ? rnd(2001) - 1000 : (rnd(20001) - 10000) / 37));
}

/** Float outputs start as NaN, int32 ones as a sentinel, so an unwritten element shows. */
function poisoned(kind: Kind, n: number): DataArray {
  return array(kind, n).fill(kind === 'int32' ? -7777 : NaN);
}

function indices(count: number, limit: number, rnd: (n: number) => number): Int32Array {
  return new Int32Array(count).map(() => rnd(limit));
}

/** Exact equality, NaN equal to NaN. */
function expectSame(a: DataArray, b: DataArray, what: string): void {
  expect(a.length, what).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(b[i])) expect(a[i], `${what} [${i}]`).toBeNaN();
    else if (a[i] !== b[i]) expect(a[i], `${what} [${i}]`).toBe(b[i]);
  }
}

type Kernel = 'gather' | 'scatter' | 'scatterAdd' | 'indexPut' | 'indexSelect' | 'indexAdd';

/** Calls one kernel on one backend; outer, n, inner, k as the Backend documents them. */
function call(
  b: Backend,
  kernel: Kernel,
  src: DataArray,
  dims: [number, number, number, number],
  index: Int32Array,
  out: DataArray,
  accumulate = false,
): void {
  const [outer, n, inner, k] = dims;
  if (kernel === 'gather') b.gather(src, outer, n, inner, index, k, out);
  else if (kernel === 'scatter') b.scatter(src, outer, k, inner, index, n, out);
  else if (kernel === 'scatterAdd') b.scatterAdd(src, outer, k, inner, index, n, out);
  else if (kernel === 'indexSelect') b.indexSelect(src, outer, n, inner, index, k, out);
  else if (kernel === 'indexAdd') b.indexAdd(src as Float32Array, outer, k, inner, index, n, out as Float32Array);
  else b.indexPut(src, outer, k, inner, index, n, out, accumulate);
}

/** Sizes of src, index and out for a kernel over [outer, n, inner] with k index rows. */
function sizes(kernel: Kernel, [outer, n, inner, k]: [number, number, number, number]): [number, number, number] {
  const small = outer * k * inner,
    large = outer * n * inner;
  if (kernel === 'gather') return [large, small, small];
  if (kernel === 'indexSelect') return [large, k, small];
  if (kernel === 'indexPut' || kernel === 'indexAdd') return [small, k, large];
  return [small, small, large];
}

// Odd sizes; k > n forces duplicates; the last three split over threads (over outer, over inner).
const shapes: [number, number, number, number][] = [
  [1, 1, 1, 1],
  [3, 5, 1, 7],
  [1, 7, 3, 2],
  [5, 3, 7, 11],
  [2, 1, 9, 4],
  [700, 211, 1, 199],
  [1, 300, 499, 257],
  [3, 97, 401, 101],
];

describe('gather kernels: native matches the reference', () => {
  for (const kernel of ['gather', 'scatter', 'scatterAdd', 'indexPut', 'indexSelect', 'indexAdd'] as Kernel[]) {
    for (const kind of kernel === 'indexAdd' ? kinds.filter((k) => k !== 'int32') : kinds) {
      for (const dims of shapes) {
        for (const accumulate of kernel === 'indexPut' ? [false, true] : [false]) {
          it(`${kernel}${accumulate ? ' (accumulate)' : ''} ${kind} [outer, n, inner, k] = [${dims.join(',')}]`, () => {
            const rnd = generator(dims.reduce((p, s) => p * 31 + s, 7));
            const [srcSize, indexSize, outSize] = sizes(kernel, dims);
            const src = randomArray(kind, srcSize, rnd);
            const index = indices(indexSize, dims[1], rnd);
            const start =
              kernel === 'gather' || kernel === 'indexSelect'
                ? poisoned(kind, outSize)
                : randomArray(kind, outSize, rnd);
            const expected = start.slice();
            const got = start.slice();
            call(reference, kernel, src, dims, index, expected, accumulate);
            call(native, kernel, src, dims, index, got, accumulate);
            expectSame(got, expected, kernel);
            if (kernel === 'gather' || kernel === 'indexSelect')
              expect(got.some((v) => Number.isNaN(v) || v === -7777)).toBe(false);
          });
        }
      }
    }
  }

  it('firstOutOfRange: the first index outside [0, limit), or -1, on both backends', () => {
    const big = new Int32Array(70000).map((_, i) => i % 1000);
    for (const b of [native, reference]) {
      expect(b.firstOutOfRange(big, 1000)).toBe(-1);
      expect(b.firstOutOfRange(big, 999)).toBe(999);
      expect(b.firstOutOfRange(new Int32Array(0), 0)).toBe(-1);
      const withNegative = big.slice();
      withNegative[65001] = -3;
      withNegative[65002] = 5000;
      expect(b.firstOutOfRange(withNegative, 1000)).toBe(65001);
      expect(b.firstOutOfRange(new Int32Array([0, 2147483647]), 2 ** 40)).toBe(-1);
    }
  });

  it('scatter and scatterAdd with a base start out as base, on both backends, split either way', () => {
    // [outer, n, inner, k]: rows split over threads, then columns split (outer below the thread count).
    for (const dims of [
      [700, 211, 1, 199],
      [1, 300, 499, 257],
      [3, 7, 5, 9],
    ] as [number, number, number, number][]) {
      for (const kernel of ['scatter', 'scatterAdd'] as const) {
        const [outer, n, inner, k] = dims;
        const rnd = generator(outer + n + inner + k);
        const src = randomArray('float32', outer * k * inner, rnd);
        const index = indices(outer * k * inner, n, rnd);
        const base = randomArray('float32', outer * n * inner, rnd);
        const expected = base.slice();
        reference[kernel](src, outer, k, inner, index, n, expected);
        for (const b of [native, reference]) {
          const got = poisoned('float32', outer * n * inner);
          b[kernel](src, outer, k, inner, index, n, got, base);
          expectSame(got, expected, `${b.name} ${kernel} with base [${dims.join(',')}]`);
        }
      }
    }
  });

  it('a base that overlaps out or has another type is refused, naming the kernel', () => {
    const out = new Float32Array(8);
    const src = new Float32Array(4);
    const index = new Int32Array([0, 1, 2, 3]);
    expect(() => native.scatterAdd(src, 1, 4, 1, index, 8, out, out.subarray(0, 8))).toThrow(
      /^native scatterAdd: base must not overlap out/,
    );
    expect(() => native.scatter(src, 1, 4, 1, index, 8, out, new Float64Array(8))).toThrow(/^native scatter: /);
    expect(() => native.scatter(src, 1, 4, 1, index, 8, out, new Float32Array(3))).toThrow(/^native scatter: /);
  });

  it('scatter: the last of duplicate indices wins, on both backends', () => {
    for (const b of [native, reference]) {
      const out = new Float64Array(3).fill(NaN);
      b.scatter(new Float64Array([1, 2, 3, 4]), 1, 4, 1, new Int32Array([2, 0, 2, 0]), 3, out);
      expect(Array.from(out)).toEqual([4, NaN, 3]);
    }
  });

  it('an index out of range throws naming the kernel, before anything is written but by gather', () => {
    for (const kernel of ['gather', 'scatter', 'scatterAdd', 'indexPut'] as Kernel[]) {
      for (const bad of [-1, 4]) {
        const out = new Float32Array(8).fill(5);
        const index = new Int32Array([0, bad, 1, 2]);
        const run = () => call(native, kernel, new Float32Array(8), [2, 4, 1, 2], index, out);
        expect(run).toThrow(expect.objectContaining({ code: 'ERR_NODEGRAD_NATIVE' }));
        expect(run).toThrow(new RegExp(`^native ${kernel}: index ${bad} at position 1 is out of range \\[0, 4\\)`));
        // gather checks each stretch of indices as it reads them: only its own new output is written.
        if (kernel !== 'gather') expect(Array.from(out)).toEqual(new Array(8).fill(5));
        expect(() => call(reference, kernel, new Float32Array(8), [2, 4, 1, 2], index, out)).toThrow(kernel);
      }
    }
  });
});

describe('gather kernels: fuzzing', () => {
  it('random, partly invalid calls throw naming the kernel or match the reference', () => {
    const rnd = generator(2026);
    const count = { valid: 0, rejected: 0 };
    const near = (n: number) => Math.max(0, n + (rnd(5) === 0 ? rnd(5) - 2 : 0));
    for (let trial = 0; trial < 600; trial++) {
      const kernel = (['gather', 'scatter', 'scatterAdd', 'indexPut'] as Kernel[])[rnd(4)];
      const kind = kinds[rnd(3)];
      const outKind = rnd(12) === 0 ? kinds[rnd(3)] : kind;
      const dims: [number, number, number, number] = [rnd(5), rnd(6), rnd(5), rnd(7)];
      const [srcSize, indexSize, outSize] = sizes(kernel, dims);
      const src = randomArray(kind, near(srcSize), rnd);
      // Mostly in range; now and then -1 or n.
      const index = new Int32Array(near(indexSize)).map(() => (rnd(30) === 0 ? [-1, dims[1]][rnd(2)] : rnd(dims[1])));
      const nativeOut = randomArray(outKind, near(outSize), rnd);
      const referenceOut = nativeOut.slice();
      const accumulate = rnd(2) === 0;
      try {
        call(native, kernel, src, dims, index, nativeOut, accumulate);
      } catch (error) {
        const e = error as Error & { code?: string };
        expect(e.code, e.message).toBe('ERR_NODEGRAD_NATIVE');
        expect(e.message.startsWith(`native ${kernel}: `), e.message).toBe(true);
        if (kernel !== 'gather') expectSame(nativeOut, referenceOut, `${kernel} wrote before refusing`);
        count.rejected++;
        continue;
      }
      call(reference, kernel, src, dims, index, referenceOut, accumulate);
      expectSame(nativeOut, referenceOut, `${kernel} ${kind} [${dims.join(',')}]`);
      count.valid++;
    }
    expect(count.valid).toBeGreaterThan(150);
    expect(count.rejected).toBeGreaterThan(50);
  });
});

describe('gather ops: the native and reference backends agree', () => {
  const previous = ng.backend.getBackend();
  /** Runs fn on each backend and returns both results as nested arrays. */
  function onBoth(fn: () => ng.Tensor): [unknown, unknown] {
    try {
      ng.backend.setBackend(native);
      const a = fn().toArray();
      ng.backend.setBackend(reference);
      return [a, fn().toArray()];
    } finally {
      ng.backend.setBackend(previous);
    }
  }
  const int = (values: number[][]) => ng.tensor(values, { dtype: 'int32' });

  it('gather and scatter on transposed views with an index smaller than the input off dim', () => {
    const x = ng.arange(0, 30, 1, { dtype: 'float64' }).reshape([5, 6]).transpose(0, 1);
    const index = int([
      [4, 0, 4],
      [1, 1, 2],
    ]);
    const src = ng.arange(0, 12, 1, { dtype: 'float64' }).reshape([3, 4]).transpose(0, 1);
    for (const fn of [
      () => x.gather(1, index),
      () => x.scatter(0, index, src),
      () => x.scatterAdd(1, index, src),
      () => x.scatter(1, index, -2.5),
    ]) {
      const [a, b] = onBoth(fn);
      expect(a).toEqual(b);
    }
  });

  it('scatter and scatterAdd start from a contiguous input at an offset and leave it unchanged', () => {
    const whole = ng.arange(0, 40, 1, { dtype: 'float64' }).reshape([8, 5]);
    const x = whole.narrow(0, 3, 4);
    const before = whole.toArray();
    const index = int([
      [4, 4, 0, 1, 4],
      [2, 2, 2, 0, 1],
      [0, 1, 2, 3, 4],
      [3, 3, 3, 3, 3],
    ]);
    const src = ng.arange(100, 120, 1, { dtype: 'float64' }).reshape([4, 5]);
    for (const fn of [
      () => x.scatterAdd(1, index, src),
      () => x.scatter(1, index, src),
      () => x.scatterAdd(0, index.narrow(0, 0, 2).remainder(4), src.narrow(0, 0, 2)),
      () => x.scatter(0, index.narrow(1, 0, 3).remainder(4), 7),
    ]) {
      const [a, b] = onBoth(fn);
      expect(a).toEqual(b);
      expect(whole.toArray()).toEqual(before);
    }
    expect((x.scatterAdd(1, index, src).toArray() as number[][])[3]).toEqual([
      30,
      31,
      32,
      33 + 115 + 116 + 117 + 118 + 119,
      34,
    ]);
  });

  it('indexPut on int32: duplicates take the last value, or all add up with accumulate', () => {
    const idx = ng.tensor([1, 3, 1], { dtype: 'int32' });
    const v = ng.tensor(
      [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
      { dtype: 'int32' },
    );
    for (const accumulate of [false, true]) {
      const [a, b] = onBoth(() => ng.zeros([4, 2], { dtype: 'int32' }).indexPut_([idx], v, { accumulate }));
      expect(a).toEqual(b);
      expect(a).toEqual(
        accumulate
          ? [
              [0, 0],
              [6, 8],
              [0, 0],
              [3, 4],
            ]
          : [
              [0, 0],
              [5, 6],
              [0, 0],
              [3, 4],
            ],
      );
    }
  });

  it("an index out of range is the op's own error and leaves the target untouched", () => {
    for (const backend of [native, reference]) {
      ng.backend.setBackend(backend);
      try {
        const x = ng.zeros([2, 3]);
        expect(() => x.scatter_(1, int([[0, 3]]), 1)).toThrow(
          expect.objectContaining({
            code: 'ERR_NODEGRAD_ARGUMENT',
            message: expect.stringMatching(/^scatter_: index 3 at position 1/) as unknown,
          }),
        );
        expect(x.toArray()).toEqual([
          [0, 0, 0],
          [0, 0, 0],
        ]);
      } finally {
        ng.backend.setBackend(previous);
      }
    }
  });
});

describe('indexPut_ values', () => {
  it('a value that is a view of the target is read before the write, as a copy', () => {
    const x = ng.tensor([
      [0, 1],
      [2, 3],
      [4, 5],
    ]);
    x.indexPut_([ng.tensor([1, 0], { dtype: 'int32' })], x.narrow(0, 0, 2));
    expect(x.toArray()).toEqual([
      [2, 3],
      [0, 1],
      [4, 5],
    ]);
  });

  it('a contiguous value of the result shape is written as given, in every dtype', () => {
    for (const dtype of ['float32', 'float64', 'int32'] as const) {
      const x = ng.zeros([3, 2], { dtype });
      x.indexPut_(
        [ng.tensor([2, 0], { dtype: 'int32' })],
        ng.tensor(
          [
            [1, 2],
            [3, 4],
          ],
          { dtype },
        ),
      );
      expect(x.toArray()).toEqual([
        [3, 4],
        [0, 0],
        [1, 2],
      ]);
    }
  });
});

describe('indexPutAt: native matches the reference', () => {
  /** Offsets of a [k, h, run] put into a [rows, h, run]-like block with row stride h * run + pad. */
  function layoutFor(k: number, h: number, run: number, rows: number, rnd: (n: number) => number) {
    const rowStride = h * run + 3;
    const offsets = new Int32Array(k).map(() => rnd(rows) * rowStride);
    const heads = new Int32Array(h).map((_, r) => r * run);
    return { offsets, heads, size: rows * rowStride };
  }

  for (const kind of kinds) {
    for (const [k, h, run, rows] of [
      [1, 1, 1, 1],
      [7, 3, 1, 4],
      [5, 2, 9, 3],
      [300, 40, 13, 50],
      [2000, 1, 70, 900],
    ]) {
      for (const accumulate of [false, true]) {
        it(`${kind} k=${k} h=${h} run=${run}${accumulate ? ' accumulate' : ''}`, () => {
          const rnd = generator(k * 1000 + h * 10 + run);
          const { offsets, heads, size } = layoutFor(k, h, run, rows, rnd);
          const src = randomArray(kind, k * h * run, rnd);
          const start = randomArray(kind, size, rnd);
          const [got, expected] = [start.slice(), start.slice()];
          reference.indexPutAt(src, k, offsets, h, heads, run, expected, accumulate);
          native.indexPutAt(src, k, offsets, h, heads, run, got, accumulate);
          expectSame(got, expected, 'indexPutAt');
        });
      }
    }
  }

  it('random, partly invalid calls throw naming the kernel or match the reference', () => {
    const rnd = generator(77);
    const count = { valid: 0, rejected: 0 };
    for (let trial = 0; trial < 400; trial++) {
      const kind = kinds[rnd(3)];
      const [k, h, run] = [rnd(5), rnd(4), rnd(4)];
      const offsets = new Int32Array(Math.max(0, k - (rnd(10) === 0 ? 1 : 0))).map(
        () => rnd(25) - (rnd(20) === 0 ? 30 : 0),
      );
      const heads = new Int32Array(h).map(() => rnd(6));
      const src = randomArray(kind, k * h * run + (rnd(8) === 0 ? -1 : 0) + 1, rnd).subarray(1);
      const nativeOut = randomArray(rnd(15) === 0 ? kinds[rnd(3)] : kind, rnd(40), rnd);
      const referenceOut = nativeOut.slice();
      const accumulate = rnd(2) === 0;
      try {
        native.indexPutAt(src, k, offsets, h, heads, run, nativeOut, accumulate);
      } catch (error) {
        const e = error as Error & { code?: string };
        expect(e.code, e.message).toBe('ERR_NODEGRAD_NATIVE');
        expect(e.message.startsWith('native indexPutAt: '), e.message).toBe(true);
        expectSame(nativeOut, referenceOut, 'indexPutAt wrote before refusing');
        count.rejected++;
        continue;
      }
      reference.indexPutAt(src, k, offsets, h, heads, run, referenceOut, accumulate);
      expectSame(nativeOut, referenceOut, `indexPutAt ${kind} k=${k} h=${h} run=${run}`);
      count.valid++;
    }
    expect(count.valid).toBeGreaterThan(100);
    expect(count.rejected).toBeGreaterThan(50);
  });

  it('a put over separated indexed dims: duplicates take the last value, or add up', () => {
    const i = ng.tensor([0, 2, 0], { dtype: 'int32' });
    const j = ng.tensor([1, 1, 1], { dtype: 'int32' });
    const v = ng.tensor([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    for (const accumulate of [false, true]) {
      const x = ng.zeros([3, 2, 2]);
      x.indexPut_([i, ':', j], v, { accumulate });
      const row0 = accumulate
        ? [
            [0, 6],
            [0, 8],
          ]
        : [
            [0, 5],
            [0, 6],
          ];
      expect(x.toArray()).toEqual([
        row0,
        [
          [0, 0],
          [0, 0],
        ],
        [
          [0, 3],
          [0, 4],
        ],
      ]);
    }
  });
});

describe('int32 sums', () => {
  it('wrap around as Int32Array stores do, on both backends', () => {
    for (const b of [native, reference]) {
      const out = new Int32Array([2147483647, -2147483648]);
      b.scatterAdd(new Int32Array([1, -1]), 1, 2, 1, new Int32Array([0, 1]), 2, out);
      expect(Array.from(out)).toEqual([-2147483648, 2147483647]);
      const put = new Int32Array([2147483647]);
      b.indexPut(new Int32Array([2]), 1, 1, 1, new Int32Array([0]), 1, put, true);
      expect(Array.from(put)).toEqual([-2147483647]);
    }
  });
});
