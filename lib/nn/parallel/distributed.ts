/** DistributedDataParallel: one model replica per process, gradients averaged across processes. */
import { noGrad } from '../../autograd/grad-mode.js';
import { NodegradError } from '../../errors.js';
import { cat } from '../../ops/join.js';
import { to } from '../../ops/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import { writeInPlace } from '../../tensor/write.js';
import { Module, type AnyModule } from '../module.js';
import { broadcast, isInitialized } from './comm.js';
import { Reducer } from './reducer.js';

/** Options of {@link DistributedDataParallel} (PyTorch's keyword arguments in camelCase). */
export interface DistributedDataParallelOptions {
  /** Largest gradient bucket in MiB; smaller buckets start reducing sooner, larger ones make fewer calls. Default 25. */
  bucketCapMB?: number;
  /** Broadcast rank 0's buffers (BatchNorm running statistics) before each training forward. Default true. */
  broadcastBuffers?: boolean;
  /** Parameters that get no gradient in a step count as zero instead of raising an error. Default false. */
  findUnusedParameters?: boolean;
  /** Start each bucket's allreduce during backward, as soon as it is full (default true); false waits for the end of backward. */
  overlap?: boolean;
}

/** Copies rank 0's values of `tensors` into every rank's, in one broadcast (float64 holds float32 and int32 exactly). */
function broadcastFromRankZero(tensors: readonly Tensor[]): void {
  if (tensors.length === 0) return;
  noGrad(() => {
    const flat = cat(tensors.map((t) => to(t.detach().reshape([-1]), 'float64')));
    broadcast(flat, { src: 0 });
    let at = 0;
    for (const t of tensors) {
      const values = flat.storage.data.subarray(at, at + t.numel);
      writeInPlace('DistributedDataParallel', t, (out) => {
        for (let i = 0; i < values.length; i++) out[i] = values[i];
      });
      at += t.numel;
    }
  });
}

/** What {@link DistributedDataParallel.noSync} returns without a callback. */
export interface NoSyncHandle {
  /** Ends the no-sync region: the next forward's backward averages gradients again. */
  close(): void;
  /** The same as close, for `using handle = ddp.noSync()`. */
  [Symbol.dispose](): void;
}

/** The tensors in a forward's result (a tensor, or arrays and plain objects of them). */
function outputTensors(out: unknown, into: Tensor[] = []): Tensor[] {
  if (out instanceof Tensor) into.push(out);
  else if (Array.isArray(out)) for (const item of out) outputTensors(item, into);
  else if (typeof out === 'object' && out !== null) for (const item of Object.values(out)) outputTensors(item, into);
  return into;
}

/** The leaf tensors the graph of `outputs` reaches: the parameters backward will give a gradient. */
function reachableLeaves(outputs: readonly Tensor[]): Set<Tensor> {
  const leaves = new Set<Tensor>();
  const seen = new Set<unknown>();
  const stack = [...outputs];
  for (let t = stack.pop(); t; t = stack.pop()) {
    const node = t.gradFn;
    if (!node) {
      leaves.add(t);
      continue;
    }
    if (seen.has(node)) continue;
    seen.add(node);
    stack.push(...node.inputs);
  }
  return leaves;
}

/**
 * Data parallelism across processes, as PyTorch's `torch.nn.parallel.DistributedDataParallel`: each
 * process holds a replica of `module` and runs forward and backward on its own part of the batch;
 * `loss.backward()` returns with gradients averaged over all processes, so an optimizer step keeps
 * the replicas identical. Needs `ng.distributed.initProcessGroup()` first (run the script with
 * `nodegrad launch --nproc-per-node N`).
 *
 * At construction rank 0's parameters and buffers are broadcast to every rank. Gradients are grouped
 * into buckets of at most `bucketCapMB` in reverse registration order; a bucket's allreduce starts as
 * soon as backward has produced all of its gradients, overlapping communication with the rest of
 * backward. Forward delegates to `module`; the wrapped model is `ddp.module`, and, as in PyTorch, the
 * wrapper's state dict keys carry a `module.` prefix: save `ddp.module.stateDict()` to get a
 * checkpoint that loads into an unwrapped model.
 *
 * @typeParam M - The wrapped module's type: forward takes its arguments and returns its result.
 * @example
 * ```ts
 * await ng.distributed.initProcessGroup(); // from RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT
 * const ddp = new ng.nn.parallel.DistributedDataParallel(ng.models.lenet5());
 * const opt = new ng.optim.SGD(ddp.parameters(), { lr: 0.1 });
 * const loss = ng.nn.functional.crossEntropy(ddp.forward(images), labels);
 * opt.zeroGrad();
 * loss.backward(); // gradients averaged over every rank
 * opt.step();
 * ```
 */
export class DistributedDataParallel<M extends AnyModule = Module> extends Module<
  Parameters<M['forward']>,
  ReturnType<M['forward']>
> {
  /** The wrapped model (PyTorch's `ddp.module`). */
  readonly module: M;
  /** Whether rank 0's buffers are broadcast before each training forward. */
  readonly broadcastBuffers: boolean;
  private readonly reducer: Reducer;
  private readonly findUnusedParameters: boolean;
  private syncEnabled = true;

  /**
   * @param module - The model to replicate; the same architecture on every rank.
   * @param options - bucketCapMB (default 25), broadcastBuffers (default true), findUnusedParameters
   *   (default false), overlap (default true).
   */
  constructor(module: M, options: DistributedDataParallelOptions = {}) {
    super();
    if (!isInitialized()) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        'DistributedDataParallel: the default process group is not initialized; ' +
          'await ng.distributed.initProcessGroup() first',
      );
    }
    this.module = module;
    this.broadcastBuffers = options.broadcastBuffers ?? true;
    broadcastFromRankZero([...module.parameters(), ...module.buffers()]);
    const named = [...module.namedParameters()].filter(([, p]) => p.requiresGrad);
    this.findUnusedParameters = options.findUnusedParameters ?? false;
    this.reducer = new Reducer(named, {
      capBytes: (options.bucketCapMB ?? 25) * 1024 * 1024,
      overlap: options.overlap ?? true,
      findUnusedParameters: this.findUnusedParameters,
    });
  }

  /** The gradient buckets' parameter counts, in the order their allreduces start. */
  get bucketSizes(): number[] {
    return this.reducer.buckets.map((b) => b.params.length);
  }

  /** Runs the wrapped module's forward; the next backward averages gradients unless inside noSync. */
  forward(...args: Parameters<M['forward']>): ReturnType<M['forward']> {
    if (this.training && this.broadcastBuffers) broadcastFromRankZero(this.module.buffers());
    const run = this.module.forward.bind(this.module) as (...a: Parameters<M['forward']>) => ReturnType<M['forward']>;
    if (!this.syncEnabled) {
      this.reducer.skip();
      return run(...args);
    }
    const out = run(...args);
    // Parameters outside the output's graph get no gradient: mark them ready now, as PyTorch does.
    this.reducer.prepare(this.findUnusedParameters ? reachableLeaves(outputTensors(out)) : undefined);
    return out;
  }

  /**
   * Skips gradient averaging for the forwards run inside (gradients accumulate locally), as PyTorch's
   * `no_sync()` context: the first synchronized backward afterwards averages the accumulated sums.
   * With a callback, runs it and returns its result; without, returns a handle to dispose
   * (`using _ = ddp.noSync()`) or `close()`.
   */
  noSync<T>(fn: () => T): T;
  noSync(): NoSyncHandle;
  noSync<T>(fn?: () => T): T | NoSyncHandle {
    const previous = this.syncEnabled;
    this.syncEnabled = false;
    const close = () => {
      this.syncEnabled = previous;
    };
    if (!fn) return { close, [Symbol.dispose]: close };
    try {
      return fn();
    } finally {
      close();
    }
  }
}
