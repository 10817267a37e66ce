/**
 * Module: the base of every layer and model. Parameters and child modules register by assignment
 * (`this.weight = new Parameter(...)`, `this.conv1 = new Conv2d(...)`): they are found among the
 * module's own properties, in assignment order, so names match PyTorch's (`layer1.0.conv1.weight`).
 * Buffers (BatchNorm's running statistics) register with registerBuffer and join the state dict.
 */
import { noGrad } from '../autograd/grad-mode.js';
import { NodegradError, formatShape } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { writeInPlace } from '../tensor/write.js';
import { Parameter } from './parameter.js';

export type StateDict = Record<string, Tensor>;

export interface LoadStateDictOptions {
  /** Throw when keys are missing or unexpected (default true). Shape mismatches always throw. */
  strict?: boolean;
}

export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

export abstract class Module {
  /** Training mode: Dropout drops, BatchNorm uses batch statistics. */
  training = true;
  private readonly bufferNames = new Set<string>();
  private readonly nonPersistent = new Set<string>();

  abstract forward(...inputs: Tensor[]): Tensor;

  /** The PyTorch class name shown by toString(). */
  get typeName(): string {
    return this.constructor.name;
  }

  /** Registers a tensor (or null) that is state but not a parameter; persistent ones are saved. */
  registerBuffer(name: string, tensor: Tensor | null, persistent = true): void {
    if (name.includes('.') || name === '') {
      throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `registerBuffer: invalid buffer name '${name}'`);
    }
    this.bufferNames.add(name);
    if (!persistent) this.nonPersistent.add(name);
    (this as unknown as Record<string, unknown>)[name] = tensor;
  }

  *namedChildren(): Generator<[string, Module]> {
    for (const [name, value] of Object.entries(this)) {
      if (value instanceof Module) yield [name, value];
    }
  }

  *children(): Generator<Module> {
    for (const [, child] of this.namedChildren()) yield child;
  }

  /** This module and all below it, depth first, with dotted names ('' for this one). */
  *namedModules(prefix = ''): Generator<[string, Module]> {
    yield [prefix, this];
    for (const [name, child] of this.namedChildren()) yield* child.namedModules(prefix ? `${prefix}.${name}` : name);
  }

  *modules(): Generator<Module> {
    for (const [, m] of this.namedModules()) yield m;
  }

  *namedParameters(prefix = ''): Generator<[string, Parameter]> {
    const seen = new Set<Tensor>();
    for (const [path, module] of this.namedModules(prefix)) {
      for (const [name, value] of Object.entries(module)) {
        if (value instanceof Parameter && !seen.has(value)) {
          seen.add(value);
          yield [path ? `${path}.${name}` : name, value];
        }
      }
    }
  }

  parameters(): Parameter[] {
    return [...this.namedParameters()].map(([, p]) => p);
  }

  *namedBuffers(prefix = ''): Generator<[string, Tensor]> {
    for (const [path, module] of this.namedModules(prefix)) {
      for (const name of module.bufferNames) {
        const value = (module as unknown as Record<string, unknown>)[name];
        if (value instanceof Tensor) yield [path ? `${path}.${name}` : name, value];
      }
    }
  }

  buffers(): Tensor[] {
    return [...this.namedBuffers()].map(([, b]) => b);
  }

  /** Sets training mode here and in every submodule. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Drops every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Calls fn on every submodule, then on this one (PyTorch's order), e.g. for custom init. */
  apply(fn: (module: Module) => void): this {
    for (const child of this.children()) child.apply(fn);
    fn(this);
    return this;
  }

  /** Parameters and persistent buffers by dotted name (the tensors themselves, not copies). */
  stateDict(): StateDict {
    const out: StateDict = {};
    for (const [path, module] of this.namedModules()) {
      for (const [name, value] of Object.entries(module)) {
        const key = path ? `${path}.${name}` : name;
        if (value instanceof Parameter) out[key] = value;
        else if (module.bufferNames.has(name) && !module.nonPersistent.has(name) && value instanceof Tensor) out[key] = value;
      }
    }
    return out;
  }

  /**
   * Copies values into this module's parameters and buffers. A shape mismatch always throws, naming
   * every offending key; with strict (the default) missing or unexpected keys throw too.
   */
  loadStateDict(stateDict: StateDict, options: LoadStateDictOptions = {}): LoadStateDictResult {
    const strict = options.strict ?? true;
    const own = this.stateDict();
    const missingKeys = Object.keys(own).filter((k) => !(k in stateDict));
    const unexpectedKeys = Object.keys(stateDict).filter((k) => !(k in own));
    const mismatched = Object.keys(own).filter((k) => k in stateDict &&
      (own[k].ndim !== stateDict[k].ndim || own[k].shape.some((s, i) => s !== stateDict[k].shape[i])))
      .map((k) => `${k}: expected ${formatShape(own[k].shape)}, got ${formatShape(stateDict[k].shape)}`);
    const problems: string[] = [];
    if (mismatched.length) problems.push(`size mismatch for ${mismatched.join('; ')}`);
    if (strict && missingKeys.length) problems.push(`missing keys: ${missingKeys.join(', ')}`);
    if (strict && unexpectedKeys.length) problems.push(`unexpected keys: ${unexpectedKeys.join(', ')}`);
    if (problems.length) {
      throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `loadStateDict (${this.typeName}): ${problems.join('; ')}`);
    }
    noGrad(() => {
      for (const [key, target] of Object.entries(own)) {
        const source = stateDict[key];
        if (!source) continue;
        const values = source.to(target.dtype).data();
        writeInPlace('loadStateDict', target, (into) => into.set(values));
      }
    });
    return { missingKeys, unexpectedKeys };
  }

  /** Constructor arguments shown inside the parentheses of toString(). */
  extraRepr(): string {
    return '';
  }

  /** The module tree, formatted like PyTorch's repr. */
  toString(): string {
    const children = [...this.namedChildren()];
    if (children.length === 0) return `${this.typeName}(${this.extraRepr()})`;
    const lines = children.map(([name, child]) => `  (${name}): ${child.toString().split('\n').join('\n  ')}`);
    const extra = this.extraRepr();
    return `${this.typeName}(${extra ? `\n  ${extra}` : ''}\n${lines.join('\n')}\n)`;
  }
}
