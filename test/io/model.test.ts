// Whole-model files: ng.save(model, path) stores weights plus the registered factory's name and
// options; ng.loadModel rebuilds the model from them.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assert, describe, expect, it, vi } from 'vitest';
import * as ng from '../../lib/index.js';
import { fixturesDir } from '../fixtures.js';
import { expectNodegradError, flat, randomTensor } from '../helpers.js';

/** Lets a test make writeSync fail after some bytes, as a full disk would mid-way through a file. */
const disk = vi.hoisted(() => ({ bytesUntilFull: Infinity }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const writeSync = ((fd: number, buffer: Uint8Array, offset?: number, length?: number, position?: number) => {
    const n = Math.min(length ?? buffer.byteLength - (offset ?? 0), disk.bytesUntilFull);
    if (n <= 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    disk.bytesUntilFull -= n;
    return fs.writeSync(fd, buffer, offset, n, position);
  }) as typeof fs.writeSync;
  return { ...fs, default: { ...fs, writeSync }, writeSync };
});

const dir = mkdtempSync(join(tmpdir(), 'nodegrad-model-'));

class Mlp extends ng.nn.Module {
  layers: ng.nn.Sequential;

  constructor(readonly options: { sizes: number[]; activation: 'relu' | 'tanh' }) {
    super();
    const items: ng.nn.Module[] = [];
    for (let i = 1; i < options.sizes.length; i++) {
      if (i > 1) items.push(options.activation === 'tanh' ? new ng.nn.Tanh() : new ng.nn.ReLU());
      items.push(new ng.nn.Linear(options.sizes[i - 1], options.sizes[i]));
    }
    this.layers = new ng.nn.Sequential(...items);
  }

  forward(x: ng.Tensor): ng.Tensor {
    return this.layers.forward(x);
  }
}

const mlp = ng.registerModel(
  'test-mlp',
  (options: { sizes: number[]; activation: 'relu' | 'tanh' }) => new Mlp(options),
);

function expectError(fn: () => unknown, ...fragments: string[]): void {
  expect(fn).toThrow(ng.NodegradError);
  expectNodegradError(fn, 'ERR_NODEGRAD_ARGUMENT', ...fragments);
}

const eval0 = (model: ng.nn.Module, x: ng.Tensor) => flat(ng.noGrad(() => model.forward(x)));
const temps = () => readdirSync(dir).filter((f) => f.endsWith('.tmp'));

describe('ng.save(model) / ng.loadModel', () => {
  it('round-trips lenet5 with its options: same class, same outputs', () => {
    const model = ng.models.lenet5({ numClasses: 7, activation: 'tanh' });
    const path = join(dir, 'lenet.safetensors');
    ng.save(model, path);
    const { metadata } = ng.readSafetensors(path);
    expect(metadata['nodegrad.model']).toBe('lenet5');
    expect(JSON.parse(metadata['nodegrad.options'])).toEqual({ numClasses: 7, activation: 'tanh' });
    const loaded = ng.loadModel(path);
    expect(loaded).toBeInstanceOf(ng.models.LeNet5);
    const x = randomTensor([2, 1, 28, 28], 1, 'float32');
    const out = eval0(loaded, x);
    expect(out.length).toBe(14);
    expect(out).toEqual(eval0(model, x));
  });

  it("round-trips resnet18 with trained BatchNorm statistics, in eval mode, with torchvision's keys", () => {
    const model = ng.models.resnet18({ numClasses: 5 });
    model.forward(randomTensor([2, 3, 32, 32], 2, 'float32')); // moves the running statistics off 0 and 1
    model.eval();
    const path = join(dir, 'resnet18.safetensors');
    ng.save(model, path);
    const loaded = ng.loadModel(path);
    expect(loaded.training).toBe(false);
    expect([...loaded.modules()].every((m) => !m.training)).toBe(true);
    const x = randomTensor([1, 3, 32, 32], 3, 'float32');
    expect(eval0(loaded, x)).toEqual(eval0(model, x));
    // PyTorch reads the same file as a plain state dict: torchvision's resnet18 keys, buffers included.
    const { metadata } = ng.readSafetensors(join(fixturesDir, 'zoo.safetensors'));
    const torchvision = (JSON.parse(metadata.cases) as { name: string; keys: string[] }[]).find(
      (c) => c.name === 'resnet18',
    )!;
    const plain = ng.load(path);
    expect(Object.keys(plain)).toEqual(torchvision.keys);
    expect(flat(plain['bn1.running_mean'])).toEqual(flat(model.stateDict()['bn1.running_mean']));
    expect(flat(plain['bn1.running_mean']).some((v) => v !== 0)).toBe(true);
  });

  it('restores training mode per module, as saved', () => {
    const model = ng.models.resnet18({ numClasses: 3 });
    model.train();
    model.layer2.eval(); // frozen statistics in one stage
    const path = join(dir, 'modes.safetensors');
    ng.save(model, path);
    const loaded = ng.loadModel<ng.models.ResNet>(path);
    const modes = (m: ng.nn.Module) => [...m.namedModules()].map(([name, s]) => [name, s.training]);
    expect(modes(loaded)).toEqual(modes(model));
    expect(loaded.training).toBe(true);
    expect(loaded.layer2.training).toBe(false);
  });

  it('rebuilds a user-registered model with its options, as recorded when it was built', () => {
    const options: { sizes: number[]; activation: 'relu' | 'tanh' } = { sizes: [4, 6, 3], activation: 'tanh' };
    const model = mlp(options);
    options.sizes.push(99); // changing the options object afterwards does not change what is saved
    const path = join(dir, 'mlp.safetensors');
    ng.save(model, path, { note: 'kept' });
    expect(ng.readSafetensors(path).metadata.note).toBe('kept');
    const loaded = ng.loadModel(path);
    assert(loaded instanceof Mlp);
    expect(loaded.options).toEqual({ sizes: [4, 6, 3], activation: 'tanh' });
    const x = randomTensor([5, 4], 4, 'float32');
    expect(eval0(loaded, x)).toEqual(eval0(model, x));
  });

  it('rebuilds a float64 model as float64, bit for bit', () => {
    const model = mlp({ sizes: [3, 2], activation: 'relu' }).double();
    const first = model.layers.at(0);
    assert(first instanceof ng.nn.Linear);
    ng.noGrad(() => first.weight.fill_(0.1)); // not representable in float32 // not representable in float32
    const path = join(dir, 'double.safetensors');
    ng.save(model, path);
    expect(ng.readSafetensors(path).metadata['nodegrad.dtype']).toBe('float64');
    const loaded = ng.loadModel(path);
    expect(loaded.parameters().map((p) => p.dtype)).toEqual(['float64', 'float64']);
    expect(flat(loaded.stateDict()['layers.0.weight'])).toEqual(Array(6).fill(0.1));
    const x = randomTensor([2, 3], 5, 'float64');
    expect(eval0(loaded, x)).toEqual(eval0(model, x));
  });

  it('loads from a Buffer or Uint8Array as from its file', () => {
    const model = ng.models.lenet5({ numClasses: 4 });
    const path = join(dir, 'bytes.safetensors');
    ng.save(model, path);
    const bytes = readFileSync(path);
    const x = randomTensor([1, 1, 28, 28], 6, 'float32');
    for (const input of [bytes, new Uint8Array(bytes)]) expect(eval0(ng.loadModel(input), x)).toEqual(eval0(model, x));
  });

  it('a loaded model can be saved again', () => {
    const path = join(dir, 'again.safetensors');
    ng.save(ng.models.lenet5({ numClasses: 3 }), path);
    const again = join(dir, 'again2.safetensors');
    ng.save(ng.loadModel(path), again);
    expect(readFileSync(again).equals(readFileSync(path))).toBe(true);
  });
});

describe('ng.save(model) refusals', () => {
  it('refuses a module no registered factory built, naming ng.registerModel', () => {
    const path = join(dir, 'unregistered.safetensors');
    expectError(
      () => ng.save(new Mlp({ sizes: [2, 2], activation: 'relu' }), path),
      'save: Mlp was not built by a registered factory',
      'ng.registerModel(name, factory)',
      'ng.save(model.stateDict(), path)',
    );
    expectError(() => ng.save(new ng.models.LeNet5(), path), 'save: LeNet5', 'ng.registerModel(name, factory)');
    expect(readdirSync(dir)).not.toContain('unregistered.safetensors');
  });

  it('builds with options that are not JSON but refuses to save the model', () => {
    const make = ng.registerModel(
      'test-fn-options',
      (o: { init: () => number }) => new Mlp({ sizes: [o.init(), 1], activation: 'relu' }),
    );
    const model = make({ init: () => 2 });
    expectError(
      () => ng.save(model, join(dir, 'fn.safetensors')),
      "save: Mlp built by 'test-fn-options'",
      'options.init is a function',
    );
  });

  it('refuses mixed floating dtypes and reserved metadata keys', () => {
    const model = mlp({ sizes: [2, 2, 2], activation: 'relu' });
    model.layers.at(2).double();
    expectError(
      () => ng.save(model, join(dir, 'mixed.safetensors')),
      'save: Mlp mixes floating dtypes',
      'layers.0.weight is float32',
      'layers.2.weight is float64',
    );
    expectError(
      () =>
        ng.save(mlp({ sizes: [1, 1], activation: 'relu' }), join(dir, 'meta.safetensors'), { 'nodegrad.model': 'x' }),
      "metadata keys starting with 'nodegrad.' are reserved",
      'nodegrad.model',
    );
  });

  it('leaves an existing file intact when saving fails before or during the write', () => {
    const path = join(dir, 'atomic.safetensors');
    ng.save(ng.models.lenet5(), path);
    const before = readFileSync(path);
    // Fails while the state dict is collected: Module reads its own properties, getters included.
    const model = mlp({ sizes: [2, 2], activation: 'relu' });
    Object.defineProperty(model, 'broken', {
      enumerable: true,
      get: () => {
        throw new Error('getter failed');
      },
    });
    expect(() => ng.save(model, path)).toThrow('getter failed');
    // Fails mid-way through writing: the disk fills after the header and part of the weights.
    disk.bytesUntilFull = 2000;
    try {
      expect(() => ng.save(ng.models.lenet5({ numClasses: 3 }), path)).toThrow('ENOSPC');
    } finally {
      disk.bytesUntilFull = Infinity;
    }
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(temps()).toEqual([]);
    ng.save(ng.models.lenet5({ numClasses: 3 }), path);
    expect(ng.readSafetensors(path).metadata['nodegrad.options']).toBe('{"numClasses":3}');
  });
});

describe('ng.loadModel refusals and ng.registerModel', () => {
  it('names the missing factory and lists the registered ones', () => {
    const path = join(dir, 'unknown.safetensors');
    ng.save({ w: ng.ones([1]) }, path, { 'nodegrad.model': 'not-registered', 'nodegrad.options': '{}' });
    expectError(
      () => ng.loadModel(path),
      `loadModel: ${path} holds a 'not-registered' model, but no factory is registered`,
      'lenet5',
      'resnet18',
      'test-mlp',
      "ng.registerModel('not-registered', factory)",
    );
  });

  it('refuses a plain state dict file, naming loadStateDict', () => {
    const path = join(dir, 'plain.safetensors');
    ng.save(ng.models.lenet5().stateDict(), path);
    expectError(
      () => ng.loadModel(path),
      `loadModel: ${path} has no 'nodegrad.model' metadata`,
      'model.loadStateDict(ng.load(path))',
    );
    const bytes = readFileSync(path);
    expectError(
      () => ng.loadModel(bytes),
      `loadModel: the given ${bytes.byteLength}-byte buffer has no 'nodegrad.model' metadata`,
    );
  });

  it('explains weights that no longer fit what the factory builds (a model changed after it was built)', () => {
    const model = ng.models.lenet5({ numClasses: 10 });
    model.classifier = new ng.nn.Sequential(new ng.nn.Flatten(), new ng.nn.Linear(400, 2));
    const path = join(dir, 'changed.safetensors');
    ng.save(model, path);
    expectError(
      () => ng.loadModel(path),
      "loadModel: the LeNet5 that 'lenet5' builds with options",
      'does not match the weights',
      'classifier.1.weight: expected [120, 400], got [2, 400]',
    );
  });

  it('refuses corrupt metadata', () => {
    const path = join(dir, 'corrupt.safetensors');
    ng.save({ w: ng.ones([1]) }, path, { 'nodegrad.model': 'test-mlp', 'nodegrad.options': '{sizes' });
    expectError(() => ng.loadModel(path), `loadModel: ${path} has invalid nodegrad.options metadata`);
    writeFileSync(path, Buffer.alloc(0));
    expectError(() => ng.loadModel(path), `loadModel: ${path} is not a valid safetensors file`);
  });

  it('refuses bytes that are no safetensors file, naming loadModel and the buffer, not its bytes', () => {
    const junk = Buffer.from('{"weights": "secret-token-1234"} and then some more bytes');
    for (const input of [junk, new Uint8Array(junk)]) {
      expectError(
        () => ng.loadModel(input),
        `loadModel: the given ${junk.byteLength}-byte buffer is not a valid safetensors file`,
      );
      expect(() => ng.loadModel(input)).not.toThrow(/secret-token|weights|123,/);
    }
    expectError(() => ng.loadModel(null as unknown as string), 'loadModel: expected a file path or a Uint8Array');
  });

  it('refuses to register another factory under a taken name unless told to override', () => {
    const factory = () => new Mlp({ sizes: [1, 1], activation: 'relu' });
    const first = ng.registerModel('test-override', factory);
    expect(ng.registerModel('test-override', factory)).toBe(first);
    expectError(
      () => ng.registerModel('test-override', () => new Mlp({ sizes: [2, 1], activation: 'relu' })),
      "registerModel: 'test-override' is already registered to another factory",
      '{ override: true }',
    );
    expectError(() => ng.registerModel('resnet18', factory), "registerModel: 'resnet18' is already registered");
    const second = ng.registerModel('test-override', () => new Mlp({ sizes: [3, 1], activation: 'relu' }), {
      override: true,
    });
    const path = join(dir, 'override.safetensors');
    ng.save(first(), path);
    // The file names the factory, not the function: loading uses the one registered now.
    expectError(() => ng.loadModel(path), 'does not match the weights');
    ng.save(second(), path);
    expect(ng.loadModel<Mlp>(path).options.sizes).toEqual([3, 1]);
    expectError(() => ng.registerModel('', factory), 'registerModel: expected a non-empty name');
    const notModule = ng.registerModel('test-not-module', (() => ({})) as unknown as ng.ModelFactory);
    expectError(
      () => notModule(undefined as never),
      "registerModel: factory 'test-not-module' returned an instance of Object; expected a Module",
    );
  });
});
