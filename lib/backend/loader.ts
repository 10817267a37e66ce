/** The one place the native addon is loaded from. */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NodegradError } from '../errors.js';
import type { DataArray, FloatArray } from './types.js';

/** The functions native/binding.cc exports, with their positional signatures. */
export interface NativeAddon {
  unary(op: number, x: FloatArray, out: FloatArray, n: number, p1: number, p2: number): void;
  binary(op: number, shape: readonly number[], a: DataArray, aOffset: number, aStrides: readonly number[],
    b: DataArray, bOffset: number, bStrides: readonly number[], out: DataArray): void;
  copyStrided(shape: readonly number[], src: DataArray, srcOffset: number, srcStrides: readonly number[],
    dst: DataArray, dstOffset: number, dstStrides: readonly number[]): void;
  reduce(op: number, x: FloatArray, outer: number, n: number, inner: number,
    values: FloatArray | null, indices: Int32Array | null): void;
  indexSelect(src: DataArray, outer: number, n: number, inner: number, index: Int32Array, k: number,
    out: DataArray): void;
  indexAdd(src: FloatArray, outer: number, k: number, inner: number, index: Int32Array, n: number,
    out: FloatArray): void;
  gemm(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: FloatArray, aOffset: number, lda: number, b: FloatArray, bOffset: number, ldb: number,
    beta: number, c: FloatArray, cOffset: number, ldc: number,
    batch: number, strideA: number, strideB: number, strideC: number): void;
  /** The GEMM variant in use; with a name, switches to it (only variants this CPU runs) and returns the previous one. */
  gemmIsa(name?: 'avx512' | 'avx2' | 'portable'): string;
  /** Whether convolutions use the direct few-channel kernels (AVX-512); a boolean switches them, returning the previous state. */
  convDirect(enabled?: boolean): boolean;
  getNumThreads(): number;
  setNumThreads(n: number): void;
  conv2dForward(params: number[], input: FloatArray, weight: FloatArray, bias: FloatArray | null,
    out: FloatArray, relu: boolean): void;
  conv2dBackwardInput(params: number[], gradOut: FloatArray, weight: FloatArray, gradInput: FloatArray): void;
  conv2dBackwardWeight(params: number[], input: FloatArray, gradOut: FloatArray, gradWeight: FloatArray,
    gradBias: FloatArray | null): void;
  maxPool2dForward(params: number[], input: FloatArray, out: FloatArray, indices: Int32Array): void;
  maxPool2dBackward(params: number[], gradOut: FloatArray, indices: Int32Array, gradInput: FloatArray): void;
  avgPool2dForward(params: number[], input: FloatArray, out: FloatArray): void;
  avgPool2dBackward(params: number[], gradOut: FloatArray, gradInput: FloatArray): void;
  adaptiveAvgPool2dForward(planes: number, inH: number, inW: number, outH: number, outW: number,
    input: FloatArray, out: FloatArray): void;
  adaptiveAvgPool2dBackward(planes: number, inH: number, inW: number, outH: number, outW: number,
    gradOut: FloatArray, gradInput: FloatArray): void;
  softmax(x: FloatArray, outer: number, n: number, inner: number, out: FloatArray, log: boolean): void;
  softmaxBackward(y: FloatArray, g: FloatArray, outer: number, n: number, inner: number, gx: FloatArray,
    log: boolean): void;
  crossEntropy(logits: FloatArray, n: number, classes: number, target: Int32Array, weight: FloatArray | null,
    ignoreIndex: number, labelSmoothing: number, loss: FloatArray, grad: FloatArray | null): void;
  sgdStep(param: FloatArray, grad: FloatArray, momentumBuffer: FloatArray | null, n: number, lr: number,
    momentum: number, dampening: number, weightDecay: number, nesterov: boolean, maximize: boolean,
    firstStep: boolean): void;
  adamStep(param: FloatArray, grad: FloatArray, expAvg: FloatArray, expAvgSq: FloatArray,
    maxExpAvgSq: FloatArray | null, n: number, lr: number, beta1: number, beta2: number, eps: number,
    weightDecay: number, decoupled: boolean, maximize: boolean, step: number): void;
}

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where the addon is looked for: $NODEGRAD_ADDON, then the node-gyp and cmake-js build folders. */
export function addonCandidates(): string[] {
  const fromEnv = process.env.NODEGRAD_ADDON;
  if (fromEnv) return [resolve(fromEnv)];
  return [
    resolve(packageRoot, 'build', 'Release', 'nodegrad.node'),
    resolve(packageRoot, 'build-cmake', 'Release', 'nodegrad.node'),
    resolve(packageRoot, 'build-cmake', 'nodegrad.node'),
  ];
}

/**
 * Loads the addon from the first candidate that exists. Throws one NodegradError listing every
 * path tried, why each failed, and the command that builds the addon.
 */
export function loadAddon(candidates: readonly string[] = addonCandidates()): NativeAddon {
  const require = createRequire(import.meta.url);
  const failures: string[] = [];
  for (const path of candidates) {
    if (!existsSync(path)) {
      failures.push(`  ${path}: not found`);
      continue;
    }
    try {
      return require(path) as NativeAddon;
    } catch (error) {
      failures.push(`  ${path}: ${(error as Error).message}`);
    }
  }
  throw new NodegradError('ERR_NODEGRAD_ADDON',
    `nodegrad: the native addon could not be loaded. Tried:\n${failures.join('\n')}\n` +
    `Build it with \`npm run build:native\` (node-gyp; needs python3, make and a C++17 compiler) ` +
    `in ${packageRoot}, or set NODEGRAD_ADDON to the path of a built nodegrad.node.`);
}
