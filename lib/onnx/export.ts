/** exportModel: a module and a sample input → an ONNX model (bytes, and a file when a path is given). */
import { noGrad } from '../autograd/grad-mode.js';
import { NodegradError } from '../errors.js';
import { writeFileAtomic } from '../io/files.js';
import { GPT } from '../models/gpt.js';
import { TextClassifier } from '../models/text-classifier.js';
import type { AnyModule } from '../nn/module.js';
import type { RemovableHandle } from '../nn/hooks.js';
import { Tensor } from '../tensor/tensor.js';
import { ExportContext } from './export-context.js';
import { DataType, type Dim, encodeModel, type ModelProto, type ValueInfoProto } from './schema.js';
import './export-layers.js';
import './export-models.js';
import './export-attention.js';

/** Options of {@link exportModel}. */
export interface ExportOptions {
  /** The default-domain opset, 13 to 21 (default 17; below 17 LayerNorm is decomposed, from 20 GELU is one Gelu node). */
  opset?: number;
  /**
   * Name dim 0 of every input and output 'batch', so the model runs on any batch size (and the
   * token dim of gpt and textClassifier 'sequence'). Default false: the sample's shapes are fixed.
   */
  dynamicBatch?: boolean;
}

const MIN_OPSET = 13;
const MAX_OPSET = 21;

function fail(message: string): never {
  throw new NodegradError('ERR_NODEGRAD_ONNX', `onnx.exportModel: ${message}`);
}

/** The tensors of a forward's result: a tensor, an array of them (nulls skipped), or a GPT's logits. */
function outputTensors(out: unknown): Tensor[] {
  if (out instanceof Tensor) return [out];
  if (Array.isArray(out)) return out.filter((t): t is Tensor => t instanceof Tensor);
  if (typeof out === 'object' && out !== null && 'logits' in out && out.logits instanceof Tensor) return [out.logits];
  return fail('the model returned no tensor');
}

/** Runs the model once in eval mode without a graph, recording each module's input shapes. */
function sampleRun(model: AnyModule, inputs: Tensor[]): { shapes: Map<AnyModule, number[][]>; outputs: Tensor[] } {
  const shapes = new Map<AnyModule, number[][]>();
  const handles: RemovableHandle[] = [];
  // Each module's own mode comes back, a frozen (eval) submodule of a training model included.
  const modes = [...model.modules()].map((m) => [m, m.training] as const);
  try {
    for (const module of model.modules()) {
      const record = (m: AnyModule, args: unknown[]) => {
        if (!shapes.has(m))
          shapes.set(
            m,
            args.filter((a) => a instanceof Tensor).map((t) => [...t.shape]),
          );
      };
      handles.push(addPreHook(module, record));
    }
    model.eval();
    const callable = model as unknown as { forward: (...args: Tensor[]) => unknown };
    const outputs = noGrad(() => outputTensors(callable.forward(...inputs)));
    return { shapes, outputs };
  } finally {
    for (const h of handles) h.remove();
    for (const [m, training] of modes) m.training = training;
  }
}

function addPreHook(module: AnyModule, hook: (m: AnyModule, args: unknown[]) => void): RemovableHandle {
  const hookable = module as unknown as { registerForwardPreHook: (h: typeof hook) => RemovableHandle };
  return hookable.registerForwardPreHook(hook);
}

function elemType(t: Tensor, what: string): number {
  if (t.dtype === 'float32') return DataType.FLOAT;
  // Indices go in as int64, as PyTorch's exporter writes them.
  if (t.dtype === 'int32') return DataType.INT64;
  return fail(`${what} is ${t.dtype}; expected float32 (values) or int32 (indices)`);
}

/**
 * Exports `model` to ONNX, as PyTorch's `torch.onnx.export(model, args, path)`: runs it once on
 * `sampleInput` in eval mode (restoring its mode after) to fix shapes, then writes one graph whose
 * parameters are initializers named by their state-dict keys (`layer1.0.conv1.weight`). Float32
 * inputs stay float32; int32 token ids become int64 inputs, as PyTorch writes indices. Inputs are
 * named `input` (`input_0`, `input_1`, ... for several), outputs `output` likewise.
 *
 * Supported: Sequential; Linear, Conv1d/Conv2d, ConvTranspose1d/2d, MaxPool2d, AvgPool2d,
 * AdaptiveAvgPool2d, BatchNorm1d/2d (eval), LayerNorm, Embedding, Flatten, Dropout (identity), the
 * activations (ReLU, GELU, SiLU, Sigmoid, Tanh, LeakyReLU, ELU, SELU, Softplus, Mish, Hardtanh,
 * Hardswish, LogSigmoid, Softsign, PReLU, GLU, Softmax, LogSoftmax); MultiheadAttention,
 * TransformerEncoderLayer and TransformerEncoder without masks; and ng.models' lenet5, alexnet,
 * vgg*, resnet*, googlenet, textClassifier and gpt (the last position's logits, as its forward
 * without targets).
 *
 * @param model - The module to export; float32 parameters.
 * @param sampleInput - A tensor, or an array of them for a forward of several inputs.
 * @param path - Where to write the .onnx file (atomically: a complete file or none); omit it (or
 *   pass the options in its place) to only get the bytes.
 * @param options - opset (default 17) and dynamicBatch (default false); see {@link ExportOptions}.
 * @returns The bytes of the .onnx file.
 * @throws NodegradError ERR_NODEGRAD_ONNX naming the module's class and path when a module has no
 *   ONNX export, or an unsupported option or dtype.
 *
 * @example
 * ```ts
 * const model = ng.models.lenet5();
 * const bytes = ng.onnx.exportModel(model, ng.randn([1, 1, 28, 28]), { dynamicBatch: true });
 * // or ng.onnx.exportModel(model, sample, 'lenet5.onnx') to write the file
 * ```
 */
export function exportModel(
  model: AnyModule,
  sampleInput: Tensor | readonly Tensor[],
  path?: string | ExportOptions | null,
  options: ExportOptions = {},
): Uint8Array {
  const file = typeof path === 'string' ? path : null;
  const { opset = 17, dynamicBatch = false } = typeof path === 'object' && path !== null ? path : options;
  if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) {
    fail(`opset must be an integer from ${MIN_OPSET} to ${MAX_OPSET}, got ${opset}`);
  }
  const inputs = sampleInput instanceof Tensor ? [sampleInput] : [...sampleInput];
  if (inputs.length === 0 || !inputs.every((t) => t instanceof Tensor)) fail('sampleInput must be tensors');
  const { shapes, outputs } = sampleRun(model, inputs);

  const keys = new Map<Tensor, string>();
  for (const [key, t] of Object.entries(model.stateDict())) if (!keys.has(t)) keys.set(t, key);
  const paths = new Map<AnyModule, string>();
  for (const [name, m] of model.namedModules()) if (!paths.has(m)) paths.set(m, name);
  const ctx = new ExportContext(opset, keys, paths, shapes);

  const name = (base: string, i: number, n: number) => (n === 1 ? base : `${base}_${i}`);
  const inputNames = inputs.map((_, i) => name('input', i, inputs.length));
  for (const n of inputNames) ctx.reserve(n);
  const produced = ctx.emit(model, inputNames);
  const outputNames = produced.map((_, i) => name('output', i, produced.length));
  produced.forEach((value, i) => {
    ctx.reserve(outputNames[i]);
    ctx.nodes.push({
      name: `/${outputNames[i]}`,
      opType: 'Identity',
      domain: '',
      input: [value],
      output: [outputNames[i]],
      attribute: [],
    });
  });

  // Their graphs take T from the tokens' shape.
  const sequence = dynamicBatch && (model instanceof GPT || model instanceof TextClassifier);
  const dims = (shape: readonly number[], isInput: boolean): Dim[] =>
    shape.map((d, i) => (dynamicBatch && i === 0 ? 'batch' : sequence && isInput && i === 1 ? 'sequence' : d));
  const inputInfo: ValueInfoProto[] = inputs.map((t, i) => ({
    name: inputNames[i],
    elemType: elemType(t, `input ${i}`),
    shape: dims(t.shape, true),
  }));
  const outputInfo: ValueInfoProto[] = outputNames.map((n, i) => {
    const t = outputs[i] as Tensor | undefined;
    return { name: n, elemType: DataType.FLOAT, shape: t ? dims(t.shape, false) : undefined };
  });
  const proto: ModelProto = {
    // IR 8 is the first to know opset 17-18, 9 opset 19-20, 10 opset 21.
    irVersion: opset <= 18 ? 8 : opset <= 20 ? 9 : 10,
    producerName: 'nodegrad',
    producerVersion: '',
    opsetImport: [{ domain: '', version: opset }],
    graph: {
      name: model.typeName,
      node: ctx.nodes,
      initializer: ctx.initializers,
      input: inputInfo,
      output: outputInfo,
      valueInfo: [],
    },
  };
  const bytes = encodeModel(proto);
  if (file !== null) writeFileAtomic(file, bytes);
  return bytes;
}
