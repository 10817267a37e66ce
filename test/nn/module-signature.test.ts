/**
 * Modules of any forward signature. The `@ts-expect-error` lines are checked by `tsc --noEmit`
 * (typecheck covers test/): each fails to compile if the wrong call were accepted.
 */
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { expectClose, expectNodegradError, flat } from '../helpers.js';

const { nn } = ng;
type Tensor = ng.Tensor;

/** Returns [output, hidden], like an RNN cell. */
class Cell extends nn.Module<[input: Tensor, hidden?: Tensor], [Tensor, Tensor]> {
  inputProj = new nn.Linear(3, 4);
  hiddenProj = new nn.Linear(4, 4, { bias: false });

  forward(input: Tensor, hidden?: Tensor): [Tensor, Tensor] {
    const h = hidden ?? ng.zeros([input.shape[0], 4]);
    const next = this.inputProj.forward(input).add(this.hiddenProj.forward(h)).tanh();
    return [next.mul(2), next];
  }
}

/** `forward(input, future = 0)`: predicts `future` extra steps. */
class Forecaster extends nn.Module<[input: Tensor, future?: number]> {
  head = new nn.Linear(2, 2);

  forward(input: Tensor, future = 0): Tensor {
    let h = this.head.forward(input);
    for (let i = 0; i < future; i++) h = this.head.forward(h);
    return h;
  }
}

interface Output {
  logits: Tensor;
  loss: Tensor | null;
}

/** Returns { logits, loss } as Hugging Face models do. */
class Classifier extends nn.Module<[input: Tensor, labels?: Tensor], Output> {
  fc = new nn.Linear(3, 2);
  criterion = new nn.CrossEntropyLoss();

  forward(input: Tensor, labels?: Tensor): Output {
    const logits = this.fc.forward(input);
    return { logits, loss: labels ? this.criterion.forward(logits, labels) : null };
  }
}

describe('Module<Args, Out>', () => {
  it('a module returning [output, hidden] is typed and trains end to end', () => {
    const cell = new Cell();
    const x = ng.randn([2, 3]);
    const [out, hidden] = cell.forward(x);
    const [out2] = cell.forward(x, hidden);
    expect(out.shape).toEqual([2, 4]);
    out2.sum().backward();
    expect(cell.hiddenProj.weight.grad).not.toBeNull();
    expect(Object.keys(cell.stateDict())).toEqual(['inputProj.weight', 'inputProj.bias', 'hiddenProj.weight']);
    // @ts-expect-error a string is not a Tensor
    expect(() => cell.forward('x')).toThrow();
    // @ts-expect-error the output is a pair, not a Tensor
    const wrong: Tensor = cell.forward(x); // eslint-disable-line @typescript-eslint/no-unsafe-class-instance-assignment -- the type error is the case
    expect(Array.isArray(wrong)).toBe(true);
  });

  it('a module with forward(input, future = 0) takes one or two arguments', () => {
    const f = new Forecaster();
    const x = ng.randn([1, 2]);
    const twice = f.head.forward(f.head.forward(x));
    expect(flat(f.forward(x, 1))).toEqual(flat(twice));
    expect(flat(f.forward(x))).toEqual(flat(f.head.forward(x)));
    const check = (): void => {
      // @ts-expect-error future is a number
      f.forward(x, 'two');
      // @ts-expect-error at most two arguments
      f.forward(x, 1, 2);
    };
    expect(check).toBeTypeOf('function');
  });

  it('a module returning { logits, loss } computes the loss only when given labels', () => {
    const model = new Classifier();
    const x = ng.randn([4, 3]);
    expect(model.forward(x).loss).toBeNull();
    const { logits, loss } = model.forward(x, ng.tensor([0, 1, 1, 0], { dtype: 'int32' }));
    expect(logits.shape).toEqual([4, 2]);
    expect(loss!.shape).toEqual([]);
    // The loss module is a child without parameters: the state dict holds fc's only.
    expect(Object.keys(model.stateDict())).toEqual(['fc.weight', 'fc.bias']);
  });

  it('the default Module is Tensor → Tensor; Sequential accepts only such modules', () => {
    const seq = new nn.Sequential(new nn.Linear(2, 2), new nn.ReLU());
    const y: Tensor = seq.forward(ng.ones([1, 2]));
    expect(y.shape).toEqual([1, 2]);
    const check = (): void => {
      // @ts-expect-error Cell returns a pair, not a Tensor
      new nn.Sequential(new Cell());
      // @ts-expect-error a loss takes (input, target)
      new nn.Sequential(new nn.MSELoss());
      // @ts-expect-error a Linear takes one tensor
      new nn.Linear(2, 2).forward(ng.ones([1, 2]), ng.ones([1, 2]));
    };
    expect(check).toBeTypeOf('function');
  });

  it("hooks take the module's own argument and output types", () => {
    const cell = new Cell();
    const x = ng.ones([1, 3]);
    const [, plain] = cell.forward(x);
    const handle = cell.registerForwardHook((_m, args, [out, hidden]) => [
      out.mul(0).add(7),
      hidden.add(args[0].sum()),
    ]);
    const [out, hidden] = cell.forward(x);
    expect(flat(out)).toEqual([7, 7, 7, 7]);
    expectClose(
      flat(hidden),
      flat(plain).map((v) => v + 3),
      1e-6,
    );
    handle.remove();
    const check = (): void => {
      // @ts-expect-error a forward hook must return the module's output type (a pair) or nothing
      cell.registerForwardHook(() => ng.ones([1]));
      // @ts-expect-error a pre-hook must return the argument tuple or nothing
      new nn.Linear(2, 2).registerForwardPreHook(() => 'x');
    };
    expect(check).toBeTypeOf('function');
  });

  it('a container cannot be called: it has no forward', () => {
    const list = new nn.ModuleList([new nn.Linear(2, 2)]);
    expectNodegradError(
      // @ts-expect-error ModuleList has no forward signature to call with a tensor
      () => list.forward(ng.ones([1, 2])),
      'ERR_NODEGRAD_ARGUMENT',
      'ModuleList.forward',
      'no forward',
    );
  });
});
