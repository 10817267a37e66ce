/**
 * Matrix products through the backend GEMM: 1-D·1-D (dot), matrix-vector, 2-D, and batched with
 * broadcast batch dims. Transposed views are read in place (GEMM's trans flags) and a broadcast
 * operand uses batch stride 0, so neither is copied.
 */
import { getBackend } from '../backend/index.js';
import { BinaryOp, UnaryOp, type FloatArray } from '../backend/types.js';
import { isGradEnabled } from '../autograd/grad-mode.js';
import { record } from '../autograd/node.js';
import { NodegradError, formatShape } from '../errors.js';
import { broadcastShapes, broadcastStrides, numelOf, type Shape } from '../tensor/shape.js';
import { uninitTensor, Tensor } from '../tensor/tensor.js';
import { binaryKernel, reluGrad } from './elementwise.js';
import { sum, sumToShape } from './reduce.js';
import { contiguous, expand, reshape, squeeze, to, transpose, unsqueeze } from './shape.js';

interface Operand {
  data: FloatArray;
  offset: number;
  ld: number;
  trans: boolean;
  batchStride: number;
}

/** Reads t (viewed as [...batch, rows, cols]) as a GEMM operand, or null if it needs a copy. */
function asOperand(t: Tensor, batch: Shape): Operand | null {
  const rows = t.shape[t.ndim - 2];
  const cols = t.shape[t.ndim - 1];
  const sr = t.strides[t.ndim - 2];
  const sc = t.strides[t.ndim - 1];
  let trans: boolean;
  let ld: number;
  if ((cols === 1 || sc === 1) && (rows === 1 || sr >= cols)) {
    trans = false;
    ld = rows === 1 ? cols : sr;
  } else if ((rows === 1 || sr === 1) && (cols === 1 || sc >= rows)) {
    trans = true;
    ld = cols === 1 ? rows : sc;
  } else {
    return null;
  }
  ld = Math.max(ld, 1);
  const strides = broadcastStrides(t.shape.slice(0, -2), t.strides.slice(0, -2), batch);
  let batchStride = 0;
  let expected = -1;
  for (let d = batch.length - 1; d >= 0; d--) {
    if (batch[d] === 1) continue;
    if (expected === -1) {
      batchStride = strides[d];
      expected = strides[d];
    }
    if (strides[d] !== expected) return null;
    expected *= batch[d];
  }
  return { data: t.storage.data as FloatArray, offset: t.offset, ld, trans, batchStride };
}

/** asOperand for a tensor that is contiguous or was checked: it always reads as an operand. */
function requireOperand(op: string, t: Tensor, batch: Shape): Operand {
  const operand = asOperand(t, batch);
  if (!operand) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `${op}: cannot read a tensor of shape ${formatShape(t.shape)} with strides ${formatShape(t.strides)} as a matrix`,
    );
  }
  return operand;
}

function matmulBatched(a: Tensor, b: Tensor): Tensor {
  const [m, k] = a.shape.slice(-2);
  const [k2, n] = b.shape.slice(-2);
  if (k !== k2) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `matmul: shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} cannot be multiplied (${k} columns vs ${k2} rows)`,
    );
  }
  const batch = broadcastShapes('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2));
  const operand = (t: Tensor): Operand =>
    asOperand(t, batch) ?? requireOperand('matmul', contiguous(expand(t, [...batch, ...t.shape.slice(-2)])), batch);
  const A = operand(a);
  const B = operand(b);
  const out = uninitTensor([...batch, m, n], a.dtype);
  getBackend().gemm(
    {
      transA: A.trans,
      transB: B.trans,
      m,
      n,
      k,
      alpha: 1,
      beta: 0,
      aOffset: A.offset,
      lda: A.ld,
      bOffset: B.offset,
      ldb: B.ld,
      cOffset: 0,
      ldc: Math.max(n, 1),
      batch: numelOf(batch),
      strideA: A.batchStride,
      strideB: B.batchStride,
      strideC: m * n,
    },
    A.data,
    B.data,
    out.storage.data as FloatArray,
  );
  // Each gradient is produced in its input's memory layout: for a transposed view (a Linear
  // layer's weight.t()) the product is computed transposed, so the gradient that reaches the
  // weight is dense and needs no copy.
  return record(
    'matmul',
    out,
    [a, b],
    (g) => [
      a.requiresGrad
        ? sumToShape(
            A.trans ? transpose(matmul(b, transpose(g, -1, -2)), -1, -2) : matmul(g, transpose(b, -1, -2)),
            a.shape,
          )
        : null,
      b.requiresGrad
        ? sumToShape(
            B.trans ? transpose(matmul(transpose(g, -1, -2), a), -1, -2) : matmul(transpose(a, -1, -2), g),
            b.shape,
          )
        : null,
    ],
    [a, b],
  );
}

/**
 * PyTorch's matmul (torch.matmul): dot product for two vectors, matrix-vector, matrix-matrix, and
 * batched products whose leading dims broadcast ([B, m, k] @ [k, n] -> [B, m, n]).
 * @example
 * ```ts
 * const y = ng.matmul(ng.randn([8, 3, 4]), ng.randn([4, 5])); // [8, 3, 5]
 * const v = ng.randn([3, 4]).matmul(ng.randn([4])); // [3]
 * ```
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.ndim === 0 || b.ndim === 0) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `matmul: both arguments need at least 1 dimension, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`,
    );
  }
  const dtype = a.dtype === 'float64' || b.dtype === 'float64' ? 'float64' : 'float32';
  const x = to(a, dtype);
  const y = to(b, dtype);
  if (x.ndim === 1 && y.ndim === 1) {
    if (x.shape[0] !== y.shape[0]) {
      throw new NodegradError(
        'ERR_NODEGRAD_SHAPE',
        `matmul: vectors of shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} differ in length`,
      );
    }
    return reshape(matmulBatched(unsqueeze(x, 0), unsqueeze(y, 1)), []);
  }
  if (x.ndim === 1) return squeeze(matmulBatched(unsqueeze(x, 0), y), -2);
  if (y.ndim === 1) return squeeze(matmulBatched(x, unsqueeze(y, 1)), -1);
  return matmulBatched(x, y);
}

/** Options of {@link linear}. */
export interface LinearOptions {
  /** 'relu' applies ReLU inside the same node: one output buffer instead of three. */
  activation?: 'relu';
}

/**
 * y = x Wᵀ + b, x [..., in], weight [out, in], bias [out]. One graph node: the bias is written into
 * the output before the GEMM accumulates onto it (beta = 1), and an optional ReLU runs in place, so
 * the node keeps x, W and (with ReLU) y — not the three intermediates of matmul, add and relu.
 */
export function linear(input: Tensor, weight: Tensor, bias?: Tensor | null, options: LinearOptions = {}): Tensor {
  if (weight.ndim !== 2) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `linear: expected weight of shape [out, in], got ${formatShape(weight.shape)}`,
    );
  }
  const [outF, inF] = weight.shape;
  if (input.ndim < 1 || input.shape[input.ndim - 1] !== inF) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `linear: expected input of shape [..., ${inF}] for weight ${formatShape(weight.shape)}, got ${formatShape(input.shape)}`,
    );
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== outF)) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `linear: expected bias of shape [${outF}], got ${formatShape(bias.shape)}`,
    );
  }
  const dtype = input.dtype === 'float64' || weight.dtype === 'float64' ? 'float64' : 'float32';
  const x2 = reshape(to(input, dtype), [-1, inF]);
  const x = asOperand(x2, []) ? x2 : contiguous(x2);
  const w = to(weight, dtype);
  const b = bias ? to(bias, dtype) : null;
  const rows = x.shape[0];
  const out = uninitTensor([rows, outF], dtype);
  const outData = out.storage.data as FloatArray;
  const backend = getBackend();
  if (b) {
    // Every row starts as the bias (a stride-0 read), then the GEMM adds x Wᵀ onto it.
    backend.copyStrided(
      [rows, outF],
      { data: b.storage.data, offset: b.offset, strides: [0, b.strides[0]] },
      { data: outData, offset: 0, strides: [outF, 1] },
    );
  }
  const X = requireOperand('linear', x, []);
  const W = asOperand(w, []) ?? requireOperand('linear', contiguous(w), []);
  backend.gemm(
    {
      transA: X.trans,
      transB: !W.trans,
      m: rows,
      n: outF,
      k: inF,
      alpha: 1,
      beta: b ? 1 : 0,
      aOffset: X.offset,
      lda: X.ld,
      bOffset: W.offset,
      ldb: W.ld,
      cOffset: 0,
      ldc: Math.max(outF, 1),
      batch: 1,
      strideA: 0,
      strideB: 0,
      strideC: 0,
    },
    X.data,
    W.data,
    outData,
  );
  const relu = options.activation === 'relu';
  if (relu) backend.unary(UnaryOp.Relu, outData, outData, outData.length, 0, 0);
  const inputs = b ? [x, w, b] : [x, w];
  const result = record(
    relu ? 'linear+relu' : 'linear',
    out,
    inputs,
    (gOut) => {
      const g = !relu
        ? gOut
        : isGradEnabled()
          ? reluGrad(gOut, out)
          : binaryKernel('linear', BinaryOp.ReluBackward, gOut, out);
      return [
        x.requiresGrad ? matmul(g, w) : null,
        // dW = gᵀ x, computed directly in W's [out, in] layout.
        w.requiresGrad ? matmul(transpose(g, 0, 1), x) : null,
        ...(b ? [b.requiresGrad ? sum(g, 0) : null] : []),
      ];
    },
    relu ? [x, w, out] : [x, w],
  );
  return input.ndim === 2 ? result : reshape(result, [...input.shape.slice(0, -1), outF]);
}
