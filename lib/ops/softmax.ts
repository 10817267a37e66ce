/**
 * softmax and logSoftmax along a dim, with the max subtracted so no exp() overflows. Each saves
 * only its output: the backward of both reads y alone.
 */
import { getBackend } from '../backend/index.js';
import type { FloatArray } from '../backend/types.js';
import { record } from '../autograd/node.js';
import { normalizeDim, numelOf } from '../tensor/shape.js';
import { uninitTensor, type Tensor } from '../tensor/tensor.js';
import { denseArray, to } from './shape.js';

function softmaxFamily(name: string, log: boolean, input: Tensor, dim: number): Tensor {
  const x = input.dtype === 'int32' ? to(input, 'float32') : input;
  const d = normalizeDim(name, dim, x.ndim);
  const outer = numelOf(x.shape.slice(0, d));
  const n = x.ndim === 0 ? 1 : x.shape[d];
  const inner = numelOf(x.shape.slice(d + 1));
  const out = uninitTensor(x.shape, x.dtype);
  getBackend().softmax(denseArray(x), outer, n, inner, out.storage.data as FloatArray, log);
  return record(
    name,
    out,
    [x],
    (g) => {
      const gx = uninitTensor(x.shape, g.dtype);
      getBackend().softmaxBackward(
        out.storage.data as FloatArray,
        denseArray(g),
        outer,
        n,
        inner,
        gx.storage.data as FloatArray,
        log,
      );
      return [gx];
    },
    [out],
  );
}

/** exp(x) / sum(exp(x)) along dim. */
export function softmax(x: Tensor, dim: number): Tensor {
  return softmaxFamily('softmax', false, x, dim);
}

/** x − logsumexp(x) along dim; use it (or crossEntropy) rather than log(softmax(x)). */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  return softmaxFamily('logSoftmax', true, x, dim);
}
