/** A multi-layer perceptron built of scalar Values: the course's first network. */
import { nextUniform } from '../tensor/random.js';
import { Value } from './value.js';

export type Activation = 'tanh' | 'relu' | 'linear';

export class Neuron {
  readonly weights: Value[];
  readonly bias: Value;

  constructor(
    inputs: number,
    readonly activation: Activation = 'tanh',
  ) {
    // U(±1/√fan_in), the same default as a PyTorch Linear layer; seeded by ng.manualSeed.
    const bound = 1 / Math.sqrt(inputs);
    this.weights = Array.from({ length: inputs }, () => new Value((nextUniform() * 2 - 1) * bound));
    this.bias = new Value((nextUniform() * 2 - 1) * bound);
  }

  forward(x: readonly (Value | number)[]): Value {
    const z = this.weights.reduce((acc, w, i) => acc.add(w.mul(x[i])), this.bias);
    if (this.activation === 'tanh') return z.tanh();
    if (this.activation === 'relu') return z.relu();
    return z;
  }

  parameters(): Value[] {
    return [...this.weights, this.bias];
  }
}

export class Layer {
  readonly neurons: Neuron[];

  constructor(inputs: number, outputs: number, activation: Activation) {
    this.neurons = Array.from({ length: outputs }, () => new Neuron(inputs, activation));
  }

  forward(x: readonly (Value | number)[]): Value[] {
    return this.neurons.map((n) => n.forward(x));
  }

  parameters(): Value[] {
    return this.neurons.flatMap((n) => n.parameters());
  }
}

export interface MLPOptions {
  /** Activation of the hidden layers; the last layer is linear. Default 'tanh'. */
  activation?: Activation;
}

/** new MLP(2, [16, 16, 1]): two inputs, two hidden layers of 16, one linear output. */
export class MLP {
  readonly layers: Layer[];

  constructor(inputs: number, sizes: readonly number[], options: MLPOptions = {}) {
    const dims = [inputs, ...sizes];
    this.layers = sizes.map(
      (_, i) => new Layer(dims[i], dims[i + 1], i === sizes.length - 1 ? 'linear' : (options.activation ?? 'tanh')),
    );
  }

  forward(x: readonly (Value | number)[]): Value[] {
    return this.layers.reduce<readonly (Value | number)[]>((h, layer) => layer.forward(h), x) as Value[];
  }

  parameters(): Value[] {
    return this.layers.flatMap((l) => l.parameters());
  }

  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = 0;
  }
}
