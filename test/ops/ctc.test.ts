// ctcLoss beyond the PyTorch goldens: against a brute-force sum over every alignment, float64
// gradcheck of its own backward, its relation to PyTorch's gradient, and its argument errors.
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { expectClose, flat, randomTensor } from '../helpers.js';
import { goldenCases } from '../fixtures.js';

const F = ng.nn.functional;
const int32 = (values: number[], shape?: number[]) => ng.tensor(values, { dtype: 'int32', shape });

/** p(labels | x) by enumerating all C^T frame paths, collapsing repeats and dropping blanks. */
function bruteForce(probs: number[][], labels: number[], blank: number): number {
  const T = probs.length;
  const C = probs[0].length;
  let total = 0;
  for (let code = 0; code < C ** T; code++) {
    const path = Array.from({ length: T }, (_, t) => Math.floor(code / C ** t) % C);
    const collapsed = path.filter((c, t) => c !== blank && (t === 0 || c !== path[t - 1]));
    if (collapsed.length === labels.length && collapsed.every((c, i) => c === labels[i])) {
      total += path.reduce((p, c, t) => p * probs[t][c], 1);
    }
  }
  return total;
}

describe('ctcLoss', () => {
  it('equals −log of the brute-force alignment sum, with repeats, an empty target and a non-zero blank', () => {
    const [T, N, C] = [5, 4, 3];
    const logProbs = randomTensor([T, N, C], 9).mul(2).logSoftmax(2);
    const targets = int32([1, 2, 1, 1, 0, 0, 2, 0], [N, 2]);
    const inputLengths = [5, 5, 4, 3];
    const targetLengths = [2, 2, 0, 1];
    for (const blank of [0, 2]) {
      const shifted = blank === 0 ? targets : targets.sub(1).abs().to('int32'); // labels avoid the blank
      const loss = F.ctcLoss(logProbs, shifted, inputLengths, targetLengths, { blank, reduction: 'none' });
      const p = logProbs.exp().data();
      const labels = Array.from(shifted.data());
      for (let b = 0; b < N; b++) {
        const row = (t: number) => Array.from(p.subarray((t * N + b) * C, (t * N + b + 1) * C));
        const probs = Array.from({ length: inputLengths[b] }, (_, t) => row(t));
        const expected = -Math.log(bruteForce(probs, labels.slice(2 * b, 2 * b + targetLengths[b]), blank));
        expect(loss.data()[b]).toBeCloseTo(expected, 10);
      }
    }
  });

  it('passes float64 gradcheck on raw logProbs for each reduction, with zeroInfinity on an impossible sample', () => {
    const targets = int32([1, 2, 3, 2, 2, 0, 3, 1, 1], [3, 3]);
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      const x = randomTensor([6, 3, 4], 21, 'float64', true);
      const fn = (lp: ng.Tensor) => F.ctcLoss(lp, targets, [6, 3, 5], [3, 2, 3], { reduction, zeroInfinity: true }); // sample 1 needs 3 frames for 2 2
      expect(ng.gradcheck(fn, [x])).toBe(true);
      expect(ng.gradcheck((z: ng.Tensor) => fn(z.logSoftmax(2)), [x])).toBe(true);
    }
  });

  it('is zero for an impossible sample with zeroInfinity, infinite (NaN gradient) without', () => {
    const lp = randomTensor([3, 2, 3], 5, 'float64', true);
    const targets = int32([1, 1, 2, 2], [2, 2]); // sample 1 (2 2) needs 3 frames, has 2
    const zeroed = F.ctcLoss(lp.logSoftmax(2), targets, [3, 2], [2, 2], { reduction: 'none', zeroInfinity: true });
    expect(zeroed.data()[1]).toBe(0);
    zeroed.sum().backward();
    expect(flat(lp.grad!.narrow(1, 1, 1)).every((g) => g === 0)).toBe(true);
    lp.grad = null;
    const raw = F.ctcLoss(lp, targets, [3, 2], [2, 2], { reduction: 'none' });
    expect(raw.data()[1]).toBe(Infinity);
    raw.sum().backward();
    expect(flat(lp.grad!.narrow(0, 0, 2).narrow(1, 1, 1)).every(Number.isNaN)).toBe(true);
    expect(flat(lp.grad!.narrow(1, 0, 1)).every(Number.isFinite)).toBe(true);
  });

  it("differs from PyTorch's logProbs gradient by exactly exp(logProbs) on each sample's frames", () => {
    const c = goldenCases('loss2.safetensors').find((g) => g.name === 'ctc_padded_none')!;
    const lp = ng.noGrad(() => c.t.logits.logSoftmax(2)).detach();
    lp.requiresGrad = true;
    const lengths = Array.from(c.t.input_lengths.data());
    F.ctcLoss(lp, c.t.targets, lengths, c.t.target_lengths, { reduction: 'none' }).backward(c.t.gout);
    const [T, N] = lp.shape;
    const frame = ng.tensor(
      Array.from({ length: T * N }, (_, i) => (Math.floor(i / N) < lengths[i % N] ? 1 : 0)),
      {
        shape: [T, N, 1],
        dtype: 'float64',
      },
    );
    const torchStyle = lp.grad!.add(
      ng.noGrad(() =>
        lp
          .exp()
          .mul(c.t.gout.reshape([1, N, 1]))
          .mul(frame),
      ),
    );
    expectClose(flat(torchStyle), flat(c.t.raw_grad_logp), 1e-9, 1e-10);
  });

  it('runs the CTCLoss doc example: a scalar loss and a gradient for every logit', () => {
    const ctc = new ng.nn.CTCLoss({ blank: 0 });
    const logits = ng.randn([50, 16, 20], { requiresGrad: true });
    const logProbs = logits.logSoftmax(2);
    const targets = ng.randint(1, 20, [16, 10], { dtype: 'int32' });
    const loss = ctc.forward(logProbs, targets, Array<number>(16).fill(50), Array<number>(16).fill(10));
    loss.backward();
    expect(loss.shape).toEqual([]);
    expect(Number.isFinite(loss.item())).toBe(true);
    expect(logits.grad?.shape).toEqual([50, 16, 20]);
    // Through logSoftmax each frame's gradient sums to 0.
    expectClose(flat(logits.grad!.sum(2)), new Array<number>(50 * 16).fill(0), 0, 1e-6);
  });

  it('validates its arguments with messages naming ctcLoss and the expected shapes', () => {
    const lp = randomTensor([6, 2, 4], 3).logSoftmax(2);
    const targets = int32([1, 2, 3, 1], [2, 2]);
    const cases: [() => unknown, string, string[]][] = [
      [() => F.ctcLoss(lp.reshape([12, 4]), targets, [6, 6], [2, 2]), 'ERR_NODEGRAD_SHAPE', ['[T, N, C]', '[12, 4]']],
      [() => F.ctcLoss(lp, targets, [6, 6], [2, 2], { blank: 4 }), 'ERR_NODEGRAD_ARGUMENT', ['blank', '[0, 4)']],
      [() => F.ctcLoss(lp, targets, [7, 6], [2, 2]), 'ERR_NODEGRAD_ARGUMENT', ['inputLengths', '[0, 6]', '7']],
      [() => F.ctcLoss(lp, targets, [6], [2, 2]), 'ERR_NODEGRAD_SHAPE', ['inputLengths of 2 integers']],
      [
        () => F.ctcLoss(lp, targets, [6, 6], [3, 2]),
        'ERR_NODEGRAD_SHAPE',
        ['[2, S] with S ≥ 3', '[5]', 'got int32 [2, 2]'],
      ],
      [() => F.ctcLoss(lp, targets.to('float32'), [6, 6], [2, 2]), 'ERR_NODEGRAD_SHAPE', ['int32 targets', 'float32']],
      [
        () => F.ctcLoss(lp, int32([1, 4, 3, 1], [2, 2]), [6, 6], [2, 2]),
        'ERR_NODEGRAD_ARGUMENT',
        ['label 4', '4 classes'],
      ],
      [() => F.ctcLoss(lp, targets, ng.tensor([6, 6]), [2, 2]), 'ERR_NODEGRAD_DTYPE', ['inputLengths', 'int32']],
    ];
    for (const [fn, code, fragments] of cases) {
      let caught: unknown;
      try {
        fn();
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ng.NodegradError);
      expect((caught as ng.NodegradError).code).toBe(code);
      for (const f of ['ctcLoss', ...fragments]) expect((caught as Error).message).toContain(f);
    }
  });
});
