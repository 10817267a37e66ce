/** nodegrad: `import * as ng from 'nodegrad'`. */
import './ops/methods.js';
import './ops/methods-inplace.js';
import './ops/methods-index.js';

export { Tensor, type NestedArray, type Device } from './tensor/tensor.js';
export { tensor, zeros, ones, full, rand, randn, arange, eye, type TensorOptions } from './tensor/creation.js';
export { zerosLike, onesLike, fullLike, emptyLike, randLike, randnLike } from './tensor/creation.js';
export {
  randint,
  randperm,
  bernoulli,
  multinomial,
  type SampleOptions,
  type MultinomialOptions,
} from './tensor/sampling.js';
export { manualSeed, getRngState, setRngState } from './tensor/random.js';
export { memory, resetPeakMemory, releaseMemory, type MemoryStats, type Storage } from './tensor/storage.js';
export { tidy, tidyAsync, keep } from './tensor/scope.js';
export type { Shape } from './tensor/shape.js';
export type { DType } from './backend/types.js';
export { noGrad, enableGrad, isGradEnabled, inferenceMode, isInferenceMode } from './autograd/grad-mode.js';
export { checkpoint } from './autograd/checkpoint.js';
export { backward, type BackwardOptions } from './autograd/engine.js';
export { gradcheck, gradgradcheck, type GradcheckOptions } from './autograd/gradcheck.js';
export * as autograd from './autograd/index.js';
export * from './ops/index.js';
export { NodegradError, type ErrorCode } from './errors.js';
export * as scalar from './scalar/index.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * as data from './data/index.js';
export * as models from './models/index.js';
export { save, load, readSafetensors, type SafetensorsFile } from './io/index.js';
export { loadModel, registerModel, type ModelFactory, type RegisterModelOptions } from './io/index.js';
export * as backend from './backend/index.js';
export { getNumThreads, setNumThreads } from './backend/index.js';
export * as serve from './serve/index.js';
export * as onnx from './onnx/index.js';
export { runAsync } from './serve/run-async.js';
export * as distributed from './distributed/index.js';
