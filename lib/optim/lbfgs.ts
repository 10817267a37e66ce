/** L-BFGS (Liu & Nocedal, 1989) as PyTorch's, ported from torch/optim/lbfgs.py. */
import { enableGrad } from '../autograd/grad-mode.js';
import type { FloatArray } from '../backend/types.js';
import { NodegradError } from '../errors.js';
import { denseArray } from '../ops/shape.js';
import { arrayFor } from '../tensor/storage.js';
import { fromArray, type Tensor } from '../tensor/tensor.js';
import { writeInPlace } from '../tensor/write.js';
import { checkNumber, Optimizer, type ParamGroupInput, type ParamState } from './optimizer.js';
import { roundingOf } from './state-arrays.js';
import { absMax, strongWolfe } from './strong-wolfe.js';

/** The options of LBFGS (PyTorch's keyword arguments in camelCase). */
export interface LBFGSOptions {
  /** The step length (the first iteration of the first step scales it by min(1, 1 / ‖g‖₁)). Default 1. */
  lr: number;
  /** The most iterations per step() call. Default 20. */
  maxIter: number;
  /** The most closure calls per step() call. Default ⌊maxIter · 5 / 4⌋. */
  maxEval: number;
  /** Stop when every gradient element is at most this in magnitude. Default 1e-7. */
  toleranceGrad: number;
  /** Stop when the loss, or the step, changes by less than this. Default 1e-9. */
  toleranceChange: number;
  /** The curvature pairs (s, y) kept. Default 100. */
  historySize: number;
  /** `'strong_wolfe'` for a line search, null for fixed steps of lr. Default null. */
  lineSearchFn: 'strong_wolfe' | null;
}

/** The closure LBFGS.step calls: zero the gradients, compute the loss, backward(), return the loss. */
export type LossClosure<L extends Tensor | number> = () => L;

function dotProduct(a: FloatArray, b: FloatArray): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

function absSum(a: FloatArray): number {
  let sum = 0;
  for (const v of a) sum += Math.abs(v);
  return sum;
}

/** The rows of a [k, n] state tensor as copies. */
function rows(t: Tensor): FloatArray[] {
  const [k, n] = t.shape;
  const data = denseArray(t);
  return Array.from({ length: k }, (_, i) => data.slice(i * n, (i + 1) * n));
}

/**
 * L-BFGS, as PyTorch's `torch.optim.LBFGS`: quasi-Newton steps along −H·g, with H the inverse Hessian
 * estimated from the last historySize curvature pairs, optionally with a strong-Wolfe line search.
 * step(closure) runs up to maxIter iterations, calling the closure (which must zero the gradients,
 * compute the loss, call backward() and return the loss) to re-evaluate; it returns the closure's
 * first loss. One parameter group only; all parameters of one dtype. Its state (PyTorch's keys:
 * `func_evals`, `n_iter`, `d`, `t`, `old_dirs`, `old_stps`, `ro`, `H_diag`, `prev_flat_grad`,
 * `prev_loss`) lives under the first parameter; the histories are [k, numel] tensors.
 *
 * @example
 * ```ts
 * const optimizer = new ng.optim.LBFGS(model.parameters(), { lineSearchFn: 'strong_wolfe' });
 * for (let step = 0; step < 10; step++) {
 *   optimizer.step(() => {
 *     optimizer.zeroGrad();
 *     const loss = ng.nn.functional.mseLoss(model.forward(x), y);
 *     loss.backward();
 *     return loss;
 *   });
 * }
 * ```
 */
export class LBFGS extends Optimizer<LBFGSOptions> {
  /**
   * @param params - The tensors to optimize (`model.parameters()`), or one parameter group.
   * @param options - lr (default 1), maxIter (default 20), maxEval (default ⌊maxIter · 5 / 4⌋),
   *   toleranceGrad (default 1e-7), toleranceChange (default 1e-9), historySize (default 100),
   *   lineSearchFn (default null).
   */
  constructor(params: Iterable<Tensor> | ParamGroupInput<LBFGSOptions>[], options: Partial<LBFGSOptions> = {}) {
    const maxIter = options.maxIter ?? 20;
    super(params, {
      lr: 1,
      toleranceGrad: 1e-7,
      toleranceChange: 1e-9,
      historySize: 100,
      lineSearchFn: null,
      ...options,
      maxIter,
      maxEval: options.maxEval ?? Math.floor((maxIter * 5) / 4),
    });
    if (this.paramGroups.length !== 1) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `LBFGS: supports one parameter group, got ${this.paramGroups.length}`,
      );
    }
    const dtypes = new Set(this.params.map((p) => p.dtype));
    if (dtypes.size !== 1 || !(dtypes.has('float32') || dtypes.has('float64'))) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `LBFGS: expected parameters of one float dtype, got ${[...dtypes].join(', ')}`,
      );
    }
  }

  protected validate(o: LBFGSOptions): void {
    const positiveInteger = (v: number) => Number.isInteger(v) && v > 0;
    checkNumber('LBFGS', 'learning rate', o.lr, (v) => v >= 0, 'lr >= 0');
    checkNumber('LBFGS', 'maxIter', o.maxIter, positiveInteger, 'a positive integer');
    checkNumber('LBFGS', 'maxEval', o.maxEval, positiveInteger, 'a positive integer');
    checkNumber('LBFGS', 'toleranceGrad', o.toleranceGrad, (v) => v >= 0, 'toleranceGrad >= 0');
    checkNumber('LBFGS', 'toleranceChange', o.toleranceChange, (v) => v >= 0, 'toleranceChange >= 0');
    checkNumber('LBFGS', 'historySize', o.historySize, positiveInteger, 'a positive integer');
    if ((o.lineSearchFn as unknown) !== null && o.lineSearchFn !== 'strong_wolfe') {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `LBFGS: invalid lineSearchFn ${String(o.lineSearchFn)}; expected null or 'strong_wolfe'`,
      );
    }
  }

  private get params(): Tensor[] {
    return this.paramGroups[0].params;
  }

  /** Every parameter's gradient, concatenated (zeros for a parameter without one). */
  private gatherFlatGrad(): FloatArray {
    const flat = arrayFor(
      this.params[0].dtype,
      this.params.reduce((n, p) => n + p.numel, 0),
    ) as FloatArray;
    let offset = 0;
    for (const p of this.params) {
      if (p.grad) flat.set(denseArray(p.grad), offset);
      offset += p.numel;
    }
    return flat;
  }

  /** w += t·d over the concatenated parameters. */
  private addGrad(t: number, d: FloatArray): void {
    let offset = 0;
    for (const p of this.params) {
      const start = offset;
      writeInPlace('LBFGS.step', p, (values) => {
        for (let i = 0; i < values.length; i++) values[i] += t * d[start + i];
      });
      offset += p.numel;
    }
  }

  /** Copies x (one array per parameter) back into the parameters. */
  private setParams(x: FloatArray[]): void {
    this.params.forEach((p, i) => {
      writeInPlace('LBFGS.step', p, (values) => {
        values.set(x[i]);
      });
    });
  }

  /**
   * Runs up to maxIter L-BFGS iterations and returns the closure's first loss.
   * @param closure - Zeros the gradients, computes the loss, calls backward() and returns the loss
   *   (a tensor or a number); called with gradient recording on.
   */
  step<L extends Tensor | number>(closure?: LossClosure<L>): L {
    if (!closure) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        'LBFGS.step: expected a closure that zeroes the gradients, computes the loss, calls backward() and returns it',
      );
    }
    const evaluate = (): [L, number] => {
      const value = enableGrad(closure);
      return [value, typeof value === 'number' ? value : value.item()];
    };
    const group = this.paramGroups[0];
    const { lr, maxIter, maxEval, toleranceGrad, toleranceChange, historySize } = group;
    const state = this.stateOf(this.params[0]);
    const count = (key: string) => (state[key] as number | undefined) ?? 0;
    state.func_evals = count('func_evals');
    state.n_iter = count('n_iter');

    const [origLoss, firstLoss] = evaluate();
    let loss = firstLoss;
    let currentEvals = 1;
    state.func_evals += 1;
    let flatGrad = this.gatherFlatGrad();
    if (absMax(flatGrad) <= toleranceGrad) return origLoss;

    const round = roundingOf(flatGrad);
    const dot = (a: FloatArray, b: FloatArray) => round(dotProduct(a, b));
    const history = restore(state, flatGrad.length);
    let { d, t } = history;
    const { oldDirs, oldStps, ro } = history;
    let { hDiag, prevFlatGrad, prevLoss } = history;

    for (let nIter = 1; nIter <= maxIter; nIter++) {
      state.n_iter += 1;
      if (state.n_iter === 1) {
        // The very first iteration: restore() gave an empty memory and hDiag 1; steepest descent.
        d = flatGrad.map((v) => -v);
      } else {
        // Update the curvature memory with the last step, then d = −H·g by the two-loop recursion.
        const y = flatGrad.map((v, i) => v - prevFlatGrad[i]);
        const s = d.map((v) => v * t);
        const ys = dot(y, s);
        if (ys > 1e-10) {
          if (oldDirs.length === historySize) {
            oldDirs.shift();
            oldStps.shift();
            ro.shift();
          }
          oldDirs.push(y);
          oldStps.push(s);
          ro.push(round(1 / ys));
          hDiag = round(ys / dot(y, y));
        }
        const al: number[] = [];
        const q = flatGrad.map((v) => -v);
        for (let i = oldDirs.length - 1; i >= 0; i--) {
          al[i] = round(dot(oldStps[i], q) * ro[i]);
          for (let j = 0; j < q.length; j++) q[j] -= al[i] * oldDirs[i][j];
        }
        d = q.map((v) => v * hDiag);
        for (let i = 0; i < oldDirs.length; i++) {
          const be = round(dot(oldDirs[i], d) * ro[i]);
          for (let j = 0; j < d.length; j++) d[j] += (al[i] - be) * oldStps[i][j];
        }
      }
      prevFlatGrad = flatGrad.slice();
      prevLoss = loss;

      t = state.n_iter === 1 ? Math.min(1, round(1 / round(absSum(flatGrad)))) * lr : lr;
      const gtd = dot(flatGrad, d);
      if (gtd > -toleranceChange) break;

      let lsFuncEvals = 0;
      if (group.lineSearchFn === 'strong_wolfe') {
        const xInit = this.params.map((p) => denseArray(p).slice());
        const directional = (step: number, direction: FloatArray): [number, FloatArray] => {
          this.addGrad(step, direction);
          const value = evaluate()[1];
          const grad = this.gatherFlatGrad();
          this.setParams(xInit);
          return [value, grad];
        };
        // PyTorch's search uses its own toleranceChange of 1e-9, not the group's.
        const found = strongWolfe(directional, dot, { t, d, loss, grad: flatGrad, gtd });
        [loss, flatGrad, t, lsFuncEvals] = [found.loss, found.grad, found.t, found.evals];
        this.addGrad(t, d);
      } else {
        this.addGrad(t, d);
        // The last iteration skips the re-evaluation: in a stochastic setting it would be wasted.
        if (nIter !== maxIter) {
          loss = evaluate()[1];
          flatGrad = this.gatherFlatGrad();
          lsFuncEvals = 1;
        }
      }
      currentEvals += lsFuncEvals;
      state.func_evals += lsFuncEvals;

      if (nIter === maxIter || currentEvals >= maxEval || absMax(flatGrad) <= toleranceGrad) break;
      if (absMax(d, t) <= toleranceChange) break;
      if (Math.abs(loss - prevLoss) < toleranceChange) break;
    }
    save(state, { d, t, oldDirs, oldStps, ro, hDiag, prevFlatGrad, prevLoss });
    return origLoss;
  }
}

interface History {
  d: FloatArray;
  t: number;
  oldDirs: FloatArray[];
  oldStps: FloatArray[];
  ro: number[];
  hDiag: number;
  prevFlatGrad: FloatArray;
  prevLoss: number;
}

/** The search direction, step and curvature memory of the last step() (empty before the first). */
function restore(state: ParamState, n: number): History {
  if (!('d' in state)) {
    const empty = new Float64Array(n);
    return { d: empty, t: 0, oldDirs: [], oldStps: [], ro: [], hDiag: 1, prevFlatGrad: empty, prevLoss: 0 };
  }
  return {
    d: denseArray(state.d as Tensor).slice(),
    t: state.t as number,
    oldDirs: rows(state.old_dirs as Tensor),
    oldStps: rows(state.old_stps as Tensor),
    ro: Array.from(denseArray(state.ro as Tensor)),
    hDiag: state.H_diag as number,
    prevFlatGrad: denseArray(state.prev_flat_grad as Tensor).slice(),
    prevLoss: state.prev_loss as number,
  };
}

/** Stores the history as tensors under PyTorch's keys (so stateDict/loadStateDict carry it). */
function save(state: ParamState, h: History): void {
  const n = h.d.length;
  const stack = (list: FloatArray[]) => {
    const data = arrayFor(h.d instanceof Float32Array ? 'float32' : 'float64', list.length * n) as FloatArray;
    list.forEach((row, i) => data.set(row, i * n));
    return fromArray(data, [list.length, n]);
  };
  const ro = arrayFor(h.d instanceof Float32Array ? 'float32' : 'float64', h.ro.length) as FloatArray;
  ro.set(h.ro);
  const tensors = {
    d: fromArray(h.d, [n]),
    old_dirs: stack(h.oldDirs),
    old_stps: stack(h.oldStps),
    ro: fromArray(ro, [h.ro.length]),
    prev_flat_grad: fromArray(h.prevFlatGrad, [n]),
  };
  for (const tensor of Object.values(tensors)) tensor.storage.kept = true;
  Object.assign(state, tensors, { t: h.t, H_diag: h.hDiag, prev_loss: h.prevLoss });
}
