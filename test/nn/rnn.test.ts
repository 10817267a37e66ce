// The recurrent layer node (lib/ops/rnn.ts) by float64 gradcheck on both backends, what it keeps
// for backward, dropout between layers, and the layers' argument errors.
import '../deterministic-memory.js';
import { afterAll, describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { recurrentLayer, type RecurrentMode } from '../../lib/ops/rnn.js';
import { expectClose, expectNodegradError, randomTensor } from '../helpers.js';

const native = ng.backend.getBackend();
afterAll(() => ng.backend.setBackend(native));

const T = 3;
const N = 2;
const I = 3;
const H = 2;
const gates: Record<RecurrentMode, number> = { rnnTanh: 1, rnnRelu: 1, lstm: 4, gru: 3 };

interface LayerCase {
  mode: RecurrentMode;
  reverse: boolean;
  proj: number;
  bias: boolean;
}

const layerCases: LayerCase[] = (['rnnTanh', 'rnnRelu', 'lstm', 'gru'] as const).flatMap((mode) =>
  [false, true].map((reverse) => ({ mode, reverse, proj: 0, bias: !reverse })),
);
layerCases.push(
  { mode: 'lstm', reverse: false, proj: 1, bias: true },
  { mode: 'lstm', reverse: true, proj: 1, bias: true },
);

describe.each([native, ng.backend.referenceBackend].map((b) => [b.name, b] as const))('%s backend', (_n, backend) => {
  it.each(layerCases.map((c) => [`${c.mode} reverse=${c.reverse} proj=${c.proj}`, c] as const))(
    'gradcheck %s',
    (_name, c) => {
      ng.backend.setBackend(backend);
      const G = gates[c.mode] * H;
      const P = c.proj || H;
      let seed = 1;
      const leaf = (shape: number[]) => randomTensor(shape, seed++, 'float64', true);
      const inputs = [leaf([T, N, I]), leaf([N, P]), leaf([G, I]), leaf([G, P])];
      if (c.mode === 'lstm') inputs.push(leaf([N, H]));
      if (c.bias) inputs.push(leaf([G]), leaf([G]));
      if (c.proj) inputs.push(leaf([P, H]));
      const fn = (...t: ng.Tensor[]): ng.Tensor => {
        const [x, h0, weightIh, weightHh] = t;
        let k = 4;
        const c0 = c.mode === 'lstm' ? t[k++] : null;
        const biasIh = c.bias ? t[k++] : null;
        const biasHh = c.bias ? t[k++] : null;
        const weightHr = c.proj ? t[k++] : null;
        const r = recurrentLayer(c.mode, x, h0, c0, { weightIh, weightHh, biasIh, biasHh, weightHr }, c.reverse);
        return ng.cat([r.output.flatten(), r.h.flatten(), ...(r.c ? [r.c.flatten()] : [])]);
      };
      expect(ng.gradcheck(fn, inputs)).toBe(true);
    },
  );

  it('gradcheck of a 2-layer bidirectional batch-first GRU module through its input', () => {
    ng.backend.setBackend(backend);
    ng.manualSeed(3);
    const gru = new ng.nn.GRU(I, H, { numLayers: 2, bidirectional: true, batchFirst: true, dtype: 'float64' });
    const x = randomTensor([N, T, I], 9, 'float64', true);
    expect(ng.gradcheck((input) => ng.cat(gru.forward(input).map((t) => t.flatten())), [x])).toBe(true);
  });
});

describe('what the layer keeps', () => {
  const lstmLayer = (requiresGrad: boolean) => {
    const w = (shape: number[], seed: number) => randomTensor(shape, seed, 'float32', requiresGrad);
    const weights = {
      weightIh: w([4 * H, I], 1),
      weightHh: w([4 * H, H], 2),
      biasIh: null,
      biasHh: null,
      weightHr: null,
    };
    const x = randomTensor([T, N, I], 3, 'float32');
    const h0 = ng.zeros([N, H]);
    const c0 = ng.zeros([N, H]);
    return () => recurrentLayer('lstm', x, h0, c0, weights);
  };

  it('inference keeps only the packed output (states and output) and records nothing', () => {
    const run = lstmLayer(true);
    const before = ng.memory().liveBytes;
    const result = ng.noGrad(run);
    expect(result.output.gradFn).toBeNull();
    expect(result.output.storage).toBe(result.h.storage);
    expect(ng.memory().liveBytes - before).toBe(((T + 1) * N * H + N * H) * 4);
  });

  it('float32 without biases, in inference and training, matches the reference backend', () => {
    const outputs = [native, ng.backend.referenceBackend].map((b) => {
      ng.backend.setBackend(b);
      try {
        return [ng.noGrad(lstmLayer(true)).output, lstmLayer(true)().output].map((o) => Array.from(o.data()));
      } finally {
        ng.backend.setBackend(native);
      }
    });
    for (let i = 0; i < 2; i++) expectClose(outputs[0][i], outputs[1][i], 1e-5, 1e-6);
  });

  it('training keeps the packed output, every cell state and the activated gates', () => {
    const run = lstmLayer(true);
    const before = ng.memory().liveBytes;
    const result = run();
    expect(result.output.requiresGrad).toBe(true);
    const packed = ((T + 1) * N * H + N * H) * 4;
    const cellStates = (T + 1) * N * H * 4;
    const activatedGates = T * N * 4 * H * 4;
    expect(ng.memory().liveBytes - before).toBe(packed + cellStates + activatedGates);
  });
});

describe('dropout between layers', () => {
  const make = () => {
    ng.manualSeed(7);
    return new ng.nn.LSTM(3, 4, { numLayers: 2, dropout: 0.5 });
  };
  const x = randomTensor([5, 2, 3], 4, 'float32');

  it('changes the output in training mode only', () => {
    const lstm = make();
    const plain = new ng.nn.LSTM(3, 4, { numLayers: 2 });
    plain.loadStateDict(lstm.stateDict());
    const [trained] = lstm.forward(x);
    const [undropped] = plain.forward(x);
    expect(Array.from(trained.data())).not.toEqual(Array.from(undropped.data()));
    lstm.eval();
    const [evaluated] = lstm.forward(x);
    expect(Array.from(evaluated.data())).toEqual(Array.from(undropped.data()));
  });

  it('leaves a 1-layer net unchanged (no layer follows)', () => {
    ng.manualSeed(8);
    const one = new ng.nn.GRU(3, 4, { dropout: 0.9 });
    const [a] = one.forward(x);
    one.eval();
    const [b] = one.forward(x);
    expect(Array.from(a.data())).toEqual(Array.from(b.data()));
  });
});

describe('errors', () => {
  it('names the layer, the expected and the given shapes', () => {
    const lstm = new ng.nn.LSTM(3, 4, { numLayers: 2 });
    expectNodegradError(
      () => lstm.forward(ng.zeros([5, 2, 7])),
      'ERR_NODEGRAD_SHAPE',
      'LSTM',
      '[T, N, 3]',
      '[5, 2, 7]',
    );
    const h = ng.zeros([1, 2, 4]);
    expectNodegradError(() => lstm.forward(ng.zeros([5, 2, 3]), [h, h]), 'ERR_NODEGRAD_SHAPE', 'h0', '[2, 2, 4]');
    expectNodegradError(
      () => new ng.nn.GRUCell(3, 4).forward(ng.zeros([2, 3]), ng.zeros([3, 4])),
      'ERR_NODEGRAD_SHAPE',
      'GRUCell',
      '[2, 4]',
    );
  });

  it('refuses bad options', () => {
    expectNodegradError(() => new ng.nn.RNN(3, 0), 'ERR_NODEGRAD_ARGUMENT', 'RNN', 'hiddenSize');
    expectNodegradError(() => new ng.nn.LSTM(3, 4, { projSize: 4 }), 'ERR_NODEGRAD_ARGUMENT', 'projSize');
    expectNodegradError(() => new ng.nn.GRU(3, 4, { dropout: 2 }), 'ERR_NODEGRAD_ARGUMENT', 'dropout');
    const bad = { nonlinearity: 'sigmoid' } as unknown as ng.nn.RNNOptions;
    expectNodegradError(() => new ng.nn.RNN(3, 4, bad), 'ERR_NODEGRAD_ARGUMENT', 'nonlinearity', 'sigmoid');
  });

  it('refuses a float64 input to float32 parameters', () => {
    expectNodegradError(
      () => new ng.nn.RNN(3, 4).forward(ng.zeros([2, 1, 3], { dtype: 'float64' })),
      'ERR_NODEGRAD_DTYPE',
      'rnn',
      'float32',
    );
  });
});

describe('module surface', () => {
  it('prints like PyTorch', () => {
    expect(new ng.nn.LSTM(10, 20, { numLayers: 2, batchFirst: true, projSize: 5 }).toString()).toBe(
      'LSTM(10, 20, num_layers=2, batch_first=True, proj_size=5)',
    );
    expect(new ng.nn.GRUCell(3, 4, { bias: false }).toString()).toBe('GRUCell(3, 4, bias=False)');
  });

  it('initializes every parameter in U(-1/sqrt(hidden), 1/sqrt(hidden))', () => {
    const bound = 1 / Math.sqrt(16);
    for (const p of new ng.nn.LSTM(8, 16, { bidirectional: true }).parameters()) {
      const values = Array.from(p.data());
      expect(Math.max(...values.map(Math.abs))).toBeLessThanOrEqual(bound);
      expect(Math.max(...values.map(Math.abs))).toBeGreaterThan(bound * 0.8);
    }
  });
});

describe('the TSDoc examples', () => {
  it('give the shapes they claim', () => {
    const [output, hN] = new ng.nn.RNN(10, 20, { numLayers: 2 }).forward(ng.randn([5, 3, 10]));
    expect([output.shape, hN.shape]).toEqual([
      [5, 3, 20],
      [2, 3, 20],
    ]);
    const [lstmOut, [h, c]] = new ng.nn.LSTM(10, 20, { numLayers: 2, batchFirst: true }).forward(ng.randn([3, 5, 10]));
    expect([lstmOut.shape, h.shape, c.shape]).toEqual([
      [3, 5, 20],
      [2, 3, 20],
      [2, 3, 20],
    ]);
    const [gruOut, gruH] = new ng.nn.GRU(10, 20, { bidirectional: true }).forward(ng.randn([5, 3, 10]));
    expect([gruOut.shape, gruH.shape]).toEqual([
      [5, 3, 40],
      [2, 3, 20],
    ]);
    expect(new ng.nn.RNNCell(10, 20).forward(ng.randn([3, 10])).shape).toEqual([3, 20]);
    expect(new ng.nn.LSTMCell(10, 20).forward(ng.randn([3, 10])).map((t) => t.shape)).toEqual([
      [3, 20],
      [3, 20],
    ]);
    expect(new ng.nn.GRUCell(10, 20).forward(ng.randn([3, 10])).shape).toEqual([3, 20]);
  });
});
