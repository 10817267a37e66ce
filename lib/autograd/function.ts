/**
 * Custom differentiable functions, as PyTorch's torch.autograd.Function: a subclass defines static
 * forward(ctx, ...args) and backward(ctx, ...grads); MyFn.apply(...args) runs forward without
 * recording its inner ops and records one node whose backward calls the subclass's.
 */
import { NodegradError, formatShape } from '../errors.js';
import { sameShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { cat } from '../ops/join.js';
import { narrow, reshape, to } from '../ops/shape.js';
import { zeros } from '../tensor/creation.js';
import { isGradEnabled, noGrad } from './grad-mode.js';
import { Node } from './node.js';

/** What forward leaves for backward. Other fields (ctx.alpha = 2) may be set freely. */
export class FunctionCtx {
  [field: string]: unknown;
  /** For each forward argument: whether it is a tensor that requires grad. */
  readonly needsInputGrad: readonly boolean[];
  private readonly saved: { tensor: Tensor | null; version: number }[] = [];
  private readonly nonDifferentiable = new Set<Tensor>();

  /** Made by {@link Function.apply}; not constructed by user code. */
  constructor(
    private readonly functionName: string,
    needsInputGrad: readonly boolean[],
  ) {
    this.needsInputGrad = needsInputGrad;
  }

  /** Keeps tensors for backward; modifying one in place afterwards makes savedTensors throw. */
  saveForBackward(...tensors: (Tensor | null)[]): void {
    for (const tensor of tensors) this.saved.push({ tensor, version: tensor ? tensor.storage.version : 0 });
  }

  /** The tensors given to saveForBackward, in order; throws if one was modified in place since. */
  get savedTensors(): (Tensor | null)[] {
    return this.saved.map(({ tensor, version }, i) => {
      if (tensor && tensor.storage.version !== version) {
        throw new NodegradError(
          'ERR_NODEGRAD_AUTOGRAD',
          `${this.functionName}: savedTensors[${i}] was modified in place after saveForBackward ` +
            `(version ${tensor.storage.version}, expected ${version}); clone it before modifying it`,
        );
      }
      return tensor;
    });
  }

  /** Marks outputs that get no gradient (indices, masks); backward receives zeros for them. */
  markNonDifferentiable(...outputs: Tensor[]): void {
    for (const t of outputs) this.nonDifferentiable.add(t);
  }

  /** Whether markNonDifferentiable was called with t. */
  isNonDifferentiable(t: Tensor): boolean {
    return this.nonDifferentiable.has(t);
  }
}

/** What a Function's backward returns: one gradient (or null) per forward argument. */
export type Gradients = Tensor | null | readonly (Tensor | null)[];
/** What a Function's forward returns: one tensor or several. */
export type ForwardResult = Tensor | readonly Tensor[];
/** The static side of a {@link Function} subclass, which {@link Function.apply} is called on. */
export interface FunctionClass {
  /** The class name, which names the graph node and errors. */
  readonly name: string;
  /** Computes the outputs from the arguments (recording off); saves what backward needs on ctx. */
  forward(ctx: FunctionCtx, ...args: never[]): ForwardResult;
  /** Maps the gradient of each output to a gradient for each forward argument (null for non-tensors). */
  backward(ctx: FunctionCtx, ...grads: Tensor[]): Gradients;
}
/** The arguments of F's forward after ctx: what F.apply takes. */
export type ForwardArgs<F extends FunctionClass> = F['forward'] extends (
  ctx: FunctionCtx,
  ...args: infer A
) => ForwardResult
  ? A
  : never;

/** Array.isArray for a readonly array type (which narrows a readonly array to any[]). */
function isList<T>(value: T | readonly T[]): value is readonly T[] {
  return Array.isArray(value);
}

function checkGradients(name: string, args: readonly unknown[], result: Gradients): (Tensor | null)[] {
  const grads: (Tensor | null)[] = isList(result) ? [...result] : [result];
  if (grads.length !== args.length) {
    throw new NodegradError(
      'ERR_NODEGRAD_AUTOGRAD',
      `${name}.backward: returned ${grads.length} gradient(s), expected ${args.length} (one per forward argument)`,
    );
  }
  grads.forEach((g, i) => {
    const arg = args[i];
    if (g == null) return;
    if (!(g instanceof Tensor)) {
      throw new NodegradError('ERR_NODEGRAD_AUTOGRAD', `${name}.backward: gradient ${i} is not a Tensor or null`);
    }
    if (!(arg instanceof Tensor)) {
      throw new NodegradError(
        'ERR_NODEGRAD_AUTOGRAD',
        `${name}.backward: returned a gradient for argument ${i}, which is not a Tensor; return null for it`,
      );
    }
    if (!sameShape(g.shape, arg.shape)) {
      throw new NodegradError(
        'ERR_NODEGRAD_SHAPE',
        `${name}.backward: gradient ${i} has shape ${formatShape(g.shape)}, expected ${formatShape(arg.shape)} (the shape of argument ${i})`,
      );
    }
  });
  return grads;
}

/** An output the node can own: a fresh tensor object when forward returned an input or a graph tensor. */
function ownable(t: Tensor, args: readonly unknown[]): Tensor {
  return t.gradFn || args.includes(t) ? new Tensor(t.storage, t.shape, t.strides, t.offset) : t;
}

/**
 * The base class of custom differentiable functions, as torch.autograd.Function. Subclasses add
 * static forward and backward (not declared here, so a subclass needs no `override`, and apply's
 * type takes its arguments and result from the subclass's forward). backward receives one gradient
 * per output (zeros for outputs marked non-differentiable) and returns one per forward argument.
 * @example
 * ```ts
 * class Exp extends ng.autograd.Function {
 *   static forward(ctx: ng.autograd.FunctionCtx, x: ng.Tensor): ng.Tensor {
 *     const y = x.exp();
 *     ctx.saveForBackward(y);
 *     return y;
 *   }
 *   static backward(ctx: ng.autograd.FunctionCtx, g: ng.Tensor): ng.Tensor {
 *     const [y] = ctx.savedTensors as [ng.Tensor];
 *     return g.mul(y);
 *   }
 * }
 * const y = Exp.apply(ng.randn([3], { requiresGrad: true }));
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-extraneous-class -- PyTorch's API: subclasses add static forward and backward
export class Function {
  /** Runs forward and records one node for the result; an array from forward gives an array. */
  static apply<F extends FunctionClass>(this: F, ...args: ForwardArgs<F>): ReturnType<F['forward']> {
    const name = this.name;
    for (const method of ['forward', 'backward'] as const) {
      if (typeof (this as Partial<FunctionClass>)[method] !== 'function') {
        throw new NodegradError(
          'ERR_NODEGRAD_AUTOGRAD',
          `${name}: a Function subclass must define static ${method}(ctx, ...)`,
        );
      }
    }
    const needsInputGrad = args.map((a: unknown) => a instanceof Tensor && a.requiresGrad);
    const ctx = new FunctionCtx(name, needsInputGrad);
    const self = this as unknown as { forward(ctx: FunctionCtx, ...rest: unknown[]): ForwardResult };
    const result = noGrad(() => self.forward(ctx, ...args));
    const many = isList(result);
    const outputs: Tensor[] = many ? [...result] : [result];
    outputs.forEach((t, i) => {
      if (!(t instanceof Tensor)) {
        throw new NodegradError('ERR_NODEGRAD_AUTOGRAD', `${name}.forward: output ${i} is not a Tensor`);
      }
    });
    const inputs = args.filter((a: unknown): a is Tensor => a instanceof Tensor);
    const positions = args.flatMap((a: unknown, i: number) => (a instanceof Tensor ? [i] : []));
    if (!isGradEnabled() || !needsInputGrad.some(Boolean)) return result as ReturnType<F['forward']>;
    const differentiable = outputs.map((t) => t.dtype !== 'int32' && !ctx.isNonDifferentiable(t));
    const callBackward = (grads: Tensor[]): (Tensor | null)[] => {
      const all = checkGradients(name, args, this.backward(ctx, ...grads));
      // A gradient in another float dtype than its input is cast, as PyTorch does.
      return positions.map((p) => {
        const g = all[p];
        const input = args[p] as Tensor;
        return g && g.dtype !== input.dtype ? to(g, input.dtype) : g;
      });
    };
    if (!many) {
      if (!differentiable[0]) return result as ReturnType<F['forward']>;
      const out = ownable(outputs[0], args);
      attach(name, out, inputs, (g) => callBackward([g]));
      return out as ReturnType<F['forward']>;
    }
    // Several outputs share one node: it produces their flattened concatenation, and each output
    // is a recorded slice of it, so an unused output's gradient arrives as zeros.
    const packed = outputs.filter((_, i) => differentiable[i]);
    if (packed.length === 0) return result as ReturnType<F['forward']>;
    const dtype = packed.some((t) => t.dtype === 'float64') ? 'float64' : 'float32';
    const flat = noGrad(() =>
      cat(
        packed.map((t) => reshape(to(t, dtype), [-1])),
        0,
      ),
    );
    const starts: number[] = [];
    let at = 0;
    for (const t of packed) {
      starts.push(at);
      at += t.numel;
    }
    attach(name, flat, inputs, (g) => {
      let k = 0;
      const grads = outputs.map((t, i) => {
        if (!differentiable[i]) return zeros(t.shape, { dtype: t.dtype === 'int32' ? dtype : t.dtype });
        const gi = reshape(narrow(g, 0, starts[k], t.numel), t.shape);
        k++;
        return to(gi, t.dtype);
      });
      return callBackward(grads);
    });
    let k = 0;
    const wrapped = outputs.map((t, i) => {
      if (!differentiable[i]) return t;
      const out = to(reshape(narrow(flat, 0, starts[k], t.numel), t.shape), t.dtype);
      k++;
      return out;
    });
    return wrapped as unknown as ReturnType<F['forward']>;
  }
}

function attach(
  name: string,
  out: Tensor,
  inputs: readonly Tensor[],
  backward: (g: Tensor) => (Tensor | null)[],
): void {
  const node = new Node(name, inputs, backward, []);
  // The user's backward is written with tensor ops, which record under createGraph.
  node.twiceDifferentiable = true;
  out.gradFn = node;
  out.requiresGrad = true;
}
