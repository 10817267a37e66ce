/**
 * The optimizer base: parameter groups with their own options, per-parameter state, zeroGrad, and
 * stateDict/loadStateDict in PyTorch's layout ({ state: {index: {...}}, paramGroups: [...] }).
 */
import { NodegradError } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';

/** A value of a parameter's state: a tensor (a momentum or moment buffer) or a number (Adam's step count). */
export type StateValue = Tensor | number;
/** One parameter's state by PyTorch's names (`momentum_buffer`; `step`, `exp_avg`, `exp_avg_sq`). */
export type ParamState = Record<string, StateValue>;

/** A parameter group: its options and the tensors it updates. */
export type ParamGroup<O> = O & {
  /** The tensors this group updates. */
  params: Tensor[];
};
/**
 * A parameter group as an optimizer's constructor takes it: the tensors and any options that
 * override the defaults, e.g. `{ params: model.fc.parameters(), lr: 1e-2 }`.
 */
export type ParamGroupInput<O> = Partial<O> & {
  /** The tensors this group updates. */
  params: Iterable<Tensor>;
};

/** The option every optimizer has, what a learning-rate scheduler sets. */
export interface LrOptions {
  /** The learning rate. */
  lr: number;
}

/** An optimizer's state in PyTorch's layout, as Optimizer.stateDict returns and loadStateDict takes. */
export interface OptimizerStateDict<O> {
  /** Each parameter's state, by the parameter's index in the groups' order (a parameter without state is absent). */
  state: Record<number, ParamState>;
  /** Each group's options, with its parameters as indices. */
  paramGroups: (O & {
    /** The indices of the group's parameters. */
    params: number[];
  })[];
}

/**
 * The base of SGD, Adam and AdamW, as PyTorch's `torch.optim.Optimizer`: parameter groups with their
 * own options, per-parameter state, zeroGrad, and stateDict/loadStateDict in PyTorch's layout
 * (`{ state: { 0: {...} }, paramGroups: [{ lr, ..., params: [0, 1] }] }`). A subclass implements
 * validate and step.
 *
 * @typeParam O - The options of a parameter group (at least lr).
 */
export abstract class Optimizer<O extends LrOptions> {
  /** The parameter groups with their options; set a group's `lr` here to change it (as the schedulers do). */
  readonly paramGroups: ParamGroup<O>[];
  /** Each parameter's state (momentum buffer, Adam's moments), created on its first step. */
  readonly state = new Map<Tensor, ParamState>();

  /**
   * @param params - The tensors to optimize (`model.parameters()`), or parameter groups
   *   `{ params, ...options }` whose options override `defaults`. An empty list throws.
   * @param defaults - The options of every group that does not give its own.
   */
  constructor(
    params: Iterable<Tensor> | ParamGroupInput<O>[],
    readonly defaults: O,
  ) {
    const list = [...(params as Iterable<Tensor | ParamGroupInput<O>>)];
    const groups: ParamGroupInput<O>[] =
      list.length > 0 && !('params' in (list[0] as object))
        ? [{ params: list as Tensor[] } as unknown as ParamGroupInput<O>]
        : (list as ParamGroupInput<O>[]);
    if (groups.length === 0 || groups.every((g) => [...g.params].length === 0)) {
      throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `${this.constructor.name}: got an empty parameter list`);
    }
    this.paramGroups = groups.map((g) => {
      const group = { ...defaults, ...g, params: [...g.params] } as ParamGroup<O>;
      this.validate(group);
      return group;
    });
  }

  /** Throws a NodegradError naming the optimizer and the bad option. */
  protected abstract validate(options: O): void;

  /** One update of every parameter that has a gradient. */
  abstract step(): void;

  /**
   * Drops every gradient (PyTorch's set_to_none). The buffers go back to nodegrad's pool for the
   * next backward to reuse; a gradient tensor kept from before this call throws when used, so
   * clone() one you want to keep.
   */
  zeroGrad(): void {
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        p.grad?.storage.recycle(
          'optimizer.zeroGrad() released this gradient; clone() it before zeroGrad() to keep its values',
        );
        p.grad = null;
      }
    }
  }

  /** Every parameter that has a gradient, with its group, its gradient and its state. */
  protected *paramsWithGrad(): Generator<[ParamGroup<O>, Tensor, Tensor, ParamState]> {
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        if (!p.grad) continue;
        const state = this.stateOf(p);
        yield [group, p, p.grad, state];
        // State created during a step (inside ng.tidy, say) lives as long as the optimizer.
        for (const value of Object.values(state)) if (typeof value !== 'number') value.storage.kept = true;
      }
    }
  }

  /** The state of `p`, created empty on first use. */
  protected stateOf(p: Tensor): ParamState {
    let s = this.state.get(p);
    if (!s) {
      s = {};
      this.state.set(p, s);
    }
    return s;
  }

  /**
   * The groups' options and the parameters' state, parameters named by index (PyTorch's layout).
   * The state tensors are the optimizer's own, not copies: save them before the next step.
   */
  stateDict(): OptimizerStateDict<O> {
    const index = new Map<Tensor, number>();
    const paramGroups = this.paramGroups.map((g) => {
      const { params, ...options } = g;
      return {
        ...(options as unknown as O),
        params: params.map((p) => {
          const known = index.get(p);
          if (known !== undefined) return known;
          index.set(p, index.size);
          return index.size - 1;
        }),
      };
    });
    const state: Record<number, ParamState> = {};
    for (const [p, s] of this.state) {
      const i = index.get(p);
      if (i !== undefined) state[i] = { ...s };
    }
    return { state, paramGroups };
  }

  /**
   * Restores the options and state of a stateDict() from an optimizer over the same parameters in the
   * same groups (state tensors are copied). A different number of groups, or of parameters in a
   * group, throws.
   */
  loadStateDict(sd: OptimizerStateDict<O>): void {
    if (sd.paramGroups.length !== this.paramGroups.length) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `${this.constructor.name}.loadStateDict: expected ${this.paramGroups.length} parameter groups, got ${sd.paramGroups.length}`,
      );
    }
    const byIndex: (Tensor | undefined)[] = [];
    sd.paramGroups.forEach((saved, gi) => {
      const group = this.paramGroups[gi];
      if (saved.params.length !== group.params.length) {
        throw new NodegradError(
          'ERR_NODEGRAD_ARGUMENT',
          `${this.constructor.name}.loadStateDict: group ${gi} has ${group.params.length} parameters, the saved one ${saved.params.length}`,
        );
      }
      saved.params.forEach((index, j) => {
        byIndex[index] = group.params[j];
      });
      const { params: _ignored, ...options } = saved;
      Object.assign(group, options);
    });
    this.state.clear();
    for (const [index, s] of Object.entries(sd.state)) {
      const p = byIndex[Number(index)];
      if (!p) continue;
      const copy: ParamState = {};
      for (const [k, v] of Object.entries(s)) copy[k] = typeof v === 'number' ? v : v.clone().detach();
      this.state.set(p, copy);
    }
  }
}

/** Throws a NodegradError naming `op` and the option unless `test(value)` holds. */
export function checkNumber(
  op: string,
  name: string,
  value: number,
  test: (v: number) => boolean,
  expected: string,
): void {
  if (typeof value !== 'number' || !test(value)) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `${op}: invalid ${name} ${value}; expected ${expected}`);
  }
}
