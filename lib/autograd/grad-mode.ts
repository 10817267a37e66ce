/** Whether ops record graph nodes. Off inside noGrad(), and while backward() runs. */
import { trackAllocations, type Storage } from '../tensor/storage.js';
import type { Tensor } from '../tensor/tensor.js';

let enabled = true;
let inference = false;

/** Whether ops record the autograd graph now, as torch.is_grad_enabled (false inside {@link noGrad}). */
export function isGradEnabled(): boolean {
  return enabled;
}

function withMode<T>(mode: boolean, fn: () => T): T {
  const previous = enabled;
  enabled = mode;
  try {
    return fn();
  } finally {
    enabled = previous;
  }
}

/**
 * Runs fn without recording any graph node, as `with torch.no_grad()`: results never require grad
 * and nothing is saved for backward. Returns what fn returns. Nests with {@link enableGrad}.
 * @example
 * ```ts
 * const logits = ng.noGrad(() => model.forward(x)); // evaluation, no graph
 * ng.noGrad(() => w.sub_(w.grad ?? 0, { alpha: lr })); // a manual SGD step on a leaf
 * ```
 */
export function noGrad<T>(fn: () => T): T {
  return withMode(false, fn);
}

/** Runs fn with recording on, even inside noGrad(). */
export function enableGrad<T>(fn: () => T): T {
  return withMode(true, fn);
}

/** True inside inferenceMode(). */
export function isInferenceMode(): boolean {
  return inference;
}

let releasing = false;

/**
 * True while layers may recycle their own intermediates as soon as they are consumed: inside
 * inferenceMode(), and inside a checkpointed segment's first (no-grad) forward.
 */
export function releasesIntermediates(): boolean {
  return releasing;
}

/** Runs fn without grad, recycling intermediates as they are consumed (see releasesIntermediates). */
export function withReleasedIntermediates<T>(fn: () => T): T {
  const previous = releasing;
  releasing = true;
  try {
    return noGrad(fn);
  } finally {
    releasing = previous;
  }
}

/** Recycles `used` once `produced` exists, unless it is the caller's input (`keep`), shares storage
 * with the result, or is state that outlives the call (a parameter or buffer returned as is). */
export function releaseConsumed(used: Tensor, produced: Tensor, ...keep: Tensor[]): void {
  if (used.storage.kept || used.storage === produced.storage || keep.some((k) => k.storage === used.storage)) return;
  used.storage.recycle(
    'released by Sequential once the next layer consumed it (no graph is recorded); clone it in the layer to keep it',
  );
}

/**
 * Runs a module's forward. While intermediates are being released, every storage it allocated
 * except its output's is recycled when it returns: only the output leaves a module, so a residual
 * sum's operands or an Inception's branches die with the forward. The output's storage passes to
 * the enclosing forward.
 */
export function forwardScope(forward: () => Tensor): Tensor {
  if (!releasing) return forward();
  const allocated: Storage[] = [];
  const outer = trackAllocations(allocated);
  let out: Tensor;
  try {
    out = forward();
  } catch (error) {
    trackAllocations(outer);
    outer?.push(...allocated);
    throw error;
  }
  trackAllocations(outer);
  for (const storage of allocated) {
    if (storage === out.storage) outer?.push(storage);
    else storage.recycle();
  }
  return out;
}

/**
 * Like noGrad, and stricter: intermediates are released as soon as nothing can use them. A
 * Sequential recycles each child's input once the next output exists, and a module it runs keeps
 * only its output (forwardScope), so peak memory stays near the two largest activations plus the
 * weights. Tensors created inside must not be used after they were passed through a Sequential,
 * nor kept by a module's forward other than as its output; the result returned by fn is safe.
 */
export function inferenceMode<T>(fn: () => T): T {
  const previous = inference;
  inference = true;
  try {
    return withReleasedIntermediates(fn);
  } finally {
    inference = previous;
  }
}
