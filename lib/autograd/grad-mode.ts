/** Whether ops record graph nodes. Off inside noGrad(), and while backward() runs. */
import { setForwardPooling } from '../tensor/storage.js';

let enabled = true;
let inference = false;

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

/** Runs fn without recording any graph node: nothing is saved for backward. */
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

/**
 * Like noGrad, and stricter: intermediates are released as soon as their consumer ran (Sequential
 * disposes each child's input once the next output exists), so peak memory stays near the two
 * largest activations plus the weights. Tensors created inside must not be used after they were
 * passed through a Sequential; the result returned by fn is safe.
 */
export function inferenceMode<T>(fn: () => T): T {
  const previous = inference;
  const pooling = setForwardPooling(true);
  inference = true;
  try {
    return noGrad(fn);
  } finally {
    inference = previous;
    setForwardPooling(pooling);
  }
}
