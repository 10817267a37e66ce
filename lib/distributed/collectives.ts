/** Collectives and point-to-point transfers on the default process group, sync or as a Work. */
import { NodegradError, formatShape } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { commBuffer, type CommArray, type DistributedNative, type WorkHandle } from './native.js';
import { requireGroup } from './process-group.js';

/** How allReduce and reduceScatter combine the ranks' values. `'avg'` is the sum divided by the world size (int32: rounded toward zero). */
export type ReduceOp = 'sum' | 'avg' | 'max' | 'min';

/** The reduce ops by PyTorch's names: `ReduceOp.SUM` is `'sum'`. PyTorch: `torch.distributed.ReduceOp`. */
export const ReduceOp = {
  /** The sum over the ranks. */
  SUM: 'sum',
  /** The sum divided by the world size. */
  AVG: 'avg',
  /** The elementwise maximum. */
  MAX: 'max',
  /** The elementwise minimum. */
  MIN: 'min',
} as const;

const reduceCodes: Record<ReduceOp, number> = { sum: 0, avg: 1, max: 2, min: 3 };

/**
 * An operation started with `asyncOp: true` (or isend / irecv). PyTorch: the `Work` object
 * `torch.distributed` returns with `async_op=True`.
 */
export interface Work {
  /** Blocks the calling thread until the operation ends; throws its error (ERR_NODEGRAD_DISTRIBUTED). */
  wait(): void;
  /** Whether the operation has ended (successfully or not). */
  isCompleted(): boolean;
  /** Resolves once the operation ends, without blocking the event loop; rejects with its error. */
  promise(): Promise<void>;
}

/** Options of allReduce. */
export interface AllReduceOptions {
  /** How to combine the ranks' tensors (default `'sum'`). */
  op?: ReduceOp;
  /** Start the operation and return a {@link Work} at once (default false: block until done). */
  asyncOp?: boolean;
}

/** Options of broadcast. */
export interface BroadcastOptions {
  /** The rank whose tensor every rank receives. */
  src: number;
  /** Start the operation and return a {@link Work} at once (default false). */
  asyncOp?: boolean;
}

/** Options of allGather. */
export interface AsyncOptions {
  /** Start the operation and return a {@link Work} at once (default false). */
  asyncOp?: boolean;
}

// Works not yet seen completed, with the tensors they read or write: holding them keeps the memory a
// background thread uses alive even when the caller drops both.
const inFlight = new Set<NativeWork>();

function sweep(native: DistributedNative): void {
  for (const work of inFlight) if (native.distIsCompleted(work.handle)) inFlight.delete(work);
}

function hint(cause: string, timeoutMs: number): string {
  if (/timed out|timeout/i.test(cause)) return ` (timeoutMs = ${timeoutMs}: did every rank call the same operations?)`;
  if (/closed by peer|reset by peer|broken pipe|connection/i.test(cause)) return ' (a peer rank exited or crashed)';
  return '';
}

class NativeWork implements Work {
  constructor(
    readonly handle: WorkHandle,
    private readonly native: DistributedNative,
    private readonly op: string,
    private readonly where: string,
    private readonly timeoutMs: number,
    readonly tensors: readonly Tensor[],
  ) {
    inFlight.add(this);
  }

  private failure(cause: string): NodegradError {
    // Gloo prefixes its messages with its source location ("[./gloo/transport/tcp/pair.cc:589] ").
    const message = cause.replace(/\[\.?\/?gloo\/[^\]]*\]\s*/g, '');
    return new NodegradError(
      'ERR_NODEGRAD_DISTRIBUTED',
      `${this.op}: ${this.where}: ${message}${hint(message, this.timeoutMs)}`,
    );
  }

  wait(): void {
    try {
      this.native.distWait(this.handle);
    } catch (error) {
      throw this.failure((error as Error).message);
    } finally {
      inFlight.delete(this);
    }
  }

  isCompleted(): boolean {
    const done = this.native.distIsCompleted(this.handle);
    if (done) inFlight.delete(this);
    return done;
  }

  promise(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.native.distOnComplete(this.handle, (error) => {
        inFlight.delete(this);
        if (error === null) resolve();
        else reject(this.failure(error));
      });
    });
  }
}

/**
 * Queues one operation: checks the group, starts it, then waits unless asyncOp. `written` are the
 * tensors it writes (their version is bumped), `read` those it only reads; the work holds both.
 */
function run(
  op: string,
  asyncOp: boolean | undefined,
  written: readonly Tensor[],
  read: readonly Tensor[],
  start: (native: DistributedNative) => WorkHandle,
): Work | undefined {
  const group = requireGroup(op);
  sweep(group.native);
  let handle: WorkHandle;
  try {
    handle = start(group.native);
  } catch (error) {
    if (error instanceof NodegradError) throw error;
    throw new NodegradError('ERR_NODEGRAD_DISTRIBUTED', `${op}: ${(error as Error).message}`);
  }
  for (const t of written) t.storage.bump(op);
  const where = `rank ${group.rank} of ${group.worldSize}`;
  const work = new NativeWork(handle, group.native, op, where, group.timeoutMs, [...written, ...read]);
  if (asyncOp === true) return work;
  work.wait();
  return undefined;
}

/** Checks `rank` is in the group; a peer of send or recv (`peer`) must also be another rank than this one. */
function checkRank(op: string, name: string, rank: number, peer = false): void {
  const group = requireGroup(op);
  if (!Number.isInteger(rank) || rank < 0 || rank >= group.worldSize) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `${op}: ${name} must be a rank in [0, ${group.worldSize}), got ${rank}`,
    );
  }
  if (peer && rank === group.rank) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `${op}: ${name} must be another rank than this one (${rank})`);
  }
}

function reduceCode(op: string, reduce: ReduceOp | undefined): number {
  const code = reduceCodes[reduce ?? 'sum'] as number | undefined;
  if (code === undefined) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `${op}: unknown op '${String(reduce)}' (expected sum, avg, max or min)`,
    );
  }
  return code;
}

/** Checks a per-rank tensor list against `t`: one per rank, each of t's dtype and size. */
function perRank(
  op: string,
  t: Tensor,
  list: readonly Tensor[],
  what: string,
): { data: CommArray[]; offsets: number[] } {
  const worldSize = requireGroup(op).worldSize;
  if (list.length !== worldSize) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `${op}: expected ${worldSize} ${what} (one per rank), got ${list.length}`,
    );
  }
  const data: CommArray[] = [];
  const offsets: number[] = [];
  list.forEach((item, r) => {
    if (item.dtype !== t.dtype || item.numel !== t.numel) {
      throw new NodegradError(
        'ERR_NODEGRAD_SHAPE',
        `${op}: ${what}[${r}] is ${item.dtype} of shape ${formatShape(item.shape)}, expected ${t.dtype} with ` +
          `${t.numel} elements like ${formatShape(t.shape)}`,
      );
    }
    const b = commBuffer(op, item, `${what}[${r}]`);
    data.push(b.data);
    offsets.push(b.offset);
  });
  return { data, offsets };
}

/**
 * Combines `t` across all ranks, in place: afterwards every rank's `t` holds the sum (or avg, max,
 * min) of all ranks' `t`. `t` must be a contiguous float32, float64 or int32 tensor of the same shape
 * on every rank. Blocks until done, or with `asyncOp: true` returns a {@link Work} at once (leave `t`
 * alone until it completes). PyTorch: `torch.distributed.all_reduce(t, op, async_op)`.
 */
export function allReduce(t: Tensor, options: AllReduceOptions & { asyncOp: true }): Work;
export function allReduce(t: Tensor, options?: AllReduceOptions & { asyncOp?: false }): void;
export function allReduce(t: Tensor, options?: AllReduceOptions): Work | undefined;
export function allReduce(t: Tensor, options: AllReduceOptions = {}): Work | undefined {
  const code = reduceCode('allReduce', options.op);
  const b = commBuffer('allReduce', t);
  return run('allReduce', options.asyncOp, [t], [], (n) => n.distAllReduce(b.data, b.offset, b.count, code));
}

/**
 * Copies rank `src`'s `t` into `t` on every other rank (same shape and dtype everywhere).
 * PyTorch: `torch.distributed.broadcast(t, src, async_op)`.
 */
export function broadcast(t: Tensor, options: BroadcastOptions & { asyncOp: true }): Work;
export function broadcast(t: Tensor, options: BroadcastOptions & { asyncOp?: false }): void;
export function broadcast(t: Tensor, options: BroadcastOptions): Work | undefined;
export function broadcast(t: Tensor, options: BroadcastOptions): Work | undefined {
  checkRank('broadcast', 'src', options.src);
  const b = commBuffer('broadcast', t);
  return run('broadcast', options.asyncOp, [t], [], (n) => n.distBroadcast(b.data, b.offset, b.count, options.src));
}

/**
 * Gathers every rank's `t` into `outputs` (one tensor per rank, each of t's dtype and size):
 * afterwards `outputs[r]` holds rank r's `t` on every rank. PyTorch: `torch.distributed.all_gather`.
 */
export function allGather(outputs: Tensor[], t: Tensor, options: AsyncOptions & { asyncOp: true }): Work;
export function allGather(outputs: Tensor[], t: Tensor, options?: AsyncOptions & { asyncOp?: false }): void;
export function allGather(outputs: Tensor[], t: Tensor, options?: AsyncOptions): Work | undefined;
export function allGather(outputs: Tensor[], t: Tensor, options: AsyncOptions = {}): Work | undefined {
  const b = commBuffer('allGather', t);
  const o = perRank('allGather', t, outputs, 'outputs');
  return run('allGather', options.asyncOp, outputs, [t], (n) =>
    n.distAllGather(b.data, b.offset, b.count, o.data, o.offsets),
  );
}

/**
 * Reduces `inputs` (one tensor per rank, each of output's dtype and size) across ranks and leaves the
 * reduction of `inputs[rank]` in `output` on each rank. PyTorch: `torch.distributed.reduce_scatter`.
 */
export function reduceScatter(output: Tensor, inputs: Tensor[], options: AllReduceOptions & { asyncOp: true }): Work;
export function reduceScatter(output: Tensor, inputs: Tensor[], options?: AllReduceOptions & { asyncOp?: false }): void;
export function reduceScatter(output: Tensor, inputs: Tensor[], options?: AllReduceOptions): Work | undefined;
export function reduceScatter(output: Tensor, inputs: Tensor[], options: AllReduceOptions = {}): Work | undefined {
  const code = reduceCode('reduceScatter', options.op);
  const b = commBuffer('reduceScatter', output, 'output');
  const i = perRank('reduceScatter', output, inputs, 'inputs');
  return run('reduceScatter', options.asyncOp, [output], inputs, (n) =>
    n.distReduceScatter(b.data, b.offset, b.count, i.data, i.offsets, code),
  );
}

/** Blocks until every rank has called barrier. PyTorch: `torch.distributed.barrier()`. */
export function barrier(): void {
  run('barrier', false, [], [], (n) => n.distBarrier());
}

/** Starts sending `t` to rank `dst`; the Work completes once `dst` received it. PyTorch: `torch.distributed.isend`. */
export function isend(t: Tensor, dst: number): Work {
  checkRank('isend', 'dst', dst, true);
  const b = commBuffer('isend', t);
  return run('isend', true, [], [t], (n) => n.distSend(b.data, b.offset, b.count, dst)) as Work;
}

/** Starts receiving rank `src`'s tensor into `t` (same dtype and size). PyTorch: `torch.distributed.irecv`. */
export function irecv(t: Tensor, src: number): Work {
  checkRank('irecv', 'src', src, true);
  const b = commBuffer('irecv', t);
  return run('irecv', true, [t], [], (n) => n.distRecv(b.data, b.offset, b.count, src)) as Work;
}

/** Sends `t` to rank `dst`, blocking until it was received. PyTorch: `torch.distributed.send`. */
export function send(t: Tensor, dst: number): void {
  checkRank('send', 'dst', dst, true);
  const b = commBuffer('send', t);
  run('send', false, [], [t], (n) => n.distSend(b.data, b.offset, b.count, dst));
}

/** Receives rank `src`'s tensor into `t`, blocking until it arrives. PyTorch: `torch.distributed.recv`. */
export function recv(t: Tensor, src: number): void {
  checkRank('recv', 'src', src, true);
  const b = commBuffer('recv', t);
  run('recv', false, [t], [], (n) => n.distRecv(b.data, b.offset, b.count, src));
}
