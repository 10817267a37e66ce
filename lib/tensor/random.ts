/**
 * The seeded generator behind rand, randn, dropout and init: xoshiro128** over 32-bit integer
 * arithmetic, so the same seed gives the same numbers on every run, machine and Node version.
 */

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

/** Fills `out` with standard normal samples (Box–Muller, both outputs of each pair used). */
export function fillNormal(out: { length: number; [i: number]: number }, mean = 0, std = 1): void {
  for (let i = 0; i < out.length; i += 2) {
    const u1 = 1 - nextUniform(); // in (0, 1]: log never sees 0
    const u2 = nextUniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    out[i] = mean + std * r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < out.length) out[i + 1] = mean + std * r * Math.sin(2 * Math.PI * u2);
  }
}

/** The generator's state, to restore later (checkpointing replays dropout with it). */
export function getRngState(): Uint32Array {
  return state.slice();
}

export function setRngState(saved: Uint32Array): void {
  state = saved.slice();
}
