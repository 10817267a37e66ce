import './methods.js';
import './methods-unary.js';

export * from './elementwise.js';
export * from './unary.js';
export * from './reduce.js';
export * from './matmul.js';
export * from './join.js';
export {
  contiguous, clone, detach, to, view, reshape, flatten, transpose, permute, squeeze, unsqueeze,
  expand, narrow,
} from './shape.js';
export * from './conv.js';
export * from './pool.js';
export * from './softmax.js';
export * from './cross-entropy.js';
export * from './losses.js';
export * from './framework-loss.js';
export * from './dropout.js';
export * from './norm.js';
export * from './inplace.js';
