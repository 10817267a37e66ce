/**
 * `ng.optim`: SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, NAdam, RAdam and LBFGS over
 * parameter groups, and the learning-rate schedules in `lrScheduler`, as PyTorch's `torch.optim`.
 *
 * @module
 */
export {
  Optimizer,
  type LrOptions,
  type StateValue,
  type OptimizerStateDict,
  type ParamGroup,
  type ParamGroupInput,
  type ParamState,
} from './optimizer.js';
export { SGD, type SgdOptions } from './sgd.js';
export { Adam, AdamW, type AdamOptions, type AdamInput } from './adam.js';
export { RMSprop, type RMSpropOptions } from './rmsprop.js';
export { Adagrad, type AdagradOptions } from './adagrad.js';
export { Adadelta, type AdadeltaOptions } from './adadelta.js';
export { type BetaOptions } from './betas.js';
export { Adamax, type AdamaxOptions } from './adamax.js';
export { NAdam, type NAdamOptions } from './nadam.js';
export { RAdam, type RAdamOptions } from './radam.js';
export { LBFGS, type LBFGSOptions, type LossClosure } from './lbfgs.js';
export * as lrScheduler from './lr-scheduler.js';
