/** ng.onnx: ONNX model import. */
export { importModel, OnnxModule, type ImportModelOptions } from './import.js';
