/**
 * Typed-array storage and the framework's memory accounting. Storage is allocated on the JS side
 * and handed to native kernels zero-copy; bytes are counted on allocation and uncounted on
 * dispose() or when the garbage collector finalizes the storage.
 */
import type { DataArray, DType } from '../backend/types.js';
import { NodegradError } from '../errors.js';

export const BYTES_PER_ELEMENT: Record<DType, number> = { float32: 4, float64: 8, int32: 4 };

const stats = { liveBytes: 0, peakBytes: 0, liveTensors: 0 };

const finalizer = new FinalizationRegistry<number>((bytes) => {
  stats.liveBytes -= bytes;
  stats.liveTensors -= 1;
});

export class Storage {
  /** Bumped by every in-place write; saved tensors record it to detect later modification. */
  version = 0;
  private array: DataArray;
  private released = false;

  constructor(readonly dtype: DType, array: DataArray) {
    this.array = array;
    stats.liveBytes += array.byteLength;
    stats.liveTensors += 1;
    stats.peakBytes = Math.max(stats.peakBytes, stats.liveBytes);
    finalizer.register(this, array.byteLength, this);
  }

  get disposed(): boolean {
    return this.released;
  }

  /** The typed array; throws once the storage has been disposed. */
  get data(): DataArray {
    if (this.released) {
      throw new NodegradError('ERR_NODEGRAD_DISPOSED', 'tensor: this tensor was disposed; its data can no longer be used');
    }
    return this.array;
  }

  get byteLength(): number {
    return this.array.byteLength;
  }

  dispose(): void {
    if (this.released) return;
    finalizer.unregister(this);
    stats.liveBytes -= this.array.byteLength;
    stats.liveTensors -= 1;
    this.array = new (this.array.constructor as new (n: number) => DataArray)(0);
    this.released = true;
  }
}

export function arrayFor(dtype: DType, n: number): DataArray {
  switch (dtype) {
    case 'float32': return new Float32Array(n);
    case 'float64': return new Float64Array(n);
    case 'int32': return new Int32Array(n);
  }
}

export function dtypeOf(array: DataArray): DType {
  if (array instanceof Float32Array) return 'float32';
  if (array instanceof Float64Array) return 'float64';
  return 'int32';
}

export function allocate(dtype: DType, n: number): Storage {
  return new Storage(dtype, arrayFor(dtype, n));
}

export interface MemoryStats {
  /** Bytes of tensor storage alive now (allocated, not disposed nor collected). */
  liveBytes: number;
  /** The highest liveBytes since start or the last resetPeakMemory(). */
  peakBytes: number;
  /** Storages alive now. */
  liveTensors: number;
}

export function memory(): MemoryStats {
  return { ...stats };
}

export function resetPeakMemory(): void {
  stats.peakBytes = stats.liveBytes;
}
