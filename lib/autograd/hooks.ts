/**
 * Tensor hooks and retained gradients. They live beside the graph, not on Tensor: a leaf is keyed
 * by itself, a non-leaf by the node that produced it (one node makes one tensor), which is what
 * the engine holds when that tensor's gradient is complete.
 */
import { NodegradError, formatShape } from '../errors.js';
import { sameShape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Node } from './node.js';

/** Called with a tensor's summed gradient; a returned tensor replaces it. */
// eslint-disable-next-line @typescript-eslint/no-invalid-void-type -- a hook that returns nothing (void) keeps the value
export type TensorHook = (grad: Tensor) => Tensor | void | null | undefined;

/** What registerHook returns, as torch.utils.hooks.RemovableHandle. */
export interface RemovableHandle {
  /** Unregisters the hook; calling it again does nothing. */
  remove(): void;
}

interface HookState {
  readonly tensor: Tensor;
  readonly hooks: Map<number, TensorHook>;
  retain: boolean;
}

const states = new WeakMap<Node | Tensor, HookState>();
let nextId = 0;

function stateOf(t: Tensor): HookState {
  const key = t.gradFn ?? t;
  let state = states.get(key);
  if (!state) {
    state = { tensor: t, hooks: new Map(), retain: false };
    states.set(key, state);
  }
  return state;
}

export function registerHook(t: Tensor, hook: TensorHook): RemovableHandle {
  if (typeof hook !== 'function') {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `registerHook: expected a function, got ${typeof hook}`);
  }
  if (!t.requiresGrad) {
    throw new NodegradError(
      'ERR_NODEGRAD_AUTOGRAD',
      "registerHook: cannot register a hook on a tensor that doesn't require gradient",
    );
  }
  const hooks = stateOf(t).hooks;
  const id = nextId++;
  hooks.set(id, hook);
  return {
    remove: () => {
      hooks.delete(id);
    },
  };
}

/** Makes backward() fill .grad of a non-leaf tensor (leaves get it anyway). */
export function retainGrad(t: Tensor): void {
  if (!t.requiresGrad) {
    throw new NodegradError(
      'ERR_NODEGRAD_AUTOGRAD',
      "retainGrad: cannot retain the gradient of a tensor that doesn't require grad",
    );
  }
  if (t.gradFn) stateOf(t).retain = true;
}

/** The tensor registered under a node or leaf, when it has hooks or retains its gradient. */
export function hookedTensor(key: Node | Tensor): Tensor | undefined {
  const state = states.get(key);
  return state && (state.hooks.size > 0 || state.retain) ? state.tensor : undefined;
}

export function hasHooks(key: Node | Tensor): boolean {
  return (states.get(key)?.hooks.size ?? 0) > 0;
}

export function retainsGrad(key: Node | Tensor): boolean {
  return states.get(key)?.retain ?? false;
}

/** Runs the hooks of `key` in registration order, each on the previous one's result. */
export function runHooks(key: Node | Tensor, grad: Tensor): Tensor {
  const state = states.get(key);
  if (!state) return grad;
  let g = grad;
  for (const hook of [...state.hooks.values()]) {
    const replaced = hook(g);
    if (replaced == null) continue;
    if (!sameShape(replaced.shape, g.shape)) {
      throw new NodegradError(
        'ERR_NODEGRAD_SHAPE',
        `registerHook: hook returned a gradient of shape ${formatShape(replaced.shape)}, expected ${formatShape(g.shape)}`,
      );
    }
    g = replaced;
  }
  return g;
}

/** Called with a leaf once its `.grad` holds this backward's whole contribution. */
export type PostAccumulateGradHook = (leaf: Tensor) => void;

const postAccumulateHooks = new WeakMap<Tensor, Map<number, PostAccumulateGradHook>>();
let postAccumulateCount = 0;

/**
 * Registers `hook` to run after backward has accumulated the leaf's gradient into `.grad`, as PyTorch's
 * `Tensor.register_post_accumulate_grad_hook`: it runs as soon as no later node of the graph can add
 * to it, so it can start work (an allreduce) while backward goes on.
 */
export function registerPostAccumulateGradHook(t: Tensor, hook: PostAccumulateGradHook): RemovableHandle {
  if (typeof hook !== 'function') {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `registerPostAccumulateGradHook: expected a function, got ${typeof hook}`,
    );
  }
  if (!t.requiresGrad || t.gradFn) {
    throw new NodegradError(
      'ERR_NODEGRAD_AUTOGRAD',
      'registerPostAccumulateGradHook: post accumulate grad hooks can only be registered on leaf tensors ' +
        'that require grad',
    );
  }
  let hooks = postAccumulateHooks.get(t);
  if (!hooks) {
    hooks = new Map();
    postAccumulateHooks.set(t, hooks);
  }
  const id = nextId++;
  hooks.set(id, hook);
  postAccumulateCount++;
  const registered = hooks;
  return {
    remove: () => {
      if (registered.delete(id)) postAccumulateCount--;
    },
  };
}

/** Whether any post-accumulate hook is registered anywhere (lets backward skip the bookkeeping). */
export function anyPostAccumulateGradHooks(): boolean {
  return postAccumulateCount > 0;
}

export function hasPostAccumulateGradHooks(leaf: Tensor): boolean {
  return (postAccumulateHooks.get(leaf)?.size ?? 0) > 0;
}

export function runPostAccumulateGradHooks(leaf: Tensor): void {
  const hooks = postAccumulateHooks.get(leaf);
  if (hooks) for (const hook of [...hooks.values()]) hook(leaf);
}
