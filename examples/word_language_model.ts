/**
 * A word-level language model (pytorch/examples word_language_model): an LSTM or a Transformer
 * encoder over word embeddings predicts the next word of a small embedded corpus, trained on
 * bptt-long windows (truncated backpropagation through time for the LSTM) with gradient clipping
 * and a hand-written SGD step; then it reports validation perplexity and samples text (generate.py).
 */
import * as ng from 'nodegrad';
import { CORPUS } from './parts/corpus.js';
import { isMain, type ExampleOptions, type ExampleResult } from './parts/example.js';

const { nn } = ng;
const F = nn.functional;

/** data.py's Dictionary and Corpus: every line's words then '<eos>', as int32 word ids. */
class Dictionary {
  readonly word2idx = new Map<string, number>();
  readonly idx2word: string[] = [];

  addWord(word: string): number {
    const known = this.word2idx.get(word);
    if (known !== undefined) return known;
    const index = this.idx2word.length;
    this.word2idx.set(word, index);
    this.idx2word.push(word);
    return index;
  }

  tokenize(lines: string[]): ng.Tensor {
    const ids = lines.flatMap((line) => [...line.split(' '), '<eos>'].map((word) => this.addWord(word)));
    return ng.tensor(ids, { dtype: 'int32' });
  }
}

/** Container module: embedding → LSTM → Linear decoder, log-probabilities over the vocabulary. */
class RNNModel extends nn.Module<[input: ng.Tensor, hidden?: ng.nn.LSTMState], [ng.Tensor, ng.nn.LSTMState]> {
  drop: ng.nn.Dropout;
  encoder: ng.nn.Embedding;
  rnn: ng.nn.LSTM;
  decoder: ng.nn.Linear;

  constructor(
    readonly ntoken: number,
    ninp: number,
    readonly nhid: number,
    readonly nlayers: number,
    dropout: number,
    tieWeights: boolean,
  ) {
    super();
    this.drop = new nn.Dropout(dropout);
    this.encoder = new nn.Embedding(ntoken, ninp);
    this.rnn = new nn.LSTM(ninp, nhid, { numLayers: nlayers, dropout });
    this.decoder = new nn.Linear(nhid, ntoken);
    // "Using the Output Embedding to Improve Language Models" (Press & Wolf, 2016): one shared matrix.
    if (tieWeights) {
      if (nhid !== ninp) {
        throw new ng.NodegradError(
          'ERR_NODEGRAD_ARGUMENT',
          `RNNModel: tied weights need nhid == emsize, got ${nhid} and ${ninp}`,
        );
      }
      this.decoder.weight = this.encoder.weight;
    }
    ng.noGrad(() => {
      nn.init.uniform_(this.encoder.weight, -0.1, 0.1);
      if (this.decoder.bias) nn.init.zeros_(this.decoder.bias);
      nn.init.uniform_(this.decoder.weight, -0.1, 0.1);
    });
  }

  /** input [T, N] word ids → log-probabilities [T·N, ntoken] and the final hidden state. */
  forward(input: ng.Tensor, hidden?: ng.nn.LSTMState): [ng.Tensor, ng.nn.LSTMState] {
    const emb = this.drop.forward(this.encoder.forward(input));
    const [output, next] = this.rnn.forward(emb, hidden);
    const decoded = this.decoder.forward(this.drop.forward(output)).view([-1, this.ntoken]);
    return [F.logSoftmax(decoded, 1), next];
  }

  initHidden(batchSize: number): ng.nn.LSTMState {
    return [ng.zeros([this.nlayers, batchSize, this.nhid]), ng.zeros([this.nlayers, batchSize, this.nhid])];
  }
}

/**
 * Adds sin/cos of geometrically spaced frequencies to each position (Vaswani et al., 2017), a table
 * kept as a buffer [maxLen, 1, d].
 */
class PositionalEncoding extends nn.Module {
  dropout: ng.nn.Dropout;

  constructor(dModel: number, dropout = 0.1, maxLen = 5000) {
    super();
    this.dropout = new nn.Dropout(dropout);
    const pe = ng.zeros([maxLen, dModel]);
    const position = ng.arange(maxLen).unsqueeze(1);
    const divTerm = ng
      .arange(0, dModel, 2)
      .mul(-Math.log(10000) / dModel)
      .exp();
    const angles = position.mul(divTerm);
    pe.indexPut_([':', '0::2'], angles.sin());
    pe.indexPut_([':', '1::2'], angles.cos().index(':', ng.slice(null, Math.floor(dModel / 2))));
    this.registerBuffer('pe', pe.unsqueeze(1));
  }

  /** x [T, N, d] */
  forward(x: ng.Tensor): ng.Tensor {
    const pe = (this as unknown as { pe: ng.Tensor }).pe;
    return this.dropout.forward(x.add(pe.narrow(0, 0, x.shape[0])));
  }
}

/** Embedding × √ninp + positions → causal Transformer encoder → Linear decoder → log-probabilities. */
class TransformerModel extends nn.Module {
  readonly modelType = 'Transformer';
  pos_encoder: PositionalEncoding;
  transformer_encoder: ng.nn.TransformerEncoder;
  encoder: ng.nn.Embedding;
  decoder: ng.nn.Linear;

  constructor(
    readonly ntoken: number,
    readonly ninp: number,
    nhead: number,
    nhid: number,
    nlayers: number,
    dropout = 0.5,
  ) {
    super();
    this.pos_encoder = new PositionalEncoding(ninp, dropout);
    this.transformer_encoder = new nn.TransformerEncoder(
      new nn.TransformerEncoderLayer(ninp, nhead, { dimFeedforward: nhid, dropout }),
      nlayers,
    );
    this.encoder = new nn.Embedding(ntoken, ninp);
    this.decoder = new nn.Linear(ninp, ntoken);
    ng.noGrad(() => {
      nn.init.uniform_(this.encoder.weight, -0.1, 0.1);
      if (this.decoder.bias) nn.init.zeros_(this.decoder.bias);
      nn.init.uniform_(this.decoder.weight, -0.1, 0.1);
    });
  }

  /** src [T, N] word ids → log-probabilities [T·N, ntoken]; position t attends to positions ≤ t only. */
  forward(src: ng.Tensor): ng.Tensor {
    const x = this.pos_encoder.forward(this.encoder.forward(src).mul(Math.sqrt(this.ninp)));
    const output = this.decoder.forward(this.transformer_encoder.forward(x, { isCausal: true }));
    return F.logSoftmax(output, -1).view([-1, this.ntoken]);
  }
}

/** [tokens] → [tokens / batchSize, batchSize]: column j is the j-th contiguous slice of the text. */
function batchify(data: ng.Tensor, batchSize: number): ng.Tensor {
  const rows = Math.floor(data.shape[0] / batchSize);
  return data
    .narrow(0, 0, rows * batchSize)
    .view([batchSize, rows])
    .t()
    .contiguous();
}

/** Rows i.. of `source` as input and the same rows shifted by one word as the flattened target. */
function getBatch(source: ng.Tensor, i: number, bptt: number): [ng.Tensor, ng.Tensor] {
  const seqLen = Math.min(bptt, source.shape[0] - 1 - i);
  return [source.narrow(0, i, seqLen), source.narrow(0, i + 1, seqLen).reshape([-1])];
}

/** Detaches the hidden state from the previous window's graph (truncated BPTT). */
const repackageHidden = ([h, c]: ng.nn.LSTMState): ng.nn.LSTMState => [h.detach(), c.detach()];

export interface WordLanguageModelOptions extends ExampleOptions {
  model?: 'LSTM' | 'Transformer';
  emsize?: number;
  nhid?: number;
  /** 1 by default (the original's 2 needs far more steps than this corpus offers). */
  nlayers?: number;
  /** Attention heads of the Transformer. */
  nhead?: number;
  /** 20 for the LSTM, 5 for the Transformer (the original README's setting for it). */
  lr?: number;
  clip?: number;
  batchSize?: number;
  bptt?: number;
  dropout?: number;
  /** Words sampled after training (generate.py). */
  words?: number;
}

/**
 * Runs either model on windows of the text. The LSTM carries its hidden state from one window to
 * the next, detached from the previous window's graph (truncated BPTT); the Transformer sees each
 * window alone.
 */
function windowRunner(model: RNNModel | TransformerModel) {
  let hidden: ng.nn.LSTMState | undefined;
  return {
    reset(batchSize: number): void {
      if (model instanceof RNNModel) hidden = model.initHidden(batchSize);
    },
    forward(input: ng.Tensor): ng.Tensor {
      if (model instanceof TransformerModel) return model.forward(input);
      if (!hidden) throw new ng.NodegradError('ERR_NODEGRAD_ARGUMENT', 'windowRunner: call reset(batchSize) first');
      const [output, next] = model.forward(input, repackageHidden(hidden));
      hidden = next;
      return output;
    },
  };
}

export function main(options: WordLanguageModelOptions = {}): ExampleResult {
  const {
    model: modelType = 'LSTM',
    steps = 200,
    emsize = 64,
    nhid = 64,
    nlayers = 1,
    nhead = 2,
    clip = 0.25,
    batchSize = 10,
    bptt = 20,
    dropout = 0.2,
    words = 30,
    log = () => {},
  } = options;
  const lr = options.lr ?? (modelType === 'Transformer' ? 5 : 20);
  ng.manualSeed(1111);
  const lines = CORPUS.trim().split('\n');
  const dictionary = new Dictionary();
  const trainData = batchify(dictionary.tokenize(lines.slice(0, -4)), batchSize);
  const validData = batchify(dictionary.tokenize(lines.slice(-4)), 2);
  const ntokens = dictionary.idx2word.length;
  const model =
    modelType === 'Transformer'
      ? new TransformerModel(ntokens, emsize, nhead, nhid, nlayers, dropout)
      : new RNNModel(ntokens, emsize, nhid, nlayers, dropout, true);
  const runner = windowRunner(model);

  const losses: number[] = [];
  let i = trainData.shape[0];
  model.train();
  for (let step = 0; step < steps; step++) {
    if (i >= trainData.shape[0] - 1) {
      i = 0;
      runner.reset(batchSize);
    }
    const [data, targets] = getBatch(trainData, i, bptt);
    i += bptt;
    model.zeroGrad();
    const loss = F.nllLoss(runner.forward(data), targets);
    loss.backward();
    // clip_grad_norm_ keeps the exploding-gradient problem of RNNs in check.
    nn.utils.clipGradNorm_(model.parameters(), clip);
    ng.noGrad(() => {
      for (const p of model.parameters()) if (p.grad) p.add_(p.grad, { alpha: -lr });
    });
    losses.push(loss.item());
    if (step % 20 === 0)
      log(`step ${step} | lr ${lr} | loss ${losses[step].toFixed(2)} | ppl ${Math.exp(losses[step]).toFixed(2)}`);
  }

  model.eval();
  ng.noGrad(() => {
    let total = 0;
    runner.reset(2);
    for (let j = 0; j < validData.shape[0] - 1; j += bptt) {
      const [data, targets] = getBatch(validData, j, bptt);
      total += data.shape[0] * F.nllLoss(runner.forward(data), targets).item();
    }
    const validLoss = total / (validData.shape[0] - 1);
    log(`end of training | valid loss ${validLoss.toFixed(2)} | valid ppl ${Math.exp(validLoss).toFixed(2)}`);

    // generate.py: sample from softmax(logits / temperature) and feed the word back in; the LSTM
    // reads one word per step, the Transformer rereads the whole sequence so far.
    const temperature = 1;
    let sequence = ng.randint(ntokens, [1, 1]);
    runner.reset(1);
    const sampled: string[] = [];
    for (let w = 0; w < words; w++) {
      const input = model instanceof TransformerModel ? sequence : sequence.narrow(0, sequence.shape[0] - 1, 1);
      const output = runner.forward(input);
      const last = output.index(-1);
      const wordIdx = ng.multinomial(last.div(temperature).exp(), 1);
      sampled.push(dictionary.idx2word[wordIdx.item()]);
      sequence = ng.cat([sequence, wordIdx.view([1, 1])], 0);
    }
    log(`sampled: ${sampled.join(' ').replaceAll(' <eos> ', '\n         ')}`);
  });
  return { losses };
}

if (isMain(import.meta.url)) {
  // `--model Transformer`, as main.py takes it.
  const at = process.argv.indexOf('--model');
  main({ log: console.log, model: at > 0 && process.argv[at + 1] === 'Transformer' ? 'Transformer' : 'LSTM' });
}
