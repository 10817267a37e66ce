/**
 * ng.onnx.importModel: an ONNX graph as a trainable Module. The graph's float initializers become
 * Parameters (buffers where no gradient reaches them, such as running statistics), its integer ones
 * constants; forward runs the nodes in topological order with nodegrad's differentiable ops, so the
 * imported model fine-tunes like one written by hand.
 */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { NodegradError } from '../errors.js';
import { Module } from '../nn/module.js';
import { Parameter } from '../nn/parameter.js';
import { to } from '../ops/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { tensorFromProto, type ExternalData } from './import-tensor.js';
import { OpContext, type OnnxOp } from './ops-context.js';
import { mathOps } from './ops-math.js';
import { shapeOps } from './ops-shape.js';
import { DataType, decodeModel, type GraphProto, type ModelProto, type NodeProto } from './schema.js';

/** Options of {@link importModel}. */
export interface ImportModelOptions {
  /** Folder of the external data files (default: the model file's folder; required for bytes with external data). */
  externalDataDir?: string;
}

const OPS: Record<string, OnnxOp> = { ...mathOps, ...shapeOps };

const INTEGER_TYPES: readonly number[] = [DataType.INT64, DataType.INT32, DataType.INT8, DataType.UINT8];

/** Input slots no gradient flows through: BatchNormalization's running statistics, Where's condition. */
const STATE_SLOTS: Record<string, readonly number[]> = { BatchNormalization: [3, 4], Where: [0] };
/** Ops whose outputs carry no gradient to any input (shapes, comparisons, constants). */
const NO_GRADIENT = new Set([
  'Shape',
  'Size',
  'Equal',
  'Less',
  'Greater',
  'And',
  'Or',
  'Not',
  'ConstantOfShape',
  'Range',
]);

/**
 * The values a gradient of the outputs can reach, walking the graph back from them. Float initializers
 * outside it (running statistics, PyTorch's causal-mask buffers) become buffers, not parameters.
 */
function gradientPaths(graph: GraphProto): Set<string> {
  const producer = new Map<string, NodeProto>();
  for (const n of graph.node) for (const o of n.output) producer.set(o, n);
  const reached = new Set<string>();
  const stack = graph.output.map((o) => o.name);
  for (let name = stack.pop(); name !== undefined; name = stack.pop()) {
    if (reached.has(name)) continue;
    reached.add(name);
    const n = producer.get(name);
    if (!n || NO_GRADIENT.has(n.opType)) continue;
    const state = STATE_SLOTS[n.opType] ?? [];
    n.input.forEach((input, slot) => {
      if (input && !state.includes(slot)) stack.push(input);
    });
  }
  return reached;
}

function fail(message: string): never {
  throw new NodegradError('ERR_NODEGRAD_ONNX', `onnx: ${message}`);
}

/** The nodes in an order where each comes after the producers of its inputs (Kahn's algorithm). */
function topologicalOrder(graph: GraphProto, available: Set<string>): NodeProto[] {
  const producer = new Map<string, number>();
  graph.node.forEach((n, i) => {
    for (const o of n.output) if (o) producer.set(o, i);
  });
  const waiting = graph.node.map((n) => new Set(n.input.filter((i) => i && !available.has(i))));
  for (const [i, n] of graph.node.entries())
    for (const name of waiting[i] ?? [])
      if (!producer.has(name))
        fail(`${n.opType} node '${n.name}' reads '${name}', which no node, input or initializer defines`);
  const order: NodeProto[] = [];
  const done = new Set<number>();
  while (order.length < graph.node.length) {
    const before = order.length;
    graph.node.forEach((n, i) => {
      if (done.has(i) || [...(waiting[i] ?? [])].some((name) => !done.has(producer.get(name) ?? -1))) return;
      done.add(i);
      order.push(n);
    });
    if (order.length === before) fail('the graph has a cycle');
  }
  return order;
}

/**
 * A member name from an ONNX name: characters other than letters, digits and _ become _; a name
 * already taken (by another initializer or a Module member such as `train`) gets a suffix _1, _2, ...
 */
function sanitize(name: string, isTaken: (member: string) => boolean): string {
  let base = name.replace(/[^A-Za-z0-9_]/g, '_');
  if (!/^[A-Za-z_]/.test(base)) base = `_${base}`;
  let out = base;
  for (let k = 1; isTaken(out); k++) out = `${base}_${k}`;
  return out;
}

/**
 * A Module that runs an ONNX graph (made by {@link importModel}). Float initializers are registered
 * parameters (buffers where no gradient of the outputs reaches them) named after their ONNX names (characters other than letters, digits and `_` become `_`),
 * so `parameters()`, `stateDict()` and optimizers work as for any module. It starts in eval mode;
 * `train()` makes the graph's Dropout nodes drop.
 */
export class OnnxModule extends Module<Tensor[]> {
  readonly #model: ModelProto;
  readonly #order: NodeProto[];
  readonly #opset: number;
  /** Integer and bool initializers: constants of the graph. */
  readonly #constants = new Map<string, Tensor>();
  /** ONNX initializer name → the member holding it. */
  readonly #members = new Map<string, string>();
  readonly #inputs: { name: string; elemType: number }[];

  /** @internal Use {@link importModel}. */
  constructor(model: ModelProto, external: ExternalData) {
    super();
    // An ONNX graph is exported for inference: Dropout nodes drop only after train().
    this.training = false;
    this.#model = model;
    const graph = model.graph;
    this.#opset = model.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version ?? 0;
    if (this.#opset === 0) fail('the model imports no version of the default (ai.onnx) operator set');
    for (const n of graph.node) {
      if (n.domain !== '' && n.domain !== 'ai.onnx')
        fail(`${n.opType} node '${n.name}' is in unsupported domain '${n.domain}'`);
      if (!(n.opType in OPS)) fail(`operator ${n.opType} (node '${n.name}') is not supported`);
    }
    const trainable = gradientPaths(graph);
    for (const init of graph.initializer) {
      const value = tensorFromProto(init, external);
      if (value.dtype !== 'float32') this.#constants.set(init.name, value);
      else {
        const member = sanitize(init.name, (m) => m in this);
        this.#members.set(init.name, member);
        if (trainable.has(init.name)) this.registerParameter(member, new Parameter(value));
        else this.registerBuffer(member, value);
      }
    }
    const initialized = new Set(graph.initializer.map((t) => t.name));
    this.#inputs = graph.input.filter((i) => !initialized.has(i.name));
    this.#order = topologicalOrder(graph, new Set([...initialized, ...this.#inputs.map((i) => i.name)]));
  }

  /** The graph's input names, in the order forward takes them. */
  get inputNames(): string[] {
    return this.#inputs.map((i) => i.name);
  }

  /** The graph's output names, in the order {@link OnnxModule.forwardAll} returns them. */
  get outputNames(): string[] {
    return this.#model.graph.output.map((o) => o.name);
  }

  /** The default-domain opset the graph was exported with. */
  get opset(): number {
    return this.#opset;
  }

  /** The graph's first output for the given inputs (one per graph input, in graph order). */
  forward(...inputs: Tensor[]): Tensor {
    const outputs = this.forwardAll(...inputs);
    if (outputs.length === 0) fail('the graph has no outputs');
    return outputs[0];
  }

  /** Every graph output, in graph order. Integer outputs come back as int32 tensors. */
  forwardAll(...inputs: Tensor[]): Tensor[] {
    if (inputs.length !== this.#inputs.length)
      fail(`the model takes ${this.#inputs.length} inputs (${this.inputNames.join(', ')}), got ${inputs.length}`);
    const values = new Map<string, Tensor>(this.#constants);
    const members = this as unknown as Record<string, Tensor>;
    for (const [name, member] of this.#members) values.set(name, members[member]);
    this.#inputs.forEach((spec, i) => values.set(spec.name, this.#entry(spec, inputs[i])));
    for (const node of this.#order) {
      const ctx = new OpContext(node, this.#opset, this.training);
      const args = node.input.map((name) => (name ? values.get(name) : undefined));
      const outputs = OPS[node.opType](args, ctx);
      node.output.forEach((name, i) => {
        if (name && i < outputs.length) values.set(name, outputs[i]);
      });
    }
    return this.outputNames.map((name) => {
      const out = values.get(name);
      if (!out) return fail(`output '${name}' was not computed`);
      return out.dtype === 'float64' ? to(out, 'int32') : out;
    });
  }

  /** A user's tensor as the graph's convention holds it: integer inputs as float64, floats as float32. */
  #entry(spec: { name: string; elemType: number }, x: Tensor): Tensor {
    if (INTEGER_TYPES.includes(spec.elemType)) {
      if (x.dtype !== 'int32' && x.dtype !== 'float64')
        fail(`input '${spec.name}' expects integers (int32), got ${x.dtype}`);
      return to(x, 'float64');
    }
    if (spec.elemType === DataType.BOOL) return x;
    return x.dtype === 'float32' ? x : to(x, 'float32');
  }
}

/**
 * Imports an ONNX model (a path to an .onnx file, or its bytes) as a trainable {@link OnnxModule},
 * PyTorch's `onnx2torch.convert` counterpart. Operators: those `torch.onnx.export` emits for CNNs and
 * transformers (opsets 13–17 are tested; older attribute forms are read): Conv, Gemm, MatMul,
 * arithmetic, Relu/Sigmoid/Tanh/Erf/Gelu, Softmax/LogSoftmax, Max/Average/GlobalAveragePool,
 * BatchNormalization, LayerNormalization, ReduceMean/ReduceSum, Dropout and the shape ops (Shape,
 * Gather, Reshape, Slice, Concat, Unsqueeze, ...). Computation is float32; integer tensors (int64 in
 * ONNX) are carried exactly up to 2^53. An unsupported operator throws ERR_NODEGRAD_ONNX at import.
 *
 * @param source - path to the .onnx file, or its bytes.
 * @param options - externalDataDir: where external tensor data lives (default: the file's folder).
 * @example
 * ```ts
 * const model = ng.onnx.importModel('resnet18.onnx');
 * const logits = model.forward(images); // images: [N, 3, H, W] float32
 * ```
 */
export function importModel(source: string | Uint8Array, options: ImportModelOptions = {}): OnnxModule {
  let bytes: Uint8Array;
  if (typeof source === 'string') {
    try {
      bytes = readFileSync(source);
    } catch {
      return fail(`cannot read model file '${source}'`);
    }
  } else bytes = source;
  const dir = options.externalDataDir ?? (typeof source === 'string' ? dirname(source) : undefined);
  return new OnnxModule(decodeModel(bytes), { dir, files: new Map() });
}
