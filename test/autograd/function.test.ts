import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { expectClose, randomTensor } from '../helpers.js';

class MyExp extends ng.autograd.Function {
  static forward(ctx: ng.autograd.FunctionCtx, x: ng.Tensor): ng.Tensor {
    const y = x.exp();
    ctx.saveForBackward(y);
    return y;
  }

  static backward(ctx: ng.autograd.FunctionCtx, g: ng.Tensor): ng.Tensor {
    const [y] = ctx.savedTensors;
    return g.mul(y!);
  }
}

/** Clamp in forward, identity in backward (a straight-through estimator). */
class StraightThroughClamp extends ng.autograd.Function {
  static forward(_ctx: ng.autograd.FunctionCtx, x: ng.Tensor, lo: number, hi: number): ng.Tensor {
    return x.clamp(lo, hi);
  }

  static backward(_ctx: ng.autograd.FunctionCtx, g: ng.Tensor): (ng.Tensor | null)[] {
    return [g, null, null];
  }
}

/** x * y with a scale passed through ctx; records needsInputGrad. */
class ScaledMul extends ng.autograd.Function {
  static seen: readonly boolean[] = [];

  static forward(ctx: ng.autograd.FunctionCtx, x: ng.Tensor, y: ng.Tensor, scale: number): ng.Tensor {
    ctx.saveForBackward(x, y);
    ctx.scale = scale;
    ScaledMul.seen = ctx.needsInputGrad;
    return x.mul(y).mul(scale);
  }

  static backward(ctx: ng.autograd.FunctionCtx, g: ng.Tensor): (ng.Tensor | null)[] {
    const [x, y] = ctx.savedTensors;
    const s = ctx.scale as number;
    return [ctx.needsInputGrad[0] ? g.mul(y!).mul(s) : null, ctx.needsInputGrad[1] ? g.mul(x!).mul(s) : null, null];
  }
}

/** Returns (sum, max over dim 1 with its indices); the indices are non-differentiable. */
class SumAndSquare extends ng.autograd.Function {
  static forward(ctx: ng.autograd.FunctionCtx, x: ng.Tensor): ng.Tensor[] {
    ctx.saveForBackward(x);
    const idx = ng.tensor([0, 1], { dtype: 'int32' });
    ctx.markNonDifferentiable(idx);
    return [x.sum(1), x.mul(x), idx];
  }

  static backward(ctx: ng.autograd.FunctionCtx, gSum: ng.Tensor, gSquare: ng.Tensor, gIdx: ng.Tensor): ng.Tensor {
    const [x] = ctx.savedTensors;
    // Tensors made during backward go back to the pool afterwards: keep copies of their values.
    SumAndSquare.lastGrads = [gSum, gSquare, gIdx].map((t) => ({ shape: t.shape, values: t.data() }));
    return gSum.unsqueeze(1).expand(x!.shape).add(gSquare.mul(x!).mul(2));
  }

  static lastGrads: { shape: readonly number[]; values: ArrayLike<number> }[] = [];
}

describe('autograd.Function', () => {
  it('a user-written exp passes float64 gradcheck and gradgradcheck', () => {
    const x = randomTensor([3, 4], 5, 'float64', true);
    expect(ng.gradcheck((a) => MyExp.apply(a), [x])).toBe(true);
    expect(ng.gradgradcheck((a) => MyExp.apply(a), [x])).toBe(true);
  });

  it('records one node named after the class, and no inner ops', () => {
    const x = randomTensor([2], 1, 'float64', true);
    const y = MyExp.apply(x);
    expect(y.gradFn!.name).toBe('MyExp');
    expect(y.gradFn!.inputs).toEqual([x]);
  });

  it('a straight-through clamp passes gradients unchanged, non-tensor args get none', () => {
    const x = ng.tensor([-2, 0.2, 3], { dtype: 'float64', requiresGrad: true });
    const y = StraightThroughClamp.apply(x, -1, 1);
    expectClose(y.data(), [-1, 0.2, 1]);
    y.mul(ng.tensor([1, 2, 3], { dtype: 'float64' }))
      .sum()
      .backward();
    expectClose(x.grad!.data(), [1, 2, 3]);
    expect(
      ng.gradcheck(
        (a) => StraightThroughClamp.apply(a.mul(0.1), -1, 1).mul(a),
        [randomTensor([5], 2, 'float64', true)],
      ),
    ).toBe(true);
  });

  it('needsInputGrad follows each argument, ctx carries plain values', () => {
    const x = randomTensor([3], 3, 'float64', true);
    const y = randomTensor([3], 4, 'float64');
    const out = ScaledMul.apply(x, y, 3);
    expect(ScaledMul.seen).toEqual([true, false, false]);
    out.sum().backward();
    expectClose(x.grad!.data(), y.mul(3).data(), 1e-12);
    expect(
      ng.gradcheck(
        (a, b) => ScaledMul.apply(a, b, 0.5),
        [randomTensor([2, 3], 6, 'float64', true), randomTensor([2, 3], 7, 'float64', true)],
      ),
    ).toBe(true);
  });

  it('returns its result untouched when no input requires grad or under noGrad', () => {
    const x = randomTensor([3], 3, 'float64', true);
    expect(MyExp.apply(x.detach()).requiresGrad).toBe(false);
    expect(ng.noGrad(() => MyExp.apply(x)).requiresGrad).toBe(false);
  });

  it('several outputs: one gradient each, zeros for an unused output and the non-differentiable one', () => {
    const x = randomTensor([2, 3], 8, 'float64', true);
    const [s, sq, idx] = SumAndSquare.apply(x);
    expect(idx.requiresGrad).toBe(false);
    expect(s.requiresGrad && sq.requiresGrad).toBe(true);
    expectClose(sq.data(), x.mul(x).data(), 1e-12);
    s.sum().backward();
    const [gSum, gSquare, gIdx] = SumAndSquare.lastGrads;
    expectClose(gSum.values, [1, 1]);
    expect(gSquare.shape).toEqual([2, 3]);
    expectClose(gSquare.values, new Float64Array(6));
    expect(gIdx.shape).toEqual([2]);
    expectClose(gIdx.values, [0, 0]);
    expectClose(x.grad!.data(), new Float64Array(6).fill(1));
    expect(
      ng.gradcheck(
        (a) => {
          const [u, v] = SumAndSquare.apply(a);
          return u.sum().add(v.mul(v).sum());
        },
        [randomTensor([2, 3], 9, 'float64', true)],
      ),
    ).toBe(true);
  });

  it("a gradient returned in another float dtype is cast to its input's", () => {
    class Float32Grad extends ng.autograd.Function {
      static forward(_ctx: ng.autograd.FunctionCtx, x: ng.Tensor): ng.Tensor {
        return x.mul(2);
      }
      static backward(_ctx: ng.autograd.FunctionCtx, g: ng.Tensor): ng.Tensor {
        return g.mul(2).to('float32');
      }
    }
    const x = ng.tensor([1, 2], { dtype: 'float64', requiresGrad: true });
    Float32Grad.apply(x).sum().backward();
    expect(x.grad!.dtype).toBe('float64');
    expectClose(x.grad!.data(), [2, 2]);
  });

  it('forward may return an input: the output still gets its own node', () => {
    class Identity extends ng.autograd.Function {
      static forward(_ctx: ng.autograd.FunctionCtx, x: ng.Tensor): ng.Tensor {
        return x;
      }
      static backward(_ctx: ng.autograd.FunctionCtx, g: ng.Tensor): ng.Tensor {
        return g.mul(2);
      }
    }
    const x = ng.tensor([1, 2], { dtype: 'float64', requiresGrad: true });
    const y = Identity.apply(x);
    expect(x.isLeaf).toBe(true);
    y.sum().backward();
    expectClose(x.grad!.data(), [2, 2]);
  });
});

function thrown(fn: () => unknown): ng.NodegradError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ng.NodegradError);
    return e as ng.NodegradError;
  }
  throw new Error('expected a throw');
}

describe('autograd.Function errors', () => {
  it('a saved tensor modified in place makes backward throw, naming the class', () => {
    class SaveInput extends ng.autograd.Function {
      static forward(ctx: ng.autograd.FunctionCtx, x: ng.Tensor): ng.Tensor {
        ctx.saveForBackward(x);
        return x.mul(2);
      }
      static backward(ctx: ng.autograd.FunctionCtx, g: ng.Tensor): ng.Tensor {
        return g.mul(ctx.savedTensors[0]!);
      }
    }
    const leaf = ng.tensor([1, 2], { dtype: 'float64', requiresGrad: true });
    const x = leaf.mul(1);
    const y = SaveInput.apply(x);
    x.relu_();
    const e = thrown(() => y.sum().backward());
    expect(e.code).toBe('ERR_NODEGRAD_AUTOGRAD');
    expect(e.message).toMatch(/SaveInput: savedTensors\[0\] was modified in place/);
  });

  it('the wrong number of gradients names the class and the counts', () => {
    class TooFew extends ng.autograd.Function {
      static forward(_ctx: ng.autograd.FunctionCtx, x: ng.Tensor, y: ng.Tensor): ng.Tensor {
        return x.add(y);
      }
      static backward(_ctx: ng.autograd.FunctionCtx, g: ng.Tensor): ng.Tensor {
        return g;
      }
    }
    const a = ng.tensor([1], { requiresGrad: true });
    const e = thrown(() => TooFew.apply(a, a).sum().backward());
    expect(e.code).toBe('ERR_NODEGRAD_AUTOGRAD');
    expect(e.message).toMatch(/TooFew\.backward: returned 1 gradient\(s\), expected 2/);
  });

  it('a gradient of the wrong shape names the class and both shapes', () => {
    class WrongShape extends ng.autograd.Function {
      static forward(_ctx: ng.autograd.FunctionCtx, x: ng.Tensor): ng.Tensor {
        return x.sum();
      }
      static backward(_ctx: ng.autograd.FunctionCtx, g: ng.Tensor): ng.Tensor {
        return g.reshape([1]);
      }
    }
    const a = ng.tensor([1, 2, 3], { requiresGrad: true });
    const e = thrown(() => WrongShape.apply(a).backward());
    expect(e.code).toBe('ERR_NODEGRAD_SHAPE');
    expect(e.message).toMatch(/WrongShape\.backward: gradient 0 has shape \[1\], expected \[3\]/);
  });

  it('a gradient for a non-tensor argument is an error', () => {
    class GradForNumber extends ng.autograd.Function {
      static forward(_ctx: ng.autograd.FunctionCtx, x: ng.Tensor, k: number): ng.Tensor {
        return x.mul(k);
      }
      static backward(_ctx: ng.autograd.FunctionCtx, g: ng.Tensor): ng.Tensor[] {
        return [g, g];
      }
    }
    const a = ng.tensor([1, 2], { requiresGrad: true });
    const e = thrown(() => GradForNumber.apply(a, 2).sum().backward());
    expect(e.message).toMatch(/GradForNumber\.backward: returned a gradient for argument 1, which is not a Tensor/);
  });

  it('a subclass without forward says so', () => {
    class NoForward extends ng.autograd.Function {}
    const e = thrown(() => (NoForward as unknown as { apply(): unknown }).apply());
    expect(e.message).toMatch(/NoForward: a Function subclass must define static forward/);
  });
});
