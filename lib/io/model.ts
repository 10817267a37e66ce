/**
 * Whole-model files: PyTorch users expect `torch.save(model)`; without pickle, nodegrad stores the
 * state dict (PyTorch's keys, so PyTorch's safetensors reads it as any state dict) plus, in the
 * `__metadata__`, the registered factory's name and options, the dtype and the training modes.
 * `loadModel` calls the factory again with those options and loads the weights into what it builds.
 */
import type { DType } from '../backend/types.js';
import { NodegradError } from '../errors.js';
import { Module, type AnyModule } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
// The zoo registers its factories on import; loadModel must find them even when nothing else imported it.
import '../models/index.js';
import { modelSpec, registeredFactory, registeredModels } from './registry.js';
import { readSafetensorsFor, save as saveTensors } from './safetensors.js';

/** The metadata keys a saved model carries; user metadata may not use the `nodegrad.` prefix. */
const KEY = {
  model: 'nodegrad.model',
  options: 'nodegrad.options',
  dtype: 'nodegrad.dtype',
  training: 'nodegrad.training',
  /** Submodules whose training flag differs from the root's (a frozen BatchNorm in a training model). */
  trainingDiffers: 'nodegrad.training_differs',
} as const;

function fail(message: string): never {
  throw new NodegradError('ERR_NODEGRAD_ARGUMENT', message);
}

/** The one floating dtype of a state dict's tensors; refuses a mix, which one `model.to(dtype)` could not rebuild. */
function floatDType(state: Record<string, Tensor>, typeName: string): DType | undefined {
  const first = new Map<DType, string>();
  for (const [key, t] of Object.entries(state)) {
    if (t.dtype !== 'int32' && !first.has(t.dtype)) first.set(t.dtype, key);
  }
  if (first.size > 1) {
    const found = [...first].map(([dtype, key]) => `${key} is ${dtype}`).join(', ');
    fail(`save: ${typeName} mixes floating dtypes (${found}); convert it with model.to(dtype) before saving it whole`);
  }
  return first.keys().next().value;
}

function saveModel(model: AnyModule, path: string, metadata: Record<string, string>): void {
  const spec = modelSpec(model);
  if (!spec) {
    fail(
      `save: ${model.typeName} was not built by a registered factory, so it cannot be rebuilt from a file; build it with ` +
        `a zoo function (ng.models.resnet18(options)) or a factory registered with ng.registerModel(name, factory), ` +
        `or save its weights alone with ng.save(model.stateDict(), path)`,
    );
  }
  if ('problem' in spec) {
    fail(
      `save: ${model.typeName} built by '${spec.name}' cannot be saved whole: its options must be JSON values, but ${spec.problem}`,
    );
  }
  const reserved = Object.keys(metadata).filter((k) => k.startsWith('nodegrad.'));
  if (reserved.length)
    fail(
      `save: metadata keys starting with 'nodegrad.' are reserved for the model's description, got ${reserved.join(', ')}`,
    );
  const state = model.stateDict();
  const dtype = floatDType(state, model.typeName);
  const differs = [...model.namedModules()].filter(([, m]) => m.training !== model.training).map(([name]) => name);
  saveTensors(state, path, {
    ...metadata,
    [KEY.model]: spec.name,
    [KEY.options]: spec.options,
    ...(dtype ? { [KEY.dtype]: dtype } : {}),
    [KEY.training]: String(model.training),
    ...(differs.length ? { [KEY.trainingDiffers]: JSON.stringify(differs) } : {}),
  });
}

/**
 * Writes a model to a safetensors file atomically (PyTorch's `torch.save(model)` without pickle): its
 * state dict under PyTorch's keys, so PyTorch's `safetensors` reads it as any state dict, plus, for a
 * module built by a zoo function or a factory registered with `ng.registerModel`, what
 * `ng.loadModel` needs to rebuild it: the factory's name and options, the dtype and the training
 * mode. Throws for a module that no registered factory built (save its weights with
 * `ng.save(model.stateDict(), path)`) and for one that mixes float32 and float64 tensors.
 * Given tensors by name instead (a state dict such as `model.stateDict()`), writes them and
 * `metadata`, as `safetensors.torch.save_file`.
 *
 * @param value - The module to save, or tensors by name.
 * @param path - The file to write (replaced whole, or left as it was if the write fails).
 * @param metadata - Extra `__metadata__` strings; keys may not start with `nodegrad.`.
 *
 * @example
 * ```ts
 * const model = ng.models.resnet18({ numClasses: 10 });
 * ng.save(model, 'resnet18.safetensors');
 * const again = ng.loadModel('resnet18.safetensors'); // a ResNet with the same weights
 * ```
 */
export function save(
  value: AnyModule | Record<string, Tensor>,
  path: string,
  metadata: Record<string, string> = {},
): void {
  if (value instanceof Module) saveModel(value, path, metadata);
  else saveTensors(value, path, metadata);
}

function parseJson(source: string, key: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    return fail(`loadModel: ${source} has invalid ${key} metadata (${(error as Error).message})`);
  }
}

/** Restores the training flags: the root's for every module, then the recorded exceptions. */
function restoreTraining(model: AnyModule, source: string, metadata: Partial<Record<string, string>>): void {
  const training = metadata[KEY.training];
  if (training === undefined) return;
  if (training !== 'true' && training !== 'false')
    fail(`loadModel: ${source} has ${KEY.training} '${training}'; expected 'true' or 'false'`);
  model.train(training === 'true');
  const differs = parseJson(source, KEY.trainingDiffers, metadata[KEY.trainingDiffers] ?? '[]');
  if (!Array.isArray(differs))
    return fail(`loadModel: ${source} has ${KEY.trainingDiffers} that is not a list of module names`);
  const byName = new Map(model.namedModules());
  for (const name of differs) {
    const module = byName.get(String(name));
    if (module) module.training = !model.training;
  }
}

/**
 * Rebuilds a model saved by `ng.save(model, path)` from its file (a path, or its bytes as a Buffer or
 * Uint8Array): calls the factory registered under the saved name with the saved options, converts
 * it to the saved dtype, loads the weights strictly and restores the training modes. Zoo models
 * need nothing registered; a custom model's factory must be registered (`ng.registerModel`) first.
 * The type parameter (a Tensor → Tensor Module by default) states what the caller expects, as
 * with JSON.parse: `ng.loadModel<Mlp>(path)`.
 *
 * @example
 * ```ts
 * class Mlp extends ng.nn.Module {
 *   net: ng.nn.Sequential;
 *   constructor(hidden: number) {
 *     super();
 *     this.net = new ng.nn.Sequential(new ng.nn.Linear(4, hidden), new ng.nn.ReLU(), new ng.nn.Linear(hidden, 2));
 *   }
 *   forward(x: ng.Tensor): ng.Tensor {
 *     return this.net.forward(x);
 *   }
 * }
 * const mlp = ng.registerModel('mlp', (o: { hidden: number }) => new Mlp(o.hidden));
 * ng.save(mlp({ hidden: 32 }), 'mlp.safetensors');
 * // later, in another process: register the same factory, then
 * const model = ng.loadModel<Mlp>('mlp.safetensors');
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller states the model type, as with JSON.parse
export function loadModel<M extends AnyModule = Module>(input: string | Uint8Array): M {
  const { tensors, metadata: saved } = readSafetensorsFor('loadModel', input);
  const source = typeof input === 'string' ? input : `the given ${input.byteLength}-byte buffer`;
  const metadata: Partial<Record<string, string>> = saved;
  const name = metadata[KEY.model];
  if (name === undefined) {
    return fail(
      `loadModel: ${source} has no '${KEY.model}' metadata: it holds weights alone, not a saved model; ` +
        `build the model and call model.loadStateDict(ng.load(path))`,
    );
  }
  const factory = registeredFactory(name);
  if (!factory) {
    return fail(
      `loadModel: ${source} holds a '${name}' model, but no factory is registered under that name ` +
        `(registered: ${registeredModels().join(', ')}); call ng.registerModel('${name}', factory) before loading it`,
    );
  }
  const options = parseJson(source, KEY.options, metadata[KEY.options] ?? 'null');
  const model = factory(options ?? undefined);
  const dtype = metadata[KEY.dtype];
  if (dtype !== undefined) {
    if (dtype !== 'float32' && dtype !== 'float64')
      fail(`loadModel: ${source} has ${KEY.dtype} '${dtype}'; expected 'float32' or 'float64'`);
    model.to(dtype);
  }
  try {
    model.loadStateDict(tensors);
  } catch (error) {
    if (!(error instanceof NodegradError)) throw error;
    fail(
      `loadModel: the ${model.typeName} that '${name}' builds with options ${String(metadata[KEY.options])} does not match the weights ` +
        `in ${source} (was the model changed after it was built? register a factory that builds the changed model): ${error.message}`,
    );
  }
  restoreTraining(model, source, metadata);
  return model as M;
}
