/**
 * Reverse-mode backward over the graph of Nodes. Nodes run in reverse topological order, so each
 * node's upstream gradient is complete (summed over all its consumers) before it runs, and each
 * local gradient is computed exactly once. Which buffer holds which gradient, and when a buffer
 * goes back to the pool, is GradientBuffers' concern.
 */
import { NodegradError, formatShape } from '../errors.js';
import { sameShape } from '../tensor/shape.js';
import { storageSerial, trackAllocations } from '../tensor/storage.js';
import { Tensor, zerosTensor } from '../tensor/tensor.js';
import { enableGrad, noGrad } from './grad-mode.js';
import { EphemeralRelease } from './ephemeral.js';
import { accumulateLeaf, GradientBuffers, type Route } from './gradient-buffers.js';
import {
  anyPostAccumulateGradHooks,
  hasHooks,
  hasPostAccumulateGradHooks,
  hookedTensor,
  retainsGrad,
  runHooks,
  runPostAccumulateGradHooks,
} from './hooks.js';
import { Node } from './node.js';

/** Options of {@link backward} and Tensor.backward. */
export interface BackwardOptions {
  /** Keep saved tensors so backward can run through this graph again. Default: createGraph. */
  retainGraph?: boolean;
  /** Record the backward pass itself, so the gradients can be differentiated again. */
  createGraph?: boolean;
}

/** Nodes reachable from `roots`, each after every node that consumes its output. */
function topologicalOrder(roots: readonly Node[]): Node[] {
  const order: Node[] = [];
  const visited = new Set<Node>();
  for (const root of roots) {
    if (visited.has(root)) continue;
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
  }
  return order.reverse();
}

function checkGradientShapes(node: Node, grads: readonly (Tensor | null)[]): void {
  node.inputs.forEach((input, i) => {
    const g = grads[i];
    if (g && input.requiresGrad && !sameShape(g.shape, input.shape)) {
      throw new NodegradError(
        'ERR_NODEGRAD_AUTOGRAD',
        `backward: ${node.name} returned a gradient of shape ${formatShape(g.shape)} for input ${i} ` +
          `of shape ${formatShape(input.shape)}`,
      );
    }
  });
}

/**
 * Under createGraph, a node whose backward is not built from recorded ops: its gradients are
 * computed once and marked so that differentiating them again names the op.
 */
function onceDifferentiable(node: Node, g: Tensor): readonly (Tensor | null)[] {
  const grads = noGrad(() => node.apply(g));
  const sources = [g, ...node.inputs];
  if (!sources.some((t) => t.requiresGrad)) return grads;
  return grads.map((gi) => {
    if (!gi) return null;
    const out = new Tensor(gi.storage, gi.shape, gi.strides, gi.offset);
    out.gradFn = new Node(
      `${node.name}Backward`,
      sources,
      () => {
        throw new NodegradError(
          'ERR_NODEGRAD_AUTOGRAD',
          `backward: double backward not supported for ${node.name}; its gradient was computed with createGraph ` +
            'but cannot be differentiated again',
        );
      },
      [],
    );
    out.requiresGrad = true;
    return out;
  });
}

/** What one walk computes gradients for; `targets` (autograd.grad's inputs) capture instead of accumulating. */
export interface WalkRequest {
  roots: readonly Tensor[];
  seeds: readonly Tensor[];
  retainGraph: boolean;
  createGraph: boolean;
  targets?: readonly Tensor[];
  /** The seeds are the walk's to recycle once consumed (the gradient a checkpoint node was handed). */
  seedsOwned?: boolean;
}

/** The gradient of the node running now, when its walk owns it alone (else null). */
let handOver: Tensor | null = null;

/** Nodes whose inputs lead to a target (so their backward must run); all nodes when there are none. */
function nodesToRun(order: readonly Node[], targets: readonly Tensor[] | undefined): Set<Node> {
  if (!targets) return new Set(order);
  const targetKeys = new Set<Node | Tensor>(targets.map((t) => t.gradFn ?? t));
  const leads = new Set<Node>();
  const run = new Set<Node>();
  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i];
    if (node.inputs.some((t) => targetKeys.has(t.gradFn ?? t) || (t.gradFn && leads.has(t.gradFn)))) {
      run.add(node);
      leads.add(node);
    }
    if (targetKeys.has(node)) leads.add(node);
  }
  return run;
}

/** For each node, the leaves with post-accumulate hooks it is the last (in run order) to feed. */
function lastConsumers(order: readonly Node[]): Map<Node, Tensor[]> {
  const last = new Map<Tensor, Node>();
  for (const node of order) {
    for (const input of node.inputs) if (!input.gradFn && hasPostAccumulateGradHooks(input)) last.set(input, node);
  }
  const byNode = new Map<Node, Tensor[]>();
  for (const [leaf, node] of last) byNode.set(node, [...(byNode.get(node) ?? []), leaf]);
  return byNode;
}

/** Runs each needed node once with its fully summed gradient; returns the targets' gradients. */
function walk(request: WalkRequest): Map<Tensor, Tensor> {
  const { roots, seeds, retainGraph, createGraph, targets } = request;
  const buffers = new GradientBuffers(createGraph);
  const captured = new Map<Tensor, Tensor>();
  const order = topologicalOrder(roots.flatMap((r) => (r.gradFn ? [r.gradFn] : [])));
  const run = nodesToRun(order, targets);
  const ephemeral = retainGraph ? null : new EphemeralRelease(order, walkStarts.at(-2) ?? -1);
  const targetKeys = new Set<Node | Tensor>((targets ?? []).map((t) => t.gradFn ?? t));
  // Leaves given a gradient as nodes run; their post-accumulate hooks run after their last consumer.
  const finishing = !targets && anyPostAccumulateGradHooks() ? lastConsumers(order) : null;
  const given = new Set<Tensor>();
  const route = (input: Tensor): Route => {
    if (input.gradFn) return run.has(input.gradFn) || targetKeys.has(input.gradFn) ? 'hold' : 'drop';
    if (targets) return targetKeys.has(input) ? 'hold' : 'drop';
    if (createGraph || hasHooks(input)) return 'hold';
    if (finishing) given.add(input);
    return 'give';
  };
  const finish = (node: Node): void => {
    for (const leaf of finishing?.get(node) ?? []) if (given.delete(leaf)) runPostAccumulateGradHooks(leaf);
  };
  // A gradient complete for a tensor: hooks, then capture (autograd.grad) or retainGrad (backward).
  // Returns what flows on.
  const arrive = (key: Node | Tensor, g: Tensor): Tensor => {
    // A hook may keep the gradient it is given (as Grad-CAM does): it must not go back to the pool.
    if (hasHooks(key)) buffers.disown(g);
    const out = runHooks(key, g);
    const tensor = targets ? targets.find((t) => (t.gradFn ?? t) === key) : undefined;
    if (tensor) captured.set(tensor, buffers.keep(out));
    else if (!targets && retainsGrad(key)) {
      const owner = hookedTensor(key);
      if (owner) owner.grad = buffers.keep(out);
    }
    return out;
  };
  if (request.seedsOwned) for (const seed of seeds) buffers.adopt(seed);
  roots.forEach((root, i) => {
    const where = route(root);
    if (where !== 'drop') buffers.addWaiting(root.gradFn ?? root, seeds[i]);
  });
  for (const node of order) {
    const received = buffers.take(node);
    if (!received) {
      finish(node);
      continue; // no path from the outputs carries a gradient to this node
    }
    const g = arrive(node, received);
    if (!run.has(node)) continue;
    handOver = buffers.ownsAlone(g) ? g : null;
    const { grads, allocated } = buffers.own(() =>
      createGraph && !node.twiceDifferentiable ? onceDifferentiable(node, g) : node.apply(g),
    );
    handOver = null;
    // Dropping the closure frees the tensors it saved.
    if (!retainGraph) node.release();
    checkGradientShapes(node, grads);
    ephemeral?.ran(node, grads);
    buffers.deliver(node.inputs, grads, route);
    buffers.release(received, allocated);
    finish(node);
  }
  for (const leaf of buffers.heldLeaves()) {
    const g = buffers.take(leaf);
    if (!g) continue;
    const out = arrive(leaf, g);
    if (targets) continue;
    buffers.giveLeaf(leaf, out, out === g);
    runPostAccumulateGradHooks(leaf);
  }
  for (const leaf of given) runPostAccumulateGradHooks(leaf);
  return captured;
}

/** The gradient backward starts from: `grad`, or 1 for a scalar output. */
export function seedGradient(op: string, root: Tensor, grad: Tensor | null | undefined): Tensor {
  if (grad) {
    if (!sameShape(grad.shape, root.shape)) {
      throw new NodegradError(
        'ERR_NODEGRAD_SHAPE',
        `${op}: gradient shape ${formatShape(grad.shape)} does not match output shape ${formatShape(root.shape)}`,
      );
    }
    return grad;
  }
  if (root.numel !== 1) {
    throw new NodegradError(
      'ERR_NODEGRAD_AUTOGRAD',
      `${op}: grad can be implicitly created only for scalar outputs, got shape ${formatShape(root.shape)}; ` +
        'pass a gradient of the same shape',
    );
  }
  const seed = zerosTensor(root.shape, root.dtype);
  seed.storage.data.fill(1);
  return seed;
}

/** The storage serial at the start of each walk in progress, outermost first. */
const walkStarts: number[] = [];
/** Callbacks queued during each walk in progress, run when it ends. */
const walkCallbacks: (() => void)[][] = [];

/**
 * Queues `callback` to run once the backward pass in progress has finished (every gradient
 * accumulated), before backward returns, as PyTorch's `Variable._execution_engine.queue_callback`.
 * Throws when no backward is running; call it from a hook.
 */
export function queueCallback(callback: () => void): void {
  const queue = walkCallbacks.at(-1);
  if (!queue) {
    throw new NodegradError(
      'ERR_NODEGRAD_AUTOGRAD',
      'queueCallback: no backward pass is running; call it from a hook during backward',
    );
  }
  queue.push(callback);
}

/** Runs a walk in the grad mode it needs, tracking only its own allocations. */
export function runBackward(request: WalkRequest): Map<Tensor, Tensor> {
  // A backward nested inside another node's backward (checkpoint) tracks its own allocations only.
  const outerTracker = trackAllocations(null);
  walkStarts.push(storageSerial());
  const callbacks: (() => void)[] = [];
  walkCallbacks.push(callbacks);
  try {
    const run = () => {
      const captured = walk(request);
      // A callback may queue another one.
      for (let i = 0; i < callbacks.length; i++) callbacks[i]();
      return captured;
    };
    return request.createGraph ? enableGrad(run) : noGrad(run);
  } finally {
    walkCallbacks.pop();
    walkStarts.pop();
    trackAllocations(outerTracker);
  }
}

/**
 * Backward of `root` from `grad`, the gradient a node's backward was given (a checkpoint's, after
 * recomputing its segment): when the walk running that node owns `grad` alone, this nested walk
 * recycles it as soon as `root`'s node consumed it instead of when the outer node returns.
 * @internal
 */
export function backwardFromNodeGradient(root: Tensor, grad: Tensor): void {
  runBackward({ roots: [root], seeds: [grad], retainGraph: false, createGraph: false, seedsOwned: handOver === grad });
}

/**
 * Computes the gradient of `root` with respect to every leaf that requires grad and adds it to the
 * leaf's `.grad` (gradients accumulate across calls, as in PyTorch: zero them between steps), as
 * torch.autograd.backward. `grad` is the gradient of root (defaults to 1 for a one-element root).
 * The graph's saved tensors are freed afterwards unless `options.retainGraph`.
 * @param root - the tensor to differentiate; must require grad.
 * @param gradOrOptions - d(loss)/d(root), of root's shape; required unless root has one element. An options
 *   object here (no gradient) is read as `options`, as PyTorch's `loss.backward(retain_graph=True)`.
 * @param options - retainGraph (default: createGraph) and createGraph (default false).
 * @example
 * ```ts
 * const w = ng.randn([3], { requiresGrad: true });
 * const loss = w.mul(w).sum();
 * ng.backward(loss); // or loss.backward()
 * w.grad; // 2 * w
 * ```
 */
export function backward(
  root: Tensor,
  gradOrOptions?: Tensor | BackwardOptions | null,
  options: BackwardOptions = {},
): void {
  const given: unknown = gradOrOptions;
  let grad: Tensor | undefined;
  if (given instanceof Tensor) grad = given;
  else if (typeof given === 'object' && given !== null && !Array.isArray(given) && !ArrayBuffer.isView(given))
    options = { ...(given as BackwardOptions), ...options };
  else if (given !== undefined && given !== null) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `backward: expected a gradient Tensor or an options object ({ retainGraph, createGraph }), got ${Array.isArray(given) ? 'an array' : typeof given}; wrap numbers with ng.tensor`,
    );
  }
  if (!root.requiresGrad) {
    throw new NodegradError(
      'ERR_NODEGRAD_AUTOGRAD',
      'backward: tensor does not require grad and has no gradFn; create inputs with { requiresGrad: true }',
    );
  }
  const seed = seedGradient('backward', root, grad);
  const createGraph = options.createGraph ?? false;
  if (!root.gradFn && !createGraph && !hasHooks(root) && !hasPostAccumulateGradHooks(root)) {
    accumulateLeaf(root, seed);
    return;
  }
  runBackward({ roots: [root], seeds: [seed], retainGraph: options.retainGraph ?? createGraph, createGraph });
}
