/**
 * Reference row normalization (LayerNorm, RMSNorm): straight from the definitions, one row at a
 * time in float64, the oracle of native/norm.cc.
 */
import type { Backend } from './types.js';

type NormKernels = Pick<Backend, 'layerNormForward' | 'layerNormBackward'>;

/** The reference layerNormForward and layerNormBackward. */
export const referenceNormKernels: NormKernels = {
  layerNormForward(p, x, weight, bias, out, mean, rstd) {
    const { rows, cols, eps, rms } = p;
    for (let r = 0; r < rows; r++) {
      const base = r * cols;
      let m = 0;
      if (!rms) {
        for (let j = 0; j < cols; j++) m += x[base + j];
        m /= cols;
      }
      let sq = 0;
      for (let j = 0; j < cols; j++) sq += (x[base + j] - m) ** 2;
      const s = 1 / Math.sqrt(sq / cols + eps);
      if (mean) mean[r] = m;
      rstd[r] = s;
      for (let j = 0; j < cols; j++) {
        out[base + j] = (x[base + j] - m) * s * (weight ? weight[j] : 1) + (bias ? bias[j] : 0);
      }
    }
  },

  layerNormBackward(p, x, grad, weight, mean, rstd, gradInput, gradWeight, gradBias) {
    const { rows, cols, rms } = p;
    const gw = new Float64Array(cols);
    const gb = new Float64Array(cols);
    for (let r = 0; r < rows; r++) {
      const base = r * cols;
      const m = mean && !rms ? mean[r] : 0;
      const s = rstd[r];
      let a = 0;
      let b = 0;
      for (let j = 0; j < cols; j++) {
        const xhat = (x[base + j] - m) * s;
        const dy = grad[base + j] * (weight ? weight[j] : 1);
        gw[j] += grad[base + j] * xhat;
        gb[j] += grad[base + j];
        a += dy;
        b += dy * xhat;
      }
      a = rms ? 0 : a / cols;
      b /= cols;
      if (!gradInput) continue;
      for (let j = 0; j < cols; j++) {
        const xhat = (x[base + j] - m) * s;
        const dy = grad[base + j] * (weight ? weight[j] : 1);
        gradInput[base + j] = s * (dy - a - xhat * b);
      }
    }
    gradWeight?.set(gw);
    gradBias?.set(gb);
  },
};
