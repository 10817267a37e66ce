/**
 * ng.runAsync: an inference whose native kernels run off the JS thread. While fn runs, each native
 * kernel call is validated and recorded instead of run (output shapes follow from input shapes, so
 * fn builds the whole result without values); when fn returns, the addon replays the recording in
 * order on a thread of its own, with a kernel pool sized like the caller's, and the Promise
 * resolves with fn's result once every kernel has run.
 */
import { inferenceMode } from '../autograd/grad-mode.js';
import { getBackend, tryAddon, type NativeAddon } from '../backend/index.js';
import { NodegradError } from '../errors.js';
import { beginDeferral, endDeferral, stopRecording } from '../tensor/deferral.js';
import { releaseHeld } from '../tensor/storage.js';

/** The calls waiting for the one in flight: one recording per thread at a time, in call order. */
let queue: Promise<unknown> = Promise.resolve();

/**
 * Runs `fn` (synchronous, an inference: it runs under {@link inferenceMode}) with its native
 * kernels executed off the JS thread, and resolves with what fn returns once they have run; the
 * event loop keeps serving timers and I/O meanwhile. For services that want a non-blocking
 * forward without worker threads (see ng.serve.createPool for parallel requests).
 *
 * Inside fn, tensors have their shapes but not yet their values: reading values (`item()`,
 * `toArray()`, `data()`, an index check in TypeScript, an op computed in TypeScript such as bool
 * masks) throws an ERR_NODEGRAD_DEFERRED NodegradError naming the op, as does a native kernel that
 * cannot be deferred (backward, optimizer steps). Convolutions, linear layers and matmul, pooling,
 * batch norm in eval mode, element-wise ops and activations, softmax, layer norm, attention,
 * embedding and gather, reductions and copies defer. A kernel that fails (an index out of range)
 * rejects the Promise with its ERR_NODEGRAD_NATIVE error; fn throwing rejects with fn's error, after
 * the kernels recorded before the throw have run.
 *
 * Calls queue: each call's fn starts once the previous call settled. Tensors fn releases are
 * reused only after the call settles, so a call's peak memory is that of all its intermediates.
 * Do not write into fn's inputs before the call settles. With the reference backend
 * (NODEGRAD_BACKEND=reference) fn runs synchronously on the calling thread. PyTorch has no
 * equivalent (its kernels block the calling Python thread).
 *
 * @example
 * ```ts
 * const model = ng.models.lenet5().eval();
 * const x = ng.randn([64, 1, 28, 28]);
 * const logits = await ng.runAsync(() => model.forward(x)); // [64, 10]
 * const best = logits.argmax(1).toArray(); // values are ready after the await
 * ```
 */
export function runAsync<T>(fn: () => T): Promise<T> {
  if (typeof fn !== 'function') {
    return Promise.reject(
      new NodegradError('ERR_NODEGRAD_ARGUMENT', `runAsync: expected a function, got ${typeof fn}`),
    );
  }
  const call = queue.then(() => runDeferred(fn));
  queue = call.catch(() => undefined);
  return call;
}

/** The addon when kernels run on it and it can defer them; null with the reference backend. */
function deferringAddon(): NativeAddon | null {
  if (getBackend().name !== 'native') return null;
  const addon = tryAddon();
  return addon && typeof addon.deferBegin === 'function' ? addon : null;
}

async function runDeferred<T>(fn: () => T): Promise<T> {
  const addon = deferringAddon();
  if (!addon) return checkedResult(inferenceMode(fn));
  addon.deferBegin();
  beginDeferral((array) => addon.deferPending(array));
  let result: T | undefined;
  let failure: unknown;
  let failed = false;
  try {
    result = inferenceMode(fn);
  } catch (error) {
    failed = true;
    failure = error;
  }
  stopRecording();
  try {
    await addon.deferFlush();
  } catch (error) {
    if (!failed) {
      failed = true;
      failure = kernelError(error);
    }
  } finally {
    endDeferral();
    releaseHeld();
  }
  if (failed) throw failure;
  return checkedResult(result as T);
}

function checkedResult<T>(result: T): T {
  if (result instanceof Promise) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      'runAsync: fn returned a Promise; it must be synchronous (await runAsync instead of awaiting inside it)',
    );
  }
  return result;
}

/** A replayed kernel's failure as a NodegradError with the addon's code and message. */
function kernelError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const code = (error as { code?: unknown }).code;
  if (code !== 'ERR_NODEGRAD_NATIVE' && code !== 'ERR_NODEGRAD_ALLOC') return error;
  return new NodegradError(code, error.message);
}
