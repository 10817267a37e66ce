/**
 * Resizing ops with PyTorch's semantics: interpolate (nearest, linear, bilinear) and the pixel
 * shuffles. Each is a composition (index selects weighted and summed, or a reshape and permute),
 * so the gradients come from those ops: nearest and linear resampling are separable, one axis at a time.
 */
import { NodegradError, formatShape } from '../errors.js';
import { tensor } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import { add, mul } from './elementwise.js';
import { indexSelect } from './join.js';
import { permute, reshape } from './shape.js';

/** The resampling rule of {@link interpolate}. */
export type InterpolateMode = 'nearest' | 'linear' | 'bilinear';

/** Options of {@link interpolate}: exactly one of `size` and `scaleFactor`. */
export interface InterpolateOptions {
  /** The output's spatial size: one number for every spatial dim, or one per dim. */
  size?: number | readonly number[];
  /** Multiplies each spatial size (output = ⌊size·scaleFactor⌋): one number, or one per dim. */
  scaleFactor?: number | readonly number[];
  /** 'nearest' (default), 'linear' (3-D input) or 'bilinear' (4-D input). */
  mode?: InterpolateMode;
  /**
   * Linear modes only: true aligns the corner pixels' centres of input and output; false (the default)
   * maps pixel areas, so values at the edges repeat.
   */
  alignCorners?: boolean;
}

function perDim(op: string, name: string, value: number | readonly number[], dims: number): number[] {
  const values = typeof value === 'number' ? Array<number>(dims).fill(value) : [...value];
  if (values.length !== dims || values.some((v) => !Number.isFinite(v) || v <= 0)) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `${op}: ${name} must be a positive number or ${dims} of them, got ${JSON.stringify(value)}`,
    );
  }
  return values;
}

/** PyTorch's nearest index: ⌊dst·scale⌋ in float32, scale = 1/scaleFactor when given, else in/out. */
function nearestIndices(inSize: number, outSize: number, scaleFactor: number | undefined): number[] {
  const scale = Math.fround(scaleFactor === undefined ? inSize / outSize : 1 / scaleFactor);
  // PyTorch maps equal sizes to the identity whatever the float32 scale rounds to.
  if (outSize === inSize) return Array.from({ length: outSize }, (_, i) => i);
  return Array.from({ length: outSize }, (_, i) => Math.min(Math.floor(Math.fround(i * scale)), inSize - 1));
}

/** Resamples `x` linearly along `dim` (PyTorch's source-index rule for align_corners true and false). */
function linearAlong(
  x: Tensor,
  dim: number,
  outSize: number,
  scaleFactor: number | undefined,
  alignCorners: boolean,
): Tensor {
  const inSize = x.shape[dim];
  const scale = alignCorners
    ? outSize > 1
      ? (inSize - 1) / (outSize - 1)
      : 0
    : scaleFactor === undefined
      ? inSize / outSize
      : 1 / scaleFactor;
  const low: number[] = [];
  const high: number[] = [];
  const lowWeight = new Float64Array(outSize);
  const highWeight = new Float64Array(outSize);
  for (let i = 0; i < outSize; i++) {
    const source = alignCorners ? scale * i : Math.max(scale * (i + 0.5) - 0.5, 0);
    const i0 = Math.min(Math.floor(source), inSize - 1);
    const lambda = Math.min(source - i0, 1);
    low.push(i0);
    high.push(Math.min(i0 + 1, inSize - 1));
    lowWeight[i] = 1 - lambda;
    highWeight[i] = lambda;
  }
  const shape = x.shape.map((_, d) => (d === dim ? outSize : 1));
  const weights = (w: Float64Array) => tensor(w, { shape, dtype: x.dtype });
  return add(mul(indexSelect(x, dim, low), weights(lowWeight)), mul(indexSelect(x, dim, high), weights(highWeight)));
}

/** Checks what the options alone decide (Upsample checks them when built). */
export function checkInterpolateOptions(op: string, options: InterpolateOptions): void {
  const mode: string = options.mode ?? 'nearest';
  if (!['nearest', 'linear', 'bilinear'].includes(mode)) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `${op}: mode must be 'nearest', 'linear' or 'bilinear', got '${mode}'`,
    );
  }
  if ((options.size === undefined) === (options.scaleFactor === undefined)) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `${op}: give exactly one of size and scaleFactor`);
  }
  if (mode === 'nearest' && options.alignCorners !== undefined) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `${op}: alignCorners applies to 'linear' and 'bilinear' only`);
  }
}

/**
 * Resizes the spatial dims of `input`, as PyTorch's `torch.nn.functional.interpolate`.
 *
 * Shape: input [N, C, L] ('nearest' or 'linear') or [N, C, H, W] ('nearest' or 'bilinear') → the same
 * with each spatial size replaced by `size`, or by ⌊size·scaleFactor⌋. With `scaleFactor`, source
 * positions use 1/scaleFactor as PyTorch does (its recompute_scale_factor=False).
 *
 * @example
 * ```ts
 * const F = ng.nn.functional;
 * F.interpolate(ng.randn([1, 3, 8, 8]), { scaleFactor: 2, mode: 'bilinear' }).shape; // [1, 3, 16, 16]
 * ```
 */
export function interpolate(input: Tensor, options: InterpolateOptions): Tensor {
  const op = 'interpolate';
  checkInterpolateOptions(op, options);
  const mode = options.mode ?? 'nearest';
  const dims = input.ndim - 2;
  const wanted = mode === 'nearest' ? [1, 2] : mode === 'linear' ? [1] : [2];
  if (!wanted.includes(dims)) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `${op}: mode '${mode}' expects input of shape ${wanted.length === 1 && wanted[0] === 1 ? '[N, C, L]' : '[N, C, H, W]'}` +
        `${mode === 'nearest' ? ' or [N, C, L]' : ''}, got ${formatShape(input.shape)}`,
    );
  }
  const spatial = input.shape.slice(2);
  const scales = options.scaleFactor === undefined ? undefined : perDim(op, 'scaleFactor', options.scaleFactor, dims);
  const sizes = scales
    ? spatial.map((s, i) => Math.floor(s * scales[i]))
    : perDim(op, 'size', options.size ?? 0, dims).map((s) => {
        if (!Number.isInteger(s)) {
          throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `${op}: size must be integers, got ${String(options.size)}`);
        }
        return s;
      });
  if (sizes.some((s) => s < 1)) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `${op}: input ${formatShape(input.shape)} scaled by ${String(options.scaleFactor)} gives an empty output`,
    );
  }
  let out = input;
  for (let i = 0; i < dims; i++) {
    out =
      mode === 'nearest'
        ? indexSelect(out, 2 + i, nearestIndices(spatial[i], sizes[i], scales?.[i]))
        : linearAlong(out, 2 + i, sizes[i], scales?.[i], options.alignCorners ?? false);
  }
  return out;
}

/** Checks a pixel shuffle's factor: a positive integer. */
export function checkFactor(op: string, factor: number): void {
  if (!Number.isInteger(factor) || factor < 1) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `${op}: the factor must be a positive integer, got ${factor}`);
  }
}

/**
 * Rearranges [*, C·r², H, W] into [*, C, H·r, W·r], as PyTorch's `torch.nn.functional.pixel_shuffle`
 * (sub-pixel convolution's upscaling step).
 *
 * @example
 * ```ts
 * const F = ng.nn.functional;
 * F.pixelShuffle(ng.randn([1, 12, 4, 4]), 2).shape; // [1, 3, 8, 8]
 * ```
 */
export function pixelShuffle(input: Tensor, upscaleFactor: number): Tensor {
  const op = 'pixelShuffle';
  checkFactor(op, upscaleFactor);
  const r = upscaleFactor;
  if (input.ndim < 3 || input.shape[input.ndim - 3] % (r * r) !== 0) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `${op}: expected input of shape [*, C·r², H, W] with channels divisible by r² = ${r * r}, got ${formatShape(input.shape)}`,
    );
  }
  const lead = input.shape.slice(0, -3);
  const [c, h, w] = input.shape.slice(-3);
  const b = lead.length;
  const split = reshape(input, [...lead, c / (r * r), r, r, h, w]);
  const order = [...lead.keys(), b, b + 3, b + 1, b + 4, b + 2];
  return reshape(permute(split, order), [...lead, c / (r * r), h * r, w * r]);
}

/**
 * Rearranges [*, C, H·r, W·r] into [*, C·r², H, W], the inverse of {@link pixelShuffle}, as PyTorch's
 * `torch.nn.functional.pixel_unshuffle`.
 *
 * @example
 * ```ts
 * const F = ng.nn.functional;
 * F.pixelUnshuffle(ng.randn([1, 3, 8, 8]), 2).shape; // [1, 12, 4, 4]
 * ```
 */
export function pixelUnshuffle(input: Tensor, downscaleFactor: number): Tensor {
  const op = 'pixelUnshuffle';
  checkFactor(op, downscaleFactor);
  const r = downscaleFactor;
  if (input.ndim < 3 || input.shape[input.ndim - 2] % r !== 0 || input.shape[input.ndim - 1] % r !== 0) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `${op}: expected input of shape [*, C, H, W] with H and W divisible by ${r}, got ${formatShape(input.shape)}`,
    );
  }
  const lead = input.shape.slice(0, -3);
  const [c, h, w] = input.shape.slice(-3);
  const b = lead.length;
  const split = reshape(input, [...lead, c, h / r, r, w / r, r]);
  const order = [...lead.keys(), b, b + 2, b + 4, b + 1, b + 3];
  return reshape(permute(split, order), [...lead, c * r * r, h / r, w / r]);
}
