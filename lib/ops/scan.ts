/**
 * Scans along one dim: cumsum, cumprod, logcumsumexp. Forwards are loops over the dense
 * [outer, n, inner] layout, accumulating in float64 (int32 cumsum/cumprod stay int32). cumsum and
 * logcumsumexp take their gradients from reversed scans (flip, scan, flip); cumprod writes
 * PyTorch's rule for zeros.
 */
import { record } from '../autograd/node.js';
import { numelOf, normalizeDim } from '../tensor/shape.js';
import { uninitTensor, Tensor } from '../tensor/tensor.js';
import { clamp, exp, log, neg, sub, add } from './elementwise.js';
import { denseCopy, to } from './shape.js';
import { flip } from './structure.js';

interface Lines {
  outer: number;
  n: number;
  inner: number;
}

function linesOf(op: string, x: Tensor, dim: number): { d: number; lines: Lines } {
  const d = normalizeDim(op, dim, x.ndim);
  if (x.ndim === 0) return { d, lines: { outer: 1, n: 1, inner: 1 } };
  return { d, lines: { outer: numelOf(x.shape.slice(0, d)), n: x.shape[d], inner: numelOf(x.shape.slice(d + 1)) } };
}

/** Calls visit(positions) for each line along the scanned dim, with the flat index of each step. */
function eachLine({ outer, n, inner }: Lines, visit: (at: (j: number) => number) => void): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) visit((j) => (o * n + j) * inner + i);
  }
}

/** A fresh tensor of x's shape and dtype filled by running `step` along each line. */
function scan(x: Tensor, lines: Lines, first: number, step: (acc: number, v: number) => number): Tensor {
  const xs = denseCopy(x).storage.data;
  const out = uninitTensor(x.shape, x.dtype);
  const data = out.storage.data;
  eachLine(lines, (at) => {
    let acc = first;
    for (let j = 0; j < lines.n; j++) {
      acc = step(acc, xs[at(j)]);
      data[at(j)] = acc;
    }
  });
  return out;
}

function reversed(fn: (t: Tensor, dim: number) => Tensor, t: Tensor, d: number): Tensor {
  return t.ndim === 0 ? fn(t, d) : flip(fn(flip(t, d), d), d);
}

/** Running sums along `dim`; int32 stays int32 (wrapping at 2^32). */
export function cumsum(x: Tensor, dim: number): Tensor {
  const { d, lines } = linesOf('cumsum', x, dim);
  if (x.dtype === 'int32') return scan(x, lines, 0, (acc, v) => (acc + v) | 0);
  return record(
    'cumsum',
    scan(x, lines, 0, (acc, v) => acc + v),
    [x],
    (g) => [reversed(cumsum, g, d)],
  );
}

/**
 * Running products along `dim`; int32 stays int32. The gradient of element i is
 * sum over k >= i of g_k * prod_{j <= k, j != i} x_j, computed in one pass per line: by division
 * before the first zero, by a running product at it, and 0 after it.
 */
export function cumprod(x: Tensor, dim: number): Tensor {
  const { lines } = linesOf('cumprod', x, dim);
  if (x.dtype === 'int32') return scan(x, lines, 1, (acc, v) => Math.imul(acc, v));
  const out = scan(x, lines, 1, (acc, v) => acc * v);
  return record(
    'cumprod',
    out,
    [x],
    (g) => {
      const xs = denseCopy(x).storage.data;
      const ys = out.storage.data;
      const gs = denseCopy(g).storage.data;
      const grad = uninitTensor(x.shape, g.dtype);
      const target = grad.storage.data;
      eachLine(lines, (at) => {
        let zero = 0;
        while (zero < lines.n && xs[at(zero)] !== 0) zero++;
        let tail = 0;
        for (let j = zero - 1; j >= 0; j--) {
          tail += gs[at(j)] * ys[at(j)];
          target[at(j)] = tail / xs[at(j)];
        }
        if (zero === lines.n) return;
        // At the first zero: g_k times the product of every x_j (j <= k) except the zero itself.
        let others = zero === 0 ? 1 : ys[at(zero - 1)];
        let sum = 0;
        for (let k = zero; k < lines.n; k++) {
          if (k > zero) others *= xs[at(k)];
          sum += gs[at(k)] * others;
        }
        target[at(zero)] = sum;
        for (let j = zero + 1; j < lines.n; j++) target[at(j)] = 0;
      });
      return [grad];
    },
    [x, out],
  );
}

/** log(exp(a) + exp(b)) without overflow; NaN propagates and equal infinities stay themselves. */
function logAddExp(a: number, b: number): number {
  const lo = b !== b ? b : Math.min(a, b);
  const hi = b !== b ? b : Math.max(a, b);
  if (lo !== hi || Number.isFinite(lo)) return hi + Math.log1p(Math.exp(lo - hi));
  return a;
}

/**
 * log(cumsum(exp(x))) along `dim`, computed stably. The gradient, sum over k >= i of
 * g_k exp(x_i - out_k), is split by the sign of g so each part is a reversed logcumsumexp.
 */
export function logcumsumexp(x: Tensor, dim: number): Tensor {
  const input = x.dtype === 'int32' ? to(x, 'float32') : x;
  const { d, lines } = linesOf('logcumsumexp', input, dim);
  const out = scan(input, lines, -Infinity, logAddExp);
  return record(
    'logcumsumexp',
    out,
    [input],
    (g) => {
      const part = (gs: Tensor): Tensor => exp(add(reversed(logcumsumexp, sub(log(gs), out), d), input));
      return [sub(part(clamp(g, 0)), part(clamp(neg(g), 0)))];
    },
    [input, out],
  );
}
