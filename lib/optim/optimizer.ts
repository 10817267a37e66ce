/**
 * The optimizer base: parameter groups with their own options, per-parameter state, zeroGrad, and
 * stateDict/loadStateDict in PyTorch's layout ({ state: {index: {...}}, paramGroups: [...] }).
 */
import { NodegradError } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';

export type StateValue = Tensor | number;
export type ParamState = Record<string, StateValue>;

export type ParamGroup<O> = O & { params: Tensor[] };
export type ParamGroupInput<O> = Partial<O> & { params: Iterable<Tensor> };

export interface OptimizerStateDict<O> {
  state: Record<number, ParamState>;
  paramGroups: (O & { params: number[] })[];
}

export abstract class Optimizer<O extends { lr: number }> {
  readonly paramGroups: ParamGroup<O>[];
  readonly state = new Map<Tensor, ParamState>();

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
        if (p.grad) yield [group, p, p.grad, this.stateOf(p)];
      }
    }
  }

  protected stateOf(p: Tensor): ParamState {
    let s = this.state.get(p);
    if (!s) {
      s = {};
      this.state.set(p, s);
    }
    return s;
  }

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
