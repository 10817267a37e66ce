/**
 * The pool: worker threads that each hold the model, a FIFO queue of requests, and the dispatch
 * that hands each idle worker the next batch. The main thread only posts the requests' inputs
 * (copied unless transferred), so its event loop stays free while forwards run.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { NodegradError, formatShape, type ErrorCode } from '../errors.js';
import { fromArray, type Tensor } from '../tensor/tensor.js';
import { batchShape, split, takeBatch, type BatchInput } from './batching.js';
import { toInput } from './input.js';
import type { ArrayInput, Pool, PoolOptions, PoolStats, RunOptions } from './types.js';
import type { PostedError, RunMessage, WorkerMessage, WorkerSetup } from './protocol.js';
import { layout, readShared } from './weights.js';

interface Request {
  readonly input: BatchInput;
  resolve(tensor: Tensor): void;
  reject(error: Error): void;
  readonly enqueuedAt: number;
  settled: boolean;
  cleanup(): void;
}

interface Slot {
  readonly worker: Worker;
  readonly index: number;
  ready: boolean;
  /** The requests of the batch it runs, by batch id. */
  running: { id: number; requests: Request[] } | null;
  lastError: Error | null;
  exited: boolean;
}

function error(code: ErrorCode, message: string): NodegradError {
  return new NodegradError(code, message);
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw error('ERR_NODEGRAD_ARGUMENT', `serve.createPool: ${name} must be a positive integer, got ${value}`);
  return value;
}

function niceness(value: number): number {
  if (!Number.isInteger(value) || value < -20 || value > 19)
    throw error(
      'ERR_NODEGRAD_ARGUMENT',
      `serve.createPool: workerNice must be an integer from -20 to 19, got ${value}`,
    );
  return value;
}

/** A worker's error as the caller sees it: a NodegradError with the worker's code and message. */
function revive(posted: PostedError, prefix = ''): Error {
  if (posted.code?.startsWith('ERR_NODEGRAD_'))
    return new NodegradError(posted.code as ErrorCode, `${prefix}${posted.message}`);
  const revived = new Error(`${prefix}${posted.message}`);
  revived.name = posted.name;
  return revived;
}

/** The compiled worker entry: beside this file in dist/, or dist/'s when running from the TypeScript sources. */
function workerEntry(): URL {
  for (const candidate of ['./worker.js', '../../dist/serve/worker.js']) {
    const url = new URL(candidate, import.meta.url);
    if (existsSync(url)) return url;
  }
  throw error(
    'ERR_NODEGRAD_ARGUMENT',
    `serve.createPool: the worker entry ${fileURLToPath(new URL('./worker.js', import.meta.url))} is missing; build it with npm run build:ts`,
  );
}

/** A model option that names a module file rather than a registered model. */
function moduleUrl(model: string): string | null {
  if (model.startsWith('file:')) return model;
  if (/[\\/]/.test(model) || /\.[cm]?js$/.test(model)) {
    return pathToFileURL(isAbsolute(model) ? model : resolve(model)).href;
  }
  return null;
}

class WorkerPool implements Pool {
  private readonly slots: Slot[] = [];
  private readonly queue: Request[] = [];
  private readonly maxBatch: number;
  private readonly maxDelayMs: number;
  private readonly inputShape: readonly number[] | undefined;
  private readonly entry = workerEntry();
  private nextBatchId = 1;
  private nextWorkerIndex = 0;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly counts = { requests: 0, batches: 0, replaced: 0 };

  /** Use ng.serve.createPool, which waits for the workers to be ready. */
  constructor(
    private readonly setup: WorkerSetup,
    options: Pick<PoolOptions, 'maxBatch' | 'maxDelayMs' | 'inputShape'>,
  ) {
    this.maxBatch = positiveInteger('maxBatch', options.maxBatch ?? 64);
    this.maxDelayMs = options.maxDelayMs ?? 0;
    if (!(this.maxDelayMs >= 0))
      throw error('ERR_NODEGRAD_ARGUMENT', `serve.createPool: maxDelayMs must be ≥ 0, got ${this.maxDelayMs}`);
    this.inputShape = options.inputShape ? [...options.inputShape] : undefined;
  }

  /** Starts a worker; resolves once it has built the model, rejects with its startup error. */
  start(): Promise<void> {
    const worker = new Worker(this.entry, { workerData: this.setup });
    const slot: Slot = {
      worker,
      index: this.nextWorkerIndex++,
      ready: false,
      running: null,
      lastError: null,
      exited: false,
    };
    this.slots.push(slot);
    return new Promise((resolveStart, rejectStart) => {
      worker.on('message', (message: WorkerMessage) => {
        if (message.type === 'ready') {
          slot.ready = true;
          worker.unref(); // an idle pool does not keep the process alive
          resolveStart();
          this.pump();
        } else if (message.type === 'failed') {
          rejectStart(revive(message.error, `serve.createPool: worker ${slot.index} could not build the model: `));
          void worker.terminate();
        } else {
          this.finish(slot, message);
        }
      });
      worker.on('error', (thrown) => (slot.lastError = thrown));
      worker.on('exit', (code) => {
        slot.exited = true;
        if (!slot.ready)
          rejectStart(
            slot.lastError ??
              error(
                'ERR_NODEGRAD_WORKER',
                `serve.createPool: worker ${slot.index} exited with code ${code} while starting`,
              ),
          );
        this.lost(slot, code);
      });
    });
  }

  run(input: Tensor | ArrayInput, options: RunOptions = {}): Promise<Tensor> {
    return new Promise((resolveRun, rejectRun) => {
      if (this.closed) throw error('ERR_NODEGRAD_WORKER', 'serve.run: the pool is closed');
      const { signal, timeoutMs } = options;
      const aborted = () => {
        const reason = error('ERR_NODEGRAD_ABORTED', 'serve.run: the request was aborted by its signal');
        reason.cause = signal?.reason;
        return reason;
      };
      if (signal?.aborted) throw aborted();
      const request: Request = {
        input: toInput(input, options, this.inputShape),
        enqueuedAt: performance.now(),
        settled: false,
        resolve: (tensor) => settle(() => resolveRun(tensor)),
        reject: (reason) => settle(() => rejectRun(reason)),
        cleanup: () => undefined,
      };
      const settle = (fn: () => void) => {
        if (request.settled) return;
        request.settled = true;
        request.cleanup();
        fn();
      };
      // A request not yet started leaves the queue; a running one finishes unseen.
      const drop = (reason: Error) => {
        const at = this.queue.indexOf(request);
        if (at >= 0) this.queue.splice(at, 1);
        request.reject(reason);
      };
      const onAbort = () => drop(aborted());
      const timeout =
        timeoutMs === undefined
          ? undefined
          : setTimeout(
              () => drop(error('ERR_NODEGRAD_ABORTED', `serve.run: the request timed out after ${timeoutMs} ms`)),
              timeoutMs,
            );
      signal?.addEventListener('abort', onAbort, { once: true });
      request.cleanup = () => {
        clearTimeout(timeout);
        signal?.removeEventListener('abort', onAbort);
      };
      this.counts.requests++;
      this.queue.push(request);
      this.pump();
    });
  }

  stats(): PoolStats {
    return {
      workers: this.slots.filter((s) => !s.exited).length,
      queued: this.queue.length,
      inFlight: this.slots.reduce((sum, s) => sum + (s.running?.requests.length ?? 0), 0),
      ...this.counts,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const closing = error('ERR_NODEGRAD_WORKER', 'serve: the pool was closed before the request finished');
    for (const request of this.queue.splice(0)) request.reject(closing);
    for (const slot of this.slots) for (const request of slot.running?.requests ?? []) request.reject(closing);
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
  }

  /** Hands idle workers the next batches; waits up to maxDelayMs for a batch to fill. */
  private pump(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    for (;;) {
      // Requests settled while queued (aborted) have already left the queue.
      const idle = this.slots.find((s) => s.ready && !s.exited && !s.running);
      if (!idle || this.queue.length === 0 || this.closed) return;
      const { requests, full } = takeBatch(this.queue, this.maxBatch);
      const waited = performance.now() - this.queue[0].enqueuedAt;
      if (!full && waited < this.maxDelayMs) {
        this.timer = setTimeout(() => this.pump(), this.maxDelayMs - waited);
        return;
      }
      for (const request of requests) this.queue.splice(this.queue.indexOf(request), 1);
      const id = this.nextBatchId++;
      const parts = requests.map((r) => r.input.data);
      // The worker concatenates (into a replayed plan's input): no new buffer here on the event loop.
      // A buffer two requests share is listed once. An empty one is cloned: Node drops the whole
      // message without an error when its transfer list holds a detached buffer.
      const transfer = [...new Set(parts.map((part) => part.buffer as ArrayBuffer))].filter((b) => b.byteLength > 0);
      const message = { id, parts, shape: batchShape(requests.map((r) => r.input)) } satisfies RunMessage;
      try {
        idle.worker.postMessage(message, transfer);
      } catch (thrown) {
        const reason = error(
          'ERR_NODEGRAD_ARGUMENT',
          `serve.run: the input could not be sent to a worker (${(thrown as Error).message}); with transfer: true, ` +
            'do not reuse an array handed to an earlier run',
        );
        for (const request of requests) request.reject(reason);
        continue;
      }
      idle.running = { id, requests };
      this.counts.batches++;
      idle.worker.ref();
    }
  }

  /** A worker's answer: resolves (or rejects) the requests of its batch, then frees the worker. */
  private finish(slot: Slot, message: Extract<WorkerMessage, { id: number }>): void {
    const running = slot.running;
    if (running?.id !== message.id) return;
    slot.running = null;
    slot.worker.unref();
    const { requests } = running;
    if (message.type === 'error') {
      const thrown = revive(message.error);
      for (const request of requests) request.reject(thrown);
    } else {
      const pieces = split(
        message.data,
        message.shape,
        requests.map((r) => r.input.shape[0]),
      );
      requests.forEach((request, i) => {
        const piece = pieces?.[i];
        if (piece) request.resolve(fromArray(piece.data, piece.shape));
        else
          request.reject(
            error(
              'ERR_NODEGRAD_SHAPE',
              `serve.run: the model's output ${formatShape(message.shape)} does not start with the batch's ${requests.reduce((s, r) => s + r.input.shape[0], 0)} rows, so it cannot be split between the ${requests.length} requests batched together; use maxBatch: 1`,
            ),
          );
      });
    }
    this.pump();
  }

  /** A worker exited: its batch rejects, and a replacement starts (unless the pool is closing). */
  private lost(slot: Slot, code: number): void {
    const at = this.slots.indexOf(slot);
    if (at >= 0) this.slots.splice(at, 1);
    if (this.closed || !slot.ready) return;
    const why = slot.lastError ? `threw ${slot.lastError.name}: ${slot.lastError.message}` : `exited with code ${code}`;
    const crashed = error(
      'ERR_NODEGRAD_WORKER',
      `serve.run: worker ${slot.index} ${why} while running this request; it was replaced`,
    );
    for (const request of slot.running?.requests ?? []) request.reject(crashed);
    slot.running = null;
    this.counts.replaced++;
    this.start().catch((failure: unknown) => {
      // The replacement could not build the model: with no worker left, nothing would run the queue.
      if (this.slots.some((s) => !s.exited)) return;
      const reason = failure instanceof Error ? failure : error('ERR_NODEGRAD_WORKER', String(failure));
      for (const request of this.queue.splice(0)) request.reject(reason);
    });
  }
}

/**
 * Starts a pool of worker threads that serve `model` (TorchServe's or Triton's job, inside the
 * Node.js process): each worker builds the model, loads the weights (read once, shared by all)
 * and runs forwards under ng.inferenceMode, so the caller's event loop stays free. Resolves when
 * every worker is ready; rejects with the first worker's error (an unknown model name, weights
 * that do not fit) otherwise.
 *
 * @param options - model (a registered name or a module path), modelOptions, weights,
 *   workers (default 2), threadsPerWorker (default 1), maxBatch (default 64),
 *   maxDelayMs (default 0), workerNice (default 5), inputShape.
 *
 * @example
 * ```ts
 * const pool = await ng.serve.createPool({ model: 'lenet5', weights: 'lenet5.safetensors', inputShape: [1, 28, 28] });
 * const logits = await pool.run(ng.rand([8, 1, 28, 28]), { timeoutMs: 1000 }); // [8, 10]
 * await pool.close();
 * ```
 */
export async function createPool(options: PoolOptions): Promise<Pool> {
  const { model, weights } = options;
  if (typeof model !== 'string' || model === '')
    throw error('ERR_NODEGRAD_ARGUMENT', 'serve.createPool: model must be a registered model name or a module path');
  const url = moduleUrl(model);
  const source = typeof weights === 'string' ? weights : `the given ${weights?.byteLength ?? 0}-byte buffer`;
  const shared = weights === undefined ? null : readShared(weights);
  if (shared) layout(new Uint8Array(shared), source); // a bad file fails here, before any worker starts
  const setup: WorkerSetup = {
    model: url ?? model,
    isModule: url !== null,
    modelOptions: options.modelOptions,
    weights: shared,
    weightsSource: source,
    threadsPerWorker: positiveInteger('threadsPerWorker', options.threadsPerWorker ?? 1),
    nice: niceness(options.workerNice ?? 5),
  };
  const pool = new WorkerPool(setup, options);
  const workers = positiveInteger('workers', options.workers ?? 2);
  try {
    await Promise.all(Array.from({ length: workers }, () => pool.start()));
  } catch (failure) {
    await pool.close();
    throw failure;
  }
  return pool;
}
