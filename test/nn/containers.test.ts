/**
 * ModuleList, ModuleDict, ParameterList, ParameterDict. Key lists and reprs are PyTorch 1.13's for the
 * same structures (test/fixtures/module-keys.json, written by tools/golden/make_module_keys.py).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { fixturesDir } from '../fixtures.js';
import { expectNodegradError, flat } from '../helpers.js';

const { nn } = ng;

interface Described {
  stateDict: string[];
  namedParameters: string[];
  namedBuffers: string[];
  namedModules: string[];
  namedChildren: string[];
  repr: string;
}
const golden = JSON.parse(readFileSync(join(fixturesDir, 'module-keys.json'), 'utf8')) as {
  Net: Described;
  Nested: Described;
  insert: Described;
  ParameterList: string;
};

const describeModule = (m: ng.nn.AnyModule): Described => ({
  stateDict: Object.keys(m.stateDict()),
  namedParameters: [...m.namedParameters()].map(([n]) => n),
  namedBuffers: [...m.namedBuffers()].map(([n]) => n),
  namedModules: [...m.namedModules()].map(([n]) => n),
  namedChildren: [...m.namedChildren()].map(([n]) => n),
  repr: m.toString(),
});

class Net extends nn.Module {
  layers = new nn.ModuleList([new nn.Linear(3, 4), new nn.ReLU(), new nn.Linear(4, 2)]);
  blocks = new nn.ModuleDict({ attn: new nn.Linear(2, 2), norm: new nn.BatchNorm1d(2) });
  params = new nn.ParameterList([new nn.Parameter(ng.zeros([3])), new nn.Parameter(ng.zeros([2, 2]))]);
  pdict = new nn.ParameterDict({ weight: new nn.Parameter(ng.zeros([2])), bias: new nn.Parameter(ng.zeros([2])) });
  declare step: ng.Tensor;
  declare cache: ng.Tensor;
  scale: ng.nn.Parameter;

  constructor() {
    super();
    this.registerBuffer('step', ng.zeros([1]));
    this.registerBuffer('cache', ng.zeros([2]), { persistent: false });
    this.scale = new nn.Parameter(ng.ones([1]));
  }

  forward(x: ng.Tensor): ng.Tensor {
    let h = x;
    for (const layer of this.layers) h = layer.forward(h);
    h = this.blocks.get('norm').forward(this.blocks.get('attn').forward(h));
    for (const p of this.params) h = h.add(p.sum());
    return h.mul(this.pdict.get('weight')).add(this.pdict.get('bias')).mul(this.scale);
  }
}

class Nested extends nn.Module {
  stages = new nn.ModuleList<ng.nn.AnyModule>([
    new nn.Sequential(new nn.Linear(2, 2), new nn.ReLU()),
    new nn.ModuleList([new nn.Linear(2, 1)]),
  ]);
  heads = new nn.ModuleDict({ a: new nn.ModuleDict({ b: new nn.Linear(1, 1, { bias: false }) }) });

  forward(x: ng.Tensor): ng.Tensor {
    return x;
  }
}

describe("containers register their items under PyTorch's names", () => {
  it('ModuleList, ModuleDict, ParameterList, ParameterDict and buffers: keys, names and repr', () => {
    // The sorted ParameterDict keys (bias before weight) follow PyTorch, which sorts a plain dict's.
    expect(describeModule(new Net())).toEqual(golden.Net);
  });

  it('nested containers', () => {
    expect(describeModule(new Nested())).toEqual(golden.Nested);
  });

  it('insert renumbers the modules after the insertion point', () => {
    const list = new nn.ModuleList<ng.nn.AnyModule>([new nn.Linear(2, 2), new nn.Linear(2, 2)]);
    list.insert(0, new nn.ReLU()).insert(2, new nn.Tanh());
    expect(describeModule(list)).toEqual(golden.insert);
  });

  it('ParameterList repr', () => {
    const list = new nn.ParameterList([ng.zeros([3]), ng.zeros([2, 2], { dtype: 'float64' })]);
    expect(list.toString()).toBe(golden.ParameterList);
  });

  it('a network with containers trains, and round-trips its state dict', () => {
    ng.manualSeed(1);
    const a = new Net();
    const b = new Net();
    const opt = new ng.optim.SGD(a.parameters(), { lr: 0.1 });
    a.forward(ng.randn([5, 3]))
      .sum()
      .backward();
    expect(a.parameters().every((p) => p.grad !== null)).toBe(true);
    opt.step();
    b.loadStateDict(a.stateDict());
    for (const [k, t] of Object.entries(a.stateDict())) expect(flat(b.stateDict()[k])).toEqual(flat(t));
    expectNodegradError(
      () => b.loadStateDict({ ...a.stateDict(), 'layers.3.weight': ng.zeros([1]) }),
      'ERR_NODEGRAD_ARGUMENT',
      'unexpected keys: layers.3.weight',
    );
  });
});

describe('ModuleList', () => {
  it('is iterable, indexes from either end, appends, extends, inserts and sets', () => {
    const [a, b, c, d] = [new nn.Linear(1, 1), new nn.Linear(1, 2), new nn.Linear(1, 3), new nn.Linear(1, 4)];
    const list = new nn.ModuleList([a]).append(b).extend(new Set([c]));
    expect(list.length).toBe(3);
    expect([...list]).toEqual([a, b, c]);
    expect(list.at(-1)).toBe(c);
    expect(list.at(0).outFeatures).toBe(1);
    list.insert(-1, d);
    expect([...list]).toEqual([a, b, d, c]);
    list.insert(99, a);
    expect(list.at(-1)).toBe(a);
    list.set(-1, c);
    expect([...list]).toEqual([a, b, d, c, c]);
    expect(list.length).toBe(5);
    expectNodegradError(() => list.at(5), 'ERR_NODEGRAD_ARGUMENT', 'ModuleList.at', 'index 5', '5 items');
    expectNodegradError(() => list.at(-6), 'ERR_NODEGRAD_ARGUMENT', 'ModuleList.at', 'index -6');
  });

  it('a module listed twice is one child and its parameters are counted once', () => {
    const shared = new nn.Linear(2, 2);
    const list = new nn.ModuleList([shared, shared]);
    expect(list.parameters()).toHaveLength(2);
    expect([...list.namedChildren()].map(([n]) => n)).toEqual(['0']);
    // The state dict, like PyTorch's, lists a shared module under each of its names.
    expect(Object.keys(list.stateDict())).toEqual(['0.weight', '0.bias', '1.weight', '1.bias']);
  });
});

describe('ModuleDict', () => {
  it('gets, sets, checks, deletes and iterates in insertion order', () => {
    const attn = new nn.Linear(2, 2);
    const dict = new nn.ModuleDict(
      new Map<string, ng.nn.AnyModule>([
        ['z', new nn.ReLU()],
        ['attn', attn],
      ]),
    );
    dict.set('mlp', new nn.Linear(2, 3));
    expect([...dict.keys()]).toEqual(['z', 'attn', 'mlp']);
    expect(dict.get('attn')).toBe(attn);
    expect(dict.has('mlp')).toBe(true);
    expect(dict.size).toBe(3);
    expect([...dict].map(([k]) => k)).toEqual(['z', 'attn', 'mlp']);
    expect([...dict.values()][1]).toBe(attn);
    expect(dict.delete('z')).toBe(true);
    expect(Object.keys(dict.stateDict())).toEqual(['attn.weight', 'attn.bias', 'mlp.weight', 'mlp.bias']);
    expectNodegradError(() => dict.get('nope'), 'ERR_NODEGRAD_ARGUMENT', 'ModuleDict.get', "'nope'", 'attn, mlp');
    expectNodegradError(() => dict.set('a.b', attn), 'ERR_NODEGRAD_ARGUMENT', 'ModuleDict.set', "'a.b'");
    expectNodegradError(() => dict.set('', attn), 'ERR_NODEGRAD_ARGUMENT', 'ModuleDict.set');
  });
});

describe('ParameterList and ParameterDict', () => {
  it('wrap plain tensors in Parameters, which train', () => {
    const t = ng.ones([2]);
    const list = new nn.ParameterList([t]);
    list.append(ng.zeros([3]));
    expect(list.at(0)).toBeInstanceOf(nn.Parameter);
    expect(list.at(0).requiresGrad).toBe(true);
    expect(list.at(-1).shape).toEqual([3]);
    expect([...list]).toHaveLength(2);
    const dict = new nn.ParameterDict([
      ['w', ng.ones([2])],
      ['a', ng.ones([2])],
    ]);
    expect([...dict.keys()]).toEqual(['w', 'a']);
    expect(dict.get('w')).toBeInstanceOf(nn.Parameter);
    dict.get('w').mul(list.at(0)).sum().backward();
    expect(flat(dict.get('w').grad!)).toEqual([1, 1]);
    expect(list.parameters()).toHaveLength(2);
    expect(dict.parameters({ recurse: false })).toHaveLength(2);
    expectNodegradError(() => dict.get('b'), 'ERR_NODEGRAD_ARGUMENT', 'ParameterDict.get', "'b'");
    expectNodegradError(() => list.at(2), 'ERR_NODEGRAD_ARGUMENT', 'ParameterList.at', 'index 2');
  });
});
