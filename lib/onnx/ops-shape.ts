/**
 * ONNX's shape, indexing and constant ops. PyTorch's exports compute shapes at run time (Shape →
 * Gather → Unsqueeze → Concat → Reshape); those values are small float64 "integer" tensors (see
 * ops-context.ts), so the same code serves the shape arithmetic and the model's own tensors.
 */
import { cat, indexSelect } from '../ops/join.js';
import { ne } from '../ops/compare.js';
import { expand, narrow, permute, reshape, squeeze, to, unsqueeze } from '../ops/shape.js';
import { tril, triu } from '../ops/structure.js';
import { where } from '../ops/masks.js';
import { trunc } from '../ops/unary.js';
import { arange, full, tensor } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import { DataType } from './schema.js';
import { tensorFromProto } from './import-tensor.js';
import { axis, ints, isInt, numbers, type OnnxOp, type OpContext } from './ops-context.js';

/** Axes from the attribute (opset < `inputFrom`) or from input 1. */
function axesOf(inputs: readonly (Tensor | undefined)[], ctx: OpContext, inputFrom: number): number[] | undefined {
  if (ctx.opset < inputFrom) return ctx.ints('axes');
  const given = inputs[1];
  return given ? numbers(given) : undefined;
}

function reshapeOp(inputs: readonly (Tensor | undefined)[], ctx: OpContext): Tensor[] {
  const x = ctx.input(inputs, 0);
  const allowZero = ctx.int('allowzero', 0) === 1;
  const shape = numbers(ctx.input(inputs, 1)).map((d, i) => {
    if (d !== 0 || allowZero) return d;
    if (i >= x.ndim) ctx.fail(`shape entry ${i} is 0 (copy) but the input has rank ${x.ndim}`);
    return x.shape[i] ?? 0;
  });
  return [reshape(x, shape)];
}

function unsqueezeOp(inputs: readonly (Tensor | undefined)[], ctx: OpContext): Tensor[] {
  let x = ctx.input(inputs, 0);
  const given = axesOf(inputs, ctx, 13);
  if (!given) ctx.fail('axes are required');
  const rank = x.ndim + given.length;
  const sorted = given.map((a) => axis(ctx, a, rank)).sort((a, b) => a - b);
  for (const a of sorted) x = unsqueeze(x, a);
  return [x];
}

function squeezeOp(inputs: readonly (Tensor | undefined)[], ctx: OpContext): Tensor[] {
  let x = ctx.input(inputs, 0);
  const given = axesOf(inputs, ctx, 13);
  const dims = given ? given.map((a) => axis(ctx, a, x.ndim)) : x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
  for (const a of dims.sort((p, q) => q - p)) {
    if (x.shape[a] !== 1) ctx.fail(`cannot squeeze axis ${a} of size ${x.shape[a] ?? 0}`);
    x = squeeze(x, a);
  }
  return [x];
}

/** Slice along one axis with ONNX's clamping; steps other than 1 (and negative ones) select indices. */
function sliceAxis(x: Tensor, d: number, start: number, end: number, step: number, ctx: OpContext): Tensor {
  const size = x.shape[d] ?? 0;
  if (step === 0) ctx.fail('a step of 0');
  const norm = (v: number) => (v < 0 ? v + size : v);
  const [lo, hi] = step > 0 ? [0, size] : [-1, size - 1];
  const s = Math.min(Math.max(norm(start), lo), hi);
  const e = Math.min(Math.max(norm(end), lo), hi);
  if (step === 1) return narrow(x, d, s, Math.max(e - s, 0));
  const picked: number[] = [];
  for (let i = s; step > 0 ? i < e : i > e; i += step) picked.push(i);
  return indexSelect(x, d, picked);
}

function sliceOp(inputs: readonly (Tensor | undefined)[], ctx: OpContext): Tensor[] {
  let x = ctx.input(inputs, 0);
  const fromInputs = ctx.opset >= 10;
  const starts = fromInputs ? numbers(ctx.input(inputs, 1)) : (ctx.ints('starts') ?? []);
  const ends = fromInputs ? numbers(ctx.input(inputs, 2)) : (ctx.ints('ends') ?? []);
  const axesGiven = fromInputs ? (inputs[3] ? numbers(inputs[3]) : undefined) : ctx.ints('axes');
  const steps = fromInputs && inputs[4] ? numbers(inputs[4]) : starts.map(() => 1);
  const axes = axesGiven ?? starts.map((_, i) => i);
  if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length)
    ctx.fail(
      `starts, ends, axes and steps differ in length (${starts.length}, ${ends.length}, ${axes.length}, ${steps.length})`,
    );
  axes.forEach((a, i) => {
    x = sliceAxis(x, axis(ctx, a, x.ndim), starts[i] ?? 0, ends[i] ?? 0, steps[i] ?? 1, ctx);
  });
  return [x];
}

function gatherOp(inputs: readonly (Tensor | undefined)[], ctx: OpContext): Tensor[] {
  const x = ctx.input(inputs, 0);
  const index = ctx.input(inputs, 1);
  const d = axis(ctx, ctx.int('axis', 0), x.ndim);
  const size = x.shape[d] ?? 0;
  const flat = numbers(index).map((i) => {
    if (i < -size || i >= size) ctx.fail(`index ${i} is out of range for axis ${d} of size ${size}`);
    return i < 0 ? i + size : i;
  });
  const picked = indexSelect(x, d, tensor(Int32Array.from(flat), { dtype: 'int32' }));
  return [reshape(picked, [...x.shape.slice(0, d), ...index.shape, ...x.shape.slice(d + 1)])];
}

function splitOp(inputs: readonly (Tensor | undefined)[], ctx: OpContext): Tensor[] {
  const x = ctx.input(inputs, 0);
  const d = axis(ctx, ctx.int('axis', 0), x.ndim);
  const size = x.shape[d] ?? 0;
  const count = ctx.opset >= 18 ? ctx.int('num_outputs', ctx.node.output.length) : ctx.node.output.length;
  let sizes = ctx.opset >= 13 ? (inputs[1] ? numbers(inputs[1]) : undefined) : ctx.ints('split');
  sizes ??= Array.from({ length: count }, (_, i) =>
    Math.min(Math.ceil(size / count), size - i * Math.ceil(size / count)),
  );
  if (sizes.reduce((a, b) => a + b, 0) !== size) ctx.fail(`split sizes [${sizes.join(', ')}] do not add up to ${size}`);
  let start = 0;
  return sizes.map((n) => {
    const part = narrow(x, d, start, n);
    start += n;
    return part;
  });
}

/** Bidirectional broadcast of x to `shape` (ONNX's Expand, unlike PyTorch's, may keep x's larger dims). */
function expandOp(inputs: readonly (Tensor | undefined)[], ctx: OpContext): Tensor[] {
  const x = ctx.input(inputs, 0);
  const shape = numbers(ctx.input(inputs, 1));
  const rank = Math.max(x.ndim, shape.length);
  const target = Array.from({ length: rank }, (_, i) => {
    const a = x.shape[i - rank + x.ndim] ?? 1;
    const b = shape[i - rank + shape.length] ?? 1;
    if (a !== b && a !== 1 && b !== 1) ctx.fail(`cannot broadcast [${x.shape.join(', ')}] to [${shape.join(', ')}]`);
    return a === 1 ? b : a;
  });
  return [expand(x, target)];
}

function castOp(inputs: readonly (Tensor | undefined)[], ctx: OpContext): Tensor[] {
  const x = ctx.input(inputs, 0);
  const type = ctx.int('to', DataType.FLOAT);
  if (type === DataType.BOOL) return [ne(x, 0)];
  if (type === DataType.FLOAT || type === DataType.DOUBLE || type === DataType.FLOAT16) return [to(x, 'float32')];
  if (type === DataType.STRING) ctx.fail('casting to string is not supported');
  return [isInt(x) || x.dtype === 'bool' ? to(x, 'float64') : trunc(to(x, 'float64'))];
}

function constantOp(_inputs: readonly (Tensor | undefined)[], ctx: OpContext): Tensor[] {
  const value = ctx.tensor('value');
  if (value) return [tensorFromProto(value)];
  if (ctx.has('value_float')) return [tensor(ctx.float('value_float', 0))];
  if (ctx.has('value_int')) return [ints([ctx.int('value_int', 0)], [])];
  const floats = ctx.floats('value_floats');
  if (floats) return [tensor(floats)];
  const intList = ctx.ints('value_ints');
  if (intList) return [ints(intList)];
  return ctx.fail('only value, value_float(s) and value_int(s) are supported');
}

function constantOfShape(inputs: readonly (Tensor | undefined)[], ctx: OpContext): Tensor[] {
  const shape = numbers(ctx.input(inputs, 0));
  const proto = ctx.tensor('value');
  const value = proto ? tensorFromProto(proto) : tensor([0]);
  return [full(shape, value.item(), { dtype: value.dtype })];
}

function range(inputs: readonly (Tensor | undefined)[], ctx: OpContext): Tensor[] {
  const [start, limit, delta] = [0, 1, 2].map((i) => ctx.input(inputs, i));
  const [s, l, d] = [start, limit, delta].map((t) => numbers(t)[0] ?? 0);
  return [arange(s, l, d, { dtype: isInt(start) ? 'float64' : 'float32' })];
}

function shapeOp(inputs: readonly (Tensor | undefined)[], ctx: OpContext): Tensor[] {
  const dims = ctx.input(inputs, 0).shape;
  const norm = (v: number) => Math.min(Math.max(v < 0 ? v + dims.length : v, 0), dims.length);
  return [ints(dims.slice(norm(ctx.int('start', 0)), norm(ctx.int('end', dims.length))))];
}

/** The shape, indexing and constant ops. */
export const shapeOps: Record<string, OnnxOp> = {
  Identity: (inputs, ctx) => [ctx.input(inputs, 0)],
  Shape: shapeOp,
  Size: (inputs, ctx) => [ints([ctx.input(inputs, 0).numel], [])],
  Reshape: reshapeOp,
  Flatten: (inputs, ctx) => {
    const x = ctx.input(inputs, 0);
    const a = ctx.int('axis', 1);
    const split = a < 0 ? a + x.ndim : a;
    const rows = x.shape.slice(0, split).reduce((p, d) => p * d, 1);
    return [reshape(x, [rows, x.shape.slice(split).reduce((p, d) => p * d, 1)])];
  },
  Transpose: (inputs, ctx) => {
    const x = ctx.input(inputs, 0);
    return [permute(x, ctx.ints('perm') ?? x.shape.map((_, i) => x.ndim - 1 - i))];
  },
  Squeeze: squeezeOp,
  Unsqueeze: unsqueezeOp,
  Concat: (inputs, ctx) => {
    const parts = inputs.filter((t): t is Tensor => t !== undefined);
    const first = ctx.input(parts, 0);
    return [cat(parts, axis(ctx, ctx.int('axis', 0), first.ndim))];
  },
  Split: splitOp,
  Slice: sliceOp,
  Gather: gatherOp,
  Expand: expandOp,
  Where: (inputs, ctx) => {
    const cond = ctx.input(inputs, 0);
    return [where(cond.dtype === 'bool' ? cond : ne(cond, 0), ctx.input(inputs, 1), ctx.input(inputs, 2))];
  },
  Cast: castOp,
  Constant: constantOp,
  ConstantOfShape: constantOfShape,
  Range: range,
  Trilu: (inputs, ctx) => {
    const k = inputs[1] ? (numbers(inputs[1])[0] ?? 0) : 0;
    const x = ctx.input(inputs, 0);
    return [ctx.int('upper', 1) ? triu(x, k) : tril(x, k)];
  },
};
