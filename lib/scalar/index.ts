export { Value, type ValueLike } from './value.js';
export { MLP, Layer, Neuron, type Activation, type MLPOptions } from './mlp.js';
