// conv1d, convTranspose1d/2d, interpolate and the pixel shuffles against PyTorch 1.13
// (test/fixtures/conv2.safetensors, from tools/golden/make_conv2_goldens.py): outputs and the
// gradients of sum(out * gout) for input, weight and bias, in float64 (tight) and float32; the
// layers' state-dict keys, shapes and reprs.
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { expectClose, flat } from '../helpers.js';
import { goldenCases, type GoldenCase } from '../fixtures.js';

const F = ng.nn.functional;
type Leaf = (key: string) => ng.Tensor | null;

const forwards: Record<string, (c: GoldenCase, leaf: Leaf) => ng.Tensor> = {
  conv1d: (c, leaf) => F.conv1d(leaf('x')!, leaf('weight')!, leaf('bias'), c.options),
  convTranspose1d: (c, leaf) => F.convTranspose1d(leaf('x')!, leaf('weight')!, leaf('bias'), c.options),
  convTranspose2d: (c, leaf) => F.convTranspose2d(leaf('x')!, leaf('weight')!, leaf('bias'), c.options),
  interpolate: (c, leaf) => F.interpolate(leaf('x')!, c.options),
  pixelShuffle: (c, leaf) => F.pixelShuffle(leaf('x')!, c.options.factor as number),
  pixelUnshuffle: (c, leaf) => F.pixelUnshuffle(leaf('x')!, c.options.factor as number),
};

const cases = goldenCases('conv2.safetensors');

describe.each(['float64', 'float32'] as const)('functional ops match PyTorch (%s)', (dtype) => {
  const [rtol, atol] = dtype === 'float64' ? [1e-9, 1e-10] : [1e-4, 1e-5];
  it('covers every kind', () => {
    expect(new Set(cases.map((c) => c.kind))).toEqual(new Set([...Object.keys(forwards), 'module']));
  });
  it.each(cases.filter((c) => c.kind !== 'module').map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const leaves = new Map<string, ng.Tensor>();
    const leaf = (key: string) => {
      if (!(key in c.t)) return null;
      const t = c.t[key].to(dtype).detach().clone();
      t.requiresGrad = true;
      leaves.set(key, t);
      return t;
    };
    const out = forwards[c.kind](c, leaf);
    expect(out.shape).toEqual(c.t.out.shape);
    expect(out.dtype).toBe(dtype);
    expectClose(flat(out), flat(c.t.out), rtol, atol);
    out.backward(c.t.gout.to(dtype));
    expect(leaves.size).toBeGreaterThan(0);
    for (const [key, t] of leaves) expectClose(flat(t.grad!), flat(c.t[`grad_${key}`]), rtol, atol);
  });
});

interface ModuleCase {
  layer: string;
  args: unknown[];
  options: Record<string, unknown>;
  outputSize: number[] | null;
  keys: string[];
  shapes: number[][];
  repr: string;
}

type Built = ng.nn.Module<[ng.Tensor, (readonly number[])?]>;
const builders: Record<string, (args: never[], options: never) => Built> = {
  Conv1d: (a, o) => new ng.nn.Conv1d(a[0], a[1], a[2], o),
  ConvTranspose1d: (a, o) => new ng.nn.ConvTranspose1d(a[0], a[1], a[2], o),
  ConvTranspose2d: (a, o) => new ng.nn.ConvTranspose2d(a[0], a[1], a[2], o),
  Upsample: (_a, o) => new ng.nn.Upsample(o),
  PixelShuffle: (a) => new ng.nn.PixelShuffle(a[0]),
  PixelUnshuffle: (a) => new ng.nn.PixelUnshuffle(a[0]),
};

describe('layers match PyTorch', () => {
  it.each(cases.filter((c) => c.kind === 'module').map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const m = c.options as unknown as ModuleCase;
    const layer = builders[m.layer](m.args as never[], m.options as never);
    const state = layer.stateDict();
    expect(Object.keys(state)).toEqual(m.keys);
    expect(Object.values(state).map((t) => t.shape)).toEqual(m.shapes);
    expect(String(layer)).toBe(m.repr);
    layer.double();
    const params: Record<string, ng.Tensor> = {};
    for (const key of m.keys) params[key] = c.t[`param/${key}`];
    layer.loadStateDict(params);
    const x = c.t.x.detach().clone();
    x.requiresGrad = true;
    const out = m.outputSize ? layer.forward(x, m.outputSize) : layer.forward(x);
    expect(out.shape).toEqual(c.t.out.shape);
    expectClose(flat(out), flat(c.t.out), 1e-9, 1e-10);
    out.backward(c.t.gout);
    expectClose(flat(x.grad!), flat(c.t.grad_x), 1e-9, 1e-10);
    for (const [key, p] of layer.namedParameters())
      expectClose(flat(p.grad!), flat(c.t[`grad_param/${key}`]), 1e-9, 1e-10);
  });
});
