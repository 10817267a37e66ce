/** Shape arithmetic shared by tensors and ops. */
import { NodegradError, formatShape } from '../errors.js';

/** The size of each dimension, outermost first; `[]` is a 0-d (scalar) tensor. */
export type Shape = readonly number[];

export function numelOf(shape: Shape): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let step = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = step;
    step *= shape[d];
  }
  return strides;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}

export interface ShapeCheck {
  /** What -1 means here, if it is allowed: 'infer' (reshape, view) or 'keep' (expand). */
  minusOne?: 'infer' | 'keep';
  /** Names of the sizes, for sizes given as separate arguments (a layer's inFeatures, outFeatures). */
  names?: readonly string[];
}

/**
 * The one check every shape passes where it enters (creation, reshape/view, expand, layer sizes):
 * each size an integer >= 0, or -1 where `check.minusOne` allows it. Names the op on failure.
 */
export function checkShape(op: string, shape: Shape, check: ShapeCheck = {}): void {
  if (!Array.isArray(shape)) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `${op}: expected a shape as an array of integers, got ${String(shape)}`,
    );
  }
  const allowed =
    check.minusOne === 'infer'
      ? ' (or -1 to infer one size)'
      : check.minusOne === 'keep'
        ? ' (or -1 to keep a size)'
        : '';
  shape.forEach((s: unknown, d) => {
    if (Number.isInteger(s) && ((s as number) >= 0 || (s === -1 && check.minusOne))) return;
    const what = check.names?.[d] ?? `size at dim ${d}`;
    const where = check.names ? '' : ` in shape ${formatShape(shape)}`;
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `${op}: ${what} must be an integer >= 0${allowed}, got ${String(s)}${where}`,
    );
  });
}

/** Maps a possibly negative dim into [0, ndim); `ndim` may be 0 for scalars, treated as 1. */
/**
 * Refuses a dim given as an options object (`{ dim: 1 }`, as in some other libraries), naming the
 * positional call that works; `call` writes that call from its argument list.
 */
export function checkDimNotObject(op: string, dim: unknown, call = (args: string) => `ng.${op}(x, ${args})`): void {
  if (dim === null || typeof dim !== 'object' || Array.isArray(dim)) return;
  const fields = dim as Record<string, unknown>;
  const d = typeof fields.dim === 'number' || Array.isArray(fields.dim) ? JSON.stringify(fields.dim) : '1';
  const keep = fields.keepDim ?? fields.keepdim;
  const shown = Object.entries(fields)
    .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
    .join(', ');
  throw new NodegradError(
    'ERR_NODEGRAD_DIM',
    `${op}: pass the dim as a number: ${call(keep === undefined ? d : `${d}, ${JSON.stringify(keep)}`)}, not an options object { ${shown} }`,
  );
}

export function normalizeDim(op: string, dim: number, ndim: number): number {
  checkDimNotObject(op, dim);
  const rank = Math.max(ndim, 1);
  if (!Number.isInteger(dim) || dim < -rank || dim >= rank) {
    throw new NodegradError(
      'ERR_NODEGRAD_DIM',
      `${op}: dim ${dim} is out of range for a tensor of rank ${ndim} (expected in [${-rank}, ${rank - 1}])`,
    );
  }
  return dim < 0 ? dim + rank : dim;
}

/** NumPy/PyTorch broadcasting: align right, sizes must match or be 1. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new NodegradError(
        'ERR_NODEGRAD_SHAPE',
        `${op}: shapes ${formatShape(a)} and ${formatShape(b)} cannot be broadcast together ` +
          `(dimension ${i} of the result: ${da} vs ${db})`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides that read a tensor of `shape`/`strides` as if expanded to `target` (0 = repeat). */
export function broadcastStrides(shape: Shape, strides: readonly number[], target: Shape): number[] {
  const out = new Array<number>(target.length).fill(0);
  const lead = target.length - shape.length;
  for (let d = 0; d < shape.length; d++) {
    out[lead + d] = shape[d] === 1 && target[lead + d] !== 1 ? 0 : strides[d];
  }
  return out;
}

/** Resolves a single -1 in a requested shape against the element count. */
export function inferShape(op: string, requested: Shape, numel: number, from: Shape): number[] {
  checkShape(op, requested, { minusOne: 'infer' });
  const shape = [...requested];
  const unknown = shape.indexOf(-1);
  if (shape.filter((s) => s === -1).length > 1) {
    throw new NodegradError('ERR_NODEGRAD_SHAPE', `${op}: only one dimension can be -1, got ${formatShape(requested)}`);
  }
  const known = shape.reduce((p, s) => (s === -1 ? p : p * s), 1);
  if (unknown >= 0) {
    if (known === 0 || numel % known !== 0) {
      throw new NodegradError(
        'ERR_NODEGRAD_SHAPE',
        `${op}: shape ${formatShape(requested)} is invalid for a tensor of shape ${formatShape(from)} (${numel} elements)`,
      );
    }
    shape[unknown] = numel / known;
  }
  if (numelOf(shape) !== numel) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `${op}: shape ${formatShape(requested)} is invalid for a tensor of shape ${formatShape(from)} (${numel} elements)`,
    );
  }
  return shape;
}
