/**
 * Garbage collections the framework asks for, to reuse tensor memory instead of faulting in new
 * pages.
 *
 * A tensor buffer from the addon's arena goes back to the arena only when V8 collects its
 * ArrayBuffer, and V8 schedules collections by its own heuristics: a loop that drops a large
 * result per call (`x.gather(...)` in a benchmark, a data pipeline) would map and touch new pages
 * for many calls before the first collection. A first touch costs ~30 µs per 4 KiB page on this
 * project's VMs (1 ms per 128 KiB), a young-generation collection ~0.3 ms. So when the arena has
 * no freed block for an allocation, a minor collection runs first (it frees the short-lived
 * results) if this thread's arena bytes grew since the last one by twice the allocation (and at
 * least 1 MiB), and a major one when they have doubled since the last major collection. The bytes
 * are all the addon counts: small tensors' arrays too, whose garbage a minor collection frees alike.
 *
 * Twice, not once: a minor collection moves what survives a second one to the old generation,
 * which only a major collection frees. In `h = relu(linear(h))` under inferenceMode each `h` lives
 * across the next layer's two allocations; collecting at each of them moved every `h` to the old
 * generation, and a loop over 16 such layers of 4 MiB held 15 activations (4 once every other one).
 */
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';

/** Growth of the thread's live arena bytes that makes a collection worth trying before new pages. */
export const GROWTH_BEFORE_COLLECTION = 1024 * 1024;

/** gc() is a full collection; V8 11's `{ type: 'major' }` form leaves old-generation buffers alive. */
type GcFunction = (options?: { type: 'minor'; execution: 'sync' }) => void;
let gc: GcFunction | null | undefined;

/** V8's gc(), from a fresh context (the main one gets no global `gc`); null where V8 refuses. */
function collectorFunction(): GcFunction | null {
  if (gc !== undefined) return gc;
  try {
    setFlagsFromString('--expose-gc');
    setFlagsFromString('--no-concurrent-array-buffer-sweeping');
    const fn: unknown = runInNewContext('gc');
    gc = typeof fn === 'function' ? (fn as GcFunction) : null;
  } catch {
    gc = null;
  }
  return gc;
}

let liveAfterCollection = 0;
let liveAfterMajor = 0;

/**
 * Called when the arena has no freed block for an allocation of `bytes`, with this thread's live
 * arena bytes (a function: they change during a collection). Returns whether it collected, so that
 * a retry may find a freed block.
 */
export function collectForReuse(liveBytes: () => number, bytes: number): boolean {
  const live = liveBytes();
  // Growth counts from the lowest point seen: V8's own collections may have freed blocks since.
  liveAfterCollection = Math.min(liveAfterCollection, live);
  if (live - liveAfterCollection < Math.max(GROWTH_BEFORE_COLLECTION, 2 * bytes)) return false;
  const collect = collectorFunction();
  if (!collect) return false;
  const major = live >= 2 * Math.max(liveAfterMajor, 64 * GROWTH_BEFORE_COLLECTION);
  if (major) collect();
  else collect({ type: 'minor', execution: 'sync' });
  liveAfterCollection = liveBytes();
  if (major) liveAfterMajor = liveAfterCollection;
  return true;
}
