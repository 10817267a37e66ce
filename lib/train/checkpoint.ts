/**
 * Checkpoints. Everything --resume needs (weights, optimizer state, the trainer's position and
 * generator state, the settings the run was started with) is one file, checkpoint.safetensors,
 * written under a temporary name and renamed into place. One file and one rename make a checkpoint
 * one atomic unit: a crash at any moment leaves the previous checkpoint or the new one, never the
 * weights of one step beside the optimizer state of another, so loading has nothing to cross-check.
 * (A folder cannot be renamed over a non-empty one atomically, and a manifest written last would
 * need every file of the previous checkpoint kept until it lands.) model.safetensors beside it holds
 * the weights alone, for eval and PyTorch; it is rewritten right after and never read by --resume.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { NodegradError } from '../errors.js';
import { writeFileAtomic } from '../io/files.js';
import { readSafetensors, serializeSafetensors } from '../io/safetensors.js';
import type { Module } from '../nn/module.js';
import type { LrOptions, Optimizer, OptimizerStateDict, ParamState } from '../optim/optimizer.js';
import type { Tensor } from '../tensor/tensor.js';
import type { EpochMetrics } from './report.js';

/** The checkpoint's file name inside a run folder. */
export const CHECKPOINT_FILE = 'checkpoint.safetensors';
const FORMAT = 'nodegrad-checkpoint-1';

/** Where a run stands: what a checkpoint stores besides weights, optimizer state and settings. */
export interface TrainerState {
  /** The epoch in progress (0-based) and how many of its batches are done. */
  epoch: number;
  /** Batches of `epoch` already trained on. */
  batchesDone: number;
  /** Optimizer steps taken since the run began. */
  globalStep: number;
  /** The generator state (ng.getRngState) when the checkpoint was written. */
  rngState: number[];
  /** The metrics of every finished epoch. */
  history: EpochMetrics[];
}

/** The settings that decide a run's data order and updates: a resumed run must use the same ones. */
export interface RunSettings {
  /** --model: the zoo name. */
  model: string;
  /** --data: 'mnist', 'idx:<dir>' or 'cifar10:<dir>'. */
  data: string;
  /** --seed. */
  seed: number;
  /** --batch-size. */
  batchSize: number;
  /** --optimizer. */
  optimizer: 'sgd' | 'adam';
  /** --lr. */
  lr: number;
  /** --momentum (SGD only). */
  momentum: number;
  /** --weight-decay. */
  weightDecay: number;
  /** --train-limit: training items used, if limited. */
  trainLimit?: number;
  /** --test-limit: test items used, if limited. */
  testLimit?: number;
}

/** Each setting with the flag a user passes for it, in the order differences are reported. */
const FLAGS: [keyof RunSettings, string][] = [
  ['model', '--model'],
  ['data', '--data'],
  ['seed', '--seed'],
  ['batchSize', '--batch-size'],
  ['optimizer', '--optimizer'],
  ['lr', '--lr'],
  ['momentum', '--momentum'],
  ['weightDecay', '--weight-decay'],
  ['trainLimit', '--train-limit'],
  ['testLimit', '--test-limit'],
];

/** A checkpoint as readCheckpoint returns it. */
export interface Checkpoint {
  /** The settings the run was started with. */
  settings: RunSettings;
  /** Where the run stood. */
  state: TrainerState;
  /** The model's state dict. */
  weights: Record<string, Tensor>;
  /** The optimizer's state dict. */
  optimizer: OptimizerStateDict<LrOptions>;
}

/**
 * Test hook: NODEGRAD_CRASH_AT=<point>:<n> kills the process with SIGKILL, as a crash would, the
 * n-th time a checkpoint write reaches <point> (checkpoint-written: complete but not renamed yet;
 * checkpoint-renamed; model-written).
 */
const crashAt = /^([a-z-]+):(\d+)$/.exec(process.env.NODEGRAD_CRASH_AT ?? '');
let crashCount = 0;
function crashPoint(point: string): void {
  if (crashAt && crashAt[1] === point && ++crashCount === Number(crashAt[2])) process.kill(process.pid, 'SIGKILL');
}

/**
 * Writes `dir`/checkpoint.safetensors (weights, optimizer state, trainer state and settings, in one
 * atomic write), then `dir`/model.safetensors (the weights alone).
 */
export function saveCheckpoint(
  dir: string,
  model: Module,
  optimizer: Optimizer<{ lr: number }>,
  state: TrainerState,
  settings: RunSettings,
): void {
  const weights = model.stateDict();
  const tensors: Record<string, Tensor> = {};
  for (const [key, t] of Object.entries(weights)) tensors[`model.${key}`] = t;
  const sd = optimizer.stateDict();
  const scalars: Record<string, Record<string, number>> = {};
  for (const [index, s] of Object.entries(sd.state)) {
    for (const [key, value] of Object.entries(s)) {
      if (typeof value === 'number') (scalars[index] ??= {})[key] = value;
      else tensors[`optimizer.${index}.${key}`] = value;
    }
  }
  const metadata = {
    format: FORMAT,
    settings: JSON.stringify(settings),
    trainer: JSON.stringify(state),
    paramGroups: JSON.stringify(sd.paramGroups),
    scalars: JSON.stringify(scalars),
  };
  writeFileAtomic(join(dir, CHECKPOINT_FILE), serializeSafetensors(tensors, metadata), {
    beforeRename: () => crashPoint('checkpoint-written'),
  });
  crashPoint('checkpoint-renamed');
  writeFileAtomic(join(dir, 'model.safetensors'), serializeSafetensors(weights), {
    beforeRename: () => crashPoint('model-written'),
  });
}

/** The folder of a checkpoint given as a folder or as a path to one of its files. */
export function checkpointDir(path: string): string {
  if (!existsSync(path)) throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `checkpoint ${path} does not exist`);
  return statSync(path).isDirectory() ? path : join(path, '..');
}

/** Reads the checkpoint of a run folder (or of the folder of the file `path`); throws when there is none. */
export function readCheckpoint(path: string): Checkpoint {
  const dir = checkpointDir(path);
  const file = join(dir, CHECKPOINT_FILE);
  if (!existsSync(file)) {
    const legacy = existsSync(join(dir, 'optimizer.safetensors'))
      ? '; its model.safetensors and optimizer.safetensors come from an older nodegrad that saved them separately, so they may be from different steps'
      : '';
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `--resume: ${dir} holds no ${CHECKPOINT_FILE}${legacy}`);
  }
  const { tensors, metadata } = readSafetensors(file);
  if (metadata.format !== FORMAT) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `--resume: ${file} has format ${JSON.stringify(metadata.format)}; expected ${FORMAT}`,
    );
  }
  const weights: Record<string, Tensor> = {};
  const state: Record<number, ParamState> = {};
  for (const [key, t] of Object.entries(tensors)) {
    if (key.startsWith('model.')) {
      weights[key.slice('model.'.length)] = t;
    } else {
      const [, index, name] = key.split('.');
      (state[Number(index)] ??= {})[name] = t;
    }
  }
  for (const [index, s] of Object.entries(JSON.parse(metadata.scalars) as Record<string, Record<string, number>>)) {
    Object.assign((state[Number(index)] ??= {}), s);
  }
  return {
    settings: JSON.parse(metadata.settings) as RunSettings,
    state: JSON.parse(metadata.trainer) as TrainerState,
    weights,
    optimizer: {
      state,
      paramGroups: JSON.parse(metadata.paramGroups) as OptimizerStateDict<{ lr: number }>['paramGroups'],
    },
  };
}

/** One entry per setting a resumed run changes, e.g. "--batch-size 64, this run asks for 32". */
export function settingsDifferences(saved: RunSettings, current: RunSettings): string[] {
  const show = (v: RunSettings[keyof RunSettings]) => (v === undefined ? '(unset)' : String(v));
  return FLAGS.filter(
    ([key]) =>
      saved[key] !== current[key] &&
      !(key === 'momentum' && current.optimizer === 'adam' && saved.optimizer === 'adam'),
  ).map(([key, flag]) => `${flag} ${show(saved[key])}, this run asks for ${show(current[key])}`);
}

/** Refuses to resume with other settings than the checkpoint's unless `allowChanges`. */
export function checkResumable(checkpoint: Checkpoint, settings: RunSettings, allowChanges: boolean): void {
  const differences = settingsDifferences(checkpoint.settings, settings);
  if (differences.length > 0 && !allowChanges) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `--resume: checkpoint was trained with ${differences.join('; with ')} ` +
        '(pass --allow-config-change to resume with the new settings)',
    );
  }
}

/**
 * Restores a checkpoint into a freshly built model and optimizer. Where the run's settings differ
 * (allowed by checkResumable), the run's own apply from here on: the optimizer state is kept only
 * for the same optimizer, its options become the run's, and the position in the epoch is
 * converted to the new batch size.
 */
export function restoreCheckpoint(
  checkpoint: Checkpoint,
  settings: RunSettings,
  model: Module,
  optimizer: Optimizer<{ lr: number }>,
): TrainerState {
  model.loadStateDict(checkpoint.weights, { strict: true });
  if (checkpoint.settings.optimizer === settings.optimizer) optimizer.loadStateDict(checkpoint.optimizer);
  if (settingsDifferences(checkpoint.settings, settings).length > 0) {
    const options =
      settings.optimizer === 'sgd'
        ? { lr: settings.lr, momentum: settings.momentum, weightDecay: settings.weightDecay }
        : { lr: settings.lr, weightDecay: settings.weightDecay };
    for (const group of optimizer.paramGroups) Object.assign(group, options);
  }
  const state = checkpoint.state;
  return {
    ...state,
    batchesDone: Math.floor((state.batchesDone * checkpoint.settings.batchSize) / settings.batchSize),
  };
}
