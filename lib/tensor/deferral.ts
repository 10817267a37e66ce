/**
 * What ng.runAsync shares with the tensor layer while its kernels are deferred. From the start of a
 * call until its kernels have run, native kernel calls are recorded (during fn) or running on the
 * addon's replay thread (after fn returned): reading the values of an array those kernels read or
 * write would see stale or uninitialized data, and reusing such an array would overwrite it, so
 * reads throw and releases are held back until the call settles.
 */
import type { DataArray } from '../backend/types.js';
import { NodegradError } from '../errors.js';

interface Deferral {
  /** fn is running: native kernel calls are recorded, not run. */
  recording: boolean;
  /** Whether a recorded kernel that has not run yet reads or writes the array's memory. */
  pending: (array: DataArray) => boolean;
}

let active: Deferral | null = null;

/** Starts a deferral: kernel calls are recorded from now on. */
export function beginDeferral(pending: (array: DataArray) => boolean): void {
  active = { recording: true, pending };
}

/** fn has returned: kernel calls run at once again, while the recorded ones run off the thread. */
export function stopRecording(): void {
  if (active) active.recording = false;
}

/** The recorded kernels have run. */
export function endDeferral(): void {
  active = null;
}

/** Whether native kernel calls are being recorded now (ng.runAsync's fn is running). */
export function isRecording(): boolean {
  return active?.recording === true;
}

/** Whether a deferred kernel that has not run yet reads or writes `array`'s memory (its values are not final). */
export function isPending(array: DataArray): boolean {
  return active !== null && active.pending(array);
}

/**
 * Whether `array` must not be reused yet: during fn every released array (a recorded kernel may
 * still use it), afterwards those a pending kernel reads or writes.
 */
export function mustHold(array: DataArray): boolean {
  return active !== null && (active.recording || active.pending(array));
}

/**
 * Throws ERR_NODEGRAD_DEFERRED when JS is about to read (or write) the values of `array` while a
 * deferred kernel that uses it has not run: `op` names the reader.
 */
export function assertReadable(op: string, array: ArrayLike<number>): void {
  if (active === null || !ArrayBuffer.isView(array) || !active.pending(array as DataArray)) return;
  throw new NodegradError(
    'ERR_NODEGRAD_DEFERRED',
    active.recording
      ? `runAsync: ${op} reads tensor values while the call is deferred; the kernels that compute them have not run ` +
          'yet. Read values after `await ng.runAsync(...)` returns, or run this step outside runAsync'
      : `runAsync: ${op} reads a tensor that a runAsync call in flight still uses; await the call first`,
  );
}

/** Throws ERR_NODEGRAD_DEFERRED while recording: `op` computes in TypeScript and cannot be deferred. */
export function refuseWhileRecording(op: string): void {
  if (!isRecording()) return;
  throw new NodegradError(
    'ERR_NODEGRAD_DEFERRED',
    `runAsync: ${op} runs in TypeScript on the calling thread and cannot be deferred; run it outside runAsync`,
  );
}
