/**
 * Backend selection. The native backend is used when the addon loads; otherwise the reference
 * backend runs, after one warning that says why. NODEGRAD_BACKEND=reference forces the reference;
 * NODEGRAD_REQUIRE_NATIVE=1 (or requireNative()) makes a missing addon an error instead.
 */
import { isMainThread } from 'node:worker_threads';
import { NodegradError } from '../errors.js';
import { useArena } from '../tensor/storage.js';
import { addonSource, locateAddon, type AddonSource, type ArenaStats, type NativeAddon } from './loader.js';
import { nativeBackend } from './native.js';
import { referenceBackend } from './reference.js';
import type { Backend } from './types.js';

let addon: NativeAddon | null | undefined;
let addonPath: string | null = null;
let addonFrom: AddonSource | null = null;
let addonError: NodegradError | undefined;
let active: Backend | undefined;

function nativeRequired(): boolean {
  const flag = process.env.NODEGRAD_REQUIRE_NATIVE;
  return flag !== undefined && flag !== '' && flag !== '0';
}

/** The loader's error, prefixed with who demanded the addon. */
function missingAddon(who: string): NodegradError {
  const why = addonError?.message ?? 'nodegrad: the native addon could not be loaded';
  return new NodegradError('ERR_NODEGRAD_ADDON', `${who}: the native backend is required, but ${why}`);
}

/**
 * The addon, or null when it could not be loaded (the reason was printed once). With
 * NODEGRAD_REQUIRE_NATIVE=1 a load failure throws instead.
 */
export function tryAddon(): NativeAddon | null {
  if (addon === undefined) {
    try {
      const located = locateAddon();
      addon = located.addon;
      addonPath = located.path;
      addonFrom = addonSource(located.path);
      // Every Worker running kernels on all cores would oversubscribe them: a Worker starts with one.
      if (!isMainThread) addon.setNumThreads(1);
    } catch (error) {
      if (!(error instanceof NodegradError)) throw error;
      addon = null;
      addonError = error;
      if (!nativeRequired()) {
        process.emitWarning(`${error.message}\nFalling back to the pure TypeScript reference backend (slow).`, {
          code: 'NODEGRAD_NO_ADDON',
        });
      }
    }
  }
  if (addon === null && nativeRequired()) throw missingAddon('NODEGRAD_REQUIRE_NATIVE=1');
  return addon;
}

/**
 * The backend every op uses: the native addon when it loads, else the reference (NODEGRAD_BACKEND=reference
 * forces it); chosen on the first call unless setBackend ran.
 */
export function getBackend(): Backend {
  if (active) return active;
  if (process.env.NODEGRAD_BACKEND === 'reference') {
    if (nativeRequired()) {
      throw new NodegradError(
        'ERR_NODEGRAD_ADDON',
        'NODEGRAD_REQUIRE_NATIVE=1: the native backend is required, but NODEGRAD_BACKEND=reference selects the reference backend',
      );
    }
    active = referenceBackend;
  } else {
    const loaded = tryAddon();
    active = loaded ? nativeBackend(loaded) : referenceBackend;
    // An addon built before the arena (or its array tracking) existed: typed arrays as before.
    if (loaded && typeof loaded.trackArray === 'function') useArena(loaded);
  }
  return active;
}

/**
 * Makes sure ops run on the native kernels: loads the addon now and selects the native backend,
 * or throws an `ERR_NODEGRAD_ADDON` NodegradError listing every path tried and why each failed
 * (also when the reference backend was selected, by NODEGRAD_BACKEND=reference or setBackend).
 * Call it at a service's start-up, where the silent fallback to the slow reference backend would
 * show up only as latency. NODEGRAD_REQUIRE_NATIVE=1 does the same for every entry point.
 */
export function requireNative(): void {
  if (tryAddon() === null) throw missingAddon('requireNative');
  if (getBackend().name !== 'native') {
    throw new NodegradError(
      'ERR_NODEGRAD_ADDON',
      `requireNative: the addon is loaded, but the ${getBackend().name} backend is selected ` +
        `(by NODEGRAD_BACKEND=reference or backend.setBackend)`,
    );
  }
}

/** What backend.info() reports. */
export interface BackendInfo {
  /** The backend ops run on. */
  backend: string;
  /** The file the addon was loaded from; null when it did not load. */
  addonPath: string | null;
  /**
   * Where the addon came from: 'prebuild' (shipped in the package's prebuilds/), 'build' (compiled on
   * this machine, in build/ or build-cmake/) or 'NODEGRAD_ADDON' (the file that variable names); null
   * when it did not load.
   */
  addonSource: AddonSource | null;
  /** The GEMM variant in use ('avx512', 'avx2' or 'portable'); null without the addon. */
  isa: string | null;
  /** Threads the calling thread's kernels use (see setNumThreads). */
  threads: number;
  /** The tensor-memory arena's accounting; null without the addon. */
  arena: ArenaStats | null;
}

/**
 * The backend in use and how it runs, for a service's start-up log or health check:
 * `{ backend: 'native' | 'reference', addonPath, addonSource, isa, threads, arena }`. Selects the backend
 * if no op has yet.
 */
export function info(): BackendInfo {
  const backend = getBackend().name;
  const loaded = tryAddon();
  return {
    backend,
    addonPath: loaded ? addonPath : null,
    addonSource: loaded ? addonFrom : null,
    isa: loaded ? loaded.gemmIsa() : null,
    threads: getNumThreads(),
    arena: loaded ? loaded.arenaStats() : null,
  };
}

/** Threads the native kernels called from this thread use (1 with the reference backend). */
export function getNumThreads(): number {
  return tryAddon()?.getNumThreads() ?? 1;
}

/**
 * Sets how many threads the native kernels called from this thread use: each thread (the main
 * thread, each worker_threads Worker) has a pool and a size of its own, so a Worker's setting
 * leaves the others alone. Default: NODEGRAD_NUM_THREADS, else the number of cores, on the main
 * thread; 1 in a Worker, so that a pool of Workers does not oversubscribe the cores. Small problems
 * stay on one thread whatever this says. PyTorch: `torch.set_num_threads` (process-wide there).
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
export {
  loadAddon,
  addonCandidates,
  type AddonSource,
  type NativeAddon,
  type NativeControls,
  type ArenaStats,
} from './loader.js';
export * from './types.js';
