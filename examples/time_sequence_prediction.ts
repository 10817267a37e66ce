/**
 * Sine-wave prediction (pytorch/examples time_sequence_prediction): two stacked LSTM cells read
 * shifted sine waves one value at a time and learn to predict the next value; after training
 * the model feeds its own predictions back to extend the waves into the future.
 */
import * as ng from 'nodegrad';
import { isMain, type ExampleOptions, type ExampleResult } from './parts/example.js';

const { nn } = ng;

class Sequence extends nn.Module<[input: ng.Tensor, future?: number]> {
  lstm1 = new nn.LSTMCell(1, 51);
  lstm2 = new nn.LSTMCell(51, 51);
  linear = new nn.Linear(51, 1);

  /** input [N, T] → predictions [N, T + future], the last `future` made from the model's own outputs. */
  forward(input: ng.Tensor, future = 0): ng.Tensor {
    const zero = () => ng.zeros([input.shape[0], 51], { dtype: input.dtype });
    let state1: ng.nn.LSTMState = [zero(), zero()];
    let state2: ng.nn.LSTMState = [zero(), zero()];
    const outputs: ng.Tensor[] = [];
    const stepWith = (value: ng.Tensor) => {
      state1 = this.lstm1.forward(value, state1);
      state2 = this.lstm2.forward(state1[0], state2);
      outputs.push(this.linear.forward(state2[0]));
    };
    for (const value of input.split(1, 1)) stepWith(value);
    for (let i = 0; i < future; i++) stepWith(outputs[outputs.length - 1]);
    return ng.cat(outputs, 1);
  }
}

/**
 * generate_sine_wave.py: N waves sin(t / period) of `length` samples, each started at a random
 * shift in [−4·period, 4·period).
 */
function sineWaves(waves: number, length: number, period: number): ng.Tensor {
  const shifts = ng.randint(-4 * period, 4 * period, [waves, 1]).double();
  return ng.arange(length, undefined, 1, { dtype: 'float64' }).add(shifts).div(period).sin();
}

export function main(options: ExampleOptions & { length?: number; future?: number } = {}): ExampleResult {
  const { steps = 60, length = 60, future = 60, log = () => {} } = options;
  ng.manualSeed(0);
  const data = sineWaves(30, length, 20);
  const input = data.index(ng.slice(3), ng.slice(null, -1));
  const target = data.index(ng.slice(3), ng.slice(1));
  const testInput = data.index(ng.slice(null, 3), ng.slice(null, -1));
  const testTarget = data.index(ng.slice(null, 3), ng.slice(1));

  const seq = new Sequence().double();
  const criterion = new nn.MSELoss();
  // The original takes 15 steps of L-BFGS (lr 0.8); nodegrad has no LBFGS yet, so Adam takes more, cheaper steps.
  const optimizer = new ng.optim.Adam(seq.parameters(), { lr: 0.01 });
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    optimizer.zeroGrad();
    const loss = criterion.forward(seq.forward(input), target);
    loss.backward();
    optimizer.step();
    losses.push(loss.item());
    if (step % 10 === 0 || step === steps - 1) log(`step ${step} loss: ${losses[step].toFixed(6)}`);
  }

  ng.noGrad(() => {
    const prediction = seq.forward(testInput, future);
    const testLoss = criterion.forward(prediction.narrow(1, 0, testTarget.shape[1]), testTarget);
    log(`test loss: ${testLoss.item().toFixed(6)}`);
    const extension = Array.from(prediction.index(0, ng.slice(-future)).data(), (v) => v.toFixed(2));
    log(
      `first wave's next ${future} values, predicted: ${extension.slice(0, 20).join(' ')}${future > 20 ? ' ...' : ''}`,
    );
  });
  return { losses };
}

if (isMain(import.meta.url)) main({ log: console.log });
