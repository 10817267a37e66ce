// Networks for the benchmarks, written with nodegrad's functional ops: LeNet-5 (61,706 parameters)
// and an MLP 784-256-256-10, each with PyTorch's default initialization, plus an SGD-with-momentum
// step over raw typed arrays.
import * as ng from '../dist/index.js';

function uniformParam(shape, fanIn) {
  const bound = 1 / Math.sqrt(fanIn);
  const t = ng
    .rand(shape)
    .mul(2 * bound)
    .sub(bound)
    .detach();
  t.requiresGrad = true;
  return t;
}

function linearParams(inF, outF) {
  return { weight: uniformParam([outF, inF], inF), bias: uniformParam([outF], inF) };
}

function convParams(inC, outC, k) {
  const fanIn = inC * k * k;
  return { weight: uniformParam([outC, inC, k, k], fanIn), bias: uniformParam([outC], fanIn) };
}

const linear = (x, p, activation) => ng.linear(x, p.weight, p.bias, { activation });

export function lenet5() {
  const layers = {
    conv1: convParams(1, 6, 5),
    conv2: convParams(6, 16, 5),
    fc1: linearParams(400, 120),
    fc2: linearParams(120, 84),
    fc3: linearParams(84, 10),
  };
  const forward = (x) => {
    let h = ng.maxPool2d(ng.conv2d(x, layers.conv1.weight, layers.conv1.bias, { padding: 2, activation: 'relu' }), 2);
    h = ng.maxPool2d(ng.conv2d(h, layers.conv2.weight, layers.conv2.bias, { activation: 'relu' }), 2);
    h = h.flatten(1);
    h = linear(h, layers.fc1, 'relu');
    h = linear(h, layers.fc2, 'relu');
    return linear(h, layers.fc3);
  };
  return { forward, parameters: Object.values(layers).flatMap((l) => [l.weight, l.bias]), inputShape: [1, 28, 28] };
}

export function mlp() {
  const layers = { fc1: linearParams(784, 256), fc2: linearParams(256, 256), fc3: linearParams(256, 10) };
  const forward = (x) => linear(linear(linear(x.flatten(1), layers.fc1, 'relu'), layers.fc2, 'relu'), layers.fc3);
  return { forward, parameters: Object.values(layers).flatMap((l) => [l.weight, l.bias]), inputShape: [1, 28, 28] };
}

/** SGD with momentum 0.9 (PyTorch's update rule) through the backend's fused update kernel. */
export function sgd(parameters, lr = 0.01, momentum = 0.9) {
  const backend = ng.backend.getBackend();
  const buffers = parameters.map((p) => new Float32Array(p.numel));
  const options = { lr, momentum, dampening: 0, weightDecay: 0, nesterov: false, maximize: false };
  let first = true;
  return {
    // Gradient buffers go back to the pool: the next backward reuses them instead of faulting in new pages.
    zeroGrad() {
      for (const p of parameters) {
        p.grad?.storage.recycle();
        p.grad = null;
      }
    },
    step() {
      parameters.forEach((p, i) => {
        backend.sgdStep(p.storage.data, p.grad.storage.data, buffers[i], options, first);
        p.storage.version++;
      });
      first = false;
    },
  };
}
