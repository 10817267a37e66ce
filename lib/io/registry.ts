/**
 * Model factories by name, and the (name, options) each module they built came from: what
 * `ng.save(model, path)` writes beside the weights so that `ng.loadModel` can rebuild the model
 * without pickling code. The spec lives in a WeakMap, not on the module, because Module finds its
 * parameters among its own properties.
 */
import { NodegradError } from '../errors.js';
import { Module, type AnyModule } from '../nn/module.js';

/** A function of one options argument (or none) that builds a module. */
export type ModelFactory = (options: never) => AnyModule;

/** Options of registerModel. */
export interface RegisterModelOptions {
  /** Replace a factory already registered under the name (default false: refuse). */
  override?: boolean;
}

/** How a module was built: its factory's name and its options as JSON, or why they are not JSON. */
export type ModelSpec = { name: string; options: string } | { name: string; problem: string };

interface Registration {
  factory: ModelFactory;
  build: ModelFactory;
}

const registrations = new Map<string, Registration>();
const specs = new WeakMap<object, ModelSpec>();

/** Why `value` would not survive JSON.stringify/parse unchanged, or null when it would. */
function jsonProblem(value: unknown, path: string, ancestors: Set<object>): string | null {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return null;
  if (typeof value === 'number') return Number.isFinite(value) ? null : `${path} is ${value}`;
  if (typeof value !== 'object') return `${path} is a ${typeof value}`;
  if (ancestors.has(value)) return `${path} refers back to itself`;
  const proto: unknown = Object.getPrototypeOf(value);
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) {
    return `${path} is a ${(value as { constructor?: { name?: string } }).constructor?.name ?? 'object'}`;
  }
  ancestors.add(value);
  try {
    for (const [key, item] of Object.entries(value)) {
      // JSON drops an undefined property, which an options object reads as absent anyway.
      if (item === undefined && !Array.isArray(value)) continue;
      const problem = jsonProblem(item, Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`, ancestors);
      if (problem) return problem;
    }
  } finally {
    ancestors.delete(value);
  }
  return null;
}

/** Records the options at build time, so that changing the options object later does not change what is saved. */
function specFor(name: string, options: unknown): ModelSpec {
  if (options === undefined) return { name, options: 'null' };
  const problem = jsonProblem(options, 'options', new Set());
  return problem ? { name, problem } : { name, options: JSON.stringify(options) };
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'object')
    return `an instance of ${(value as { constructor?: { name?: string } }).constructor?.name ?? 'Object'}`;
  return `a ${typeof value}`;
}

/**
 * Registers `factory` under `name` and returns it wrapped: every module the wrapper builds remembers
 * the name and the options it was called with, so `ng.save(model, path)` can store them and
 * `ng.loadModel(path)` can rebuild the model. Options must be JSON values (numbers, strings,
 * booleans, null, arrays and plain objects) for the model to be saved. Registering the same factory
 * again returns the same wrapper; another factory under a taken name throws unless `override`.
 *
 * @param name - The name saved with the model and looked up by loadModel.
 * @param factory - Builds the module from one options argument (or none).
 * @param options - override (default false): replace a factory already registered under `name`.
 * @returns The wrapped factory: call it instead of `factory` to build saveable models.
 *
 * @example
 * ```ts
 * const mlp = ng.registerModel('mlp', (o: { hidden: number }) => new Mlp(o.hidden));
 * ng.save(mlp({ hidden: 32 }), 'mlp.safetensors');
 * const again = ng.loadModel<Mlp>('mlp.safetensors'); // calls the factory with { hidden: 32 }
 * ```
 */
export function registerModel<F extends ModelFactory>(name: string, factory: F, options: RegisterModelOptions = {}): F {
  if (typeof name !== 'string' || name === '') {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `registerModel: expected a non-empty name, got ${(JSON.stringify(name) as string | undefined) ?? describe(name)}`,
    );
  }
  if (typeof factory !== 'function') {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `registerModel: factory for '${name}' must be a function, got ${describe(factory)}`,
    );
  }
  const existing = registrations.get(name);
  if (existing?.factory === factory) return existing.build as unknown as F;
  if (existing && !options.override) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `registerModel: '${name}' is already registered to another factory; pass { override: true } to replace it`,
    );
  }
  const build = (modelOptions?: unknown): AnyModule => {
    const module: unknown = factory(modelOptions as never);
    if (!(module instanceof Module)) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `registerModel: factory '${name}' returned ${describe(module)}; expected a Module`,
      );
    }
    // A registered factory that calls another one (a zoo model with a new head) owns the result.
    specs.set(module, specFor(name, modelOptions));
    return module as AnyModule;
  };
  registrations.set(name, { factory, build });
  return build as unknown as F;
}

/** The spec a registered factory recorded for `module`, or undefined when none built it. */
export function modelSpec(module: AnyModule): ModelSpec | undefined {
  return specs.get(module);
}

/** The wrapped factory registered under `name`. */
export function registeredFactory(name: string): ((options?: unknown) => AnyModule) | undefined {
  return registrations.get(name)?.build as ((options?: unknown) => AnyModule) | undefined;
}

/** Every registered name, sorted. */
export function registeredModels(): string[] {
  return [...registrations.keys()].sort();
}
