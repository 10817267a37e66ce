// Bad input and misuse throw NodegradErrors naming the op, before anything reaches the network;
// a one-rank group (file://) lets the checks that need a group run in this process.
import { afterEach, describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { distributedNative } from '../../lib/distributed/native.js';
import { fileInitMethod } from './helpers.js';

const D = ng.distributed;

function thrown(fn: () => unknown): ng.NodegradError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ng.NodegradError);
    return error as ng.NodegradError;
  }
  throw new Error('expected a NodegradError');
}

async function rejected(promise: Promise<unknown>): Promise<ng.NodegradError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ng.NodegradError);
    return error as ng.NodegradError;
  }
  throw new Error('expected a rejection');
}

afterEach(() => {
  D.destroyProcessGroup();
  ng.backend.setBackend(ng.backend.nativeBackend(ng.backend.loadAddon()));
});

describe('without a process group', () => {
  it('every op names itself and says the group is not initialized', () => {
    expect(D.isInitialized()).toBe(false);
    for (const [op, call] of [
      ['allReduce', () => D.allReduce(ng.ones([2]))],
      ['broadcast', () => D.broadcast(ng.ones([2]), { src: 0 })],
      ['barrier', () => D.barrier()],
      ['send', () => D.send(ng.ones([2]), 0)],
      ['getRank', () => D.getRank()],
    ] as const) {
      const error = thrown(call);
      expect(error.code).toBe('ERR_NODEGRAD_DISTRIBUTED');
      expect(error.message).toMatch(new RegExp(`^${op}: the default process group is not initialized`));
    }
  });

  it('tensors of another dtype or not contiguous are refused with their dtype and shape', () => {
    const bool = thrown(() => D.allReduce(ng.ones([2, 2]).gt(0)));
    expect(bool.code).toBe('ERR_NODEGRAD_DTYPE');
    expect(bool.message).toBe('allReduce: expected a float32, float64 or int32 tensor, got bool of shape [2, 2]');
    const transposed = thrown(() => D.allReduce(ng.ones([2, 3]).transpose(0, 1)));
    expect(transposed.code).toBe('ERR_NODEGRAD_ARGUMENT');
    expect(transposed.message).toMatch(
      /^allReduce: expected a contiguous tensor, got a float32 view of shape \[3, 2\]/,
    );
  });

  it('initProcessGroup checks its options and the environment', async () => {
    const mpi = await rejected(D.initProcessGroup({ backend: 'mpi', rank: 0, worldSize: 1 }));
    expect(mpi.code).toBe('ERR_NODEGRAD_UNSUPPORTED');
    expect(mpi.message).toMatch(/^initProcessGroup: .*libopenmpi-dev/);
    const method = await rejected(D.initProcessGroup({ rank: 0, worldSize: 1, initMethod: 'udp://x:1' }));
    expect(method.message).toMatch(/^initProcessGroup: unknown initMethod 'udp:\/\/x:1'/);
    const rank = await rejected(D.initProcessGroup({ rank: 2, worldSize: 2, initMethod: fileInitMethod() }));
    expect(rank.message).toBe('initProcessGroup: rank 2 is not below worldSize 2');
    const saved = { RANK: process.env.RANK, MASTER_ADDR: process.env.MASTER_ADDR };
    delete process.env.RANK;
    delete process.env.MASTER_ADDR;
    process.env.NODEGRAD_DIST_TIMEOUT_MS = 'soon';
    try {
      expect((await rejected(D.initProcessGroup({ rank: 0, worldSize: 1 }))).message).toBe(
        'initProcessGroup: timeoutMs must be a positive number of milliseconds, got soon',
      );
      delete process.env.NODEGRAD_DIST_TIMEOUT_MS;
      expect((await rejected(D.initProcessGroup({ worldSize: 1 }))).message).toMatch(/set RANK/);
      expect((await rejected(D.initProcessGroup({ rank: 0, worldSize: 1 }))).message).toMatch(/needs MASTER_ADDR/);
    } finally {
      delete process.env.NODEGRAD_DIST_TIMEOUT_MS;
      for (const [name, value] of Object.entries(saved)) if (value !== undefined) process.env[name] = value;
    }
    expect(D.isInitialized()).toBe(false);
  });

  it('an addon built without Gloo, or none at all, says how to get one', () => {
    for (const addon of [{ distAvailable: () => false }, {}]) {
      const error = thrown(() => distributedNative('initProcessGroup', addon));
      expect(error.code).toBe('ERR_NODEGRAD_UNSUPPORTED');
      expect(error.message).toMatch(/^initProcessGroup: this build of the native addon has no Gloo/);
      expect(error.message).toMatch(/apt-get install libgloo-dev.*npm run build:native/);
    }
    const missing = thrown(() => distributedNative('allReduce', null));
    expect(missing.message).toMatch(/^allReduce: ng.distributed needs the native addon/);
  });

  it('the reference backend does not run distributed', async () => {
    ng.backend.setBackend(ng.backend.referenceBackend);
    const error = await rejected(D.initProcessGroup({ rank: 0, worldSize: 1, initMethod: fileInitMethod() }));
    expect(error.code).toBe('ERR_NODEGRAD_UNSUPPORTED');
    expect(error.message).toMatch(/^initProcessGroup: the reference backend does not support ng.distributed/);
  });
});

describe('in a one-rank group', () => {
  it('collectives run, and per-rank lists and ranks are checked against the world size', async () => {
    await D.initProcessGroup({ rank: 0, worldSize: 1, initMethod: fileInitMethod(), timeoutMs: 10_000 });
    expect([D.isInitialized(), D.getRank(), D.getWorldSize(), D.getBackend()]).toEqual([true, 0, 1, 'gloo']);
    const t = ng.tensor([1, 2, 3], { dtype: 'int32' });
    D.allReduce(t, { op: D.ReduceOp.AVG });
    expect(t.toArray()).toEqual([1, 2, 3]);
    const work = D.allReduce(ng.ones([5]), { asyncOp: true });
    await work.promise();
    expect(work.isCompleted()).toBe(true);

    const twice = await rejected(D.initProcessGroup({ rank: 0, worldSize: 1, initMethod: fileInitMethod() }));
    expect(twice.message).toMatch(/^initProcessGroup: the default process group is already initialized/);
    expect(thrown(() => D.broadcast(ng.ones([2]), { src: 1 })).message).toBe(
      'broadcast: src must be a rank in [0, 1), got 1',
    );
    expect(thrown(() => D.send(ng.ones([2]), 0)).message).toBe('send: dst must be another rank than this one (0)');
    expect(thrown(() => D.irecv(ng.ones([2]), 0)).message).toBe('irecv: src must be another rank than this one (0)');
    expect(thrown(() => D.allGather([ng.zeros([2]), ng.zeros([2])], ng.ones([2]))).message).toBe(
      'allGather: expected 1 outputs (one per rank), got 2',
    );
    const mismatch = thrown(() => D.reduceScatter(ng.zeros([2]), [ng.zeros([3])]));
    expect(mismatch.code).toBe('ERR_NODEGRAD_SHAPE');
    expect(mismatch.message).toBe(
      'reduceScatter: inputs[0] is float32 of shape [3], expected float32 with 2 elements like [2]',
    );
    expect(thrown(() => D.allReduce(ng.ones([2]), { op: 'prod' as ng.distributed.ReduceOp })).message).toMatch(
      /^allReduce: unknown op 'prod'/,
    );
    D.destroyProcessGroup();
    expect(D.isInitialized()).toBe(false);
  });
});
