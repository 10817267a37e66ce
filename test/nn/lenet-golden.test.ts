// A LeNet-5-shaped net given PyTorch's initial weights and batch gives PyTorch's loss and gradients.
import { join } from 'node:path';
import { expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { fixturesDir } from '../fixtures.js';
import { expectClose, flat } from '../helpers.js';

const { nn } = ng;

class LeNet extends nn.Module {
  conv1 = new nn.Conv2d(1, 6, 5, { padding: 2 });
  conv2 = new nn.Conv2d(6, 16, 5);
  fc1 = new nn.Linear(400, 120);
  fc2 = new nn.Linear(120, 84);
  fc3 = new nn.Linear(84, 10);

  forward(x: ng.Tensor): ng.Tensor {
    let h = ng.maxPool2d(this.conv1.forward(x).relu(), 2);
    h = ng.maxPool2d(this.conv2.forward(h).relu(), 2).flatten(1);
    return this.fc3.forward(this.fc2.forward(this.fc1.forward(h).relu()).relu());
  }
}

it('LeNet-5 with PyTorch weights: same loss and parameter gradients (1e-4)', () => {
  const fixture = ng.load(join(fixturesDir, 'lenet.safetensors'));
  const net = new LeNet();
  const weights = Object.fromEntries(Object.entries(fixture).filter(([k]) => /^(conv|fc)\d\./.test(k)));
  net.loadStateDict(weights, { strict: true });
  const loss = ng.crossEntropy(net.forward(fixture.input), fixture.target);
  expect(loss.item()).toBeCloseTo(fixture.loss.item(), 4);
  loss.backward();
  for (const [name, p] of net.namedParameters()) {
    expectClose(flat(p.grad!), flat(fixture[`grad.${name}`]), 1e-4, 1e-5);
  }
});
