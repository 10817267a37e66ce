/** The one place the native addon is loaded from. */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NodegradError } from '../errors.js';
import type { Backend } from './types.js';

/** What the addon exports besides the Backend's kernels: switches for tests and benchmarks. */
export interface NativeControls {
  /** The GEMM variant in use; with a name, switches to it (only variants this CPU runs) and returns the previous one. */
  gemmIsa(name?: 'avx512' | 'avx2' | 'portable'): string;
  /** Whether convolutions use the direct few-channel kernels (AVX-512); a boolean switches them, returning the previous state. */
  convDirect(enabled?: boolean): boolean;
  /** Threads in the native pool. */
  getNumThreads(): number;
  /** Resizes the native pool. */
  setNumThreads(n: number): void;
  /**
   * An ArrayBuffer over a block of the tensor-memory arena (all zero when `zero`); the block returns
   * when it is collected. With `reuseOnly`, null unless a freed block whose pages are resident fits.
   */
  arenaAllocate(bytes: number, zero: boolean, reuseOnly: boolean): ArrayBuffer | null;
  /** Returns the arena's free blocks' memory to the system; the bytes returned. */
  arenaRelease(): number;
  /** This thread's { bytes, count } of live arena blocks and tracked arrays, as two int64 words the addon keeps current. */
  arenaCounters(): ArrayBuffer;
  /** Stops counting an arena buffer JS dropped while no tensor held it. */
  arenaOrphan(buffer: ArrayBuffer): void;
  /** Counts a typed array as live tensor memory of this thread until it is collected; its slot. */
  trackArray(array: ArrayBufferView): number;
  /** Stops counting the tracked array of `slot`. */
  untrackArray(slot: number): void;
  /** The bytes of free blocks the arena keeps for reuse (default 1 GiB); a number sets it and returns the previous one. */
  arenaCacheLimit(bytes?: number): number;
  /** The arena's accounting now. */
  arenaStats(): ArenaStats;
  /** Starts recording this thread's kernel calls instead of running them (ng.runAsync). */
  deferBegin(): void;
  /** Stops recording; resolves once the recorded kernels ran, in order, off this thread; rejects with the first failure. */
  deferFlush(): Promise<void>;
  /** Whether a recorded kernel that has not run yet reads or writes the array's memory. */
  deferPending(array: ArrayBufferView): boolean;
  /** Stops recording and keeps the recorded kernels as a plan instead of running them. */
  deferKeep(): object;
  /** Runs a kept plan's kernels again, in order, on this thread; throws the first failure. */
  planRun(plan: object): void;
  /** The bytes of the distinct arrays a kept plan's kernels read or write. */
  planBytes(plan: object): number;
  /** Drops a kept plan and its references to the arrays its kernels use. */
  planFree(plan: object): void;
}

/** The arena's accounting, in bytes (blocks counted at their size class). */
export interface ArenaStats {
  /** Blocks handed out and not yet freed by the garbage collector. */
  inUseBytes: number;
  /** Freed blocks kept in memory for reuse. */
  cachedBytes: number;
  /** Address space the arena holds, in memory or not. */
  mappedBytes: number;
  /** The most free bytes the arena keeps for reuse (see arenaCacheLimit). */
  cacheLimitBytes: number;
}

/** The native addon: every Backend kernel, with the Backend's arguments, plus the controls. */
export type NativeAddon = Omit<Backend, 'name'> & NativeControls;

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const prebuildsRoot = resolve(packageRoot, 'prebuilds');
const inPrebuilds = (path: string): boolean => path.startsWith(prebuildsRoot + sep);

/** node-gyp-build's lookup: the addon of build/Release, else the prebuild for this platform, arch and libc. */
interface NodeGypBuild {
  resolve(dir: string): string;
}

/** The prebuild in prebuilds/ that fits this machine, or why none does. */
function findPrebuild(): { path: string } | { reason: string } {
  try {
    const require = createRequire(import.meta.url);
    const path = (require('node-gyp-build') as NodeGypBuild).resolve(packageRoot);
    // node-gyp-build answers a build/Release addon first (then no prebuild is tried: a local build is
    // the one meant to load); only an answer in prebuilds/ is a new candidate.
    if (inPrebuilds(path)) return { path };
    return { reason: `no prebuild in ${prebuildsRoot} (node-gyp-build found ${path})` };
  } catch (error) {
    return { reason: (error as Error).message.split('\n')[0] ?? '' };
  }
}

/**
 * Where the addon is looked for: $NODEGRAD_ADDON alone when set; else the node-gyp and cmake-js build
 * folders (a local build wins), then the prebuild that node-gyp-build picks from prebuilds/.
 */
export function addonCandidates(): string[] {
  const fromEnv = process.env.NODEGRAD_ADDON;
  if (fromEnv) return [resolve(fromEnv)];
  const prebuild = findPrebuild();
  return [
    resolve(packageRoot, 'build', 'Release', 'nodegrad.node'),
    resolve(packageRoot, 'build-cmake', 'Release', 'nodegrad.node'),
    resolve(packageRoot, 'build-cmake', 'nodegrad.node'),
    ...('path' in prebuild ? [prebuild.path] : []),
  ];
}

/** Where a loaded addon came from: the package's prebuild, a build on this machine, or $NODEGRAD_ADDON. */
export type AddonSource = 'prebuild' | 'build' | 'NODEGRAD_ADDON';

/** The source of the addon at `path` (see AddonSource). */
export function addonSource(path: string): AddonSource {
  if (process.env.NODEGRAD_ADDON) return 'NODEGRAD_ADDON';
  return inPrebuilds(path) ? 'prebuild' : 'build';
}

/**
 * Loads the addon from the first candidate that exists. Throws one NodegradError listing every
 * path tried, why each failed, and the command that builds the addon.
 */
export function loadAddon(candidates?: readonly string[]): NativeAddon {
  return locateAddon(candidates).addon;
}

/** loadAddon, with the path the addon was loaded from. */
export function locateAddon(candidates?: readonly string[]): { addon: NativeAddon; path: string } {
  const require = createRequire(import.meta.url);
  const failures: string[] = [];
  for (const path of candidates ?? addonCandidates()) {
    if (!existsSync(path)) {
      failures.push(`  ${path}: not found`);
      continue;
    }
    try {
      return { addon: require(path) as NativeAddon, path };
    } catch (error) {
      failures.push(`  ${path}: ${(error as Error).message}`);
    }
  }
  if (candidates === undefined && !process.env.NODEGRAD_ADDON) {
    const prebuild = findPrebuild();
    if ('reason' in prebuild) failures.push(`  ${prebuildsRoot}: ${prebuild.reason}`);
  }
  throw new NodegradError(
    'ERR_NODEGRAD_ADDON',
    `nodegrad: the native addon could not be loaded. Tried:\n${failures.join('\n')}\n` +
      `Build it with \`npm run build:native\` (node-gyp; needs python3, make and a C++17 compiler) ` +
      `in ${packageRoot}, or set NODEGRAD_ADDON to the path of a built nodegrad.node.`,
  );
}
