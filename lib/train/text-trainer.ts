/**
 * The text job behind `nodegrad train --model gpt --data names`: a character-level language model
 * (nanoGPT's GPT, or the word_language_model LSTM) trained with AdamW on next-token prediction,
 * validation loss per epoch, and samples at the end — the same run folder as the image job
 * (config.json, metrics.jsonl, model.safetensors, report.html) plus samples.txt.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setNumThreads } from '../backend/index.js';
import { noGrad } from '../autograd/grad-mode.js';
import { DataLoader } from '../data/dataset.js';
import { names, textFile, type TextCorpus } from '../data/text.js';
import { NodegradError } from '../errors.js';
import { writeFileAtomic, removeStaleTemps } from '../io/files.js';
import { save } from '../io/index.js';
import type { GPT } from '../models/gpt.js';
import { gpt, lstmLM } from '../models/index.js';
import type { LstmLM } from '../models/lstm-lm.js';
import { clipGradNorm_ } from '../nn/utils.js';
import { AdamW } from '../optim/adam.js';
import { manualSeed } from '../tensor/random.js';
import { tensor } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import { renderTextReport, type TextEpochMetrics } from './report.js';

/** The settings of the text job, one per command-line flag. */
export interface TextTrainConfig {
  /** 'gpt' or 'lstm' (--model). */
  model: 'gpt' | 'lstm';
  /** 'names' or 'text:<path>' (--data). */
  data: string;
  /** Epochs (--epochs). */
  epochs: number;
  /** Sequences per batch (--batch-size). */
  batchSize: number;
  /** Peak learning rate of AdamW (--lr); it decays by a cosine to a tenth over the run. */
  lr: number;
  /** AdamW weight decay on matrices (--weight-decay). */
  weightDecay: number;
  /** Tokens per sequence (--block-size). */
  blockSize: number;
  /** Layers (--layers). */
  nLayer: number;
  /** Attention heads (--heads; GPT only). */
  nHead: number;
  /** Width (--width): GPT's nEmbd, the LSTM's embedding and hidden size. */
  nEmbd: number;
  /** Dropout (--dropout). */
  dropout: number;
  /** Seed of the weights, the data order and the samples (--seed). */
  seed: number;
  /** Kernel threads (--threads). */
  threads?: number;
  /** Samples generated at the end (--samples). */
  samples: number;
  /** The run folder (--out). */
  out: string;
}

/** What the loop reports; the CLI renders it. */
export interface TextTrainEvents {
  /** Once, before the first batch. */
  start(info: {
    trainSequences: number;
    validationSequences: number;
    batchesPerEpoch: number;
    parameters: number;
  }): void;
  /** After every training batch. */
  batch(info: { epoch: number; batch: number; batches: number; loss: number; tokensPerSecond: number }): void;
  /** After each epoch's validation. */
  epoch(metrics: TextEpochMetrics): void;
}

/** A language model the job trains: forward(x, y) gives the mean loss over targets that are not -1. */
interface LanguageModel {
  model: GPT | LstmLM;
  loss(x: Tensor, y: Tensor): Tensor;
  sample(prefix: number[], maxNew: number): number[];
}

/** The corpus --data names. */
export function loadCorpus(spec: string): TextCorpus {
  if (spec === 'names') return names();
  if (spec.startsWith('text:')) return textFile(spec.slice(5));
  throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `unknown text data '${spec}'; valid: names, text:<path>`);
}

function buildLanguageModel(config: TextTrainConfig, vocabSize: number): LanguageModel {
  if (config.model === 'gpt') {
    const model = gpt({
      vocabSize,
      blockSize: config.blockSize,
      nLayer: config.nLayer,
      nHead: config.nHead,
      nEmbd: config.nEmbd,
      dropout: config.dropout,
      bias: true,
    });
    return {
      model,
      loss: (x, y) => {
        const { loss } = model.forward(x, y);
        if (!loss) throw new NodegradError('ERR_NODEGRAD_ARGUMENT', 'gpt: forward with targets gave no loss');
        return loss;
      },
      sample: (prefix, maxNew) =>
        Array.from(model.generate(tensor([prefix], { dtype: 'int32' }), maxNew).data()).slice(prefix.length),
    };
  }
  const model = lstmLM({
    vocabSize,
    embeddingSize: config.nEmbd,
    hiddenSize: config.nEmbd,
    numLayers: config.nLayer,
    dropout: config.dropout,
    tieWeights: true,
  });
  return {
    model,
    loss: (x, y) => model.loss(x, y),
    sample: (prefix, maxNew) => model.generate(prefix, maxNew),
  };
}

/** Samples of names: tokens after the boundary until the next one (or maxNew tokens). */
function sampleWords(lm: LanguageModel, corpus: TextCorpus, n: number, blockSize: number): string[] {
  lm.model.eval();
  const out: string[] = [];
  noGrad(() => {
    for (let i = 0; i < n; i++) {
      const ids = lm.sample([0], blockSize - 1);
      const end = ids.indexOf(0);
      out.push(corpus.decode(end < 0 ? ids : ids.slice(0, end)));
    }
  });
  lm.model.train();
  return out;
}

/** Mean loss per target token over a dataset, in eval mode without recording a graph. */
function validationLoss(lm: LanguageModel, loader: DataLoader): number {
  lm.model.eval();
  let total = 0;
  let tokens = 0;
  noGrad(() => {
    for (const [x, y] of loader) {
      const counted = y.ne(-1).sum().item();
      total += lm.loss(x, y).item() * counted;
      tokens += counted;
    }
  });
  lm.model.train();
  return tokens > 0 ? total / tokens : NaN;
}

/** What trainText() returns. */
export interface TextTrainResult {
  /** Metrics of every epoch. */
  history: TextEpochMetrics[];
  /** The samples written to samples.txt and report.html. */
  samples: string[];
}

/**
 * Runs the text job: builds the corpus and model, trains with AdamW (cosine decay of the learning
 * rate, gradients clipped at norm 1), validates each epoch, writes the run folder and samples.
 */
export async function trainText(config: TextTrainConfig, events: TextTrainEvents): Promise<TextTrainResult> {
  manualSeed(config.seed);
  if (config.threads) setNumThreads(config.threads);
  const corpus = loadCorpus(config.data);
  const trainSet = corpus.dataset('train', config.blockSize);
  const validationSet = corpus.dataset('validation', config.blockSize);
  const lm = buildLanguageModel(config, corpus.vocab.length);
  const params = [...lm.model.parameters()];
  const optimizer = new AdamW(
    [
      { params: params.filter((p) => p.ndim >= 2), weightDecay: config.weightDecay },
      { params: params.filter((p) => p.ndim < 2), weightDecay: 0 },
    ],
    { lr: config.lr, betas: [0.9, 0.99] },
  );
  const trainLoader = new DataLoader(trainSet, { batchSize: config.batchSize, shuffle: true, seed: config.seed });
  const validationLoader = new DataLoader(validationSet, { batchSize: 512 });
  mkdirSync(config.out, { recursive: true });
  removeStaleTemps(config.out);
  writeFileAtomic(join(config.out, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  events.start({
    trainSequences: trainSet.length,
    validationSequences: validationSet.length,
    batchesPerEpoch: trainLoader.length,
    parameters: params.reduce((n, p) => n + p.numel, 0),
  });
  const totalSteps = config.epochs * trainLoader.length;
  const lrAt = (step: number) => config.lr * (0.1 + 0.45 * (1 + Math.cos((Math.PI * step) / Math.max(1, totalSteps))));
  const history: TextEpochMetrics[] = [];
  let step = 0;
  lm.model.train();
  for (let epoch = 0; epoch < config.epochs; epoch++) {
    const started = performance.now();
    trainLoader.epoch = epoch;
    let lossSum = 0;
    let tokens = 0;
    let batch = 0;
    for await (const [x, y] of trainLoader) {
      batch++;
      const lr = lrAt(step++);
      for (const group of optimizer.paramGroups) group.lr = lr;
      optimizer.zeroGrad();
      const loss = lm.loss(x, y);
      loss.backward();
      clipGradNorm_(params, 1);
      optimizer.step();
      const counted = y.ne(-1).sum().item();
      lossSum += loss.item() * counted;
      tokens += counted;
      events.batch({
        epoch,
        batch,
        batches: trainLoader.length,
        loss: lossSum / tokens,
        tokensPerSecond: tokens / ((performance.now() - started) / 1000),
      });
    }
    const seconds = (performance.now() - started) / 1000;
    const metrics: TextEpochMetrics = {
      epoch: epoch + 1,
      trainLoss: lossSum / tokens,
      validationLoss: validationLoss(lm, validationLoader),
      seconds,
      tokensPerSecond: tokens / seconds,
    };
    history.push(metrics);
    writeFileAtomic(join(config.out, 'metrics.jsonl'), history.map((m) => JSON.stringify(m)).join('\n') + '\n');
    save(lm.model, join(config.out, 'model.safetensors'));
    events.epoch(metrics);
  }
  const samples = sampleWords(lm, corpus, config.samples, config.blockSize);
  writeFileAtomic(join(config.out, 'samples.txt'), samples.join('\n') + '\n');
  writeFileAtomic(
    join(config.out, 'report.html'),
    renderTextReport(`nodegrad: ${config.model} on ${config.data}`, { ...config }, history, samples),
  );
  return { history, samples };
}
