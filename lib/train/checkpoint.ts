/**
 * Checkpoints: the model's state dict in model.safetensors, and the optimizer's tensors plus the
 * trainer's progress (epoch, batches done, generator state, history) in optimizer.safetensors,
 * whose __metadata__ holds the JSON. Both are written atomically.
 */
import { existsSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodegradError } from '../errors.js';
import { readSafetensors, save } from '../io/safetensors.js';
import type { Module } from '../nn/module.js';
import type { Optimizer, OptimizerStateDict, ParamState } from '../optim/optimizer.js';
import type { Tensor } from '../tensor/tensor.js';
import type { EpochMetrics } from './report.js';

export interface TrainerState {
  /** The epoch in progress (0-based) and how many of its batches are done. */
  epoch: number;
  batchesDone: number;
  globalStep: number;
  rngState: number[];
  history: EpochMetrics[];
}

/** Writes text to path via a temporary file and a rename. */
export function writeFileAtomic(path: string, text: string): void {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, text);
  renameSync(temp, path);
}

export function saveCheckpoint(dir: string, model: Module, optimizer: Optimizer<{ lr: number }>, state: TrainerState): void {
  save(model.stateDict(), join(dir, 'model.safetensors'));
  const sd = optimizer.stateDict();
  const tensors: Record<string, Tensor> = {};
  const scalars: Record<string, Record<string, number>> = {};
  for (const [index, s] of Object.entries(sd.state)) {
    for (const [key, value] of Object.entries(s)) {
      if (typeof value === 'number') (scalars[index] ??= {})[key] = value;
      else tensors[`state.${index}.${key}`] = value;
    }
  }
  save(tensors, join(dir, 'optimizer.safetensors'), {
    paramGroups: JSON.stringify(sd.paramGroups),
    scalars: JSON.stringify(scalars),
    trainer: JSON.stringify(state),
  });
}

/** The folder of a checkpoint given as a folder or as a path to one of its files. */
export function checkpointDir(path: string): string {
  if (!existsSync(path)) throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `checkpoint ${path} does not exist`);
  return statSync(path).isDirectory() ? path : join(path, '..');
}

export function loadCheckpoint(path: string, model: Module, optimizer: Optimizer<{ lr: number }>): TrainerState {
  const dir = checkpointDir(path);
  const weights = readSafetensors(join(dir, 'model.safetensors')).tensors;
  model.loadStateDict(weights, { strict: true });
  const { tensors, metadata } = readSafetensors(join(dir, 'optimizer.safetensors'));
  const state: Record<number, ParamState> = {};
  for (const [key, t] of Object.entries(tensors)) {
    const [, index, name] = key.split('.');
    (state[Number(index)] ??= {})[name] = t;
  }
  for (const [index, s] of Object.entries(JSON.parse(metadata.scalars ?? '{}') as Record<string, Record<string, number>>)) {
    Object.assign((state[Number(index)] ??= {}), s);
  }
  const sd = { state, paramGroups: JSON.parse(metadata.paramGroups) } as OptimizerStateDict<{ lr: number }>;
  optimizer.loadStateDict(sd);
  return JSON.parse(metadata.trainer) as TrainerState;
}
