/**
 * Functions the transformer examples need that nodegrad does not ship yet, composed from its ops;
 * each names the PyTorch call it stands for.
 */
import * as ng from 'nodegrad';

const { nn } = ng;

/** F.layer_norm over the last dim: (x − mean) / √(var + eps) · weight + bias, var the biased variance. */
export function layerNorm(x: ng.Tensor, weight: ng.Tensor | null, bias: ng.Tensor | null, eps = 1e-5): ng.Tensor {
  const centered = x.sub(x.mean(-1, true));
  let y = centered.div(centered.pow(2).mean(-1, true).add(eps).sqrt());
  if (weight) y = y.mul(weight);
  if (bias) y = y.add(bias);
  return y;
}

/** nn.LayerNorm(ndim) with an optional bias (nanoGPT's LayerNorm(ndim, bias)). */
export class LayerNorm extends nn.Module {
  weight: ng.nn.Parameter;
  bias: ng.nn.Parameter | null;

  constructor(ndim: number, options: { bias?: boolean } = {}) {
    super();
    this.weight = new nn.Parameter(ng.ones([ndim]));
    this.bias = options.bias === false ? null : new nn.Parameter(ng.zeros([ndim]));
  }

  forward(x: ng.Tensor): ng.Tensor {
    return layerNorm(x, this.weight, this.bias);
  }
}

/**
 * The additive causal mask [T, T]: 0 on and below the diagonal, −∞ above, so softmax gives no
 * weight to later positions (stands for masked_fill(tril == 0, -inf) and is_causal=True).
 */
export function causalMask(size: number): ng.Tensor {
  return ng.full([size, size], -Infinity).triu(1);
}
