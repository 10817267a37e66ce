import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ng from '../../lib/index.js';
import { decodeModel } from '../../lib/onnx/schema.js';
import { fixturesDir, goldenCases } from '../fixtures.js';

const cases = Object.fromEntries(goldenCases('onnx.safetensors').map((c) => [c.name, c]));
const onnxFile = (name: string) => join(fixturesDir, 'onnx', name);

function expectClose(actual: ng.Tensor, expected: ng.Tensor): void {
  expect(actual.shape).toEqual(expected.shape);
  const peak = expected.abs().max().item();
  // Within 1e-4 of the outputs' peak magnitude (never looser than 1e-4 absolute for outputs below 1).
  expect(actual.sub(expected).abs().max().item()).toBeLessThanOrEqual(1e-4 * Math.min(1, peak) + 1e-6);
}

/**
 * ResNet-18's conv and fc weights: tools/golden/make_onnx_goldens.py filled them with this formula of
 * their shape, and tools/golden/onnx-external-data.mjs moved them out of resnet18.onnx into external
 * data (checking the formula reproduces them bit for bit), so the test writes that file again.
 */
function resnetWeight(dims: readonly number[]): Float32Array {
  const numel = dims.reduce((a, b) => a * b, 1);
  const scale = 1.5 * Math.sqrt((dims[0] ?? 1) / numel);
  return Float32Array.from({ length: numel }, (_, i) => scale * Math.sin(0.37 * i + 0.0013 * i * i + 0.011 * numel));
}

/** Writes `name`.weights for `name`.onnx from the formula, at the offsets the model records. */
function writeWeights(dir: string, name: string): void {
  const model = decodeModel(readFileSync(onnxFile(`${name}.onnx`)));
  const chunks: Buffer[] = [];
  for (const t of model.graph.initializer) {
    if (!t.externalData) continue;
    expect(Number(t.externalData.offset)).toBe(chunks.reduce((n, c) => n + c.length, 0));
    chunks.push(Buffer.from(resnetWeight(t.dims).buffer));
  }
  writeFileSync(join(dir, `${name}.weights`), Buffer.concat(chunks));
}

let weightsDir = '';
beforeAll(() => {
  weightsDir = mkdtempSync(join(tmpdir(), 'nodegrad-onnx-'));
  writeWeights(weightsDir, 'resnet18');
  writeWeights(weightsDir, 'resnet18-bn');
});
afterAll(() => rmSync(weightsDir, { recursive: true, force: true }));

describe('importModel on PyTorch 1.13 exports (opset 17)', () => {
  it('LeNet-5 equals PyTorch and has its parameters', () => {
    const c = cases.lenet5;
    const model = ng.onnx.importModel(onnxFile('lenet5.onnx'));
    expectClose(model.forward(c.t.input), c.t.output);
    expect(model.parameters().length).toBe(c.options.tensors);
    expect(model.parameters().reduce((n, p) => n + p.numel, 0)).toBe(c.options.parameters);
    expect(model.parameters().length).toBe(ng.models.lenet5().parameters().length);
    expect(Object.keys(model.stateDict())).toContain('features_0_weight');
    expect(model.inputNames).toEqual(['input']);
    expect(model.opset).toBe(17);
  });

  it('LeNet-5 fine-tunes: SGD steps lower the loss and change the parameters', () => {
    const c = cases.lenet5;
    const model = ng.onnx.importModel(onnxFile('lenet5.onnx'));
    const before = model.parameters().map((p) => p.detach().clone());
    const optimizer = new ng.optim.SGD(model.parameters(), { lr: 0.1 });
    const losses: number[] = [];
    for (let step = 0; step < 5; step++) {
      const loss = ng.crossEntropy(model.forward(c.t.input), c.t.target);
      losses.push(loss.item());
      optimizer.zeroGrad();
      loss.backward();
      optimizer.step();
    }
    expect(losses[0]).toBeCloseTo(c.t.loss.item(), 5);
    expect(losses[4]).toBeLessThan((losses[0] ?? 0) - 0.01);
    model.parameters().forEach((p, i) => expect(ng.equal(p.detach(), before[i])).toBe(false));
  });

  it("LeNet-5's gradients equal those of ng.models.lenet5 holding the same weights", () => {
    const c = cases.lenet5;
    const imported = ng.onnx.importModel(onnxFile('lenet5.onnx'));
    const native = ng.models.lenet5();
    const weights = Object.entries(imported.stateDict()).map(([k, v]) => [k.replace(/_(\d+)_/, '.$1.'), v]);
    native.loadStateDict(Object.fromEntries(weights) as ng.nn.StateDict);
    for (const m of [imported, native]) ng.crossEntropy(m.forward(c.t.input), c.t.target).backward();
    const grads = (m: ng.nn.Module) => m.parameters().map((p) => p.grad ?? ng.zeros([0]));
    const expected = grads(native);
    grads(imported).forEach((g, i) => expectClose(g, expected[i] ?? ng.zeros([0])));
  });

  it('ResNet-18 with external data equals PyTorch', () => {
    const c = cases.resnet18;
    const model = ng.onnx.importModel(onnxFile('resnet18.onnx'), { externalDataDir: weightsDir });
    ng.noGrad(() => expectClose(model.forward(c.t.input), c.t.output));
  });

  it('ResNet-18 with its BatchNormalization nodes (exported unfolded) equals PyTorch', () => {
    const c = cases.resnet18_bn;
    const model = ng.onnx.importModel(onnxFile('resnet18-bn.onnx'), { externalDataDir: weightsDir });
    ng.noGrad(() => expectClose(model.forward(c.t.input), c.t.output));
    // Running means and variances are buffers: the eval-mode nodes never update them.
    const parameterNames = [...model.namedParameters()].map(([name]) => name);
    expect(Object.keys(model.stateDict())).toContain('bn1_running_var');
    expect(parameterNames).toContain('bn1_weight');
    expect(parameterNames.filter((name) => name.includes('running'))).toEqual([]);
  });

  it('GPT (dynamic batch and sequence) equals PyTorch at two input sizes', () => {
    const c = cases.gpt;
    const model = ng.onnx.importModel(readFileSync(onnxFile('gpt.onnx')));
    expectClose(model.forward(c.t.input), c.t.output);
    expectClose(model.forward(c.t.shortInput), c.t.shortOutput);
    // The causal mask (nanoGPT's attn.bias buffer) reaches the logits only through Equal: a buffer.
    expect(Object.keys(model.stateDict())).toContain('gpt_transformer_h_0_attn_bias');
    expect(model.buffers().length).toBe(1);
    expect(model.parameters().every((p) => p.ndim < 4)).toBe(true);
  });
});

describe('importModel errors', () => {
  it('refuses a file that is not ONNX', () => {
    expect(() => ng.onnx.importModel(new TextEncoder().encode('not an onnx file at all'))).toThrow(/onnx/);
    try {
      ng.onnx.importModel(readFileSync(onnxFile('lenet5.onnx')).subarray(0, 1000));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ng.NodegradError);
      expect((e as ng.NodegradError).code).toBe('ERR_NODEGRAD_ONNX');
      expect((e as Error).message).toMatch(/^onnx: corrupt protobuf/);
    }
  });

  it('names a missing file and missing external data', () => {
    expect(() => ng.onnx.importModel(join(weightsDir, 'nothing.onnx'))).toThrow(
      /cannot read model file .*nothing\.onnx/,
    );
    const empty = mkdtempSync(join(tmpdir(), 'nodegrad-onnx-'));
    try {
      expect(() => ng.onnx.importModel(onnxFile('resnet18.onnx'), { externalDataDir: empty })).toThrow(
        /external data file 'resnet18\.weights' was not found/,
      );
      // From bytes there is no folder to look in.
      expect(() => ng.onnx.importModel(readFileSync(onnxFile('resnet18.onnx')))).toThrow(/externalDataDir/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
