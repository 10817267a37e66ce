/** Reading and writing safetensors files, whole models and the model registry. */
export { load, readSafetensors, type SafetensorsFile } from './safetensors.js';
export { save, loadModel } from './model.js';
export { registerModel, type ModelFactory, type RegisterModelOptions } from './registry.js';
