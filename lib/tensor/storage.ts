/**
 * Typed-array storage, the framework's buffer pool and its memory accounting. Storage is a typed
 * array handed to native kernels zero-copy: over an ArrayBuffer of the addon's arena when it is
 * loaded and the array is large, else one of V8's. Bytes are counted on allocation and uncounted on
 * dispose(), recycle() or collection. With the addon, collection is counted inside the collection
 * itself (an arena block when V8 frees its ArrayBuffer, a V8 array by a weak handle's callback), so
 * the count is exact in loops that never yield; without it, by a FinalizationRegistry, whose
 * callbacks run only once the code yields.
 *
 * Creating an ArrayBuffer costs far more here than filling one (V8's external-memory accounting
 * triggers collections, and fresh pages fault at ~12 µs per 4 KiB), so buffers the framework knows
 * to be dead — gradients and temporaries of a finished backward step — go back to a size-keyed
 * pool and are handed out again by the next allocation of the same size.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { DataArray, DType } from '../backend/types.js';
import { NodegradError } from '../errors.js';
import { collectForReuse } from './collector.js';
import { isRecording, mustHold } from './deferral.js';

/** Bytes per element of each dtype. */
export const BYTES_PER_ELEMENT: Record<DType, number> = { float32: 4, float64: 8, int32: 4, bool: 1 };

const stats = { liveBytes: 0, peakBytes: 0, liveTensors: 0 };

const pool = new Map<string, DataArray[]>();
let pooledBytes = 0;
let poolLimitBytes = 1024 * 1024 * 1024;
let tracker: Storage[] | null = null;
let nextSerial = 0;

/** The serial the next Storage will get. */
export function storageSerial(): number {
  return nextSerial;
}
let scopeList: Storage[] | null = null;

function poolKey(dtype: DType, n: number): string {
  return `${dtype}:${n}`;
}

/**
 * A typed array of n elements: a pooled one if the pool has that size, else a fresh one. What goes
 * back to the pool (backward's temporaries, the activations backward released, what scopes and
 * Sequential recycle) comes out again in the next forward or backward, so the pool cycles instead
 * of growing.
 */
function takeArray(dtype: DType, n: number, zero: boolean): DataArray {
  const list = n >= 256 ? pool.get(poolKey(dtype, n)) : undefined;
  const reused = list?.pop();
  if (!reused) return arenaArray(dtype, n, zero) ?? (zero ? arrayFor(dtype, n) : uninitializedArrayFor(dtype, n));
  pooledBytes -= reused.byteLength;
  if (fromArena(reused)) {
    pooledArenaBytes -= reused.byteLength;
    pooledArenaCount -= 1;
  }
  if (zero) reused.fill(0);
  return reused;
}

/** Puts a dead array in the pool; false when the pool refuses it (too small, or full). */
function giveBack(dtype: DType, array: DataArray): boolean {
  if (array.length < 256 || pooledBytes + array.byteLength > poolLimitBytes) return false;
  const key = poolKey(dtype, array.length);
  const list = pool.get(key);
  if (list) list.push(array);
  else pool.set(key, [array]);
  pooledBytes += array.byteLength;
  if (fromArena(array)) {
    pooledArenaBytes += array.byteLength;
    pooledArenaCount += 1;
  }
  return true;
}

/** Arrays released while a deferred kernel may still use them (ng.runAsync): pooled once it ran. */
let held: { dtype: DType; array: DataArray }[] = [];

/** Holds back `array` instead of pooling it while ng.runAsync's kernels may use it; whether it did. */
function holdWhileDeferred(dtype: DType, array: DataArray): boolean {
  if (!mustHold(array)) return false;
  held.push({ dtype, array });
  return true;
}

/** Pools the arrays held back for ng.runAsync once its kernels have run. */
export function releaseHeld(): void {
  const arrays = held;
  held = [];
  for (const { dtype, array } of arrays) if (!giveBack(dtype, array) && fromArena(array)) orphan(array);
}

/**
 * Forgets the arrays held back while a recording was kept as a plan (ng.serve's forward plans): the
 * plan's kernels use them on every run, so they are never pooled; the collector frees them with the plan.
 */
export function keepHeld(): void {
  held = [];
}

/** Empties the pool; its arena blocks stop counting now (the collector frees them later). */
function clearPool(): void {
  for (const list of pool.values()) for (const array of list) if (fromArena(array)) orphan(array);
  pool.clear();
  pooledBytes = 0;
  pooledArenaBytes = 0;
  pooledArenaCount = 0;
}

/** Collects every Storage created until stopped (backward around each node, forwardScope around a forward). */
export function trackAllocations(list: Storage[] | null): Storage[] | null {
  const previous = tracker;
  tracker = list;
  return previous;
}

/** Collects every Storage created until replaced: the innermost ng.tidy scope's list. */
export function setScopeList(list: Storage[] | null): Storage[] | null {
  const previous = scopeList;
  scopeList = list;
  return previous;
}

/** The lists of ng.tidyAsync scopes, which follow their async functions across awaits. */
const asyncScope = new AsyncLocalStorage<Storage[]>();

/** Runs `fn` with `list` collecting the storages it (and the async work it starts) creates. */
export function runInAsyncScope<T>(list: Storage[], fn: () => T): T {
  return asyncScope.run(list, () => {
    const previous = setScopeList(null);
    try {
      return fn();
    } finally {
      setScopeList(previous);
    }
  });
}

/** The innermost scope's list now: a synchronous tidy's, else the async one of this context. */
export function currentScopeList(): Storage[] | null {
  return scopeList ?? asyncScope.getStore() ?? null;
}

/** Caps the bytes the pool keeps (default 1 GiB); 0 turns pooling off and empties the pool. */
export function setPoolLimit(bytes: number): void {
  poolLimitBytes = Math.max(0, bytes);
  if (poolLimitBytes === 0) clearPool();
}

/** Who uncounts a storage's bytes when its array is collected. */
const enum Counting {
  /** The addon's arena, when V8 frees the block's ArrayBuffer. */
  Arena,
  /** The addon, from a weak handle's callback inside the collection that frees the array. */
  Tracked,
  /** A FinalizationRegistry, when its callbacks run (after the code yields): without the addon. */
  Registry,
}

const finalizer = new FinalizationRegistry<number>((bytes) => {
  stats.liveBytes -= bytes;
  stats.liveTensors -= 1;
});

/**
 * A typed array of one dtype that tensors view, with the version counter autograd checks and the
 * memory accounting of {@link memory}. Reach it as `tensor.storage`.
 */
export class Storage {
  /** Bumped by every in-place write; saved tensors record it to detect later modification. */
  version = 0;
  /** The op of the last in-place write, named by the error that catches a stale saved tensor. */
  lastWriter = '';
  /** Set by ng.keep (and for parameters, buffers, gradients and optimizer state): no scope disposes it. */
  kept = false;
  /**
   * Set on an intermediate only the graph can reach (a Sequential's activation between two layers):
   * backward recycles it once every node that reads it has run.
   */
  ephemeral = false;
  /** Creation order: a backward nested in another (a checkpoint's) releases only storages made after the outer one began. */
  readonly serial = nextSerial++;
  private array: DataArray;
  /** How the bytes are counted: by the arena, by the addon's weak handle (slot), or by the registry. */
  private readonly counting: Counting;
  /** The addon's slot for a tracked array. */
  private readonly slot: number;
  private released = false;
  /** Why the buffer was released, with the fix, for the error a later read throws. */
  private releaseReason = '';

  /** Wraps `array` (no copy) and counts its bytes as live. */
  constructor(
    /** The element type. */
    readonly dtype: DType,
    array: DataArray,
  ) {
    this.array = array;
    this.slot = -1;
    if (array.byteLength >= ARENA_MIN_BYTES && fromArena(array)) {
      this.counting = Counting.Arena;
    } else if (arena) {
      this.counting = Counting.Tracked;
      this.slot = arena.trackArray(array);
    } else {
      this.counting = Counting.Registry;
      stats.liveBytes += array.byteLength;
      stats.liveTensors += 1;
      finalizer.register(this, array.byteLength, this);
    }
    stats.peakBytes = Math.max(stats.peakBytes, liveBytesNow());
    tracker?.push(this);
    (scopeList ?? asyncScope.getStore())?.push(this);
  }

  /** Records an in-place write by `op`. */
  bump(op: string): void {
    this.version++;
    this.lastWriter = op;
  }

  /** Whether dispose() or recycle() released the buffer. */
  get disposed(): boolean {
    return this.released;
  }

  /** The typed array; throws once the storage has been disposed. */
  get data(): DataArray {
    if (this.released) {
      throw new NodegradError(
        'ERR_NODEGRAD_DISPOSED',
        `tensor: this tensor was disposed; its data can no longer be used${this.releaseReason ? ` (${this.releaseReason})` : ''}`,
      );
    }
    return this.array;
  }

  /** Size of the buffer in bytes (0 once disposed). */
  get byteLength(): number {
    return this.array.byteLength;
  }

  /** Releases the buffer now, into the pool for the next allocation of its size; later reads of `data` throw ERR_NODEGRAD_DISPOSED. */
  dispose(): void {
    if (!this.released) this.releaseReason = 'released by dispose()';
    this.release(true);
  }

  /**
   * Like dispose(), but the buffer goes to the pool for reuse. Only for buffers nothing else can
   * reach; `reason` (who released it and how to keep it) ends the message of any later read.
   */
  recycle(reason = ''): void {
    if (!this.released) this.releaseReason = reason;
    this.release(true);
  }

  private release(toPool: boolean): void {
    if (this.released) return;
    if (this.counting === Counting.Tracked) {
      arrayTracker?.untrackArray(this.slot);
    } else if (this.counting === Counting.Registry) {
      finalizer.unregister(this);
      stats.liveBytes -= this.array.byteLength;
      stats.liveTensors -= 1;
    }
    const pooled = toPool && (holdWhileDeferred(this.dtype, this.array) || giveBack(this.dtype, this.array));
    if (!pooled && this.counting === Counting.Arena) orphan(this.array);
    this.array = new (this.array.constructor as new (n: number) => DataArray)(0);
    this.released = true;
  }
}

/** Allocates tensor memory outside V8's allocator: the addon's arena (see useArena). */
export interface ArenaAllocator {
  /**
   * An ArrayBuffer over an arena block, counted for this thread until the collector frees it; with
   * `reuseOnly`, null unless a freed block whose pages are resident fits.
   */
  arenaAllocate(bytes: number, zero: boolean, reuseOnly: boolean): ArrayBuffer | null;
  /** Returns the arena's free memory to the system; the bytes returned. */
  arenaRelease(): number;
  /** This thread's { bytes, count } of live arena blocks and tracked arrays, as two int64 words. */
  arenaCounters(): ArrayBuffer;
  /** Stops counting a buffer JS dropped while it was not a tensor's (a pooled one). */
  arenaOrphan(buffer: ArrayBuffer): void;
  /**
   * Counts a V8 typed array in this thread's counters until the collector frees it (a weak handle
   * whose callback runs inside that collection); returns its slot for untrackArray.
   */
  trackArray(array: DataArray): number;
  /** Stops counting the array of `slot` now. */
  untrackArray(slot: number): void;
}

let arena: ArenaAllocator | null = null;
/** The addon that tracks arrays: kept after useArena(null), for the storages it counts. */
let arrayTracker: ArenaAllocator | null = null;
/** The addon's counts of this thread's live arena blocks and tracked arrays: [bytes, count]. */
let arenaCounts: BigInt64Array | null = null;
const arenaBuffers = new WeakSet<ArrayBuffer>();
let pooledArenaBytes = 0;
let pooledArenaCount = 0;

/**
 * Routes tensor arrays of ARENA_MIN_BYTES and more to the addon's arena, whose freed blocks are
 * reused without new page faults, and counted by the addon; smaller arrays stay V8's, counted by
 * the addon's weak handles (null: V8's typed arrays counted by a FinalizationRegistry from now on).
 * The native backend installs it.
 */
export function useArena(allocator: ArenaAllocator | null): void {
  arena = allocator;
  arrayTracker = allocator ?? arrayTracker;
  if (allocator && !arenaCounts) arenaCounts = new BigInt64Array(allocator.arenaCounters());
}

function fromArena(array: DataArray): boolean {
  return arenaCounts !== null && arenaBuffers.has(array.buffer as ArrayBuffer);
}

function orphan(array: DataArray): void {
  arena?.arenaOrphan(array.buffer as ArrayBuffer);
}

/** A tensor array from the arena (counted by the addon), or null when it is off or the array is small. */
function arenaArray(dtype: DType, n: number, zero: boolean): DataArray | null {
  const bytes = n * BYTES_PER_ELEMENT[dtype];
  if (!arena || bytes < ARENA_MIN_BYTES) return null;
  let buffer = arena.arenaAllocate(bytes, zero, true);
  // While ng.runAsync records, the blocks a collection could free are the pending kernels' (held).
  if (buffer === null && arenaCounts && !isRecording() && collectForReuse(arenaLiveBytes, bytes)) {
    buffer = arena.arenaAllocate(bytes, zero, true);
  }
  buffer ??= arena.arenaAllocate(bytes, zero, false);
  if (buffer === null) throw new Error('unreachable: an arena allocation that may fault returned null');
  arenaBuffers.add(buffer);
  return viewOf(dtype, buffer, n);
}

/** Live tensor bytes now: what the registry counts here and what the addon counts, less the pooled arena blocks. */
function liveBytesNow(): number {
  return stats.liveBytes + (arenaCounts ? Number(arenaCounts[0]) : 0) - pooledArenaBytes;
}

/** Smaller arrays stay with V8, whose allocator packs them with other small objects. */
export const ARENA_MIN_BYTES = 4096;

function viewOf(dtype: DType, buffer: ArrayBuffer, n: number): DataArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer, 0, n);
    case 'float64':
      return new Float64Array(buffer, 0, n);
    case 'int32':
      return new Int32Array(buffer, 0, n);
    case 'bool':
      return new Uint8Array(buffer, 0, n);
  }
}

/** A zero-filled typed array of n elements of `dtype` (Uint8Array for bool), V8's. */
export function arrayFor(dtype: DType, n: number): DataArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(n);
    case 'float64':
      return new Float64Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'bool':
      return new Uint8Array(n);
  }
}

/** A typed array without zero-filling (malloc, not calloc): for outputs a kernel overwrites. */
function uninitializedArrayFor(dtype: DType, n: number): DataArray {
  const bytes = n * BYTES_PER_ELEMENT[dtype];
  if (n < 1024) return arrayFor(dtype, n);
  return viewOf(dtype, Buffer.allocUnsafeSlow(bytes).buffer, n);
}

/** The dtype a typed array holds (Uint8Array is bool; Int32Array int32). */
export function dtypeOf(array: DataArray): DType {
  if (array instanceof Float32Array) return 'float32';
  if (array instanceof Float64Array) return 'float64';
  if (array instanceof Uint8Array) return 'bool';
  return 'int32';
}

/** A zeroed array of n elements for a new tensor's storage: pooled, from the arena, or V8's. */
export function tensorArray(dtype: DType, n: number): DataArray {
  return takeArray(dtype, n, true);
}

/** Storage of n zeros. */
export function allocate(dtype: DType, n: number): Storage {
  return new Storage(dtype, takeArray(dtype, n, true));
}

/** Storage whose contents are unspecified: only for outputs a kernel overwrites entirely. */
export function allocateUninitialized(dtype: DType, n: number): Storage {
  return new Storage(dtype, takeArray(dtype, n, false));
}

/** What {@link memory} reports. */
export interface MemoryStats {
  /** Bytes of tensor storage alive now (allocated, not disposed nor collected). */
  liveBytes: number;
  /** The highest liveBytes since start or the last resetPeakMemory(). */
  peakBytes: number;
  /** Storages alive now. */
  liveTensors: number;
  /** Bytes held in the buffer pool for reuse (not counted in liveBytes). */
  pooledBytes: number;
}

/**
 * Bytes and count of live tensor storage, the peak since the last {@link resetPeakMemory}, and the
 * pool's bytes; as torch.cuda.memory_allocated / max_memory_allocated for the CPU.
 */
export function memory(): MemoryStats {
  const liveBytes = liveBytesNow();
  const addonCounted = arenaCounts ? Number(arenaCounts[1]) : 0;
  return {
    liveBytes,
    peakBytes: Math.max(stats.peakBytes, liveBytes),
    liveTensors: stats.liveTensors + addonCounted - pooledArenaCount,
    pooledBytes,
  };
}

/**
 * Empties the buffer pool so the garbage collector can free its buffers (the pool otherwise keeps
 * up to its limit, 1 GiB by default, for reuse), and returns the native arena's free memory to the
 * system. Returns the bytes released: the pool's and the arena's.
 */
export function releaseMemory(): number {
  const pooled = pooledBytes;
  clearPool();
  return pooled + (arena?.arenaRelease() ?? 0);
}

/** Sets the peak of {@link memory} to the bytes live now. */
export function resetPeakMemory(): void {
  stats.peakBytes = liveBytesNow();
}

/** This thread's tensor bytes the addon counts (arena blocks, pooled ones included, and tracked arrays). */
function arenaLiveBytes(): number {
  return arenaCounts ? Number(arenaCounts[0]) : 0;
}
