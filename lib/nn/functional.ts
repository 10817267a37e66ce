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
  batchNormRelu,
  addRelu,
  crossEntropy,
  nllLoss,
  mseLoss,
  bceLoss,
  bceWithLogits,
  l1Loss,
  klDiv,
  frameworkLoss,
  smoothL1Loss,
  huberLoss,
  poissonNllLoss,
  gaussianNllLoss,
  cosineEmbeddingLoss,
  marginRankingLoss,
  tripletMarginLoss,
  multilabelSoftMarginLoss,
  ctcLoss,
  scaledDotProductAttention,
  type ScaledDotProductAttentionOptions,
} from '../ops/index.js';
export * from '../ops/unary.js';
export { conv1d } from '../ops/conv.js';
export {
  convTranspose1d,
  convTranspose2d,
  type ConvTranspose1dOptions,
  type ConvTranspose2dOptions,
} from '../ops/conv-transpose.js';
export {
  interpolate,
  pixelShuffle,
  pixelUnshuffle,
  type InterpolateMode,
  type InterpolateOptions,
} from '../ops/upsample.js';
export { layerNorm, rmsNorm, groupNorm, instanceNorm, type InstanceNormOptions } from '../ops/layer-norm.js';
export { embedding, embeddingBag, type EmbeddingOptions, type EmbeddingBagOptions } from '../ops/embedding.js';
export { dropout1d, dropout2d, alphaDropout } from '../ops/dropout.js';
export { prelu } from '../ops/prelu.js';
export { glu } from '../ops/glu.js';
