/**
 * A convolutional digit classifier (pytorch/examples mnist/main.py) trained on the embedded MNIST
 * digits: two 3×3 convolutions, max pooling, dropout and two Linear layers, Adadelta with a
 * StepLR decay, then the test loss and accuracy.
 */
import * as ng from 'nodegrad';
import { batches } from './parts/batches.js';
import { isMain, type ExampleOptions, type ExampleResult } from './parts/example.js';

const { nn } = ng;
const F = nn.functional;

class Net extends nn.Module {
  conv1 = new nn.Conv2d(1, 32, 3, { stride: 1 });
  conv2 = new nn.Conv2d(32, 64, 3, { stride: 1 });
  dropout1 = new nn.Dropout(0.25);
  dropout2 = new nn.Dropout(0.5);
  fc1 = new nn.Linear(9216, 128);
  fc2 = new nn.Linear(128, 10);

  forward(x: ng.Tensor): ng.Tensor {
    x = F.relu(this.conv1.forward(x));
    x = F.relu(this.conv2.forward(x));
    x = F.maxPool2d(x, 2);
    x = this.dropout1.forward(x).flatten(1);
    x = F.relu(this.fc1.forward(x));
    x = this.dropout2.forward(x);
    return F.logSoftmax(this.fc2.forward(x), 1);
  }
}

/** transforms.Normalize((0.1307,), (0.3081,)): the training set's mean and standard deviation. */
const normalize = ([images, labels]: ng.Tensor[]) => [images.sub(0.1307).div(0.3081), labels];

export function main(options: ExampleOptions & { batchSize?: number; testLimit?: number } = {}): ExampleResult {
  const { steps = 150, batchSize = 64, testLimit = 997, log = () => {} } = options;
  ng.manualSeed(1);
  const digits = ng.data.mnist();
  const trainLoader = new ng.data.DataLoader(digits.train, { batchSize, shuffle: true, seed: 1, transform: normalize });
  const model = new Net();
  const optimizer = new ng.optim.Adadelta(model.parameters(), { lr: 1 });
  const stepsPerEpoch = trainLoader.length;
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
    if (losses.length % stepsPerEpoch === 0) scheduler.step();
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
      const predicted = output.argmax(1).data();
      const labels = target.data();
      predicted.forEach((p, i) => {
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
