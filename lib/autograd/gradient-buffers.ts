/**
 * Who owns which gradient buffer during one backward() call. A gradient waits here, summed over the
 * consumers that have run, until its node runs. Buffers the call allocated go back to the pool once
 * no waiting gradient refers to them: backward closures keep no references, so nothing else can. A
 * fresh dense buffer becomes a leaf's .grad without a copy.
 */
import { getBackend } from '../backend/index.js';
import { BinaryOp } from '../backend/types.js';
import { NodegradError, formatShape } from '../errors.js';
import { broadcastStrides, contiguousStrides, sameShape } from '../tensor/shape.js';
import { storageSerial, trackAllocations, type Storage } from '../tensor/storage.js';
import { uninitTensor, Tensor } from '../tensor/tensor.js';
import { add } from '../ops/elementwise.js';
import type { Node } from './node.js';

/**
 * Where a gradient for an input goes: 'give' into a leaf's .grad now, 'hold' it (summed) until
 * the engine takes it, 'drop' it (no requested gradient depends on it).
 */
export type Route = 'give' | 'hold' | 'drop';

/** Adds b into the contiguous tensor `into`, in place (b may be a strided or broadcast view). */
function addInto(into: Tensor, b: Tensor): void {
  getBackend().binary(
    BinaryOp.Add,
    into.shape,
    { data: into.storage.data, offset: into.offset, strides: into.strides },
    { data: b.storage.data, offset: b.offset, strides: broadcastStrides(b.shape, b.strides, into.shape) },
    into.storage.data,
  );
  into.storage.bump('backward');
}

/** A fresh contiguous copy of g (gradients handed to users never alias graph internals). */
export function denseCopy(g: Tensor): Tensor {
  const out = uninitTensor(g.shape, g.dtype);
  getBackend().copyStrided(
    g.shape,
    { data: g.storage.data, offset: g.offset, strides: g.strides },
    { data: out.storage.data, offset: 0, strides: contiguousStrides(g.shape) },
  );
  return out;
}

/** True when t covers its whole storage densely, so writing t writes nothing else. */
function coversStorage(t: Tensor): boolean {
  return t.isContiguous() && t.offset === 0 && t.numel === t.storage.data.length;
}

/** Adds g into leaf.grad, or makes a dense copy of g the leaf's .grad. */
export function accumulateLeaf(leaf: Tensor, g: Tensor): void {
  if (!sameShape(leaf.shape, g.shape)) {
    throw new NodegradError(
      'ERR_NODEGRAD_AUTOGRAD',
      `backward: gradient of shape ${formatShape(g.shape)} does not match its tensor's shape ${formatShape(leaf.shape)}`,
    );
  }
  if (leaf.grad) addInto(leaf.grad, g);
  else leaf.grad = denseCopy(g);
}

export class GradientBuffers {
  /** The gradient waiting for each node, or for each held leaf. */
  private readonly pending = new Map<Node | Tensor, Tensor>();
  /** Storages this call allocated: its to recycle or to hand to a leaf. */
  private readonly owned = new Set<Storage>();
  /** How many waiting gradients refer to each storage. */
  private readonly waitingOn = new Map<Storage, number>();

  /**
   * `recording`: backward is itself being recorded (createGraph). Gradients are then graph
   * tensors: sums are recorded ops, and no buffer is recycled or written in place.
   */
  constructor(private readonly recording = false) {}

  /** Makes g the gradient waiting for node (which has none yet). */
  put(node: Node | Tensor, g: Tensor): void {
    this.pending.set(node, g);
    this.waitingOn.set(g.storage, (this.waitingOn.get(g.storage) ?? 0) + 1);
  }

  /** Removes and returns node's gradient; undefined when no gradient reached it. */
  take(node: Node | Tensor): Tensor | undefined {
    const g = this.pending.get(node);
    if (!g) return undefined;
    this.pending.delete(node);
    this.waitingOn.set(g.storage, (this.waitingOn.get(g.storage) ?? 0) - 1);
    return g;
  }

  /** The leaves whose gradients are held, once every node has run. */
  heldLeaves(): Tensor[] {
    return [...this.pending.keys()].filter((key): key is Tensor => key instanceof Tensor);
  }

  /** Runs a node's backward; the storages it allocates become this call's. */
  own(backward: () => readonly (Tensor | null)[]): { grads: readonly (Tensor | null)[]; allocated: Storage[] } {
    if (this.recording) return { grads: backward(), allocated: [] };
    const allocated: Storage[] = [];
    const first = storageSerial();
    const outer = trackAllocations(allocated);
    let grads: readonly (Tensor | null)[];
    try {
      grads = backward();
    } finally {
      trackAllocations(outer);
    }
    // A nested walk (a checkpoint's) allocates untracked; the gradients it made for the node are the node's.
    for (const g of grads)
      if (g && g.storage.serial >= first && !allocated.includes(g.storage)) allocated.push(g.storage);
    for (const storage of allocated) this.owned.add(storage);
    return { grads, allocated };
  }

  /**
   * Hands a node's input gradients on: into a leaf's .grad, or to the waiting gradient of the
   * input's producer, summed with what is already there.
   */
  deliver(inputs: readonly Tensor[], grads: readonly (Tensor | null)[], route: (input: Tensor) => Route): void {
    // How many of these gradients share each storage (add returns g for both inputs).
    const shared = new Map<Storage, number>();
    for (const g of grads) if (g) shared.set(g.storage, (shared.get(g.storage) ?? 0) + 1);
    inputs.forEach((input, i) => {
      const g = grads[i];
      if (!g || !input.requiresGrad) return;
      const where = route(input);
      if (where === 'drop') return;
      if (where === 'hold') this.addWaiting(input.gradFn ?? input, g);
      else this.giveLeaf(input, g, shared.get(g.storage) === 1);
    });
  }

  /** Recycles a node's gradient and its backward's allocations, unless a waiting gradient uses them. */
  release(g: Tensor, allocated: readonly Storage[]): void {
    if (this.recording) return;
    this.recycleIfUnused(g.storage);
    for (const storage of allocated) this.recycleIfUnused(storage);
  }

  /** A copy of g that outlives this call (a captured or retained gradient). */
  keep(g: Tensor): Tensor {
    return this.recording ? g : denseCopy(g);
  }

  /** Whether this call owns g's storage and no waiting gradient shares it. */
  ownsAlone(g: Tensor): boolean {
    return !this.recording && this.owned.has(g.storage) && !this.waitingOn.get(g.storage);
  }

  /** Makes g's storage this call's to recycle: a gradient an outer call handed over. */
  adopt(g: Tensor): void {
    if (!this.recording) this.owned.add(g.storage);
  }

  /** Stops g's storage from being recycled or adopted: a hook's result may alias it. */
  disown(g: Tensor): void {
    this.owned.delete(g.storage);
  }

  /** Puts g into leaf.grad: adopted when this call owns it alone, else added or copied. */
  giveLeaf(leaf: Tensor, g: Tensor, unshared: boolean): void {
    if (this.recording) {
      leaf.grad = leaf.grad ? add(leaf.grad, g) : g;
      return;
    }
    const adoptable =
      !leaf.grad && unshared && this.owned.has(g.storage) && !this.waitingOn.get(g.storage) && coversStorage(g);
    if (!adoptable) {
      accumulateLeaf(leaf, g);
      return;
    }
    this.owned.delete(g.storage);
    leaf.grad = g.gradFn ? new Tensor(g.storage, g.shape) : g;
  }

  /** Sums g into the gradient waiting for node (or held for a leaf). */
  addWaiting(node: Node | Tensor, g: Tensor): void {
    const existing = this.pending.get(node);
    if (!existing) {
      this.put(node, g);
      return;
    }
    if (this.recording) {
      this.take(node);
      this.put(node, add(existing, g));
      return;
    }
    // Sum into a buffer this call owns alone: `existing` may alias another gradient.
    const ownedAlone =
      this.owned.has(existing.storage) && this.waitingOn.get(existing.storage) === 1 && coversStorage(existing);
    const sum = ownedAlone ? existing : denseCopy(existing);
    this.owned.add(sum.storage);
    addInto(sum, g);
    this.take(node);
    this.put(node, sum);
    this.recycleIfUnused(existing.storage);
  }

  private recycleIfUnused(storage: Storage): void {
    if (this.owned.has(storage) && !this.waitingOn.get(storage)) {
      this.owned.delete(storage);
      storage.recycle();
    }
  }
}
