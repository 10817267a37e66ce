// Accuracy follows torch.argmax: NaN ranks highest, ties go to the lower class index (top-k too).
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { confusionMatrix, predictions, topKCorrect } from '../../lib/train/metrics.js';
import { expectNodegradError } from '../helpers.js';

const labels = (values: number[]) => ng.tensor(values, { dtype: 'int32' });

describe('metrics', () => {
  it('an all-zero or all-NaN row predicts class 0: correct only for class-0 targets', () => {
    const target = labels([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const fill of [0, NaN]) {
      const logits = ng.full([10, 10], fill);
      expect(predictions(logits)).toEqual(new Array(10).fill(0));
      expect(topKCorrect(logits, target, 1)).toBe(1);
      expect(topKCorrect(logits, target, 5)).toBe(5);
      expect(confusionMatrix(logits, target, 10).map((row) => row[0])).toEqual(new Array(10).fill(1));
    }
  });

  it('ranks NaN above every number and breaks ties by the lower index', () => {
    const logits = ng.tensor([
      [1, 3, 3, 0],
      [1, NaN, 5, NaN],
      [-Infinity, -Infinity, -Infinity, -Infinity],
      [2, 1, NaN, 2],
    ]);
    // torch.argmax gives [1, 1, 0, 2]; the top 2 are [1, 2], [1, 3], [0, 1], [2, 0].
    expect(predictions(logits)).toEqual([1, 1, 0, 2]);
    expect(topKCorrect(logits, labels([2, 3, 1, 0]), 1)).toBe(0);
    expect(topKCorrect(logits, labels([2, 3, 1, 0]), 2)).toBe(4);
    expect(topKCorrect(logits, labels([3, 2, 2, 3]), 2)).toBe(0);
    expect(topKCorrect(logits, labels([1, 1, 0, 2]), 1)).toBe(4);
  });

  it('refuses targets that are not class indices', () => {
    expectNodegradError(
      () => topKCorrect(ng.zeros([2, 3]), labels([0, 3]), 1),
      'ERR_NODEGRAD_ARGUMENT',
      'topKCorrect: target 3 at row 1',
      '[0, 3)',
    );
    expectNodegradError(
      () => confusionMatrix(ng.zeros([2, 3]), labels([0]), 3),
      'ERR_NODEGRAD_SHAPE',
      'confusionMatrix',
      '[2,3] and [1]',
    );
  });
});
