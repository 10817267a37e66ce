/**
 * ModuleList, ModuleDict, ParameterList, ParameterDict: hold modules or parameters under index or
 * key names, so state-dict keys are PyTorch's (`layers.0.weight`, `blocks.attn.weight`, `params.0`,
 * `pdict.bias`). Items live in the container (not as its properties), listed first by ownEntries.
 * Like PyTorch's, the containers have no forward: iterate them and call the modules.
 */
import { NodegradError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { Module, type AnyModule } from './module.js';
import { Parameter } from './parameter.js';

function checkKey(op: string, key: string): void {
  if (key === '' || key.includes('.')) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `${op}: key must be non-empty and contain no '.', got '${key}'`);
  }
}

/** An index into `length` items, negative counting from the end, as Python's list[i]. */
function absoluteIndex(op: string, i: number, length: number): number {
  const index = i < 0 ? length + i : i;
  if (!Number.isInteger(i) || index < 0 || index >= length) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `${op}: index ${i} is out of range for ${length} items`);
  }
  return index;
}

const asParameter = (t: Tensor) => (t instanceof Parameter ? t : new Parameter(t));

const typeNames: Record<string, string> = { float32: 'FloatTensor', float64: 'DoubleTensor', int32: 'IntTensor' };

/** One line of PyTorch's repr; ParameterDict's names the tensor type (torch.FloatTensor), ParameterList's the dtype. */
function parameterLine(key: string, p: Tensor, style: 'dtype' | 'typename'): string {
  const type = style === 'dtype' ? `torch.${p.dtype}` : `torch.${typeNames[p.dtype]}`;
  return `  (${key}): Parameter containing: [${type} of size ${p.shape.join('x')}]`;
}

abstract class Container extends Module<never, never> {
  /** Throws: a container has no forward (iterate it and call each module's forward). */
  forward(): never {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `${this.typeName}.forward: a container has no forward; iterate it and call each module's forward`,
    );
  }
}

/** Items named '0', '1', ... in order, as a Python list. */
abstract class IndexedContainer<V, In> extends Container implements Iterable<V> {
  /** The items in order; their indices are their names. */
  protected readonly items: V[] = [];

  /** What an input becomes as an item (a tensor is wrapped in a Parameter). */
  protected abstract toItem(value: In): V;

  protected override *ownEntries(): Iterable<[string, unknown]> {
    for (let i = 0; i < this.items.length; i++) yield [String(i), this.items[i]];
    yield* super.ownEntries();
  }

  /** The number of items. */
  get length(): number {
    return this.items.length;
  }

  /** The i-th item (negative counts from the end); out of range throws, as in PyTorch. */
  at(i: number): V {
    return this.items[absoluteIndex(`${this.typeName}.at`, i, this.items.length)];
  }

  /** Replaces the i-th item (negative counts from the end); out of range throws. */
  set(i: number, value: In): this {
    this.items[absoluteIndex(`${this.typeName}.set`, i, this.items.length)] = this.toItem(value);
    return this;
  }

  /** Adds an item at the end, named by its index. */
  append(value: In): this {
    this.items.push(this.toItem(value));
    return this;
  }

  /** Appends each of `values`, in order. */
  extend(values: Iterable<In>): this {
    for (const v of values) this.append(v);
    return this;
  }

  /** The items in order: `for (const layer of list)`. */
  [Symbol.iterator](): Iterator<V> {
    return this.items[Symbol.iterator]();
  }
}

/**
 * A list of modules named '0', '1', ..., as PyTorch's `torch.nn.ModuleList`: their parameters join
 * the owner's (`layers.0.weight`). It has no forward; iterate it.
 *
 * @example
 * ```ts
 * class Mlp extends ng.nn.Module {
 *   layers = new ng.nn.ModuleList([new ng.nn.Linear(4, 8), new ng.nn.Linear(8, 2)]);
 *   forward(x: ng.Tensor): ng.Tensor {
 *     for (const layer of this.layers) x = layer.forward(x);
 *     return x;
 *   }
 * }
 * ```
 */
export class ModuleList<M extends AnyModule = AnyModule> extends IndexedContainer<M, M> {
  /** @param modules - The initial modules, in order (default none). */
  constructor(modules: Iterable<M> = []) {
    super();
    this.extend(modules);
  }

  protected toItem(module: M): M {
    return module;
  }

  /** Inserts before `index` (clamped like Python's list.insert); later modules are renumbered. */
  insert(index: number, module: M): this {
    const n = this.items.length;
    const at = Math.min(Math.max(index < 0 ? n + index : index, 0), n);
    this.items.splice(at, 0, module);
    return this;
  }
}

/** Items by string key in insertion order, iterated as [key, item] entries like a Map. */
abstract class KeyedContainer<V, In> extends Container implements Iterable<[string, V]> {
  /** The items by key, in insertion order. */
  protected readonly items = new Map<string, V>();

  /** What an item is called in errors ('module', 'parameter'). */
  protected abstract readonly itemNoun: string;
  /** What an input becomes as an item (a tensor is wrapped in a Parameter). */
  protected abstract toItem(value: In): V;

  protected override *ownEntries(): Iterable<[string, unknown]> {
    yield* this.items;
    yield* super.ownEntries();
  }

  /** The number of items. */
  get size(): number {
    return this.items.size;
  }

  /** The item under `key`; a missing key throws, as in PyTorch (check with has()). */
  get(key: string): V {
    const item = this.items.get(key);
    if (item === undefined) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `${this.typeName}.get: no ${this.itemNoun} under key '${key}' (keys: ${[...this.items.keys()].join(', ')})`,
      );
    }
    return item;
  }

  /** Adds or replaces the item under `key` (non-empty, without '.'); a new key goes last. */
  set(key: string, value: In): this {
    checkKey(`${this.typeName}.set`, key);
    this.items.set(key, this.toItem(value));
    return this;
  }

  /** Whether an item is under `key`. */
  has(key: string): boolean {
    return this.items.has(key);
  }

  /** Removes the item under `key`; returns whether there was one. */
  delete(key: string): boolean {
    return this.items.delete(key);
  }

  /** The keys in order. */
  keys(): IterableIterator<string> {
    return this.items.keys();
  }

  /** The items in order. */
  values(): IterableIterator<V> {
    return this.items.values();
  }

  /** [key, item] pairs in order. */
  entries(): IterableIterator<[string, V]> {
    return this.items.entries();
  }

  /** [key, item] pairs in order, like a Map: `for (const [name, block] of dict)`. */
  [Symbol.iterator](): Iterator<[string, V]> {
    return this.items.entries();
  }
}

/**
 * Modules by string key, in insertion order, as PyTorch's `torch.nn.ModuleDict` (state-dict keys
 * `blocks.attn.weight`). Iterates [key, module] entries, like a Map.
 */
export class ModuleDict<M extends AnyModule = AnyModule> extends KeyedContainer<M, M> {
  protected readonly itemNoun = 'module';

  /** @param modules - The initial modules: a plain object (its key order) or [key, module] entries (default none). */
  constructor(modules: Record<string, M> | Iterable<[string, M]> = {}) {
    super();
    const entries = Symbol.iterator in modules ? modules : Object.entries(modules);
    for (const [key, m] of entries) this.set(key, m);
  }

  protected toItem(module: M): M {
    return module;
  }
}

/**
 * A list of parameters named '0', '1', ..., as PyTorch's `torch.nn.ParameterList`; a plain tensor
 * is wrapped in a Parameter.
 */
export class ParameterList extends IndexedContainer<Parameter, Tensor> {
  /** @param parameters - The initial parameters or tensors, in order (default none). */
  constructor(parameters: Iterable<Tensor> = []) {
    super();
    this.extend(parameters);
  }

  protected toItem(parameter: Tensor): Parameter {
    return asParameter(parameter);
  }

  override extraRepr(): string {
    return this.items.map((p, i) => parameterLine(String(i), p, 'dtype')).join('\n');
  }
}

/**
 * Parameters by string key, in insertion order, as PyTorch's `torch.nn.ParameterDict`; a plain tensor
 * is wrapped in a Parameter. Built from a plain object, the keys are sorted, as PyTorch sorts a
 * dict's (a Map or entry list keeps its order).
 */
export class ParameterDict extends KeyedContainer<Parameter, Tensor> {
  protected readonly itemNoun = 'parameter';

  /** @param parameters - The initial parameters or tensors: a plain object (sorted by key) or [key, tensor] entries. */
  constructor(parameters: Record<string, Tensor> | Iterable<[string, Tensor]> = {}) {
    super();
    const entries =
      Symbol.iterator in parameters
        ? parameters
        : Object.entries(parameters).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [key, p] of entries) this.set(key, p);
  }

  protected toItem(parameter: Tensor): Parameter {
    return asParameter(parameter);
  }

  override extraRepr(): string {
    return [...this.items].map(([k, p]) => parameterLine(k, p, 'typename')).join('\n');
  }
}
