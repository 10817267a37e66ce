/**
 * `ng.nn`: the Module base, layers, activations, losses and containers, as PyTorch's `torch.nn`, with
 * `functional` (the layers and losses as functions), `init` (in-place initializers) and `utils`
 * (gradient clipping, parameter vectors).
 *
 * @module
 */
export {
  Module,
  type AnyModule,
  type Forwarding,
  type StateDict,
  type LoadStateDictOptions,
  type LoadStateDictResult,
  type RegisterBufferOptions,
  type NamedMembersOptions,
} from './module.js';
export { Parameter } from './parameter.js';
export * from './layers.js';
export * from './conv-layers.js';
export * from './upsample.js';
export * from './checkpointing.js';
export * from './activations.js';
export * from './batchnorm.js';
export * from './normalization.js';
export * from './embedding.js';
export * from './dropout.js';
export * from './attention.js';
export {
  TransformerEncoderLayer,
  TransformerDecoderLayer,
  type TransformerLayerOptions,
  type EncoderMasks,
  type DecoderMasks,
} from './transformer.js';
export * from './transformer-model.js';
export * from './losses.js';
export * as functional from './functional.js';
export * as init from './init.js';
export { ModuleList, ModuleDict, ParameterList, ParameterDict } from './containers.js';
export type { ForwardHook, ForwardPreHook, HookOptions, RemovableHandle } from './hooks.js';
export type { ModuleDType, ModuleToOptions } from './convert.js';
export * as utils from './utils.js';
export {
  RNNBase,
  RNN,
  LSTM,
  GRU,
  type RNNBaseOptions,
  type RNNOptions,
  type LSTMOptions,
  type LSTMState,
} from './rnn.js';
export { RNNCellBase, RNNCell, LSTMCell, GRUCell, type RNNCellOptions, type RNNCellLayerOptions } from './rnn-cells.js';
export { SyncBatchNorm } from './parallel/sync-batchnorm.js';
export * as parallel from './parallel/index.js';
