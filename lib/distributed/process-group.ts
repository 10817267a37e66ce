/** The default process group: initProcessGroup's rendezvous, destroyProcessGroup and the getters. */
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NodegradError } from '../errors.js';
import { distributedNative, type DistributedNative, type NativeInitOptions } from './native.js';

/** Options of {@link initProcessGroup}; each falls back to torchrun's environment variables. */
export interface InitOptions {
  /** The collective library: `'gloo'` (default; CPU, TCP). `'mpi'` is not built in this release. */
  backend?: 'gloo' | 'mpi';
  /** This process's rank in [0, worldSize). Default: `RANK`. */
  rank?: number;
  /** How many processes take part. Default: `WORLD_SIZE`. */
  worldSize?: number;
  /**
   * Where the ranks meet: `'env://'` (default: rank 0 serves a key-value store at `MASTER_ADDR`:`MASTER_PORT`),
   * `'tcp://host:port'` (the same, at that address) or `'file:///path'` (a folder every rank can reach,
   * unused by any other job).
   */
  initMethod?: string;
  /**
   * How long the rendezvous and each collective may take before they throw, in ms. Default:
   * `NODEGRAD_DIST_TIMEOUT_MS`, else 300 000 (PyTorch: 30 minutes).
   */
  timeoutMs?: number;
}

interface GroupState {
  rank: number;
  worldSize: number;
  backend: string;
  timeoutMs: number;
}

let group: GroupState | null = null;
let initializing = false;

function fail(message: string): never {
  throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `initProcessGroup: ${message}`);
}

function integerFrom(value: number | undefined, variable: string, what: string): number {
  const raw = value ?? process.env[variable];
  if (raw === undefined || raw === '') fail(`${what} is not given: pass { ${what} } or set ${variable}`);
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) fail(`${what} must be a non-negative integer, got ${String(raw)}`);
  return n;
}

function portFrom(raw: string, where: string): number {
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    fail(`expected a port in [1, 65535] in ${where}, got '${raw}'`);
  return port;
}

function timeoutFrom(value: number | undefined): number {
  const raw = value ?? process.env.NODEGRAD_DIST_TIMEOUT_MS ?? 300_000;
  const ms = Number(raw);
  if (!Number.isFinite(ms) || ms <= 0) fail(`timeoutMs must be a positive number of milliseconds, got ${String(raw)}`);
  return Math.ceil(ms);
}

/** The store half of distInit's options, from initMethod and the environment. */
function storeFrom(initMethod: string): Pick<NativeInitOptions, 'store' | 'host' | 'port' | 'path'> {
  if (initMethod === 'env://') {
    const host = process.env.MASTER_ADDR;
    const port = process.env.MASTER_PORT;
    if (host === undefined || host === '') fail(`initMethod 'env://' needs MASTER_ADDR (rank 0's address)`);
    if (port === undefined || port === '') fail(`initMethod 'env://' needs MASTER_PORT (a free port on rank 0)`);
    return { store: 'tcp', host, port: portFrom(port, 'MASTER_PORT'), path: '' };
  }
  if (initMethod.startsWith('tcp://')) {
    const url = new URL(initMethod);
    if (url.hostname === '' || url.port === '') fail(`expected initMethod 'tcp://host:port', got '${initMethod}'`);
    return { store: 'tcp', host: url.hostname.replace(/^\[|\]$/g, ''), port: portFrom(url.port, initMethod), path: '' };
  }
  if (initMethod.startsWith('file://')) {
    const path = fileURLToPath(initMethod);
    if (!isAbsolute(path)) fail(`expected initMethod 'file:///absolute/path', got '${initMethod}'`);
    return { store: 'file', host: '', port: 0, path };
  }
  return fail(`unknown initMethod '${initMethod}' (expected 'env://', 'tcp://host:port' or 'file:///path')`);
}

/**
 * Joins the default process group: meets the other ranks at `initMethod`, connects to each of them,
 * and resolves once all `worldSize` ranks have. Rejects with ERR_NODEGRAD_DISTRIBUTED when they do
 * not all arrive within `timeoutMs` (naming the ranks that never did). Every option falls back to
 * the variables torchrun and `nodegrad launch` set (`RANK`, `WORLD_SIZE`, `MASTER_ADDR`, `MASTER_PORT`).
 * Gloo's sockets use the interface that reaches the master, or `GLOO_SOCKET_IFNAME`.
 * PyTorch: `torch.distributed.init_process_group('gloo', ...)`.
 *
 * @example
 * ```ts
 * // Every rank runs this (e.g. with RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT set by a launcher).
 * await ng.distributed.initProcessGroup({ backend: 'gloo' });
 * const grad = ng.ones([4]).mul(ng.distributed.getRank());
 * ng.distributed.allReduce(grad, { op: 'avg' }); // every rank now holds the mean
 * ng.distributed.destroyProcessGroup();
 * ```
 */
export async function initProcessGroup(options: InitOptions = {}): Promise<void> {
  const backend = options.backend ?? 'gloo';
  if (backend === 'mpi') {
    throw new NodegradError(
      'ERR_NODEGRAD_UNSUPPORTED',
      `initProcessGroup: backend 'mpi' is not built into this addon (it needs libopenmpi-dev and an MPI build); use 'gloo'`,
    );
  }
  if ((backend as string) !== 'gloo') fail(`unknown backend '${backend as string}' (expected 'gloo' or 'mpi')`);
  if (group !== null || initializing) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      'initProcessGroup: the default process group is already initialized (call destroyProcessGroup first)',
    );
  }
  const rank = integerFrom(options.rank, 'RANK', 'rank');
  const worldSize = integerFrom(options.worldSize, 'WORLD_SIZE', 'worldSize');
  if (worldSize < 1) fail(`worldSize must be at least 1, got ${worldSize}`);
  if (rank >= worldSize) fail(`rank ${rank} is not below worldSize ${worldSize}`);
  const timeoutMs = timeoutFrom(options.timeoutMs);
  const store = storeFrom(options.initMethod ?? 'env://');
  const native = distributedNative('initProcessGroup');
  initializing = true;
  try {
    await native.distInit({ rank, worldSize, timeoutMs, iface: process.env.GLOO_SOCKET_IFNAME ?? '', ...store });
  } catch (error) {
    throw new NodegradError(
      'ERR_NODEGRAD_DISTRIBUTED',
      `initProcessGroup: rank ${rank} of ${worldSize}: ${(error as Error).message}`,
    );
  } finally {
    initializing = false;
  }
  group = { rank, worldSize, backend, timeoutMs };
}

/** The group, or a NodegradError naming `op` when none is initialized. */
export function requireGroup(op: string): GroupState & { native: DistributedNative } {
  if (group === null) {
    throw new NodegradError(
      'ERR_NODEGRAD_DISTRIBUTED',
      `${op}: the default process group is not initialized (await ng.distributed.initProcessGroup() first)`,
    );
  }
  return { ...group, native: distributedNative(op) };
}

/** Whether the default process group is initialized. PyTorch: `torch.distributed.is_initialized()`. */
export function isInitialized(): boolean {
  return group !== null;
}

/** This process's rank in the default group. PyTorch: `torch.distributed.get_rank()`. */
export function getRank(): number {
  return requireGroup('getRank').rank;
}

/** The number of processes in the default group. PyTorch: `torch.distributed.get_world_size()`. */
export function getWorldSize(): number {
  return requireGroup('getWorldSize').worldSize;
}

/** The default group's backend (`'gloo'`). PyTorch: `torch.distributed.get_backend()`. */
export function getBackend(): string {
  return requireGroup('getBackend').backend;
}

/**
 * Leaves the default process group: waits for the operations already queued, closes the connections
 * and (on rank 0) the store. initProcessGroup may run again afterwards. A no-op without a group.
 * PyTorch: `torch.distributed.destroy_process_group()`.
 */
export function destroyProcessGroup(): void {
  if (group === null) return;
  const native = distributedNative('destroyProcessGroup');
  group = null;
  native.distDestroy();
}
