/**
 * `ng.distributed`: multi-process data-parallel training over Gloo (CPU, TCP), as
 * `torch.distributed` with the `gloo` backend. Each process joins the default process group with
 * {@link initProcessGroup}, then calls the same collectives in the same order; each collective runs
 * on a background native thread, in the order issued, and the sync forms block until it is done.
 *
 * @example
 * ```ts
 * // On every rank (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT set by the launcher):
 * await ng.distributed.initProcessGroup();
 * const t = ng.tensor([ng.distributed.getRank() + 1]);
 * ng.distributed.allReduce(t); // every rank: [1 + 2 + ... + worldSize]
 * const work = ng.distributed.allReduce(ng.ones([1024]), { asyncOp: true });
 * work.wait();
 * ng.distributed.destroyProcessGroup();
 * ```
 *
 * @module
 */
export {
  initProcessGroup,
  destroyProcessGroup,
  isInitialized,
  getRank,
  getWorldSize,
  getBackend,
  type InitOptions,
} from './process-group.js';
export {
  allReduce,
  broadcast,
  allGather,
  reduceScatter,
  barrier,
  send,
  recv,
  isend,
  irecv,
  ReduceOp,
  type Work,
  type AllReduceOptions,
  type BroadcastOptions,
  type AsyncOptions,
} from './collectives.js';
