/**
 * Pure TypeScript kernels: the oracle the native kernels are tested against, and the fallback when
 * the addon cannot load. Written for clarity, not speed; math runs in float64 and rounds on store.
 */
import { NodegradError } from '../errors.js';
import {
  BinaryOp,
  ReduceOp,
  UnaryOp,
  type Backend,
  type FloatArray,
  type GemmParams,
  type StridedView,
} from './types.js';
import { referenceNnKernels } from './reference-nn.js';
import { referenceGatherKernels } from './reference-gather.js';
import { referenceNormKernels } from './reference-norm.js';
import { referenceRnnKernels } from './reference-rnn.js';
import { referenceAttentionKernels } from './reference-attention.js';

function sigmoid(v: number): number {
  if (v >= 0) return 1 / (1 + Math.exp(-v));
  const e = Math.exp(v);
  return e / (1 + e);
}

/** C's pow, which PyTorch uses: 1 ** y and (-1) ** ±inf are 1 where Math.pow gives NaN. */
function powC(a: number, b: number): number {
  if (a === 1 || (a === -1 && Math.abs(b) === Infinity)) return 1;
  return Math.pow(a, b);
}

/** x ** p as PyTorch computes it: exponents 0.5 and -0.5 run sqrt and rsqrt (sqrt(-inf) is NaN). */
function powScalar(p: number): (v: number) => number {
  if (p === 0.5) return Math.sqrt;
  if (p === -0.5) return (v) => 1 / Math.sqrt(v);
  return (v) => powC(v, p);
}

/** A table op's math on one element, as lib/ops/unary.ts registers it. */
export interface ReferenceUnaryKernel {
  forward(v: number, p1: number, p2: number): number;
  /** The input gradient from the upstream gradient g and the saved input or output s. */
  backward(g: number, s: number, p1: number, p2: number): number;
}

const tableKernels = new Map<number, ReferenceUnaryKernel>();

/** Registers the reference math of table op `op` (lib/ops/unary.ts calls this for each row). */
export function registerReferenceUnary(op: number, kernel: ReferenceUnaryKernel): void {
  tableKernels.set(op, kernel);
}

function tableKernel(op: number): ReferenceUnaryKernel {
  const kernel = tableKernels.get(op);
  if (!kernel) throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `reference unary: unknown op ${op}`);
  return kernel;
}

function unaryFn(op: UnaryOp, p1: number, p2: number): (v: number) => number {
  switch (op) {
    case UnaryOp.Neg:
      return (v) => -v;
    case UnaryOp.Exp:
      return Math.exp;
    case UnaryOp.Log:
      return Math.log;
    case UnaryOp.Sqrt:
      return Math.sqrt;
    case UnaryOp.Abs:
      return Math.abs;
    case UnaryOp.Sign:
      return (v) => (v > 0 ? 1 : v < 0 ? -1 : 0);
    case UnaryOp.Relu:
      return (v) => (v < 0 ? 0 : v);
    case UnaryOp.Sigmoid:
      return sigmoid;
    case UnaryOp.Tanh:
      return Math.tanh;
    case UnaryOp.Clamp:
      return (v) => (v < p1 ? p1 : v > p2 ? p2 : v);
    case UnaryOp.ClampMask:
      return (v) => (v >= p1 && v <= p2 ? 1 : 0);
    case UnaryOp.PowScalar:
      return powScalar(p1);
    case UnaryOp.Affine:
      return (v) => p1 * v + p2;
    default: {
      const kernel = tableKernel(op);
      return (v) => kernel.forward(v, p1, p2);
    }
  }
}

function binaryFn(op: BinaryOp): (a: number, b: number) => number {
  switch (op) {
    case BinaryOp.Add:
      return (a, b) => a + b;
    case BinaryOp.Sub:
      return (a, b) => a - b;
    case BinaryOp.Mul:
      return (a, b) => a * b;
    case BinaryOp.Div:
      return (a, b) => a / b;
    case BinaryOp.Pow:
      return powC;
    case BinaryOp.Maximum:
      return (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b));
    case BinaryOp.Minimum:
      return (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b));
    case BinaryOp.ReluBackward:
      return (g, y) => (y <= 0 ? 0 : g);
    case BinaryOp.SigmoidBackward:
      return (g, y) => g * y * (1 - y);
    case BinaryOp.TanhBackward:
      return (g, y) => g * (1 - y * y);
  }
}

/** Calls visit(flatIndex, offsets...) for every index of `shape`, in row-major order. */
function forEachIndex(
  shape: readonly number[],
  views: readonly StridedView[],
  visit: (flat: number, offsets: number[]) => void,
): void {
  const total = shape.reduce((p, s) => p * s, 1);
  if (total === 0) return;
  const counter = new Array<number>(shape.length).fill(0);
  const offsets = views.map((v) => v.offset);
  for (let flat = 0; flat < total; flat++) {
    visit(flat, offsets);
    for (let d = shape.length - 1; d >= 0; d--) {
      counter[d]++;
      views.forEach((v, i) => {
        offsets[i] += v.strides[d];
      });
      if (counter[d] < shape[d]) break;
      views.forEach((v, i) => {
        offsets[i] -= v.strides[d] * shape[d];
      });
      counter[d] = 0;
    }
  }
}

/** The pure TypeScript backend: the oracle the native kernels are tested against, and the fallback. */
export const referenceBackend: Backend = {
  name: 'reference',
  ...referenceNnKernels,
  ...referenceGatherKernels,
  ...referenceNormKernels,
  ...referenceRnnKernels,
  ...referenceAttentionKernels,

  unary(op, x, out, n, p1, p2) {
    if ((x as unknown) instanceof Uint8Array) {
      throw new NodegradError(
        'ERR_NODEGRAD_DTYPE',
        `${UnaryOp[op].toLowerCase()}: not defined for bool tensors; convert first with .float()`,
      );
    }
    const f = unaryFn(op, p1, p2);
    for (let i = 0; i < n; i++) out[i] = f(x[i]);
  },

  unaryBackward(op, saved, grad, out, n, p1, p2) {
    const kernel = tableKernel(op);
    for (let i = 0; i < n; i++) out[i] = kernel.backward(grad[i], saved[i], p1, p2);
  },

  binary(op, shape, a, b, out) {
    if (out instanceof Uint8Array) {
      throw new NodegradError(
        'ERR_NODEGRAD_DTYPE',
        `${BinaryOp[op].toLowerCase()}: arithmetic is not defined for bool tensors; convert first with .int() or .float()`,
      );
    }
    if (
      out instanceof Int32Array &&
      ![BinaryOp.Add, BinaryOp.Sub, BinaryOp.Mul, BinaryOp.Maximum, BinaryOp.Minimum].includes(op)
    ) {
      throw new NodegradError('ERR_NODEGRAD_DTYPE', `reference binary: op ${BinaryOp[op]} is not defined for int32`);
    }
    const f = binaryFn(op);
    forEachIndex(shape, [a, b], (flat, [oa, ob]) => {
      out[flat] = f(a.data[oa], b.data[ob]);
    });
  },

  // Row by row rather than through forEachIndex: native runs bool copies here too (about 10x faster).
  copyStrided(shape, src, dst) {
    const total = shape.reduce((p, s) => p * s, 1);
    if (total === 0) return;
    const last = shape.length - 1;
    const [inner, ss, ds] = last < 0 ? [1, 0, 0] : [shape[last], src.strides[last], dst.strides[last]];
    const [from, to] = [src.data, dst.data];
    if (last <= 0 && ss === 1 && ds === 1 && from.constructor === to.constructor) {
      to.set(from.subarray(src.offset, src.offset + total), dst.offset);
      return;
    }
    const counter = new Array<number>(Math.max(last, 0)).fill(0);
    let [so, dof] = [src.offset, dst.offset];
    for (let row = 0; row < total / inner; row++) {
      for (let i = 0; i < inner; i++) to[dof + i * ds] = from[so + i * ss];
      for (let d = last - 1; d >= 0; d--) {
        so += src.strides[d];
        dof += dst.strides[d];
        if (++counter[d] < shape[d]) break;
        so -= src.strides[d] * shape[d];
        dof -= dst.strides[d] * shape[d];
        counter[d] = 0;
      }
    }
  },

  reduce(op, x, outer, n, inner, values, indices) {
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const at = (j: number) => x[(o * n + j) * inner + i];
        const out = o * inner + i;
        if (op === ReduceOp.Sum) {
          let acc = 0;
          for (let j = 0; j < n; j++) acc += at(j);
          if (values) values[out] = acc;
        } else if (op === ReduceOp.LogSumExp) {
          let m = -Infinity;
          for (let j = 0; j < n; j++) m = Math.max(m, at(j)); // Math.max returns NaN if any is NaN
          if (!Number.isFinite(m)) {
            if (values) values[out] = m;
            continue;
          }
          let acc = 0;
          for (let j = 0; j < n; j++) acc += Math.exp(at(j) - m);
          if (values) values[out] = m + Math.log(acc);
        } else {
          const better = op === ReduceOp.Max ? (v: number, b: number) => v > b : (v: number, b: number) => v < b;
          let best = at(0);
          let bestIndex = 0;
          for (let j = 1; j < n && !Number.isNaN(best); j++) {
            const v = at(j);
            if (Number.isNaN(v) || better(v, best)) {
              best = v;
              bestIndex = j;
            }
          }
          if (values) values[out] = best;
          if (indices) indices[out] = bestIndex;
        }
      }
    }
  },

  indexSelect(src, outer, n, inner, index, k, out) {
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < k; j++) {
        const from = (o * n + index[j]) * inner;
        const to = (o * k + j) * inner;
        for (let i = 0; i < inner; i++) out[to + i] = src[from + i];
      }
    }
  },

  indexAdd(src, outer, k, inner, index, n, out) {
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < k; j++) {
        const from = (o * k + j) * inner;
        const to = (o * n + index[j]) * inner;
        for (let i = 0; i < inner; i++) out[to + i] += src[from + i];
      }
    }
  },

  sgdStep(param, grad, buffer, p, first) {
    for (let i = 0; i < param.length; i++) {
      let d = (p.maximize ? -grad[i] : grad[i]) + p.weightDecay * param[i];
      if (buffer) {
        buffer[i] = first ? d : p.momentum * buffer[i] + (1 - p.dampening) * d;
        d = p.nesterov ? d + p.momentum * buffer[i] : buffer[i];
      }
      param[i] -= p.lr * d;
    }
  },

  adamStep(param, grad, m, v, vmax, p, step) {
    const bias1 = 1 - p.beta1 ** step;
    const bias2Sqrt = Math.sqrt(1 - p.beta2 ** step);
    for (let i = 0; i < param.length; i++) {
      let g = p.maximize ? -grad[i] : grad[i];
      if (p.decoupled) param[i] *= 1 - p.lr * p.weightDecay;
      else g += p.weightDecay * param[i];
      m[i] = p.beta1 * m[i] + (1 - p.beta1) * g;
      v[i] = p.beta2 * v[i] + (1 - p.beta2) * g * g;
      let second = v[i];
      if (vmax) second = vmax[i] = Math.max(vmax[i], v[i]);
      param[i] -= ((p.lr / bias1) * m[i]) / (Math.sqrt(second) / bias2Sqrt + p.eps);
    }
  },

  gemm(p: GemmParams, a: FloatArray, b: FloatArray, c: FloatArray) {
    for (let t = 0; t < p.batch; t++) {
      const ao = p.aOffset + t * p.strideA;
      const bo = p.bOffset + t * p.strideB;
      const co = p.cOffset + t * p.strideC;
      for (let i = 0; i < p.m; i++) {
        for (let j = 0; j < p.n; j++) {
          let acc = 0;
          for (let q = 0; q < p.k; q++) {
            const av = p.transA ? a[ao + q * p.lda + i] : a[ao + i * p.lda + q];
            const bv = p.transB ? b[bo + j * p.ldb + q] : b[bo + q * p.ldb + j];
            acc += av * bv;
          }
          const ci = co + i * p.ldc + j;
          c[ci] = p.beta === 0 ? p.alpha * acc : p.alpha * acc + p.beta * c[ci];
        }
      }
    }
  },
};
