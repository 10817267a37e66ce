/**
 * `ng.optim`: SGD, Adam and AdamW over parameter groups, and the learning-rate schedules in
 * `lrScheduler`, as PyTorch's `torch.optim`.
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
export * as lrScheduler from './lr-scheduler.js';
