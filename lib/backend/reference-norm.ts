/**
 * Reference normalization kernels (LayerNorm, RMSNorm, batch norm) and the residual add + ReLU:
 * straight from the definitions in float64, the oracles of native/norm.cc and native/batch_norm.cc.
 */
import type { Backend, BatchNormParams, FloatArray } from './types.js';

type NormKernels = Pick<
  Backend,
  'layerNormForward' | 'layerNormBackward' | 'batchNormForward' | 'batchNormBackward' | 'addRelu'
>;

/** Index of element i of channel c's plane in sample n. */
const at = (p: BatchNormParams, n: number, c: number, i: number) => (n * p.channels + c) * p.plane + i;

/** y = x·scale + shift of channel c, from the stored (rounded) statistics as the native kernel derives it. */
function channelAffine(
  weight: FloatArray | null,
  bias: FloatArray | null,
  mean: FloatArray,
  invstd: FloatArray,
  c: number,
): [number, number] {
  const round = (v: number) => (mean instanceof Float32Array ? Math.fround(v) : v);
  const scale = round((weight ? weight[c] : 1) * invstd[c]);
  return [scale, round((bias ? bias[c] : 0) - mean[c] * scale)];
}

/** The reference kernels of this file. */
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

  batchNormForward(p, x, weight, bias, runningMean, runningVar, out, saveMean, saveInvstd) {
    const count = p.batch * p.plane;
    for (let c = 0; c < p.channels; c++) {
      if (p.training) {
        let sum = 0;
        for (let n = 0; n < p.batch; n++) for (let i = 0; i < p.plane; i++) sum += x[at(p, n, c, i)];
        const mean = sum / count;
        let sq = 0;
        for (let n = 0; n < p.batch; n++) for (let i = 0; i < p.plane; i++) sq += (x[at(p, n, c, i)] - mean) ** 2;
        const variance = sq / count;
        saveMean[c] = mean;
        saveInvstd[c] = 1 / Math.sqrt(variance + p.eps);
        if (runningMean && runningVar) {
          const unbiased = count > 1 ? (variance * count) / (count - 1) : variance;
          runningMean[c] = (1 - p.momentum) * runningMean[c] + p.momentum * mean;
          runningVar[c] = (1 - p.momentum) * runningVar[c] + p.momentum * unbiased;
        }
      } else {
        if (!runningMean || !runningVar) throw new Error('batchNormForward: running statistics required');
        saveMean[c] = runningMean[c];
        saveInvstd[c] = 1 / Math.sqrt(runningVar[c] + p.eps);
      }
      const [scale, shift] = channelAffine(weight, bias, saveMean, saveInvstd, c);
      for (let n = 0; n < p.batch; n++) {
        for (let i = 0; i < p.plane; i++) {
          const y = x[at(p, n, c, i)] * scale + shift;
          out[at(p, n, c, i)] = p.relu && y < 0 ? 0 : y;
        }
      }
    }
  },

  batchNormBackward(p, x, grad, weight, bias, saveMean, saveInvstd, gradInput, gradWeight, gradBias) {
    const count = p.batch * p.plane;
    for (let c = 0; c < p.channels; c++) {
      const [scale, shift] = channelAffine(weight, bias, saveMean, saveInvstd, c);
      const dy = (j: number) => (p.relu && !(x[j] * scale + shift > 0) ? 0 : grad[j]);
      const mean = saveMean[c];
      let sumDy = 0;
      let sumDyXc = 0;
      for (let n = 0; n < p.batch; n++) {
        for (let i = 0; i < p.plane; i++) {
          const j = at(p, n, c, i);
          sumDy += dy(j);
          sumDyXc += dy(j) * (x[j] - mean);
        }
      }
      const r = saveInvstd[c];
      if (gradWeight) gradWeight[c] = sumDyXc * r;
      if (gradBias) gradBias[c] = sumDy;
      if (!gradInput) continue;
      const k = p.training ? (-scale * r * r * sumDyXc) / count : 0;
      const k0 = p.training ? (-scale * sumDy) / count : 0;
      for (let n = 0; n < p.batch; n++) {
        for (let i = 0; i < p.plane; i++) {
          const j = at(p, n, c, i);
          gradInput[j] = scale * dy(j) + k * (x[j] - mean) + k0;
        }
      }
    }
  },

  addRelu(n, a, b, out) {
    for (let i = 0; i < n; i++) {
      const y = a[i] + b[i];
      out[i] = y < 0 ? 0 : y;
    }
  },
};
