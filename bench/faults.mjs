// `node bench/faults.mjs`: minor page faults and time per training step, the figures the addon's
// memory arena is judged by. LeNet-5 (batch 64, bench/nets.mjs, as `bench/run.mjs train`) and an
// MLP 784-1024×8-10 (batch 256, nn modules and optim.SGD, as bench/memory.mjs); faults counted
// over the timed steps after 20 warm-up steps, like run.mjs's page-fault column. Prints one JSON
// line per workload so runs with different addons (NODEGRAD_ADDON) can be compared side by side.
import * as ng from '../dist/index.js';
import { lenet5, sgd } from './nets.mjs';
import { timeCalls } from './timing.mjs';

const { nn } = ng;

function labels(batch) {
  return ng.tensor(
    Array.from({ length: batch }, (_, i) => i % 10),
    { dtype: 'int32' },
  );
}

function measure(name, step) {
  for (let i = 0; i < 20; i++) step();
  const faults0 = process.resourceUsage().minorPageFault;
  const { seconds, calls } = timeCalls(step);
  const faults = (process.resourceUsage().minorPageFault - faults0) / calls;
  console.log(JSON.stringify({ name, faultsPerStep: faults, msPerStep: seconds * 1000 }));
}

ng.manualSeed(0);
{
  const net = lenet5();
  const opt = sgd(net.parameters);
  const x = ng.randn([64, 1, 28, 28]);
  const y = labels(64);
  measure('lenet5 batch 64', () => {
    opt.zeroGrad();
    ng.crossEntropy(net.forward(x), y).backward();
    opt.step();
  });
}
{
  const layers = [new nn.Flatten(), new nn.Linear(784, 1024), new nn.ReLU()];
  for (let i = 0; i < 7; i++) layers.push(new nn.Linear(1024, 1024), new nn.ReLU());
  layers.push(new nn.Linear(1024, 10));
  const model = new nn.Sequential(...layers);
  const opt = new ng.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const x = ng.randn([256, 1, 28, 28]);
  const y = labels(256);
  measure('mlp 784-1024x8-10 batch 256', () => {
    opt.zeroGrad();
    ng.crossEntropy(model.forward(x), y).backward();
    opt.step();
  });
}
