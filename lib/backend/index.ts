/**
 * Backend selection. The native backend is used when the addon loads; otherwise the reference
 * backend runs, after one warning that says why. NODEGRAD_BACKEND=reference forces the reference.
 */
import { NodegradError } from '../errors.js';
import { useArena } from '../tensor/storage.js';
import { loadAddon, type NativeAddon } from './loader.js';
import { nativeBackend } from './native.js';
import { referenceBackend } from './reference.js';
import type { Backend } from './types.js';

let addon: NativeAddon | null | undefined;
let active: Backend | undefined;

/** The addon, or null when it could not be loaded (the reason was printed once). */
export function tryAddon(): NativeAddon | null {
  if (addon !== undefined) return addon;
  try {
    addon = loadAddon();
  } catch (error) {
    addon = null;
    process.emitWarning(`${(error as Error).message}\nFalling back to the pure TypeScript reference backend (slow).`, {
      code: 'NODEGRAD_NO_ADDON',
    });
  }
  return addon;
}

/**
 * The backend every op uses: the native addon when it loads, else the reference (NODEGRAD_BACKEND=reference
 * forces it); chosen on the first call unless setBackend ran.
 */
export function getBackend(): Backend {
  if (active) return active;
  if (process.env.NODEGRAD_BACKEND === 'reference') {
    active = referenceBackend;
  } else {
    const loaded = tryAddon();
    active = loaded ? nativeBackend(loaded) : referenceBackend;
    // An addon built before the arena (or its counters) existed: typed arrays as before.
    if (loaded && typeof loaded.arenaCounters === 'function') useArena(loaded);
  }
  return active;
}

/** Threads the native kernels use (1 with the reference backend). */
export function getNumThreads(): number {
  return tryAddon()?.getNumThreads() ?? 1;
}

/**
 * Sets the native thread pool's size (default: NODEGRAD_NUM_THREADS, else the number of cores).
 * Small problems stay on one thread whatever this says.
 */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > 256) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `setNumThreads: expected an integer in [1, 256], got ${n}`);
  }
  tryAddon()?.setNumThreads(n);
}

/** Switches the backend every op uses from now on (tests run the same cases on each). */
export function setBackend(backend: Backend): void {
  active = backend;
}

export { referenceBackend } from './reference.js';
export { nativeBackend } from './native.js';
export { loadAddon, addonCandidates, type NativeAddon, type NativeControls, type ArenaStats } from './loader.js';
export * from './types.js';
