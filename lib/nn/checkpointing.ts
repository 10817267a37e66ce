/**
 * Recomputation over a Sequential: checkpointSequential cuts it into equal segments, and
 * checkpointByBudget chooses the segments from a profiled forward so that what training keeps fits a
 * memory budget with the least recomputed work.
 */
import { checkpoint } from '../autograd/checkpoint.js';
import { enableGrad } from '../autograd/grad-mode.js';
import { NodegradError } from '../errors.js';
import { reachableStorages, tidy } from '../tensor/scope.js';
import { trackAllocations, type Storage } from '../tensor/storage.js';
import { Tensor } from '../tensor/tensor.js';
import { fusesWithRelu, markGraphOnly, ReLU, runChain, Sequential } from './layers.js';
import { Module } from './module.js';

function isInplaceReLU(layer: unknown): boolean {
  return layer instanceof ReLU && Boolean(layer.options.inplace);
}

/**
 * runChain(part, x), whose storages that the output's graph reads are marked for release by backward
 * once their readers ran: in a recomputation no user code holds them, not even a block's inner
 * activations (a ResNet BasicBlock's conv → BN → ReLU) that runChain itself leaves to the collector.
 */
function runReleasing(part: readonly Module[], x: Tensor): Tensor {
  const created: Storage[] = [];
  const outer = trackAllocations(created);
  let out: Tensor;
  try {
    out = runChain(part, x);
  } finally {
    trackAllocations(outer);
    outer?.push(...created);
  }
  const read = reachableStorages(out);
  for (const storage of created) {
    const inner = storage !== x.storage && storage !== out.storage;
    if (inner && read.has(storage) && !storage.kept && !storage.disposed) storage.ephemeral = true;
  }
  return out;
}

/** Runs `layers` as segments starting at `starts`, checkpointing those marked; returns the output. */
function runSegments(
  layers: readonly Module[],
  starts: readonly number[],
  checkpointed: readonly boolean[],
  input: Tensor,
): Tensor {
  let h = input;
  starts.forEach((start, i) => {
    const part = layers.slice(start, starts[i + 1] ?? layers.length);
    const next = checkpointed[i] ? checkpoint((x) => runReleasing(part, x), h) : runChain(part, h);
    markGraphOnly(h, next, input);
    h = next;
  });
  return h;
}

/**
 * Runs a Sequential in `segments` pieces, checkpointing all but the last: only each segment's input
 * is kept for backward, the rest is recomputed (√depth segments is the usual balance), as PyTorch's
 * `torch.utils.checkpoint.checkpoint_sequential`.
 */
export function checkpointSequential(seq: Sequential, segments: number, input: Tensor): Tensor {
  const layers = seq.layers();
  if (!Number.isInteger(segments) || segments < 1) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `checkpointSequential: segments must be a positive integer, got ${segments}`,
    );
  }
  const size = Math.ceil(layers.length / segments);
  // Segment starts; an in-place layer never starts one (it would overwrite the segment's saved input).
  const starts: number[] = [];
  for (let b = 0; b < layers.length; b += size) {
    let start = b;
    while (start > 0 && start < layers.length && isInplaceReLU(layers[start])) start++;
    if (start < layers.length && !starts.includes(start)) starts.push(start);
  }
  return runSegments(
    layers,
    starts,
    starts.map((_, i) => i < starts.length - 1),
    input,
  );
}

/** What one unit (a layer, or a Conv2d/Linear and its fused ReLU) costs in a recorded forward. */
interface UnitProfile {
  /** Index of the unit's first layer. */
  start: number;
  /** Bytes of the storages the unit created that backward reads (activations and saved tensors). */
  keptBytes: number;
  /** Bytes of the unit's output. */
  outputBytes: number;
  /** Milliseconds of the unit's forward. */
  ms: number;
}

/** One segment of a CheckpointPlan. */
export interface CheckpointSegment {
  /** Index of its first layer in the Sequential. */
  start: number;
  /** Index after its last layer. */
  end: number;
  /** Whether backward recomputes it (only its input is kept) or it is kept whole. */
  checkpointed: boolean;
}

/** The segments checkpointByBudget chose, with the estimates it chose them by. */
export interface CheckpointPlan {
  /** The segments in order, covering every layer. */
  segments: CheckpointSegment[];
  /** Bytes the forward keeps for backward (the plain segments' activations, the checkpointed ones' outputs). */
  keptBytes: number;
  /** keptBytes plus the largest checkpointed segment's activations and two gradients while its backward runs. */
  peakBytes: number;
  /** Bytes of activations backward recomputes (the checkpointed segments' activations, summed). */
  recomputedBytes: number;
  /** The plain forward's kept bytes, for comparison. */
  plainKeptBytes: number;
  /** The share of the forward's time that backward repeats (0 = nothing recomputed). */
  recomputedTimeShare: number;
}

/** Options of checkpointByBudget. */
export interface CheckpointBudgetOptions {
  /**
   * The most bytes of activations and gradients a training step may hold: what the forward keeps
   * for backward, one checkpointed segment's recomputation and the gradients in flight. The loss's
   * own tensors and the parameters' gradients come on top.
   */
  maxBytes: number;
}

/** Records one plain forward of `layers` unit by unit; every tensor it made is released after. */
function profile(layers: readonly Module[], x: Tensor): UnitProfile[] {
  return tidy(() =>
    enableGrad(() => {
      const units: (UnitProfile & { created: Storage[] })[] = [];
      let h = x.detach();
      h.requiresGrad = x.dtype === 'float32' || x.dtype === 'float64';
      for (let i = 0; i < layers.length;) {
        const size = fusesWithRelu(layers[i], layers[i + 1]) ? 2 : 1;
        const part = layers.slice(i, i + size);
        const created: Storage[] = [];
        const outer = trackAllocations(created);
        const t0 = performance.now();
        let out: Tensor;
        try {
          out = runChain(part, h);
        } finally {
          trackAllocations(outer);
        }
        units.push({
          start: i,
          keptBytes: 0,
          outputBytes: out.storage.byteLength,
          ms: performance.now() - t0,
          created,
        });
        h = out;
        i += size;
      }
      const reached = reachableStorages(h);
      return units.map(({ created, ...unit }) => ({
        ...unit,
        keptBytes: created.filter((s) => reached.has(s)).reduce((n, s) => n + s.byteLength, 0),
      }));
    }),
  );
}

interface Choice {
  ends: number[];
  checkpointed: boolean[];
  kept: number;
  peak: number;
  recomputedBytes: number;
  ms: number;
}

/**
 * The segmentation of `units` whose estimated peak fits `maxBytes` with the least recomputed time:
 * for each cap on a checkpointed segment's activations, a Lagrangian dynamic program over segment
 * ends trades recomputed time against kept bytes (binary search on the multiplier).
 */
function plan(units: readonly UnitProfile[], maxBytes: number): Choice | null {
  const n = units.length;
  const keptPrefix = [0];
  const msPrefix = [0];
  for (const u of units) {
    keptPrefix.push(keptPrefix[keptPrefix.length - 1] + u.keptBytes);
    msPrefix.push(msPrefix[msPrefix.length - 1] + u.ms);
  }
  const segKept = (a: number, b: number): number => keptPrefix[b] - keptPrefix[a];
  // Backward holds a unit's incoming and outgoing gradient at once, whatever the segments.
  const gradientBytes = 2 * Math.max(0, ...units.map((u) => u.outputBytes));
  const segMs = (a: number, b: number): number => msPrefix[b] - msPrefix[a];

  const solve = (cap: number, lambda: number): Choice => {
    const cost = new Array<number>(n + 1).fill(Infinity);
    const from = new Array<number>(n + 1).fill(-1);
    const ckpt = new Array<boolean>(n + 1).fill(false);
    cost[0] = 0;
    for (let b = 1; b <= n; b++) {
      for (let a = 0; a < b; a++) {
        if (!Number.isFinite(cost[a])) continue;
        const plain = cost[a] + lambda * segKept(a, b);
        if (plain < cost[b]) [cost[b], from[b], ckpt[b]] = [plain, a, false];
        if (segKept(a, b) <= cap) {
          const recompute = cost[a] + segMs(a, b) + lambda * units[b - 1].outputBytes;
          if (recompute < cost[b]) [cost[b], from[b], ckpt[b]] = [recompute, a, true];
        }
      }
    }
    const ends: number[] = [];
    const checkpointed: boolean[] = [];
    for (let b = n; b > 0; b = from[b]) {
      ends.unshift(b);
      checkpointed.unshift(ckpt[b]);
    }
    let kept = 0;
    let largest = 0;
    let recomputedBytes = 0;
    let ms = 0;
    ends.forEach((b, i) => {
      const a = i === 0 ? 0 : ends[i - 1];
      if (checkpointed[i]) {
        kept += units[b - 1].outputBytes;
        largest = Math.max(largest, segKept(a, b));
        recomputedBytes += segKept(a, b);
        ms += segMs(a, b);
      } else kept += segKept(a, b);
    });
    return { ends, checkpointed, kept, peak: kept + largest + gradientBytes, recomputedBytes, ms };
  };

  const caps = [...new Set(units.flatMap((_, a) => units.map((__, j) => (j >= a ? segKept(a, j + 1) : -1))))]
    .filter((c) => c >= 0 && c <= maxBytes)
    .sort((x, y) => x - y);
  const step = Math.max(1, Math.floor(caps.length / 64));
  let best: Choice | null = null;
  for (let c = 0; c < caps.length; c += step) {
    const cap = caps[c];
    // λ = 0 recomputes nothing; a large λ keeps the fewest bytes. Find the smallest λ that fits.
    let lo = 0;
    let hi = 1;
    while (solve(cap, hi).peak > maxBytes && hi < 1e12) hi *= 4;
    for (let k = 0; k < 40; k++) {
      const mid = (lo + hi) / 2;
      if (solve(cap, mid).peak > maxBytes) lo = mid;
      else hi = mid;
    }
    const choice = solve(cap, hi);
    if (choice.peak <= maxBytes && (!best || choice.ms < best.ms)) best = choice;
  }
  return best;
}

/**
 * A Sequential run in the segments checkpointByBudget chose (see there); `plan` says which and what
 * they cost. The first forward (and one for each new input shape) profiles the net first.
 */
export class BudgetCheckpointed extends Module {
  /** The chosen segments and their estimated memory; null until the first forward. */
  plan: CheckpointPlan | null = null;
  private planShape = '';
  private starts: number[] = [];
  private recomputed: boolean[] = [];

  /**
   * @param model - The Sequential to run.
   * @param options - The memory budget.
   */
  constructor(
    readonly model: Sequential,
    readonly options: CheckpointBudgetOptions,
  ) {
    super();
  }

  /** `x` through the model, with the chosen segments recomputed in backward. */
  forward(x: Tensor): Tensor {
    const layers = this.model.layers();
    const shape = `${x.dtype}:${x.shape.join(',')}`;
    if (shape !== this.planShape) this.choose(layers, x, shape);
    return runSegments(layers, this.starts, this.recomputed, x);
  }

  private choose(layers: readonly Module[], x: Tensor, shape: string): void {
    const units = profile(layers, x).filter((u) => !isInplaceReLU(layers[u.start]));
    const plainKept = units.reduce((n, u) => n + u.keptBytes, 0);
    const choice = plan(units, this.options.maxBytes);
    if (!choice) {
      const smallest = Math.min(...units.map((u) => u.outputBytes + u.keptBytes));
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `checkpointByBudget: no segmentation keeps within maxBytes = ${this.options.maxBytes} for input ` +
          `[${x.shape.join(', ')}] (plain training keeps ${plainKept} bytes; a single layer already needs about ` +
          `${smallest}); raise the budget or shrink the batch`,
      );
    }
    this.starts = choice.ends.map((_, i) => (i === 0 ? 0 : units[choice.ends[i - 1]].start));
    this.recomputed = choice.checkpointed;
    const totalMs = units.reduce((n, u) => n + u.ms, 0);
    this.plan = {
      segments: this.starts.map((start, i) => ({
        start,
        end: this.starts[i + 1] ?? layers.length,
        checkpointed: choice.checkpointed[i],
      })),
      keptBytes: choice.kept,
      peakBytes: choice.peak,
      recomputedBytes: choice.recomputedBytes,
      plainKeptBytes: plainKept,
      recomputedTimeShare: totalMs > 0 ? choice.ms / totalMs : 0,
    };
    this.planShape = shape;
  }
}

/**
 * Wraps a Sequential so that training keeps at most `maxBytes` for backward: a profiled forward
 * measures what each layer keeps and costs, and the segments to recompute are chosen to fit the
 * budget with the least recomputed time (checkpointSequential's √n equal segments are one such
 * choice; here the budget decides). Gradients equal the plain run's.
 *
 * @param model - The Sequential to run.
 * @param options - `maxBytes`: the most bytes kept for backward, a checkpointed segment's recomputation included.
 * @example
 * ```ts
 * const net = ng.nn.checkpointByBudget(model, { maxBytes: 64 * 2 ** 20 });
 * const loss = F.crossEntropy(net.forward(x), y);
 * loss.backward();
 * net.plan; // { segments, keptBytes, peakBytes, recomputedBytes, ... }
 * ```
 */
export function checkpointByBudget(model: Sequential, options: CheckpointBudgetOptions): BudgetCheckpointed {
  if (!(model instanceof Sequential)) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', 'checkpointByBudget: expected a Sequential model');
  }
  const maxBytes: unknown = options.maxBytes;
  if (typeof maxBytes !== 'number' || !(maxBytes > 0)) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `checkpointByBudget: maxBytes must be a positive number of bytes, got ${String(maxBytes)}`,
    );
  }
  return new BudgetCheckpointed(model, options);
}
