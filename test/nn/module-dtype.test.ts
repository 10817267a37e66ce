import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { expectClose, expectNodegradError, flat } from '../helpers.js';

const { nn } = ng;

class Net extends nn.Module {
  fc1 = new nn.Linear(3, 4);
  bn = new nn.BatchNorm1d(4);
  fc2 = new nn.Linear(4, 2);
  declare scratch: ng.Tensor;

  constructor() {
    super();
    this.registerBuffer('scratch', ng.ones([2]), { persistent: false });
  }

  forward(x: ng.Tensor): ng.Tensor {
    return this.fc2.forward(this.bn.forward(this.fc1.forward(x)).tanh());
  }
}

/** The same network computed with float64 tensors built from the parameters' values. */
function reference(net: Net, x: ng.Tensor): ng.Tensor {
  const f64 = (t: ng.Tensor) => ng.tensor(Array.from(t.data()), { shape: [...t.shape], dtype: 'float64' });
  const h = ng.linear(x, f64(net.fc1.weight), f64(net.fc1.bias!));
  const mean = h.mean(0);
  const centered = h.sub(mean);
  const variance = centered.mul(centered).mean(0);
  const normed = centered.div(variance.add(1e-5).sqrt()).mul(f64(net.bn.weight!)).add(f64(net.bn.bias!));
  return ng.linear(normed.tanh(), f64(net.fc2.weight), f64(net.fc2.bias!));
}

describe('Module.to / double / float', () => {
  it('double() converts parameters in place (same objects), gradients and floating-point buffers', () => {
    ng.manualSeed(4);
    const net = new Net();
    const params = net.parameters();
    const before = params.map((p) => flat(p));
    net
      .forward(ng.randn([5, 3]))
      .sum()
      .backward();
    const grads = params.map((p) => flat(p.grad!));
    expect(net.double()).toBe(net);
    expect(net.parameters()).toEqual(params);
    net.parameters().forEach((p, i) => {
      expect(p).toBe(params[i]);
      expect(p.dtype).toBe('float64');
      expect(p.requiresGrad).toBe(true);
      expect(flat(p)).toEqual(before[i]);
      expect(p.grad!.dtype).toBe('float64');
      expect(flat(p.grad!)).toEqual(grads[i]);
    });
    expect(net.bn.running_mean!.dtype).toBe('float64');
    expect(net.bn.running_var!.dtype).toBe('float64');
    expect(net.bn.num_batches_tracked!.dtype).toBe('int32');
    expect(net.scratch.dtype).toBe('float64');
    expect(Object.keys(net.stateDict())).not.toContain('scratch');
    expect([...net.namedBuffers()].map(([n]) => n)).toContain('scratch');
    net.float();
    expect(net.parameters().every((p) => p.dtype === 'float32')).toBe(true);
    expect(net.scratch.dtype).toBe('float32');
    expect(net.parameters()[0]).toBe(params[0]);
  });

  it('after double(), forward matches a float64 reference, and gradcheck passes through the model', () => {
    ng.manualSeed(7);
    const net = new Net();
    const x = ng.randn([6, 3], { dtype: 'float64' });
    const y32 = flat(net.forward(x.to('float32')));
    net.double();
    const y = net.forward(x);
    expect(y.dtype).toBe('float64');
    expectClose(flat(y), flat(reference(net, x)), 1e-12, 1e-14);
    expect(flat(y).some((v, i) => v !== y32[i])).toBe(true);
    x.requiresGrad = true;
    // gradcheck perturbs the parameters in place, so the model sees each perturbation.
    expect(ng.gradcheck((input) => net.forward(input), [x, ...net.parameters()])).toBe(true);
  });

  it('an optimizer built before double() holds the converted parameters and updates them', () => {
    ng.manualSeed(8);
    const net = new Net();
    const opt = new ng.optim.SGD(net.parameters(), { lr: 0.5 });
    net.double();
    net
      .forward(ng.randn([4, 3], { dtype: 'float64' }))
      .sum()
      .backward();
    const expected = net.parameters().map((p) => flat(p).map((v, i) => v - 0.5 * flat(p.grad!)[i]));
    opt.step();
    net.parameters().forEach((p, i) => {
      expect(p.dtype).toBe('float64');
      expect(flat(p)).toEqual(expected[i]);
    });
  });

  it('loadStateDict into a float64 model converts float32 values', () => {
    const a = new Net();
    const b = new Net().to({ dtype: 'float64' });
    b.loadStateDict(a.stateDict());
    expect(b.fc1.weight.dtype).toBe('float64');
    expect(flat(b.fc1.weight)).toEqual(flat(a.fc1.weight));
  });

  it("to('cpu') changes nothing; float16, int32, unknown dtypes and other devices are refused", () => {
    const net = new Net();
    const weight = net.fc1.weight;
    const storage = weight.storage;
    expect(net.to('cpu').to({ device: 'cpu' })).toBe(net);
    expect(weight.storage).toBe(storage);
    expect(net.to('float32').fc1.weight.storage).toBe(storage);
    expectNodegradError(() => net.half(), 'ERR_NODEGRAD_DTYPE', 'Module.half', "'float16'", "'float32' or 'float64'");
    expectNodegradError(
      () => net.to('float16' as 'float32'),
      'ERR_NODEGRAD_DTYPE',
      'Module.to',
      "'float16'",
      "'float32' or 'float64'",
    );
    expectNodegradError(() => net.to({ dtype: 'int32' as 'float32' }), 'ERR_NODEGRAD_DTYPE', 'Module.to', "'int32'");
    expectNodegradError(() => net.to('bfloat' as 'float32'), 'ERR_NODEGRAD_DTYPE', 'Module.to', "'bfloat'");
    expectNodegradError(
      () => net.to('cuda' as 'cpu'),
      'ERR_NODEGRAD_ARGUMENT',
      'Module.to',
      "device 'cuda'",
      "'cpu' only",
      'CUDA',
    );
    expectNodegradError(
      () => net.to({ device: 'cuda:1' as 'cpu', dtype: 'float64' }),
      'ERR_NODEGRAD_ARGUMENT',
      "device 'cuda:1'",
    );
    expect(net.fc1.weight.dtype).toBe('float32');
    const check = (): void => {
      // @ts-expect-error float16 is not a module dtype
      net.to('float16');
      // @ts-expect-error there is no CUDA device
      net.to('cuda');
    };
    expect(check).toBeTypeOf('function');
  });
});
