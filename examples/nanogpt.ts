/**
 * nanoGPT (Karpathy's model.py and train.py), scaled down: a decoder-only transformer trained on
 * the characters of a small embedded text with AdamW (weight decay on matrices only), linear
 * warmup then cosine decay, gradient clipping, and generation with temperature and top-k sampling.
 */
import * as ng from 'nodegrad';
import { CORPUS } from './parts/corpus.js';
import { isMain, type ExampleOptions, type ExampleResult } from './parts/example.js';

const { nn } = ng;
const F = nn.functional;

export interface GPTConfig {
  blockSize: number;
  vocabSize: number;
  nLayer: number;
  nHead: number;
  nEmbd: number;
  dropout: number;
  /** Biases in the Linear layers and LayerNorms (GPT-2: true; a bit better and faster without). */
  bias: boolean;
}

class CausalSelfAttention extends nn.Module {
  c_attn: ng.nn.Linear;
  c_proj: ng.nn.Linear;
  resid_dropout: ng.nn.Dropout;

  constructor(readonly config: GPTConfig) {
    super();
    if (config.nEmbd % config.nHead !== 0) {
      throw new ng.NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `CausalSelfAttention: nEmbd ${config.nEmbd} is not a multiple of nHead ${config.nHead}`,
      );
    }
    // Key, query and value projections of all heads in one matmul.
    this.c_attn = new nn.Linear(config.nEmbd, 3 * config.nEmbd, { bias: config.bias });
    this.c_proj = new nn.Linear(config.nEmbd, config.nEmbd, { bias: config.bias });
    this.resid_dropout = new nn.Dropout(config.dropout);
  }

  forward(x: ng.Tensor): ng.Tensor {
    const [B, T, C] = x.shape;
    const nh = this.config.nHead;
    // [B, T, C] → [B, nh, T, hs]; reshape, as nodegrad's view (unlike PyTorch's) refuses the split's strided slices.
    const heads = (t: ng.Tensor) => t.reshape([B, T, nh, C / nh]).transpose(1, 2);
    const [q, k, v] = this.c_attn.forward(x).split(C, 2).map(heads);
    // Causal attention in one op that never builds the [T, T] scores (flash attention).
    const dropoutP = this.training ? this.config.dropout : 0;
    const att = F.scaledDotProductAttention(q, k, v, { isCausal: true, dropoutP });
    const y = att.transpose(1, 2).contiguous().view([B, T, C]); // heads side by side again
    return this.resid_dropout.forward(this.c_proj.forward(y));
  }
}

class MLP extends nn.Module {
  c_fc: ng.nn.Linear;
  c_proj: ng.nn.Linear;
  dropout: ng.nn.Dropout;

  constructor(config: GPTConfig) {
    super();
    this.c_fc = new nn.Linear(config.nEmbd, 4 * config.nEmbd, { bias: config.bias });
    this.c_proj = new nn.Linear(4 * config.nEmbd, config.nEmbd, { bias: config.bias });
    this.dropout = new nn.Dropout(config.dropout);
  }

  forward(x: ng.Tensor): ng.Tensor {
    return this.dropout.forward(this.c_proj.forward(F.gelu(this.c_fc.forward(x))));
  }
}

/** Pre-norm residual block: x + attn(ln(x)), then x + mlp(ln(x)). */
class Block extends nn.Module {
  ln_1: ng.nn.LayerNorm;
  attn: CausalSelfAttention;
  ln_2: ng.nn.LayerNorm;
  mlp: MLP;

  constructor(config: GPTConfig) {
    super();
    this.ln_1 = new nn.LayerNorm(config.nEmbd, { bias: config.bias });
    this.attn = new CausalSelfAttention(config);
    this.ln_2 = new nn.LayerNorm(config.nEmbd, { bias: config.bias });
    this.mlp = new MLP(config);
  }

  forward(x: ng.Tensor): ng.Tensor {
    x = x.add(this.attn.forward(this.ln_1.forward(x)));
    return x.add(this.mlp.forward(this.ln_2.forward(x)));
  }
}

/** `module` as a `type`, which the ModuleDict's entry `name` holds. */
function checked<M>(module: unknown, type: abstract new (...args: never[]) => M, name: string): M {
  if (module instanceof type) return module;
  throw new ng.NodegradError('ERR_NODEGRAD_ARGUMENT', `GPT: ${name} is not a ${type.name}`);
}

interface GPTOutput {
  logits: ng.Tensor;
  loss: ng.Tensor | null;
}

export class GPT extends nn.Module<[idx: ng.Tensor, targets?: ng.Tensor], GPTOutput> {
  transformer: ng.nn.ModuleDict;
  lm_head: ng.nn.Linear;

  constructor(readonly config: GPTConfig) {
    super();
    this.transformer = new nn.ModuleDict({
      wte: new nn.Embedding(config.vocabSize, config.nEmbd),
      wpe: new nn.Embedding(config.blockSize, config.nEmbd),
      drop: new nn.Dropout(config.dropout),
      h: new nn.ModuleList(Array.from({ length: config.nLayer }, () => new Block(config))),
      ln_f: new nn.LayerNorm(config.nEmbd, { bias: config.bias }),
    });
    this.lm_head = new nn.Linear(config.nEmbd, config.vocabSize, { bias: false });
    // Weight tying (https://paperswithcode.com/method/weight-tying): one matrix embeds and unembeds.
    this.wte.weight = this.lm_head.weight;
    ng.noGrad(() => {
      for (const [name, p] of this.namedParameters()) {
        if (name.endsWith('bias')) nn.init.zeros_(p);
        // GPT-2's scaled init of the projections into the residual stream.
        else if (name.endsWith('c_proj.weight')) nn.init.normal_(p, 0, 0.02 / Math.sqrt(2 * config.nLayer));
        else if (name.endsWith('weight') && p.ndim === 2) nn.init.normal_(p, 0, 0.02);
      }
    });
  }

  // Typed views of the ModuleDict's entries (getters, so they are not registered a second time).
  private get wte(): ng.nn.Embedding {
    return checked(this.transformer.get('wte'), nn.Embedding, 'transformer.wte');
  }
  private get wpe(): ng.nn.Embedding {
    return checked(this.transformer.get('wpe'), nn.Embedding, 'transformer.wpe');
  }
  private get blocks(): Block[] {
    const h = checked(this.transformer.get('h'), nn.ModuleList, 'transformer.h');
    return [...h].map((block, i) => checked(block, Block, `transformer.h.${i}`));
  }

  /** Parameters, not counting the position embeddings (nanoGPT's get_num_params). */
  numParams(): number {
    let n = 0;
    for (const p of this.parameters()) n += p.numel;
    return n - this.wpe.weight.numel;
  }

  /** idx [B, T] → logits [B, T, vocab] and the loss; without targets only the last position's logits. */
  forward(idx: ng.Tensor, targets?: ng.Tensor): GPTOutput {
    const [, t] = idx.shape;
    if (t > this.config.blockSize) {
      throw new ng.NodegradError(
        'ERR_NODEGRAD_SHAPE',
        `GPT: cannot forward a sequence of length ${t}, the block size is only ${this.config.blockSize}`,
      );
    }
    const pos = ng.arange(0, t, 1, { dtype: 'int32' });
    const drop = checked(this.transformer.get('drop'), nn.Dropout, 'transformer.drop');
    let x = drop.forward(this.wte.forward(idx).add(this.wpe.forward(pos)));
    for (const block of this.blocks) x = block.forward(x);
    x = checked(this.transformer.get('ln_f'), nn.LayerNorm, 'transformer.ln_f').forward(x);
    if (targets) {
      const logits = this.lm_head.forward(x);
      const loss = F.crossEntropy(logits.view([-1, logits.shape[2]]), targets.reshape([-1]), { ignoreIndex: -1 });
      return { logits, loss };
    }
    // Inference needs the next-token distribution only: the last position's logits.
    return { logits: this.lm_head.forward(x.narrow(1, t - 1, 1)), loss: null };
  }

  /** AdamW with weight decay on every parameter of 2 or more dims (matrices, embeddings) only. */
  configureOptimizers(weightDecay: number, lr: number, betas: [number, number]): ng.optim.AdamW {
    const params = [...this.parameters()];
    return new ng.optim.AdamW(
      [
        { params: params.filter((p) => p.ndim >= 2), weightDecay },
        { params: params.filter((p) => p.ndim < 2), weightDecay: 0 },
      ],
      { lr, betas },
    );
  }

  /** Appends maxNewTokens sampled tokens to idx [B, T], each conditioned on the last blockSize ones. */
  generate(idx: ng.Tensor, maxNewTokens: number, options: { temperature?: number; topK?: number } = {}): ng.Tensor {
    const { temperature = 1, topK } = options;
    return ng.noGrad(() => {
      for (let i = 0; i < maxNewTokens; i++) {
        const t = idx.shape[1];
        const context =
          t <= this.config.blockSize ? idx : idx.narrow(1, t - this.config.blockSize, this.config.blockSize);
        const logits = this.forward(context).logits.squeeze(1).div(temperature);
        let next: ng.Tensor;
        if (topK !== undefined) {
          // v, _ = torch.topk(logits, k); logits[logits < v[:, [-1]]] = -inf
          const v = logits.topk(Math.min(topK, logits.shape[1]), { dim: -1 }).values;
          next = ng.multinomial(F.softmax(logits.maskedFill(logits.lt(v.index(':', [-1])), -Infinity), -1), 1);
        } else {
          next = ng.multinomial(F.softmax(logits, -1), 1);
        }
        idx = ng.cat([idx, next], 1);
      }
      return idx;
    });
  }
}

export interface NanoGPTOptions extends ExampleOptions {
  batchSize?: number;
  blockSize?: number;
  nLayer?: number;
  nHead?: number;
  nEmbd?: number;
  learningRate?: number;
  /** Characters generated after training. */
  generate?: number;
}

export function main(options: NanoGPTOptions = {}): ExampleResult {
  const {
    steps = 300,
    batchSize = 16,
    blockSize = 32,
    nLayer = 2,
    nHead = 4,
    nEmbd = 64,
    learningRate = 3e-3,
    generate = 200,
    log = () => {},
  } = options;
  ng.manualSeed(1337);
  // prepare.py of shakespeare_char: characters sorted into the vocabulary, 90% train, 10% val.
  const chars = [...new Set(CORPUS)].sort();
  const stoi = new Map(chars.map((c, i) => [c, i]));
  const encode = (s: string) =>
    Array.from(s, (c) => {
      const id = stoi.get(c);
      if (id === undefined)
        throw new ng.NodegradError('ERR_NODEGRAD_ARGUMENT', `nanogpt: '${c}' is not in the vocabulary`);
      return id;
    });
  // The loss of a forward with targets (which always computes one).
  const lossOf = (x: ng.Tensor, y: ng.Tensor): ng.Tensor => {
    const { loss } = model.forward(x, y);
    if (!loss) throw new ng.NodegradError('ERR_NODEGRAD_ARGUMENT', 'nanogpt: forward with targets returned no loss');
    return loss;
  };
  const decode = (ids: ArrayLike<number>) => Array.from(ids, (i) => chars[i]).join('');
  const ids = encode(CORPUS);
  const split = Math.floor(ids.length * 0.9);
  const data = {
    train: ng.tensor(ids.slice(0, split), { dtype: 'int32' }),
    val: ng.tensor(ids.slice(split), { dtype: 'int32' }),
  };

  /** batchSize random windows of blockSize tokens and the same windows shifted by one. */
  const getBatch = (which: 'train' | 'val'): [ng.Tensor, ng.Tensor] => {
    const source = data[which];
    const starts = ng.randint(source.shape[0] - blockSize, [batchSize]).data();
    const x = ng.stack(Array.from(starts, (i) => source.narrow(0, i, blockSize)));
    const y = ng.stack(Array.from(starts, (i) => source.narrow(0, i + 1, blockSize)));
    return [x, y];
  };

  const config: GPTConfig = { blockSize, vocabSize: chars.length, nLayer, nHead, nEmbd, dropout: 0, bias: false };
  const model = new GPT(config);
  log(`number of parameters: ${(model.numParams() / 1e6).toFixed(2)}M, vocabulary ${chars.length} characters`);
  const optimizer = model.configureOptimizers(0.1, learningRate, [0.9, 0.99]);

  // train.py's get_lr: linear warmup, cosine decay to minLr over lrDecayIters, then minLr.
  const warmupIters = Math.max(1, Math.floor(steps / 10));
  const minLr = learningRate / 10;
  const getLr = (it: number) => {
    if (it < warmupIters) return (learningRate * (it + 1)) / (warmupIters + 1);
    const ratio = Math.min(1, (it - warmupIters) / Math.max(1, steps - warmupIters));
    return minLr + 0.5 * (1 + Math.cos(Math.PI * ratio)) * (learningRate - minLr);
  };

  const estimateLoss = (which: 'train' | 'val', iters = 5) =>
    ng.noGrad(() => {
      model.eval();
      let total = 0;
      for (let k = 0; k < iters; k++) total += lossOf(...getBatch(which)).item();
      model.train();
      return total / iters;
    });

  const losses: number[] = [];
  for (let it = 0; it < steps; it++) {
    for (const group of optimizer.paramGroups) group.lr = getLr(it);
    if (it > 0 && it % 100 === 0)
      log(`step ${it}: train loss ${estimateLoss('train').toFixed(4)}, val loss ${estimateLoss('val').toFixed(4)}`);
    const [x, y] = getBatch('train');
    const loss = lossOf(x, y);
    optimizer.zeroGrad();
    loss.backward();
    nn.utils.clipGradNorm_(model.parameters(), 1);
    optimizer.step();
    losses.push(loss.item());
    if (it % 20 === 0) log(`iter ${it}: loss ${losses[it].toFixed(4)}`);
  }

  if (generate > 0) {
    model.eval();
    const out = model.generate(ng.tensor([encode('the ')], { dtype: 'int32' }), generate, {
      temperature: 0.8,
      topK: 10,
    });
    log(`sample:\n${decode(out.index(0).data())}`);
  }
  return { losses };
}

if (isMain(import.meta.url)) main({ log: console.log });
