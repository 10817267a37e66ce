/** The addon's process-group functions (native/binding_distributed.cc) and the checks before each call. */
import { getBackend, tryAddon } from '../backend/index.js';
import { NodegradError, formatShape } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';

/** An opaque handle to one queued operation. */
export type WorkHandle = object & { readonly __work: unique symbol };

/** The typed arrays a collective reads and writes. */
export type CommArray = Float32Array | Float64Array | Int32Array;

/** What distInit reads. */
export interface NativeInitOptions {
  rank: number;
  worldSize: number;
  store: 'tcp' | 'file';
  host: string;
  port: number;
  path: string;
  timeoutMs: number;
  iface: string;
}

/** The addon's distributed exports (all but distAvailable exist only in a build with Gloo). */
export interface DistributedNative {
  distAvailable(): boolean;
  distInit(options: NativeInitOptions): Promise<void>;
  distDestroy(): void;
  distIsInitialized(): boolean;
  distAllReduce(data: CommArray, offset: number, count: number, op: number): WorkHandle;
  distBroadcast(data: CommArray, offset: number, count: number, root: number): WorkHandle;
  distAllGather(input: CommArray, offset: number, count: number, outputs: CommArray[], offsets: number[]): WorkHandle;
  distReduceScatter(
    output: CommArray,
    offset: number,
    count: number,
    inputs: CommArray[],
    offsets: number[],
    op: number,
  ): WorkHandle;
  distBarrier(): WorkHandle;
  distSend(data: CommArray, offset: number, count: number, peer: number): WorkHandle;
  distRecv(data: CommArray, offset: number, count: number, peer: number): WorkHandle;
  distWait(work: WorkHandle): void;
  distIsCompleted(work: WorkHandle): boolean;
  distOnComplete(work: WorkHandle, callback: (error: string | null) => void): void;
}

/**
 * The addon's distributed functions; throws ERR_NODEGRAD_UNSUPPORTED with the fix when the addon is
 * missing, was built without Gloo, or the reference backend is selected.
 */
export function distributedNative(
  op: string,
  addon = tryAddon() as (Partial<DistributedNative> & object) | null,
): DistributedNative {
  if (addon === null) {
    throw new NodegradError(
      'ERR_NODEGRAD_UNSUPPORTED',
      `${op}: ng.distributed needs the native addon, which did not load (see ng.backend.info())`,
    );
  }
  if (typeof addon.distAvailable !== 'function' || !addon.distAvailable()) {
    throw new NodegradError(
      'ERR_NODEGRAD_UNSUPPORTED',
      `${op}: this build of the native addon has no Gloo, so ng.distributed cannot run. Install Gloo ` +
        `(Debian/Ubuntu: \`apt-get install libgloo-dev\`) and rebuild the addon (\`npm run build:native\` in a clone; ` +
        `\`NODEGRAD_BUILD_FROM_SOURCE=1 npm rebuild nodegrad\` where the prebuilt addon, built without Gloo, was installed)`,
    );
  }
  if (getBackend().name !== 'native') {
    throw new NodegradError(
      'ERR_NODEGRAD_UNSUPPORTED',
      `${op}: the ${getBackend().name} backend does not support ng.distributed; it runs on the native backend`,
    );
  }
  return addon as DistributedNative;
}

/** The typed array, offset and length of a tensor a collective may use in place, after checking it. */
export function commBuffer(op: string, t: Tensor, what = 'tensor'): { data: CommArray; offset: number; count: number } {
  if (t.dtype !== 'float32' && t.dtype !== 'float64' && t.dtype !== 'int32') {
    throw new NodegradError(
      'ERR_NODEGRAD_DTYPE',
      `${op}: expected a float32, float64 or int32 ${what}, got ${t.dtype} of shape ${formatShape(t.shape)}`,
    );
  }
  if (!t.isContiguous()) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `${op}: expected a contiguous ${what}, got a ${t.dtype} view of shape ${formatShape(t.shape)} with strides ` +
        `${formatShape(t.strides)} (call .contiguous() and copy the result back)`,
    );
  }
  return { data: t.storage.data as CommArray, offset: t.offset, count: t.numel };
}
