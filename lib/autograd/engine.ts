/**
 * Reverse-mode backward over the graph of Nodes. Nodes run in reverse topological order, so each
 * node's upstream gradient is complete (summed over all its consumers) before it runs, and each
 * local gradient is computed exactly once. Which buffer holds which gradient, and when a buffer
 * goes back to the pool, is GradientBuffers' concern.
 */
import { NodegradError, formatShape } from '../errors.js';
import { sameShape } from '../tensor/shape.js';
import { trackAllocations } from '../tensor/storage.js';
import { zerosTensor, type Tensor } from '../tensor/tensor.js';
import { noGrad } from './grad-mode.js';
import { accumulateLeaf, GradientBuffers } from './gradient-buffers.js';
import type { Node } from './node.js';

export interface BackwardOptions {
  /** Keep saved tensors so backward can run through this graph again. */
  retainGraph?: boolean;
}

function topologicalOrder(root: Node): Node[] {
  const order: Node[] = [];
  const visited = new Set<Node>();
  const stack: { node: Node; next: number }[] = [{ node: root, next: 0 }];
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (top.next < top.node.inputs.length) {
      const child = top.node.inputs[top.next++].gradFn;
      if (child && !visited.has(child)) {
        visited.add(child);
        stack.push({ node: child, next: 0 });
      }
    } else {
      order.push(top.node);
      stack.pop();
    }
  }
  return order.reverse();
}

function checkGradientShapes(node: Node, grads: readonly (Tensor | null)[]): void {
  node.inputs.forEach((input, i) => {
    const g = grads[i];
    if (g && input.requiresGrad && !sameShape(g.shape, input.shape)) {
      throw new NodegradError('ERR_NODEGRAD_AUTOGRAD',
        `backward: ${node.name} returned a gradient of shape ${formatShape(g.shape)} for input ${i} ` +
        `of shape ${formatShape(input.shape)}`);
    }
  });
}

/** Runs each node reachable from `root` once, with its fully summed gradient. */
function walk(root: Node, seed: Tensor, retainGraph: boolean): void {
  const buffers = new GradientBuffers();
  buffers.put(root, seed);
  for (const node of topologicalOrder(root)) {
    const g = buffers.take(node);
    if (!g) continue; // no path from the output carries a gradient to this node
    const { grads, allocated } = buffers.own(() => node.apply(g));
    // Dropping the closure frees the tensors it saved.
    if (!retainGraph) node.release();
    checkGradientShapes(node, grads);
    buffers.deliver(node.inputs, grads);
    buffers.release(g, allocated);
  }
}

/** The gradient backward starts from: `grad`, or 1 for a scalar output. */
function seedGradient(root: Tensor, grad: Tensor | undefined): Tensor {
  if (grad) {
    if (!sameShape(grad.shape, root.shape)) {
      throw new NodegradError('ERR_NODEGRAD_SHAPE',
        `backward: gradient shape ${formatShape(grad.shape)} does not match output shape ${formatShape(root.shape)}`);
    }
    return grad;
  }
  if (root.numel !== 1) {
    throw new NodegradError('ERR_NODEGRAD_AUTOGRAD',
      `backward: grad can be implicitly created only for scalar outputs, got shape ${formatShape(root.shape)}; ` +
      'pass a gradient of the same shape');
  }
  const seed = zerosTensor(root.shape, root.dtype);
  seed.storage.data.fill(1);
  return seed;
}

export function backward(root: Tensor, grad?: Tensor, options: BackwardOptions = {}): void {
  if (!root.requiresGrad) {
    throw new NodegradError('ERR_NODEGRAD_AUTOGRAD',
      'backward: tensor does not require grad and has no gradFn; create inputs with { requiresGrad: true }');
  }
  const seed = seedGradient(root, grad);
  const gradFn = root.gradFn;
  if (!gradFn) {
    accumulateLeaf(root, seed);
    return;
  }
  // A backward nested inside another node's backward (checkpoint) tracks its own allocations only.
  const outerTracker = trackAllocations(null);
  try {
    noGrad(() => walk(gradFn, seed, options.retainGraph ?? false));
  } finally {
    trackAllocations(outerTracker);
  }
}
