/**
 * A word-level language model (pytorch/examples word_language_model): an LSTM over word
 * embeddings predicts the next word of a small embedded corpus, trained by truncated
 * backpropagation through time with gradient clipping and a hand-written SGD step; then it
 * reports validation perplexity and samples text (generate.py).
 */
import * as ng from 'nodegrad';
import { CORPUS } from './parts/corpus.js';
import { Embedding } from './parts/embedding.js';
import { isMain, type ExampleOptions, type ExampleResult } from './parts/example.js';
import { LSTM, type LSTMState } from './parts/lstm.js';

const { nn } = ng;
const F = nn.functional;

/** data.py's Dictionary and Corpus: every line's words then '<eos>', as int32 word ids. */
class Dictionary {
  readonly word2idx = new Map<string, number>();
  readonly idx2word: string[] = [];

  addWord(word: string): number {
    if (!this.word2idx.has(word)) {
      this.word2idx.set(word, this.idx2word.length);
      this.idx2word.push(word);
    }
    return this.word2idx.get(word)!;
  }

  tokenize(lines: string[]): ng.Tensor {
    const ids = lines.flatMap((line) => [...line.split(' '), '<eos>'].map((word) => this.addWord(word)));
    return ng.tensor(ids, { dtype: 'int32' });
  }
}

/** Container module: embedding → LSTM → Linear decoder, log-probabilities over the vocabulary. */
class RNNModel extends nn.Module<[input: ng.Tensor, hidden?: LSTMState], [ng.Tensor, LSTMState]> {
  drop: ng.nn.Dropout;
  encoder: Embedding;
  rnn: LSTM;
  decoder: ng.nn.Linear;

  constructor(readonly ntoken: number, ninp: number, readonly nhid: number, readonly nlayers: number,
    dropout: number, tieWeights: boolean) {
    super();
    this.drop = new nn.Dropout(dropout);
    this.encoder = new Embedding(ntoken, ninp);
    this.rnn = new LSTM(ninp, nhid, { numLayers: nlayers, dropout });
    this.decoder = new nn.Linear(nhid, ntoken);
    // "Using the Output Embedding to Improve Language Models" (Press & Wolf, 2016): one shared matrix.
    if (tieWeights) {
      if (nhid !== ninp) {
        throw new ng.NodegradError('ERR_NODEGRAD_ARGUMENT', `RNNModel: tied weights need nhid == emsize, got ${nhid} and ${ninp}`);
      }
      this.decoder.weight = this.encoder.weight;
    }
    ng.noGrad(() => {
      nn.init.uniform_(this.encoder.weight, -0.1, 0.1);
      nn.init.zeros_(this.decoder.bias!);
      nn.init.uniform_(this.decoder.weight, -0.1, 0.1);
    });
  }

  /** input [T, N] word ids → log-probabilities [T·N, ntoken] and the final hidden state. */
  forward(input: ng.Tensor, hidden?: LSTMState): [ng.Tensor, LSTMState] {
    const emb = this.drop.forward(this.encoder.forward(input));
    const [output, next] = this.rnn.forward(emb, hidden);
    const decoded = this.decoder.forward(this.drop.forward(output)).view([-1, this.ntoken]);
    return [F.logSoftmax(decoded, 1), next];
  }

  initHidden(batchSize: number): LSTMState {
    return [ng.zeros([this.nlayers, batchSize, this.nhid]), ng.zeros([this.nlayers, batchSize, this.nhid])];
  }
}

/** [tokens] → [tokens / batchSize, batchSize]: column j is the j-th contiguous slice of the text. */
function batchify(data: ng.Tensor, batchSize: number): ng.Tensor {
  const rows = Math.floor(data.shape[0] / batchSize);
  return data.narrow(0, 0, rows * batchSize).view([batchSize, rows]).t().contiguous();
}

/** Rows i.. of `source` as input and the same rows shifted by one word as the flattened target. */
function getBatch(source: ng.Tensor, i: number, bptt: number): [ng.Tensor, ng.Tensor] {
  const seqLen = Math.min(bptt, source.shape[0] - 1 - i);
  return [source.narrow(0, i, seqLen), source.narrow(0, i + 1, seqLen).reshape([-1])];
}

/** Detaches the hidden state from the previous batch's graph (truncated BPTT). */
const repackageHidden = ([h, c]: LSTMState): LSTMState => [h.detach(), c.detach()];

export interface WordLanguageModelOptions extends ExampleOptions {
  emsize?: number;
  nhid?: number;
  /** 1 by default (the original's 2 needs far more steps than this corpus offers). */
  nlayers?: number;
  lr?: number;
  clip?: number;
  batchSize?: number;
  bptt?: number;
  dropout?: number;
  /** Words sampled after training (generate.py). */
  words?: number;
}

export async function main(options: WordLanguageModelOptions = {}): Promise<ExampleResult> {
  const {
    steps = 200, emsize = 64, nhid = 64, nlayers = 1, lr = 20, clip = 0.25, batchSize = 10, bptt = 20,
    dropout = 0.2, words = 30, log = () => {},
  } = options;
  ng.manualSeed(1111);
  const lines = CORPUS.trim().split('\n');
  const dictionary = new Dictionary();
  const trainData = batchify(dictionary.tokenize(lines.slice(0, -4)), batchSize);
  const validData = batchify(dictionary.tokenize(lines.slice(-4)), 2);
  const ntokens = dictionary.idx2word.length;
  const model = new RNNModel(ntokens, emsize, nhid, nlayers, dropout, true);

  const losses: number[] = [];
  let hidden = model.initHidden(batchSize);
  let i = 0;
  model.train();
  for (let step = 0; step < steps; step++) {
    if (i >= trainData.shape[0] - 1) {
      i = 0;
      hidden = model.initHidden(batchSize);
    }
    const [data, targets] = getBatch(trainData, i, bptt);
    i += bptt;
    model.zeroGrad();
    hidden = repackageHidden(hidden);
    const [output, next] = model.forward(data, hidden);
    hidden = next;
    const loss = F.nllLoss(output, targets);
    loss.backward();
    // clip_grad_norm_ keeps the exploding-gradient problem of RNNs in check.
    nn.utils.clipGradNorm_(model.parameters(), clip);
    ng.noGrad(() => {
      for (const p of model.parameters()) p.add_(p.grad!, { alpha: -lr });
    });
    losses.push(loss.item());
    if (step % 20 === 0) log(`step ${step} | lr ${lr} | loss ${losses[step].toFixed(2)} | ppl ${Math.exp(losses[step]).toFixed(2)}`);
  }

  model.eval();
  ng.noGrad(() => {
    let total = 0;
    let hiddenEval = model.initHidden(2);
    for (let j = 0; j < validData.shape[0] - 1; j += bptt) {
      const [data, targets] = getBatch(validData, j, bptt);
      const [output, next] = model.forward(data, hiddenEval);
      hiddenEval = next;
      total += data.shape[0] * F.nllLoss(output, targets).item();
    }
    const validLoss = total / (validData.shape[0] - 1);
    log(`end of training | valid loss ${validLoss.toFixed(2)} | valid ppl ${Math.exp(validLoss).toFixed(2)}`);

    // generate.py: feed each sampled word back in, sampling from softmax(logits / temperature).
    const temperature = 1;
    let input = ng.randint(ntokens, [1, 1]);
    let hiddenGen = model.initHidden(1);
    const sampled: string[] = [];
    for (let w = 0; w < words; w++) {
      const [output, next] = model.forward(input, hiddenGen);
      hiddenGen = next;
      const wordIdx = ng.multinomial(output.squeeze(0).div(temperature).exp(), 1);
      sampled.push(dictionary.idx2word[wordIdx.item()]);
      input = wordIdx.view([1, 1]);
    }
    log(`sampled: ${sampled.join(' ').replaceAll(' <eos> ', '\n         ')}`);
  });
  return { losses };
}

if (isMain(import.meta.url)) await main({ log: console.log });
