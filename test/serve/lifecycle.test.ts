// The pool's request lifecycle on a tiny model (test/serve/fixtures/doubler.mjs: 2x, with inputs
// that block, exit or throw in the worker): abort, timeout, crashes, replacement and close.
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { expectNodegradError, rejection } from './helpers.js';

const doubler = fileURLToPath(new URL('./fixtures/doubler.mjs', import.meta.url));
const pools: ng.serve.Pool[] = [];

async function pool(options: Partial<ng.serve.PoolOptions> = {}): Promise<ng.serve.Pool> {
  const created = await ng.serve.createPool({ model: doubler, workers: 1, maxBatch: 1, maxDelayMs: 0, ...options });
  pools.push(created);
  return created;
}

/** A [1, 2] input whose first value steers the doubler. */
const input = (first: number) => ng.tensor([[first, 1]]);

async function until(condition: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

describe('serve: abort and timeout', () => {
  it('an aborted queued request rejects at once and leaves the queue; the running one completes', async () => {
    const p = await pool();
    const slow = p.run(input(-1));
    const controller = new AbortController();
    const queued = p.run(input(5), { signal: controller.signal });
    expect(p.stats()).toMatchObject({ queued: 1, inFlight: 1 });
    controller.abort(new Error('client went away'));
    const error = await rejection(queued);
    expectNodegradError(error, 'ERR_NODEGRAD_ABORTED', /^serve\.run: .*aborted/);
    expect((error as Error).cause).toEqual(new Error('client went away'));
    expect(p.stats()).toMatchObject({ queued: 0, inFlight: 1 });
    expect((await slow).data()).toEqual(new Float32Array([-2, 2]));
    expect(p.stats().batches).toBe(1);
  });

  it('an already-aborted signal rejects without queueing', async () => {
    const p = await pool();
    await expect(p.run(input(1), { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'ERR_NODEGRAD_ABORTED',
    });
    expect(p.stats()).toMatchObject({ queued: 0, requests: 0 });
  });

  it('timeoutMs rejects a request still waiting, and one already running', async () => {
    const p = await pool();
    const running = p.run(input(-1), { timeoutMs: 100 });
    const waiting = p.run(input(2), { timeoutMs: 50 });
    expectNodegradError(await rejection(waiting), 'ERR_NODEGRAD_ABORTED', /^serve\.run: .*timed out after 50 ms/);
    expectNodegradError(await rejection(running), 'ERR_NODEGRAD_ABORTED', /^serve\.run: .*timed out after 100 ms/);
    // The worker finishes the abandoned forward and serves the next request.
    expect((await p.run(input(3))).data()).toEqual(new Float32Array([6, 2]));
    expect(p.stats().batches).toBe(2);
  });
});

describe('serve: crashes', () => {
  it('a worker that exits mid-request rejects its calls only, and is replaced', async () => {
    const p = await pool({ workers: 2 });
    const results = await Promise.allSettled([p.run(input(666)), p.run(input(4)), p.run(input(5))]);
    expect(results[0].status).toBe('rejected');
    const reason: unknown = (results[0] as PromiseRejectedResult).reason;
    expectNodegradError(reason, 'ERR_NODEGRAD_WORKER', /^serve\.run: worker \d exited with code 3/);
    expect(results.slice(1).map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    await until(() => p.stats().workers === 2);
    expect(p.stats().replaced).toBe(1);
    expect((await p.run(input(6))).data()).toEqual(new Float32Array([12, 2]));
  });

  it('an error thrown outside a request kills the worker; the pool replaces it and keeps serving', async () => {
    const p = await pool();
    expect((await p.run(input(777))).data()).toEqual(new Float32Array([1554, 2]));
    await until(() => p.stats().replaced === 1);
    expect((await p.run(input(7))).data()).toEqual(new Float32Array([14, 2]));
    expect(p.stats().workers).toBe(1);
  });
});

describe('serve: close', () => {
  it('rejects queued and running requests, and every later run', async () => {
    const p = await pool();
    const running = p.run(input(-1));
    const queued = p.run(input(1));
    const settled = Promise.allSettled([running, queued]);
    await p.close();
    const results = [...(await settled), ...(await Promise.allSettled([p.run(input(2))]))];
    for (const result of results) {
      expect(result.status).toBe('rejected');
      expectNodegradError((result as PromiseRejectedResult).reason, 'ERR_NODEGRAD_WORKER', /^serve(\.run)?: .*closed/);
    }
    expect(p.stats()).toMatchObject({ workers: 0, queued: 0 });
  });
});
