/**
 * Numerical gradient check: compares autograd's vector-Jacobian product with float64 central
 * differences. The output is projected on a fixed random vector r, so one backward pass checks
 * d(sum(r * fn(x)))/dx against (f(x + eps) - f(x - eps)) / 2eps for every input element.
 */
import { NodegradError, formatShape } from '../errors.js';
import { Tensor, fromArray, zerosTensor } from '../tensor/tensor.js';
import { cat } from '../ops/join.js';
import { reshape } from '../ops/shape.js';
import { grad } from './grad.js';
import { enableGrad, noGrad } from './grad-mode.js';

/** Options of {@link gradcheck} and {@link gradgradcheck}. */
export interface GradcheckOptions {
  /** Central-difference step. Default 1e-6. */
  eps?: number;
  /** Absolute tolerance. Default 1e-6. */
  atol?: number;
  /** Relative tolerance, on |numerical|. Default 1e-5. */
  rtol?: number;
}

function projection(n: number): Float64Array {
  // A small local LCG: gradcheck must not disturb the global generator's sequence.
  const r = new Float64Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    r[i] = (s / 4294967296) * 2 - 1;
  }
  return r;
}

/** Storage positions of a tensor's elements, in row-major logical order. */
function positions(t: Tensor): number[] {
  const out: number[] = [];
  const walk = (d: number, at: number): void => {
    if (d === t.ndim) {
      out.push(at);
      return;
    }
    for (let i = 0; i < t.shape[d]; i++) walk(d + 1, at + i * t.strides[d]);
  };
  walk(0, t.offset);
  return out;
}

function evaluate(fn: (...inputs: Tensor[]) => Tensor, inputs: Tensor[], r: Float64Array): number {
  const out = noGrad(() => fn(...inputs));
  const values = out.data();
  let acc = 0;
  for (let i = 0; i < values.length; i++) acc += values[i] * r[i];
  return acc;
}

/**
 * Checks fn's backward against central differences, as torch.autograd.gradcheck. Inputs that
 * require grad must be float64 (their .grad is reset). Throws a NodegradError naming the input and
 * element where analytic and numerical gradients differ by more than atol + rtol * |numerical|;
 * returns true when all agree. The defaults are tight enough that a backward off by 0.1% fails: in
 * float64 with a 1e-6 step, every op of the test table agrees to 1e-7.
 * @example
 * ```ts
 * const x = ng.randn([3, 4], { dtype: 'float64', requiresGrad: true });
 * ng.gradcheck((x) => x.tanh().mul(x).sum(1), [x]);
 * ```
 */
export function gradcheck(fn: (...inputs: Tensor[]) => Tensor, inputs: Tensor[], options: GradcheckOptions = {}): true {
  return check('gradcheck', fn, inputs, options);
}

/**
 * Checks second derivatives: gradcheck of x -> ∂(r · fn(x))/∂x, the first gradient computed by
 * autograd.grad with createGraph (r a fixed random projection). Its backward is the double backward.
 */
export function gradgradcheck(
  fn: (...inputs: Tensor[]) => Tensor,
  inputs: Tensor[],
  options: GradcheckOptions = {},
): true {
  if (typeof fn !== 'function') {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', 'gradgradcheck: expected a function as the first argument');
  }
  const firstGradient = (...xs: Tensor[]): Tensor =>
    enableGrad(() => {
      const out = fn(...xs);
      const wrt = xs.filter((x) => x.requiresGrad);
      if (!out.requiresGrad) return zerosTensor([wrt.reduce((n, x) => n + x.numel, 0)], out.dtype);
      const gradOutputs = fromArray(projection(out.numel).reverse(), out.shape).to(out.dtype);
      const grads = grad(out, wrt, { gradOutputs, createGraph: true, allowUnused: true });
      return cat(
        grads.map((g, i) => reshape(g ?? zerosTensor(wrt[i].shape, wrt[i].dtype), [-1])),
        0,
      );
    });
  return check('gradgradcheck', firstGradient, inputs, options);
}

function check(name: string, fn: (...inputs: Tensor[]) => Tensor, inputs: Tensor[], options: GradcheckOptions): true {
  const { eps = 1e-6, atol = 1e-6, rtol = 1e-5 } = options;
  if (typeof fn !== 'function') {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `${name}: expected a function as the first argument`);
  }
  for (const [i, x] of inputs.entries()) {
    if (x.requiresGrad && x.dtype !== 'float64') {
      throw new NodegradError('ERR_NODEGRAD_DTYPE', `${name}: input ${i} is ${x.dtype}; ${name} needs float64 inputs`);
    }
    x.grad = null;
  }
  const out = fn(...inputs);
  if (!(out instanceof Tensor)) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `${name}: the function must return a Tensor`);
  }
  const r = projection(out.numel);
  if (out.requiresGrad) out.backward(fromArray(r.slice(), out.shape).to(out.dtype));
  const mismatches: string[] = [];
  inputs.forEach((x, i) => {
    if (!x.requiresGrad) return;
    const analytic = x.grad ? x.grad.data() : new Float64Array(x.numel);
    const data = x.storage.data;
    positions(x).forEach((at, j) => {
      const original = data[at];
      data[at] = original + eps;
      const plus = evaluate(fn, inputs, r);
      data[at] = original - eps;
      const minus = evaluate(fn, inputs, r);
      data[at] = original;
      const numerical = (plus - minus) / (2 * eps);
      if (!(Math.abs(analytic[j] - numerical) <= atol + rtol * Math.abs(numerical))) {
        mismatches.push(
          `input ${i} ${formatShape(x.shape)} element ${j}: analytic ${analytic[j]}, numerical ${numerical}`,
        );
      }
    });
  });
  if (mismatches.length > 0) {
    throw new NodegradError(
      'ERR_NODEGRAD_AUTOGRAD',
      `${name}: ${mismatches.length} gradient element(s) differ:\n  ${mismatches.slice(0, 8).join('\n  ')}`,
    );
  }
  return true;
}
