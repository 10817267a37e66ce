import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { goldenCases } from '../fixtures.js';
import { expectClose } from '../helpers.js';

const names = ['x', 'w1', 'b1', 'w2', 'b2', 'w3', 'b3'] as const;
type Leaves = Record<(typeof names)[number], ng.Tensor>;

function layer(h: ng.Tensor, w: ng.Tensor, b: ng.Tensor, act: string, fused: boolean): ng.Tensor {
  if (act === 'relu' && fused) return ng.linear(h, w, b, { activation: 'relu' });
  return activate(ng.linear(h, w, b), act);
}

function activate(y: ng.Tensor, act: string): ng.Tensor {
  return act === 'tanh' ? y.tanh() : act === 'sigmoid' ? y.sigmoid() : y.relu();
}

function critic(p: Leaves, act1: string, act2: string, fused: boolean, conv = false): ng.Tensor {
  const first = conv
    ? activate(ng.conv2d(p.x, p.w1, p.b1, { stride: 2, padding: 1 }), act1).flatten(1)
    : layer(p.x, p.w1, p.b1, act1, fused);
  const h = layer(first, p.w2, p.b2, act2, fused);
  return ng.linear(h, p.w3, p.b3);
}

// WGAN-GP: penalty = mean((||∇x D(x)||₂ - 1)²), differentiated again with respect to x and D's
// weights. PyTorch's values come from tools/golden/make_autograd_goldens.py.
describe('gradient penalty against PyTorch (double backward)', () => {
  for (const c of goldenCases('autograd.safetensors')) {
    for (const fused of [false, true]) {
      it(`${c.name}${fused ? ' (fused linear+relu)' : ''}`, () => {
        const p = Object.fromEntries(names.map((k) => [k, c.t[k].clone().detach()])) as Leaves;
        for (const k of names) p[k].requiresGrad = true;
        const { act1, act2, conv } = c.options as { act1: string; act2: string; conv: boolean };
        const out = critic(p, act1, act2, fused, conv);
        expectClose(out.data(), c.t.out.data(), 1e-10, 1e-12);
        const [gx] = ng.autograd.grad(out.sum(), p.x, { createGraph: true });
        expectClose(gx!.data(), c.t.gx.data(), 1e-10, 1e-12);
        const penalty = gx!.flatten(1).pow(2).sum(1).sqrt().sub(1).pow(2).mean();
        expectClose([penalty.item()], c.t.penalty.data(), 1e-10, 1e-12);
        penalty.backward();
        for (const k of names) {
          if (!(`grad_${k}` in c.t)) {
            expect(p[k].grad, k).toBeNull();
            continue;
          }
          // A bias reached only through ReLU's 0/1 mask: PyTorch materializes zeros, nodegrad's
          // mask is a constant of the recorded graph, so no gradient reaches it.
          const expected = c.t[`grad_${k}`];
          const grad = p[k].grad ?? ng.zeros(expected.shape, { dtype: 'float64' });
          expectClose(grad.data(), expected.data(), 1e-9, 1e-11);
        }
      });
    }
  }

  it('a float32 critic gives a penalty gradient close to the float64 one', () => {
    const [c] = goldenCases('autograd.safetensors');
    const p = Object.fromEntries(names.map((k) => [k, c.t[k].to('float32')])) as Leaves;
    for (const k of names) p[k].requiresGrad = true;
    const [gx] = ng.autograd.grad(critic(p, 'tanh', 'relu', true).sum(), p.x, { createGraph: true });
    gx!.mul(gx!).sum(1).sqrt().sub(1).pow(2).mean().backward();
    expectClose(p.w1.grad!.data(), c.t.grad_w1.data(), 1e-3, 1e-4);
  });
});

describe('gradient penalty through modules', () => {
  it('an nn.Sequential critic (Linear, ReLU fused by Sequential, Tanh) matches the same critic written with ops', () => {
    ng.manualSeed(7);
    const model = new ng.nn.Sequential(
      new ng.nn.Linear(4, 6, { dtype: 'float64' }),
      new ng.nn.ReLU(),
      new ng.nn.Linear(6, 5, { dtype: 'float64' }),
      new ng.nn.Tanh(),
      new ng.nn.Linear(5, 1, { dtype: 'float64' }),
    );
    const x = ng.randn([3, 4], { dtype: 'float64', requiresGrad: true });
    const [gx] = ng.autograd.grad(model.forward(x).sum(), x, { createGraph: true });
    gx!.mul(gx!).sum(1).sqrt().sub(1).pow(2).mean().backward();
    const params = model.parameters();
    const viaModule = params.map((w) => (w.grad ?? ng.zeros(w.shape, { dtype: 'float64' })).data());

    const leaves = params.map((w) => {
      const c = w.detach().clone();
      c.requiresGrad = true;
      return c;
    });
    const x2 = x.detach().clone();
    x2.requiresGrad = true;
    const [w1, b1, w2, b2, w3, b3] = leaves;
    const out = ng.linear(ng.linear(ng.linear(x2, w1, b1).relu(), w2, b2).tanh(), w3, b3);
    const [g2] = ng.autograd.grad(out.sum(), x2, { createGraph: true });
    g2!.mul(g2!).sum(1).sqrt().sub(1).pow(2).mean().backward();
    leaves.forEach((w, i) =>
      expectClose(viaModule[i], (w.grad ?? ng.zeros(w.shape, { dtype: 'float64' })).data(), 1e-12, 1e-14),
    );
    expect(viaModule[0].some((v) => v !== 0)).toBe(true);
  });

  it('maxPool2d cannot be differentiated twice yet, and says so', () => {
    const x = ng.randn([1, 1, 4, 4], { dtype: 'float64', requiresGrad: true });
    const [gx] = ng.autograd.grad(ng.maxPool2d(x.tanh(), 2).sum(), x, { createGraph: true });
    let error: unknown;
    try {
      gx!.pow(2).sum().backward();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ng.NodegradError);
    expect((error as ng.NodegradError).code).toBe('ERR_NODEGRAD_AUTOGRAD');
    expect((error as ng.NodegradError).message).toMatch(/double backward not supported for maxPool2d/);
  });
});
