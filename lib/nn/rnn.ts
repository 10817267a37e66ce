/**
 * The multi-layer recurrent layers RNN, LSTM and GRU, as PyTorch's `torch.nn.RNN`, `LSTM` and `GRU`:
 * the same gate order, parameter names and layout (`weight_ih_l0`, `bias_hh_l1_reverse`, ...) and
 * initialization, so state dicts move between the two. Each layer and direction runs as one fused
 * autograd node (lib/ops/rnn.ts).
 */
import { NodegradError, formatShape } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { zerosTensor } from '../tensor/tensor.js';
import { cat, stack } from '../ops/join.js';
import { dropout } from '../ops/dropout.js';
import { narrow, reshape, squeeze, transpose, unsqueeze } from '../ops/shape.js';
import { recurrentLayer, type RecurrentMode, type RecurrentWeights } from '../ops/rnn.js';
import { uniform_ } from './init.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';

/** Options shared by RNN, LSTM and GRU. */
export interface RNNBaseOptions {
  /** Stacked layers; layer l + 1 reads layer l's output (default 1). */
  numLayers?: number;
  /** Learn the biases b_ih and b_hh (default true). */
  bias?: boolean;
  /** Input and output are [N, T, features] instead of [T, N, features] (default false); states are unaffected. */
  batchFirst?: boolean;
  /** Dropout probability on the output of every layer but the last, in training mode only (default 0). */
  dropout?: number;
  /** Run a second pass from the last step to the first and concatenate both outputs (default false). */
  bidirectional?: boolean;
  /** The dtype of the parameters (default 'float32'). */
  dtype?: 'float32' | 'float64';
}

/** Options of {@link RNN}: the shared ones and the nonlinearity. */
export interface RNNOptions extends RNNBaseOptions {
  /** 'tanh' (default) or 'relu'. */
  nonlinearity?: 'tanh' | 'relu';
}

/** Options of {@link LSTM}: the shared ones and the projection size. */
export interface LSTMOptions extends RNNBaseOptions {
  /** When > 0, h is projected to this size by weight_hr (PyTorch's proj_size; default 0: none). */
  projSize?: number;
}

/** An LSTM's (h, c) state pair. */
export type LSTMState = [h: Tensor, c: Tensor];

/** U(−1/√hidden, 1/√hidden), PyTorch's initialization of every recurrent parameter. */
export function recurrentParameter(
  shape: readonly number[],
  hiddenSize: number,
  dtype: 'float32' | 'float64',
): Parameter {
  const bound = 1 / Math.sqrt(hiddenSize);
  return new Parameter(uniform_(zerosTensor(shape, dtype), -bound, bound));
}

/** Checks a layer size argument: a positive integer (or, with allowZero, 0). */
export function checkSize(layer: string, name: string, value: number, allowZero = false): void {
  if (!Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `${layer}: ${name} must be an integer >= ${allowZero ? 0 : 1}, got ${value}`,
    );
  }
}

/**
 * The shared machinery of RNN, LSTM and GRU (PyTorch's `nn.RNNBase`): parameter registration in
 * PyTorch's order and the layer-by-layer, direction-by-direction forward.
 */
export abstract class RNNBase<Args extends unknown[], Out> extends Module<Args, Out> {
  /** Number of stacked layers. */
  readonly numLayers: number;
  /** Whether the biases exist. */
  readonly bias: boolean;
  /** Whether input and output are batch-major. */
  readonly batchFirst: boolean;
  /** Dropout between layers (training only). */
  readonly dropout: number;
  /** Whether each layer also runs backward in time. */
  readonly bidirectional: boolean;
  /** The projection size (LSTM only; 0: none). */
  readonly projSize: number;
  /** @internal The recurrence the fused node runs. */
  protected readonly mode: RecurrentMode;

  /**
   * @internal
   * @param mode - The recurrence.
   * @param inputSize - Features of each input step.
   * @param hiddenSize - Features of the hidden state.
   * @param options - See {@link RNNBaseOptions}.
   * @param projSize - LSTM's projection size (0: none).
   */
  protected constructor(
    mode: RecurrentMode,
    readonly inputSize: number,
    readonly hiddenSize: number,
    options: RNNBaseOptions,
    projSize = 0,
  ) {
    super();
    this.mode = mode;
    const layer = mode === 'lstm' ? 'LSTM' : mode === 'gru' ? 'GRU' : 'RNN';
    checkSize(layer, 'inputSize', inputSize);
    checkSize(layer, 'hiddenSize', hiddenSize);
    this.numLayers = options.numLayers ?? 1;
    checkSize(layer, 'numLayers', this.numLayers);
    checkSize(layer, 'projSize', projSize, true);
    if (projSize >= hiddenSize && projSize > 0) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `${layer}: projSize must be smaller than hiddenSize, got projSize ${projSize} and hiddenSize ${hiddenSize}`,
      );
    }
    this.bias = options.bias ?? true;
    this.batchFirst = options.batchFirst ?? false;
    this.dropout = options.dropout ?? 0;
    if (!(this.dropout >= 0 && this.dropout <= 1)) {
      throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `${layer}: dropout must be in [0, 1], got ${this.dropout}`);
    }
    this.bidirectional = options.bidirectional ?? false;
    this.projSize = projSize;
    const dtype = options.dtype ?? 'float32';
    const gates = { rnnTanh: 1, rnnRelu: 1, lstm: 4, gru: 3 }[mode] * hiddenSize;
    const realHidden = projSize || hiddenSize;
    for (let l = 0; l < this.numLayers; l++) {
      for (const suffix of this.suffixes(l)) {
        const layerInput = l === 0 ? inputSize : realHidden * this.numDirections;
        const add = (name: string, shape: number[]) =>
          this.registerParameter(`${name}${suffix}`, recurrentParameter(shape, hiddenSize, dtype));
        add('weight_ih', [gates, layerInput]);
        add('weight_hh', [gates, realHidden]);
        if (this.bias) {
          add('bias_ih', [gates]);
          add('bias_hh', [gates]);
        }
        if (projSize > 0) add('weight_hr', [projSize, hiddenSize]);
      }
    }
  }

  /** 2 for a bidirectional layer, else 1. */
  get numDirections(): number {
    return this.bidirectional ? 2 : 1;
  }

  private suffixes(layer: number): string[] {
    return this.bidirectional ? [`_l${layer}`, `_l${layer}_reverse`] : [`_l${layer}`];
  }

  private parameterOf(name: string): Parameter | null {
    const value = (this as unknown as Record<string, unknown>)[name];
    return value instanceof Parameter ? value : null;
  }

  private weights(suffix: string): RecurrentWeights {
    const required = (name: string): Parameter => {
      const p = this.parameterOf(`${name}${suffix}`);
      if (!p)
        throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `${this.typeName}: parameter ${name}${suffix} is missing`);
      return p;
    };
    return {
      weightIh: required('weight_ih'),
      weightHh: required('weight_hh'),
      biasIh: this.parameterOf(`bias_ih${suffix}`),
      biasHh: this.parameterOf(`bias_hh${suffix}`),
      weightHr: this.parameterOf(`weight_hr${suffix}`),
    };
  }

  /** Checks a state argument's shape against [layers · directions, N, size] (or unbatched [layers · directions, size]). */
  private checkState(what: string, state: Tensor, batch: number | null, size: number): void {
    const expected = [this.numLayers * this.numDirections, ...(batch === null ? [] : [batch]), size];
    if (state.ndim !== expected.length || state.shape.some((s, i) => s !== expected[i])) {
      throw new NodegradError(
        'ERR_NODEGRAD_SHAPE',
        `${this.typeName}: expected ${what} of shape ${formatShape(expected)}, got ${formatShape(state.shape)}`,
      );
    }
  }

  /**
   * @internal
   * Runs every layer and direction: input [T, N, inputSize] ([N, T, inputSize] with batchFirst, or
   * unbatched [T, inputSize]) and the optional initial states → the last layer's output and the
   * final states [layers · directions, N, size].
   */
  protected run(input: Tensor, h0?: Tensor, c0?: Tensor): { output: Tensor; h: Tensor; c: Tensor | null } {
    const name = this.typeName;
    if ((input.ndim !== 2 && input.ndim !== 3) || input.shape[input.ndim - 1] !== this.inputSize) {
      throw new NodegradError(
        'ERR_NODEGRAD_SHAPE',
        `${name}: expected input of shape [T, N, ${this.inputSize}] (or unbatched [T, ${this.inputSize}]), got ${formatShape(input.shape)}`,
      );
    }
    const batched = input.ndim === 3;
    let x = batched ? (this.batchFirst ? transpose(input, 0, 1) : input) : unsqueeze(input, 1);
    const batch = x.shape[1];
    const realHidden = this.projSize || this.hiddenSize;
    const stateBatch = batched ? batch : null;
    if (h0) this.checkState('h0', h0, stateBatch, realHidden);
    if (c0) this.checkState('c0', c0, stateBatch, this.hiddenSize);
    const h0s = h0 && !batched ? unsqueeze(h0, 1) : h0;
    const c0s = c0 && !batched ? unsqueeze(c0, 1) : c0;
    const lstm = this.mode === 'lstm';
    const initial = (state: Tensor | undefined, k: number, size: number): Tensor =>
      state ? reshape(narrow(state, 0, k, 1), [batch, size]) : zerosTensor([batch, size], x.dtype);
    const hs: Tensor[] = [];
    const cs: Tensor[] = [];
    for (let l = 0; l < this.numLayers; l++) {
      const outputs: Tensor[] = [];
      this.suffixes(l).forEach((suffix, direction) => {
        const k = l * this.numDirections + direction;
        const c = lstm ? initial(c0s, k, this.hiddenSize) : null;
        const result = recurrentLayer(
          this.mode,
          x,
          initial(h0s, k, realHidden),
          c,
          this.weights(suffix),
          direction === 1,
        );
        outputs.push(result.output);
        hs.push(result.h);
        if (result.c) cs.push(result.c);
      });
      x = outputs.length === 1 ? outputs[0] : cat(outputs, 2);
      if (l < this.numLayers - 1 && this.dropout > 0 && this.training) x = dropout(x, this.dropout);
    }
    const finish = (state: Tensor) => (batched ? state : squeeze(state, 1));
    const output = batched ? (this.batchFirst ? transpose(x, 0, 1) : x) : squeeze(x, 1);
    return { output, h: finish(stack(hs, 0)), c: lstm ? finish(stack(cs, 0)) : null };
  }

  override extraRepr(): string {
    const parts = [`${this.inputSize}, ${this.hiddenSize}`];
    if (this.numLayers !== 1) parts.push(`num_layers=${this.numLayers}`);
    if (this.mode === 'rnnRelu') parts.push(`nonlinearity='relu'`);
    if (!this.bias) parts.push('bias=False');
    if (this.batchFirst) parts.push('batch_first=True');
    if (this.dropout) parts.push(`dropout=${this.dropout}`);
    if (this.bidirectional) parts.push('bidirectional=True');
    if (this.projSize) parts.push(`proj_size=${this.projSize}`);
    return parts.join(', ');
  }
}

/**
 * A multi-layer Elman RNN, h_t = tanh(x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh) (or ReLU), as PyTorch's
 * `torch.nn.RNN`.
 *
 * Shape: input [T, N, inputSize] ([N, T, inputSize] with batchFirst; unbatched [T, inputSize]), h0
 * [numLayers · D, N, hiddenSize] (D = 2 if bidirectional, else 1; default zeros) → output
 * [T, N, D · hiddenSize] and hN like h0. Parameters `weight_ih_l{k}` [hiddenSize, in],
 * `weight_hh_l{k}` [hiddenSize, hiddenSize], `bias_ih_l{k}`, `bias_hh_l{k}` (and `..._reverse`), all
 * U(−1/√hiddenSize, 1/√hiddenSize).
 *
 * @example
 * ```ts
 * const rnn = new ng.nn.RNN(10, 20, { numLayers: 2 });
 * const [output, hN] = rnn.forward(ng.randn([5, 3, 10])); // [5, 3, 20], [2, 3, 20]
 * ```
 */
export class RNN extends RNNBase<[input: Tensor, hx?: Tensor], [Tensor, Tensor]> {
  /**
   * @param inputSize - Features of each input step.
   * @param hiddenSize - Features of the hidden state.
   * @param options - See {@link RNNOptions}.
   */
  constructor(inputSize: number, hiddenSize: number, options: RNNOptions = {}) {
    const nonlinearity: string = options.nonlinearity ?? 'tanh';
    if (nonlinearity !== 'tanh' && nonlinearity !== 'relu') {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `RNN: nonlinearity must be 'tanh' or 'relu', got '${nonlinearity}'`,
      );
    }
    super(nonlinearity === 'relu' ? 'rnnRelu' : 'rnnTanh', inputSize, hiddenSize, options);
  }

  /** The output of every step and the final hidden state: [output, hN]. */
  forward(input: Tensor, hx?: Tensor): [Tensor, Tensor] {
    const { output, h } = this.run(input, hx);
    return [output, h];
  }
}

/**
 * A multi-layer long short-term memory, as PyTorch's `torch.nn.LSTM`: gates i, f, g, o (in that order
 * in the stacked weights), c_t = f ⊙ c_{t−1} + i ⊙ g, h_t = o ⊙ tanh(c_t), projected by weight_hr when
 * projSize > 0.
 *
 * Shape: input [T, N, inputSize] ([N, T, inputSize] with batchFirst; unbatched [T, inputSize]), (h0,
 * c0) [numLayers · D, N, P] and [numLayers · D, N, hiddenSize] (P = projSize or hiddenSize; default
 * zeros) → output [T, N, D · P] and (hN, cN) like (h0, c0). Parameters `weight_ih_l{k}` [4 · hiddenSize,
 * in], `weight_hh_l{k}` [4 · hiddenSize, P], biases [4 · hiddenSize], `weight_hr_l{k}` [P, hiddenSize].
 *
 * @example
 * ```ts
 * const lstm = new ng.nn.LSTM(10, 20, { numLayers: 2, batchFirst: true });
 * const [output, [hN, cN]] = lstm.forward(ng.randn([3, 5, 10])); // [3, 5, 20], [2, 3, 20] twice
 * ```
 */
export class LSTM extends RNNBase<[input: Tensor, hx?: LSTMState], [Tensor, LSTMState]> {
  /**
   * @param inputSize - Features of each input step.
   * @param hiddenSize - Features of the cell state (and of h without projection).
   * @param options - See {@link LSTMOptions}.
   */
  constructor(inputSize: number, hiddenSize: number, options: LSTMOptions = {}) {
    super('lstm', inputSize, hiddenSize, options, options.projSize ?? 0);
  }

  /** The output of every step and the final states: [output, [hN, cN]]. */
  forward(input: Tensor, hx?: LSTMState): [Tensor, LSTMState] {
    const { output, h, c } = this.run(input, hx?.[0], hx?.[1]);
    if (!c) throw new NodegradError('ERR_NODEGRAD_AUTOGRAD', 'LSTM: the layers returned no cell state');
    return [output, [h, c]];
  }
}

/**
 * A multi-layer gated recurrent unit, as PyTorch's `torch.nn.GRU`: gates r, z, n with
 * n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)) and h' = (1 − z) ⊙ n + z ⊙ h.
 *
 * Shape: as {@link RNN}, with the stacked weights [3 · hiddenSize, ...].
 *
 * @example
 * ```ts
 * const gru = new ng.nn.GRU(10, 20, { bidirectional: true });
 * const [output, hN] = gru.forward(ng.randn([5, 3, 10])); // [5, 3, 40], [2, 3, 20]
 * ```
 */
export class GRU extends RNNBase<[input: Tensor, hx?: Tensor], [Tensor, Tensor]> {
  /**
   * @param inputSize - Features of each input step.
   * @param hiddenSize - Features of the hidden state.
   * @param options - See {@link RNNBaseOptions}.
   */
  constructor(inputSize: number, hiddenSize: number, options: RNNBaseOptions = {}) {
    super('gru', inputSize, hiddenSize, options);
  }

  /** The output of every step and the final hidden state: [output, hN]. */
  forward(input: Tensor, hx?: Tensor): [Tensor, Tensor] {
    const { output, h } = this.run(input, hx);
    return [output, h];
  }
}
