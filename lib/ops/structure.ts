/**
 * Structure ops: split, chunk, unbind (views), tril/triu, flip, roll, repeat, repeatInterleave,
 * and the transposes behind `x.T` / `x.mT`. All but tril/triu are compositions of narrow, cat,
 * expand, reshape, permute and indexSelect, so their gradients come from those ops.
 */
import { record } from '../autograd/node.js';
import { NodegradError, formatShape } from '../errors.js';
import { assertReadable } from '../tensor/deferral.js';
import type { DataArray } from '../backend/types.js';
import { normalizeDim, numelOf } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { tensor } from '../tensor/creation.js';
import { cat, indexSelect } from './join.js';
import { denseCopy, expand, flatten, narrow, permute, reshape, squeeze, transpose, clone } from './shape.js';

/** `data`, once ng.runAsync has no kernel pending on it (TypeScript reads or writes it next). */
function readable(op: string, data: DataArray): DataArray {
  assertReadable(op, data);
  return data;
}

/**
 * Views of consecutive pieces along `dim`: pieces of `sizeOrSections` elements (the last may be
 * smaller), or of the listed sizes, which must add up to the dim's size.
 */
export function split(x: Tensor, sizeOrSections: number | readonly number[], dim = 0): Tensor[] {
  const d = normalizeDim('split', dim, x.ndim);
  if (x.ndim === 0) {
    throw new NodegradError('ERR_NODEGRAD_DIM', 'split: expected a tensor with at least one dim, got a 0-d tensor');
  }
  const size = x.shape[d];
  let sections: number[];
  if (typeof sizeOrSections === 'number') {
    const step = sizeOrSections;
    if (!Number.isInteger(step) || step < 0 || (step === 0 && size > 0)) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `split: split size must be a positive integer, got ${step} (dim ${d} of size ${size})`,
      );
    }
    const count = size === 0 ? 1 : Math.ceil(size / step);
    sections = Array.from({ length: count }, (_, i) => Math.min(step, size - i * step));
  } else {
    sections = [...sizeOrSections];
    const total = sections.reduce((p, s) => p + s, 0);
    if (sections.some((s) => !Number.isInteger(s) || s < 0) || total !== size) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `split: sections [${sections.join(', ')}] must be integers >= 0 adding up to ${size}, ` +
          `the size of dim ${d} (shape ${formatShape(x.shape)})`,
      );
    }
  }
  let start = 0;
  return sections.map((length) => {
    const piece = narrow(x, d, start, length);
    start += length;
    return piece;
  });
}

/** Splits into `chunks` views of ceil(size / chunks) elements along `dim` (fewer when they run out). */
export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  if (!Number.isInteger(chunks) || chunks < 1) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `chunk: expected a number of chunks >= 1, got ${chunks}`);
  }
  const d = normalizeDim('chunk', dim, x.ndim);
  if (x.ndim === 0) {
    throw new NodegradError('ERR_NODEGRAD_DIM', 'chunk: expected a tensor with at least one dim, got a 0-d tensor');
  }
  const size = x.shape[d];
  // PyTorch gives `chunks` empty pieces for an empty dim.
  if (size === 0) return split(x, new Array<number>(chunks).fill(0), d);
  return split(x, Math.ceil(size / chunks), d);
}

/** The slices along `dim`, each without that dim (views). */
export function unbind(x: Tensor, dim = 0): Tensor[] {
  const d = normalizeDim('unbind', dim, x.ndim);
  if (x.ndim === 0) {
    throw new NodegradError('ERR_NODEGRAD_DIM', 'unbind: expected a tensor with at least one dim, got a 0-d tensor');
  }
  return Array.from({ length: x.shape[d] }, (_, i) => squeeze(narrow(x, d, i, 1), d));
}

/** Zeroes the elements above (lower) or below (upper) the diagonal shifted by `diagonal`. */
function triangle(op: string, x: Tensor, diagonal: number, lower: boolean): Tensor {
  if (x.ndim < 2) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `${op}: expected a tensor with at least 2 dims, got shape ${formatShape(x.shape)}`,
    );
  }
  if (!Number.isInteger(diagonal)) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `${op}: diagonal must be an integer, got ${diagonal}`);
  }
  const out = denseCopy(x);
  const data = readable(op, out.storage.data);
  const rows = x.shape[x.ndim - 2];
  const cols = x.shape[x.ndim - 1];
  const matrices = numelOf(x.shape.slice(0, -2));
  for (let m = 0; m < matrices; m++) {
    for (let i = 0; i < rows; i++) {
      const base = (m * rows + i) * cols;
      // Lower keeps j <= i + diagonal; upper keeps j >= i + diagonal.
      const [from, to] = lower ? [Math.max(0, i + diagonal + 1), cols] : [0, Math.min(cols, i + diagonal)];
      for (let j = from; j < to; j++) data[base + j] = 0;
    }
  }
  return out;
}

/** The lower triangle of the last two dims (batched): elements with j <= i + diagonal are kept. */
export function tril(x: Tensor, diagonal = 0): Tensor {
  return record('tril', triangle('tril', x, diagonal, true), [x], (g) => [tril(g, diagonal)]);
}

/** The upper triangle of the last two dims (batched): elements with j >= i + diagonal are kept. */
export function triu(x: Tensor, diagonal = 0): Tensor {
  return record('triu', triangle('triu', x, diagonal, false), [x], (g) => [triu(g, diagonal)]);
}

function dimList(op: string, dims: number | readonly number[], x: Tensor): number[] {
  const list = (typeof dims === 'number' ? [dims] : [...dims]).map((d) => normalizeDim(op, d, x.ndim));
  if (new Set(list).size !== list.length) {
    throw new NodegradError('ERR_NODEGRAD_DIM', `${op}: dims [${list.join(', ')}] name a dim twice`);
  }
  return list;
}

/** Reverses the order of elements along each of `dims` (a copy). */
export function flip(x: Tensor, dims: number | readonly number[]): Tensor {
  const list = dimList('flip', dims, x).filter(() => x.ndim > 0);
  if (list.length === 0) return clone(x);
  return list.reduce((t, d) => {
    const n = t.shape[d];
    return indexSelect(
      t,
      d,
      Array.from({ length: n }, (_, i) => n - 1 - i),
    );
  }, x);
}

/**
 * Shifts elements along `dims` by `shifts`, wrapping around: roll(x, 1, 0) moves row i to row i + 1.
 * Without dims the flattened tensor is rolled and the shape restored.
 */
export function roll(x: Tensor, shifts: number | readonly number[], dims?: number | readonly number[]): Tensor {
  const shiftList = typeof shifts === 'number' ? [shifts] : [...shifts];
  if (shiftList.some((s) => !Number.isInteger(s))) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `roll: shifts must be integers, got [${shiftList.join(', ')}]`);
  }
  if (dims === undefined) {
    if (shiftList.length !== 1) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `roll: without dims, expected one shift for the flattened tensor, got [${shiftList.join(', ')}]`,
      );
    }
    return reshape(roll(flatten(x), shiftList[0], 0), x.shape);
  }
  const dimsList = (typeof dims === 'number' ? [dims] : [...dims]).map((d) => normalizeDim('roll', d, x.ndim));
  if (dimsList.length !== shiftList.length) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `roll: got ${shiftList.length} shifts for ${dimsList.length} dims; expected one shift per dim`,
    );
  }
  if (x.ndim === 0) return clone(x);
  return dimsList.reduce((t, d, i) => {
    const n = t.shape[d];
    const s = n === 0 ? 0 : ((shiftList[i] % n) + n) % n;
    if (s === 0) return clone(t);
    return cat([narrow(t, d, n - s, s), narrow(t, d, 0, n - s)], d);
  }, x);
}

/** Tiles x: dim i of the result is sizes[i] copies of x's dim (x gets leading size-1 dims first). */
export function repeat(x: Tensor, sizes: readonly number[]): Tensor {
  if (sizes.length < x.ndim || sizes.some((s) => !Number.isInteger(s) || s < 0)) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `repeat: expected at least ${x.ndim} repeat counts (integers >= 0) for shape ${formatShape(x.shape)}, ` +
        `got [${sizes.join(', ')}]`,
    );
  }
  const own = [...new Array<number>(sizes.length - x.ndim).fill(1), ...x.shape];
  // Each dim becomes a (repeat, size) pair: expand the repeat axis, then merge the pair.
  const paired = reshape(
    x,
    own.flatMap((s) => [1, s]),
  );
  const expanded = expand(
    paired,
    own.flatMap((s, i) => [sizes[i], s]),
  );
  return reshape(
    expanded,
    own.map((s, i) => s * sizes[i]),
  );
}

/** Options of {@link repeatInterleave}. */
export interface RepeatInterleaveOptions {
  /** The dim to repeat along; the flattened tensor when omitted. */
  dim?: number;
}

/**
 * Repeats each element (or slice along `dim`) `repeats` times in place: [a, b] with 2 gives
 * [a, a, b, b]. `repeats` is one count or one per element of the dim.
 */
export function repeatInterleave(
  x: Tensor,
  repeats: number | readonly number[] | Tensor,
  options: RepeatInterleaveOptions = {},
): Tensor {
  const input = options.dim === undefined ? flatten(x) : x;
  const d = normalizeDim('repeatInterleave', options.dim ?? 0, input.ndim);
  const size = input.ndim === 0 ? 1 : input.shape[d];
  const counts =
    repeats instanceof Tensor
      ? Array.from(readable('repeatInterleave (its repeats)', denseCopy(repeats).storage.data))
      : typeof repeats === 'number'
        ? [repeats]
        : [...repeats];
  if (repeats instanceof Tensor && (repeats.dtype !== 'int32' || repeats.ndim > 1)) {
    throw new NodegradError(
      'ERR_NODEGRAD_DTYPE',
      `repeatInterleave: expected repeats as a number or a 1-D int32 tensor, got ${repeats.dtype} of shape ${formatShape(repeats.shape)}`,
    );
  }
  if (counts.some((c) => !Number.isInteger(c) || c < 0) || (counts.length !== 1 && counts.length !== size)) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `repeatInterleave: repeats [${counts.join(', ')}] must be integers >= 0, one count or ${size} ` +
        `(the size of dim ${d}, shape ${formatShape(x.shape)})`,
    );
  }
  const positions: number[] = [];
  for (let i = 0; i < size; i++) {
    const c = counts.length === 1 ? counts[0] : counts[i];
    for (let r = 0; r < c; r++) positions.push(i);
  }
  return indexSelect(input, d, tensor(positions, { dtype: 'int32' }));
}

/** All dims reversed (a view): PyTorch's `x.T`, the transpose for a matrix. */
export function reverseDims(x: Tensor): Tensor {
  if (x.ndim < 2) return x;
  return permute(
    x,
    x.shape.map((_, d) => x.ndim - 1 - d),
  );
}

/** The last two dims swapped (a view): PyTorch's `x.mT`, batched matrix transpose. */
export function matrixTranspose(x: Tensor): Tensor {
  if (x.ndim < 2) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `mT: expected a tensor with at least 2 dims, got shape ${formatShape(x.shape)}`,
    );
  }
  return transpose(x, -2, -1);
}

/** The shape, or the size of one dim (negative counts from the end). */
export function size(x: Tensor, dim?: number): number | readonly number[] {
  if (dim === undefined) return x.shape;
  if (x.ndim === 0) {
    throw new NodegradError('ERR_NODEGRAD_DIM', `size: dim ${dim} is out of range for a 0-d tensor (it has no dims)`);
  }
  return x.shape[normalizeDim('size', dim, x.ndim)];
}
