/** The process-group calls data parallelism makes, from ng.distributed. */
export {
  allReduce,
  broadcast,
  getRank,
  getWorldSize,
  isInitialized,
  type ReduceOp,
  type Work,
} from '../../distributed/index.js';
