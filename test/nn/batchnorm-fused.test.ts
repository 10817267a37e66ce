// The fused batch-norm kernels (with and without the ReLU) and the fused residual add + ReLU:
// float64 gradchecks, the composed ops as the oracle (values, gradients, running statistics),
// native against the reference kernels with NaN-poisoned outputs, and the errors.
import { describe, expect, it, vi } from 'vitest';
import * as ng from '../../lib/index.js';
import type { BatchNormParams, FloatArray } from '../../lib/backend/types.js';
import { batchNormComposed } from '../../lib/ops/batch-norm-composed.js';
import type { BatchNormOptions } from '../../lib/ops/norm.js';
import { expectClose, expectNodegradError, randomArray, randomTensor } from '../helpers.js';

const F = ng.nn.functional;

/** Per-channel tensors [C] of a case: weight around 1, bias, running statistics (variance > 0). */
function channelTensors(C: number, dtype: 'float32' | 'float64', requiresGrad: boolean) {
  const shifted = (seed: number, by: number) =>
    ng.tensor(
      Array.from(randomArray(C, seed), (v) => v + by),
      { dtype, requiresGrad },
    );
  const runningMean = ng.tensor(Array.from(randomArray(C, 7)), { dtype });
  const runningVar = ng.tensor(
    Array.from(randomArray(C, 8), (v) => v + 1.5),
    { dtype },
  );
  return { weight: shifted(5, 1), bias: shifted(6, 0.2), runningMean, runningVar };
}

// [label, x shape, training, affine]: 2-D, 3-D and 4-D inputs, odd and size-1 dims, planes that
// exercise the kernels' 16-lane blocks and their tails.
const cases: [string, number[], boolean, boolean][] = [
  ['[N, C] training', [6, 3], true, true],
  ['[N, C, L] training, no affine', [3, 4, 5], true, false],
  ['[N, C, H, W] training', [4, 3, 5, 7], true, true],
  ['[N, C, H, W] training, plane of 1', [5, 2, 1, 1], true, true],
  ['[N, C, H, W] eval', [2, 3, 4, 5], false, true],
  ['[N, C] eval, no affine', [4, 5], false, false],
];

describe('batchNorm and batchNormRelu gradcheck (float64)', () => {
  for (const [label, shape, training, affine] of cases) {
    for (const relu of [false, true]) {
      it(`${relu ? 'batchNormRelu' : 'batchNorm'} ${label}`, () => {
        const { weight, bias, runningMean, runningVar } = channelTensors(shape[1], 'float64', true);
        const x = randomTensor(shape, 3, 'float64', true);
        const fn = (xi: ng.Tensor, w: ng.Tensor, b: ng.Tensor) => {
          const o: BatchNormOptions = { training, runningMean: runningMean.clone(), runningVar: runningVar.clone() };
          if (affine) Object.assign(o, { weight: w, bias: b });
          return relu ? F.batchNormRelu(xi, o) : F.batchNorm(xi, o);
        };
        expect(ng.gradcheck(fn, [x, weight, bias])).toBe(true);
      });
    }
  }

  it('addRelu, including operands that take the composed path (broadcasting)', () => {
    const a = randomTensor([3, 4, 5], 1, 'float64', true);
    const b = randomTensor([3, 4, 5], 2, 'float64', true);
    expect(ng.gradcheck((x, y) => F.addRelu(x, y), [a, b])).toBe(true);
    expect(ng.gradcheck((x, y) => F.addRelu(x, y), [a, randomTensor([5], 3, 'float64', true)])).toBe(true);
    expect(ng.gradcheck((x) => F.addRelu(x, x), [a])).toBe(true);
  });
});

describe('fused batch norm against the composed ops (float32)', () => {
  for (const [label, shape, training, affine] of cases) {
    for (const relu of [false, true]) {
      it(`${relu ? 'batchNormRelu' : 'batchNorm'} ${label}: output, gradients and running statistics`, () => {
        const run = (fused: boolean) => {
          const t = channelTensors(shape[1], 'float32', true);
          const x = randomTensor(shape, 9, 'float32', true);
          const o: BatchNormOptions = { training, runningMean: t.runningMean, runningVar: t.runningVar };
          if (affine) Object.assign(o, { weight: t.weight, bias: t.bias });
          const composed = () => (relu ? F.relu(batchNormComposed(x, o)) : batchNormComposed(x, o));
          const y = fused ? (relu ? F.batchNormRelu(x, o) : F.batchNorm(x, o)) : composed();
          const g = randomTensor(shape, 10, 'float32');
          const grads = ng.autograd.grad(y, affine ? [x, t.weight, t.bias] : [x], { gradOutputs: g });
          return [y, ...grads, t.runningMean, t.runningVar].map((v) => (v as ng.Tensor).data());
        };
        const [fused, composed] = [run(true), run(false)];
        fused.forEach((v, i) => {
          expectClose(v, composed[i], 1e-4, 1e-5);
        });
      });
    }
  }

  it('momentum null averages the running statistics over batchesTracked, as the layer does', () => {
    const run = (fn: typeof F.batchNorm) => {
      const t = channelTensors(3, 'float32', false);
      const x = randomTensor([4, 3, 2], 11, 'float32');
      fn(x, { runningMean: t.runningMean, runningVar: t.runningVar, momentum: null, batchesTracked: 3 });
      return [t.runningMean.data(), t.runningVar.data()];
    };
    const [fused, composed] = [run(F.batchNorm), run(batchNormComposed)];
    expectClose(fused[0], composed[0]);
    expectClose(fused[1], composed[1]);
  });

  it('a large common offset keeps the variance (shifted sums, float64 accumulators)', () => {
    const x = ng.tensor(Array.from(randomArray(4 * 2 * 300, 12, 'float32'), (v) => 1000 + v)).reshape([4, 2, 300]);
    const y = F.batchNorm(x, { training: true });
    const composed = batchNormComposed(x.to('float64'), { training: true }).to('float32');
    expectClose(y.data(), composed.data(), 1e-3, 1e-3);
  });

  it('a BatchNorm2d followed by a ReLU in a Sequential runs fused, with the values of the two layers', () => {
    const make = () => {
      ng.manualSeed(4);
      const bn = new ng.nn.BatchNorm2d(3);
      ng.nn.init.normal_(bn.weight as ng.Tensor);
      return bn;
    };
    const x = randomTensor([4, 3, 5, 5], 13, 'float32', true);
    const fusedBn = make();
    const y = new ng.nn.Sequential(fusedBn, new ng.nn.ReLU()).forward(x);
    expect(y.gradFn?.name).toBe('batchNormRelu');
    const [gx] = ng.autograd.grad(y.sum(), [x]);
    const bn = make();
    const expected = F.relu(bn.forward(x));
    const [ex] = ng.autograd.grad(expected.sum(), [x]);
    expectClose(y.data(), expected.data());
    expectClose((gx as ng.Tensor).data(), (ex as ng.Tensor).data(), 1e-4, 1e-5);
    expectClose((fusedBn.running_var as ng.Tensor).data(), (bn.running_var as ng.Tensor).data());
    expect((fusedBn.num_batches_tracked as ng.Tensor).item()).toBe(1);
  });
});

describe('batch-norm and addRelu kernels: native against the reference', () => {
  const native = ng.backend.getBackend();
  const reference = ng.backend.referenceBackend;
  const grid = (['float32', 'float64'] as const).flatMap((kind) =>
    [true, false].flatMap((training) =>
      [true, false].flatMap((relu) => [37, 3].map((plane) => [kind, training, relu, plane] as const)),
    ),
  );
  // Planes of 37 take the per-channel SIMD loops (with a tail), planes of 3 the per-sample rows.
  it.each(grid)('%s, training %s, relu %s, plane %i: NaN-poisoned outputs agree', (kind, training, relu, plane) => {
    const p: BatchNormParams = { batch: 5, channels: 7, plane, eps: 1e-5, momentum: 0.1, training, relu };
    const size = p.batch * p.channels * p.plane;
    const array = (n: number, seed: number) => randomArray(n, seed, kind);
    const poisoned = (n: number): FloatArray =>
      (kind === 'float32' ? new Float32Array(n) : new Float64Array(n)).fill(NaN);
    const [x, g, w, b] = [array(size, 1), array(size, 2), array(p.channels, 3), array(p.channels, 4)];
    const results = [native, reference].map((be) => {
      const runningMean = array(p.channels, 5);
      const runningVar = array(p.channels, 6).map((v) => v + 2);
      const [out, mean, invstd] = [poisoned(size), poisoned(p.channels), poisoned(p.channels)];
      be.batchNormForward(p, x, w, b, runningMean, runningVar, out, mean, invstd);
      const [gx, gw, gb] = [poisoned(size), poisoned(p.channels), poisoned(p.channels)];
      be.batchNormBackward(p, x, g, w, b, mean, invstd, gx, gw, gb);
      const sum = poisoned(size);
      be.addRelu(size, x, g, sum);
      return [out, mean, invstd, runningMean, runningVar, gx, gw, gb, sum];
    });
    const tol = kind === 'float32' ? 2e-5 : 1e-11;
    results[0].forEach((a, i) => {
      expectClose(a, results[1][i], tol, tol);
    });
  });

  it.skipIf(native.name !== 'native')('refuses bad buffers and parameters at the native boundary', () => {
    const p: BatchNormParams = {
      batch: 2,
      channels: 3,
      plane: 4,
      eps: 1e-5,
      momentum: 0.1,
      training: true,
      relu: false,
    };
    const x = new Float32Array(24);
    const c = new Float32Array(3);
    const refused = (fn: () => void, fragment: string) => {
      expect(fn).toThrow(expect.objectContaining({ code: 'ERR_NODEGRAD_NATIVE' }) as Error);
      expect(fn).toThrow(fragment);
    };
    refused(() => native.batchNormForward(p, new Float32Array(10), null, null, null, null, x, c, c), 'x');
    refused(() => native.batchNormForward(p, x, new Float32Array(2), null, null, null, x, c, c), 'weight');
    refused(() => native.batchNormForward(p, x, null, null, null, null, x, c, new Float64Array(3)), 'saveInvstd');
    refused(() => native.batchNormForward({ ...p, momentum: 2 }, x, null, null, null, null, x, c, c), 'momentum');
    refused(() => native.batchNormForward({ ...p, training: false }, x, null, null, null, null, x, c, c), 'running');
    refused(() => native.batchNormBackward(p, x, x, null, null, c, c, new Float32Array(5), null, null), 'gradInput');
    refused(() => native.addRelu(24, x, new Float32Array(23), x), 'b');
  });
});

describe('batch-norm errors', () => {
  it('names the op, the shapes and what was expected', () => {
    const x = ng.zeros([4, 3, 2]);
    expectNodegradError(
      () => F.batchNormRelu(x, { weight: ng.ones([4]) }),
      'ERR_NODEGRAD_SHAPE',
      'batchNormRelu',
      '[3]',
    );
    expectNodegradError(() => F.batchNorm(ng.zeros([3])), 'ERR_NODEGRAD_SHAPE', 'batchNorm', '[N, C, ...]');
    expectNodegradError(() => F.batchNormRelu(x, { training: false }), 'ERR_NODEGRAD_ARGUMENT', 'runningMean');
    expectNodegradError(() => F.batchNorm(ng.zeros([1, 3])), 'ERR_NODEGRAD_SHAPE', 'more than 1 value per channel');
  });
});

describe('eval batch norm folded into the convolution before it (no grad)', () => {
  /** Conv2d → BatchNorm2d → ReLU in eval mode with non-trivial running statistics. */
  function block() {
    ng.manualSeed(21);
    const conv = new ng.nn.Conv2d(3, 4, 3, { padding: 1 });
    const bn = new ng.nn.BatchNorm2d(4);
    const t = channelTensors(4, 'float32', false);
    ng.noGrad(() => {
      (bn.weight as ng.Tensor).copy_(t.weight);
      (bn.bias as ng.Tensor).copy_(t.bias);
      (bn.running_mean as ng.Tensor).copy_(t.runningMean);
      (bn.running_var as ng.Tensor).copy_(t.runningVar);
    });
    return { conv, bn, model: new ng.nn.Sequential(conv, bn, new ng.nn.ReLU()).eval() };
  }
  const x = randomTensor([2, 3, 6, 5], 22, 'float32');
  // With grad recorded nothing folds: the layers run one by one.
  const unfolded = (m: ng.nn.Module) => m.forward(x).detach().data();

  it('gives the layers’ values without calling the batch norm, and follows in-place writes and replacements', () => {
    const { conv, bn, model } = block();
    // BatchNorm2d's forward lives on the layers' shared base class.
    const base = Object.getPrototypeOf(ng.nn.BatchNorm2d.prototype) as ng.nn.BatchNorm2d;
    const spy = vi.spyOn(base, 'forwardRelu');
    const forward = vi.spyOn(base, 'forward');
    try {
      const y = ng.noGrad(() => model.forward(x));
      expect(spy).not.toHaveBeenCalled();
      expect(forward).not.toHaveBeenCalled();
      expectClose(y.data(), unfolded(model), 1e-5, 1e-5);
      expect(spy).toHaveBeenCalledTimes(1);
      // An in-place write to a running statistic, a conv weight written by an optimizer-like step and a
      // replaced bias each change the output; the cached folded weights must follow.
      ng.noGrad(() => (bn.running_mean as ng.Tensor).add_(0.5));
      expectClose(ng.noGrad(() => model.forward(x)).data(), unfolded(model), 1e-5, 1e-5);
      ng.noGrad(() => conv.weight.mul_(0.5));
      expectClose(ng.noGrad(() => model.forward(x)).data(), unfolded(model), 1e-5, 1e-5);
      bn.bias = new ng.nn.Parameter(ng.full([4], -0.3));
      expectClose(ng.noGrad(() => model.forward(x)).data(), unfolded(model), 1e-5, 1e-5);
    } finally {
      spy.mockRestore();
      forward.mockRestore();
    }
  });

  it('leaves training mode and hooked batch norms alone', () => {
    const { bn, model } = block();
    const calls: number[] = [];
    const handle = bn.registerForwardHook(() => {
      calls.push(1);
    });
    ng.noGrad(() => model.forward(x));
    expect(calls).toHaveLength(1);
    handle.remove();
    model.train();
    const before = (bn.running_mean as ng.Tensor).data().slice();
    ng.noGrad(() => model.forward(x));
    expect(Array.from((bn.running_mean as ng.Tensor).data())).not.toEqual(Array.from(before));
  });

  it('ResNet-18 in inference mode equals its layer-by-layer forward', () => {
    ng.manualSeed(23);
    const model = ng.models.resnet18({ numClasses: 10 });
    ng.noGrad(() => {
      for (const m of model.modules()) {
        if (m instanceof ng.nn.BatchNorm2d) {
          (m.running_mean as ng.Tensor).copy_(ng.randn([m.numFeatures]).mul(0.1));
          (m.running_var as ng.Tensor).copy_(ng.rand([m.numFeatures]).add(0.5));
        }
      }
    });
    model.eval();
    const input = randomTensor([2, 3, 32, 32], 24, 'float32');
    const folded = ng.inferenceMode(() => model.forward(input)).data();
    expectClose(folded, model.forward(input).detach().data(), 1e-4, 1e-4);
  });
});

describe('batch norm outside the fused kernels’ range', () => {
  it('runs composed for int32 inputs, mixed dtypes and a momentum above 1, with the same results', () => {
    const x = randomTensor([4, 3, 2], 31, 'float32');
    const running = () => ({ runningMean: ng.zeros([3]), runningVar: ng.ones([3]) });
    const [a, b] = [running(), running()];
    F.batchNorm(x, { ...a, momentum: 1.5 });
    batchNormComposed(x, { ...b, momentum: 1.5 });
    expectClose(a.runningVar.data(), b.runningVar.data());
    const w64 = ng.ones([3], { dtype: 'float64' });
    expectClose(F.batchNorm(x, { weight: w64 }).data(), batchNormComposed(x, { weight: w64 }).data());
    const xi = ng.tensor([1, 2, 3, 4, 5, 6], { dtype: 'int32' }).reshape([3, 2]);
    expectClose(F.batchNormRelu(xi).data(), F.relu(batchNormComposed(xi)).data());
  });
});
