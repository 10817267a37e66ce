/**
 * A recurrent digit classifier (pytorch/examples mnist_rnn/main.py): an LSTM reads each embedded
 * MNIST digit one 28-pixel row per time step; its last output goes through batch norm, dropout and
 * two Linear layers. Adadelta with a StepLR decay, then the test loss and accuracy.
 */
import * as ng from 'nodegrad';
import { batches } from './parts/batches.js';
import { isMain, type ExampleOptions, type ExampleResult } from './parts/example.js';

const { nn } = ng;
const F = nn.functional;

class Net extends nn.Module {
  rnn = new nn.LSTM(28, 64, { batchFirst: true });
  batchnorm = new nn.BatchNorm1d(64);
  // nn.Dropout2d in the original: on [N, features] it zeroes single features, as Dropout does.
  dropout1 = new nn.Dropout(0.25);
  dropout2 = new nn.Dropout(0.5);
  fc1 = new nn.Linear(64, 32);
  fc2 = new nn.Linear(32, 10);

  forward(input: ng.Tensor): ng.Tensor {
    const rows = input.reshape([-1, 28, 28]);
    const [output] = this.rnn.forward(rows);
    let x = this.batchnorm.forward(output.index(':', -1, ':'));
    x = this.dropout1.forward(x);
    x = F.relu(this.fc1.forward(x));
    x = this.dropout2.forward(x);
    return F.logSoftmax(this.fc2.forward(x), 1);
  }
}

const normalize = ([images, labels]: ng.Tensor[]) => [images.sub(0.1307).div(0.3081), labels];

export function main(
  options: ExampleOptions & { batchSize?: number; lr?: number; testLimit?: number } = {},
): ExampleResult {
  const { steps = 150, batchSize = 64, lr = 1, testLimit = 997, log = () => {} } = options;
  ng.manualSeed(1);
  const digits = ng.data.mnist();
  const trainLoader = new ng.data.DataLoader(digits.train, { batchSize, shuffle: true, seed: 1, transform: normalize });
  const model = new Net();
  // lr 1 where the original has 0.1: its 14 epochs over 60,000 digits are far more steps than these.
  const optimizer = new ng.optim.Adadelta(model.parameters(), { lr });
  const scheduler = new ng.optim.lrScheduler.StepLR(optimizer, { stepSize: 1, gamma: 0.7 });

  const losses: number[] = [];
  model.train();
  for (const [data, target] of batches(trainLoader, steps)) {
    optimizer.zeroGrad();
    const loss = F.nllLoss(model.forward(data), target);
    loss.backward();
    optimizer.step();
    losses.push(loss.item());
    if (losses.length % 10 === 0)
      log(`Train step ${losses.length}/${steps}\tLoss: ${losses[losses.length - 1].toFixed(6)}`);
    if (losses.length % trainLoader.length === 0) scheduler.step();
  }

  model.eval();
  // The test digits are stored class by class: an evenly spaced subset keeps every class.
  const stride = Math.max(1, Math.floor(digits.test.length / testLimit));
  const testSet = digits.test.subset(
    Array.from({ length: Math.min(testLimit, digits.test.length) }, (_, i) => i * stride),
  );
  let testLoss = 0;
  let correct = 0;
  ng.noGrad(() => {
    for (const [data, target] of new ng.data.DataLoader(testSet, { batchSize: 1000, transform: normalize })) {
      const output = model.forward(data);
      testLoss += F.nllLoss(output, target, { reduction: 'sum' }).item();
      const labels = target.data();
      output
        .argmax(1)
        .data()
        .forEach((p, i) => {
          if (p === labels[i]) correct++;
        });
    }
  });
  log(
    `Test set: Average loss: ${(testLoss / testSet.length).toFixed(4)}, ` +
      `Accuracy: ${correct}/${testSet.length} (${((100 * correct) / testSet.length).toFixed(0)}%)`,
  );
  return { losses };
}

if (isMain(import.meta.url)) main({ log: console.log });
