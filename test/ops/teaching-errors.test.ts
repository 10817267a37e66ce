// Mistakes users bring from other libraries get errors that name the fix.
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { expectNodegradError, flat } from '../helpers.js';

/** A dim passed as an options object, as a user coming from another API might write it. */
const asDim = (o: object) => o as unknown as number;

describe('a dim passed as { dim } names the positional call', () => {
  const x = ng.ones([2, 3]);
  it.each([
    ['sum', () => x.sum(asDim({ dim: 1 })), 'x.sum(1)'],
    ['mean', () => x.mean(asDim({ dim: 0, keepDim: true })), 'x.mean(0, true)'],
    ['logsumexp', () => x.logsumexp(asDim({ dim: 1 })), 'x.logsumexp(1)'],
    ['max', () => x.max(asDim({ dim: 1 })), 'ng.max(x, 1)'],
    ['argmax', () => x.argmax(asDim({ dim: 1 })), 'ng.argmax(x, 1)'],
    ['softmax', () => ng.softmax(x, asDim({ dim: 1 })), 'ng.softmax(x, 1)'],
    ['logSoftmax', () => ng.logSoftmax(x, asDim({ dim: -1 })), 'ng.logSoftmax(x, -1)'],
  ] as const)('%s', (op, call, fix) => {
    expectNodegradError(call, 'ERR_NODEGRAD_DIM', `${op}: pass the dim as a number: ${fix}`, 'options object {');
  });

  it('still accepts numbers and lists of dims', () => {
    expect(flat(x.sum([0, 1]))).toEqual([6]);
    expect(flat(x.sum(1))).toEqual([3, 3]);
  });
});

describe('crossEntropy with float class labels', () => {
  it("names target.to('int32')", () => {
    const logits = ng.zeros([4, 3]);
    const labels = ng.tensor([0, 2, 1, 1]);
    expectNodegradError(
      () => ng.crossEntropy(logits, labels),
      'ERR_NODEGRAD_DTYPE',
      'crossEntropy',
      'float32',
      "target.to('int32')",
    );
    expect(ng.crossEntropy(logits, labels.to('int32')).item()).toBeCloseTo(Math.log(3), 6);
  });

  it("keeps float probability targets of the logits' shape working", () => {
    const probs = ng.full([4, 3], 1 / 3);
    expect(ng.crossEntropy(ng.zeros([4, 3]), probs).item()).toBeCloseTo(Math.log(3), 6);
  });
});

describe('a gradient kept across optimizer.zeroGrad()', () => {
  it('says to clone() it before zeroGrad', () => {
    const w = ng.ones([2], { requiresGrad: true });
    const opt = new ng.optim.SGD([w], { lr: 0.1 });
    w.sum().backward();
    const kept = w.grad!;
    const copy = w.grad!.clone();
    opt.zeroGrad();
    expectNodegradError(
      () => kept.data(),
      'ERR_NODEGRAD_DISPOSED',
      'disposed',
      'zeroGrad()',
      'clone() it before zeroGrad()',
    );
    expect(flat(copy)).toEqual([1, 1]);
  });

  it('leaves the message of a plain dispose() unchanged', () => {
    const t = ng.ones([2]);
    t.dispose();
    let message = '';
    try {
      t.data();
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('disposed');
    expect(message).not.toContain('zeroGrad');
  });
});
