/** The native CPU backend: the addon's kernels behind the Backend interface. */
import type { NativeAddon } from './loader.js';
import type { Backend, Conv2dParams, Pool2dParams } from './types.js';

/** The flat parameter list native/binding_nn.cc reads for a convolution. */
export function conv2dParamList(p: Conv2dParams): number[] {
  return [p.batch, p.inChannels, p.inH, p.inW, p.outChannels, p.kernelH, p.kernelW, p.strideH, p.strideW,
    p.padH, p.padW, p.dilationH, p.dilationW, p.groups];
}

/** The flat parameter list native/binding_nn.cc reads for a pooling. */
export function pool2dParamList(p: Pool2dParams): number[] {
  return [p.planes, p.inH, p.inW, p.kernelH, p.kernelW, p.strideH, p.strideW, p.padH, p.padW,
    p.dilationH, p.dilationW, p.ceilMode ? 1 : 0, p.countIncludePad ? 1 : 0, p.divisorOverride];
}

export function nativeBackend(addon: NativeAddon): Backend {
  return {
    name: 'native',
    unary: (op, x, out, n, p1, p2) => addon.unary(op, x, out, n, p1, p2),
    binary: (op, shape, a, b, out) =>
      addon.binary(op, shape, a.data, a.offset, a.strides, b.data, b.offset, b.strides, out),
    copyStrided: (shape, src, dst) =>
      addon.copyStrided(shape, src.data, src.offset, src.strides, dst.data, dst.offset, dst.strides),
    reduce: (op, x, outer, n, inner, values, indices) =>
      addon.reduce(op, x, outer, n, inner, values, indices),
    indexSelect: (src, outer, n, inner, index, k, out) =>
      addon.indexSelect(src, outer, n, inner, index, k, out),
    indexAdd: (src, outer, k, inner, index, n, out) =>
      addon.indexAdd(src, outer, k, inner, index, n, out),
    gemm: (p, a, b, c) =>
      addon.gemm(p.transA, p.transB, p.m, p.n, p.k, p.alpha, a, p.aOffset, p.lda, b, p.bOffset, p.ldb,
        p.beta, c, p.cOffset, p.ldc, p.batch, p.strideA, p.strideB, p.strideC),
    conv2dForward: (p, input, weight, bias, out, relu) =>
      addon.conv2dForward(conv2dParamList(p), input, weight, bias, out, relu),
    conv2dBackwardInput: (p, gradOut, weight, gradInput) =>
      addon.conv2dBackwardInput(conv2dParamList(p), gradOut, weight, gradInput),
    conv2dBackwardWeight: (p, input, gradOut, gradWeight, gradBias) =>
      addon.conv2dBackwardWeight(conv2dParamList(p), input, gradOut, gradWeight, gradBias),
    maxPool2dForward: (p, input, out, indices) => addon.maxPool2dForward(pool2dParamList(p), input, out, indices),
    maxPool2dBackward: (p, gradOut, indices, gradInput) =>
      addon.maxPool2dBackward(pool2dParamList(p), gradOut, indices, gradInput),
    avgPool2dForward: (p, input, out) => addon.avgPool2dForward(pool2dParamList(p), input, out),
    avgPool2dBackward: (p, gradOut, gradInput) => addon.avgPool2dBackward(pool2dParamList(p), gradOut, gradInput),
    adaptiveAvgPool2dForward: (planes, inH, inW, outH, outW, input, out) =>
      addon.adaptiveAvgPool2dForward(planes, inH, inW, outH, outW, input, out),
    adaptiveAvgPool2dBackward: (planes, inH, inW, outH, outW, gradOut, gradInput) =>
      addon.adaptiveAvgPool2dBackward(planes, inH, inW, outH, outW, gradOut, gradInput),
    softmax: (x, outer, n, inner, out, log) => addon.softmax(x, outer, n, inner, out, log),
    softmaxBackward: (y, g, outer, n, inner, gx, log) => addon.softmaxBackward(y, g, outer, n, inner, gx, log),
    crossEntropy: (p, logits, target, weight, loss, grad) =>
      addon.crossEntropy(logits, p.n, p.classes, target, weight, p.ignoreIndex, p.labelSmoothing, loss, grad),
    sgdStep: (param, grad, buffer, p, first) =>
      addon.sgdStep(param, grad, buffer, param.length, p.lr, p.momentum, p.dampening, p.weightDecay,
        p.nesterov, p.maximize, first),
    adamStep: (param, grad, m, v, vmax, p, step) =>
      addon.adamStep(param, grad, m, v, vmax, param.length, p.lr, p.beta1, p.beta2, p.eps, p.weightDecay,
        p.decoupled, p.maximize, step),
  };
}
