/**
 * nn.LSTMCell and nn.LSTM, standing in for PyTorch's until nodegrad ships them: the same gate
 * order (input, forget, cell, output), parameter names (weight_ih_l0, ...), shapes and
 * U(±1/√hidden) initialization, composed from linear, chunk, sigmoid and tanh.
 */
import * as ng from 'nodegrad';

const { nn } = ng;

export type LSTMState = [h: ng.Tensor, c: ng.Tensor];

function uniformParameter(shape: number[], hiddenSize: number): ng.nn.Parameter {
  const bound = 1 / Math.sqrt(hiddenSize);
  return new nn.Parameter(nn.init.uniform_(ng.zeros(shape), -bound, bound));
}

/** One step: gates = x W_ihᵀ + b_ih + h W_hhᵀ + b_hh, split in four along the feature dim. */
function lstmStep(xProjected: ng.Tensor, [h, c]: LSTMState, weightHh: ng.Tensor, biasHh: ng.Tensor): LSTMState {
  const gates = xProjected.add(nn.functional.linear(h, weightHh, biasHh));
  const [i, f, g, o] = gates.chunk(4, 1);
  const cNext = f.sigmoid().mul(c).add(i.sigmoid().mul(g.tanh()));
  return [o.sigmoid().mul(cNext.tanh()), cNext];
}

/** nn.LSTMCell(inputSize, hiddenSize): (x [N, in], (h, c) [N, hidden]) → (h', c'). */
export class LSTMCell extends nn.Module<[x: ng.Tensor, state?: LSTMState], LSTMState> {
  weight_ih: ng.nn.Parameter;
  weight_hh: ng.nn.Parameter;
  bias_ih: ng.nn.Parameter;
  bias_hh: ng.nn.Parameter;

  constructor(
    readonly inputSize: number,
    readonly hiddenSize: number,
  ) {
    super();
    this.weight_ih = uniformParameter([4 * hiddenSize, inputSize], hiddenSize);
    this.weight_hh = uniformParameter([4 * hiddenSize, hiddenSize], hiddenSize);
    this.bias_ih = uniformParameter([4 * hiddenSize], hiddenSize);
    this.bias_hh = uniformParameter([4 * hiddenSize], hiddenSize);
  }

  forward(x: ng.Tensor, state?: LSTMState): LSTMState {
    const zero = () => ng.zeros([x.shape[0], this.hiddenSize], { dtype: x.dtype });
    const projected = nn.functional.linear(x, this.weight_ih, this.bias_ih);
    return lstmStep(projected, state ?? [zero(), zero()], this.weight_hh, this.bias_hh);
  }
}

export interface LSTMOptions {
  numLayers?: number;
  /** Inputs and outputs are [N, T, features] instead of [T, N, features]. */
  batchFirst?: boolean;
  /** Dropout on the outputs of every layer but the last (training mode only). */
  dropout?: number;
}

/**
 * nn.LSTM(inputSize, hiddenSize, options): (input [T, N, in], (h0, c0) [layers, N, hidden]) →
 * (output [T, N, hidden], (hn, cn)).
 */
export class LSTM extends nn.Module<[input: ng.Tensor, state?: LSTMState], [ng.Tensor, LSTMState]> {
  readonly numLayers: number;
  readonly batchFirst: boolean;
  readonly dropout: number;

  constructor(
    readonly inputSize: number,
    readonly hiddenSize: number,
    options: LSTMOptions = {},
  ) {
    super();
    this.numLayers = options.numLayers ?? 1;
    this.batchFirst = options.batchFirst ?? false;
    this.dropout = options.dropout ?? 0;
    const self = this as unknown as Record<string, ng.nn.Parameter>;
    for (let layer = 0; layer < this.numLayers; layer++) {
      // Assigned as properties so the state-dict keys are PyTorch's (weight_ih_l0, bias_hh_l1, ...).
      self[`weight_ih_l${layer}`] = uniformParameter(
        [4 * hiddenSize, layer === 0 ? inputSize : hiddenSize],
        hiddenSize,
      );
      self[`weight_hh_l${layer}`] = uniformParameter([4 * hiddenSize, hiddenSize], hiddenSize);
      self[`bias_ih_l${layer}`] = uniformParameter([4 * hiddenSize], hiddenSize);
      self[`bias_hh_l${layer}`] = uniformParameter([4 * hiddenSize], hiddenSize);
    }
  }

  private weights(layer: number): ng.nn.Parameter[] {
    const self = this as unknown as Record<string, ng.nn.Parameter>;
    return ['weight_ih', 'bias_ih', 'weight_hh', 'bias_hh'].map((name) => self[`${name}_l${layer}`]);
  }

  forward(input: ng.Tensor, state?: LSTMState): [ng.Tensor, LSTMState] {
    let x = this.batchFirst ? input.transpose(0, 1) : input;
    const batch = x.shape[1];
    const [h0, c0] = state ?? [0, 1].map(() => ng.zeros([this.numLayers, batch, this.hiddenSize], { dtype: x.dtype }));
    const hn: ng.Tensor[] = [];
    const cn: ng.Tensor[] = [];
    for (let layer = 0; layer < this.numLayers; layer++) {
      const [weightIh, biasIh, weightHh, biasHh] = this.weights(layer);
      // The input projection of every time step in one matmul; only the recurrent part is sequential.
      const projected = nn.functional.linear(x, weightIh, biasIh);
      let step: LSTMState = [h0.index(layer), c0.index(layer)];
      const outputs: ng.Tensor[] = [];
      for (const xt of projected.unbind(0)) {
        step = lstmStep(xt, step, weightHh, biasHh);
        outputs.push(step[0]);
      }
      hn.push(step[0]);
      cn.push(step[1]);
      x = ng.stack(outputs, 0);
      if (layer < this.numLayers - 1 && this.dropout > 0)
        x = nn.functional.dropout(x, this.dropout, { training: this.training });
    }
    return [this.batchFirst ? x.transpose(0, 1) : x, [ng.stack(hn, 0), ng.stack(cn, 0)]];
  }
}
