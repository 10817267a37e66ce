/**
 * `ng.serve`: inference off the main thread. createPool starts worker threads that each build the
 * model and share one copy of its weights; `pool.run(input)` queues a request, batches it with
 * concurrent requests of the same shape (dynamic batching, as Triton's and TorchServe's) and
 * resolves with the output, so a server's event loop stays free while forwards run.
 *
 * @example
 * ```ts
 * ng.manualSeed(0);
 * const model = ng.models.lenet5().eval();
 * ng.save(model.stateDict(), 'lenet5.safetensors');
 * const pool = await ng.serve.createPool({ model: 'lenet5', weights: 'lenet5.safetensors', inputShape: [1, 28, 28] });
 * const x = ng.rand([4, 1, 28, 28]);
 * const logits = await pool.run(x); // [4, 10], computed in a worker
 * const difference = logits.sub(ng.noGrad(() => model.forward(x))).abs().max().item(); // ≈ 1e-7
 * await pool.close();
 * ```
 *
 * @module
 */
export { createPool } from './pool.js';
export type { Pool, PoolOptions, RunOptions, ArrayInput, PoolStats } from './types.js';
