/**
 * `ng.nn.functional`: the layers and losses in function form, PyTorch's names in camelCase (as
 * `torch.nn.functional`), and the table-driven unary ops.
 *
 * @module
 */
export {
  linear,
  conv2d,
  maxPool2d,
  avgPool2d,
  adaptiveAvgPool2d,
  relu,
  relu_,
  sign,
  sigmoid,
  tanh,
  softmax,
  logSoftmax,
  dropout,
  batchNorm,
  crossEntropy,
  nllLoss,
  mseLoss,
  bceLoss,
  bceWithLogits,
  l1Loss,
  klDiv,
  frameworkLoss,
  scaledDotProductAttention,
  type ScaledDotProductAttentionOptions,
} from '../ops/index.js';
export * from '../ops/unary.js';
