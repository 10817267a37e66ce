/**
 * `ng.scalar`: the scalar autograd engine (micrograd in TypeScript) and a multi-layer perceptron
 * built from it: backpropagation on one screen, before tensors.
 *
 * @module
 */
export { Value, type ValueLike } from './value.js';
export { MLP, Layer, Neuron, type Activation, type MLPOptions } from './mlp.js';
