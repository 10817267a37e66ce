/** ONNX's arithmetic, activation, linear-algebra, normalization, reduction and pooling ops. */
import { abs, add, clamp, div, exp, log, mul, neg, pow, relu, sigmoid, sqrt, sub, tanh } from '../ops/elementwise.js';
import { eq, gt, lt, logicalAnd, logicalNot, logicalOr } from '../ops/compare.js';
import { maximum, minimum } from '../ops/binary-math.js';
import { ceil, erf, floor, gelu, leakyRelu } from '../ops/unary.js';
import { matmul } from '../ops/matmul.js';
import { softmax, logSoftmax } from '../ops/softmax.js';
import { layerNorm } from '../ops/layer-norm.js';
import { batchNorm } from '../ops/norm.js';
import { conv2d } from '../ops/conv.js';
import { avgPool2d, maxPool2d } from '../ops/pool.js';
import { mean, sum } from '../ops/reduce.js';
import { reshape, to, transpose } from '../ops/shape.js';
import { dropout } from '../ops/dropout.js';
import { where } from '../ops/masks.js';
import type { Tensor } from '../tensor/tensor.js';
import { axis, isInt, numbers, type OnnxOp, type OpContext } from './ops-context.js';

const unary =
  (f: (x: Tensor) => Tensor): OnnxOp =>
  (inputs, ctx) => [f(ctx.input(inputs, 0))];

const binary =
  (f: (a: Tensor, b: Tensor) => Tensor): OnnxOp =>
  (inputs, ctx) => [f(ctx.input(inputs, 0), ctx.input(inputs, 1))];

/** Integer division truncates (ONNX's Div on int64); float division is exact. */
function onnxDiv(a: Tensor, b: Tensor): Tensor {
  const q = div(a, b);
  return isInt(a) && isInt(b) ? where(lt(q, 0), ceil(q), floor(q)) : q;
}

/** Variadic Max/Min/Sum. */
const variadic =
  (f: (a: Tensor, b: Tensor) => Tensor): OnnxOp =>
  (inputs, ctx) => {
    let out = ctx.input(inputs, 0);
    for (let i = 1; i < inputs.length; i++) out = f(out, ctx.input(inputs, i));
    return [out];
  };

/** Softmax-like ops: opset < 13 flattens to 2-D at `axis` (default 1); 13+ works along `axis` (default -1). */
const softmaxLike =
  (f: (x: Tensor, dim: number) => Tensor): OnnxOp =>
  (inputs, ctx) => {
    const x = ctx.input(inputs, 0);
    if (ctx.opset >= 13) return [f(x, axis(ctx, ctx.int('axis', -1), x.ndim))];
    const a = axis(ctx, ctx.int('axis', 1), x.ndim);
    const rows = x.shape.slice(0, a).reduce((p, d) => p * d, 1);
    return [reshape(f(reshape(x, [rows, -1]), 1), x.shape)];
  };

function gemm(inputs: readonly (Tensor | undefined)[], ctx: OpContext): Tensor[] {
  let a = ctx.input(inputs, 0);
  let b = ctx.input(inputs, 1);
  if (ctx.int('transA', 0)) a = transpose(a, 0, 1);
  if (ctx.int('transB', 0)) b = transpose(b, 0, 1);
  const alpha = ctx.float('alpha', 1);
  const beta = ctx.float('beta', 1);
  let y = matmul(a, b);
  if (alpha !== 1) y = mul(y, alpha);
  const c = inputs[2];
  if (c) y = add(y, beta === 1 ? c : mul(c, beta));
  return [y];
}

/** Symmetric 2-D pads from ONNX's [top, left, bottom, right]; auto_pad other than NOTSET/VALID is refused. */
function pads2d(ctx: OpContext, spatial: number): [number, number] {
  const autoPad = ctx.string('auto_pad', 'NOTSET');
  if (autoPad !== 'NOTSET' && autoPad !== 'VALID')
    ctx.fail(`auto_pad '${autoPad}' is not supported (use explicit pads)`);
  if (spatial !== 2) ctx.fail(`only 2-D (NCHW) inputs are supported, got ${spatial} spatial dims`);
  const pads = autoPad === 'VALID' ? [0, 0, 0, 0] : (ctx.ints('pads') ?? [0, 0, 0, 0]);
  if (pads[0] !== pads[2] || pads[1] !== pads[3]) ctx.fail(`asymmetric pads [${pads.join(', ')}] are not supported`);
  return [pads[0] ?? 0, pads[1] ?? 0];
}

function pair(ctx: OpContext, name: string, fallback: [number, number]): [number, number] {
  const v = ctx.ints(name);
  return v ? [v[0] ?? fallback[0], v[1] ?? fallback[1]] : fallback;
}

function conv(inputs: readonly (Tensor | undefined)[], ctx: OpContext): Tensor[] {
  const x = ctx.input(inputs, 0);
  const padding = pads2d(ctx, x.ndim - 2);
  const options = { stride: pair(ctx, 'strides', [1, 1]), dilation: pair(ctx, 'dilations', [1, 1]) };
  return [conv2d(x, ctx.input(inputs, 1), inputs[2] ?? null, { ...options, padding, groups: ctx.int('group', 1) })];
}

function maxPool(inputs: readonly (Tensor | undefined)[], ctx: OpContext): Tensor[] {
  const x = ctx.input(inputs, 0);
  if (ctx.node.output.length > 1 && ctx.node.output[1]) ctx.fail('the Indices output is not supported');
  const padding = pads2d(ctx, x.ndim - 2);
  const kernel = pair(ctx, 'kernel_shape', [1, 1]);
  const options = { stride: pair(ctx, 'strides', [1, 1]), dilation: pair(ctx, 'dilations', [1, 1]) };
  return [maxPool2d(x, kernel, { ...options, padding, ceilMode: ctx.int('ceil_mode', 0) === 1 })];
}

function averagePool(inputs: readonly (Tensor | undefined)[], ctx: OpContext): Tensor[] {
  const x = ctx.input(inputs, 0);
  const padding = pads2d(ctx, x.ndim - 2);
  const kernel = pair(ctx, 'kernel_shape', [1, 1]);
  // ONNX's count_include_pad defaults to 0, PyTorch's to true.
  const countIncludePad = ctx.int('count_include_pad', 0) === 1;
  const stride = pair(ctx, 'strides', [1, 1]);
  return [avgPool2d(x, kernel, { stride, padding, ceilMode: ctx.int('ceil_mode', 0) === 1, countIncludePad })];
}

function batchNormalization(inputs: readonly (Tensor | undefined)[], ctx: OpContext): Tensor[] {
  const [x, weight, bias, runningMean, runningVar] = [0, 1, 2, 3, 4].map((i) => ctx.input(inputs, i));
  const training = ctx.int('training_mode', 0) === 1;
  const eps = ctx.float('epsilon', 1e-5);
  // ONNX's momentum weighs the old statistics; PyTorch's (and ng.batchNorm's) the new batch.
  const momentum = 1 - ctx.float('momentum', 0.9);
  return [batchNorm(x, { weight, bias, runningMean, runningVar, training, eps, momentum })];
}

function layerNormalization(inputs: readonly (Tensor | undefined)[], ctx: OpContext): Tensor[] {
  const x = ctx.input(inputs, 0);
  const a = axis(ctx, ctx.int('axis', -1), x.ndim);
  if (ctx.node.output.length > 1 && ctx.node.output.slice(1).some((o) => o)) ctx.fail('only the Y output is supported');
  return [layerNorm(x, x.shape.slice(a), ctx.input(inputs, 1), inputs[2] ?? null, ctx.float('epsilon', 1e-5))];
}

/** ReduceMean/ReduceSum: axes as an attribute before `inputFrom`, as input 1 from it on. */
const reduce =
  (f: (x: Tensor, dims: number[], keepDim: boolean) => Tensor, inputFrom: number): OnnxOp =>
  (inputs, ctx) => {
    const x = ctx.input(inputs, 0);
    const given = ctx.opset >= inputFrom ? (inputs[1] ? numbers(inputs[1]) : undefined) : ctx.ints('axes');
    const keepDim = ctx.int('keepdims', 1) === 1;
    if ((!given || given.length === 0) && ctx.int('noop_with_empty_axes', 0) === 1) return [x];
    const dims = given && given.length > 0 ? given.map((a) => axis(ctx, a, x.ndim)) : x.shape.map((_, i) => i);
    return [f(x, dims, keepDim)];
  };

function dropoutOp(inputs: readonly (Tensor | undefined)[], ctx: OpContext): Tensor[] {
  const x = ctx.input(inputs, 0);
  if (ctx.node.output.length > 1 && ctx.node.output[1]) ctx.fail('the mask output is not supported');
  const ratio = ctx.opset >= 12 ? (inputs[1] ? (numbers(inputs[1])[0] ?? 0.5) : 0.5) : ctx.float('ratio', 0.5);
  const forced = ctx.opset >= 12 && inputs[2] ? numbers(inputs[2])[0] === 1 : false;
  return [dropout(x, ratio, { training: ctx.training || forced })];
}

/** Clip: bounds as attributes before opset 11, as optional inputs from it on. */
function clip(inputs: readonly (Tensor | undefined)[], ctx: OpContext): Tensor[] {
  const x = ctx.input(inputs, 0);
  if (ctx.opset < 11) return [clamp(x, ctx.float('min', -Infinity), ctx.float('max', Infinity))];
  const bound = (t: Tensor | undefined) => (t ? numbers(t)[0] : null);
  return [clamp(x, bound(inputs[1]), bound(inputs[2]))];
}

/** The arithmetic, activation, linear, normalization, reduction and pooling ops. */
export const mathOps: Record<string, OnnxOp> = {
  Add: binary(add),
  Sub: binary(sub),
  Mul: binary(mul),
  Div: binary(onnxDiv),
  Pow: binary((a, b) => pow(a, isInt(b) && !isInt(a) ? to(b, a.dtype) : b)),
  Max: variadic(maximum),
  Min: variadic(minimum),
  Sum: variadic(add),
  Equal: binary(eq),
  Less: binary(lt),
  Greater: binary(gt),
  And: binary(logicalAnd),
  Or: binary(logicalOr),
  Not: unary(logicalNot),
  Neg: unary(neg),
  Abs: unary(abs),
  Sqrt: unary(sqrt),
  Exp: unary(exp),
  Log: unary(log),
  Reciprocal: unary((x) => div(1, x)),
  Floor: unary(floor),
  Ceil: unary(ceil),
  Relu: unary(relu),
  LeakyRelu: (inputs, ctx) => [leakyRelu(ctx.input(inputs, 0), { negativeSlope: ctx.float('alpha', 0.01) })],
  Clip: clip,
  Sigmoid: unary(sigmoid),
  Tanh: unary(tanh),
  Erf: unary(erf),
  Gelu: (inputs, ctx) => [
    gelu(ctx.input(inputs, 0), { approximate: ctx.string('approximate', 'none') === 'tanh' ? 'tanh' : 'none' }),
  ],
  Softmax: softmaxLike(softmax),
  LogSoftmax: softmaxLike(logSoftmax),
  MatMul: binary(matmul),
  Gemm: gemm,
  Conv: conv,
  MaxPool: maxPool,
  AveragePool: averagePool,
  GlobalAveragePool: (inputs, ctx) => {
    const x = ctx.input(inputs, 0);
    return [mean(x, x.shape.map((_, i) => i).slice(2), true)];
  },
  BatchNormalization: batchNormalization,
  LayerNormalization: layerNormalization,
  ReduceMean: reduce(mean, 18),
  ReduceSum: reduce(sum, 13),
  Dropout: dropoutOp,
};
