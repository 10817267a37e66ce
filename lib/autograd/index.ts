/** ng.autograd: custom Functions, functional gradients, and gradient checks. */
export { Function, FunctionCtx } from './function.js';
export type { FunctionClass, ForwardArgs, ForwardResult, Gradients } from './function.js';
export { grad, type GradOptions } from './grad.js';
export { gradcheck, gradgradcheck, type GradcheckOptions } from './gradcheck.js';
export type { TensorHook, PostAccumulateGradHook, RemovableHandle } from './hooks.js';
export { queueCallback } from './engine.js';
export type { Node, BackwardFn } from './node.js';
