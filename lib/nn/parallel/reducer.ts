/**
 * The gradient side of DistributedDataParallel: parameters' post-accumulate hooks mark gradients
 * ready; a bucket whose gradients are all ready is flattened and its allreduce (average) starts at
 * once, while backward goes on; a callback at the end of backward waits for every bucket and copies
 * the averaged gradients back, so backward() returns with them, as PyTorch's reducer.
 */
import { queueCallback } from '../../autograd/engine.js';
import { NodegradError } from '../../errors.js';
import { zeros } from '../../tensor/creation.js';
import type { Tensor } from '../../tensor/tensor.js';
import { writeInPlace } from '../../tensor/write.js';
import { assignBuckets } from './buckets.js';
import { allReduce, type Work } from './comm.js';

interface Bucket {
  readonly params: readonly Tensor[];
  readonly numel: number;
  ready: number;
  flat: Tensor | null;
  work: Work | null;
}

/** What the reducer is told at construction. */
export interface ReducerOptions {
  /** Largest bucket, in bytes. */
  capBytes: number;
  /** Start each bucket's allreduce during backward (true) or all of them after it. */
  overlap: boolean;
  /** Parameters that got no gradient count as ready with a zero gradient, instead of an error. */
  findUnusedParameters: boolean;
}

const BYTES: Record<string, number> = { float32: 4, float64: 8, float16: 2, int32: 4 };

export class Reducer {
  /** The buckets, in the order their allreduces start (the same on every rank). */
  readonly buckets: readonly Bucket[];
  private readonly bucketOf = new Map<Tensor, Bucket>();
  private readonly marked = new Set<Tensor>();
  private nextLaunch = 0;
  private expectingBackward = false;
  private finishQueued = false;

  /** @param named - the parameters that require grad, by name, in registration order. */
  constructor(
    private readonly named: readonly (readonly [string, Tensor])[],
    private readonly options: ReducerOptions,
  ) {
    const entries = named.map(([, p]) => ({ bytes: p.numel * (BYTES[p.dtype] ?? 4), dtype: p.dtype }));
    this.buckets = assignBuckets(entries, options.capBytes).map((indices) => {
      const params = indices.map((i) => named[i][1]);
      return { params, numel: params.reduce((n, p) => n + p.numel, 0), ready: 0, flat: null, work: null };
    });
    for (const bucket of this.buckets) for (const p of bucket.params) this.bucketOf.set(p, bucket);
    for (const [, p] of named) p.registerPostAccumulateGradHook(() => this.markReady(p));
  }

  /**
   * Called by forward: the next backward is to be synchronized. `used`: the parameters the forward's
   * outputs depend on (findUnusedParameters); the others are ready at once, so their buckets do not
   * wait for the end of backward.
   */
  prepare(used?: ReadonlySet<Tensor>): void {
    this.reset();
    this.expectingBackward = true;
    if (!used) return;
    for (const [, p] of this.named) {
      if (used.has(p)) continue;
      this.marked.add(p);
      const bucket = this.bucketOf.get(p);
      if (bucket) bucket.ready++;
    }
  }

  /** The next backward is not synchronized (noSync or a forward outside DDP). */
  skip(): void {
    this.reset();
  }

  private reset(): void {
    this.expectingBackward = false;
    this.finishQueued = false;
    this.marked.clear();
    this.nextLaunch = 0;
    for (const bucket of this.buckets) {
      bucket.ready = 0;
      bucket.flat = null;
      bucket.work = null;
    }
  }

  private markReady(p: Tensor): void {
    if (!this.expectingBackward || this.marked.has(p)) return;
    if (!this.finishQueued) {
      this.finishQueued = true;
      queueCallback(() => this.finish());
    }
    this.marked.add(p);
    const bucket = this.bucketOf.get(p);
    if (bucket) bucket.ready++;
    if (this.options.overlap) this.launchReady();
  }

  /** Starts the ready buckets in bucket order, so every rank issues the same collectives in the same order. */
  private launchReady(): void {
    while (this.nextLaunch < this.buckets.length) {
      const bucket = this.buckets[this.nextLaunch];
      if (bucket.ready < bucket.params.length) return;
      this.launch(bucket);
      this.nextLaunch++;
    }
  }

  private launch(bucket: Bucket): void {
    const flat = zeros([bucket.numel], { dtype: bucket.params[0].dtype });
    const values = flat.storage.data;
    let at = 0;
    for (const p of bucket.params) {
      const g = p.grad?.contiguous();
      if (g) values.set(g.storage.data.subarray(g.offset, g.offset + g.numel), at);
      at += p.numel;
    }
    bucket.flat = flat;
    bucket.work = allReduce(flat, { op: 'avg', asyncOp: true });
  }

  /** End of backward: every bucket reduced, averaged gradients written back. */
  private finish(): void {
    this.expectingBackward = false;
    const unused = this.named.filter(([, p]) => !this.marked.has(p));
    if (unused.length > 0 && !this.options.findUnusedParameters) {
      for (const bucket of this.buckets) bucket.work?.wait();
      this.reset();
      throw new NodegradError(
        'ERR_NODEGRAD_DISTRIBUTED',
        `DistributedDataParallel: parameters got no gradient in this backward, so their buckets cannot be ` +
          `reduced: ${unused.map(([name]) => name).join(', ')}; pass { findUnusedParameters: true } when ` +
          'part of the model is not used in every step, or remove the unused parameters',
      );
    }
    for (const [, p] of unused) {
      const bucket = this.bucketOf.get(p);
      if (bucket) bucket.ready++;
    }
    this.launchReady();
    for (const bucket of this.buckets) {
      bucket.work?.wait();
      const flat = bucket.flat;
      if (!flat) continue;
      let at = 0;
      for (const p of bucket.params) {
        const reduced = flat.storage.data.subarray(at, at + p.numel);
        p.grad ??= zeros(p.shape, { dtype: p.dtype });
        writeInPlace('DistributedDataParallel', p.grad, (values) => values.set(reduced));
        at += p.numel;
      }
    }
    this.reset();
  }
}
