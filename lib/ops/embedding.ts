/**
 * embedding and embeddingBag: rows of a weight matrix picked by int32 indices. embedding runs the
 * native indexSelect and its backward scatter-adds duplicates with indexAdd; embeddingBag composes
 * embedding, a per-entry scale and a differentiable indexAdd into the bags (max mode has its own
 * backward, to the arg-max rows).
 */
import { getBackend } from '../backend/index.js';
import type { FloatArray } from '../backend/types.js';
import { noGrad } from '../autograd/grad-mode.js';
import { record } from '../autograd/node.js';
import { NodegradError, formatShape } from '../errors.js';
import { assertReadable, isPending } from '../tensor/deferral.js';
import { tensor } from '../tensor/creation.js';
import { uninitTensor, zerosTensor, type Tensor } from '../tensor/tensor.js';
import { writeInPlace } from '../tensor/write.js';
import { mul } from './elementwise.js';
import { indexAdd } from './gather.js';
import { denseArray, denseCopy, reshape } from './shape.js';

/** Options of {@link embedding} (torch.nn.functional.embedding's keyword arguments). */
export interface EmbeddingOptions {
  /** The row whose gradient is always zero (negative counts from the end). Default none. */
  paddingIdx?: number | null;
  /** Rows looked up whose normType-norm exceeds this are rescaled to it, in place. Default none. */
  maxNorm?: number | null;
  /** The p of the norm maxNorm compares. Default 2. */
  normType?: number;
  /** Divide each row's gradient by how often its index occurs in the input. Default false. */
  scaleGradByFreq?: boolean;
  /** Sparse gradients: not supported (refused). Default false. */
  sparse?: boolean;
}

/** The int32 indices of `input` as a dense array, each checked to lie in [0, num). */
function checkedIndices(op: string, input: Tensor, num: number): Int32Array {
  if (input.dtype !== 'int32') {
    throw new NodegradError('ERR_NODEGRAD_DTYPE', `${op}: expected int32 indices, got ${input.dtype}`);
  }
  // Indices computed inside ng.runAsync have no values yet: the native kernel checks them as it runs.
  if (isPending(input.storage.data)) {
    return input.isContiguous()
      ? (input.storage.data as Int32Array).subarray(input.offset, input.offset + input.numel)
      : (denseCopy(input).storage.data as Int32Array);
  }
  const indices = input.isContiguous()
    ? (input.storage.data as Int32Array).slice(input.offset, input.offset + input.numel)
    : (denseCopy(input).storage.data as Int32Array);
  for (const i of indices) {
    if (i < 0 || i >= num) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `${op}: index ${i} is out of range for a weight of ${num} rows (valid: 0 to ${num - 1})`,
      );
    }
  }
  return indices;
}

function checkWeight(op: string, weight: Tensor): [number, number] {
  if (weight.ndim !== 2 || (weight.dtype !== 'float32' && weight.dtype !== 'float64')) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `${op}: expected a 2-D float weight [numEmbeddings, embeddingDim], got ${weight.dtype} of shape ${formatShape(weight.shape)}`,
    );
  }
  return [weight.shape[0], weight.shape[1]];
}

/** paddingIdx in [0, num) (negative counts from the end), or -1 for none. */
export function resolvePaddingIdx(op: string, paddingIdx: number | null | undefined, num: number): number {
  if (paddingIdx === null || paddingIdx === undefined) return -1;
  if (!Number.isInteger(paddingIdx) || paddingIdx < -num || paddingIdx >= num) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `${op}: paddingIdx must be an integer in [${-num}, ${num - 1}], got ${paddingIdx}`,
    );
  }
  return paddingIdx < 0 ? paddingIdx + num : paddingIdx;
}

/**
 * Rescales in place (without grad) each row of weight that `indices` names whose normType-norm
 * exceeds maxNorm to maxNorm / (norm + 1e-7) of itself, as torch.embedding_renorm_.
 */
export function embeddingRenorm(weight: Tensor, indices: Int32Array, maxNorm: number, normType: number): void {
  const dim = weight.shape[1];
  const rows = [...new Set(indices)];
  noGrad(() => {
    writeInPlace('embedding', weight, (values) => {
      for (const r of rows) {
        let norm = 0;
        for (let j = 0; j < dim; j++) {
          const v = Math.abs(values[r * dim + j]);
          norm = normType === Infinity ? Math.max(norm, v) : norm + v ** normType;
        }
        if (normType !== Infinity) norm = norm ** (1 / normType);
        if (norm > maxNorm) {
          const scale = maxNorm / (norm + 1e-7);
          for (let j = 0; j < dim; j++) values[r * dim + j] *= scale;
        }
      }
    });
  });
}

/**
 * The rows of weight [num, dim] named by int32 `input` of any shape, as
 * `torch.nn.functional.embedding`: output [...input.shape, dim]. The backward adds each output
 * row's gradient into its weight row (duplicates accumulate); paddingIdx's row gets none.
 */
export function embedding(input: Tensor, weight: Tensor, options: EmbeddingOptions = {}): Tensor {
  const [num, dim] = checkWeight('embedding', weight);
  if (options.sparse) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      'embedding: sparse gradients are not supported; use sparse: false (dense weight gradients)',
    );
  }
  const paddingIdx = resolvePaddingIdx('embedding', options.paddingIdx, num);
  const indices = checkedIndices('embedding', input, num);
  if (options.maxNorm !== null && options.maxNorm !== undefined) {
    assertReadable('embedding (maxNorm)', indices);
    embeddingRenorm(weight, indices, options.maxNorm, options.normType ?? 2);
  }
  const k = indices.length;
  const out = uninitTensor([...input.shape, dim], weight.dtype);
  getBackend().indexSelect(denseArray(weight), 1, num, dim, indices, k, out.storage.data);
  const scaleGradByFreq = options.scaleGradByFreq ?? false;
  return record('embedding', out, [weight], (g) => {
    const gd = denseCopy(g.dtype === weight.dtype ? g : g.to(weight.dtype));
    const rows = gd.storage.data as FloatArray;
    const counts = new Map<number, number>();
    if (scaleGradByFreq) for (const i of indices) counts.set(i, (counts.get(i) ?? 0) + 1);
    for (let j = 0; j < k; j++) {
      const scale = indices[j] === paddingIdx ? 0 : scaleGradByFreq ? 1 / (counts.get(indices[j]) ?? 1) : 1;
      if (scale !== 1) for (let c = 0; c < dim; c++) rows[j * dim + c] *= scale;
    }
    const grad = zerosTensor([num, dim], weight.dtype);
    getBackend().indexAdd(rows, 1, k, dim, indices, num, grad.storage.data as FloatArray);
    return [grad];
  });
}

/** Options of {@link embeddingBag} (torch.nn.functional.embedding_bag's keyword arguments). */
export interface EmbeddingBagOptions {
  /** How each bag's rows combine. Default 'mean'. */
  mode?: 'sum' | 'mean' | 'max';
  /** With 1-D input: where each bag starts (int32 [B], or [B + 1] with includeLastOffset). */
  offsets?: Tensor | null;
  /** A weight per index (input's shape, float), multiplying its row; mode 'sum' only. */
  perSampleWeights?: Tensor | null;
  /** offsets has B + 1 entries, the last one the end of the input. Default false. */
  includeLastOffset?: boolean;
  /** Entries equal to this index are left out of their bag (and out of the mean's count). */
  paddingIdx?: number | null;
  /** As embedding's maxNorm. */
  maxNorm?: number | null;
  /** As embedding's normType. Default 2. */
  normType?: number;
}

/** The bag of each entry of the flattened input, and the number of bags. */
function bagsOf(input: Tensor, o: EmbeddingBagOptions): { bag: Int32Array; bags: number } {
  if (input.ndim === 2) {
    if (o.offsets) {
      throw new NodegradError('ERR_NODEGRAD_ARGUMENT', 'embeddingBag: offsets must be null with 2-D input');
    }
    const [B, L] = input.shape;
    return { bag: Int32Array.from({ length: B * L }, (_, i) => Math.floor(i / L)), bags: B };
  }
  if (input.ndim !== 1 || !o.offsets) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `embeddingBag: expected 2-D input [B, L], or 1-D input with offsets, got ${formatShape(input.shape)}`,
    );
  }
  const offsets = checkedIndices('embeddingBag', o.offsets, input.numel + 1);
  const bags = o.includeLastOffset ? offsets.length - 1 : offsets.length;
  const n = input.numel;
  const bag = new Int32Array(n);
  for (let b = 0; b < bags; b++) {
    const start = offsets[b];
    const end = b + 1 < offsets.length ? offsets[b + 1] : n;
    if (start > end || (b === 0 && start !== 0)) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `embeddingBag: offsets must start at 0 and not decrease, got ${Array.from(offsets).join(', ')}`,
      );
    }
    bag.fill(b, start, Math.min(end, n));
  }
  return { bag, bags };
}

/**
 * Sums, means or maxima of bags of embedding rows, as `torch.nn.functional.embedding_bag`:
 * input [B, L] (B bags of L indices) or 1-D input with `offsets`; output [B, dim]. An empty bag
 * gives zeros.
 */
export function embeddingBag(input: Tensor, weight: Tensor, options: EmbeddingBagOptions = {}): Tensor {
  const [num, dim] = checkWeight('embeddingBag', weight);
  const mode = options.mode ?? 'mean';
  const psw = options.perSampleWeights ?? null;
  if (psw && (mode !== 'sum' || psw.numel !== input.numel)) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `embeddingBag: perSampleWeights needs mode 'sum' and one weight per index (${input.numel}), got mode '${mode}' and ${psw.numel}`,
    );
  }
  const paddingIdx = resolvePaddingIdx('embeddingBag', options.paddingIdx, num);
  const { bag, bags } = bagsOf(input, options);
  const flatInput = reshape(input, [input.numel]);
  const rows = embedding(flatInput, weight, { maxNorm: options.maxNorm, normType: options.normType });
  const indices = denseCopy(flatInput).storage.data as Int32Array;
  const counts = new Float64Array(bags);
  for (let j = 0; j < indices.length; j++) if (indices[j] !== paddingIdx) counts[bag[j]]++;
  if (mode === 'max') return bagMax(rows, indices, bag, bags, paddingIdx);
  const scale = new Float64Array(indices.length);
  for (let j = 0; j < indices.length; j++) {
    scale[j] = indices[j] === paddingIdx ? 0 : mode === 'mean' ? 1 / counts[bag[j]] : 1;
  }
  let scaled = mul(rows, tensor(scale, { dtype: weight.dtype }).reshape([indices.length, 1]));
  if (psw) scaled = mul(scaled, reshape(psw, [indices.length, 1]));
  return indexAdd(zerosTensor([bags, dim], weight.dtype), 0, tensor(bag), scaled);
}

/** Column-wise maximum of each bag's rows; the gradient goes to the arg-max row of each column. */
function bagMax(rows: Tensor, indices: Int32Array, bag: Int32Array, bags: number, paddingIdx: number): Tensor {
  const dim = rows.shape[1];
  const values = rows.storage.data as FloatArray;
  const out = zerosTensor([bags, dim], rows.dtype);
  const o = out.storage.data as FloatArray;
  const arg = new Int32Array(bags * dim).fill(-1);
  for (let j = 0; j < indices.length; j++) {
    if (indices[j] === paddingIdx) continue;
    for (let c = 0; c < dim; c++) {
      const at = bag[j] * dim + c;
      if (arg[at] < 0 || values[j * dim + c] > o[at]) {
        o[at] = values[j * dim + c];
        arg[at] = j;
      }
    }
  }
  return record('embeddingBag', out, [rows], (g) => {
    const gd = denseArray(g.to(rows.dtype));
    const grad = zerosTensor(rows.shape, rows.dtype);
    const gr = grad.storage.data as FloatArray;
    for (let at = 0; at < arg.length; at++) if (arg[at] >= 0) gr[arg[at] * dim + (at % dim)] += gd[at];
    return [grad];
  });
}
