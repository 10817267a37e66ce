import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { expectClose, expectNodegradError, flat } from '../helpers.js';

const { nn } = ng;

class Block extends nn.Module {
  conv1 = new nn.Conv2d(3, 4, 3, { padding: 1, bias: false });
  bn1 = new nn.BatchNorm2d(4);
  relu = new nn.ReLU();

  forward(x: ng.Tensor): ng.Tensor {
    return this.relu.forward(this.bn1.forward(this.conv1.forward(x)));
  }
}

class Net extends nn.Module {
  layer1 = new nn.Sequential(new Block(), new nn.Dropout(0.5));
  head = new nn.Linear(4, 2);

  forward(x: ng.Tensor): ng.Tensor {
    const h = this.layer1.forward(x).mean([2, 3]);
    return this.head.forward(h);
  }
}

describe('Module', () => {
  it('registers parameters and children on assignment, with PyTorch dotted names', () => {
    const net = new Net();
    expect([...net.namedParameters()].map(([n]) => n)).toEqual([
      'layer1.0.conv1.weight',
      'layer1.0.bn1.weight',
      'layer1.0.bn1.bias',
      'head.weight',
      'head.bias',
    ]);
    expect(Object.keys(net.stateDict())).toEqual([
      'layer1.0.conv1.weight',
      'layer1.0.bn1.weight',
      'layer1.0.bn1.bias',
      'layer1.0.bn1.running_mean',
      'layer1.0.bn1.running_var',
      'layer1.0.bn1.num_batches_tracked',
      'head.weight',
      'head.bias',
    ]);
    expect([...net.namedBuffers()].map(([n]) => n)).toEqual([
      'layer1.0.bn1.running_mean',
      'layer1.0.bn1.running_var',
      'layer1.0.bn1.num_batches_tracked',
    ]);
    expect(net.parameters().every((p) => p.requiresGrad)).toBe(true);
    expect([...net.children()]).toHaveLength(2);
    expect([...net.modules()]).toHaveLength(8);
  });

  it('train() and eval() recurse; Dropout is the identity in eval mode', () => {
    const net = new Net();
    net.eval();
    expect([...net.modules()].every((m) => !m.training)).toBe(true);
    const drop = new nn.Dropout(0.5).eval();
    const x = ng.randn([10]);
    expect(drop.forward(x)).toBe(x);
    net.train();
    expect([...net.modules()].every((m) => m.training)).toBe(true);
  });

  it('Dropout is seeded, inverted, and zeroes about p of the elements', () => {
    const drop = new nn.Dropout(0.25);
    ng.manualSeed(5);
    const a = flat(drop.forward(ng.ones([4000])));
    ng.manualSeed(5);
    expect(flat(drop.forward(ng.ones([4000])))).toEqual(a);
    const zeros = a.filter((v) => v === 0).length / a.length;
    expect(Math.abs(zeros - 0.25)).toBeLessThan(0.03);
    expect(new Set(a.filter((v) => v !== 0)).size).toBe(1);
    expect(a.find((v) => v !== 0)).toBeCloseTo(1 / 0.75, 6);
  });

  it('zeroGrad drops gradients; apply visits every module, children first', () => {
    const net = new Net();
    net
      .forward(ng.randn([2, 3, 5, 5]))
      .sum()
      .backward();
    expect(net.parameters().every((p) => p.grad !== null)).toBe(true);
    net.zeroGrad();
    expect(net.parameters().every((p) => p.grad === null)).toBe(true);
    const visited: string[] = [];
    net.apply((m) => visited.push(m.typeName));
    expect(visited.at(-1)).toBe('Net');
    expect(visited.indexOf('Conv2d')).toBeLessThan(visited.indexOf('Block'));
  });

  it('stateDict round-trips through loadStateDict', () => {
    const a = new Net();
    const b = new Net();
    b.loadStateDict(a.stateDict());
    for (const [name, t] of Object.entries(a.stateDict())) expect(flat(b.stateDict()[name])).toEqual(flat(t));
  });

  it('loadStateDict reports missing and unexpected keys, and refuses wrong shapes by name', () => {
    const net = new Net();
    const sd = { ...net.stateDict() };
    delete sd['head.bias'];
    sd['head.extra'] = ng.zeros([1]);
    expectNodegradError(
      () => net.loadStateDict(sd),
      'ERR_NODEGRAD_ARGUMENT',
      'missing keys: head.bias',
      'unexpected keys: head.extra',
    );
    expect(net.loadStateDict(sd, { strict: false })).toEqual({
      missingKeys: ['head.bias'],
      unexpectedKeys: ['head.extra'],
    });
    expectNodegradError(
      () => net.loadStateDict({ ...net.stateDict(), 'head.weight': ng.zeros([3, 4]) }),
      'ERR_NODEGRAD_ARGUMENT',
      'size mismatch for head.weight',
      'expected [2, 4], got [3, 4]',
    );
  });

  it('toString prints the module tree like PyTorch', () => {
    const seq = new nn.Sequential(
      new nn.Linear(784, 256),
      new nn.ReLU(),
      new nn.Conv2d(3, 8, 3, { stride: 2, padding: 1 }),
    );
    expect(seq.toString()).toBe(
      [
        'Sequential(',
        '  (0): Linear(in_features=784, out_features=256, bias=True)',
        '  (1): ReLU()',
        '  (2): Conv2d(3, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))',
        ')',
      ].join('\n'),
    );
    expect(new nn.BatchNorm2d(4).toString()).toBe(
      'BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)',
    );
  });

  it('ReLU({ inplace: true }) overwrites its input and gives the same gradients', () => {
    const x = ng.randn([3, 4], { requiresGrad: true });
    const h = x.mul(2);
    const y = new nn.ReLU({ inplace: true }).forward(h);
    expect(y).toBe(h);
    y.sum().backward();
    const expected = flat(x.detach()).map((v) => (v > 0 ? 2 : 0));
    expect(flat(x.grad!)).toEqual(expected);
  });

  it('default initialization is U(±1/√fan_in) for Linear and Conv2d', () => {
    const lin = new nn.Linear(100, 50);
    const conv = new nn.Conv2d(8, 4, 3);
    for (const [t, fanIn] of [
      [lin.weight, 100],
      [lin.bias!, 100],
      [conv.weight, 72],
      [conv.bias!, 72],
    ] as const) {
      const v = flat(t);
      expect(Math.max(...v.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(fanIn));
      expect(Math.max(...v.map(Math.abs))).toBeGreaterThan(0.8 / Math.sqrt(fanIn));
    }
  });
});

describe('layer and loss bad input', () => {
  it('names the layer, what it expected and what it got', () => {
    expectNodegradError(
      () => new nn.Conv2d(3, 8, 3).forward(ng.zeros([8, 1, 28, 28])),
      'ERR_NODEGRAD_SHAPE',
      'conv2d: expected input of shape [N, C, H, W] with C = 3, got [8, 1, 28, 28]',
    );
    expectNodegradError(
      () => new nn.Linear(4, 2).forward(ng.zeros([3, 5])),
      'ERR_NODEGRAD_SHAPE',
      'linear',
      '[..., 4]',
      '[3, 5]',
    );
    expectNodegradError(
      () => new nn.BatchNorm2d(3).forward(ng.zeros([2, 3, 4])),
      'ERR_NODEGRAD_SHAPE',
      'BatchNorm2d',
      '4-D',
      '[2, 3, 4]',
    );
    expectNodegradError(
      () => new nn.BatchNorm1d(3).forward(ng.zeros([2, 4])),
      'ERR_NODEGRAD_SHAPE',
      'BatchNorm1d',
      '3 channels',
      '[2, 4]',
    );
    expectNodegradError(
      () => new nn.MaxPool2d(3).forward(ng.zeros([1, 1, 2, 2])),
      'ERR_NODEGRAD_SHAPE',
      'maxPool2d',
      'too small',
    );
    expectNodegradError(() => new nn.Dropout(1.5), 'ERR_NODEGRAD_ARGUMENT', 'Dropout', '[0, 1]', '1.5');
  });

  it('losses refuse out-of-range classes, mismatched targets and non-probabilities', () => {
    const logits = ng.zeros([2, 3]);
    expectNodegradError(
      () => new nn.CrossEntropyLoss().forward(logits, ng.tensor([0, 3], { dtype: 'int32' })),
      'ERR_NODEGRAD_ARGUMENT',
      'crossEntropy',
      'target 3',
      '3 classes',
    );
    expectNodegradError(
      () => new nn.CrossEntropyLoss().forward(logits, ng.tensor([0, 1, 2], { dtype: 'int32' })),
      'ERR_NODEGRAD_SHAPE',
      'crossEntropy',
      'target of shape [2]',
      'got [3]',
    );
    expectNodegradError(
      () => new nn.NLLLoss().forward(logits, ng.tensor([5, 0], { dtype: 'int32' })),
      'ERR_NODEGRAD_ARGUMENT',
      'nllLoss',
      'target 5',
    );
    expectNodegradError(
      () => new nn.MSELoss().forward(logits, ng.zeros([3, 2])),
      'ERR_NODEGRAD_SHAPE',
      'mseLoss',
      '[3, 2]',
      '[2, 3]',
    );
    expectNodegradError(
      () => new nn.BCELoss().forward(ng.tensor([0.5, 1.2]), ng.tensor([1, 0])),
      'ERR_NODEGRAD_ARGUMENT',
      'bceLoss',
      '[0, 1]',
      '1.2',
    );
    expectNodegradError(
      () =>
        new nn.CrossEntropyLoss({ reduction: 'avg' as 'mean' }).forward(logits, ng.tensor([0, 1], { dtype: 'int32' })),
      'ERR_NODEGRAD_ARGUMENT',
      'crossEntropy',
      "reduction must be 'mean', 'sum' or 'none'",
    );
  });
});

describe('Sequential fuses a Conv2d or Linear with the ReLU after it', () => {
  const build = () => {
    ng.manualSeed(3);
    return new nn.Sequential(
      new nn.Conv2d(2, 3, 3, { padding: 1 }),
      new nn.ReLU(),
      new nn.Flatten(),
      new nn.Linear(3 * 5 * 5, 4),
      new nn.ReLU({ inplace: true }),
      new nn.Linear(4, 2),
    );
  };

  it('gives the values and gradients of the layers run one by one, through one fused op per pair', () => {
    const x = ng.randn([2, 2, 5, 5]).sub(0.2);
    const fused = build();
    const yFused = fused.forward(x);
    expect(yFused.gradFn?.inputs[0].gradFn?.name).toBe('linear+relu');
    yFused.mul(yFused).sum().backward();
    const separate = build();
    let h = x;
    for (const m of separate.children()) h = m.forward(h);
    expect(h.gradFn?.inputs[0].gradFn?.name).not.toBe('linear+relu');
    h.mul(h).sum().backward();
    expect(flat(yFused)).toEqual(flat(h));
    const a = [...fused.parameters()];
    const b = [...separate.parameters()];
    a.forEach((p, i) => expectClose(flat(p.grad!), flat(b[i].grad!), 1e-6, 1e-7));
  });

  it('leaves a subclass that overrides forward, or a replaced forward, unfused', () => {
    class Shifted extends nn.Conv2d {
      override forward(x: ng.Tensor): ng.Tensor {
        return super.forward(x).add(-10);
      }
    }
    ng.manualSeed(3);
    const seq = new nn.Sequential(new Shifted(1, 1, 1), new nn.ReLU());
    const x = ng.ones([1, 1, 2, 2]);
    expect(Array.from(seq.forward(x).data())).toEqual([0, 0, 0, 0]);
    const lin = new nn.Linear(2, 2);
    lin.forward = (t: ng.Tensor) => ng.linear(t, lin.weight, lin.bias).sub(100);
    expect(Array.from(new nn.Sequential(lin, new nn.ReLU()).forward(ng.ones([1, 2])).data())).toEqual([0, 0]);
  });
});

describe('Module buffers and member walks', () => {
  class WithBuffers extends nn.Module {
    lin = new nn.Linear(2, 2);
    declare steps: ng.Tensor;
    declare mask: ng.Tensor | null;

    constructor() {
      super();
      this.registerBuffer('steps', ng.zeros([1]));
      this.registerBuffer('mask', ng.ones([2]), { persistent: false });
    }

    forward(x: ng.Tensor): ng.Tensor {
      return this.lin.forward(x).mul(this.mask!);
    }
  }

  it('non-persistent buffers stay out of the state dict but are listed and can be reassigned', () => {
    const m = new WithBuffers();
    expect(Object.keys(m.stateDict())).toEqual(['steps', 'lin.weight', 'lin.bias']);
    expect([...m.namedBuffers()].map(([n]) => n)).toEqual(['steps', 'mask']);
    expect(m.buffers()).toHaveLength(2);
    m.loadStateDict(new WithBuffers().stateDict());
    m.registerBuffer('mask', ng.zeros([2]), { persistent: true });
    expect(Object.keys(m.stateDict())).toContain('mask');
    m.mask = null;
    expect([...m.namedBuffers()].map(([n]) => n)).toEqual(['steps']);
  });

  it('registerBuffer, registerParameter and registerModule refuse bad names, taken attributes and wrong types', () => {
    const m = new WithBuffers();
    expectNodegradError(() => m.registerBuffer('a.b', null), 'ERR_NODEGRAD_ARGUMENT', 'registerBuffer', "'a.b'");
    expectNodegradError(() => m.registerBuffer('', null), 'ERR_NODEGRAD_ARGUMENT', 'registerBuffer');
    expectNodegradError(
      () => m.registerBuffer('lin', null),
      'ERR_NODEGRAD_ARGUMENT',
      'registerBuffer',
      "attribute 'lin' already exists",
    );
    expectNodegradError(
      () => m.registerBuffer('x', [1] as unknown as ng.Tensor),
      'ERR_NODEGRAD_ARGUMENT',
      "buffer 'x' must be a Tensor",
    );
    expectNodegradError(
      () => m.registerParameter('steps', null),
      'ERR_NODEGRAD_ARGUMENT',
      'registerParameter',
      "'steps' already exists",
    );
    expectNodegradError(
      // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- a plain Tensor is the case
      () => m.registerParameter('w', ng.ones([1])),
      'ERR_NODEGRAD_ARGUMENT',
      'must be a Parameter',
    );
    expectNodegradError(
      () => m.registerModule('forward', new nn.ReLU()),
      'ERR_NODEGRAD_ARGUMENT',
      'registerModule',
      "'forward'",
    );
    m.registerParameter('scale', new nn.Parameter(ng.ones([1])));
    m.addModule('head', new nn.Linear(2, 1));
    expect(Object.keys(m.stateDict())).toEqual([
      'scale',
      'steps',
      'lin.weight',
      'lin.bias',
      'head.weight',
      'head.bias',
    ]);
  });

  it('namedParameters and namedBuffers take a prefix and recurse: false; shared members appear once', () => {
    const shared = new nn.Linear(2, 2);
    class Tied extends nn.Module {
      scale = new nn.Parameter(ng.ones([1]));
      a = shared;
      b = shared;
      inner = new WithBuffers();

      forward(x: ng.Tensor): ng.Tensor {
        return this.b.forward(this.a.forward(x)).mul(this.scale);
      }
    }
    const t = new Tied();
    expect([...t.namedParameters({ prefix: 'model' })].map(([n]) => n)).toEqual([
      'model.scale',
      'model.a.weight',
      'model.a.bias',
      'model.inner.lin.weight',
      'model.inner.lin.bias',
    ]);
    expect([...t.namedParameters({ recurse: false })].map(([n]) => n)).toEqual(['scale']);
    expect(t.parameters({ recurse: false })).toHaveLength(1);
    expect([...t.namedBuffers({ prefix: 'm' })].map(([n]) => n)).toEqual(['m.inner.steps', 'm.inner.mask']);
    expect(t.buffers({ recurse: false })).toEqual([]);
    expect([...t.namedModules()].map(([n]) => n)).toEqual(['', 'a', 'inner', 'inner.lin']);
    expect([...t.namedModules({ prefix: 'x' })].map(([n]) => n)[1]).toBe('x.a');
    expect([...t.namedChildren()].map(([n]) => n)).toEqual(['a', 'inner']);
    // PyTorch's state dict keeps a shared module under each name.
    expect(Object.keys(t.stateDict())).toEqual([
      'scale',
      'a.weight',
      'a.bias',
      'b.weight',
      'b.bias',
      'inner.steps',
      'inner.lin.weight',
      'inner.lin.bias',
    ]);
  });
});
