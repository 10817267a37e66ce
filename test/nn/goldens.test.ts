// Every layer and loss against PyTorch: outputs and input/parameter gradients of sum(out * gout),
// in float64 (tight) and float32 (rtol 1e-4, atol 1e-5), from tools/golden/make_goldens.py.
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { expectClose, flat } from '../helpers.js';
import { goldenCases, type GoldenCase } from '../fixtures.js';

const F = ng.nn.functional;
type Forward = (c: GoldenCase, leaf: (key: string) => ng.Tensor, plain: (key: string) => ng.Tensor) => ng.Tensor;

const layerForward: Record<string, Forward> = {
  linear: (c, leaf) => F.linear(leaf('x'), leaf('weight'), 'bias' in c.t ? leaf('bias') : null),
  conv2d: (c, leaf) => F.conv2d(leaf('x'), leaf('weight'), leaf('bias'), c.options),
  maxPool2d: (c, leaf) => {
    const { kernelSize, ...o } = c.options;
    return F.maxPool2d(leaf('x'), kernelSize as number, o);
  },
  avgPool2d: (c, leaf) => {
    const { kernelSize, ...o } = c.options;
    return F.avgPool2d(leaf('x'), kernelSize as number, o);
  },
  adaptiveAvgPool2d: (c, leaf) => F.adaptiveAvgPool2d(leaf('x'), c.options.outputSize as [number, number]),
  relu: (_c, leaf) => F.relu(leaf('x')),
  sigmoid: (_c, leaf) => F.sigmoid(leaf('x')),
  tanh: (_c, leaf) => F.tanh(leaf('x')),
  softmax: (c, leaf) => F.softmax(leaf('x'), c.options.dim as number),
  logSoftmax: (c, leaf) => F.logSoftmax(leaf('x'), c.options.dim as number),
  flatten: (_c, leaf) => new ng.nn.Flatten().forward(leaf('x')),
};

const lossForward: Record<string, Forward> = {
  crossEntropy: (c, leaf, plain) =>
    F.crossEntropy(leaf('x'), plain('target'), { ...c.options, weight: 'weight' in c.t ? plain('weight') : null }),
  nllLoss: (c, leaf, plain) => F.nllLoss(leaf('x'), plain('target'), { ...c.options, weight: plain('weight') }),
  mseLoss: (c, leaf, plain) => F.mseLoss(leaf('x'), plain('target'), c.options),
  l1Loss: (c, leaf, plain) => F.l1Loss(leaf('x'), plain('target'), c.options),
  bceLoss: (c, leaf, plain) =>
    F.bceLoss(leaf('x'), plain('target'), { ...c.options, weight: 'weight' in c.t ? plain('weight') : null }),
  bceWithLogits: (c, leaf, plain) =>
    F.bceWithLogits(leaf('x'), plain('target'), {
      ...c.options,
      posWeight: 'posWeight' in c.t ? plain('posWeight') : null,
    }),
  klDiv: (c, leaf, plain) => F.klDiv(leaf('x'), plain('target'), c.options),
};

const GRAD_KEYS = ['x', 'weight', 'bias'];

function check(c: GoldenCase, forward: Forward, dtype: 'float32' | 'float64', learnable: string[]): void {
  const [rtol, atol] = dtype === 'float64' ? [1e-9, 1e-10] : [1e-4, 1e-5];
  const leaves = new Map<string, ng.Tensor>();
  const cast = (t: ng.Tensor) => (t.dtype === 'int32' ? t : t.to(dtype));
  const leaf = (key: string) => {
    if (!leaves.has(key)) {
      const t = cast(c.t[key]).detach().clone();
      t.requiresGrad = learnable.includes(key);
      leaves.set(key, t);
    }
    return leaves.get(key)!;
  };
  const plain = (key: string) => cast(c.t[key]);
  const out = forward(c, leaf, plain);
  expect(out.shape).toEqual(c.t.out.shape);
  expectClose(flat(out), flat(c.t.out), rtol, atol);
  if (c.options.forwardOnly) return;
  out.backward(cast(c.t.gout));
  for (const key of learnable) {
    if (!(`grad_${key}` in c.t)) continue;
    expectClose(flat(leaves.get(key)!.grad!), flat(c.t[`grad_${key}`]), rtol, atol);
  }
}

describe.each(['float64', 'float32'] as const)('layers match PyTorch (%s)', (dtype) => {
  const cases = goldenCases('layers.safetensors').filter((c) => c.kind !== 'batchNorm');
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    check(c, layerForward[c.kind], dtype, GRAD_KEYS);
  });

  it.each(
    goldenCases('layers.safetensors')
      .filter((c) => c.kind === 'batchNorm')
      .map((c) => [c.name, c] as const),
  )('%s: training forward, running statistics, gradients, eval forward', (_name, c) => {
    const [rtol, atol] = dtype === 'float64' ? [1e-9, 1e-10] : [1e-4, 1e-5];
    const Layer = c.options.dims === 4 ? ng.nn.BatchNorm2d : ng.nn.BatchNorm1d;
    const bn = new Layer(3, { momentum: c.options.momentum as number | null, dtype });
    bn.loadStateDict({ weight: c.t.weight, bias: c.t.bias }, { strict: false });
    const x = c.t.x.to(dtype).detach().clone();
    x.requiresGrad = true;
    const out = bn.forward(x);
    const out2 = bn.forward(x.mul(2).add(1));
    expectClose(flat(out), flat(c.t.out), rtol, atol);
    expectClose(flat(out2), flat(c.t.out2), rtol, atol);
    out.backward(c.t.gout.to(dtype));
    expectClose(flat(x.grad!), flat(c.t.grad_x), rtol, atol);
    expectClose(flat(bn.weight!.grad!), flat(c.t.grad_weight), rtol, atol);
    expectClose(flat(bn.bias!.grad!), flat(c.t.grad_bias), rtol, atol);
    expectClose(flat(bn.running_mean!), flat(c.t.running_mean), rtol, atol);
    expectClose(flat(bn.running_var!), flat(c.t.running_var), rtol, atol);
    expect(bn.num_batches_tracked!.item()).toBe(2);
    bn.eval();
    expectClose(flat(bn.forward(c.t.x_eval.to(dtype))), flat(c.t.out_eval), rtol, atol);
    // The same two training steps without grad take the fused path (y = x·a + c).
    const fast = new Layer(3, { momentum: c.options.momentum as number | null, dtype });
    fast.loadStateDict({ weight: c.t.weight, bias: c.t.bias }, { strict: false });
    ng.noGrad(() => {
      expectClose(flat(fast.forward(c.t.x.to(dtype))), flat(c.t.out), rtol, atol);
      expectClose(flat(fast.forward(c.t.x.to(dtype).mul(2).add(1))), flat(c.t.out2), rtol, atol);
    });
    expectClose(flat(fast.running_mean!), flat(c.t.running_mean), rtol, atol);
    expectClose(flat(fast.running_var!), flat(c.t.running_var), rtol, atol);
    fast.eval();
    expectClose(flat(ng.noGrad(() => fast.forward(c.t.x_eval.to(dtype)))), flat(c.t.out_eval), rtol, atol);
  });
});

describe.each(['float64', 'float32'] as const)('tensor methods softmax and logSoftmax match PyTorch (%s)', (dtype) => {
  const methods: Record<string, Forward> = {
    softmax: (c, leaf) => leaf('x').softmax(c.options.dim as number),
    logSoftmax: (c, leaf) => leaf('x').logSoftmax(c.options.dim as number),
  };
  const cases = goldenCases('layers.safetensors').filter((c) => c.kind in methods);
  it('has cases for both', () => expect(new Set(cases.map((c) => c.kind)).size).toBe(2));
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    check(c, methods[c.kind], dtype, GRAD_KEYS);
  });
});

describe.each(['float64', 'float32'] as const)('losses match PyTorch (%s)', (dtype) => {
  // bce_clamped_log's inputs 1e-50 and 1 − 1e-12 round to 0 and 1 in float32: float64 only.
  const cases = goldenCases('losses.safetensors').filter((c) => dtype === 'float64' || c.name !== 'bce_clamped_log');
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    check(c, lossForward[c.kind], dtype, ['x']);
  });
});
