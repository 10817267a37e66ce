/** The messages between a pool (the main thread) and its workers. */
import type { DataArray, DType } from '../backend/types.js';

/** What each worker is started with (workerData). */
export interface WorkerSetup {
  /** A registered model name, or the file URL of a module whose default export builds the model. */
  model: string;
  /** Whether `model` is a module URL rather than a registered name. */
  isModule: boolean;
  /** The options the factory is called with. */
  modelOptions: unknown;
  /** The safetensors bytes every worker shares, or null to keep the weights the factory gives. */
  weights: SharedArrayBuffer | null;
  /** How the weights were given, for messages. */
  weightsSource: string;
  /** ng.setNumThreads in the worker. */
  threadsPerWorker: number;
  /** The worker thread's niceness (Linux), set before its kernel threads start. */
  nice: number;
}

/** An error as posted between threads: enough to rebuild a NodegradError. */
export interface PostedError {
  name: string;
  message: string;
  code?: string;
}

/** Main → worker: run one batch, its requests' inputs in order (concatenated by the worker). */
export interface RunMessage {
  id: number;
  parts: DataArray[];
  shape: number[];
}

/** Worker → main. */
export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'failed'; error: PostedError }
  | { type: 'result'; id: number; data: DataArray; shape: number[]; dtype: DType }
  | { type: 'error'; id: number; error: PostedError };

/** An error thrown anywhere, as it can be posted. */
export function postable(error: unknown): PostedError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { name: 'Error', message: String(error) };
}
