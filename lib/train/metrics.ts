/**
 * Classification metrics: top-k accuracy and the confusion matrix, ranking classes as torch.argmax
 * does: higher scores first, NaN above every number, ties to the lower class index (torch.topk
 * leaves the order of ties unspecified; this order makes top-1 equal argmax). A row is top-k correct
 * iff its target is among the first k classes, so an all-zero or all-NaN row predicts class 0 and
 * is correct only for class-0 targets.
 */
import { NodegradError } from '../errors.js';
import type { DataArray } from '../backend/types.js';
import type { Tensor } from '../tensor/tensor.js';

/** Whether class i ranks before class j in a row of scores. */
function ranksBefore(row: DataArray, i: number, j: number): boolean {
  const a = row[i];
  const b = row[j];
  if (Number.isNaN(a)) return !Number.isNaN(b) || i < j;
  if (Number.isNaN(b)) return false;
  return a > b || (a === b && i < j);
}

function rows(
  op: string,
  logits: Tensor,
  target: Tensor,
): { n: number; c: number; scores: DataArray; labels: DataArray } {
  if (logits.ndim !== 2 || target.ndim !== 1 || target.shape[0] !== logits.shape[0]) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `${op}: expected logits [N, C] and target [N], got [${logits.shape.join(',')}] and [${target.shape.join(',')}]`,
    );
  }
  const [n, c] = logits.shape;
  const labels = target.contiguous().data();
  for (let i = 0; i < n; i++) {
    if (!Number.isInteger(labels[i]) || labels[i] < 0 || labels[i] >= c) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `${op}: target ${labels[i]} at row ${i} is not a class index in [0, ${c})`,
      );
    }
  }
  return { n, c, scores: logits.contiguous().data(), labels };
}

/** The predicted class of each row of logits [N, C]: torch.argmax(logits, 1). */
export function predictions(logits: Tensor): number[] {
  const [n, c] = logits.shape;
  const scores = logits.contiguous().data();
  return Array.from({ length: n }, (_, i) => {
    const row = scores.subarray(i * c, (i + 1) * c);
    let best = 0;
    for (let j = 1; j < c; j++) if (ranksBefore(row, j, best)) best = j;
    return best;
  });
}

/** How many rows of logits [N, C] have their target among the first k classes of the ranking. */
export function topKCorrect(logits: Tensor, target: Tensor, k: number): number {
  const { n, c, scores, labels } = rows('topKCorrect', logits, target);
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const row = scores.subarray(i * c, (i + 1) * c);
    const mine = labels[i];
    let before = 0;
    for (let j = 0; j < c && before < k; j++) if (j !== mine && ranksBefore(row, j, mine)) before++;
    if (before < k) correct++;
  }
  return correct;
}

/** counts[true][predicted] over rows of logits [N, C]. */
export function confusionMatrix(logits: Tensor, target: Tensor, classes: number, into?: number[][]): number[][] {
  const { labels } = rows('confusionMatrix', logits, target);
  const matrix = into ?? Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  predictions(logits).forEach((p, i) => {
    matrix[labels[i]][p]++;
  });
  return matrix;
}
