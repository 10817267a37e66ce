// In-place math: each op matches its out-of-place form on dense tensors, narrowed views and
// transposed views (writing only the view's elements), and follows PyTorch's autograd rules.
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { expectClose, expectNodegradError, flat, randomTensor } from '../helpers.js';

type Row = [string, (x: ng.Tensor) => ng.Tensor, (x: ng.Tensor) => ng.Tensor];

// Positive inputs keep log, sqrt and pow finite; `other` has shape [3] to broadcast over rows.
const other = ng.tensor([0.5, 2, -1.5], { dtype: 'float64' });
const rows: Row[] = [
  ['add_', (x) => x.add_(other), (x) => x.add(other)],
  ['add_ alpha', (x) => x.add_(other, { alpha: -0.1 }), (x) => x.add(other.mul(-0.1))],
  ['add_ number', (x) => x.add_(3), (x) => x.add(3)],
  ['sub_ alpha', (x) => x.sub_(other, { alpha: 2 }), (x) => x.sub(other.mul(2))],
  ['mul_', (x) => x.mul_(other), (x) => x.mul(other)],
  ['div_', (x) => x.div_(other), (x) => x.div(other)],
  ['pow_', (x) => x.pow_(2), (x) => x.pow(2)],
  ['pow_ tensor', (x) => x.pow_(other), (x) => x.pow(other)],
  ['clamp_', (x) => x.clamp_(1.2, 1.6), (x) => x.clamp(1.2, 1.6)],
  ['exp_', (x) => x.exp_(), (x) => x.exp()],
  ['log_', (x) => x.log_(), (x) => x.log()],
  ['sqrt_', (x) => x.sqrt_(), (x) => x.sqrt()],
  ['abs_', (x) => x.neg_().abs_(), (x) => x.abs()],
  ['neg_', (x) => x.neg_(), (x) => x.neg()],
  ['copy_', (x) => x.copy_(other), (x) => other.expand(x.shape)],
  ['fill_', (x) => x.fill_(4.5), (x) => ng.fullLike(x, 4.5)],
  ['fill_ 0-d tensor', (x) => x.fill_(ng.tensor(2.5, { dtype: 'float64' })), (x) => ng.fullLike(x, 2.5)],
  ['zero_', (x) => x.zero_(), (x) => ng.zerosLike(x)],
];

/** A [4, 6] base of values in [1, 2); each cut is a [2, 3] or [3, 3] tensor (a view or not). */
const cuts: [string, (base: ng.Tensor) => ng.Tensor][] = [
  ['dense', (b) => b.narrow(0, 0, 2).narrow(1, 0, 3).contiguous()],
  ['narrow view', (b) => b.narrow(0, 1, 2).narrow(1, 2, 3)],
  ['transposed view', (b) => b.narrow(0, 1, 3).narrow(1, 1, 3).t()],
];

function base(): ng.Tensor {
  return randomTensor([4, 6], 7).abs().add(1);
}

describe('in-place math matches the out-of-place op', () => {
  for (const [name, inPlace, reference] of rows) {
    it.each(cuts)(`${name} on a %s`, (_cut, cut) => {
      const b = base();
      const before = flat(b);
      const target = cut(b);
      const expected = flat(reference(target.clone()));
      const returned = inPlace(target);
      expect(returned).toBe(target);
      expectClose(flat(target), expected, 1e-12, 1e-12);
      // Elements outside the view keep their values; inside, the base sees the write.
      const marker = ng.arange(24, undefined, 1, { dtype: 'float64' }).reshape([4, 6]);
      const inside = new Set(flat(cut(marker)));
      const after = flat(b);
      before.forEach((v, i) => {
        if (!inside.has(i)) expect(after[i], `element ${i}`).toBe(v);
      });
      if (target.storage === b.storage) {
        const written = flat(cut(b));
        expectClose(written, expected, 1e-12, 1e-12);
      }
    });
  }
});

describe('random in-place fills write only the view', () => {
  const fills: [string, (x: ng.Tensor) => ng.Tensor, (v: number) => boolean][] = [
    ['uniform_', (x) => x.uniform_(-3, -2), (v) => v >= -3 && v < -2],
    ['normal_', (x) => x.normal_(-50, 1), (v) => v < -40],
    ['bernoulli_', (x) => x.bernoulli_(1), (v) => v === 1],
  ];
  for (const [name, fill, inRange] of fills) {
    it.each(cuts.slice(1))(`${name} on a %s`, (_cut, cut) => {
      const b = base();
      const target = cut(b);
      fill(target);
      expect(flat(target).every(inRange)).toBe(true);
      // Every other element of the base is still in [1, 2).
      const outside = flat(b).filter((v) => !inRange(v));
      expect(outside.length).toBe(24 - target.numel);
      expect(outside.every((v) => v >= 1 && v < 2)).toBe(true);
    });
  }
});

describe('in-place math: dtypes, shapes, versions', () => {
  it('broadcasts other to self, never self to other', () => {
    const x = ng.zeros([3]);
    expectNodegradError(() => x.add_(ng.ones([2, 3])), 'ERR_NODEGRAD_SHAPE', 'add_', '[2, 3]', '[3]');
    expect(flat(x)).toEqual([0, 0, 0]);
  });

  it('keeps self dtype: float64 other into float32, int32 stays int32, float into int32 refused', () => {
    const f = ng.zeros([2]);
    f.add_(ng.tensor([0.1, 0.2], { dtype: 'float64' }));
    expect(f.dtype).toBe('float32');
    expect(flat(f)).toEqual([Math.fround(0.1), Math.fround(0.2)]);
    const i = ng.tensor([1, 2], { dtype: 'int32' });
    i.mul_(3);
    expect(flat(i)).toEqual([3, 6]);
    expectNodegradError(() => i.add_(0.5), 'ERR_NODEGRAD_DTYPE', 'add_', 'int32');
    expectNodegradError(() => i.exp_(), 'ERR_NODEGRAD_DTYPE', 'exp_');
  });

  it('bumps the storage version, so a tensor saved for backward refuses a stale gradient', () => {
    const w = ng.tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
    const y = w.exp(); // exp saves its output y
    const v = y.storage.version;
    ng.noGrad(() => y.mul_(2));
    expect(y.storage.version).toBe(v + 1);
    expectNodegradError(() => y.sum().backward(), 'ERR_NODEGRAD_AUTOGRAD', 'mul_', 'modified in place');
  });

  it('refuses a write into an expanded tensor', () => {
    const x = ng.zeros([1, 3]).expand([2, 3]);
    expectNodegradError(() => x.add_(1), 'ERR_NODEGRAD_ARGUMENT', 'add_', 'share memory');
  });
});

describe('in-place math: autograd rules', () => {
  it('refuses a leaf that requires grad, naming noGrad as the fix', () => {
    const w = ng.ones([3], { requiresGrad: true });
    for (const op of [(t: ng.Tensor) => t.add_(1), (t: ng.Tensor) => t.zero_(), (t: ng.Tensor) => t.normal_()]) {
      expectNodegradError(() => op(w), 'ERR_NODEGRAD_AUTOGRAD', 'leaf tensor that requires grad', 'noGrad');
    }
    expect(flat(w)).toEqual([1, 1, 1]);
  });

  it('updates a leaf under noGrad: the SGD step p.add_(g, { alpha: -lr })', () => {
    const p = ng.tensor([1, 2], { requiresGrad: true });
    p.mul(p).sum().backward();
    ng.noGrad(() => p.add_(p.grad!, { alpha: -0.25 }));
    expect(flat(p)).toEqual([0.5, 1]);
    expect(p.isLeaf).toBe(true);
    expect(p.gradFn).toBeNull();
  });

  it('refuses a view of a leaf that requires grad, and a view of a recorded tensor', () => {
    const w = ng.ones([2, 3], { requiresGrad: true });
    expectNodegradError(() => w.narrow(0, 0, 1).add_(1), 'ERR_NODEGRAD_AUTOGRAD', 'add_', 'view of a leaf');
    expectNodegradError(() => w.mul(2).t().mul_(3), 'ERR_NODEGRAD_AUTOGRAD', 'mul_', 'view of a tensor recorded');
    ng.noGrad(() => w.narrow(0, 0, 1).add_(1));
    expect(flat(w)).toEqual([2, 2, 2, 1, 1, 1]);
  });

  it('records a non-leaf write so gradients flow (gradcheck, float64)', () => {
    const a = randomTensor([2, 3], 1, 'float64', true);
    const b = randomTensor([3], 2, 'float64', true);
    const pos = (t: ng.Tensor) => t.abs().add(0.5);
    const cases: [string, (x: ng.Tensor, y: ng.Tensor) => ng.Tensor][] = [
      ['add_ alpha', (x, y) => x.mul(1).add_(y, { alpha: -0.7 })],
      ['sub_', (x, y) => x.mul(1).sub_(y)],
      ['mul_', (x, y) => x.mul(1).mul_(y)],
      ['div_', (x, y) => x.mul(1).div_(pos(y))],
      ['pow_', (x, y) => pos(x).pow_(y)],
      ['clamp_', (x) => x.mul(1).clamp_(-0.3, 0.4)],
      ['exp_ then log_', (x) => x.mul(1).exp_().log_()],
      ['sqrt_', (x) => pos(x).sqrt_()],
      ['abs_ neg_', (x) => x.mul(2).abs_().neg_()],
      ['copy_ from y', (x, y) => x.mul(1).copy_(y).mul(x)],
      ['chained in place', (x, y) => x.mul(y).add_(1).mul_(x).div_(2)],
    ];
    for (const [name, fn] of cases) {
      expect(ng.gradcheck(fn, [a, b]), name).toBe(true);
    }
  });

  it('makes a tensor that did not require grad require it when the other operand does', () => {
    const w = ng.tensor([2, 3], { dtype: 'float64', requiresGrad: true });
    const x = ng.tensor([1, 1], { dtype: 'float64' });
    x.mul_(w);
    expect(x.requiresGrad).toBe(true);
    expect(x.isLeaf).toBe(false);
    x.sum().backward();
    expect(flat(w.grad!)).toEqual([1, 1]);
  });

  it('passes a zero gradient to the history behind fill_ and zero_', () => {
    const w = ng.tensor([2, 3], { dtype: 'float64', requiresGrad: true });
    const y = w.mul(w);
    y.fill_(5);
    expect(y.gradFn?.name).toBe('fill_');
    y.sum().backward();
    expect(flat(w.grad!)).toEqual([0, 0]);
    const v = ng.tensor(2, { dtype: 'float64', requiresGrad: true });
    ng.zeros([3], { dtype: 'float64' }).fill_(v).sum().backward();
    expect(v.grad!.item()).toBe(3);
  });

  it('keeps the values the op saved: x.mul_(y) gives y the old x as gradient', () => {
    const w = ng.tensor([2, 3], { dtype: 'float64', requiresGrad: true });
    const y = ng.tensor([5, 7], { dtype: 'float64', requiresGrad: true });
    const x = w.mul(1);
    x.mul_(y);
    x.sum().backward();
    expect(flat(y.grad!)).toEqual([2, 3]);
    expect(flat(w.grad!)).toEqual([5, 7]);
  });
});
