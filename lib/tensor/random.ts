/**
 * The seeded generator behind rand, randn, dropout and init: xoshiro128** over 32-bit integer
 * arithmetic, so the same seed gives the same numbers on every run, machine and Node version.
 */
import { NodegradError } from '../errors.js';

let state = new Uint32Array(4);

function splitMix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** Seeds the global generator. */
export function manualSeed(seed: number): void {
  const next = splitMix32(Math.floor(seed));
  state = new Uint32Array([next(), next(), next(), next()]);
}

manualSeed(Date.now() % 0x7fffffff);

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

export function nextUint32(): number {
  const s = state;
  const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
  const t = (s[1] << 9) >>> 0;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 11);
  return result;
}

/** Uniform in [0, 1) with 32 bits of resolution. */
export function nextUniform(): number {
  return nextUint32() / 4294967296;
}

/**
 * Fills `out` with U(low, high) samples: the same sequence as repeated nextUniform(), with the
 * generator inlined (initializing a 100 M-weight model spends most of its time here).
 */
export function fillUniform(out: { length: number; [i: number]: number }, low = 0, high = 1): void {
  // The state lives in locals for the loop (a typed-array round trip per draw is several times slower).
  let s0 = state[0];
  let s1 = state[1];
  let s2 = state[2];
  let s3 = state[3];
  const scale = (high - low) / 4294967296;
  for (let i = 0; i < out.length; i++) {
    const x = Math.imul(s1, 5);
    const r = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >>> 21);
    out[i] = low + r * scale;
  }
  state[0] = s0;
  state[1] = s1;
  state[2] = s2;
  state[3] = s3;
}

/**
 * Fills `out` with normal samples by Marsaglia's polar method (one log and one square root per
 * pair, no trigonometry): pairs of uniforms in the unit disc are scaled to two normals.
 */
export function fillNormal(out: { length: number; [i: number]: number }, mean = 0, std = 1): void {
  const chunk = new Float64Array(1 << 12);
  let i = 0;
  while (i < out.length) {
    fillUniform(chunk, -1, 1);
    for (let j = 0; j < chunk.length && i < out.length; j += 2) {
      const u = chunk[j];
      const v = chunk[j + 1];
      const s = u * u + v * v;
      if (s >= 1 || s === 0) continue;
      const f = Math.sqrt((-2 * Math.log(s)) / s);
      out[i++] = mean + std * u * f;
      if (i < out.length) out[i++] = mean + std * v * f;
    }
  }
}

/** The generator's state, to restore later (checkpointing replays dropout with it). */
export function getRngState(): Uint32Array {
  return state.slice();
}

/** Restores a state from getRngState(): four 32-bit words, not all zero (xoshiro's fixed point). */
export function setRngState(saved: Uint32Array): void {
  if (!(saved instanceof Uint32Array) || saved.length !== 4) {
    const got = saved instanceof Uint32Array ? `a Uint32Array of length ${saved.length}` : String(saved);
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `setRngState: expected a Uint32Array of length 4 from getRngState(), got ${got}`,
    );
  }
  if (saved.every((word) => word === 0)) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      'setRngState: an all-zero state would generate zeros forever; expected a state from getRngState()',
    );
  }
  state = saved.slice();
}

/** A uniform integer in [0, n) for 1 <= n <= 2^32, by rejection so that no value is favoured. */
export function nextBelow(n: number): number {
  if (n === 4294967296) return nextUint32();
  // The largest multiple of n that fits in 32 bits; draws at or above it would skew the modulo.
  const limit = 4294967296 - (4294967296 % n);
  let r = nextUint32();
  while (r >= limit) r = nextUint32();
  return r % n;
}
