/**
 * Reverse-mode backward over the graph of Nodes. Nodes run in reverse topological order, so each
 * node's upstream gradient is complete (summed over all its consumers) before it runs, and each
 * local gradient is computed exactly once.
 */
import { getBackend } from '../backend/index.js';
import { BinaryOp } from '../backend/types.js';
import { NodegradError, formatShape } from '../errors.js';
import { broadcastStrides, contiguousStrides, sameShape } from '../tensor/shape.js';
import { trackAllocations, type Storage } from '../tensor/storage.js';
import { emptyTensor, uninitTensor, Tensor } from '../tensor/tensor.js';
import { noGrad } from './grad-mode.js';
import type { Node } from './node.js';

export interface BackwardOptions {
  /** Keep saved tensors so backward can run through this graph again. */
  retainGraph?: boolean;
}

/** Adds b into the contiguous tensor `into`, in place (b may be a strided or broadcast view). */
function addInto(into: Tensor, b: Tensor): void {
  getBackend().binary(BinaryOp.Add, into.shape,
    { data: into.storage.data, offset: into.offset, strides: into.strides },
    { data: b.storage.data, offset: b.offset, strides: broadcastStrides(b.shape, b.strides, into.shape) },
    into.storage.data);
  into.storage.bump('backward');
}

/** A fresh contiguous copy of g (gradients handed to users never alias graph internals). */
function denseCopy(g: Tensor): Tensor {
  const out = uninitTensor(g.shape, g.dtype);
  getBackend().copyStrided(g.shape,
    { data: g.storage.data, offset: g.offset, strides: g.strides },
    { data: out.storage.data, offset: 0, strides: contiguousStrides(g.shape) });
  return out;
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

function accumulateLeaf(leaf: Tensor, g: Tensor): void {
  if (!sameShape(leaf.shape, g.shape)) {
    throw new NodegradError('ERR_NODEGRAD_AUTOGRAD',
      `backward: gradient of shape ${formatShape(g.shape)} does not match its tensor's shape ${formatShape(leaf.shape)}`);
  }
  if (leaf.grad) addInto(leaf.grad, g);
  else leaf.grad = denseCopy(g);
}

export function backward(root: Tensor, grad?: Tensor, options: BackwardOptions = {}): void {
  if (!root.requiresGrad) {
    throw new NodegradError('ERR_NODEGRAD_AUTOGRAD',
      'backward: tensor does not require grad and has no gradFn; create inputs with { requiresGrad: true }');
  }
  let seed = grad;
  if (!seed) {
    if (root.numel !== 1) {
      throw new NodegradError('ERR_NODEGRAD_AUTOGRAD',
        `backward: grad can be implicitly created only for scalar outputs, got shape ${formatShape(root.shape)}; ` +
        'pass a gradient of the same shape');
    }
    seed = emptyTensor(root.shape, root.dtype);
    seed.storage.data.fill(1);
  } else if (!sameShape(seed.shape, root.shape)) {
    throw new NodegradError('ERR_NODEGRAD_SHAPE',
      `backward: gradient shape ${formatShape(seed.shape)} does not match output shape ${formatShape(root.shape)}`);
  }
  if (!root.gradFn) {
    accumulateLeaf(root, seed);
    return;
  }
  const pending = new Map<Node, Tensor>();
  // Storages allocated by backward closures during this call: once no pending gradient refers to
  // one, nothing else can (closures keep no references), so it goes back to the buffer pool.
  const transient = new Set<Storage>();
  const pendingRefs = new Map<Storage, number>();
  const setPending = (node: Node, g: Tensor): void => {
    pending.set(node, g);
    pendingRefs.set(g.storage, (pendingRefs.get(g.storage) ?? 0) + 1);
  };
  const takePending = (node: Node): Tensor | undefined => {
    const g = pending.get(node);
    if (!g) return undefined;
    pending.delete(node);
    pendingRefs.set(g.storage, pendingRefs.get(g.storage)! - 1);
    return g;
  };
  const recycleIfDead = (storage: Storage): void => {
    if (transient.has(storage) && !pendingRefs.get(storage)) {
      transient.delete(storage);
      storage.recycle();
    }
  };
  setPending(root.gradFn, seed);
  // A backward nested inside another node's backward (checkpoint) tracks its own allocations only.
  const outerTracker = trackAllocations(null);
  try {
    noGrad(() => run());
  } finally {
    trackAllocations(outerTracker);
  }
  function run(): void {
    for (const node of topologicalOrder(root.gradFn!)) {
      const g = takePending(node);
      if (!g) continue;
      const allocated: Storage[] = [];
      const outer = trackAllocations(allocated);
      let inputGrads: readonly (Tensor | null)[];
      try {
        inputGrads = node.apply(g);
      } finally {
        trackAllocations(outer);
      }
      for (const storage of allocated) transient.add(storage);
      if (!options.retainGraph) node.release();
      // How many of this node's input gradients share each storage (add returns g for both inputs).
      const shared = new Map<Storage, number>();
      for (const ig of inputGrads) if (ig) shared.set(ig.storage, (shared.get(ig.storage) ?? 0) + 1);
      node.inputs.forEach((input, i) => {
        const ig = inputGrads[i];
        if (!ig || !input.requiresGrad) return;
        if (!sameShape(ig.shape, input.shape)) {
          throw new NodegradError('ERR_NODEGRAD_AUTOGRAD',
            `backward: ${node.name} returned a gradient of shape ${formatShape(ig.shape)} for input ${i} ` +
            `of shape ${formatShape(input.shape)}`);
        }
        if (!input.gradFn) {
          // A fresh, dense, unshared gradient buffer becomes the leaf's .grad without a copy.
          const adoptable = !input.grad && transient.has(ig.storage) && !pendingRefs.get(ig.storage) &&
            shared.get(ig.storage) === 1 && ig.isContiguous() && ig.offset === 0 && ig.numel === ig.storage.data.length;
          if (adoptable) {
            transient.delete(ig.storage);
            input.grad = ig.gradFn ? new Tensor(ig.storage, ig.shape) : ig;
          } else {
            accumulateLeaf(input, ig);
          }
          return;
        }
        const existing = pending.get(input.gradFn);
        if (!existing) {
          setPending(input.gradFn, ig);
          return;
        }
        // Sum into a buffer this call owns: `existing` may alias another gradient.
        const owned = transient.has(existing.storage) && pendingRefs.get(existing.storage) === 1 &&
          existing.isContiguous() && existing.offset === 0 && existing.numel === existing.storage.data.length;
        const sum = owned ? existing : denseCopy(existing);
        transient.add(sum.storage);
        addInto(sum, ig);
        takePending(input.gradFn);
        setPending(input.gradFn, sum);
        recycleIfDead(existing.storage);
      });
      recycleIfDead(g.storage);
      for (const storage of allocated) recycleIfDead(storage);
    }
  }
}

