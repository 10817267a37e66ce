// Native kernels against the pure TypeScript reference, on random inputs with outputs poisoned
// (NaN-filled) beforehand so an element the kernel forgets to write fails the comparison.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { BinaryOp, ReduceOp, UnaryOp, type Backend, type FloatArray } from '../../lib/backend/types.js';
import { expectClose, randomArray } from '../helpers.js';

const native: Backend = ng.backend.getBackend();
const reference = ng.backend.referenceBackend;
const SIZES = [1, 2, 3, 7, 17, 64, 129, 300];
const DTYPES = ['float32', 'float64'] as const;

function poisoned(kind: 'float32' | 'float64', n: number): FloatArray {
  return (kind === 'float32' ? new Float32Array(n) : new Float64Array(n)).fill(NaN);
}

function contiguous(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  let step = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = step;
    step *= shape[d];
  }
  return s;
}

const tol = (kind: 'float32' | 'float64') => (kind === 'float32' ? 1e-5 : 1e-12);

it('uses the native backend with a SIMD GEMM on this machine', () => {
  expect(native.name).toBe('native');
  const isa = ng.backend.loadAddon().gemmIsa();
  expect(['avx512', 'avx2', 'portable']).toContain(isa);
});

describe.each(DTYPES)('unary kernels (%s)', (kind) => {
  const ops = Object.values(UnaryOp).filter((v): v is UnaryOp => typeof v === 'number' && v < UnaryOp.FirstTableOp);
  it.each(ops.map((op) => [UnaryOp[op], op] as const))('%s matches the reference for every size', (_name, op) => {
    for (const n of SIZES) {
      const x = randomArray(n, n * 7 + op, kind);
      if (op === UnaryOp.Log || op === UnaryOp.Sqrt || op === UnaryOp.PowScalar)
        x.forEach((v, i) => {
          x[i] = Math.abs(v) + 0.1;
        });
      const a = poisoned(kind, n);
      const b = poisoned(kind, n);
      native.unary(op, x, a, n, -0.3, 0.6);
      reference.unary(op, x, b, n, -0.3, 0.6);
      expectClose(a, b, tol(kind), kind === 'float32' ? 1e-7 : 1e-14);
    }
  });

  it('sigmoid, tanh and exp stay finite for huge and tiny inputs', () => {
    const x =
      kind === 'float32'
        ? new Float32Array([-1e30, -100, -1e-30, 0, 1e-30, 100, 1e30])
        : new Float64Array([-1e300, -800, 0, 800, 1e300]);
    for (const op of [UnaryOp.Sigmoid, UnaryOp.Tanh]) {
      const out = poisoned(kind, x.length);
      native.unary(op, x, out, x.length, 0, 0);
      for (const v of out) expect(Number.isFinite(v)).toBe(true);
    }
  });
});

describe.each(DTYPES)('binary kernels with broadcasting and strides (%s)', (kind) => {
  const ops = Object.values(BinaryOp).filter((v): v is BinaryOp => typeof v === 'number');
  const layouts: [string, number[], number[], number[]][] = [
    // name, output shape, a strides, b strides (0 = broadcast)
    ['dense', [7, 17], [17, 1], [17, 1]],
    ['row broadcast', [3, 129], [129, 1], [0, 1]],
    ['column broadcast', [17, 3], [3, 1], [1, 0]],
    ['scalar broadcast', [2, 3, 7], [21, 7, 1], [0, 0, 0]],
    ['transposed a', [7, 3], [1, 7], [3, 1]],
    ['size-1 and empty-free 4-D', [2, 1, 3, 64], [192, 192, 64, 1], [0, 0, 1, 0]],
  ];
  it.each(ops.map((op) => [BinaryOp[op], op] as const))('%s matches the reference on every layout', (_name, op) => {
    for (const [, shape, as, bs] of layouts) {
      const extent = (st: number[]) => 1 + shape.reduce((acc, s, d) => acc + (s - 1) * st[d], 0);
      const a = randomArray(extent(as) + 2, 11 + op, kind);
      const b = randomArray(extent(bs) + 2, 29 + op, kind);
      if (op === BinaryOp.Pow)
        a.forEach((v, i) => {
          a[i] = Math.abs(v) + 0.1;
        });
      const n = shape.reduce((p, s) => p * s, 1);
      const out1 = poisoned(kind, n);
      const out2 = poisoned(kind, n);
      native.binary(op, shape, { data: a, offset: 1, strides: as }, { data: b, offset: 2, strides: bs }, out1);
      reference.binary(op, shape, { data: a, offset: 1, strides: as }, { data: b, offset: 2, strides: bs }, out2);
      expectClose(out1, out2, tol(kind), kind === 'float32' ? 1e-7 : 1e-14);
    }
  });
});

it('int32 binary ops match the reference', () => {
  const a = new Int32Array([5, -3, 7, 0, 12, -8]);
  const b = new Int32Array([2, 4, -1]);
  for (const op of [BinaryOp.Add, BinaryOp.Sub, BinaryOp.Mul, BinaryOp.Maximum, BinaryOp.Minimum]) {
    const o1 = new Int32Array(6).fill(-999);
    const o2 = new Int32Array(6).fill(-999);
    native.binary(op, [2, 3], { data: a, offset: 0, strides: [3, 1] }, { data: b, offset: 0, strides: [0, 1] }, o1);
    reference.binary(op, [2, 3], { data: a, offset: 0, strides: [3, 1] }, { data: b, offset: 0, strides: [0, 1] }, o2);
    expect(Array.from(o1)).toEqual(Array.from(o2));
  }
});

describe.each(DTYPES)('copyStrided (%s)', (kind) => {
  it('copies permuted, offset and strided views', () => {
    for (const shape of [[1], [3, 7], [2, 17, 3], [129, 2]]) {
      const n = shape.reduce((p, s) => p * s, 1);
      const src = randomArray(n + 5, n, kind);
      // Read a buffer laid out as the reversed shape, transposed: every stride is non-unit.
      const reversed = contiguous(shape.slice().reverse());
      const srcStrides = shape.map((_, d) => reversed[shape.length - 1 - d]);
      const dst1 = poisoned(kind, n);
      const dst2 = poisoned(kind, n);
      const view = { data: src, offset: 3, strides: srcStrides };
      native.copyStrided(shape, view, { data: dst1, offset: 0, strides: contiguous(shape) });
      reference.copyStrided(shape, view, { data: dst2, offset: 0, strides: contiguous(shape) });
      expect(Array.from(dst1)).toEqual(Array.from(dst2));
    }
  });
});

describe.each(DTYPES)('reductions (%s)', (kind) => {
  const ops = [ReduceOp.Sum, ReduceOp.Max, ReduceOp.Min, ReduceOp.LogSumExp];
  it.each(ops.map((op) => [ReduceOp[op], op] as const))('%s over [outer, n, inner] for every size', (_name, op) => {
    for (const n of SIZES) {
      for (const [outer, inner] of [
        [1, 1],
        [3, 1],
        [1, 7],
        [2, 3],
      ]) {
        const x = randomArray(outer * n * inner, n + outer * 3 + inner, kind);
        const v1 = poisoned(kind, outer * inner);
        const v2 = poisoned(kind, outer * inner);
        const withIndex = op === ReduceOp.Max || op === ReduceOp.Min;
        const i1 = withIndex ? new Int32Array(outer * inner).fill(-1) : null;
        const i2 = withIndex ? new Int32Array(outer * inner).fill(-1) : null;
        native.reduce(op, x, outer, n, inner, v1, i1);
        reference.reduce(op, x, outer, n, inner, v2, i2);
        expectClose(v1, v2, tol(kind), kind === 'float32' ? 1e-6 : 1e-13);
        if (i1 && i2) expect(Array.from(i1)).toEqual(Array.from(i2));
      }
    }
  });

  it('logsumexp of huge and tiny logits has no inf or NaN', () => {
    const x =
      kind === 'float32'
        ? new Float32Array([1e30, 1e30, -1e30, 88, 89, -1e30])
        : new Float64Array([1e300, 1e300, -1e300, 700, 710, -1e300]);
    const out = poisoned(kind, 2);
    native.reduce(ReduceOp.LogSumExp, x, 2, 3, 1, out, null);
    for (const v of out) expect(Number.isFinite(v)).toBe(true);
  });

  it('max over ties returns the first index, like the reference', () => {
    const x = kind === 'float32' ? new Float32Array([1, 3, 3, 2]) : new Float64Array([1, 3, 3, 2]);
    const idx = new Int32Array(1);
    native.reduce(ReduceOp.Max, x, 1, 4, 1, null, idx);
    expect(idx[0]).toBe(1);
  });
});

describe.each(DTYPES)('indexSelect / indexAdd (%s)', (kind) => {
  it('gathers and scatter-adds with repeated indices', () => {
    const [outer, n, inner] = [3, 7, 17];
    const src = randomArray(outer * n * inner, 5, kind);
    const index = new Int32Array([6, 0, 6, 3]);
    const k = index.length;
    const o1 = poisoned(kind, outer * k * inner);
    const o2 = poisoned(kind, outer * k * inner);
    native.indexSelect(src, outer, n, inner, index, k, o1);
    reference.indexSelect(src, outer, n, inner, index, k, o2);
    expect(Array.from(o1)).toEqual(Array.from(o2));
    const g1 = kind === 'float32' ? new Float32Array(outer * n * inner) : new Float64Array(outer * n * inner);
    const g2 = g1.slice();
    native.indexAdd(o1, outer, k, inner, index, n, g1);
    reference.indexAdd(o1, outer, k, inner, index, n, g2);
    expectClose(g1, g2, tol(kind), 1e-7);
  });
});

// Every GEMM variant this CPU runs (the detected one and those below it) is tested here.
const addon = ng.backend.loadAddon();
const ISAS = ['avx512', 'avx2', 'portable'] as const;
const gemmIsas = ISAS.slice(ISAS.indexOf(addon.gemmIsa() as (typeof ISAS)[number]));

it('switches the GEMM variant only to ones this CPU runs, by name', () => {
  const before = addon.gemmIsa();
  for (const isa of gemmIsas) {
    addon.gemmIsa(isa);
    expect(addon.gemmIsa()).toBe(isa);
  }
  addon.gemmIsa(before as (typeof ISAS)[number]);
  expect(addon.gemmIsa()).toBe(before);
  expect(() => addon.gemmIsa('sse9' as 'avx2')).toThrow(/gemmIsa: 'sse9' is not a GEMM variant this CPU runs/);
});

describe.each(DTYPES.flatMap((kind) => gemmIsas.map((isa) => [kind, isa] as const)))('gemm (%s, %s)', (kind, isa) => {
  let previous = '';
  beforeAll(() => {
    previous = addon.gemmIsa(isa);
  });
  afterAll(() => {
    addon.gemmIsa(previous as (typeof ISAS)[number]);
  });
  // Every size appears in every dimension; all four transpose cases; offsets and padded leading
  // dimensions; alpha/beta. The error bound scales with sum |a||b| (float32: 1e-5 of it).
  const triples: [number, number, number][] = [];
  SIZES.forEach((s, i) => {
    triples.push([s, SIZES[(i + 3) % SIZES.length], SIZES[(i + 5) % SIZES.length]]);
    triples.push([SIZES[(i + 2) % SIZES.length], s, SIZES[(i + 6) % SIZES.length]]);
    triples.push([SIZES[(i + 1) % SIZES.length], SIZES[(i + 4) % SIZES.length], s]);
  });
  const cases = triples.flatMap(([m, n, k]) =>
    [
      [false, false],
      [false, true],
      [true, false],
      [true, true],
    ].map(([ta, tb]) => [m, n, k, ta, tb] as const),
  );

  it.each(cases)('m=%i n=%i k=%i transA=%s transB=%s', (m, n, k, transA, transB) => {
    const lda = (transA ? m : k) + 3;
    const ldb = (transB ? k : n) + 1;
    const ldc = n + 2;
    const a = randomArray((transA ? k : m) * lda + 4, m * 31 + k, kind);
    const b = randomArray((transB ? n : k) * ldb + 4, n * 17 + k, kind);
    const c0 = randomArray(m * ldc + 4, 99, kind);
    const params = {
      transA,
      transB,
      m,
      n,
      k,
      alpha: 1.5,
      beta: 0,
      aOffset: 4,
      lda,
      bOffset: 4,
      ldb,
      cOffset: 4,
      ldc,
      batch: 1,
      strideA: 0,
      strideB: 0,
      strideC: 0,
    };
    for (const beta of [0, 0.5]) {
      const c1 = c0.slice();
      const c2 = c0.slice();
      if (beta === 0) c1.fill(NaN); // beta = 0 must never read C
      native.gemm({ ...params, beta }, a, b, c1);
      reference.gemm({ ...params, beta: 0 }, a, b, c2);
      const abs = kind === 'float32' ? new Float64Array(c0.length) : c0.slice().fill(0);
      reference.gemm({ ...params, alpha: 1.5, beta: 0 }, a.map(Math.abs), b.map(Math.abs), abs);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          const at = 4 + i * ldc + j;
          const expected = c2[at] + beta * c0[at];
          const bound = (kind === 'float32' ? 1e-5 : 1e-12) * (abs[at] + Math.abs(beta * c0[at])) + 1e-30;
          if (!(Math.abs(c1[at] - expected) <= bound)) {
            expect.fail(`C[${i},${j}] = ${c1[at]}, expected ${expected} (bound ${bound}, beta ${beta})`);
          }
        }
      }
      // Padding between rows of C is untouched.
      if (ldc > n) expect(c1[4 + n]).toEqual(beta === 0 ? NaN : c0[4 + n]);
    }
  });

  it('batched with a broadcast operand (stride 0)', () => {
    const [batch, m, n, k] = [3, 7, 17, 129];
    const a = randomArray(batch * m * k, 1, kind);
    const b = randomArray(k * n, 2, kind);
    const c1 = poisoned(kind, batch * m * n);
    const c2 = poisoned(kind, batch * m * n);
    const p = {
      transA: false,
      transB: false,
      m,
      n,
      k,
      alpha: 1,
      beta: 0,
      aOffset: 0,
      lda: k,
      bOffset: 0,
      ldb: n,
      cOffset: 0,
      ldc: n,
      batch,
      strideA: m * k,
      strideB: 0,
      strideC: m * n,
    };
    native.gemm(p, a, b, c1);
    reference.gemm(p, a, b, c2);
    expectClose(c1, c2, kind === 'float32' ? 1e-4 : 1e-12, kind === 'float32' ? 1e-4 : 1e-12);
  });

  it.each([
    [5, 7, 2500, false, true],
    [13, 4100, 9, true, false],
    [50, 33, 1100, true, true],
  ] as const)(
    'spans several cache blocks: m %i, n %i, k %i (transA %s, transB %s), alpha and beta',
    (m, n, k, transA, transB) => {
      const a = randomArray(m * k, m + k, kind);
      const b = randomArray(k * n, n + k, kind);
      const c0 = randomArray(m * n, m * n, kind);
      const [c1, c2] = [c0.slice(), c0.slice()];
      const p = {
        transA,
        transB,
        m,
        n,
        k,
        alpha: 0.5,
        beta: 2,
        aOffset: 0,
        lda: transA ? m : k,
        bOffset: 0,
        ldb: transB ? k : n,
        cOffset: 0,
        ldc: n,
        batch: 1,
        strideA: 0,
        strideB: 0,
        strideC: 0,
      };
      native.gemm(p, a, b, c1);
      reference.gemm(p, a, b, c2);
      expectClose(c1, c2, kind === 'float32' ? 1e-4 : 1e-11, kind === 'float32' ? 1e-3 : 1e-11);
    },
  );

  it('k = 0 gives beta * C (zeros when beta = 0)', () => {
    const c = poisoned(kind, 6);
    native.gemm(
      {
        transA: false,
        transB: false,
        m: 2,
        n: 3,
        k: 0,
        alpha: 1,
        beta: 0,
        aOffset: 0,
        lda: 1,
        bOffset: 0,
        ldb: 3,
        cOffset: 0,
        ldc: 3,
        batch: 1,
        strideA: 0,
        strideB: 0,
        strideC: 0,
      },
      poisoned(kind, 1),
      poisoned(kind, 1),
      c,
    );
    expect(Array.from(c)).toEqual([0, 0, 0, 0, 0, 0]);
  });
});

describe.each(DTYPES)('optimizer update kernels (%s)', (kind) => {
  const copy = (a: FloatArray): FloatArray => a.slice();
  const flags = [false, true];

  it('sgdStep matches the reference for every option combination, size and step', () => {
    for (const n of SIZES) {
      for (const momentum of [0, 0.9])
        for (const nesterov of flags)
          for (const maximize of flags)
            for (const weightDecay of [0, 0.1]) {
              if (nesterov && momentum === 0) continue;
              const p = { lr: 0.05, momentum, dampening: nesterov ? 0 : 0.2, weightDecay, nesterov, maximize };
              const w1 = randomArray(n, n + 1, kind);
              const w2 = copy(w1);
              const b1 = momentum ? poisoned(kind, n) : null;
              const b2 = momentum ? poisoned(kind, n) : null;
              for (let step = 0; step < 3; step++) {
                const g = randomArray(n, n * 31 + step, kind);
                native.sgdStep(w1, g, b1, p, step === 0);
                reference.sgdStep(w2, g, b2, p, step === 0);
              }
              expectClose(w1, w2, tol(kind), kind === 'float32' ? 1e-7 : 1e-14);
              if (b1 && b2) expectClose(b1, b2, tol(kind), kind === 'float32' ? 1e-7 : 1e-14);
            }
    }
  });

  it('adamStep matches the reference for Adam, AdamW and AMSGrad at every size', () => {
    for (const n of SIZES) {
      for (const decoupled of flags)
        for (const amsgrad of flags)
          for (const maximize of flags) {
            const p = { lr: 0.01, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.05, decoupled, maximize };
            const w = [randomArray(n, n + 2, kind)];
            w.push(copy(w[0]));
            const state = [0, 1].map(
              () =>
                [
                  new (kind === 'float32' ? Float32Array : Float64Array)(n),
                  new (kind === 'float32' ? Float32Array : Float64Array)(n),
                  amsgrad ? new (kind === 'float32' ? Float32Array : Float64Array)(n) : null,
                ] as const,
            );
            for (let step = 1; step <= 3; step++) {
              const g = randomArray(n, n * 17 + step, kind);
              native.adamStep(w[0], g, state[0][0], state[0][1], state[0][2], p, step);
              reference.adamStep(w[1], g, state[1][0], state[1][1], state[1][2], p, step);
            }
            expectClose(w[0], w[1], 1e-5, 1e-6);
            expectClose(state[0][1], state[1][1], tol(kind), 1e-12);
          }
    }
  });
});

// Above 64K elements the element-wise, copy and reduction kernels split over the pool; each output
// is still computed as on one thread, so the results equal the reference and the 1-thread run.
describe.each(DTYPES)('large element-wise, copy and reduction kernels, threaded (%s)', (kind) => {
  const withThreads = <R>(threads: number, fn: () => R): R => {
    const before = ng.getNumThreads();
    ng.setNumThreads(threads);
    try {
      return fn();
    } finally {
      ng.setNumThreads(before);
    }
  };
  const both = (fn: () => ArrayLike<number>): [number[], number[]] => [
    Array.from(withThreads(1, fn)),
    Array.from(withThreads(2, fn)),
  ];

  it('unary over 100,003 elements', () => {
    const n = 100_003;
    const x = randomArray(n, 5, kind);
    const run = () => {
      const out = poisoned(kind, n);
      native.unary(UnaryOp.Tanh, x, out, n, 0, 0);
      return out;
    };
    const [one, two] = both(run);
    expect(two).toEqual(one);
    const ref = poisoned(kind, n);
    reference.unary(UnaryOp.Tanh, x, ref, n, 0, 0);
    expectClose(two, ref, tol(kind), 1e-7);
  });

  it('binary with a broadcast row and a transposed operand over [301, 400]', () => {
    const shape = [301, 400];
    const a = randomArray(301 * 400, 6, kind);
    const b = randomArray(400, 7, kind);
    const run = (be: Backend) => () => {
      const out = poisoned(kind, 301 * 400);
      be.binary(
        BinaryOp.Mul,
        shape,
        { data: a, offset: 0, strides: [1, 301] },
        { data: b, offset: 0, strides: [0, 1] },
        out,
      );
      return out;
    };
    const [one, two] = both(run(native));
    expect(two).toEqual(one);
    expectClose(two, run(reference)(), tol(kind), 1e-7);
  });

  it('copyStrided of a transposed [401, 300] view', () => {
    const src = randomArray(401 * 300, 8, kind);
    const run = (be: Backend) => () => {
      const dst = poisoned(kind, 401 * 300);
      be.copyStrided(
        [401, 300],
        { data: src, offset: 0, strides: [1, 401] },
        { data: dst, offset: 0, strides: [300, 1] },
      );
      return dst;
    };
    const [one, two] = both(run(native));
    expect(two).toEqual(one);
    expect(two).toEqual(Array.from(run(reference)()));
  });

  it.each([
    [ReduceOp.Sum, 300, 50, 10],
    [ReduceOp.Max, 300, 50, 10],
    [ReduceOp.Sum, 1, 300, 400],
    [ReduceOp.Max, 1, 300, 400],
    [ReduceOp.LogSumExp, 1, 200, 401],
  ] as const)('reduce op %i over [%i, %i, %i]', (op, outer, n, inner) => {
    const x = randomArray(outer * n * inner, 9, kind);
    const withIndex = op === ReduceOp.Max;
    const run = (be: Backend) => () => {
      const v = poisoned(kind, outer * inner);
      const idx = withIndex ? new Int32Array(outer * inner).fill(-1) : null;
      be.reduce(op, x, outer, n, inner, v, idx);
      return idx ? [...Array.from(v), ...Array.from(idx)] : v;
    };
    const [one, two] = both(run(native));
    expect(two).toEqual(one);
    expectClose(two, Array.from(run(reference)()), tol(kind), kind === 'float32' ? 1e-6 : 1e-13);
  });
});
