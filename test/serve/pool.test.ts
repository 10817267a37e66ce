// ng.serve.createPool with LeNet-5: worker results equal the model's own forward, concurrent
// requests are batched and split back, a bad input rejects its call only, and the weights are
// one shared copy.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { getPriority } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { expectNodegradError, rejection } from './helpers.js';
import { loadShared, readShared, sharedTensors } from '../../lib/serve/weights.js';

const dir = mkdtempSync(join(tmpdir(), 'nodegrad-serve-'));
const weights = join(dir, 'lenet5.safetensors');
ng.manualSeed(0);
const model = ng.models.lenet5().eval();
ng.save(model.stateDict(), weights);
const reference = (x: ng.Tensor) => ng.noGrad(() => model.forward(x));
const maxDifference = (a: ng.Tensor, b: ng.Tensor) => a.sub(b).abs().max().item();

let pool: ng.serve.Pool;
beforeAll(async () => {
  pool = await ng.serve.createPool({ model: 'lenet5', weights: readFileSync(weights), maxDelayMs: 50 });
});
afterAll(async () => {
  await pool.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('serve: LeNet-5 in a pool', () => {
  it('returns what the model computes on the main thread', async () => {
    const x = ng.rand([5, 1, 28, 28]);
    const y = await pool.run(x);
    expect(y.shape).toEqual([5, 10]);
    expect(maxDifference(y, reference(x))).toBeLessThan(1e-5);
    const fromArray = await pool.run({ data: x.data() as Float32Array, shape: [5, 1, 28, 28] });
    expect(maxDifference(fromArray, y)).toBe(0);
  });

  it('batches concurrent requests into fewer forwards and splits the output back', async () => {
    const before = pool.stats();
    const inputs = Array.from({ length: 12 }, (_, i) => ng.rand([1 + (i % 4), 1, 28, 28]));
    const outputs = await Promise.all(inputs.map((x) => pool.run(x)));
    const after = pool.stats();
    expect(after.requests - before.requests).toBe(12);
    expect(after.batches - before.batches).toBeLessThan(12);
    outputs.forEach((y, i) => {
      expect(y.shape).toEqual([inputs[i].shape[0], 10]);
      expect(maxDifference(y, reference(inputs[i]))).toBeLessThan(1e-5);
    });
  });

  it('repeated requests of one shape, replayed from a recorded plan, equal the forward on the main thread', async () => {
    for (let i = 0; i < 6; i++) {
      const x = ng.rand([3, 1, 28, 28]);
      expect(maxDifference(await pool.run(x), reference(x))).toBeLessThan(1e-5);
    }
  });

  it.runIf(process.platform === 'linux')(
    'runs the workers at workerNice (default 5) and the caller at its own',
    async () => {
      const nices = () =>
        readdirSync('/proc/self/task').map((task) => {
          const stat = readFileSync(`/proc/self/task/${task}/stat`, 'utf8');
          return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
        });
      const before = nices().filter((nice) => nice === 5).length;
      const nice = await ng.serve.createPool({ model: 'lenet5', weights, workers: 2 });
      const lower = await ng.serve.createPool({ model: 'lenet5', weights, workers: 1, workerNice: 9 });
      try {
        expect(nices().filter((n) => n === 5).length - before).toBe(2);
        expect(nices().filter((n) => n === 9).length).toBe(1);
        expect(getPriority()).toBe(0);
      } finally {
        await Promise.all([nice.close(), lower.close()]);
      }
      const failure = await rejection(ng.serve.createPool({ model: 'lenet5', workerNice: 25 }));
      expectNodegradError(failure, 'ERR_NODEGRAD_ARGUMENT', /workerNice must be an integer from -20 to 19, got 25/);
    },
  );

  it('transfer: one array given to two batched calls is sent once; given again after its transfer, the call rejects', async () => {
    const x = ng.rand([1, 1, 28, 28]);
    const data = x.data() as Float32Array;
    const [a, b] = await Promise.all([
      pool.run({ data, shape: [1, 1, 28, 28] }, { transfer: true }),
      pool.run({ data, shape: [1, 1, 28, 28] }, { transfer: true }),
    ]);
    expect(maxDifference(a, reference(x))).toBeLessThan(1e-5);
    expect(maxDifference(b, a)).toBe(0);
    expect(data.length).toBe(0); // detached: it went to the worker
    const failure = await rejection(pool.run({ data, shape: [0, 1, 28, 28] }, { transfer: true }));
    expectNodegradError(failure, 'ERR_NODEGRAD_ARGUMENT', /^serve\.run: the input could not be sent to a worker/);
    expect(maxDifference(await pool.run(x), a)).toBe(0);
  });

  it('a bad input rejects its own call with the layer error; the others and the workers carry on', async () => {
    const good = ng.rand([2, 1, 28, 28]);
    const [bad, fine] = await Promise.allSettled([pool.run(ng.rand([2, 3, 28, 28])), pool.run(good)]);
    expect(bad).toMatchObject({ status: 'rejected', reason: { code: 'ERR_NODEGRAD_SHAPE' } });
    expect((bad as PromiseRejectedResult).reason).toBeInstanceOf(ng.NodegradError);
    expect(((bad as PromiseRejectedResult).reason as Error).message).toMatch(/^conv2d: .*\[2, 3, 28, 28\]/);
    expect(fine.status).toBe('fulfilled');
    expect(pool.stats()).toMatchObject({ workers: 2, replaced: 0 });
  });

  it('inputShape refuses a wrong input on the main thread', async () => {
    const strict = await ng.serve.createPool({ model: 'lenet5', weights, workers: 1, inputShape: [1, 28, 28] });
    try {
      await expect(strict.run(ng.rand([2, 1, 32, 32]))).rejects.toMatchObject({
        code: 'ERR_NODEGRAD_SHAPE',
        message: 'serve.run: expected input of shape [N, 1, 28, 28], got [2, 1, 32, 32]',
      });
      expect(strict.stats()).toMatchObject({ requests: 0, batches: 0 });
    } finally {
      await strict.close();
    }
  });
});

describe('serve: createPool failures', () => {
  it('an unknown model name, weights that do not fit, or a file that is not safetensors', async () => {
    expectNodegradError(
      await rejection(ng.serve.createPool({ model: 'lenet6', workers: 1 })),
      'ERR_NODEGRAD_ARGUMENT',
      /^serve\.createPool: worker 0 could not build the model: .*'lenet6'.*lenet5/,
    );
    expectNodegradError(
      await rejection(ng.serve.createPool({ model: 'lenet5', modelOptions: { numClasses: 5 }, weights, workers: 1 })),
      'ERR_NODEGRAD_ARGUMENT',
      /^serve\.createPool: worker 0 could not build the model: loadStateDict \(LeNet5\): size mismatch/,
    );
    expectNodegradError(
      await rejection(ng.serve.createPool({ model: 'lenet5', weights: join(dir, 'missing.safetensors') })),
      'ERR_NODEGRAD_ARGUMENT',
      /^serve\.createPool: cannot read weights: ENOENT.*missing\.safetensors/,
    );
    expectNodegradError(
      await rejection(ng.serve.createPool({ model: 'lenet5', weights: Buffer.from('not a file') })),
      'ERR_NODEGRAD_ARGUMENT',
      /^serve\.createPool: the given 10-byte buffer is not a valid safetensors file/,
    );
    await expect(ng.serve.createPool({ model: 'lenet5', workers: 0 })).rejects.toMatchObject({
      message: 'serve.createPool: workers must be a positive integer, got 0',
    });
  });

  it('a module path whose default export builds the model', async () => {
    const doubler = fileURLToPath(new URL('./fixtures/doubler.mjs', import.meta.url));
    const viaPath = await ng.serve.createPool({ model: doubler, workers: 1 });
    try {
      expect((await viaPath.run(ng.tensor([[1, 2, 3]]))).data()).toEqual(new Float32Array([2, 4, 6]));
    } finally {
      await viaPath.close();
    }
  });
});

describe('serve: shared weights', () => {
  it("each worker's parameters are views over the one shared copy of the file", () => {
    const fresh = ng.models.lenet5();
    loadShared(fresh, sharedTensors(readShared(weights), weights));
    for (const [name, parameter] of fresh.namedParameters()) {
      expect(parameter.storage.data.buffer, name).toBeInstanceOf(SharedArrayBuffer);
    }
    const x = ng.rand([3, 1, 28, 28]);
    expect(
      maxDifference(
        ng.noGrad(() => fresh.eval().forward(x)),
        reference(x),
      ),
    ).toBe(0);
  });
});
