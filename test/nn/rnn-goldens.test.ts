// RNN, LSTM, GRU and their cells against PyTorch (tools/golden/make_rnn_goldens.py): outputs, final
// states and the gradients of input, initial states and every parameter, in float64 (tight) and
// float32, on the native and the reference backend; and the state-dict keys torch lists.
import { afterAll, describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { expectClose, flat } from '../helpers.js';
import { goldenCases, type GoldenCase } from '../fixtures.js';

const { nn } = ng;
const native = ng.backend.getBackend();
const cases = goldenCases('rnn.safetensors');
const backends = [native, ng.backend.referenceBackend] as const;
afterAll(() => ng.backend.setBackend(native));

type Dtype = 'float32' | 'float64';
type AnyRecurrent = ng.nn.RNN | ng.nn.LSTM | ng.nn.GRU | ng.nn.RNNCell | ng.nn.LSTMCell | ng.nn.GRUCell;

function build(c: GoldenCase, dtype: Dtype): AnyRecurrent {
  const { keys: _keys, ...options } = c.options;
  const o = { ...options, dtype };
  switch (c.kind) {
    case 'RNN':
      return new nn.RNN(4, 5, o);
    case 'LSTM':
      return new nn.LSTM(4, 5, o);
    case 'GRU':
      return new nn.GRU(4, 5, o);
    case 'RNNCell':
      return new nn.RNNCell(4, 5, o);
    case 'LSTMCell':
      return new nn.LSTMCell(4, 5, o);
    default:
      return new nn.GRUCell(4, 5, o);
  }
}

/** Runs the module and returns [output | null, hN, cN | null]. */
function run(module: AnyRecurrent, x: ng.Tensor, h0?: ng.Tensor, c0?: ng.Tensor): (ng.Tensor | null)[] {
  if (module instanceof nn.LSTM) {
    const [output, [h, c]] = module.forward(x, h0 && c0 ? [h0, c0] : undefined);
    return [output, h, c];
  }
  if (module instanceof nn.LSTMCell) {
    const [h, c] = module.forward(x, h0 && c0 ? [h0, c0] : undefined);
    return [null, h, c];
  }
  if (module instanceof nn.RNN || module instanceof nn.GRU) {
    const [output, h] = module.forward(x, h0);
    return [output, h, null];
  }
  return [null, module.forward(x, h0), null];
}

describe.each(backends.map((b) => [b.name, b] as const))('recurrent goldens (%s backend)', (_name, backend) => {
  describe.each(['float64', 'float32'] as const)('%s', (dtype) => {
    const [rtol, atol] = dtype === 'float64' ? [1e-9, 1e-10] : [1e-4, 1e-5];
    it.each(cases.map((c) => [c.name, c] as const))('%s', (_case, c) => {
      ng.backend.setBackend(backend);
      const module = build(c, dtype);
      expect(Object.keys(module.stateDict())).toEqual(c.options.keys);
      const state: Record<string, ng.Tensor> = {};
      for (const [key, value] of Object.entries(c.t)) if (key.startsWith('param.')) state[key.slice(6)] = value;
      module.loadStateDict(state);
      const leaf = (key: string): ng.Tensor | undefined => {
        if (!(key in c.t)) return undefined;
        const t = c.t[key].to(dtype).detach();
        t.requiresGrad = true;
        return t;
      };
      const x = leaf('x');
      const h0 = leaf('h0');
      const c0 = leaf('c0');
      if (!x) throw new Error(`${c.name}: no input`);
      const outs = run(module, x, h0, c0);
      const names = ['output', 'hn', 'cn'];
      const weights = ['r_out', 'r_h', 'r_c'];
      let loss = ng.zeros([], { dtype });
      outs.forEach((out, i) => {
        if (!out) return;
        expectClose(flat(out), flat(c.t[names[i]]), rtol, atol);
        loss = loss.add(out.mul(c.t[weights[i]].to(dtype)).sum());
      });
      loss.backward();
      const grads: [ng.Tensor | undefined, string][] = [
        [x, 'grad_x'],
        [h0, 'grad_h0'],
        [c0, 'grad_c0'],
      ];
      for (const [t, key] of grads) if (t) expectClose(flat(t.grad ?? ng.zeros([0])), flat(c.t[key]), rtol, atol);
      for (const [key, p] of module.namedParameters()) {
        expectClose(flat(p.grad ?? ng.zeros([0])), flat(c.t[`grad.${key}`]), rtol, atol);
      }
    });
  });
});
