// The addon's tensor-memory arena: blocks are reused, zero-fill is honoured, release() returns
// memory, bad sizes throw at the boundary; and loading nodegrad leaves the process's malloc alone.
import { execFileSync } from 'node:child_process';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';

const addon = ng.backend.loadAddon();
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const MiB = 1024 * 1024;

/** Collects until the arena has no block in use beyond `inUse` bytes (V8 frees buffers lazily). */
async function collectUntil(inUse: number): Promise<void> {
  for (let i = 0; i < 50 && addon.arenaStats().inUseBytes > inUse; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe('native arena', () => {
  it('reuses a freed block, and zero-fills it only when asked', async () => {
    await collectUntil(0);
    const before = addon.arenaStats();
    let first: Float32Array | null = new Float32Array(addon.arenaAllocate(3 * MiB, true, false)!);
    expect(first.every((v) => v === 0)).toBe(true);
    first.fill(7);
    first = null;
    await collectUntil(before.inUseBytes);
    const cached = addon.arenaStats();
    expect(cached.cachedBytes).toBeGreaterThanOrEqual(before.cachedBytes + 3 * MiB);
    const dirty = new Float32Array(addon.arenaAllocate(3 * MiB, false, false)!);
    const after = addon.arenaStats();
    expect(after.mappedBytes).toBe(cached.mappedBytes);
    expect(after.cachedBytes).toBe(cached.cachedBytes - 3 * MiB);
    expect(dirty[0]).toBe(7);
    dirty.fill(7);
    const again = new Float32Array(addon.arenaAllocate(3 * MiB, true, false)!);
    expect(again.every((v) => v === 0)).toBe(true);
  });

  it('with reuseOnly, hands out only freed blocks whose pages are resident', async () => {
    await collectUntil(0);
    const size = 5 * MiB + 4096; // a size class no other test uses
    expect(addon.arenaAllocate(size, false, true)).toBeNull();
    new Uint8Array(addon.arenaAllocate(size, false, false)!).fill(3);
    await collectUntil(0);
    const mapped = addon.arenaStats().mappedBytes;
    const reused = new Uint8Array(addon.arenaAllocate(size, false, true)!);
    expect(reused[0]).toBe(3);
    expect(addon.arenaStats().mappedBytes).toBe(mapped);
  });

  it('a loop dropping large results reuses their blocks instead of mapping new memory', async () => {
    await collectUntil(0);
    const x = ng.ones([1024, 1024]); // 4 MiB
    const mapped = addon.arenaStats().mappedBytes;
    for (let i = 0; i < 40; i++) x.mul(i);
    // 40 results of 4 MiB: without the collections asked before mapping, V8's own schedule (a
    // collection per ~64 MiB of external memory) left ~16 alive at once.
    expect(addon.arenaStats().mappedBytes - mapped).toBeLessThanOrEqual(16 * MiB);
  });

  it('returns free memory on release() and past its cache limit', async () => {
    const previous = addon.arenaCacheLimit();
    try {
      // Four 4 MiB blocks, written and dropped at once.
      for (let i = 0; i < 4; i++) new Uint8Array(addon.arenaAllocate(4 * MiB, false, false)!).fill(1);
      await collectUntil(0);
      expect(addon.arenaStats().cachedBytes).toBeGreaterThanOrEqual(16 * MiB);
      const mapped = addon.arenaStats().mappedBytes;
      expect(addon.arenaRelease()).toBeGreaterThanOrEqual(16 * MiB);
      expect(addon.arenaStats().cachedBytes).toBe(0);
      expect(addon.arenaStats().mappedBytes).toBeLessThanOrEqual(mapped - 16 * MiB);
      expect(addon.arenaCacheLimit(0)).toBe(previous);
      let block: Uint8Array | null = new Uint8Array(addon.arenaAllocate(4 * MiB, false, false)!).fill(1);
      expect(block.length).toBe(4 * MiB);
      block = null;
      await collectUntil(0);
      expect(addon.arenaStats().cachedBytes).toBe(0);
    } finally {
      addon.arenaCacheLimit(previous);
    }
  });

  it('ng.releaseMemory() empties the pool and the arena cache', async () => {
    ng.tidy(() => ng.ones([1024, 1024]).mul(2).sum().item());
    await collectUntil(0);
    ng.releaseMemory();
    expect(ng.memory().pooledBytes).toBe(0);
    expect(addon.arenaStats().cachedBytes).toBe(0);
  });

  it('ng.memory() uncounts arena tensors when the collector frees them, in a loop that never yields', () => {
    gc();
    const before = ng.memory();
    const x = ng.ones([256, 1024]); // 1 MiB
    for (let i = 0; i < 64; i++) x.mul(i).add(1).sum().item();
    const during = ng.memory();
    // 64 × two 1 MiB intermediates were made; some still await collection.
    expect(during.liveBytes - before.liveBytes).toBeGreaterThan(MiB);
    gc();
    gc();
    const after = ng.memory();
    // No turn of the event loop has passed: a FinalizationRegistry would still count all 128 MiB.
    // (The 1-element sums and scalars are V8 arrays, counted until their finalizers run.)
    expect(after.liveBytes - before.liveBytes).toBeLessThan(16 * MiB);
    expect(after.peakBytes).toBeGreaterThanOrEqual(during.liveBytes);
  });

  it('a LeNet-5 loop under ng.tidy returns to its baseline at every call, through collections', async () => {
    ng.manualSeed(0);
    const model = ng.models.lenet5();
    model.eval();
    const x = ng.randn([1, 1, 28, 28]);
    const infer = (): number => ng.tidy(() => ng.noGrad(() => model.forward(x).argmax(1).item()));
    infer();
    // Garbage from before the loop: counted until a collection frees it, so the baseline is taken after one.
    ng.noGrad(() => ng.randn([256, 1024]).relu().exp());
    await collectUntil(0);
    const baseline = ng.memory().liveBytes;
    const drifts: number[] = [];
    for (let i = 1; i <= 200; i++) {
      infer();
      if (i % 100 === 0) gc();
      const drift = ng.memory().liveBytes - baseline;
      if (drift !== 0) drifts.push(drift);
    }
    expect(drifts).toEqual([]);
  });

  it('a hand-written layer loop under inferenceMode reuses the blocks of dropped activations', () => {
    ng.manualSeed(0);
    const layers = Array.from({ length: 12 }, () => new ng.nn.Linear(256, 256));
    const x = ng.randn([1024, 256]);
    const activation = 1024 * 256 * 4;
    const run = (): void => {
      ng.inferenceMode(() => {
        let h = x;
        for (const layer of layers) h = layer.forward(h).relu();
        return h;
      });
    };
    run();
    const peaks: number[] = [];
    for (let i = 0; i < 3; i++) {
      gc();
      const start = ng.memory().liveBytes;
      ng.resetPeakMemory();
      run();
      peaks.push((ng.memory().peakBytes - start) / activation);
    }
    // The previous h, the Linear's output and its ReLU, and the garbage of one layer until the
    // next minor collection (left to V8's own schedule, 13 activations).
    expect(Math.min(...peaks)).toBeLessThanOrEqual(5);
  });

  it('large tensors live in the arena and stay transferable', () => {
    const t = ng.ones([1024, 256]);
    expect(t.storage.data.byteLength).toBe(MiB);
    const before = addon.arenaStats().inUseBytes;
    ng.zeros([1024, 256]);
    expect(addon.arenaStats().inUseBytes).toBe(before + MiB);
    const data = new Float32Array(addon.arenaAllocate(4096, false, false)!);
    structuredClone(data.buffer, { transfer: [data.buffer] });
    expect(data.length).toBe(0);
    let caught: (Error & { code?: string }) | undefined;
    try {
      addon.unary(ng.backend.UnaryOp.Neg, data, data, 1024, 0, 0);
    } catch (error) {
      caught = error as Error & { code?: string };
    }
    expect(caught?.code).toBe('ERR_NODEGRAD_NATIVE');
  });

  it.each([
    [-1, 'non-negative integer'],
    [1.5, 'non-negative integer'],
    [Number.NaN, 'non-negative integer'],
    [2 ** 60, 'non-negative integer'],
    ['8' as unknown as number, 'must be a number'],
  ])('arenaAllocate(%s) throws ERR_NODEGRAD_NATIVE', (bytes, fragment) => {
    expect(() => addon.arenaAllocate(bytes, false, false)).toThrow(fragment);
    try {
      addon.arenaAllocate(bytes, false, false);
    } catch (error) {
      expect((error as Error & { code?: string }).code).toBe('ERR_NODEGRAD_NATIVE');
      expect((error as Error).message).toContain('arenaAllocate');
    }
  });

  it('a size the system cannot map is a RangeError ERR_NODEGRAD_ALLOC', () => {
    let caught: (Error & { code?: string }) | undefined;
    try {
      addon.arenaAllocate(2 ** 52, false, false);
    } catch (error) {
      caught = error as Error & { code?: string };
    }
    expect(caught).toBeInstanceOf(RangeError);
    expect(caught?.code).toBe('ERR_NODEGRAD_ALLOC');
    expect(caught?.message).toContain('arenaAllocate');
  });
});

describe('a service beside nodegrad', () => {
  const rss = (...flags: string[]): number => {
    const out = execFileSync(process.execPath, ['--expose-gc', 'bench/buffers.mjs', ...flags], { encoding: 'utf8' });
    return (JSON.parse(out) as { rssMiB: number }).rssMiB;
  };

  it('freed Buffers leave RSS within 1.2x of a process without nodegrad (beyond nodegrad own footprint)', () => {
    const without = rss();
    const footprint = rss('--nodegrad', '--no-buffers') - rss('--no-buffers');
    const withNodegrad = rss('--nodegrad');
    expect(withNodegrad).toBeLessThanOrEqual(1.2 * without + Math.max(0, footprint) + 4);
  }, 60_000);
});

describe('the arena’s first chunks', () => {
  it('stay on 4 KiB pages: one small tensor does not cost a 2 MiB huge page', () => {
    // A fresh process: this one's arena has long outgrown its first chunks.
    const script = `
      const { readFileSync } = await import('node:fs');
      const huge = () => Number(/AnonHugePages:\\s+(\\d+)/.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'))?.[1] ?? 0);
      const ng = await import(${JSON.stringify(new URL('../../dist/index.js', import.meta.url).href)});
      ng.ones([4]).sum().item();
      const before = huge();
      const t = ng.ones([256, 256]); // 256 KiB from the arena's first chunk
      console.log(JSON.stringify({ grewKiB: huge() - before, sum: t.sum().item() }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    const { grewKiB, sum } = JSON.parse(out) as { grewKiB: number; sum: number };
    expect(sum).toBe(65536);
    expect(grewKiB).toBe(0);
  });
});
