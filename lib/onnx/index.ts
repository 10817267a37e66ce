/**
 * `ng.onnx`: ONNX export, as `torch.onnx.export`. {@link exportModel} writes a module as an .onnx
 * file that ONNX Runtime (onnxruntime-node, onnxruntime-web, Python's onnxruntime) and other
 * runtimes load.
 *
 * @module
 */
export { exportModel, type ExportOptions } from './export.js';
