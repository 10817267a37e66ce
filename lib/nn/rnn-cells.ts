/**
 * The single-step cells RNNCell, LSTMCell and GRUCell, as PyTorch's: one time step of the matching
 * layer, with the parameter names weight_ih, weight_hh, bias_ih, bias_hh. Each step runs the
 * layers' fused node over a sequence of length 1.
 */
import { NodegradError, formatShape } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { zerosTensor } from '../tensor/tensor.js';
import { reshape } from '../ops/shape.js';
import { recurrentLayer, type RecurrentMode } from '../ops/rnn.js';
import { Module } from './module.js';
import type { Parameter } from './parameter.js';
import { checkSize, recurrentParameter, type LSTMState } from './rnn.js';

/** Options of RNNCell, LSTMCell and GRUCell. */
export interface RNNCellOptions {
  /** Learn the biases b_ih and b_hh (default true). */
  bias?: boolean;
  /** The dtype of the parameters (default 'float32'). */
  dtype?: 'float32' | 'float64';
}

/** Options of {@link RNNCell}: the shared ones and the nonlinearity. */
export interface RNNCellLayerOptions extends RNNCellOptions {
  /** 'tanh' (default) or 'relu'. */
  nonlinearity?: 'tanh' | 'relu';
}

/** The parameters and step of every cell (PyTorch's `nn.RNNCellBase`). */
export abstract class RNNCellBase<Args extends unknown[], Out> extends Module<Args, Out> {
  /** [gates · hiddenSize, inputSize]. */
  weight_ih: Parameter;
  /** [gates · hiddenSize, hiddenSize]. */
  weight_hh: Parameter;
  /** [gates · hiddenSize], or null without bias. */
  bias_ih: Parameter | null;
  /** [gates · hiddenSize], or null without bias. */
  bias_hh: Parameter | null;
  /** @internal The recurrence the fused node runs. */
  protected readonly mode: RecurrentMode;

  /**
   * @internal
   * @param mode - The recurrence.
   * @param inputSize - Features of the input.
   * @param hiddenSize - Features of the hidden state.
   * @param options - See {@link RNNCellOptions}.
   */
  protected constructor(
    mode: RecurrentMode,
    readonly inputSize: number,
    readonly hiddenSize: number,
    options: RNNCellOptions,
  ) {
    super();
    this.mode = mode;
    const layer = this.typeName;
    checkSize(layer, 'inputSize', inputSize);
    checkSize(layer, 'hiddenSize', hiddenSize);
    const dtype = options.dtype ?? 'float32';
    const gates = { rnnTanh: 1, rnnRelu: 1, lstm: 4, gru: 3 }[mode] * hiddenSize;
    this.weight_ih = recurrentParameter([gates, inputSize], hiddenSize, dtype);
    this.weight_hh = recurrentParameter([gates, hiddenSize], hiddenSize, dtype);
    const bias = options.bias ?? true;
    this.bias_ih = bias ? recurrentParameter([gates], hiddenSize, dtype) : null;
    this.bias_hh = bias ? recurrentParameter([gates], hiddenSize, dtype) : null;
  }

  /**
   * @internal
   * One step on x [N, inputSize] (or unbatched [inputSize]) from the optional states; states come back in x's batching.
   */
  protected step(x: Tensor, h?: Tensor, c?: Tensor): { h: Tensor; c: Tensor | null } {
    const name = this.typeName;
    if ((x.ndim !== 1 && x.ndim !== 2) || x.shape[x.ndim - 1] !== this.inputSize) {
      throw new NodegradError(
        'ERR_NODEGRAD_SHAPE',
        `${name}: expected input of shape [N, ${this.inputSize}] (or unbatched [${this.inputSize}]), got ${formatShape(x.shape)}`,
      );
    }
    const batch = x.ndim === 2 ? x.shape[0] : 1;
    const stateShape = x.ndim === 2 ? [batch, this.hiddenSize] : [this.hiddenSize];
    const state = (t: Tensor | undefined, what: string): Tensor => {
      if (!t) return zerosTensor([batch, this.hiddenSize], x.dtype);
      if (t.ndim !== stateShape.length || t.shape.some((s, i) => s !== stateShape[i])) {
        throw new NodegradError(
          'ERR_NODEGRAD_SHAPE',
          `${name}: expected ${what} of shape ${formatShape(stateShape)}, got ${formatShape(t.shape)}`,
        );
      }
      return reshape(t, [batch, this.hiddenSize]);
    };
    const weights = {
      weightIh: this.weight_ih,
      weightHh: this.weight_hh,
      biasIh: this.bias_ih,
      biasHh: this.bias_hh,
      weightHr: null,
    };
    const c0 = this.mode === 'lstm' ? state(c, 'c') : null;
    const result = recurrentLayer(this.mode, reshape(x, [1, batch, this.inputSize]), state(h, 'h'), c0, weights);
    return { h: reshape(result.h, stateShape), c: result.c && reshape(result.c, stateShape) };
  }

  override extraRepr(): string {
    const parts = [`${this.inputSize}, ${this.hiddenSize}`];
    if (!this.bias_ih) parts.push('bias=False');
    if (this.mode === 'rnnRelu') parts.push(`nonlinearity='relu'`);
    return parts.join(', ');
  }
}

/**
 * One Elman RNN step, h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh) (or ReLU), as PyTorch's `torch.nn.RNNCell`.
 *
 * Shape: x [N, inputSize] (or [inputSize]), h [N, hiddenSize] (default zeros) → h' [N, hiddenSize].
 *
 * @example
 * ```ts
 * const cell = new ng.nn.RNNCell(10, 20);
 * const h = cell.forward(ng.randn([3, 10])); // [3, 20]
 * ```
 */
export class RNNCell extends RNNCellBase<[x: Tensor, h?: Tensor], Tensor> {
  /**
   * @param inputSize - Features of the input.
   * @param hiddenSize - Features of the hidden state.
   * @param options - See {@link RNNCellLayerOptions}.
   */
  constructor(inputSize: number, hiddenSize: number, options: RNNCellLayerOptions = {}) {
    const nonlinearity: string = options.nonlinearity ?? 'tanh';
    if (nonlinearity !== 'tanh' && nonlinearity !== 'relu') {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `RNNCell: nonlinearity must be 'tanh' or 'relu', got '${nonlinearity}'`,
      );
    }
    super(nonlinearity === 'relu' ? 'rnnRelu' : 'rnnTanh', inputSize, hiddenSize, options);
  }

  /** The next hidden state. */
  forward(x: Tensor, h?: Tensor): Tensor {
    return this.step(x, h).h;
  }
}

/**
 * One LSTM step (gates i, f, g, o), as PyTorch's `torch.nn.LSTMCell`.
 *
 * Shape: x [N, inputSize] (or [inputSize]), (h, c) [N, hiddenSize] each (default zeros) → (h', c').
 *
 * @example
 * ```ts
 * const cell = new ng.nn.LSTMCell(10, 20);
 * const [h, c] = cell.forward(ng.randn([3, 10])); // [3, 20] each
 * ```
 */
export class LSTMCell extends RNNCellBase<[x: Tensor, state?: LSTMState], LSTMState> {
  /**
   * @param inputSize - Features of the input.
   * @param hiddenSize - Features of the hidden and cell states.
   * @param options - See {@link RNNCellOptions}.
   */
  constructor(inputSize: number, hiddenSize: number, options: RNNCellOptions = {}) {
    super('lstm', inputSize, hiddenSize, options);
  }

  /** The next (h, c). */
  forward(x: Tensor, state?: LSTMState): LSTMState {
    const { h, c } = this.step(x, state?.[0], state?.[1]);
    if (!c) throw new NodegradError('ERR_NODEGRAD_AUTOGRAD', 'LSTMCell: the step returned no cell state');
    return [h, c];
  }
}

/**
 * One GRU step (gates r, z, n; n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))), as PyTorch's `torch.nn.GRUCell`.
 *
 * Shape: x [N, inputSize] (or [inputSize]), h [N, hiddenSize] (default zeros) → h' [N, hiddenSize].
 *
 * @example
 * ```ts
 * const cell = new ng.nn.GRUCell(10, 20);
 * const h = cell.forward(ng.randn([3, 10])); // [3, 20]
 * ```
 */
export class GRUCell extends RNNCellBase<[x: Tensor, h?: Tensor], Tensor> {
  /**
   * @param inputSize - Features of the input.
   * @param hiddenSize - Features of the hidden state.
   * @param options - See {@link RNNCellOptions}.
   */
  constructor(inputSize: number, hiddenSize: number, options: RNNCellOptions = {}) {
    super('gru', inputSize, hiddenSize, options);
  }

  /** The next hidden state. */
  forward(x: Tensor, h?: Tensor): Tensor {
    return this.step(x, h).h;
  }
}
