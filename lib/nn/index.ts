export { Module, type StateDict, type LoadStateDictOptions, type LoadStateDictResult } from './module.js';
export { Parameter } from './parameter.js';
export * from './layers.js';
export * from './batchnorm.js';
export * from './losses.js';
export * as functional from './functional.js';
export * as init from './init.js';
