/**
 * `ng.onnx`: ONNX export and import, as `torch.onnx.export`. {@link exportModel} writes a module as an
 * .onnx file that ONNX Runtime (onnxruntime-node, onnxruntime-web, Python's onnxruntime) and other
 * runtimes load; {@link importModel} builds a trainable module from an ONNX graph.
 *
 * @module
 */
export { exportModel, type ExportOptions } from './export.js';
export { importModel, OnnxModule, type ImportModelOptions } from './import.js';
