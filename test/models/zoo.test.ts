// The model zoo: torchvision's parameter counts and state-dict keys, output shapes, and logits equal
// to torchvision's (tools/golden/make_zoo_goldens.py) when both get the same deterministic weights.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { fixturesDir } from '../fixtures.js';

const { models } = ng;
const count = (m: ng.nn.Module) => m.parameters().reduce((n, p) => n + p.numel, 0);

describe('model zoo', () => {
  it.each([
    ['resnet18', 11_689_512],
    ['resnet34', 21_797_672],
    ['resnet50', 25_557_032],
    ['vgg16', 138_357_544],
    ['vgg19', 143_667_240],
    ['alexnet', 61_100_840],
    ['googlenet', 6_624_904],
  ] as const)("%s has torchvision's %i parameters with 1000 classes", (name, expected) => {
    expect(count(models.registry[name]({ numClasses: 1000 }))).toBe(expected);
  });

  it('lenet5 has 61,706 parameters for 1x28x28 inputs', () => {
    expect(count(models.lenet5())).toBe(61_706);
    expect(count(models.lenet5({ activation: 'tanh' }))).toBe(61_706);
  });

  it.each([
    ['lenet5', [2, 1, 28, 28]],
    ['alexnet', [2, 3, 64, 64]],
    ['vgg11', [2, 3, 32, 32]],
    ['resnet18', [2, 3, 32, 32]],
    ['resnet34', [2, 3, 32, 32]],
    ['resnet50', [2, 3, 32, 32]],
    ['googlenet', [2, 3, 32, 32]],
  ] as const)('%s runs forward and backward on %j', (name, shape) => {
    const model = models.registry[name]({ numClasses: 7, inChannels: shape[1] });
    const out = model.forward(ng.randn([...shape]));
    expect(out.shape).toEqual([shape[0], 7]);
    out.sum().backward();
    expect(model.parameters().every((p) => p.grad !== null)).toBe(true);
  });

  it('vgg with batch norm and googlenet with auxiliary heads', () => {
    const vgg = models.vgg11({ batchNorm: true, numClasses: 10 });
    expect(Object.keys(vgg.stateDict())).toContain('features.1.running_var');
    const g = models.googlenet({ numClasses: 10, auxLogits: true });
    expect(g.forward(ng.randn([2, 3, 32, 32])).shape).toEqual([2, 10]);
    expect(g.auxOutputs.map((t) => t.shape)).toEqual([
      [2, 10],
      [2, 10],
    ]);
  });

  it('summary tabulates layers with totals', () => {
    const s = models.summary(models.lenet5(), [1, 28, 28]);
    expect(s.totalParams).toBe(61_706);
    expect(s.rows.find((r) => r.name === 'features.0')!.outputShape).toEqual([1, 6, 28, 28]);
    // conv1 6·28·28·25 + conv2 16·10·10·150 + 400·120 + 120·84 + 84·10 multiply-accumulates.
    expect(s.macsPerSample).toBe(6 * 784 * 25 + 16 * 100 * 150 + 400 * 120 + 120 * 84 + 84 * 10);
    expect(s.text).toContain('Total params: 61,706');
    expect(s.activationBytesPerSample).toBeGreaterThan(6 * 784 * 4);
  });
});

/** The fill formula of tools/golden/make_zoo_goldens.py. */
function fill(model: ng.nn.Module): void {
  ng.noGrad(() => {
    Object.entries(model.stateDict()).forEach(([name, t], k) => {
      if (name.endsWith('num_batches_tracked')) return;
      const d = t.storage.data;
      const fanIn = t.numel / t.shape[0];
      for (let i = 0; i < d.length; i++) {
        if (name.endsWith('running_mean')) d[i] = 0.1 * Math.sin(0.3 * i + k);
        else if (name.endsWith('running_var')) d[i] = 1 + 0.25 * Math.sin(0.7 * i + k) ** 2;
        else if (t.ndim >= 2) d[i] = Math.sqrt(6 / fanIn) * Math.sin(0.37 * i + 0.11 * k);
        else if (name.endsWith('weight')) d[i] = 1 + 0.1 * Math.sin(0.37 * i + 0.11 * k);
        else d[i] = 0.1 * Math.sin(0.37 * i + 0.11 * k);
      }
    });
  });
}

describe('zoo logits match torchvision given the same weights', () => {
  const { tensors, metadata } = ng.readSafetensors(join(fixturesDir, 'zoo.safetensors'));
  const cases = JSON.parse(metadata.cases) as { name: string; input: number[]; keys: string[] }[];
  // One case per family: plain vgg11 shares every layer kind with vgg11_bn and would double the
  // suite's longest test (130 M weights to fill), so the fixture's vgg11 entry is not run here.
  it.each(cases.filter((c) => c.name !== 'vgg11').map((c) => [c.name, c] as const))('%s', (name, c) => {
    const model =
      name === 'vgg11_bn'
        ? models.vgg11({ batchNorm: true, numClasses: 10 })
        : models.registry[name]({ numClasses: 10 });
    expect(Object.keys(model.stateDict())).toEqual(c.keys);
    fill(model);
    model.eval();
    const n = c.input.reduce((a, b) => a * b, 1);
    const x = ng.tensor(
      Float32Array.from({ length: n }, (_, i) => Math.sin(0.1 * i)),
      { shape: c.input },
    );
    const logits = ng.noGrad(() => model.forward(x)).data();
    const expected = tensors[`${name}/logits`].data();
    const scale = Math.max(...Array.from(expected, Math.abs));
    for (let i = 0; i < expected.length; i++)
      expect(Math.abs(logits[i] - expected[i])).toBeLessThan(1e-4 * scale + 1e-5);
  });
});
