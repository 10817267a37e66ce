import './methods.js';
import './methods-inplace.js';
import './methods-index.js';
import './methods-autograd.js';
import './methods-compare.js';
import './methods-unary.js';

export * from './elementwise.js';
export * from './unary.js';
export * from './reduce.js';
export * from './matmul.js';
export * from './join.js';
export {
  contiguous,
  clone,
  detach,
  to,
  view,
  reshape,
  flatten,
  transpose,
  permute,
  squeeze,
  unsqueeze,
  expand,
  narrow,
} from './shape.js';
export * from './conv.js';
export * from './pool.js';
export * from './softmax.js';
export * from './cross-entropy.js';
export * from './losses.js';
export * from './regression-losses.js';
export * from './embedding-losses.js';
export * from './ctc.js';
export * from './framework-loss.js';
export * from './dropout.js';
export { scaledDotProductAttention, type ScaledDotProductAttentionOptions } from './attention.js';
export * from './norm.js';
export * from './add-relu.js';
export * from './inplace.js';
export {
  add_,
  sub_,
  mul_,
  div_,
  pow_,
  clamp_,
  exp_,
  log_,
  sqrt_,
  abs_,
  neg_,
  copy_,
  fill_,
  zero_,
  normal_,
  uniform_,
  bernoulli_,
  type AlphaOptions,
} from './inplace-math.js';
export * from './indexing.js';
export * from './methods-structure.js';
export {
  eq,
  ne,
  lt,
  le,
  gt,
  ge,
  equal,
  logicalAnd,
  logicalOr,
  logicalXor,
  logicalNot,
  any,
  all,
  isnan,
  isfinite,
  isinf,
  nonzero,
  maskToIndices,
  promoteTypes,
  type ScalarOrTensor,
} from './compare.js';
export { where, maskedFill, maskedFill_, maskedSelect } from './masks.js';
export * from './methods-math.js';
