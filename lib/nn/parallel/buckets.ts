/** How DistributedDataParallel groups gradients into buckets, each allreduced as one flat buffer. */
import { NodegradError } from '../../errors.js';

/** What bucket assignment needs to know of one parameter. */
export interface BucketEntry {
  /** Bytes of the parameter's gradient. */
  readonly bytes: number;
  /** Its dtype: a bucket holds one dtype, since it is reduced as one flat tensor. */
  readonly dtype: string;
}

/**
 * Groups parameter indices into buckets of at most `capBytes` (a parameter larger than the cap gets a
 * bucket of its own), in REVERSE registration order: backward produces the last layers' gradients
 * first, so the first bucket fills first and its allreduce starts while backward goes on, as in
 * PyTorch's reducer. One open bucket per dtype.
 * @returns buckets of indices into `entries`, in the order they are expected to fill.
 */
export function assignBuckets(entries: readonly BucketEntry[], capBytes: number): number[][] {
  if (!(capBytes > 0)) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `DistributedDataParallel: bucketCapMB must be positive, got ${capBytes / (1024 * 1024)}`,
    );
  }
  const done: number[][] = [];
  const open = new Map<string, { indices: number[]; bytes: number }>();
  for (let i = entries.length - 1; i >= 0; i--) {
    const { bytes, dtype } = entries[i];
    let bucket = open.get(dtype);
    if (bucket && bucket.bytes + bytes > capBytes) {
      done.push(bucket.indices);
      bucket = undefined;
    }
    if (!bucket) {
      bucket = { indices: [], bytes: 0 };
      open.set(dtype, bucket);
    }
    bucket.indices.push(i);
    bucket.bytes += bytes;
  }
  for (const bucket of open.values()) done.push(bucket.indices);
  // Order buckets by the first (latest-registered) parameter in each, as they fill during backward.
  return done.sort((a, b) => b[0] - a[0]);
}
