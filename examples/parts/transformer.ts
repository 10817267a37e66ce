/**
 * nn.MultiheadAttention, nn.TransformerEncoderLayer and nn.TransformerEncoder (sequence-first
 * [T, N, E] inputs, post-norm, ReLU), standing in for PyTorch's until nodegrad ships them: the
 * same parameter names and initialization, composed from linear, matmul and softmax.
 */
import * as ng from 'nodegrad';
import { LayerNorm } from './functional.js';

const { nn } = ng;
const F = nn.functional;

export class MultiheadAttention extends nn.Module<
  [query: ng.Tensor, key: ng.Tensor, value: ng.Tensor, attnMask?: ng.Tensor]
> {
  in_proj_weight: ng.nn.Parameter;
  in_proj_bias: ng.nn.Parameter;
  out_proj: ng.nn.Linear;

  constructor(
    readonly embedDim: number,
    readonly numHeads: number,
    readonly dropout = 0,
  ) {
    super();
    if (embedDim % numHeads !== 0) {
      throw new ng.NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `MultiheadAttention: embedDim ${embedDim} is not a multiple of numHeads ${numHeads}`,
      );
    }
    this.in_proj_weight = new nn.Parameter(nn.init.xavierUniform_(ng.zeros([3 * embedDim, embedDim])));
    this.in_proj_bias = new nn.Parameter(ng.zeros([3 * embedDim]));
    this.out_proj = new nn.Linear(embedDim, embedDim);
    ng.noGrad(() => {
      if (this.out_proj.bias) nn.init.zeros_(this.out_proj.bias);
    });
  }

  /** query, key, value [T, N, E]; attnMask [T, S] is added to the attention scores. → [T, N, E]. */
  forward(query: ng.Tensor, key: ng.Tensor, value: ng.Tensor, attnMask?: ng.Tensor): ng.Tensor {
    const [T, N, E] = query.shape;
    const headDim = E / this.numHeads;
    const [wq, wk, wv] = this.in_proj_weight.chunk(3, 0);
    const [bq, bk, bv] = this.in_proj_bias.chunk(3, 0);
    // [L, N, E] → [N, heads, L, headDim]
    const heads = (x: ng.Tensor) => x.reshape([x.shape[0], N, this.numHeads, headDim]).permute([1, 2, 0, 3]);
    const q = heads(F.linear(query, wq, bq));
    const k = heads(F.linear(key, wk, bk));
    const v = heads(F.linear(value, wv, bv));
    let scores = q.matmul(k.transpose(-2, -1)).mul(1 / Math.sqrt(headDim));
    if (attnMask) scores = scores.add(attnMask);
    const attn = F.dropout(F.softmax(scores, -1), this.dropout, { training: this.training });
    const out = attn.matmul(v).permute([2, 0, 1, 3]).reshape([T, N, E]);
    return this.out_proj.forward(out);
  }
}

/** Post-norm: x = norm1(x + selfAttention(x)); x = norm2(x + linear2(relu(linear1(x)))). */
export class TransformerEncoderLayer extends nn.Module<[src: ng.Tensor, mask?: ng.Tensor]> {
  self_attn: MultiheadAttention;
  linear1: ng.nn.Linear;
  dropout: ng.nn.Dropout;
  linear2: ng.nn.Linear;
  norm1: LayerNorm;
  norm2: LayerNorm;
  dropout1: ng.nn.Dropout;
  dropout2: ng.nn.Dropout;

  constructor(dModel: number, nhead: number, dimFeedforward = 2048, dropout = 0.1) {
    super();
    this.self_attn = new MultiheadAttention(dModel, nhead, dropout);
    this.linear1 = new nn.Linear(dModel, dimFeedforward);
    this.dropout = new nn.Dropout(dropout);
    this.linear2 = new nn.Linear(dimFeedforward, dModel);
    this.norm1 = new LayerNorm(dModel);
    this.norm2 = new LayerNorm(dModel);
    this.dropout1 = new nn.Dropout(dropout);
    this.dropout2 = new nn.Dropout(dropout);
  }

  forward(src: ng.Tensor, mask?: ng.Tensor): ng.Tensor {
    let x = this.norm1.forward(src.add(this.dropout1.forward(this.self_attn.forward(src, src, src, mask))));
    const feedForward = this.linear2.forward(this.dropout.forward(F.relu(this.linear1.forward(x))));
    x = this.norm2.forward(x.add(this.dropout2.forward(feedForward)));
    return x;
  }
}

/** A stack of encoder layers (each built by `makeLayer`, as PyTorch deep-copies its template). */
export class TransformerEncoder extends nn.Module<[src: ng.Tensor, mask?: ng.Tensor]> {
  layers: ng.nn.ModuleList<TransformerEncoderLayer>;

  constructor(makeLayer: () => TransformerEncoderLayer, numLayers: number) {
    super();
    this.layers = new nn.ModuleList(Array.from({ length: numLayers }, makeLayer));
  }

  forward(src: ng.Tensor, mask?: ng.Tensor): ng.Tensor {
    let x = src;
    for (const layer of this.layers) x = layer.forward(x, mask);
    return x;
  }
}
