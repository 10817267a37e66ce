// NaN and ±inf through every kernel, on both backends, against PyTorch (tools/golden/make_nan_goldens.py):
// NaN positions must match exactly and the other values closely, in float64 and float32, at the
// fixture's sizes (vector lanes and tails) and tiled past the size where kernels split over threads.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { BinaryOp, UnaryOp, type Backend } from '../../lib/backend/types.js';
import { expectNodegradError } from '../helpers.js';
import { goldenCases, type GoldenCase } from '../fixtures.js';

const F = ng.nn.functional;
const cases = goldenCases('nan.safetensors');
const byName = new Map(cases.map((c) => [c.name, c]));
const checked = cases.filter((c) => c.kind !== 'shared');

/** Copies that make the large unary and reduction inputs (520 x 200 elements) run on several threads. */
const TILES = 200;

type Leaf = (key: string) => ng.Tensor;
type Forward = (o: Record<string, unknown>, leaf: Leaf, plain: Leaf) => ng.Tensor;

const reduceOps: Record<string, (x: ng.Tensor, dim: number | undefined) => ng.Tensor> = {
  max: (x, dim) => ng.max(x, dim),
  min: (x, dim) => ng.min(x, dim),
  argmax: (x, dim) => ng.argmax(x, dim),
  argmin: (x, dim) => ng.argmin(x, dim),
  logsumexp: (x, dim) => ng.logsumexp(x, dim),
  softmax: (x, dim) => F.softmax(x, dim!),
  logSoftmax: (x, dim) => F.logSoftmax(x, dim!),
};

const unaryOps: Record<string, (x: ng.Tensor, o: Record<string, unknown>) => ng.Tensor> = {
  relu: (x) => F.relu(x),
  sigmoid: (x) => F.sigmoid(x),
  tanh: (x) => F.tanh(x),
  abs: (x) => ng.abs(x),
  sign: (x) => ng.unaryKernel(UnaryOp.Sign, x),
  clamp: (x, o) => ng.clamp(x, o.min as number | null, o.max as number | null),
  pow: (x, o) => ng.pow(x, o.exponent as number),
};

const binaryOps: Record<string, (x: ng.Tensor, e: ng.Tensor) => ng.Tensor> = {
  pow: (x, e) => ng.pow(x, e),
  maximum: (x, e) => ng.binaryKernel('maximum', BinaryOp.Maximum, x, e),
  minimum: (x, e) => ng.binaryKernel('minimum', BinaryOp.Minimum, x, e),
};

const forwards: Record<string, Forward> = {
  unary: (o, leaf) => unaryOps[o.op as string](leaf('x'), o),
  binary: (o, leaf) => binaryOps[o.op as string](leaf('x'), leaf('e')),
  reduce: (o, leaf) => reduceOps[o.op as string](leaf('x'), o.dim as number | undefined),
  maxPool2d: (o, leaf) => {
    const { kernelSize, ...rest } = o;
    return F.maxPool2d(leaf('x'), kernelSize as number, rest);
  },
  avgPool2d: (o, leaf) => {
    const { kernelSize, ...rest } = o;
    return F.avgPool2d(leaf('x'), kernelSize as number, rest);
  },
  adaptiveAvgPool2d: (o, leaf) => F.adaptiveAvgPool2d(leaf('x'), o.outputSize as [number, number]),
  linearRelu: (_o, leaf) => F.linear(leaf('x'), leaf('weight'), leaf('bias'), { activation: 'relu' }),
  conv2dRelu: (o, leaf) =>
    F.conv2d(leaf('x'), leaf('weight'), leaf('bias'), { padding: o.padding as number, activation: 'relu' }),
  crossEntropy: (o, leaf, plain) => F.crossEntropy(leaf('x'), plain('target'), { ...o, weight: plain('weight') }),
  nllLoss: (o, leaf, plain) => F.nllLoss(leaf('x'), plain('target'), { ...o, weight: plain('weight') }),
  mseLoss: (o, leaf, plain) => F.mseLoss(leaf('x'), plain('target'), o),
  l1Loss: (o, leaf, plain) => F.l1Loss(leaf('x'), plain('target'), o),
  bceWithLogits: (o, leaf, plain) =>
    F.bceWithLogits(leaf('x'), plain('target'), { ...o, posWeight: plain('posWeight') }),
  klDiv: (o, leaf, plain) => F.klDiv(leaf('x'), plain('target'), o),
};

/** The case's tensors, with those of the case it shares inputs with. */
function tensorsOf(c: GoldenCase): Record<string, ng.Tensor> {
  const shared = c.options.shared ? byName.get(c.options.shared as string)!.t : {};
  return { ...shared, ...c.t };
}

/**
 * Along which dims the case's rows are independent, so that copies stacked there must give stacked
 * results: [input dim, output dim], or null for cases too small or coupled to tile.
 */
function tileDims(c: GoldenCase): [number, number] | null {
  if (c.kind === 'unary' || c.kind === 'binary' || c.kind.endsWith('Pool2d')) return [0, 0];
  if (c.kind !== 'reduce' || c.options.dim === undefined) return null;
  const inDim = c.options.dim === 1 ? 0 : 1;
  return [inDim, c.options.op === 'softmax' || c.options.op === 'logSoftmax' ? inDim : 0];
}

function tiled(t: Record<string, ng.Tensor>, [inDim, outDim]: [number, number]): Record<string, ng.Tensor> {
  const out: Record<string, ng.Tensor> = {};
  for (const [key, value] of Object.entries(t)) {
    const dim = key === 'out' || key === 'gout' ? outDim : inDim;
    out[key] = ng.cat(new Array<ng.Tensor>(TILES).fill(value), dim);
  }
  return out;
}

/** NaN exactly where PyTorch has NaN, infinities equal, the rest within atol + rtol·|expected|; one pass. */
function expectMatches(actual: ng.Tensor, expected: ng.Tensor, rtol: number, atol: number, what: string): void {
  const a = actual.data();
  const e = expected.data();
  expect(a.length, what).toBe(e.length);
  for (let i = 0; i < e.length; i++) {
    const ok = Number.isNaN(e[i])
      ? Number.isNaN(a[i])
      : Number.isFinite(e[i])
        ? Math.abs(a[i] - e[i]) <= atol + rtol * Math.abs(e[i])
        : a[i] === e[i];
    if (!ok) expect.fail(`${what} at ${i}: got ${a[i]}, expected ${e[i]}`);
  }
}

function check(c: GoldenCase, t: Record<string, ng.Tensor>, dtype: 'float32' | 'float64'): void {
  const [rtol, atol] = dtype === 'float64' ? [1e-9, 1e-10] : [1e-4, 1e-5];
  const cast = (x: ng.Tensor) => (x.dtype === 'int32' ? x : x.to(dtype));
  const leaves = new Map<string, ng.Tensor>();
  const leaf = (key: string) => {
    if (!leaves.has(key)) {
      const x = cast(t[key]).detach().clone();
      x.requiresGrad = `grad_${key}` in t;
      leaves.set(key, x);
    }
    return leaves.get(key)!;
  };
  const plain = (key: string) => (key in t ? cast(t[key]) : (null as unknown as ng.Tensor));
  const out = forwards[c.kind](c.options, leaf, plain);
  expect(out.shape).toEqual(t.out.shape);
  expectMatches(out, t.out, rtol, atol, 'out');
  if (!Object.keys(t).some((key) => key.startsWith('grad_'))) return;
  out.backward(cast(t.gout));
  for (const [key, x] of leaves) {
    if (`grad_${key}` in t) expectMatches(x.grad!, t[`grad_${key}`], rtol, atol, `grad_${key}`);
  }
}

const backends = [
  ['native', ng.backend.getBackend()],
  ['reference', ng.backend.referenceBackend],
] as const;

describe.each(backends)('NaN and ±inf as in PyTorch (%s backend)', (_name, backend: Backend) => {
  const previous = ng.backend.getBackend();
  beforeAll(() => ng.backend.setBackend(backend));
  afterAll(() => ng.backend.setBackend(previous));

  it.each(checked.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    for (const dtype of ['float64', 'float32'] as const) check(c, tensorsOf(c), dtype);
  });

  const large = checked.filter((c) => tileDims(c) !== null);
  it.each(large.map((c) => [c.name, c] as const))('%s, tiled over threads', (_n, c) => {
    check(c, tiled(tensorsOf(c), tileDims(c)!), 'float32');
  });

  it('bceLoss rejects a NaN probability, as PyTorch does', () => {
    expectNodegradError(
      () => F.bceLoss(ng.tensor([0.5, NaN]), ng.tensor([1, 0])),
      'ERR_NODEGRAD_ARGUMENT',
      'bceLoss',
      'NaN',
    );
  });
});

it('covers every op the audit names', () => {
  const ops = new Set(
    checked.map((c) => (c.kind === 'unary' || c.kind === 'binary' || c.kind === 'reduce' ? c.options.op : c.kind)),
  );
  for (const op of [
    'relu',
    'sigmoid',
    'tanh',
    'abs',
    'sign',
    'clamp',
    'pow',
    'maximum',
    'minimum',
    'max',
    'min',
    'argmax',
    'argmin',
    'logsumexp',
    'softmax',
    'logSoftmax',
    'maxPool2d',
    'avgPool2d',
    'adaptiveAvgPool2d',
    'linearRelu',
    'conv2dRelu',
    'crossEntropy',
    'nllLoss',
    'mseLoss',
    'l1Loss',
    'bceWithLogits',
    'klDiv',
  ]) {
    expect(ops, op).toContain(op);
  }
});
