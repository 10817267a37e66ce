import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { goldenCases } from '../fixtures.js';
import { expectClose } from '../helpers.js';

const names = ['x', 'w1', 'b1', 'w2', 'b2', 'w3', 'b3'] as const;
type Leaves = Record<(typeof names)[number], ng.Tensor>;

function layer(h: ng.Tensor, w: ng.Tensor, b: ng.Tensor, act: string, fused: boolean): ng.Tensor {
  if (act === 'relu' && fused) return ng.linear(h, w, b, { activation: 'relu' });
  const y = ng.linear(h, w, b);
  return act === 'tanh' ? y.tanh() : act === 'sigmoid' ? y.sigmoid() : y.relu();
}

function critic(p: Leaves, act1: string, act2: string, fused: boolean): ng.Tensor {
  const h = layer(layer(p.x, p.w1, p.b1, act1, fused), p.w2, p.b2, act2, fused);
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
        const { act1, act2 } = c.options as { act1: string; act2: string };
        const out = critic(p, act1, act2, fused);
        expectClose(out.data(), c.t.out.data(), 1e-10, 1e-12);
        const [gx] = ng.autograd.grad(out.sum(), p.x, { createGraph: true });
        expectClose(gx!.data(), c.t.gx.data(), 1e-10, 1e-12);
        const penalty = gx!.mul(gx!).sum(1).sqrt().sub(1).pow(2).mean();
        expectClose([penalty.item()], c.t.penalty.data(), 1e-10, 1e-12);
        penalty.backward();
        for (const k of names) {
          const expected = c.t[`grad_${k}`];
          if (!expected) {
            expect(p[k].grad, k).toBeNull();
            continue;
          }
          // A bias reached only through ReLU's 0/1 mask: PyTorch materializes zeros, nodegrad's
          // mask is a constant of the recorded graph, so no gradient reaches it.
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
