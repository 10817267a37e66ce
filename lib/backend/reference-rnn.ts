/**
 * Reference recurrent gate kernels, written from PyTorch's formulas one element at a time: the
 * oracle for native/rnn.cc.
 */
import type { Backend } from './types.js';

type RnnKernels = Pick<
  Backend,
  'rnnCell' | 'rnnCellBackward' | 'lstmCell' | 'lstmCellBackward' | 'gruCell' | 'gruCellBackward'
>;

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** Reference implementations of the fused recurrent gate kernels. */
export const referenceRnnKernels: RnnKernels = {
  rnnCell(p, xGates, hGates, biasHh, h) {
    for (let k = 0; k < p.batch * p.hidden; k++) {
      const a = xGates[k] + hGates[k] + (biasHh ? biasHh[k % p.hidden] : 0);
      h[k] = p.relu ? (a > 0 ? a : 0) : Math.tanh(a);
    }
  },

  rnnCellBackward(p, h, gradH, gradGates) {
    for (let k = 0; k < p.batch * p.hidden; k++) {
      gradGates[k] = p.relu ? (h[k] > 0 ? gradH[k] : 0) : gradH[k] * (1 - h[k] * h[k]);
    }
  },

  lstmCell(p, xGates, hGates, biasHh, cPrev, c, h, gates) {
    const H = p.hidden;
    const pre = (b: number, gate: number, j: number): number => {
      const at = (b * 4 + gate) * H + j;
      return xGates[at] + hGates[at] + (biasHh ? biasHh[gate * H + j] : 0);
    };
    for (let b = 0; b < p.batch; b++) {
      for (let j = 0; j < H; j++) {
        const activated = [
          sigmoid(pre(b, 0, j)),
          sigmoid(pre(b, 1, j)),
          Math.tanh(pre(b, 2, j)),
          sigmoid(pre(b, 3, j)),
        ];
        const [i, f, g, o] = activated;
        const k = b * H + j;
        c[k] = f * cPrev[k] + i * g;
        h[k] = o * Math.tanh(c[k]);
        if (gates) activated.forEach((v, gate) => (gates[(b * 4 + gate) * H + j] = v));
      }
    }
  },

  lstmCellBackward(p, gates, cPrev, c, gradH, gradC, gradGates) {
    const H = p.hidden;
    for (let b = 0; b < p.batch; b++) {
      for (let j = 0; j < H; j++) {
        const at = (gate: number) => (b * 4 + gate) * H + j;
        const [i, f, g, o] = [gates[at(0)], gates[at(1)], gates[at(2)], gates[at(3)]];
        const k = b * H + j;
        const tc = Math.tanh(c[k]);
        const dc = gradC[k] + gradH[k] * o * (1 - tc * tc);
        gradGates[at(0)] = dc * g * i * (1 - i);
        gradGates[at(1)] = dc * cPrev[k] * f * (1 - f);
        gradGates[at(2)] = dc * i * (1 - g * g);
        gradGates[at(3)] = gradH[k] * tc * o * (1 - o);
        gradC[k] = dc * f;
      }
    }
  },

  gruCell(p, xGates, hGates, biasHh, hPrev, h, saved) {
    const H = p.hidden;
    for (let b = 0; b < p.batch; b++) {
      for (let j = 0; j < H; j++) {
        const at = (gate: number) => (b * 3 + gate) * H + j;
        const bias = (gate: number) => (biasHh ? biasHh[gate * H + j] : 0);
        const r = sigmoid(xGates[at(0)] + hGates[at(0)] + bias(0));
        const z = sigmoid(xGates[at(1)] + hGates[at(1)] + bias(1));
        const hn = hGates[at(2)] + bias(2);
        const n = Math.tanh(xGates[at(2)] + r * hn);
        const k = b * H + j;
        h[k] = (1 - z) * n + z * hPrev[k];
        if (saved) [r, z, n, hn].forEach((v, slot) => (saved[(b * 4 + slot) * H + j] = v));
      }
    }
  },

  gruCellBackward(p, saved, hPrev, gradH, gradXGates, gradHGates, gradHPrev) {
    const H = p.hidden;
    for (let b = 0; b < p.batch; b++) {
      for (let j = 0; j < H; j++) {
        const [r, z, n, hn] = [0, 1, 2, 3].map((slot) => saved[(b * 4 + slot) * H + j]);
        const k = b * H + j;
        const g = gradH[k];
        const dn = g * (1 - z) * (1 - n * n);
        const dz = g * (hPrev[k] - n) * z * (1 - z);
        const dr = dn * hn * r * (1 - r);
        const at = (gate: number) => (b * 3 + gate) * H + j;
        gradXGates[at(0)] = dr;
        gradXGates[at(1)] = dz;
        gradXGates[at(2)] = dn;
        gradHGates[at(0)] = dr;
        gradHGates[at(1)] = dz;
        gradHGates[at(2)] = dn * r;
        gradHPrev[k] += g * z;
      }
    }
  },
};
