/**
 * `ng.nn.parallel`: data parallelism across processes, as PyTorch's `torch.nn.parallel`.
 *
 * @module
 */
export { DistributedDataParallel, type DistributedDataParallelOptions, type NoSyncHandle } from './distributed.js';
export { assignBuckets, type BucketEntry } from './buckets.js';
export { SyncBatchNorm } from './sync-batchnorm.js';
