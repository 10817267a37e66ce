/** The options and results of ng.serve's pool. */
import type { Tensor } from '../tensor/tensor.js';

/** Options of ng.serve.createPool. */
export interface PoolOptions {
  /**
   * The model: a registered name (a zoo model such as 'lenet5', built with `modelOptions`), or the
   * path or file URL of an ES module whose default export builds it from `modelOptions`.
   */
  model: string;
  /** The options the model's factory is called with (structured-cloneable). */
  modelOptions?: unknown;
  /** A safetensors state dict (a path, or its bytes), read once and shared by every worker. */
  weights?: string | Uint8Array;
  /** Worker threads (default 2). */
  workers?: number;
  /** ng.setNumThreads in each worker (default 1): each worker's own kernel thread pool. */
  threadsPerWorker?: number;
  /** The most rows a batched forward takes (default 64); a larger request runs alone. */
  maxBatch?: number;
  /**
   * How long the oldest request may wait for others to fill its batch while a worker is free
   * (default 0: a free worker takes what is queued at once; batches form from the requests that
   * queued while every worker was busy).
   */
  maxDelayMs?: number;
  /**
   * The workers' niceness on Linux (`os.setPriority` of each worker thread and its kernel threads:
   * -20 highest to 19 lowest; default 5): above the event loop's 0, so that the thread answering
   * I/O gets a core first when forwards fill them. Ignored on other platforms.
   */
  workerNice?: number;
  /** The shape of one input row (without the batch dimension); when given, run() refuses other shapes at once. */
  inputShape?: readonly number[];
}

/** Options of Pool.run. */
export interface RunOptions {
  /** Aborting it rejects the call (and drops the request when it has not started). */
  signal?: AbortSignal;
  /** Rejects the call after this many milliseconds (and drops the request when it has not started). */
  timeoutMs?: number;
  /**
   * Hand an ArrayInput's buffer to the worker instead of copying it (default false); the caller
   * must not use the array afterwards (it may be detached). Saves a copy per request for a server
   * that builds each request's array itself.
   */
  transfer?: boolean;
}

/** An input given as data and shape rather than a Tensor. */
export interface ArrayInput {
  /** Row-major values; copied, so the caller may reuse the array. */
  data: Float32Array | Float64Array | Int32Array;
  /** Its shape: [batch, ...]. */
  shape: readonly number[];
}

/** What Pool.stats returns. */
export interface PoolStats {
  /** Workers ready or starting. */
  workers: number;
  /** Requests waiting for a worker. */
  queued: number;
  /** Requests running in a worker now. */
  inFlight: number;
  /** Requests the pool has accepted since it started. */
  requests: number;
  /** Forwards run so far (fewer than requests when requests were batched together). */
  batches: number;
  /** Workers that died and were replaced. */
  replaced: number;
}

/**
 * Worker threads that each hold the model and run forwards for `run()`, batching concurrent
 * requests; made by ng.serve.createPool.
 */
export interface Pool {
  /**
   * Runs the model's forward on `input` ([batch, ...]) in a worker; resolves with the output.
   * Concurrent requests of the same dtype and shape (but the batch size) may share one forward.
   * Rejects with the worker's error (e.g. ERR_NODEGRAD_SHAPE) for a bad input, with
   * ERR_NODEGRAD_ABORTED when `signal` aborts or `timeoutMs` passes first, and with
   * ERR_NODEGRAD_WORKER when the worker dies or the pool closes.
   */
  run(input: Tensor | ArrayInput, options?: RunOptions): Promise<Tensor>;
  /** Counts of workers, queued and running requests, requests and forwards. */
  stats(): PoolStats;
  /** Terminates the workers; queued and running requests reject with ERR_NODEGRAD_WORKER. */
  close(): Promise<void>;
}
