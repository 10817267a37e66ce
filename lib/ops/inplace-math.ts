/**
 * In-place math (add_, mul_, exp_, fill_, normal_, ...): each composes the out-of-place op and
 * writes its result back through writeInPlace, so views (narrow, transpose) update exactly their
 * own elements and tensors saved for backward see the version bump. While recording, the tensor
 * takes a new graph node whose input is the op's result, so gradients flow as in PyTorch.
 */
import { isGradEnabled } from '../autograd/grad-mode.js';
import { Node } from '../autograd/node.js';
import { NodegradError, formatShape } from '../errors.js';
import { assertReadable } from '../tensor/deferral.js';
import { full } from '../tensor/creation.js';
import { fillNormal, fillUniform, nextUniform } from '../tensor/random.js';
import { checkProbabilities } from '../tensor/sampling.js';
import { sameShape } from '../tensor/shape.js';
import { Tensor, uninitTensor } from '../tensor/tensor.js';
import { writeInPlace } from '../tensor/write.js';
import * as ew from './elementwise.js';
import type { TensorLike } from './elementwise.js';
import { clone, expand, to } from './shape.js';

/** Graph ops whose output shares its input's storage. */
const VIEW_OPS = new Set(['view', 'reshape', 'transpose', 'permute', 'squeeze', 'unsqueeze', 'expand', 'narrow']);

/**
 * PyTorch's rules for writing into a tensor that requires grad: never into a leaf (its .grad would
 * describe values it no longer holds), nor into a view of a graph tensor (the base's history
 * would not see the write).
 */
function checkAutogradRules(name: string, x: Tensor): void {
  const plain = name.slice(0, -1);
  if (x.isLeaf) {
    throw new NodegradError(
      'ERR_NODEGRAD_AUTOGRAD',
      `${name}: a leaf tensor that requires grad cannot be modified in place; wrap the update in ` +
        `ng.noGrad(() => ...) (as optimizers do) or use the out-of-place ${plain}()`,
    );
  }
  let view: Tensor = x;
  while (view.gradFn && VIEW_OPS.has(view.gradFn.name) && view.gradFn.inputs[0].storage === x.storage) {
    view = view.gradFn.inputs[0];
  }
  if (view === x) return;
  const base = view.isLeaf ? 'a leaf tensor that requires grad' : 'a tensor recorded for backward';
  throw new NodegradError(
    'ERR_NODEGRAD_AUTOGRAD',
    `${name}: cannot modify in place a view of ${base}; clone() the view first, use the out-of-place ${plain}(), ` +
      'or run under ng.noGrad()',
  );
}

/** A tensor sharing x's storage and history, so x can take a new node while the old one stays reachable. */
function historyOf(x: Tensor): Tensor {
  const h = new Tensor(x.storage, x.shape, x.strides, x.offset);
  if (x.requiresGrad) h.requiresGrad = true;
  h.gradFn = x.gradFn;
  return h;
}

/**
 * Runs `compute(self)` (an out-of-place op on x's values) and writes its result into x. `inputs`
 * lists the other tensor operands, to know whether the write must be recorded.
 */
export function inPlace(
  name: string,
  x: Tensor,
  inputs: readonly TensorLike[],
  compute: (self: Tensor) => Tensor,
): Tensor {
  const recording = isGradEnabled() && (x.requiresGrad || inputs.some((t) => t instanceof Tensor && t.requiresGrad));
  if (recording && x.requiresGrad) checkAutogradRules(name, x);
  // The op reads a copy of x, so what its backward saved survives the write below.
  const self = recording ? clone(historyOf(x)) : x;
  const result = compute(self);
  if (!sameShape(result.shape, x.shape)) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `${name}: the result of shape ${formatShape(result.shape)} cannot be written into a tensor of shape ` +
        `${formatShape(x.shape)}; the other operand must broadcast to ${formatShape(x.shape)}`,
    );
  }
  if (x.dtype === 'int32' && result.dtype !== 'int32') {
    throw new NodegradError(
      'ERR_NODEGRAD_DTYPE',
      `${name}: the result is ${result.dtype} and cannot be stored in an int32 tensor; convert it first with x.to('float32')`,
    );
  }
  assertReadable(name, result.storage.data);
  const values = result.data();
  writeInPlace(name, x, (target) => target.set(values));
  if (recording) {
    // A result cut from the graph (fill_, normal_) passes a zero gradient to x's history, as in PyTorch.
    x.gradFn = result.requiresGrad
      ? new Node(name, [result], (g) => [g], [])
      : new Node(name, [self], (g) => [full(g.shape, 0, { dtype: g.dtype })], []);
    x.requiresGrad = true;
  }
  return x;
}

/** Options of {@link add_} and {@link sub_}. */
export interface AlphaOptions {
  /** Multiplies `other` before it is added (PyTorch's alpha): `p.add_(g, { alpha: -lr })`. */
  alpha?: number;
}

function scaled(other: TensorLike, alpha: number | undefined): TensorLike {
  if (alpha === undefined || alpha === 1) return other;
  return other instanceof Tensor ? ew.mul(other, alpha) : other * alpha;
}

/** x += alpha * other, other broadcast to x's shape. */
export function add_(x: Tensor, other: TensorLike, options: AlphaOptions = {}): Tensor {
  return inPlace('add_', x, [other], (self) => ew.add(self, scaled(other, options.alpha)));
}

/** x -= alpha * other, other broadcast to x's shape. */
export function sub_(x: Tensor, other: TensorLike, options: AlphaOptions = {}): Tensor {
  return inPlace('sub_', x, [other], (self) => ew.sub(self, scaled(other, options.alpha)));
}

/** x *= other (broadcast to x's shape), as torch.Tensor.mul_. */
export function mul_(x: Tensor, other: TensorLike): Tensor {
  return inPlace('mul_', x, [other], (self) => ew.mul(self, other));
}

/** x /= other (broadcast to x's shape), as torch.Tensor.div_; an int32 x throws (the quotient is float). */
export function div_(x: Tensor, other: TensorLike): Tensor {
  return inPlace('div_', x, [other], (self) => ew.div(self, other));
}

/** x = x ** exponent, as torch.Tensor.pow_. */
export function pow_(x: Tensor, exponent: TensorLike): Tensor {
  return inPlace('pow_', x, [exponent], (self) => ew.pow(self, exponent));
}

/** Limits x to [min, max] in place, as torch.Tensor.clamp_. */
export function clamp_(x: Tensor, min?: number | null, max?: number | null): Tensor {
  return inPlace('clamp_', x, [], (self) => ew.clamp(self, min, max));
}

/** x = e^x in place, as torch.Tensor.exp_. */
export function exp_(x: Tensor): Tensor {
  return inPlace('exp_', x, [], ew.exp);
}

/** x = log(x) in place, as torch.Tensor.log_. */
export function log_(x: Tensor): Tensor {
  return inPlace('log_', x, [], ew.log);
}

/** x = sqrt(x) in place, as torch.Tensor.sqrt_. */
export function sqrt_(x: Tensor): Tensor {
  return inPlace('sqrt_', x, [], ew.sqrt);
}

/** x = |x| in place, as torch.Tensor.abs_. */
export function abs_(x: Tensor): Tensor {
  return inPlace('abs_', x, [], ew.abs);
}

/** x = -x in place, as torch.Tensor.neg_. */
export function neg_(x: Tensor): Tensor {
  return inPlace('neg_', x, [], ew.neg);
}

/** Copies src (broadcast to x's shape, converted to x's dtype) into x; the gradient flows to src. */
export function copy_(x: Tensor, src: Tensor): Tensor {
  if (!(src instanceof Tensor)) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `copy_: expected a Tensor source, got ${typeof src}; use fill_(value) for a number`,
    );
  }
  return inPlace('copy_', x, [src], () => expand(to(src, x.dtype), x.shape));
}

/** Sets every element to `value` (a number or a one-element tensor, whose gradient is the sum). */
export function fill_(x: Tensor, value: number | Tensor): Tensor {
  if (value instanceof Tensor) {
    if (value.ndim !== 0) {
      throw new NodegradError(
        'ERR_NODEGRAD_SHAPE',
        `fill_: expected a number or a 0-d tensor, got shape ${formatShape(value.shape)}`,
      );
    }
    return inPlace('fill_', x, [value], () => expand(to(value, x.dtype), x.shape));
  }
  return inPlace('fill_', x, [], () => full(x.shape, value, { dtype: x.dtype }));
}

/** Sets every element to 0, as torch.Tensor.zero_. */
export function zero_(x: Tensor): Tensor {
  return inPlace('zero_', x, [], () => full(x.shape, 0, { dtype: x.dtype }));
}

/** A float tensor of x's shape filled by `fill`, for the random in-place fills. */
function sampled(name: string, x: Tensor, fill: (out: Float32Array | Float64Array) => void): Tensor {
  if (x.dtype === 'int32') {
    throw new NodegradError('ERR_NODEGRAD_DTYPE', `${name}: expected a float tensor, got int32`);
  }
  const t = uninitTensor(x.shape, x.dtype);
  fill(t.storage.data as Float32Array | Float64Array);
  return t;
}

/** Fills x with samples of N(mean, std²) from the seeded generator. */
export function normal_(x: Tensor, mean = 0, std = 1): Tensor {
  if (!(std >= 0) || !Number.isFinite(mean)) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `normal_: expected a finite mean and std >= 0, got mean ${mean} and std ${std}`,
    );
  }
  return inPlace('normal_', x, [], () => sampled('normal_', x, (out) => fillNormal(out, mean, std)));
}

/** Fills x with samples of U(from, to) from the seeded generator. */
export function uniform_(x: Tensor, from = 0, to = 1): Tensor {
  if (!(from <= to) || !Number.isFinite(from) || !Number.isFinite(to)) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `uniform_: expected finite from <= to, got from ${from} and to ${to}`,
    );
  }
  return inPlace('uniform_', x, [], () => sampled('uniform_', x, (out) => fillUniform(out, from, to)));
}

/** Sets each element to 1 with probability p (a number or a tensor broadcast to x's shape), else 0. */
export function bernoulli_(x: Tensor, p: number | Tensor = 0.5): Tensor {
  const probs = p instanceof Tensor ? expand(p, x.shape).data() : [p];
  checkProbabilities('bernoulli_', probs);
  return inPlace('bernoulli_', x, [], () => {
    const out = full(x.shape, 0, { dtype: x.dtype });
    const data = out.storage.data;
    for (let i = 0; i < data.length; i++) data[i] = nextUniform() < probs[probs.length === 1 ? 0 : i] ? 1 : 0;
    return out;
  });
}
