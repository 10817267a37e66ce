/**
 * The training loop behind `nodegrad train`: seeded data order, SGD or Adam, a progress line per
 * batch, test loss and top-1/top-5 per epoch, checkpoints, metrics.jsonl, config.json and
 * report.html in the output folder. Resuming restores weights, optimizer state, generator state and
 * the position in the data, so a resumed run ends with the weights an uninterrupted one has.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setNumThreads } from '../backend/index.js';
import { noGrad } from '../autograd/grad-mode.js';
import { NodegradError } from '../errors.js';
import { DataLoader, permutation, TensorDataset } from '../data/dataset.js';
import { DistributedSampler } from '../data/sampler.js';
import { allReduce, getRank, getWorldSize, isInitialized } from '../distributed/index.js';
import { DistributedDataParallel } from '../nn/parallel/distributed.js';
import { tensor } from '../tensor/creation.js';
import { cifar10, idxDataset, mnist, type Split } from '../data/sources.js';
import { normalize } from '../data/transforms.js';
import { registry } from '../models/index.js';
import type { Module } from '../nn/module.js';
import { crossEntropy } from '../ops/cross-entropy.js';
import { Adam } from '../optim/adam.js';
import type { Optimizer } from '../optim/optimizer.js';
import { SGD } from '../optim/sgd.js';
import { getRngState, manualSeed, setRngState } from '../tensor/random.js';
import { removeStaleTemps, writeFileAtomic } from '../io/files.js';
import {
  checkpointDir,
  checkResumable,
  readCheckpoint,
  restoreCheckpoint,
  saveCheckpoint,
  type RunSettings,
  type TrainerState,
} from './checkpoint.js';
import { topKCorrect } from './metrics.js';
import { renderReport, type EpochMetrics } from './report.js';

/** The settings of `nodegrad train`, one per command-line flag. */
export interface TrainConfig {
  /** The zoo model's name (--model). */
  model: string;
  /** The data set (--data): 'mnist', 'idx:<dir>' or 'cifar10:<dir>'. */
  data: string;
  /** Epochs to train (--epochs). */
  epochs: number;
  /** Items per batch (--batch-size). */
  batchSize: number;
  /** Learning rate (--lr). */
  lr: number;
  /** SGD momentum (--momentum). */
  momentum: number;
  /** Weight decay (--weight-decay). */
  weightDecay: number;
  /** The optimizer (--optimizer). */
  optimizer: 'sgd' | 'adam';
  /** Seed of the weights and the data order (--seed). */
  seed: number;
  /** Kernel threads (--threads); default: the backend's. */
  threads?: number;
  /** Save a checkpoint every N batches (0: at the end of each epoch only). */
  checkpointEvery: number;
  /** The run folder to write (--out). */
  out: string;
  /** A checkpoint or run folder to continue from (--resume). */
  resume?: string;
  /** Resume even when the checkpoint was trained with other settings (see restoreCheckpoint). */
  allowConfigChange?: boolean;
  /** Use only the first N training items (of a fixed shuffled order). */
  trainLimit?: number;
  /** Use only the first N test items (of a fixed shuffled order). */
  testLimit?: number;
}

/** What the loop reports; the CLI renders it as a progress bar, plain lines or JSON. */
export interface TrainEvents {
  /** Once, before the first batch (with the resumed position when resuming). */
  start(info: {
    epochs: number;
    batchesPerEpoch: number;
    trainSize: number;
    testSize: number;
    resumedAt?: TrainerState;
  }): void;
  /** After every training batch, with running loss, accuracy and throughput. */
  batch(info: {
    epoch: number;
    batch: number;
    batches: number;
    loss: number;
    accuracy: number;
    imagesPerSecond: number;
  }): void;
  /** After each epoch's evaluation. */
  epoch(metrics: EpochMetrics): void;
  /** After each checkpoint write, with the run folder. */
  checkpoint(dir: string): void;
}

/** A data set with what the model and the normalization need to know about its images. */
export interface DataSpec extends Split {
  /** Channels per image. */
  inChannels: number;
  /** Side of the square images. */
  size: number;
  /** Per-channel mean for normalization. */
  mean: number[];
  /** Per-channel standard deviation for normalization. */
  std: number[];
}

/** The forms --data accepts, for help and error messages. */
export const DATASETS = ['mnist', 'idx:<dir>', 'cifar10:<dir>'];

/** Resolves --data: 'mnist' (embedded), 'idx:<dir>' (MNIST/Fashion-MNIST files), 'cifar10:<dir>'. */
export function loadData(spec: string): DataSpec {
  if (spec === 'mnist') return { ...mnist(), inChannels: 1, size: 28, mean: [0.1307], std: [0.3081] };
  if (spec.startsWith('idx:'))
    return { ...idxDataset(spec.slice(4)), inChannels: 1, size: 28, mean: [0.1307], std: [0.3081] };
  if (spec.startsWith('cifar10:')) {
    return {
      ...cifar10(spec.slice(8)),
      inChannels: 3,
      size: 32,
      mean: [0.4914, 0.4822, 0.4465],
      std: [0.247, 0.2435, 0.2616],
    };
  }
  throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `unknown dataset '${spec}'; valid: ${DATASETS.join(', ')}`);
}

/** The zoo model `name` for 10 classes of the data's channels (and, for LeNet-5, image size). */
export function buildModel(name: string, data: { inChannels: number; size: number }): Module {
  const models: Partial<typeof registry> = registry;
  const make = models[name];
  if (!make)
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `unknown model '${name}'; valid: ${Object.keys(registry).join(', ')}`,
    );
  return make({ numClasses: 10, inChannels: data.inChannels, ...(name === 'lenet5' ? { inputSize: data.size } : {}) });
}

function limit(dataset: TensorDataset, n: number | undefined, seed: number): TensorDataset {
  if (!n || n >= dataset.length) return dataset;
  return dataset.subset(permutation(dataset.length, seed).slice(0, n));
}

/** Test loss, top-1 and top-5 over a dataset, in eval mode without recording a graph. */
export function evaluate(
  model: Module,
  loader: DataLoader,
): {
  /** Mean cross-entropy. */
  loss: number;
  /** Top-1 accuracy, in [0, 1]. */
  top1: number;
  /** Top-5 accuracy, in [0, 1]. */
  top5: number;
} {
  const wasTraining = model.training;
  model.eval();
  let loss = 0;
  let top1 = 0;
  let top5 = 0;
  let n = 0;
  noGrad(() => {
    for (const [x, y] of loader) {
      const logits = model.forward(x);
      loss += crossEntropy(logits, y, { reduction: 'sum' }).item();
      top1 += topKCorrect(logits, y, 1);
      top5 += topKCorrect(logits, y, 5);
      n += y.shape[0];
    }
  });
  model.train(wasTraining);
  return { loss: loss / n, top1: top1 / n, top5: top5 / n };
}

/** What train() returns. */
export interface TrainResult {
  /** 0 when all epochs ran, 130 when stopped by a signal (after saving a checkpoint). */
  exitCode: number;
  /** The metrics of every finished epoch. */
  history: EpochMetrics[];
  /** The trained model. */
  model: Module;
}

/** Whether any rank asked to stop (every rank must stop after the same batch). */
function anyRank(flag: boolean, distributed: boolean): boolean {
  if (!distributed) return flag;
  const t = tensor([flag ? 1 : 0]);
  allReduce(t, { op: 'max' });
  return t.item() > 0;
}

/**
 * Runs `nodegrad train`: builds the model and data, trains (resuming if asked), evaluates and
 * checkpoints each epoch, and writes the run folder; `shouldStop` is polled between batches.
 * Under an initialized process group of more than one rank it trains data-parallel: each rank its
 * DistributedSampler shard of `batchSize` items per step, gradients averaged by
 * DistributedDataParallel; rank 0 alone evaluates, reports and writes the run folder, and the
 * checkpoint (model and optimizer, not per-rank state) resumes under any world size.
 */
export async function train(
  config: TrainConfig,
  events: TrainEvents,
  shouldStop: () => boolean = () => false,
): Promise<TrainResult> {
  manualSeed(config.seed);
  if (config.threads) setNumThreads(config.threads);
  const settings: RunSettings = {
    model: config.model,
    data: config.data,
    seed: config.seed,
    batchSize: config.batchSize,
    optimizer: config.optimizer,
    lr: config.lr,
    momentum: config.momentum,
    weightDecay: config.weightDecay,
    trainLimit: config.trainLimit,
    testLimit: config.testLimit,
  };
  // Read and checked before the data, so a refused --resume answers at once.
  const resumeFrom = config.resume ? readCheckpoint(config.resume) : undefined;
  if (resumeFrom) checkResumable(resumeFrom, settings, config.allowConfigChange ?? false);
  const data = loadData(config.data);
  // Normalized once up front: per-batch normalization cost a tenth of each epoch.
  const transform = normalize(data.mean, data.std);
  const prepare = (set: TensorDataset) => new TensorDataset(...transform([...set.tensors]));
  const trainSet = prepare(limit(data.train, config.trainLimit, config.seed + 101));
  const testSet = prepare(limit(data.test, config.testLimit, config.seed + 202));
  const distributed = isInitialized() && getWorldSize() > 1;
  const leader = !distributed || getRank() === 0;
  // Rank 0 alone reports.
  const quiet = () => undefined;
  const report: TrainEvents = leader ? events : { start: quiet, batch: quiet, epoch: quiet, checkpoint: quiet };
  const model = buildModel(config.model, data);
  const optimizer: Optimizer<{ lr: number }> =
    config.optimizer === 'adam'
      ? new Adam(model.parameters(), { lr: config.lr, weightDecay: config.weightDecay })
      : new SGD(model.parameters(), { lr: config.lr, momentum: config.momentum, weightDecay: config.weightDecay });
  const sampler = distributed ? new DistributedSampler(trainSet, { seed: config.seed }) : undefined;
  const trainLoader = sampler
    ? new DataLoader(trainSet, { batchSize: config.batchSize, sampler })
    : new DataLoader(trainSet, { batchSize: config.batchSize, shuffle: true, seed: config.seed });
  const testLoader = new DataLoader(testSet, { batchSize: 256 });
  let state: TrainerState = { epoch: 0, batchesDone: 0, globalStep: 0, rngState: [], history: [] };
  if (config.resume && resumeFrom) {
    state = restoreCheckpoint(resumeFrom, settings, model, optimizer);
    setRngState(Uint32Array.from(state.rngState));
    if (leader) removeStaleTemps(checkpointDir(config.resume));
  }
  // Wrapped after restoring: construction broadcasts rank 0's weights to every rank.
  const net: Module = distributed ? new DistributedDataParallel(model) : model;
  if (leader) {
    mkdirSync(config.out, { recursive: true });
    removeStaleTemps(config.out);
    writeFileAtomic(join(config.out, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  }
  const checkpoint = (s: TrainerState) => {
    if (!leader) return;
    saveCheckpoint(config.out, model, optimizer, { ...s, rngState: [...getRngState()] }, settings);
    report.checkpoint(config.out);
  };
  report.start({
    epochs: config.epochs,
    batchesPerEpoch: trainLoader.length,
    trainSize: trainSet.length,
    testSize: testSet.length,
    resumedAt: config.resume ? state : undefined,
  });

  model.train();
  for (let epoch = state.epoch; epoch < config.epochs; epoch++) {
    const started = performance.now();
    const skip = epoch === state.epoch ? state.batchesDone : 0;
    trainLoader.epoch = epoch;
    sampler?.setEpoch(epoch);
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    let batch = 0;
    for await (const [x, y] of trainLoader) {
      batch++;
      if (batch <= skip) continue;
      optimizer.zeroGrad();
      const logits = net.forward(x);
      const loss = crossEntropy(logits, y);
      loss.backward();
      optimizer.step();
      state.globalStep++;
      lossSum += loss.item() * y.shape[0];
      correct += topKCorrect(logits.detach(), y, 1);
      seen += y.shape[0];
      report.batch({
        epoch,
        batch,
        batches: trainLoader.length,
        loss: lossSum / seen,
        accuracy: correct / seen,
        imagesPerSecond: seen / ((performance.now() - started) / 1000),
      });
      const position = { ...state, epoch, batchesDone: batch };
      if (anyRank(shouldStop(), distributed)) {
        checkpoint(position);
        return { exitCode: 130, history: state.history, model };
      }
      if (config.checkpointEvery > 0 && batch % config.checkpointEvery === 0 && batch < trainLoader.length)
        checkpoint(position);
    }
    const seconds = (performance.now() - started) / 1000;
    if (!leader) {
      state = { ...state, epoch: epoch + 1, batchesDone: 0 };
      if (anyRank(shouldStop(), distributed)) return { exitCode: 130, history: state.history, model };
      continue;
    }
    const test = evaluate(model, testLoader);
    const metrics: EpochMetrics = {
      epoch: epoch + 1,
      trainLoss: seen ? lossSum / seen : NaN,
      trainAccuracy: seen ? correct / seen : NaN,
      testLoss: test.loss,
      top1: test.top1,
      top5: test.top5,
      seconds,
      imagesPerSecond: seen / seconds,
    };
    state = { ...state, epoch: epoch + 1, batchesDone: 0, history: [...state.history, metrics] };
    writeFileAtomic(join(config.out, 'metrics.jsonl'), state.history.map((m) => JSON.stringify(m)).join('\n') + '\n');
    writeFileAtomic(
      join(config.out, 'report.html'),
      renderReport(`nodegrad: ${config.model} on ${config.data}`, { ...config }, state.history),
    );
    checkpoint(state);
    report.epoch(metrics);
    if (anyRank(shouldStop(), distributed)) return { exitCode: 130, history: state.history, model };
  }
  return { exitCode: 0, history: state.history, model };
}
