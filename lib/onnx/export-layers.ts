/** ONNX emitters of nn's layers: each writes the math of the layer's forward in eval mode. */
import type { Tensor } from '../tensor/tensor.js';
import type { Pair } from '../ops/conv.js';
import { UnaryActivation } from '../nn/activations.js';
import { PReLU, GLU } from '../nn/activations.js';
import { BatchNorm1d, BatchNorm2d } from '../nn/batchnorm.js';
import { Conv1d, ConvTranspose1d, ConvTranspose2d } from '../nn/conv-layers.js';
import { AlphaDropout, Dropout1d, Dropout2d } from '../nn/dropout.js';
import { Embedding } from '../nn/embedding.js';
import * as layers from '../nn/layers.js';
import { LayerNorm } from '../nn/normalization.js';
import { type Emitter, type ExportContext, registerEmitter } from './export-context.js';

const pairOf = (v: Pair): number[] => (typeof v === 'number' ? [v, v] : [...v]);

/** x Wᵀ + b: Gemm for a 2-D input, MatMul and Add for any other rank (as PyTorch's exporter writes it). */
export function emitLinear(ctx: ExportContext, x: string, rank: number, w: string, b: string | null): string {
  if (rank === 2) return ctx.node('Gemm', b ? [x, w, b] : [x, w], { transB: 1 });
  const y = ctx.node('MatMul', [x, ctx.node('Transpose', [w], { perm: [1, 0] })]);
  return b ? ctx.node('Add', [y, b]) : y;
}

/** GELU: opset 20's Gelu, else its erf or tanh formula. */
export function emitGelu(ctx: ExportContext, x: string, approximate: 'none' | 'tanh' = 'none'): string {
  if (ctx.opset >= 20) return ctx.node('Gelu', [x], { approximate });
  let inner: string;
  if (approximate === 'tanh') {
    // tanh(√(2/π)·(x + 0.044715·x³))
    const cube = ctx.node('Mul', [x, ctx.node('Mul', [x, x])]);
    const sum = ctx.node('Add', [x, ctx.node('Mul', [cube, ctx.scalar(0.044715)])]);
    inner = ctx.node('Tanh', [ctx.node('Mul', [sum, ctx.scalar(Math.sqrt(2 / Math.PI))])]);
  } else {
    inner = ctx.node('Erf', [ctx.node('Div', [x, ctx.scalar(Math.SQRT2)])]);
  }
  const half = ctx.node('Mul', [ctx.node('Add', [inner, ctx.scalar(1)]), ctx.scalar(0.5)]);
  return ctx.node('Mul', [x, half]);
}

/** LayerNormalization over the last `dims` dims (opset 17), or its decomposition before. */
export function emitLayerNorm(ctx: ExportContext, x: string, norm: LayerNorm): string {
  const dims = norm.normalizedShape.length;
  const size = norm.normalizedShape.reduce((a, b) => a * b, 1);
  const weight = norm.weight ? ctx.param(norm.weight, 'LayerNorm.weight') : null;
  const bias = norm.bias ? ctx.param(norm.bias, 'LayerNorm.bias') : null;
  if (ctx.opset >= 17) {
    const scale = weight ?? ctx.floats(new Float32Array(size).fill(1), [...norm.normalizedShape], 'ones');
    return ctx.node('LayerNormalization', bias ? [x, scale, bias] : [x, scale], {
      axis: -dims,
      epsilon: { float: norm.eps },
    });
  }
  const axes = Array.from({ length: dims }, (_, i) => i - dims);
  const centered = ctx.node('Sub', [x, ctx.reduceMean(x, axes)]);
  const variance = ctx.reduceMean(ctx.node('Mul', [centered, centered]), axes);
  const std = ctx.node('Sqrt', [ctx.node('Add', [variance, ctx.scalar(norm.eps)])]);
  let y = ctx.node('Div', [centered, std]);
  if (weight) y = ctx.node('Mul', [y, weight]);
  return bias ? ctx.node('Add', [y, bias]) : y;
}

registerEmitter(layers.Linear, (ctx, m, [x]) => {
  const rank = ctx.inputShape(m).length;
  return [emitLinear(ctx, x, rank, ctx.param(m.weight, 'weight'), m.bias ? ctx.param(m.bias, 'bias') : null)];
});

/** Conv attributes; `padding: 'same'` pads the odd extra on the end, as PyTorch. */
function convAttributes(kernel: number[], stride: number[], padding: number[] | 'same', dilation: number[]) {
  const pads =
    padding === 'same'
      ? [
          ...kernel.map((k, i) => Math.floor((dilation[i] * (k - 1)) / 2)),
          ...kernel.map((k, i) => Math.ceil((dilation[i] * (k - 1)) / 2)),
        ]
      : [...padding, ...padding];
  return { kernel_shape: kernel, strides: stride, pads, dilations: dilation };
}

function emitConv(ctx: ExportContext, x: string, w: Tensor, b: Tensor | null, attributes: object, group: number) {
  const inputs = [x, ctx.param(w, 'weight')];
  if (b) inputs.push(ctx.param(b, 'bias'));
  return [ctx.node('Conv', inputs, { ...attributes, group })];
}

registerEmitter(layers.Conv2d, (ctx, m, [x]) => {
  const o = m.options;
  const padding = o.padding === 'same' ? 'same' : pairOf(o.padding === 'valid' ? 0 : (o.padding ?? 0));
  const attributes = convAttributes(m.kernelSize, pairOf(o.stride ?? 1), padding, pairOf(o.dilation ?? 1));
  return emitConv(ctx, x, m.weight, m.bias, attributes, o.groups ?? 1);
});

registerEmitter(Conv1d, (ctx, m, [x]) => {
  const o = m.options;
  const padding = o.padding === 'same' ? 'same' : [o.padding === 'valid' ? 0 : (o.padding ?? 0)];
  const attributes = convAttributes([m.kernelSize], [o.stride ?? 1], padding, [o.dilation ?? 1]);
  return emitConv(ctx, x, m.weight, m.bias, attributes, o.groups ?? 1);
});

const convTranspose: Emitter<ConvTranspose1d | ConvTranspose2d> = (ctx, m, [x]) => {
  const inputs = [x, ctx.param(m.weight, 'weight')];
  if (m.bias) inputs.push(ctx.param(m.bias, 'bias'));
  const attributes = convAttributes(m.kernel, m.stride, m.padding, m.dilation);
  return [ctx.node('ConvTranspose', inputs, { ...attributes, output_padding: m.outputPadding, group: m.groups })];
};
registerEmitter(ConvTranspose1d, convTranspose);
registerEmitter(ConvTranspose2d, convTranspose);

registerEmitter(layers.MaxPool2d, (ctx, m, [x]) => {
  const o = m.options;
  const kernel = pairOf(m.kernelSize);
  const padding = pairOf(o.padding ?? 0);
  return [
    ctx.node('MaxPool', [x], {
      kernel_shape: kernel,
      strides: pairOf(o.stride ?? m.kernelSize),
      pads: [...padding, ...padding],
      dilations: pairOf(o.dilation ?? 1),
      ceil_mode: o.ceilMode ? 1 : 0,
    }),
  ];
});

registerEmitter(layers.AvgPool2d, (ctx, m, [x]) => {
  const o = m.options;
  if (o.divisorOverride !== undefined) {
    ctx.fail(`AvgPool2d at '${ctx.pathOf(m)}': divisorOverride has no ONNX equivalent`);
  }
  const padding = pairOf(o.padding ?? 0);
  return [
    ctx.node('AveragePool', [x], {
      kernel_shape: pairOf(m.kernelSize),
      strides: pairOf(o.stride ?? m.kernelSize),
      pads: [...padding, ...padding],
      ceil_mode: o.ceilMode ? 1 : 0,
      count_include_pad: (o.countIncludePad ?? true) ? 1 : 0,
    }),
  ];
});

/** The [out, size] matrix whose row i averages adaptive pooling's window i (⌊i·size/out⌋ to ⌈(i+1)·size/out⌉). */
function adaptiveWindows(size: number, out: number): Float32Array {
  const m = new Float32Array(out * size);
  for (let i = 0; i < out; i++) {
    const start = Math.floor((i * size) / out);
    const end = Math.ceil(((i + 1) * size) / out);
    for (let j = start; j < end; j++) m[i * size + j] = 1 / (end - start);
  }
  return m;
}

registerEmitter(layers.AdaptiveAvgPool2d, (ctx, m, [x]) => {
  const [outH, outW] = pairOf(m.outputSize);
  const shape = ctx.inputShape(m);
  const [H, W] = shape.slice(-2);
  if (outH === 1 && outW === 1) return [ctx.node('GlobalAveragePool', [x])];
  if (H % outH === 0 && W % outW === 0) {
    const kernel = [H / outH, W / outW];
    return [ctx.node('AveragePool', [x], { kernel_shape: kernel, strides: kernel })];
  }
  // Uneven (or overlapping) windows: adaptive pooling is linear and separable, out = A_H · x · A_Wᵀ.
  const rowsT = adaptiveWindows(W, outW);
  const columns = new Float32Array(W * outW);
  for (let i = 0; i < outW; i++) for (let j = 0; j < W; j++) columns[j * outW + i] = rowsT[i * W + j];
  const pooledW = ctx.node('MatMul', [x, ctx.floats(columns, [W, outW], 'adaptive_pool_w')]);
  return [ctx.node('MatMul', [ctx.floats(adaptiveWindows(H, outH), [outH, H], 'adaptive_pool_h'), pooledW])];
});

const batchNorm: Emitter<BatchNorm1d | BatchNorm2d> = (ctx, m, [x]) => {
  if (!m.running_mean || !m.running_var) {
    return ctx.fail(`${m.typeName} at '${ctx.pathOf(m)}' keeps no running statistics (trackRunningStats: false)`);
  }
  const C = m.numFeatures;
  const scale = m.weight ? ctx.param(m.weight, 'weight') : ctx.floats(new Float32Array(C).fill(1), [C], 'ones');
  const bias = m.bias ? ctx.param(m.bias, 'bias') : ctx.floats(new Float32Array(C), [C], 'zeros');
  const mean = ctx.param(m.running_mean, 'running_mean');
  const variance = ctx.param(m.running_var, 'running_var');
  return [ctx.node('BatchNormalization', [x, scale, bias, mean, variance], { epsilon: { float: m.eps } })];
};
registerEmitter(BatchNorm1d, batchNorm);
registerEmitter(BatchNorm2d, batchNorm);

registerEmitter(LayerNorm, (ctx, m, [x]) => [emitLayerNorm(ctx, x, m)]);

registerEmitter(layers.ReLU, (ctx, _m, [x]) => [ctx.node('Relu', [x])]);
registerEmitter(layers.Sigmoid, (ctx, _m, [x]) => [ctx.node('Sigmoid', [x])]);
registerEmitter(layers.Tanh, (ctx, _m, [x]) => [ctx.node('Tanh', [x])]);
registerEmitter(layers.Softmax, (ctx, m, [x]) => [ctx.node('Softmax', [x], { axis: m.dim })]);
registerEmitter(layers.LogSoftmax, (ctx, m, [x]) => [ctx.node('LogSoftmax', [x], { axis: m.dim })]);

// Identity in eval mode, which the exported graph always is.
for (const cls of [layers.Dropout, Dropout1d, Dropout2d, AlphaDropout, layers.Identity]) {
  registerEmitter(cls, (_ctx, _m, inputs) => inputs);
}

registerEmitter(layers.Flatten, (ctx, m, [x]) => {
  const shape = ctx.inputShape(m);
  const rank = shape.length;
  const start = m.startDim < 0 ? m.startDim + rank : m.startDim;
  const end = m.endDim < 0 ? m.endDim + rank : m.endDim;
  if (end === rank - 1 && start === 1) return [ctx.node('Flatten', [x], { axis: 1 })];
  // Reshape's 0 copies a dim, so a dynamic batch before startDim stays dynamic.
  const target = [...Array<number>(start).fill(0), -1, ...shape.slice(end + 1)];
  return [ctx.node('Reshape', [x, ctx.ints(target, 'shape')])];
});

registerEmitter(Embedding, (ctx, m, [indices]) => {
  if (m.options.maxNorm !== undefined && m.options.maxNorm !== null) {
    ctx.fail(`Embedding at '${ctx.pathOf(m)}': maxNorm renormalizes the weight in forward, which ONNX cannot`);
  }
  return [ctx.node('Gather', [ctx.param(m.weight, 'weight'), indices], { axis: 0 })];
});

registerEmitter(PReLU, (ctx, m, [x]) => {
  const rank = ctx.inputShape(m).length;
  let slope = ctx.param(m.weight, 'weight');
  // One slope per channel (dim 1) broadcasts against [N, C, ...] as [C, 1, ...].
  if (m.numParameters > 1 && rank > 2) {
    slope = ctx.node('Reshape', [slope, ctx.ints([m.numParameters, ...Array<number>(rank - 2).fill(1)], 'shape')]);
  }
  return [ctx.node('PRelu', [x, slope])];
});

registerEmitter(GLU, (ctx, m, [x]) => {
  const shape = ctx.inputShape(m);
  const dim = m.dim < 0 ? m.dim + shape.length : m.dim;
  const half = shape[dim] / 2;
  const [a, b] = ctx.nodeN('Split', [x, ctx.ints([half, half], 'split')], { axis: dim }, 2);
  return [ctx.node('Mul', [a, ctx.node('Sigmoid', [b])])];
});

/** softplus(x) = log(1 + e^x), with PyTorch's beta (scale) when not 1. */
function softplus(ctx: ExportContext, x: string, beta = 1): string {
  if (beta === 1) return ctx.node('Softplus', [x]);
  return ctx.node('Div', [ctx.node('Softplus', [ctx.node('Mul', [x, ctx.scalar(beta)])]), ctx.scalar(beta)]);
}

registerEmitter(UnaryActivation, (ctx, m, [x]) => {
  const o = m.options as Record<string, number | string | undefined>;
  const num = (key: string, fallback: number) => (typeof o[key] === 'number' ? o[key] : fallback);
  const op: string = m.op;
  switch (op) {
    case 'gelu':
      return [emitGelu(ctx, x, o.approximate === 'tanh' ? 'tanh' : 'none')];
    case 'silu':
      return [ctx.node('Mul', [x, ctx.node('Sigmoid', [x])])];
    case 'leakyRelu':
      return [ctx.node('LeakyRelu', [x], { alpha: { float: num('negativeSlope', 0.01) } })];
    case 'elu':
      return [ctx.node('Elu', [x], { alpha: { float: num('alpha', 1) } })];
    case 'selu':
      return [ctx.node('Selu', [x])];
    case 'softplus':
      return [softplus(ctx, x, num('beta', 1))];
    case 'mish':
      return [ctx.node('Mul', [x, ctx.node('Tanh', [softplus(ctx, x)])])];
    case 'hardtanh':
      return [ctx.node('Clip', [x, ctx.scalar(num('minVal', -1)), ctx.scalar(num('maxVal', 1))])];
    case 'hardswish':
      if (ctx.opset >= 14) return [ctx.node('HardSwish', [x])];
      return [ctx.node('Mul', [x, ctx.node('HardSigmoid', [x], { alpha: { float: 1 / 6 }, beta: { float: 0.5 } })])];
    case 'logSigmoid':
      // −softplus(−x): no log of an underflowed sigmoid for large negative x.
      return [ctx.node('Neg', [softplus(ctx, ctx.node('Neg', [x]))])];
    case 'softsign':
      return [ctx.node('Softsign', [x])];
    default:
      return ctx.fail(`no ONNX export for activation '${op}' (${m.typeName}) at '${ctx.pathOf(m)}'`);
  }
});

registerEmitter(layers.Sequential, (ctx, m, [x]) => {
  let h = x;
  for (const layer of m.layers()) h = ctx.emit1(layer, h);
  return [h];
});
