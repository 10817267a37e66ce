/**
 * autograd.grad: gradients of outputs with respect to chosen inputs, returned instead of
 * accumulated into .grad. With createGraph the backward pass is recorded, so the gradients can be
 * differentiated again (a gradient penalty's ||∇x D(x)||²).
 */
import { NodegradError, formatShape } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { runBackward, seedGradient } from './engine.js';

/** Options of {@link grad}. */
export interface GradOptions {
  /** The gradient of each output (vector-Jacobian product); may be omitted for scalar outputs. */
  gradOutputs?: Tensor | readonly (Tensor | null)[] | null;
  /** Keep saved tensors for another backward. Default: createGraph. */
  retainGraph?: boolean;
  /** Record the backward so the returned gradients require grad and can be differentiated. */
  createGraph?: boolean;
  /** Return null for an input the outputs do not depend on, instead of throwing. */
  allowUnused?: boolean;
}

function asList(value: Tensor | readonly Tensor[], what: string): readonly Tensor[] {
  const list = value instanceof Tensor ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || !list.every((t) => t instanceof Tensor)) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `autograd.grad: expected ${what} to be a Tensor or a non-empty array of Tensors`,
    );
  }
  return list;
}

/**
 * Gradients of `outputs` with respect to `inputs`, returned in input order instead of added to
 * `.grad`, as torch.autograd.grad. Every output must require grad; a scalar output needs no
 * gradOutputs. An input the outputs do not depend on throws, or gives null with `allowUnused`.
 * With `createGraph` the returned gradients are themselves differentiable.
 * @example
 * ```ts
 * const x = ng.tensor([1, 2, 3], { requiresGrad: true });
 * const y = x.pow(3).sum();
 * const [dx] = ng.autograd.grad(y, x, { createGraph: true }) as [ng.Tensor]; // 3x², differentiable
 * const [d2x] = ng.autograd.grad(dx.sum(), x); // 6x
 * ```
 */
export function grad(
  outputs: Tensor | readonly Tensor[],
  inputs: Tensor | readonly Tensor[],
  options: GradOptions = {},
): (Tensor | null)[] {
  const outs = asList(outputs, 'outputs');
  const ins = asList(inputs, 'inputs');
  const createGraph = options.createGraph ?? false;
  const given = options.gradOutputs instanceof Tensor ? [options.gradOutputs] : (options.gradOutputs ?? []);
  if (given.length > 0 && given.length !== outs.length) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `autograd.grad: got ${given.length} gradOutputs for ${outs.length} outputs`,
    );
  }
  outs.forEach((o, i) => {
    if (!o.requiresGrad) {
      throw new NodegradError(
        'ERR_NODEGRAD_AUTOGRAD',
        `autograd.grad: output ${i} of shape ${formatShape(o.shape)} does not require grad and has no gradFn`,
      );
    }
  });
  ins.forEach((x, i) => {
    if (!x.requiresGrad) {
      throw new NodegradError(
        'ERR_NODEGRAD_AUTOGRAD',
        `autograd.grad: input ${i} of shape ${formatShape(x.shape)} does not require grad`,
      );
    }
  });
  const seeds = outs.map((o, i) => seedGradient('autograd.grad', o, given[i]));
  const captured = runBackward({
    roots: outs,
    seeds,
    targets: ins,
    createGraph,
    retainGraph: options.retainGraph ?? createGraph,
  });
  return ins.map((x, i) => {
    const g = captured.get(x);
    if (g) return g;
    if (!options.allowUnused) {
      throw new NodegradError(
        'ERR_NODEGRAD_AUTOGRAD',
        `autograd.grad: input ${i} of shape ${formatShape(x.shape)} was not used in the graph of the outputs; ` +
          'pass { allowUnused: true } to get null for it',
      );
    }
    return null;
  });
}
