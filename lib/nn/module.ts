import { noGrad } from '../autograd/grad-mode.js';
import { NodegradError, formatShape } from '../errors.js';
import { Tensor, type Device } from '../tensor/tensor.js';
import { writeInPlace } from '../tensor/write.js';
import { checkModuleDType, parseToTarget, setData, type ModuleDType, type ModuleToOptions } from './convert.js';
import { addHook, type ForwardHook, type ForwardPreHook, type HookOptions, type RemovableHandle } from './hooks.js';
import { Parameter } from './parameter.js';
import { runAsync } from '../serve/run-async.js';

/** Tensors by dotted name (`layer1.0.conv1.weight`), as Module.stateDict returns and loadStateDict takes. */
export type StateDict = Record<string, Tensor>;

/** Options of Module.loadStateDict. */
export interface LoadStateDictOptions {
  /** Throw when keys are missing or unexpected (default true). Shape mismatches always throw. */
  strict?: boolean;
}

/** What Module.loadStateDict returns (as PyTorch's `_IncompatibleKeys`); both lists are empty after a strict load. */
export interface LoadStateDictResult {
  /** The module's keys the state dict did not have (left unchanged). */
  missingKeys: string[];
  /** The state dict's keys the module does not have (ignored). */
  unexpectedKeys: string[];
}

/** Options of Module.registerBuffer. */
export interface RegisterBufferOptions {
  /** Saved in the state dict (default true); a non-persistent buffer still moves with .to(). */
  persistent?: boolean;
}

/** Options of Module.namedParameters and namedBuffers. */
export interface NamedMembersOptions {
  /** Prepended to every name, with a dot. */
  prefix?: string;
  /** Include submodules' members (default true); false: this module's own only. */
  recurse?: boolean;
}

/** A module of any forward signature (what containers hold and module-tree walks yield). */
export type AnyModule = Module<never, unknown>;

/** Anything with a forward method; hooks take the argument and return types of the module's own forward. */
export type Forwarding = {
  /** The module's computation. */
  forward(...args: never[]): unknown;
};

const join = (prefix: string, name: string) => (prefix ? `${prefix}.${name}` : name);
const isFloat = (t: Tensor) => t.dtype === 'float32' || t.dtype === 'float64';
const isModule = (value: unknown): value is AnyModule => value instanceof Module;

function checkMemberName(op: string, kind: string, name: string): void {
  if (name === '' || name.includes('.')) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `${op}: ${kind} name must be non-empty and contain no '.', got '${name}'`,
    );
  }
}

/**
 * The base of every layer and model, as PyTorch's `torch.nn.Module`, typed by its forward:
 * `Module<[Tensor, number?], [Tensor, Tensor]>` takes a tensor and an optional number and returns a
 * pair (the default is Tensor → Tensor). A module is called as `module.forward(x)`.
 *
 * Parameters and child modules register by assignment (`this.weight = new Parameter(...)`,
 * `this.conv1 = new Conv2d(...)`): they are found among the module's own properties, in assignment
 * order, so names match PyTorch's (`layer1.0.conv1.weight`). Buffers (BatchNorm's running statistics)
 * register with registerBuffer; persistent ones join the state dict.
 *
 * @typeParam Args - The argument types of forward.
 * @typeParam Out - The return type of forward.
 *
 * @example
 * ```ts
 * import * as ng from 'nodegrad';
 * const { nn } = ng;
 *
 * class Net extends nn.Module {
 *   fc1 = new nn.Linear(784, 128);
 *   fc2 = new nn.Linear(128, 10);
 *
 *   forward(x: ng.Tensor): ng.Tensor {
 *     return this.fc2.forward(nn.functional.relu(this.fc1.forward(x)));
 *   }
 * }
 *
 * const net = new Net();
 * Object.keys(net.stateDict()); // ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']
 * const logits = net.forward(ng.randn([32, 784])); // [32, 10]
 * ```
 */
export abstract class Module<Args extends unknown[] = [Tensor], Out = Tensor> {
  /** Training mode: Dropout drops, BatchNorm uses batch statistics. */
  training = true;
  private readonly bufferNames = new Set<string>();
  private readonly nonPersistent = new Set<string>();

  /**
   * The computation of this module, called directly as `module.forward(x)` (PyTorch's `module(x)`);
   * forward hooks, when registered, run around it.
   */
  abstract forward(...args: Args): Out;

  /**
   * forward with its native kernels run off the JS thread: `ng.runAsync(() => this.forward(...args))`
   * (an inference, under inferenceMode). Resolves with forward's result once its kernels have run.
   */
  forwardAsync(...args: Args): Promise<Out> {
    return runAsync(() => this.forward(...args));
  }

  /** The PyTorch class name shown by toString(). */
  get typeName(): string {
    return this.constructor.name;
  }

  /**
   * The named values where parameters and children are looked for: the own properties, in
   * assignment order. Containers yield their items first.
   */
  protected *ownEntries(): Iterable<[string, unknown]> {
    yield* Object.entries(this);
  }

  /** Registers a tensor (or null) that is state but not a parameter; persistent ones are saved. */
  registerBuffer(name: string, tensor: Tensor | null, options: RegisterBufferOptions = {}): void {
    checkMemberName('registerBuffer', 'buffer', name);
    if (name in this && !this.bufferNames.has(name)) {
      throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `registerBuffer: attribute '${name}' already exists`);
    }
    if (tensor !== null && !(tensor instanceof Tensor)) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `registerBuffer: buffer '${name}' must be a Tensor or null, got ${typeof tensor}`,
      );
    }
    if (tensor) tensor.storage.kept = true;
    this.bufferNames.add(name);
    if (options.persistent ?? true) this.nonPersistent.delete(name);
    else this.nonPersistent.add(name);
    (this as Record<string, unknown>)[name] = tensor;
  }

  /** Refuses `name` when it already holds something other than a `kind` (or null). */
  private checkFreeAttribute(op: string, name: string, kind: abstract new (...args: never[]) => unknown): void {
    const existing = (this as Record<string, unknown>)[name];
    if (name in this && !(existing instanceof kind) && existing != null) {
      throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `${op}: attribute '${name}' already exists`);
    }
  }

  /** Registers a parameter (or null) under a computed name; the same as assigning it. */
  registerParameter(name: string, parameter: Parameter | null): void {
    checkMemberName('registerParameter', 'parameter', name);
    this.checkFreeAttribute('registerParameter', name, Parameter);
    if (parameter !== null && !(parameter instanceof Parameter)) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `registerParameter: '${name}' must be a Parameter or null (wrap a tensor with new Parameter(t))`,
      );
    }
    (this as Record<string, unknown>)[name] = parameter;
  }

  /** Registers a child module (or null) under a computed name; the same as assigning it. */
  registerModule(name: string, module: AnyModule | null): void {
    checkMemberName('registerModule', 'module', name);
    this.checkFreeAttribute('registerModule', name, Module);
    (this as Record<string, unknown>)[name] = module;
  }

  /** PyTorch's older name for registerModule. */
  addModule(name: string, module: AnyModule | null): void {
    this.registerModule(name, module);
  }

  /** The direct child modules with their names, each once, in assignment order (PyTorch's named_children()). */
  *namedChildren(): Generator<[string, AnyModule]> {
    const seen = new Set<AnyModule>();
    for (const [name, value] of this.ownEntries()) {
      if (isModule(value) && !seen.has(value)) {
        seen.add(value);
        yield [name, value];
      }
    }
  }

  /** The direct child modules, each once, in assignment order. */
  *children(): Generator<AnyModule> {
    for (const [, child] of this.namedChildren()) yield child;
  }

  /** This module and all below it, depth first, each once, with dotted names ('' for this one). */
  *namedModules(options: { prefix?: string } = {}): Generator<[string, AnyModule]> {
    const seen = new Set<AnyModule>();
    for (const entry of this.walk(options.prefix ?? '')) {
      if (seen.has(entry[1])) continue;
      seen.add(entry[1]);
      yield entry;
    }
  }

  /** This module and all below it, depth first, each once (PyTorch's modules()). */
  *modules(): Generator<AnyModule> {
    for (const [, m] of this.namedModules()) yield m;
  }

  /** Every module of the tree by path, a shared one under each of its names (the state dict's walk). */
  private *walk(prefix: string): Generator<[string, AnyModule]> {
    yield [prefix, this];
    for (const [name, value] of this.ownEntries()) {
      if (isModule(value)) yield* value.walk(join(prefix, name));
    }
  }

  private *scopes(options: NamedMembersOptions): Generator<[string, AnyModule]> {
    const prefix = options.prefix ?? '';
    if (options.recurse ?? true) yield* this.namedModules({ prefix });
    else yield [prefix, this];
  }

  /** Parameters by dotted name, each once (a shared one under its first name). */
  *namedParameters(options: NamedMembersOptions = {}): Generator<[string, Parameter]> {
    const seen = new Set<Tensor>();
    for (const [path, module] of this.scopes(options)) {
      for (const [name, value] of module.ownEntries()) {
        if (value instanceof Parameter && !seen.has(value)) {
          seen.add(value);
          yield [join(path, name), value];
        }
      }
    }
  }

  /**
   * Parameters of this module and its children, depth-first, each once, as PyTorch's parameters():
   * what an optimizer takes.
   *
   * @param options - `recurse: false` lists this module's own parameters only (default true).
   */
  parameters(options: { recurse?: boolean } = {}): Parameter[] {
    return [...this.namedParameters(options)].map(([, p]) => p);
  }

  /** Buffers by dotted name, persistent or not, each once. */
  *namedBuffers(options: NamedMembersOptions = {}): Generator<[string, Tensor]> {
    const seen = new Set<Tensor>();
    for (const [path, module] of this.scopes(options)) {
      for (const name of module.bufferNames) {
        const value = (module as unknown as Record<string, unknown>)[name];
        if (value instanceof Tensor && !seen.has(value)) {
          seen.add(value);
          yield [join(path, name), value];
        }
      }
    }
  }

  /**
   * Buffers of this module and its children, persistent or not, each once.
   *
   * @param options - `recurse: false` lists this module's own buffers only (default true).
   */
  buffers(options: { recurse?: boolean } = {}): Tensor[] {
    return [...this.namedBuffers(options)].map(([, b]) => b);
  }

  /**
   * Sets training mode here and in every submodule; returns this module.
   *
   * @param mode - true (the default) for training, false for evaluation.
   */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** Sets evaluation mode (Dropout off, BatchNorm on running statistics) here and below: `train(false)`. */
  eval(): this {
    return this.train(false);
  }

  /** Drops every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Calls fn on every submodule, then on this one (PyTorch's order), e.g. for custom init. */
  apply(fn: (module: AnyModule) => void): this {
    for (const child of this.children()) child.apply(fn);
    fn(this);
    return this;
  }

  /**
   * Converts floating-point parameters (and their gradients) and buffers to `dtype`, in place as
   * PyTorch does: a parameter stays the same object with new data, so an optimizer built before still
   * holds it; a buffer is replaced by its converted copy; int32 tensors stay as they are. Only the CPU
   * device exists: `.to('cpu')` does nothing, any other device throws.
   */
  to(target: ModuleDType | Device | ModuleToOptions): this {
    const dtype = parseToTarget(target);
    if (dtype) this.convert(dtype);
    return this;
  }

  /** Converts floating-point parameters and buffers to float64 in place: `to('float64')`. */
  double(): this {
    return this.to('float64');
  }

  /** Converts floating-point parameters and buffers to float32 in place: `to('float32')`. */
  float(): this {
    return this.to('float32');
  }

  /** Refused: there is no float16 tensor type. */
  half(): this {
    checkModuleDType('Module.half', 'float16');
    return this;
  }

  private convert(dtype: ModuleDType): void {
    const done = new Set<Tensor>();
    const swap = (t: Tensor) => {
      if (done.has(t) || !isFloat(t) || t.dtype === dtype) return;
      done.add(t);
      setData(t, t.to(dtype).contiguous());
    };
    noGrad(() => {
      for (const module of this.modules()) {
        for (const [, value] of module.ownEntries()) {
          if (!(value instanceof Parameter)) continue;
          swap(value);
          if (value.grad) swap(value.grad);
        }
        const slots = module as unknown as Record<string, unknown>;
        for (const name of module.bufferNames) {
          const buffer = slots[name];
          if (buffer instanceof Tensor && isFloat(buffer) && buffer.dtype !== dtype)
            slots[name] = buffer.to(dtype).contiguous();
        }
      }
    });
  }

  /**
   * Runs `hook(module, args)` before every forward call; returning an argument array replaces the
   * arguments. Costs nothing while a module has no hooks.
   */
  registerForwardPreHook<M extends Forwarding>(
    this: M,
    hook: NoInfer<ForwardPreHook<M, Parameters<M['forward']>>>,
    options: HookOptions = {},
  ): RemovableHandle {
    return addHook(this, 'pre', hook as (module: object, args: unknown[]) => unknown, options);
  }

  /** Runs `hook(module, args, output)` after every forward call; returning a value replaces the output. */
  registerForwardHook<M extends Forwarding>(
    this: M,
    hook: NoInfer<ForwardHook<M, Parameters<M['forward']>, ReturnType<M['forward']>>>,
    options: HookOptions = {},
  ): RemovableHandle {
    return addHook(this, 'post', hook as (module: object, args: unknown[], output: unknown) => unknown, options);
  }

  /**
   * Parameters and persistent buffers by dotted name (the tensors themselves, not copies), in
   * PyTorch's order: each module's parameters, then its buffers, then its children's.
   */
  stateDict(): StateDict {
    const out: StateDict = {};
    for (const [path, module] of this.walk('')) {
      for (const [name, value] of module.ownEntries()) {
        if (value instanceof Parameter) out[join(path, name)] = value;
      }
      const slots = module as unknown as Record<string, unknown>;
      for (const name of module.bufferNames) {
        const value = slots[name];
        if (!module.nonPersistent.has(name) && value instanceof Tensor) out[join(path, name)] = value;
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
    const mismatched = Object.keys(own)
      .filter(
        (k) =>
          k in stateDict &&
          (own[k].ndim !== stateDict[k].ndim || own[k].shape.some((s, i) => s !== stateDict[k].shape[i])),
      )
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
        if (!(key in stateDict)) continue;
        const source = stateDict[key];
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
    const extra = this.extraRepr();
    const lines = extra ? extra.split('\n') : [];
    const children = [...this.ownEntries()].filter((e): e is [string, AnyModule] => e[1] instanceof Module);
    if (children.length === 0 && lines.length <= 1) return `${this.typeName}(${extra})`;
    for (const [name, child] of children) lines.push(`(${name}): ${child.toString().split('\n').join('\n  ')}`);
    return `${this.typeName}(\n${lines.map((l) => `  ${l}`).join('\n')}\n)`;
  }
}
