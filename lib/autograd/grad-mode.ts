/** Whether ops record graph nodes. Off inside noGrad(), and while backward() runs. */

let enabled = true;

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
