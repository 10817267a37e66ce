/**
 * The line search of LBFGS's `lineSearchFn: 'strong_wolfe'`, ported step for step from PyTorch's
 * torch/optim/lbfgs.py (itself from minFunc's lswolfe): bracket a step length, then zoom in on one
 * that satisfies the strong Wolfe conditions.
 */
import type { FloatArray } from '../backend/types.js';

/** The loss and flat gradient at x + t·d, where x is the parameters the search started from. */
export type DirectionalEvaluate = (t: number, d: FloatArray) => [number, FloatArray];

/** What the line search found: the loss and gradient at step length t, and the closure calls it made. */
export interface LineSearchResult {
  loss: number;
  grad: FloatArray;
  t: number;
  evals: number;
}

/** The largest magnitude of an element of `a`, times `scale` (0 for an empty array). */
export function absMax(a: FloatArray, scale = 1): number {
  let max = 0;
  for (const v of a) max = Math.max(max, Math.abs(v * scale));
  return max;
}

/** The minimizer of the cubic through (x1, f1) and (x2, f2) with slopes g1, g2, clamped to the bounds. */
export function cubicInterpolate(
  x1: number,
  f1: number,
  g1: number,
  x2: number,
  f2: number,
  g2: number,
  bounds?: [number, number],
): number {
  const [low, high] = bounds ?? (x1 <= x2 ? [x1, x2] : [x2, x1]);
  const d1 = g1 + g2 - (3 * (f1 - f2)) / (x1 - x2);
  const d2Square = d1 * d1 - g1 * g2;
  if (d2Square < 0) return (low + high) / 2;
  const d2 = Math.sqrt(d2Square);
  const minPos =
    x1 <= x2
      ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
      : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
  return Math.min(Math.max(minPos, low), high);
}

/**
 * Searches along d from the loss f and gradient g (directional derivative gtd) for a step length
 * satisfying the strong Wolfe conditions (c1 = 1e-4, c2 = 0.9), with at most 25 evaluations, until
 * the bracket is shorter than 1e-9 along d.
 * `dot` is the parameters' dot product (rounded to their dtype, as PyTorch's 0-dim tensors are).
 */
export function strongWolfe(
  evaluate: DirectionalEvaluate,
  dot: (a: FloatArray, b: FloatArray) => number,
  start: { t: number; d: FloatArray; loss: number; grad: FloatArray; gtd: number },
): LineSearchResult {
  const [c1, c2, maxLs, toleranceChange] = [1e-4, 0.9, 25, 1e-9];
  const { d, loss: f, grad: g, gtd } = start;
  let t = start.t;
  const dNorm = absMax(d);
  // evaluate returns fresh arrays and nothing here writes into one, so no gradient needs cloning.
  let [fNew, gNew] = evaluate(t, d);
  let evals = 1;
  let gtdNew = dot(gNew, d);
  let [tPrev, fPrev, gPrev, gtdPrev] = [0, f, g, gtd];
  let done = false;
  let lsIter = 0;
  let bracket: number[] = [];
  let bracketF: number[] = [];
  let bracketG: FloatArray[] = [];
  let bracketGtd: number[] = [];
  while (lsIter < maxLs) {
    const bracketed = fNew > f + c1 * t * gtd || (lsIter > 1 && fNew >= fPrev);
    if (!bracketed && Math.abs(gtdNew) <= -c2 * gtd) {
      [bracket, bracketF, bracketG, done] = [[t], [fNew], [gNew], true];
      break;
    }
    if (bracketed || gtdNew >= 0) {
      [bracket, bracketF, bracketG, bracketGtd] = [
        [tPrev, t],
        [fPrev, fNew],
        [gPrev, gNew],
        [gtdPrev, gtdNew],
      ];
      break;
    }
    const tmp = t;
    t = cubicInterpolate(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, [t + 0.01 * (t - tPrev), t * 10]);
    [tPrev, fPrev, gPrev, gtdPrev] = [tmp, fNew, gNew, gtdNew];
    [fNew, gNew] = evaluate(t, d);
    evals += 1;
    gtdNew = dot(gNew, d);
    lsIter += 1;
  }
  if (lsIter === maxLs)
    [bracket, bracketF, bracketG] = [
      [0, t],
      [f, fNew],
      [g, gNew],
    ];

  // Zoom: shrink the bracket until a point satisfies the conditions.
  let insufficientProgress = false;
  let [lowPos, highPos] = bracketF[0] <= bracketF[bracketF.length - 1] ? [0, 1] : [1, 0];
  while (!done && lsIter < maxLs) {
    if (Math.abs(bracket[1] - bracket[0]) * dNorm < toleranceChange) break;
    t = cubicInterpolate(bracket[0], bracketF[0], bracketGtd[0], bracket[1], bracketF[1], bracketGtd[1]);
    const [low, high] = [Math.min(...bracket), Math.max(...bracket)];
    const eps = 0.1 * (high - low);
    if (Math.min(high - t, t - low) < eps) {
      // Too close to an end: after one such step, or when outside, move 10% of the bracket inside.
      if (insufficientProgress || t >= high || t <= low) {
        t = Math.abs(t - high) < Math.abs(t - low) ? high - eps : low + eps;
        insufficientProgress = false;
      } else {
        insufficientProgress = true;
      }
    } else {
      insufficientProgress = false;
    }
    [fNew, gNew] = evaluate(t, d);
    evals += 1;
    gtdNew = dot(gNew, d);
    lsIter += 1;
    if (fNew > f + c1 * t * gtd || fNew >= bracketF[lowPos]) {
      [bracket[highPos], bracketF[highPos], bracketG[highPos], bracketGtd[highPos]] = [t, fNew, gNew, gtdNew];
      [lowPos, highPos] = bracketF[0] <= bracketF[1] ? [0, 1] : [1, 0];
    } else {
      if (Math.abs(gtdNew) <= -c2 * gtd) {
        done = true;
      } else if (gtdNew * (bracket[highPos] - bracket[lowPos]) >= 0) {
        bracket[highPos] = bracket[lowPos];
        bracketF[highPos] = bracketF[lowPos];
        bracketG[highPos] = bracketG[lowPos];
        bracketGtd[highPos] = bracketGtd[lowPos];
      }
      [bracket[lowPos], bracketF[lowPos], bracketG[lowPos], bracketGtd[lowPos]] = [t, fNew, gNew, gtdNew];
    }
  }
  return { loss: bracketF[lowPos], grad: bracketG[lowPos], t: bracket[lowPos], evals };
}
