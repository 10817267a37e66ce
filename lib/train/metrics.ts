/** Classification metrics: top-k accuracy and the confusion matrix. */
import type { Tensor } from '../tensor/tensor.js';

/** How many rows of logits [N, C] have their target among the k highest scores. */
export function topKCorrect(logits: Tensor, target: Tensor, k: number): number {
  const [n, c] = logits.shape;
  const scores = logits.contiguous().data();
  const labels = target.contiguous().data();
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const row = scores.subarray(i * c, (i + 1) * c);
    const mine = row[labels[i]];
    // The target is in the top k when fewer than k classes score strictly higher.
    let higher = 0;
    for (let j = 0; j < c && higher < k; j++) if (row[j] > mine) higher++;
    if (higher < k) correct++;
  }
  return correct;
}

/** counts[true][predicted] over rows of logits [N, C]. */
export function confusionMatrix(logits: Tensor, target: Tensor, classes: number, into?: number[][]): number[][] {
  const matrix = into ?? Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  const predicted = logits.argmax(1).data();
  const labels = target.contiguous().data();
  for (let i = 0; i < labels.length; i++) matrix[labels[i]][predicted[i]]++;
  return matrix;
}
