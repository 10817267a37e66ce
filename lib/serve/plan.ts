/**
 * Forward plans, for the pool's workers: the forward of an input shape seen a second time runs with
 * its native kernel calls recorded (as ng.runAsync records them) and kept by the addon; later
 * forwards of that shape write the input into the recorded input's array and run the kept kernels
 * again, without the JS op graph, then copy the output out. A forward must compute from its input
 * and the weights only (an eval-mode model: no random draws); one that reads the input's values in
 * TypeScript cannot be recorded, and its shape runs the plain forward from then on.
 *
 * A plan holds raw pointers to the arrays its kernels used, the parameters' among them, and is
 * used only while every parameter and buffer it was recorded with has the same storage version: an
 * in-place write (loadStateDict, an optimizer step) makes the next forward record again. A parameter
 * replaced by another tensor is not seen (finding it walks the module tree, which costs as much as a
 * small forward): call clear() after replacing one. The pool's workers never change their model.
 */
import { inferenceMode } from '../autograd/grad-mode.js';
import { getBackend, tryAddon, type NativeAddon } from '../backend/index.js';
import type { DataArray, DType } from '../backend/types.js';
import { NodegradError } from '../errors.js';
import type { AnyModule } from '../nn/module.js';
import { beginDeferral, endDeferral, stopRecording } from '../tensor/deferral.js';
import { dtypeOf, keepHeld, releaseHeld } from '../tensor/storage.js';
import { fromArray, Tensor } from '../tensor/tensor.js';
import { concatenate } from './batching.js';

/** A model the pool serves: one Tensor in, one Tensor out. */
export type ServedModel = AnyModule & { forward(x: Tensor): unknown };

/** A forward's output as the worker posts it. */
export interface ForwardResult {
  data: DataArray;
  shape: number[];
  dtype: DType;
}

interface Plan {
  readonly handle: object;
  /** The recorded input: each run writes the request's values into its array. */
  readonly input: DataArray;
  readonly output: Tensor;
  /** The parameters and buffers and their storage versions when recorded. */
  readonly weights: readonly (readonly [Tensor, number])[];
  /** The bytes of its own arrays (input, intermediates, output). */
  readonly bytes: number;
}

/** How many shapes keep a plan, and their arrays' bytes at most (past either, the least recently used go first). */
export const PLAN_LIMITS = { shapes: 16, bytes: 256 * 1024 * 1024 };

function checkedOutput(model: ServedModel, out: unknown): Tensor {
  if (out instanceof Tensor) return out;
  throw new NodegradError(
    'ERR_NODEGRAD_ARGUMENT',
    `serve.run: ${model.typeName}.forward returned ${typeof out}, not a Tensor; ng.serve serves Tensor → Tensor models`,
  );
}

function resultOf(out: Tensor): ForwardResult {
  // data() copies into a plain buffer of its own, which can be transferred.
  return { data: out.data(), shape: [...out.shape], dtype: out.dtype };
}

/** The addon when kernels run on it and it can keep recordings; null with the reference backend. */
function planningAddon(): NativeAddon | null {
  if (getBackend().name !== 'native') return null;
  const addon = tryAddon();
  return addon && typeof addon.deferKeep === 'function' ? addon : null;
}

function weightsOf(model: ServedModel): [Tensor, number][] {
  return [...model.parameters(), ...model.buffers()].map((t) => [t, t.storage.version]);
}

/** The plain forward under inferenceMode. */
export function plainForward(model: ServedModel, data: DataArray, shape: readonly number[]): ForwardResult {
  return inferenceMode(() => resultOf(checkedOutput(model, model.forward(fromArray(data, shape)))));
}

/** A replayed kernel's failure as a NodegradError with the addon's code and message. */
function kernelError(error: unknown): unknown {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  if (code !== 'ERR_NODEGRAD_NATIVE' && code !== 'ERR_NODEGRAD_ALLOC') return error;
  return new NodegradError(code, (error as Error).message);
}

/** The forwards of one model, by input dtype and shape: plain, or replayed from a plan. */
export class ForwardPlans {
  private readonly plans = new Map<string, Plan>();
  /** Shapes seen once (planned when seen again), and shapes whose forward cannot be recorded. */
  private readonly seen = new Set<string>();
  private readonly unplannable = new Set<string>();
  private readonly addon = planningAddon();
  /** Forwards that recorded a plan, and forwards replayed from one. */
  readonly counts = { recorded: 0, replayed: 0 };

  constructor(
    private readonly model: ServedModel,
    private readonly limits = PLAN_LIMITS,
  ) {}

  /**
   * The model's forward of `parts` (row-major arrays of one dtype, in order) concatenated and
   * viewed as `shape`; takes ownership of the parts. A replay copies them into the plan's input.
   */
  forward(parts: readonly DataArray[], shape: readonly number[]): ForwardResult {
    const key = `${dtypeOf(parts[0])}:${shape.join('x')}`;
    const addon = this.addon;
    if (!addon || this.unplannable.has(key)) return plainForward(this.model, concatenate(parts), shape);
    let plan = this.plans.get(key);
    if (plan) {
      this.plans.delete(key); // re-inserted last: the map's order is the least recently used first
      if (!this.fresh(plan)) {
        addon.planFree(plan.handle);
        plan = undefined;
      }
    } else if (!this.seen.has(key)) {
      this.seen.add(key);
      return plainForward(this.model, concatenate(parts), shape);
    }
    if (!plan) {
      const data = concatenate(parts);
      const recorded = this.record(addon, data, shape);
      if (!recorded) {
        this.unplannable.add(key);
        return plainForward(this.model, data, shape);
      }
      plan = recorded;
      this.counts.recorded++;
    } else {
      let offset = 0;
      for (const part of parts) {
        plan.input.set(part, offset);
        offset += part.length;
      }
      this.counts.replayed++;
    }
    this.plans.set(key, plan);
    this.evict(addon);
    try {
      addon.planRun(plan.handle);
    } catch (error) {
      throw kernelError(error);
    }
    return resultOf(plan.output);
  }

  /** Drops every plan (their arrays are freed with them): needed after a parameter or buffer is replaced. */
  clear(): void {
    for (const plan of this.plans.values()) this.addon?.planFree(plan.handle);
    this.plans.clear();
  }

  /** Shapes that have a plan now. */
  get size(): number {
    return this.plans.size;
  }

  /** Walking the module tree costs as much as a small forward's kernels: only the versions are checked. */
  private fresh(plan: Plan): boolean {
    for (const [tensor, version] of plan.weights) if (tensor.storage.version !== version) return false;
    return true;
  }

  /** The bytes the plans' own arrays hold. */
  get bytes(): number {
    let total = 0;
    for (const plan of this.plans.values()) total += plan.bytes;
    return total;
  }

  /** Drops the least recently used plans past the limits; the one just used stays. */
  private evict(addon: NativeAddon): void {
    let bytes = this.bytes;
    for (const [key, plan] of this.plans) {
      if (this.plans.size === 1 || (this.plans.size <= this.limits.shapes && bytes <= this.limits.bytes)) return;
      this.plans.delete(key);
      bytes -= plan.bytes;
      addon.planFree(plan.handle);
    }
  }

  /**
   * Records the forward of `shape` (its kernels are kept, not run); null when the forward reads
   * values in TypeScript and so cannot be recorded. Other errors of the forward are thrown.
   */
  private record(addon: NativeAddon, data: DataArray, shape: readonly number[]): Plan | null {
    const weights = weightsOf(this.model);
    addon.deferBegin();
    // The input counts as not computed yet: TypeScript that reads its values (to check indices, to
    // branch) would bake this request's values into the plan, so it refuses and the shape runs plain.
    beginDeferral((array) => array.buffer === data.buffer || addon.deferPending(array));
    let kept: object | null = null;
    try {
      const input = fromArray(data, shape);
      const output = inferenceMode(() => checkedOutput(this.model, this.model.forward(input)));
      stopRecording();
      kept = addon.deferKeep();
      // The weights' arrays are the model's, not the plan's (views of one buffer do not overlap).
      const shared = weights.reduce((sum, [tensor]) => sum + tensor.storage.byteLength, 0);
      const bytes = Math.max(0, addon.planBytes(kept) - shared);
      return { handle: kept, input: input.storage.data, output, weights, bytes };
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ERR_NODEGRAD_DEFERRED') return null;
      throw error;
    } finally {
      if (kept) {
        endDeferral();
        keepHeld();
      } else {
        stopRecording();
        addon.planFree(addon.deferKeep()); // the recorded kernels are dropped unrun
        endDeferral();
        releaseHeld();
      }
    }
  }
}
