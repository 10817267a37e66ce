/**
 * The exporter's graph builder and its registry of module emitters. An emitter writes the ONNX
 * nodes of one module class's forward: `(ctx, module, inputs) => outputs`, value names in and out.
 * Parameters become initializers named by their state-dict keys; nodes are named after the module
 * path that made them (`/layer1/0/conv1/Conv`), as PyTorch's exporter names them.
 */
import { NodegradError } from '../errors.js';
import type { AnyModule } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import { AttributeType, DataType, type AttributeProto, type NodeProto, type TensorProto } from './schema.js';

/** Writes the nodes of one module's forward; returns the names of its outputs. */
export type Emitter<M = AnyModule> = (ctx: ExportContext, module: M, inputs: string[]) => string[];

/** An attribute value: a number is an INT unless listed in `floats`, arrays are INTS, strings STRING. */
export type AttributeValue = number | number[] | string | { float: number };

// Module class → emitter; looked up along the prototype chain.
const emitters = new Map<object, Emitter>();

/**
 * Registers the emitter of module class `cls` (and of subclasses that keep its forward).
 * @internal
 */
export function registerEmitter<M extends AnyModule>(
  cls: abstract new (...args: never[]) => M,
  emitter: Emitter<M>,
): void {
  emitters.set(cls.prototype as object, emitter as Emitter);
}

function attribute(name: string, value: AttributeValue): AttributeProto {
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: AttributeType.INTS, ints: value };
  if (typeof value === 'object') return { name, type: AttributeType.FLOAT, f: value.float };
  return { name, type: AttributeType.INT, i: value };
}

/** The float32 little-endian bytes of `values`. */
function floatBytes(values: ArrayLike<number>): Uint8Array {
  const f = Float32Array.from(values);
  return new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
}

/** The graph under construction: nodes, initializers, names, and the shapes the sample run saw. */
export class ExportContext {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly names = new Set<string>();
  private readonly paramNames = new Map<Tensor, string>();
  private scope = '';

  /**
   * @param opset - The default-domain opset the graph targets.
   * @param keys - Each parameter and buffer's state-dict key.
   * @param paths - Each module's dotted path in the exported model.
   * @param inputShapes - The shapes of each module's inputs in the sample run (first call).
   */
  constructor(
    readonly opset: number,
    private readonly keys: Map<Tensor, string>,
    private readonly paths: Map<AnyModule, string>,
    private readonly inputShapes: Map<AnyModule, (readonly number[])[]>,
  ) {}

  /** A name not used yet, `base` itself if free. */
  uniqueName(base: string): string {
    let name = base;
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  /** Reserves a name (a graph input). */
  reserve(name: string): void {
    this.names.add(name);
  }

  /** Appends a node; returns its `outputs` output names. */
  nodeN(opType: string, inputs: string[], attributes: Record<string, AttributeValue> = {}, outputs = 1): string[] {
    const name = this.uniqueName(`${this.scope}/${opType}`);
    const out = Array.from({ length: outputs }, (_, i) => this.uniqueName(`${name}_output_${i}`));
    const attribute_ = Object.entries(attributes).map(([k, v]) => attribute(k, v));
    this.nodes.push({ name, opType, domain: '', input: inputs, output: out, attribute: attribute_ });
    return out;
  }

  /** Appends a one-output node; returns its output's name. */
  node(opType: string, inputs: string[], attributes: Record<string, AttributeValue> = {}): string {
    return this.nodeN(opType, inputs, attributes)[0];
  }

  /** The initializer of parameter or buffer `t`, named by its state-dict key (emitted once). */
  param(t: Tensor, what: string): string {
    const known = this.paramNames.get(t);
    if (known !== undefined) return known;
    const key = this.keys.get(t);
    if (key === undefined) this.fail(`${what} is not a parameter or buffer of the exported model`);
    if (t.dtype !== 'float32') this.fail(`${key} is ${t.dtype}; only float32 models are exported`);
    const name = this.uniqueName(key);
    this.initializers.push({ name, dims: [...t.shape], dataType: DataType.FLOAT, rawData: floatBytes(t.data()) });
    this.paramNames.set(t, name);
    return name;
  }

  /** A float32 constant initializer of shape `dims`. */
  floats(values: ArrayLike<number>, dims: number[] = [values.length], hint = 'const'): string {
    const name = this.uniqueName(`onnx::${hint}`);
    this.initializers.push({ name, dims, dataType: DataType.FLOAT, rawData: floatBytes(values) });
    return name;
  }

  /** A float32 scalar constant. */
  scalar(value: number): string {
    return this.floats([value], []);
  }

  /** An int64 1-D constant (shapes, axes, indices). */
  ints(values: number[], hint = 'ints'): string {
    const name = this.uniqueName(`onnx::${hint}`);
    this.initializers.push({ name, dims: [values.length], dataType: DataType.INT64, int64Data: values });
    return name;
  }

  /** An int64 0-d constant. */
  intScalar(value: number): string {
    const name = this.uniqueName('onnx::int');
    this.initializers.push({ name, dims: [], dataType: DataType.INT64, int64Data: [value] });
    return name;
  }

  /** The shapes of `module`'s inputs in the sample run. */
  inputShape(module: AnyModule, index = 0): readonly number[] {
    const shape = this.inputShapes.get(module)?.[index];
    if (!shape) this.fail(`${module.typeName} at '${this.pathOf(module)}' did not run on the sample input`);
    return shape;
  }

  /** The dotted path of `module` in the exported model ('' for the model itself). */
  pathOf(module: AnyModule): string {
    return this.paths.get(module) ?? '?';
  }

  /** Emits `module` on `inputs` through its registered emitter, its nodes named under its path. */
  emit(module: AnyModule, inputs: string[]): string[] {
    const emitter = this.emitterOf(module);
    return this.within(module, () => emitter(this, module, inputs));
  }

  /** Runs `write` with the nodes it appends named under `module`'s path. */
  within<T>(module: AnyModule, write: () => T): T {
    const outer = this.scope;
    const path = this.pathOf(module);
    if (path !== '?') this.scope = path === '' ? '' : `/${path.replaceAll('.', '/')}`;
    try {
      return write();
    } finally {
      this.scope = outer;
    }
  }

  /** `emit` for a one-input, one-output module. */
  emit1(module: AnyModule, input: string): string {
    return this.emit(module, [input])[0];
  }

  /** ReduceMean over `axes`, keeping dims (axes became an input in opset 18). */
  reduceMean(x: string, axes: number[]): string {
    if (this.opset >= 18) return this.node('ReduceMean', [x, this.ints(axes, 'axes')], { keepdims: 1 });
    return this.node('ReduceMean', [x], { axes, keepdims: 1 });
  }

  /** Throws ERR_NODEGRAD_ONNX with `message`. */
  fail(message: string): never {
    throw new NodegradError('ERR_NODEGRAD_ONNX', `onnx.exportModel: ${message}`);
  }

  private emitterOf(module: AnyModule): Emitter {
    const path = this.pathOf(module);
    const where = path === '' ? 'the exported model' : `'${path}'`;
    // An instance forward (a hook, an assigned function) is code the emitters cannot see.
    if (Object.hasOwn(module, 'forward')) this.fail(`${module.typeName} at ${where} has its own forward or hooks`);
    for (
      let proto = Object.getPrototypeOf(module) as object | null;
      proto;
      proto = Object.getPrototypeOf(proto) as object | null
    ) {
      const emitter = emitters.get(proto);
      if (emitter) {
        // A subclass that overrides forward computes something the emitter does not write.
        const forward = (proto as { forward?: unknown }).forward;
        if (forward !== module.forward) break;
        return emitter;
      }
    }
    this.fail(`no ONNX export for module ${module.typeName} at ${where}; supported: ${supportedNames().join(', ')}`);
  }
}

function supportedNames(): string[] {
  return [...emitters.keys()].map((p) => (p as { constructor: { name: string } }).constructor.name).sort();
}
