/**
 * A GPT in nanoGPT's layout (Karpathy's model.py): token and position embeddings, pre-norm blocks of
 * causal self-attention and a GELU MLP, a final LayerNorm and a language-model head tied to the
 * token embedding. Module names and state-dict keys are nanoGPT's (`transformer.wte.weight`,
 * `transformer.h.0.attn.c_attn.weight`, ..., `lm_head.weight`), so its checkpoints load as they are.
 */
import { isGradEnabled, noGrad } from '../autograd/grad-mode.js';
import { NodegradError } from '../errors.js';
import { ModuleDict, ModuleList } from '../nn/containers.js';
import { Embedding } from '../nn/embedding.js';
import * as init from '../nn/init.js';
import { Dropout, Linear } from '../nn/layers.js';
import { Module } from '../nn/module.js';
import { LayerNorm } from '../nn/normalization.js';
import { scaledDotProductAttention } from '../ops/attention.js';
import { crossEntropy } from '../ops/cross-entropy.js';
import { gelu } from '../ops/unary.js';
import { cat } from '../ops/join.js';
import { softmax } from '../ops/softmax.js';
import { multinomial } from '../tensor/sampling.js';
import { arange } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import { AdamW } from '../optim/adam.js';

/** The size of a GPT, as nanoGPT's GPTConfig. */
export interface GPTOptions {
  /** Tokens in the vocabulary. */
  vocabSize: number;
  /** The longest context (positions embedded). */
  blockSize: number;
  /** Transformer blocks. Default 4. */
  nLayer?: number;
  /** Attention heads per block (must divide nEmbd). Default 4. */
  nHead?: number;
  /** Width of the residual stream. Default 128. */
  nEmbd?: number;
  /** Dropout after the embeddings, on attention weights and after each residual branch. Default 0. */
  dropout?: number;
  /** Biases in the Linear layers and LayerNorms (GPT-2: true). Default true. */
  bias?: boolean;
}

/** The sizes of a built GPT: every option resolved to its value. */
export type GPTConfig = Required<GPTOptions>;

function resolve(options: GPTOptions): GPTConfig {
  const config: GPTConfig = { nLayer: 4, nHead: 4, nEmbd: 128, dropout: 0, bias: true, ...options };
  for (const key of ['vocabSize', 'blockSize', 'nLayer', 'nHead', 'nEmbd'] as const) {
    if (!Number.isInteger(config[key]) || config[key] < 1) {
      throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `gpt: ${key} must be a positive integer, got ${config[key]}`);
    }
  }
  if (config.nEmbd % config.nHead !== 0) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `gpt: nEmbd ${config.nEmbd} must be a multiple of nHead ${config.nHead}`,
    );
  }
  if (!(config.dropout >= 0 && config.dropout < 1)) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `gpt: dropout must be in [0, 1), got ${config.dropout}`);
  }
  return config;
}

/** Multi-head causal self-attention: one projection to q, k, v of all heads, flash attention, an output projection. */
export class CausalSelfAttention extends Module<[x: Tensor]> {
  /** q, k and v of all heads in one matmul: [nEmbd] → [3 nEmbd]. */
  c_attn: Linear;
  /** The heads' outputs back into the residual stream. */
  c_proj: Linear;
  /** Dropout on the output. */
  resid_dropout: Dropout;

  /** @param config - The GPT's sizes. */
  constructor(private readonly config: GPTConfig) {
    super();
    this.c_attn = new Linear(config.nEmbd, 3 * config.nEmbd, { bias: config.bias });
    this.c_proj = new Linear(config.nEmbd, config.nEmbd, { bias: config.bias });
    this.resid_dropout = new Dropout(config.dropout);
  }

  /** x [B, T, C] → [B, T, C], each position attending to itself and the ones before. */
  forward(x: Tensor): Tensor {
    const [B, T, C] = x.shape;
    const nh = this.config.nHead;
    const heads = (t: Tensor) => t.reshape([B, T, nh, C / nh]).transpose(1, 2);
    const [q, k, v] = this.c_attn.forward(x).split(C, 2).map(heads);
    const dropoutP = this.training ? this.config.dropout : 0;
    const y = scaledDotProductAttention(q, k, v, { isCausal: true, dropoutP });
    return this.resid_dropout.forward(this.c_proj.forward(y.transpose(1, 2).reshape([B, T, C])));
  }
}

/** The block's feed-forward part: Linear to 4 nEmbd, GELU, Linear back, dropout. */
export class MLP extends Module<[x: Tensor]> {
  /** [nEmbd] → [4 nEmbd]. */
  c_fc: Linear;
  /** [4 nEmbd] → [nEmbd]. */
  c_proj: Linear;
  /** Dropout on the output. */
  dropout: Dropout;

  /** @param config - The GPT's sizes. */
  constructor(config: GPTConfig) {
    super();
    this.c_fc = new Linear(config.nEmbd, 4 * config.nEmbd, { bias: config.bias });
    this.c_proj = new Linear(4 * config.nEmbd, config.nEmbd, { bias: config.bias });
    this.dropout = new Dropout(config.dropout);
  }

  /** x [..., nEmbd] → [..., nEmbd]. */
  forward(x: Tensor): Tensor {
    return this.dropout.forward(this.c_proj.forward(gelu(this.c_fc.forward(x))));
  }
}

/** A pre-norm transformer block: x + attn(ln_1(x)), then x + mlp(ln_2(x)). */
export class Block extends Module<[x: Tensor]> {
  /** The norm before attention. */
  ln_1: LayerNorm;
  /** Causal self-attention. */
  attn: CausalSelfAttention;
  /** The norm before the MLP. */
  ln_2: LayerNorm;
  /** The feed-forward part. */
  mlp: MLP;

  /** @param config - The GPT's sizes. */
  constructor(config: GPTConfig) {
    super();
    this.ln_1 = new LayerNorm(config.nEmbd, { bias: config.bias });
    this.attn = new CausalSelfAttention(config);
    this.ln_2 = new LayerNorm(config.nEmbd, { bias: config.bias });
    this.mlp = new MLP(config);
  }

  /** x [B, T, nEmbd] → [B, T, nEmbd]. */
  forward(x: Tensor): Tensor {
    const h = x.add(this.attn.forward(this.ln_1.forward(x)));
    return h.add(this.mlp.forward(this.ln_2.forward(h)));
  }
}

/** What {@link GPT.forward} returns: the logits, and the loss when targets were given. */
export interface GPTOutput {
  /** [B, T, vocabSize] with targets; [B, 1, vocabSize] (the last position's) without. */
  logits: Tensor;
  /** Mean cross-entropy over the targets that are not -1; null without targets. */
  loss: Tensor | null;
}

/** Options of {@link GPT.generate}. */
export interface GenerateOptions {
  /** Divides the logits before sampling: below 1 sharper, above 1 flatter. Default 1. */
  temperature?: number;
  /** Sample only among the k most likely tokens. Default: all. */
  topK?: number;
}

/**
 * nanoGPT's GPT: `forward(idx, targets?)` maps int32 tokens [B, T] (T ≤ blockSize) to logits and,
 * given int32 targets [B, T], the cross-entropy loss (targets of -1 ignored). Weights start as
 * GPT-2's: N(0, 0.02), the residual projections N(0, 0.02 / √(2 nLayer)), biases zero; `lm_head`
 * shares its weight with `transformer.wte`.
 */
export class GPT extends Module<[idx: Tensor, targets?: Tensor], GPTOutput> {
  /** wte, wpe, drop, h (the blocks) and ln_f, as nanoGPT's ModuleDict. */
  transformer: ModuleDict;
  /** The language-model head, [nEmbd] → [vocabSize], tied to the token embedding. */
  lm_head: Linear;
  /** The sizes the model was built with. */
  readonly config: Readonly<GPTConfig>;
  // Typed references to the ModuleDict's entries; # fields are not module members (no second key).
  readonly #wte: Embedding;
  readonly #wpe: Embedding;
  readonly #drop: Dropout;
  readonly #blocks: Block[];
  readonly #lnF: LayerNorm;

  /** @param options - The sizes; see {@link GPTOptions}. */
  constructor(options: GPTOptions) {
    super();
    const config = resolve(options);
    this.config = config;
    this.#wte = new Embedding(config.vocabSize, config.nEmbd);
    this.#wpe = new Embedding(config.blockSize, config.nEmbd);
    this.#drop = new Dropout(config.dropout);
    this.#blocks = Array.from({ length: config.nLayer }, () => new Block(config));
    this.#lnF = new LayerNorm(config.nEmbd, { bias: config.bias });
    this.transformer = new ModuleDict({
      wte: this.#wte,
      wpe: this.#wpe,
      drop: this.#drop,
      h: new ModuleList(this.#blocks),
      ln_f: this.#lnF,
    });
    this.lm_head = new Linear(config.nEmbd, config.vocabSize, { bias: false });
    this.#wte.weight = this.lm_head.weight;
    noGrad(() => {
      for (const [name, p] of this.namedParameters()) {
        if (name.endsWith('bias')) init.zeros_(p);
        else if (name.endsWith('c_proj.weight')) init.normal_(p, 0, 0.02 / Math.sqrt(2 * config.nLayer));
        else if (p.ndim === 2) init.normal_(p, 0, 0.02);
      }
    });
  }

  /** Parameters, without the position embeddings unless `nonEmbedding` is false (nanoGPT's get_num_params). */
  numParams(nonEmbedding = true): number {
    let n = 0;
    for (const p of this.parameters()) n += p.numel;
    return nonEmbedding ? n - this.#wpe.weight.numel : n;
  }

  /** idx [B, T] → logits (and the loss given targets [B, T]); see {@link GPTOutput}. */
  forward(idx: Tensor, targets?: Tensor): GPTOutput {
    if (idx.ndim !== 2 || idx.dtype !== 'int32') {
      throw new NodegradError(
        'ERR_NODEGRAD_SHAPE',
        `GPT: expected int32 tokens [B, T], got ${idx.dtype} of shape [${idx.shape.join(', ')}]`,
      );
    }
    const t = idx.shape[1];
    if (t > this.config.blockSize) {
      throw new NodegradError(
        'ERR_NODEGRAD_SHAPE',
        `GPT: cannot forward a sequence of length ${t}, the block size is only ${this.config.blockSize}`,
      );
    }
    const pos = arange(0, t, 1, { dtype: 'int32' });
    let x = this.#drop.forward(this.#wte.forward(idx).add(this.#wpe.forward(pos)));
    for (const block of this.#blocks) x = block.forward(x);
    x = this.#lnF.forward(x);
    if (targets) {
      const logits = this.lm_head.forward(x);
      const loss = crossEntropy(logits.reshape([-1, this.config.vocabSize]), targets.reshape([-1]), {
        ignoreIndex: -1,
      });
      return { logits, loss };
    }
    return { logits: this.lm_head.forward(x.narrow(1, t - 1, 1)), loss: null };
  }

  /**
   * AdamW with weight decay on the parameters of two or more dims (matrices, embeddings) only, as
   * nanoGPT's configure_optimizers.
   */
  configureOptimizers(weightDecay: number, lr: number, betas: [number, number] = [0.9, 0.95]): AdamW {
    const params = [...this.parameters()];
    return new AdamW(
      [
        { params: params.filter((p) => p.ndim >= 2), weightDecay },
        { params: params.filter((p) => p.ndim < 2), weightDecay: 0 },
      ],
      { lr, betas },
    );
  }

  /**
   * Appends maxNewTokens sampled tokens to idx [B, T] (int32), each conditioned on the last
   * blockSize tokens; runs without recording a graph, in whatever mode the model is (call eval() first).
   */
  generate(idx: Tensor, maxNewTokens: number, options: GenerateOptions = {}): Tensor {
    const { temperature = 1, topK } = options;
    if (!(temperature > 0)) {
      throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `GPT.generate: temperature must be > 0, got ${temperature}`);
    }
    const run = () => {
      let out = idx;
      for (let i = 0; i < maxNewTokens; i++) {
        const t = out.shape[1];
        const context =
          t <= this.config.blockSize ? out : out.narrow(1, t - this.config.blockSize, this.config.blockSize);
        let logits = this.forward(context).logits.squeeze(1).div(temperature);
        if (topK !== undefined) {
          const v = logits.topk(Math.min(topK, logits.shape[1]), { dim: -1 }).values;
          logits = logits.maskedFill(logits.lt(v.index(':', [-1])), -Infinity);
        }
        out = cat([out, multinomial(softmax(logits, -1), 1)], 1);
      }
      return out;
    };
    return isGradEnabled() ? noGrad(run) : run();
  }
}

/**
 * A GPT (see {@link GPT}); `ng.models.gpt({ vocabSize: 27, blockSize: 16, nLayer: 4, nHead: 4,
 * nEmbd: 128 })` is nanoGPT's `GPT(GPTConfig(...))`.
 */
export function gpt(options: GPTOptions): GPT {
  return new GPT(options);
}
