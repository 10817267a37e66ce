/**
 * Reference kernels for convolution, pooling, softmax and cross-entropy: direct loops straight
 * from the definitions (no im2col), so they are an independent oracle for the native kernels.
 */
import { convOutputSize, poolOutputSize, type Backend, type Conv2dParams, type Pool2dParams } from './types.js';

type NnKernels = Pick<
  Backend,
  | 'conv2dForward'
  | 'conv2dBackwardInput'
  | 'conv2dBackwardWeight'
  | 'maxPool2dForward'
  | 'maxPool2dBackward'
  | 'avgPool2dForward'
  | 'avgPool2dBackward'
  | 'adaptiveAvgPool2dForward'
  | 'adaptiveAvgPool2dBackward'
  | 'softmax'
  | 'softmaxBackward'
  | 'crossEntropy'
>;

/** Calls visit(n, co, oh, ow, ci, i, j, inputIndex, weightIndex, outIndex) for every in-bounds tap. */
function forEachTap(p: Conv2dParams, visit: (inputIndex: number, weightIndex: number, outIndex: number) => void): void {
  const outH = convOutputSize(p.inH, p.kernelH, p.strideH, p.padH, p.dilationH);
  const outW = convOutputSize(p.inW, p.kernelW, p.strideW, p.padW, p.dilationW);
  const cinG = p.inChannels / p.groups;
  const coutG = p.outChannels / p.groups;
  for (let n = 0; n < p.batch; n++) {
    for (let co = 0; co < p.outChannels; co++) {
      const g = Math.floor(co / coutG);
      for (let oh = 0; oh < outH; oh++) {
        for (let ow = 0; ow < outW; ow++) {
          const outIndex = ((n * p.outChannels + co) * outH + oh) * outW + ow;
          for (let c = 0; c < cinG; c++) {
            const ci = g * cinG + c;
            for (let i = 0; i < p.kernelH; i++) {
              const ih = oh * p.strideH - p.padH + i * p.dilationH;
              if (ih < 0 || ih >= p.inH) continue;
              for (let j = 0; j < p.kernelW; j++) {
                const iw = ow * p.strideW - p.padW + j * p.dilationW;
                if (iw < 0 || iw >= p.inW) continue;
                visit(
                  ((n * p.inChannels + ci) * p.inH + ih) * p.inW + iw,
                  ((co * cinG + c) * p.kernelH + i) * p.kernelW + j,
                  outIndex,
                );
              }
            }
          }
        }
      }
    }
  }
}

function poolWindows(
  p: Pool2dParams,
  visit: (plane: number, outIndex: number, taps: number[], divisor: number) => void,
): void {
  const outH = poolOutputSize(p.inH, p.kernelH, p.strideH, p.padH, p.dilationH, p.ceilMode);
  const outW = poolOutputSize(p.inW, p.kernelW, p.strideW, p.padW, p.dilationW, p.ceilMode);
  for (let plane = 0; plane < p.planes; plane++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++) {
        const taps: number[] = [];
        for (let i = 0; i < p.kernelH; i++) {
          const ih = oh * p.strideH - p.padH + i * p.dilationH;
          for (let j = 0; j < p.kernelW; j++) {
            const iw = ow * p.strideW - p.padW + j * p.dilationW;
            if (ih >= 0 && ih < p.inH && iw >= 0 && iw < p.inW) taps.push(ih * p.inW + iw);
          }
        }
        // PyTorch's divisor: the window clipped to the padded input, or to the input alone.
        const h0 = oh * p.strideH - p.padH;
        const w0 = ow * p.strideW - p.padW;
        const h1 = Math.min(h0 + p.kernelH, p.inH + p.padH);
        const w1 = Math.min(w0 + p.kernelW, p.inW + p.padW);
        const divisor =
          p.divisorOverride > 0
            ? p.divisorOverride
            : p.countIncludePad
              ? (h1 - h0) * (w1 - w0)
              : Math.max(taps.length, 1);
        visit(plane, (plane * outH + oh) * outW + ow, taps, divisor);
      }
    }
  }
}

function adaptiveRange(i: number, input: number, output: number): [number, number] {
  return [Math.floor((i * input) / output), Math.ceil(((i + 1) * input) / output)];
}

export const referenceNnKernels: NnKernels = {
  conv2dForward(p, input, weight, bias, out, relu) {
    const acc = new Float64Array(out.length);
    forEachTap(p, (ii, wi, oi) => {
      acc[oi] += input[ii] * weight[wi];
    });
    const plane = out.length / (p.batch * p.outChannels);
    for (let k = 0; k < out.length; k++) {
      const v = acc[k] + (bias ? bias[Math.floor(k / plane) % p.outChannels] : 0);
      out[k] = relu ? Math.max(0, v) : v;
    }
  },

  conv2dBackwardInput(p, gradOut, weight, gradInput) {
    const acc = new Float64Array(gradInput.length);
    forEachTap(p, (ii, wi, oi) => {
      acc[ii] += gradOut[oi] * weight[wi];
    });
    gradInput.set(acc);
  },

  conv2dBackwardWeight(p, input, gradOut, gradWeight, gradBias) {
    const acc = new Float64Array(gradWeight.length);
    forEachTap(p, (ii, wi, oi) => {
      acc[wi] += gradOut[oi] * input[ii];
    });
    gradWeight.set(acc);
    if (gradBias) {
      const plane =
        convOutputSize(p.inH, p.kernelH, p.strideH, p.padH, p.dilationH) *
        convOutputSize(p.inW, p.kernelW, p.strideW, p.padW, p.dilationW);
      gradBias.fill(0, 0, p.outChannels);
      const n = p.batch * p.outChannels * plane;
      for (let k = 0; k < n; k++) gradBias[Math.floor(k / plane) % p.outChannels] += gradOut[k];
    }
  },

  maxPool2dForward(p, input, out, indices) {
    poolWindows(p, (plane, oi, taps) => {
      const base = plane * p.inH * p.inW;
      let best = -Infinity;
      let at = -1;
      for (const t of taps) {
        const v = input[base + t];
        // PyTorch's rule: the first max wins ties, the last NaN wins the index.
        if (at < 0 || v > best || Number.isNaN(v)) {
          best = v;
          at = t;
        }
      }
      out[oi] = best;
      indices[oi] = Math.max(at, 0);
    });
  },

  maxPool2dBackward(p, gradOut, indices, gradInput) {
    gradInput.fill(0);
    const outPlane =
      poolOutputSize(p.inH, p.kernelH, p.strideH, p.padH, p.dilationH, p.ceilMode) *
      poolOutputSize(p.inW, p.kernelW, p.strideW, p.padW, p.dilationW, p.ceilMode);
    for (let k = 0; k < p.planes * outPlane; k++) {
      gradInput[Math.floor(k / outPlane) * p.inH * p.inW + indices[k]] += gradOut[k];
    }
  },

  avgPool2dForward(p, input, out) {
    poolWindows(p, (plane, oi, taps, divisor) => {
      let acc = 0;
      for (const t of taps) acc += input[plane * p.inH * p.inW + t];
      out[oi] = acc / divisor;
    });
  },

  avgPool2dBackward(p, gradOut, gradInput) {
    gradInput.fill(0);
    poolWindows(p, (plane, oi, taps, divisor) => {
      for (const t of taps) gradInput[plane * p.inH * p.inW + t] += gradOut[oi] / divisor;
    });
  },

  adaptiveAvgPool2dForward({ planes, inH, inW, outH, outW }, input, out) {
    for (let plane = 0; plane < planes; plane++) {
      for (let oh = 0; oh < outH; oh++) {
        const [h0, h1] = adaptiveRange(oh, inH, outH);
        for (let ow = 0; ow < outW; ow++) {
          const [w0, w1] = adaptiveRange(ow, inW, outW);
          let acc = 0;
          for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) acc += input[(plane * inH + h) * inW + w];
          out[(plane * outH + oh) * outW + ow] = acc / ((h1 - h0) * (w1 - w0));
        }
      }
    }
  },

  adaptiveAvgPool2dBackward({ planes, inH, inW, outH, outW }, gradOut, gradInput) {
    gradInput.fill(0);
    for (let plane = 0; plane < planes; plane++) {
      for (let oh = 0; oh < outH; oh++) {
        const [h0, h1] = adaptiveRange(oh, inH, outH);
        for (let ow = 0; ow < outW; ow++) {
          const [w0, w1] = adaptiveRange(ow, inW, outW);
          const g = gradOut[(plane * outH + oh) * outW + ow] / ((h1 - h0) * (w1 - w0));
          for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) gradInput[(plane * inH + h) * inW + w] += g;
        }
      }
    }
  },

  softmax(x, outer, n, inner, out, log) {
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const at = (j: number) => (o * n + j) * inner + i;
        // A NaN, +inf or all -inf row makes some x - m NaN, so the whole row is NaN, as in PyTorch.
        let m = -Infinity;
        for (let j = 0; j < n; j++) m = Math.max(m, x[at(j)]);
        let sum = 0;
        for (let j = 0; j < n; j++) sum += Math.exp(x[at(j)] - m);
        for (let j = 0; j < n; j++) out[at(j)] = log ? x[at(j)] - m - Math.log(sum) : Math.exp(x[at(j)] - m) / sum;
      }
    }
  },

  softmaxBackward(y, g, outer, n, inner, gx, log) {
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const at = (j: number) => (o * n + j) * inner + i;
        let dot = 0;
        for (let j = 0; j < n; j++) dot += log ? g[at(j)] : g[at(j)] * y[at(j)];
        for (let j = 0; j < n; j++) gx[at(j)] = log ? g[at(j)] - Math.exp(y[at(j)]) * dot : y[at(j)] * (g[at(j)] - dot);
      }
    }
  },

  crossEntropy(p, logits, target, weight, loss, grad) {
    if (p.n === 0) return; // no rows: no work, whatever the class count
    const C = p.classes;
    const eps = p.labelSmoothing;
    const w = (c: number) => (weight ? weight[c] : 1);
    let weightSum = 0;
    for (let c = 0; c < C; c++) weightSum += w(c);
    for (let r = 0; r < p.n; r++) {
      const y = target[r];
      const row = logits.subarray(r * C, (r + 1) * C);
      let m = -Infinity;
      for (const v of row) m = Math.max(m, v);
      if (y === p.ignoreIndex) {
        // PyTorch's gradient of an ignored row is 0 - softmax * 0: NaN when its log-softmax is NaN.
        loss[r] = 0;
        if (grad) grad.fill(Number.isFinite(m) ? 0 : NaN, r * C, (r + 1) * C);
        continue;
      }
      let sum = 0;
      for (const v of row) sum += Math.exp(v - m);
      const logp = Array.from(row, (v) => v - m - Math.log(sum));
      // Only with smoothing: at eps = 0 an infinite smoothing term would turn 0 · inf into NaN.
      let smooth = 0;
      if (eps > 0) for (let c = 0; c < C; c++) smooth -= w(c) * logp[c];
      loss[r] = (1 - eps) * w(y) * -logp[y] + (eps / C) * smooth;
      if (grad) {
        for (let c = 0; c < C; c++) {
          const pc = Math.exp(logp[c]);
          grad[r * C + c] = (1 - eps) * w(y) * (pc - (c === y ? 1 : 0)) + (eps / C) * (weightSum * pc - w(c));
        }
      }
    }
  },
};
