/**
 * Memory scopes: ng.tidy(fn) releases every tensor storage created while fn runs, except what fn
 * returns, what the autograd graph of a returned tensor needs for backward, and storages marked kept
 * (ng.keep, parameters, buffers, leaf gradients, optimizer state). Released buffers go back to the
 * size-keyed pool at once, so a loop of tidy calls reuses the same memory instead of waiting for the
 * garbage collector. Scopes nest: what an inner scope returns belongs to the outer one.
 */
import { NodegradError } from '../errors.js';
import type { Node } from '../autograd/node.js';
import { currentScopeList, runInAsyncScope, setScopeList, type Storage } from './storage.js';
import { Tensor } from './tensor.js';

const reason = 'released by ng.tidy at the end of its scope; return it from the scope or ng.keep() it';

/** Marks `tensor`'s storage so that no enclosing scope releases it; returns the tensor. */
export function keep<T extends Tensor>(tensor: T): T {
  if (!((tensor as unknown) instanceof Tensor)) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `keep: expected a Tensor, got ${describe(tensor)}`);
  }
  tensor.storage.kept = true;
  return tensor;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return value.constructor.name;
  return typeof value;
}

/**
 * Every storage reachable from `root` through arrays, plain objects, maps, sets, tensors' gradients
 * and graphs (a node's inputs and saved tensors). An explicit stack: graphs can be thousands deep.
 */
export function reachableStorages(root: unknown): Set<Storage> {
  const found = new Set<Storage>();
  const seen = new Set<unknown>();
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (value === null || typeof value !== 'object' || seen.has(value)) continue;
    seen.add(value);
    if (value instanceof Tensor) {
      found.add(value.storage);
      stack.push(value.grad, value.gradFn);
    } else if (isNode(value)) {
      stack.push(...value.inputs, ...value.savedTensors);
    } else if (Array.isArray(value) || value instanceof Set) {
      for (const item of value as Iterable<unknown>) stack.push(item);
    } else if (value instanceof Map) {
      for (const [k, v] of value as Map<unknown, unknown>) stack.push(k, v);
    } else if (!ArrayBuffer.isView(value) && !(value instanceof ArrayBuffer)) {
      stack.push(...Object.values(value as Record<string, unknown>));
    }
  }
  return found;
}

function isNode(value: object): value is Node {
  return 'savedTensors' in value && 'inputs' in value;
}

/** Releases the scope's storages that `result` does not reach; hands the survivors to the outer scope. */
function closeScope(created: Storage[], outer: Storage[] | null, result: unknown): void {
  const survivors = reachableStorages(result);
  for (const storage of created) {
    if (storage.disposed) continue;
    if (storage.kept || survivors.has(storage)) outer?.push(storage);
    else storage.recycle(reason);
  }
}

/**
 * Runs `fn` and releases every tensor it created except those it returns (alone, or inside arrays,
 * plain objects, maps and sets), what the returned tensors' graphs need for backward, and tensors
 * passed to ng.keep. Parameters, registered buffers, gradients of leaves and optimizer state are
 * never released. Use it around an inference or a training step in a loop that must not grow:
 *
 * ```ts
 * for (const batch of batches) ng.tidy(() => model.forward(batch).argmax(1).data());
 * ```
 *
 * A tensor created inside and used after the scope throws ERR_NODEGRAD_DISPOSED naming the fix.
 * `fn` must be synchronous (ng.tidyAsync takes an async function). PyTorch has no equivalent: its
 * reference counting frees a tensor when the last Python reference goes; JavaScript's collector
 * gives no such moment, so the scope names it.
 */
export function tidy<T>(fn: () => T): T {
  const created: Storage[] = [];
  const outer = currentScopeList();
  const previous = setScopeList(created);
  let result: T;
  try {
    result = fn();
  } catch (error) {
    closeScope(created, outer, undefined);
    throw error;
  } finally {
    setScopeList(previous);
  }
  if (result instanceof Promise) {
    closeScope(created, outer, undefined);
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      'tidy: the function returned a Promise, whose tensors would be created after the scope closed; use ng.tidyAsync',
    );
  }
  closeScope(created, outer, result);
  return result;
}

/**
 * The async form of tidy: awaits `fn` and releases what it (and the async work it started) created
 * but did not return. The scope follows `fn` across awaits (AsyncLocalStorage), so concurrent
 * scopes and other requests' allocations stay apart.
 */
export async function tidyAsync<T>(fn: () => Promise<T>): Promise<T> {
  const created: Storage[] = [];
  const outer = currentScopeList();
  let result: T | undefined;
  try {
    result = await runInAsyncScope(created, fn);
    return result;
  } finally {
    closeScope(created, outer, result);
  }
}
