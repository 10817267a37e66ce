/** Special functions JavaScript's Math lacks, to about 1e-15: the reference math of lib/ops/unary.ts. */

/**
 * erf to about 1e-15: its Taylor series below |x| = 2 (terms stay under e^4, so little is lost to
 * cancellation), and 1 - erfc from erfc's continued fraction (Lentz's method) above.
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 2) {
    let term = x,
      sum = x;
    for (let n = 1; Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
      term *= (-x * x) / n;
      sum += term / (2 * n + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  const value = 1 - erfcLarge(ax);
  return x < 0 ? -value : value;
}

/** erfc(x) for x >= 2: exp(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))). */
export function erfcLarge(x: number): number {
  if (x === Infinity) return 0;
  const tiny = 1e-300;
  let f = x,
    c = x,
    d = 0;
  for (let k = 1; k < 500; k++) {
    const a = k / 2;
    d = x + a * d;
    d = d === 0 ? 1 / tiny : 1 / d;
    c = x + a / c;
    if (c === 0) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

/** erfc without 1 - erf's cancellation for large x. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x >= 2) return erfcLarge(x);
  if (x <= -2) return 2 - erfcLarge(-x);
  return 1 - erf(x);
}

/** Giles' single-precision approximation refined by Newton steps on erf(x) - y. */
export function erfinv(y: number): number {
  if (!(y > -1 && y < 1)) return y === 1 ? Infinity : y === -1 ? -Infinity : NaN;
  let w = -Math.log((1 - y) * (1 + y));
  let p: number;
  if (w < 5) {
    w -= 2.5;
    p = 2.81022636e-8;
    for (const c of [
      3.43273939e-7, -3.5233877e-6, -4.39150654e-6, 0.00021858087, -0.00125372503, -0.00417768164, 0.246640727,
      1.50140941,
    ])
      p = c + p * w;
  } else {
    w = Math.sqrt(w) - 3;
    p = -0.000200214257;
    for (const c of [
      0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047, 1.00167406,
      2.83297682,
    ])
      p = c + p * w;
  }
  let x = p * y;
  for (let i = 0; i < 3; i++) x -= (erf(x) - y) / ((2 / Math.sqrt(Math.PI)) * Math.exp(-x * x));
  return x;
}

/** Rounds half to even, as PyTorch's round (Math.round rounds half up). */
export function roundHalfEven(x: number): number {
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x);
}

/** 1 / (1 + e^-x), split by sign so exp never overflows. */
export function logistic(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** PyTorch's log_sigmoid: min(x, 0) - log1p(exp(-|x|)). */
export function logSigmoid(x: number): number {
  return Math.min(x, 0) - Math.log1p(Math.exp(-Math.abs(x)));
}

export function logSigmoidDerivative(x: number): number {
  const z = Math.exp(-Math.abs(x));
  return x < 0 ? 1 - z / (1 + z) : z / (1 + z);
}

export function mishDerivative(x: number): number {
  const t = Math.tanh(Math.log1p(Math.exp(x)));
  return t + x * logistic(x) * (1 - t * t);
}

export const SELU_SCALE = 1.0507009873554805;
export const SELU_ALPHA = 1.6732632423543772;
