// ng.memory() with the native addon: small tensors (V8's typed arrays, below the arena's threshold)
// are uncounted inside the collection that frees them, so the count follows what is alive in loops
// that never yield, where a FinalizationRegistry's callbacks never run.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { ARENA_MIN_BYTES } from '../../lib/tensor/storage.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as (options?: { type: 'minor'; execution: 'sync' }) => void;

describe('ng.memory() in a loop that never yields', () => {
  it('counts 140k small tensors as freed by the collections that free them, at every check', () => {
    expect(ng.backend.getBackend().name).toBe('native');
    const a = ng.randn([4]);
    const b = ng.randn([4]);
    gc();
    const baseline = ng.memory();
    const kept: ng.Tensor[] = [];
    const checks: { live: number; expected: number; tensors: number }[] = [];
    for (let i = 1; i <= 140_000; i++) {
      const sum = a.add(b); // 16 bytes, dropped unless kept
      if (i % 1000 === 0) kept.push(sum);
      if (i % 20_000 === 0) {
        gc();
        const now = ng.memory();
        checks.push({ live: now.liveBytes - baseline.liveBytes, expected: 16 * kept.length, tensors: now.liveTensors });
      }
    }
    expect(checks).toHaveLength(7);
    for (const [i, check] of checks.entries()) {
      expect(check.live).toBe(check.expected);
      expect(check.tensors).toBe(baseline.liveTensors + 20 * (i + 1));
    }
    // Without a full collection the count stays between what is kept and what was made. (A function
    // of its own, so that no register of this frame holds its last result.)
    const makeGarbage = (n: number): void => {
      for (let i = 0; i < n; i++) a.add(b);
    };
    makeGarbage(20_000);
    const unswept = ng.memory().liveBytes - baseline.liveBytes;
    expect(unswept).toBeGreaterThanOrEqual(16 * kept.length);
    expect(unswept).toBeLessThanOrEqual(16 * (kept.length + 20_000));
    gc();
    expect(ng.memory().liveBytes - baseline.liveBytes).toBe(16 * kept.length);
    expect(a.add(b).shape).toEqual([4]); // a and b stay alive (part of the baseline) until here
  });

  it('a minor collection uncounts the young tensors it frees', () => {
    const a = ng.ones([64]);
    gc();
    const baseline = ng.memory().liveBytes;
    for (let i = 0; i < 5000; i++) a.mul(2);
    gc({ type: 'minor', execution: 'sync' });
    // A scavenge frees what the loop dropped (at most the last few results survive it).
    expect(ng.memory().liveBytes - baseline).toBeLessThanOrEqual(4 * 256);
  });

  it('a disposed small tensor stops counting at once and is not uncounted again when collected', () => {
    gc();
    const baseline = ng.memory();
    let small: ng.Tensor | null = ng.full([10], 3);
    expect(ng.memory().liveBytes).toBe(baseline.liveBytes + 40);
    small.dispose();
    expect(ng.memory().liveBytes).toBe(baseline.liveBytes);
    expect(ng.memory().liveTensors).toBe(baseline.liveTensors);
    small = null;
    gc();
    expect(ng.memory().liveBytes).toBe(baseline.liveBytes);
    expect(ng.memory().liveTensors).toBe(baseline.liveTensors);
  });

  it('a pooled small array is uncounted in the pool and counted again when reused', () => {
    const elements = 300; // pooled (≥ 256 elements), below the arena's threshold
    expect(elements * 4).toBeLessThan(ARENA_MIN_BYTES);
    gc();
    const baseline = ng.memory();
    const first = ng.zeros([elements]);
    first.dispose();
    expect(ng.memory().liveBytes).toBe(baseline.liveBytes);
    expect(ng.memory().pooledBytes).toBe(baseline.pooledBytes + elements * 4);
    const second = ng.zeros([elements]);
    expect(ng.memory().pooledBytes).toBe(baseline.pooledBytes);
    expect(ng.memory().liveBytes).toBe(baseline.liveBytes + elements * 4);
    gc();
    expect(ng.memory().liveBytes).toBe(baseline.liveBytes + elements * 4);
    expect(second.sum().item()).toBe(0);
  });
});

describe('the addon’s array tracking at the N-API boundary', () => {
  it('refuses a value that is not a typed array and a slot that tracks nothing', () => {
    const addon = ng.backend.loadAddon();
    for (const call of [() => addon.trackArray(3 as unknown as Float32Array), () => addon.untrackArray(2 ** 31)]) {
      expect(call).toThrow(expect.objectContaining({ code: 'ERR_NODEGRAD_NATIVE' }) as Error);
    }
    expect(() => addon.untrackArray(2 ** 31)).toThrow(/untrackArray: expected the slot of a tracked array/);
    expect(() => addon.trackArray(3 as unknown as Float32Array)).toThrow(/trackArray: expected a typed array/);
  });
});
