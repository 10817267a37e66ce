import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { decodeModel } from '../../lib/onnx/schema.js';
import type { ExportOptions } from '../../lib/onnx/export.js';

const { nn } = ng;
const dir = mkdtempSync(join(tmpdir(), 'nodegrad-onnx-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ortTensor(t: ng.Tensor): ort.Tensor {
  if (t.dtype === 'int32') return new ort.Tensor('int64', BigInt64Array.from(t.data(), BigInt), [...t.shape]);
  return new ort.Tensor('float32', Float32Array.from(t.data()), [...t.shape]);
}

async function runOrt(bytes: Uint8Array, inputs: ng.Tensor[]): Promise<ort.Tensor[]> {
  const session = await ort.InferenceSession.create(bytes);
  const feeds = Object.fromEntries(session.inputNames.map((name, i) => [name, ortTensor(inputs[i])]));
  const result = await session.run(feeds);
  return session.outputNames.map((name) => result[name]);
}

/** Max |a − b| / max(1, |b|): absolute for small values, relative for large ones. */
function maxError(actual: ort.Tensor, expected: ng.Tensor): number {
  expect(actual.dims).toEqual(expected.shape);
  const a = actual.data as Float32Array;
  const b = expected.data();
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return worst;
}

const outputOf = (out: unknown): ng.Tensor =>
  out instanceof ng.Tensor ? out : Array.isArray(out) ? (out[0] as ng.Tensor) : (out as { logits: ng.Tensor }).logits;

/** Exports `model` on `sample`, runs ORT on each input set, and checks it against nodegrad's forward. */
async function expectSameOutputs(
  model: ng.nn.Module<never, unknown>,
  sample: ng.Tensor[],
  options: ExportOptions = {},
  others: ng.Tensor[][] = [],
): Promise<Uint8Array> {
  model.eval();
  const bytes = ng.onnx.exportModel(model, sample, options);
  for (const inputs of [sample, ...others]) {
    const [actual] = await runOrt(bytes, inputs);
    const callable = model as unknown as { forward: (...args: ng.Tensor[]) => unknown };
    const expected = ng.noGrad(() => outputOf(callable.forward(...inputs)));
    expect(maxError(actual, expected)).toBeLessThan(1e-4);
  }
  return bytes;
}

/** Random running statistics, so that an eval-mode BatchNorm is not the identity. */
function randomizeNormStats(model: ng.nn.Module<never, unknown>): void {
  const state = model.stateDict();
  const update: Record<string, ng.Tensor> = {};
  for (const [key, t] of Object.entries(state)) {
    if (key.endsWith('running_mean')) update[key] = ng.randn([...t.shape]).mul(0.1);
    else if (key.endsWith('running_var')) update[key] = ng.rand([...t.shape]).add(0.5);
    else if (key.endsWith('bn2.weight') || key.endsWith('bn3.weight')) update[key] = ng.rand([...t.shape]).add(0.5);
  }
  model.loadStateDict(update, { strict: false });
}

describe('onnx.exportModel against onnxruntime-node', () => {
  it('LeNet-5: same logits, on another batch size with dynamicBatch', async () => {
    ng.manualSeed(1);
    const model = ng.models.lenet5();
    await expectSameOutputs(model, [ng.randn([2, 1, 28, 28])], { dynamicBatch: true }, [[ng.randn([5, 1, 28, 28])]]);
  });

  it('ResNet-18 (BasicBlock, downsample, residual Add + Relu) on 3×32×32, dynamic batch', async () => {
    ng.manualSeed(2);
    const model = ng.models.resnet18({ numClasses: 10 });
    randomizeNormStats(model);
    await expectSameOutputs(model, [ng.randn([2, 3, 32, 32])], { dynamicBatch: true }, [[ng.randn([3, 3, 32, 32])]]);
  });

  // VGG shares AlexNet's emitter; building one costs seconds for its 4096-wide classifier alone.
  it('AlexNet features and adaptive pool (uneven windows) with a small classifier', async () => {
    ng.manualSeed(3);
    const alexnet = ng.models.alexnet({ numClasses: 10 });
    alexnet.classifier = new nn.Sequential(new nn.Dropout(0.5), new nn.Linear(256 * 6 * 6, 10));
    await expectSameOutputs(alexnet, [ng.randn([1, 3, 67, 67])]);
  });

  it('a small GPT: last-position logits, int64 tokens, dynamic batch and sequence', async () => {
    ng.manualSeed(4);
    const model = ng.models.gpt({ vocabSize: 20, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 16 });
    const tokens = (b: number, t: number) => ng.randint(0, 20, [b, t], { dtype: 'int32' });
    const bytes = await expectSameOutputs(model, [tokens(2, 8)], { dynamicBatch: true }, [
      [tokens(3, 5)],
      [tokens(1, 16)],
    ]);
    const input = decodeModel(bytes).graph.input[0];
    expect(input).toMatchObject({ name: 'input', elemType: 7, shape: ['batch', 'sequence'] });
  });

  it('TransformerEncoder (post-norm, sequence first) and a pre-norm GELU batch-first layer', async () => {
    ng.manualSeed(5);
    const layer = new nn.TransformerEncoderLayer(16, 4, { dimFeedforward: 32 });
    const encoder = new nn.TransformerEncoder(layer, 2, { norm: new nn.LayerNorm(16) });
    await expectSameOutputs(encoder, [ng.randn([5, 2, 16])]);
    const preNorm = new nn.TransformerEncoderLayer(16, 2, {
      dimFeedforward: 24,
      batchFirst: true,
      normFirst: true,
      activation: 'gelu',
    });
    await expectSameOutputs(preNorm, [ng.randn([3, 6, 16])], { dynamicBatch: true }, [[ng.randn([1, 6, 16])]]);
    await expectSameOutputs(preNorm, [ng.randn([3, 6, 16])], { opset: 13 });
  });

  it('the text classifier: padding keys masked and left out of the mean, or the first token pooled', async () => {
    ng.manualSeed(11);
    const tokens = ng.tensor(
      [
        [5, 17, 3, 0, 0, 0],
        [8, 9, 10, 11, 12, 13],
        [4, 0, 0, 0, 0, 0],
      ],
      { dtype: 'int32' },
    );
    const other = ng.tensor(
      [
        [0, 0, 7],
        [1, 2, 0],
      ],
      { dtype: 'int32' },
    );
    for (const pooling of ['mean', 'cls'] as const) {
      const model = ng.models.textClassifier({ vocabSize: 20, numClasses: 3, dModel: 16, nhead: 2, pooling });
      await expectSameOutputs(model, [tokens], { dynamicBatch: true }, [[other]]);
    }
  });

  it('a ResNet-50 Bottleneck with a strided downsample', async () => {
    ng.manualSeed(12);
    const downsample = new nn.Sequential(new nn.Conv2d(16, 32, 1, { stride: 2, bias: false }), new nn.BatchNorm2d(32));
    const block = new ng.models.Bottleneck(16, 8, 2, downsample);
    randomizeNormStats(block);
    await expectSameOutputs(block, [ng.randn([2, 16, 9, 9])]);
  });

  it('MultiheadAttention with separate key and value features', async () => {
    ng.manualSeed(6);
    const mha = new nn.MultiheadAttention(12, 3, { kdim: 5, vdim: 7 });
    await expectSameOutputs(mha, [ng.randn([4, 2, 12]), ng.randn([6, 2, 5]), ng.randn([6, 2, 7])]);
  });

  it('an MLP with every activation, at opsets 13 (decomposed LayerNorm), 17 and 20 (Gelu)', async () => {
    ng.manualSeed(7);
    const model = new nn.Sequential(
      new nn.Linear(8, 16),
      new nn.ReLU(),
      new nn.GELU(),
      new nn.GELU({ approximate: 'tanh' }),
      new nn.SiLU(),
      new nn.Linear(16, 16),
      new nn.Sigmoid(),
      new nn.Tanh(),
      new nn.LeakyReLU({ negativeSlope: 0.2 }),
      new nn.ELU({ alpha: 0.7 }),
      new nn.SELU(),
      new nn.Softplus({ beta: 2 }),
      new nn.Mish(),
      new nn.Linear(16, 16),
      new nn.Hardtanh({ minVal: -0.5, maxVal: 0.8 }),
      new nn.Hardswish(),
      new nn.LogSigmoid(),
      new nn.Softsign(),
      new nn.PReLU({ numParameters: 16, init: 0.1 }),
      new nn.BatchNorm1d(16),
      new nn.LayerNorm(16),
      new nn.Dropout(0.3),
      new nn.GLU(),
      new nn.Linear(8, 6),
      new nn.LogSoftmax(1),
      new nn.Softmax(-1),
    );
    randomizeNormStats(model);
    const x = ng.randn([4, 8]).mul(3);
    for (const opset of [13, 17, 20]) await expectSameOutputs(model, [x], { opset });
  });

  it('convolutions and pools: groups, dilation, same padding, Conv1d, ConvTranspose2d, ceil mode, pad counting', async () => {
    ng.manualSeed(8);
    const model = new nn.Sequential(
      new nn.Conv2d(4, 8, 3, { padding: 'same', dilation: 2, groups: 2 }),
      new nn.MaxPool2d(3, { stride: 2, ceilMode: true }),
      new nn.ConvTranspose2d(8, 6, 3, { stride: 2, padding: 1, outputPadding: 1 }),
      new nn.AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false }),
      new nn.Conv2d(6, 6, [2, 3], { stride: [1, 2], padding: [1, 0], bias: false }),
      new nn.AdaptiveAvgPool2d([3, 2]),
      new nn.Flatten(2),
      new nn.Conv1d(6, 4, 3, { padding: 'same' }),
      new nn.Flatten(0),
    );
    await expectSameOutputs(model, [ng.randn([2, 4, 11, 13])]);
  });

  it('pool edge cases: ceil-mode windows starting in the padding, pad counting, dilation, overlapping adaptive windows', async () => {
    ng.manualSeed(13);
    const pools = [
      new nn.MaxPool2d(2, { stride: 2, padding: 1, ceilMode: true }),
      new nn.AvgPool2d(2, { stride: 2, padding: 1, ceilMode: true }),
      new nn.AvgPool2d(3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }),
      new nn.MaxPool2d(3, { stride: 2, padding: 1, dilation: 2 }),
      new nn.AdaptiveAvgPool2d([4, 3]),
      new nn.AdaptiveAvgPool2d(1),
    ];
    for (const pool of pools) await expectSameOutputs(pool, [ng.randn([2, 3, 5, 7])]);
  });

  it('GoogLeNet (Inception branches concatenated, ceil-mode pools)', async () => {
    ng.manualSeed(9);
    const model = ng.models.googlenet({ numClasses: 10 });
    randomizeNormStats(model);
    await expectSameOutputs(model, [ng.randn([1, 3, 64, 64])]);
  });
});

describe('onnx.exportModel files and errors', () => {
  it('writes a complete file that decodes, initializers named by the state-dict keys', () => {
    ng.manualSeed(10);
    const model = ng.models.resnet18({ numClasses: 10 });
    model.train();
    model.bn1.eval();
    const path = join(dir, 'resnet18.onnx');
    const bytes = ng.onnx.exportModel(model, ng.randn([1, 3, 32, 32]), path);
    expect([model.training, model.bn1.training, model.layer1.training]).toEqual([true, false, true]);
    expect(readdirSync(dir)).toEqual(['resnet18.onnx']);
    const file = readFileSync(path);
    expect(Buffer.compare(file, bytes)).toBe(0);
    const proto = decodeModel(file);
    expect(proto.opsetImport).toEqual([{ domain: '', version: 17 }]);
    const names = proto.graph.initializer.map((t) => t.name).filter((n) => !n.startsWith('onnx::'));
    const keys = Object.keys(model.stateDict()).filter((k) => !k.endsWith('num_batches_tracked'));
    expect(names.sort()).toEqual(keys.sort());
    const conv1 = proto.graph.initializer.find((t) => t.name === 'conv1.weight');
    expect(conv1?.dims).toEqual([64, 3, 7, 7]);
    expect(proto.graph.node.some((n) => n.name.startsWith('/layer1/0/conv1/'))).toBe(true);
  });

  it('an unsupported module is named with its path', () => {
    const model = new nn.Sequential(new nn.Linear(4, 4), new nn.Sequential(new nn.GroupNorm(2, 4)));
    const call = () => ng.onnx.exportModel(model, ng.randn([2, 4]));
    expect(call).toThrow(ng.NodegradError);
    expect(call).toThrow(expect.objectContaining({ code: 'ERR_NODEGRAD_ONNX' }));
    expect(call).toThrow(/onnx\.exportModel: no ONNX export for module GroupNorm at '1\.0'/);
  });

  it('a subclass that overrides forward, a hooked module, bad opsets and dtypes are refused', () => {
    class Doubled extends nn.Linear {
      override forward(x: ng.Tensor): ng.Tensor {
        return super.forward(x).mul(2);
      }
    }
    expect(() => ng.onnx.exportModel(new Doubled(3, 3), ng.randn([1, 3]))).toThrow(
      /module Doubled at the exported model/,
    );
    const hooked = new nn.Sequential(new nn.Linear(3, 3));
    hooked.at(0).registerForwardHook(() => undefined);
    expect(() => ng.onnx.exportModel(hooked, ng.randn([1, 3]))).toThrow(/Linear at '0' has its own forward or hooks/);
    expect(() => ng.onnx.exportModel(new nn.Linear(3, 3), ng.randn([1, 3]), { opset: 9 })).toThrow(
      /opset must be an integer from 13 to 21, got 9/,
    );
    const double = new nn.Linear(3, 3, { dtype: 'float64' });
    expect(() => ng.onnx.exportModel(double, ng.randn([1, 3], { dtype: 'float64' }))).toThrow(/float64/);
  });
});
