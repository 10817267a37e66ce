/**
 * A node of the autograd graph: the op's name, its inputs, and the closure that maps the gradient
 * of its output to gradients of its inputs. The closure holds only what that backward reads; the
 * engine drops it once the node has run (unless retainGraph), which frees the saved tensors.
 */
import { NodegradError } from '../errors.js';
import type { Storage } from '../tensor/storage.js';
import type { Tensor } from '../tensor/tensor.js';
import { isGradEnabled } from './grad-mode.js';

/** Gradients for each input, in order; null where an input needs none. */
export type BackwardFn = (grad: Tensor) => readonly (Tensor | null)[];

/**
 * Ops whose backward is built from recorded ops only (or whose raw pieces have zero derivative,
 * as a 0/1 mask), so running it under createGraph records a correct graph of the gradient. Any
 * other node's gradient is computed once and cannot be differentiated again.
 */
const twiceDifferentiableOps = new Set([
  'add',
  'sub',
  'mul',
  'div',
  'pow',
  'neg',
  'exp',
  'log',
  'sqrt',
  'abs',
  'clamp',
  'relu',
  'sigmoid',
  'tanh',
  'sum',
  'expand',
  'view',
  'transpose',
  'permute',
  'squeeze',
  'unsqueeze',
  'contiguous',
  'clone',
  'to',
  'matmul',
  'linear',
  'linear+relu',
  'cat',
  'conv2d',
  'conv2d+relu',
  'conv2dInputGrad',
  'conv2dWeightGrad',
  'convTranspose2d',
]);

/**
 * A node of the autograd graph, as a torch.autograd graph node (`tensor.gradFn`): the op that made a
 * tensor, its inputs, and its backward closure. Created by ops when recording; user code reads it.
 */
export class Node {
  /** Whether running the backward with recording on yields a differentiable gradient. */
  twiceDifferentiable: boolean;
  private backwardFn: BackwardFn | null;
  private saved: { tensor: Tensor; version: number }[];
  /** Storages of the tensors this node produced (their gradFn is this node); backward may read them. */
  readonly outputs: Storage[] = [];
  /** Whether backward may read `outputs` (a checkpoint's recomputes its segment instead). */
  readsOutputs = true;

  /** A node named `name` over `inputs`; `saved` are the tensors backwardFn reads, version-checked by apply. */
  constructor(
    /** The op's name ('add', 'matmul', ...). */
    readonly name: string,
    /** The op's tensor inputs, in order. */
    readonly inputs: readonly Tensor[],
    backwardFn: BackwardFn,
    saved: readonly Tensor[],
  ) {
    this.backwardFn = backwardFn;
    this.twiceDifferentiable = twiceDifferentiableOps.has(name);
    this.saved = saved.map((tensor) => ({ tensor, version: tensor.storage.version }));
  }

  /** How many tensors this node keeps alive for its backward. */
  get savedCount(): number {
    return this.saved.length;
  }

  /** Records a storage this node produced (called when a tensor's gradFn is set to this node). */
  addOutput(storage: Storage): void {
    if (!this.outputs.includes(storage)) this.outputs.push(storage);
  }

  /** The tensors this node's backward reads (as listed when it was recorded). */
  get savedTensors(): readonly Tensor[] {
    return this.saved.map((s) => s.tensor);
  }

  /** Whether the backward closure was dropped (after a backward without retainGraph). */
  get released(): boolean {
    return this.backwardFn === null;
  }

  /** Runs the backward: input gradients from the output's; throws if released or a saved tensor changed. */
  apply(grad: Tensor): readonly (Tensor | null)[] {
    if (!this.backwardFn) {
      throw new NodegradError(
        'ERR_NODEGRAD_AUTOGRAD',
        `backward: trying to backward through the graph a second time (node ${this.name}); ` +
          'its saved tensors were freed after the first backward. Pass { retainGraph: true } to the first call.',
      );
    }
    for (const { tensor, version } of this.saved) {
      if (tensor.storage.version !== version) {
        const writer = tensor.storage.lastWriter || 'an in-place write';
        throw new NodegradError(
          'ERR_NODEGRAD_AUTOGRAD',
          `${writer}: a tensor saved for backward by ${this.name} was modified in place; clone it first ` +
            `(version ${tensor.storage.version}, expected ${version})`,
        );
      }
    }
    return this.backwardFn(grad);
  }

  /** Drops the closure and saved tensors. */
  release(): void {
    this.backwardFn = null;
    this.saved = [];
  }
}

/**
 * Attaches a graph node to `out` when recording is on and an input requires grad. `saved` lists
 * the tensors the closure reads, so in-place changes to them are caught before backward uses them.
 */
export function record(
  name: string,
  out: Tensor,
  inputs: readonly Tensor[],
  backward: BackwardFn,
  saved: readonly Tensor[] = [],
): Tensor {
  if (!isGradEnabled() || !inputs.some((t) => t.requiresGrad)) return out;
  out.gradFn = new Node(name, inputs, backward, saved);
  out.requiresGrad = true;
  return out;
}
