// ng.models.textClassifier: shapes, padding that changes nothing, a toy task it must learn, the
// save/loadModel round trip and its option errors.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { expectClose, expectNodegradError } from '../helpers.js';

const F = ng.nn.functional;

const int32 = (rows: number[][]) => ng.tensor(rows, { dtype: 'int32' });

/** The rows of `tokens` with `extra` padding tokens (0) appended. */
const padded = (rows: number[][], extra: number) => rows.map((row) => [...row, ...Array<number>(extra).fill(0)]);

/** A deterministic generator of integers in [0, n) (a linear congruential sequence). */
function lcg(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return Math.floor((state / 2 ** 31) * n);
  };
}

/**
 * The toy task: sequences of 3 to `maxLen` tokens from 1..11, padded with 0 to maxLen; label 1
 * when token 7 appears (half of them), 0 otherwise.
 */
function toyBatch(count: number, maxLen: number, random: (n: number) => number): [number[][], number[]] {
  const rows: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < count; i++) {
    const length = 3 + random(maxLen - 2);
    const row = Array.from({ length }, () => {
      const token = 1 + random(10); // 1..10, then 7 becomes 11: no 7 yet
      return token === 7 ? 11 : token;
    });
    const label = i % 2;
    if (label === 1) row[random(length)] = 7;
    rows.push([...row, ...Array<number>(maxLen - length).fill(0)]);
    labels.push(label);
  }
  return [rows, labels];
}

describe('ng.models.textClassifier', () => {
  it('maps tokens [N, T] to logits [N, numClasses], with the default sizes', () => {
    ng.manualSeed(0);
    const model = ng.models.textClassifier({ vocabSize: 50, numClasses: 3 });
    expect(model).toBeInstanceOf(ng.models.TextClassifier);
    expect(
      model.forward(
        int32([
          [1, 2, 3, 0],
          [4, 5, 6, 7],
          [9, 0, 0, 0],
        ]),
      ).shape,
    ).toEqual([3, 3]);
    const state = model.stateDict();
    expect(state['tokenEmbedding.weight'].shape).toEqual([50, 64]);
    expect(state['positionEmbedding.weight'].shape).toEqual([512, 64]);
    expect(state['encoder.layers.0.linear1.weight'].shape).toEqual([256, 64]);
    expect(state['encoder.layers.1.linear1.weight'].shape).toEqual([256, 64]);
    expect(state['encoder.layers.2.linear1.weight']).toBeUndefined();
    expect(state['head.weight'].shape).toEqual([3, 64]);
    expect(model.encoder.layers.at(0).normFirst).toBe(true);
    // The padding row starts at zero.
    expect(Array.from(model.tokenEmbedding.weight.index(0).data()).every((v) => v === 0)).toBe(true);
  });

  it.each(['mean', 'cls'] as const)('%s pooling: appending padding leaves the logits as they were', (pooling) => {
    ng.manualSeed(1);
    const model = ng.models.textClassifier({ vocabSize: 20, numClasses: 4, dModel: 16, nhead: 2, pooling });
    model.eval();
    const rows = [
      [3, 4, 5, 0, 0],
      [6, 7, 8, 9, 10],
      [11, 0, 0, 0, 0],
    ];
    const logits = ng.noGrad(() => model.forward(int32(rows)));
    const longer = ng.noGrad(() => model.forward(int32(padded(rows, 4))));
    expect(longer.shape).toEqual([3, 4]);
    expectClose(longer.data(), logits.data(), 1e-5, 1e-5);
    // Not because the model ignores its input: another token changes the logits.
    const other = ng.noGrad(() => model.forward(int32([[3, 4, 12, 0, 0], ...rows.slice(1)])));
    expect(Math.abs(other.data()[0] - logits.data()[0])).toBeGreaterThan(1e-4);
  });

  it('gives padding no gradient', () => {
    ng.manualSeed(2);
    const model = ng.models.textClassifier({ vocabSize: 10, numClasses: 2, dModel: 8, nhead: 2, paddingIdx: 3 });
    model
      .forward(int32([[1, 2, 3, 3]]))
      .sum()
      .backward();
    const grad = model.tokenEmbedding.weight.grad;
    expect(grad).not.toBeNull();
    expect(Array.from(grad?.index(3).data() ?? []).every((v) => v === 0)).toBe(true);
    expect(Array.from(grad?.index(1).data() ?? []).some((v) => v !== 0)).toBe(true);
  });

  it('learns whether token 7 appears, to over 90% accuracy on new sequences', () => {
    ng.manualSeed(3);
    const random = lcg(12345);
    const model = ng.models.textClassifier({ vocabSize: 12, numClasses: 2, dModel: 32, nhead: 4, numLayers: 1 });
    const optimizer = new ng.optim.Adam(model.parameters(), { lr: 3e-3 });
    model.train();
    for (let step = 0; step < 100; step++) {
      const [rows, labels] = toyBatch(32, 12, random);
      optimizer.zeroGrad();
      F.crossEntropy(model.forward(int32(rows)), ng.tensor(labels, { dtype: 'int32' })).backward();
      optimizer.step();
    }
    model.eval();
    const [rows, labels] = toyBatch(400, 12, random);
    const predicted = ng.noGrad(() => model.forward(int32(rows)).argmax(1)).data();
    const correct = labels.filter((label, i) => predicted[i] === label).length;
    expect(correct / labels.length).toBeGreaterThan(0.9);
  }, 60_000);

  it('round-trips through ng.save and ng.loadModel with equal logits', () => {
    ng.manualSeed(4);
    const options = { vocabSize: 30, numClasses: 5, dModel: 16, nhead: 2, numLayers: 1, pooling: 'cls' as const };
    const model = ng.models.textClassifier(options);
    model.eval();
    const path = join(mkdtempSync(join(tmpdir(), 'nodegrad-text-classifier-')), 'model.safetensors');
    ng.save(model, path);
    const loaded = ng.loadModel<ng.models.TextClassifier>(path);
    expect(loaded).toBeInstanceOf(ng.models.TextClassifier);
    expect(loaded.options.pooling).toBe('cls');
    loaded.eval();
    const tokens = int32([
      [1, 2, 3, 4],
      [5, 6, 0, 0],
    ]);
    const expected = ng.noGrad(() => model.forward(tokens)).data();
    expect(ng.noGrad(() => loaded.forward(tokens)).data()).toEqual(expected);
  });

  it.each<[ng.models.TextClassifierOptions, string, string]>([
    [{ vocabSize: 0, numClasses: 2 }, 'vocabSize', 'got 0'],
    [{ vocabSize: 10, numClasses: 2.5 }, 'numClasses', 'got 2.5'],
    [{ vocabSize: 10, numClasses: 2, dModel: 30, nhead: 4 }, 'multiple of nhead', 'dModel 30'],
    [{ vocabSize: 10, numClasses: 2, dropout: 1 }, 'dropout', 'got 1'],
    [{ vocabSize: 10, numClasses: 2, paddingIdx: 10 }, 'paddingIdx', '[0, 10)'],
    [{ vocabSize: 10, numClasses: 2, pooling: 'max' as 'mean' }, 'pooling', '"max"'],
  ])('refuses %o', (options, name, value) => {
    expectNodegradError(
      () => ng.models.textClassifier(options),
      'ERR_NODEGRAD_ARGUMENT',
      'textClassifier',
      name,
      value,
    );
  });

  it('refuses tokens that are not [N, T ≤ maxLength], and rows of padding only', () => {
    const model = ng.models.textClassifier({ vocabSize: 10, numClasses: 2, dModel: 8, nhead: 2, maxLength: 4 });
    const shape = 'ERR_NODEGRAD_SHAPE';
    expectNodegradError(() => model.forward(int32([[1, 2, 3, 4, 5]])), shape, 'textClassifier', 'T <= 4', '[1, 5]');
    expectNodegradError(() => model.forward(ng.tensor([1, 2], { dtype: 'int32' })), shape, 'textClassifier', '[2]');
    expectNodegradError(
      () =>
        model.forward(
          int32([
            [1, 2],
            [0, 0],
          ]),
        ),
      'ERR_NODEGRAD_ARGUMENT',
      'textClassifier',
      'all padding',
    );
  });
});
