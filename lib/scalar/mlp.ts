/** A multi-layer perceptron built of scalar Values: the course's first network. */
import { nextUniform } from '../tensor/random.js';
import { Value } from './value.js';

/** A neuron's nonlinearity; 'linear' is none. */
export type Activation = 'tanh' | 'relu' | 'linear';

/** activation(w · x + b) over scalar Values, with weights and bias drawn from U(±1/√inputs). */
export class Neuron {
  /** One weight per input. */
  readonly weights: Value[];
  /** The bias. */
  readonly bias: Value;

  /**
   * @param inputs - The number of inputs.
   * @param activation - The nonlinearity (default 'tanh').
   */
  constructor(
    inputs: number,
    readonly activation: Activation = 'tanh',
  ) {
    // U(±1/√fan_in), the same default as a PyTorch Linear layer; seeded by ng.manualSeed.
    const bound = 1 / Math.sqrt(inputs);
    this.weights = Array.from({ length: inputs }, () => new Value((nextUniform() * 2 - 1) * bound));
    this.bias = new Value((nextUniform() * 2 - 1) * bound);
  }

  /** The neuron's output for inputs `x`. */
  forward(x: readonly (Value | number)[]): Value {
    const z = this.weights.reduce((acc, w, i) => acc.add(w.mul(x[i])), this.bias);
    if (this.activation === 'tanh') return z.tanh();
    if (this.activation === 'relu') return z.relu();
    return z;
  }

  /** The weights, then the bias. */
  parameters(): Value[] {
    return [...this.weights, this.bias];
  }
}

/** `outputs` neurons reading the same inputs. */
export class Layer {
  /** The neurons, one per output. */
  readonly neurons: Neuron[];

  /**
   * @param inputs - The number of inputs.
   * @param outputs - The number of neurons.
   * @param activation - Every neuron's nonlinearity.
   */
  constructor(inputs: number, outputs: number, activation: Activation) {
    this.neurons = Array.from({ length: outputs }, () => new Neuron(inputs, activation));
  }

  /** Each neuron's output for inputs `x`. */
  forward(x: readonly (Value | number)[]): Value[] {
    return this.neurons.map((n) => n.forward(x));
  }

  /** Every neuron's parameters, in order. */
  parameters(): Value[] {
    return this.neurons.flatMap((n) => n.parameters());
  }
}

/** Options of MLP. */
export interface MLPOptions {
  /** Activation of the hidden layers; the last layer is linear. Default 'tanh'. */
  activation?: Activation;
}

/**
 * A multi-layer perceptron of scalar Values: new MLP(2, [16, 16, 1]) has two inputs, two hidden
 * layers of 16 and one linear output.
 *
 * @example
 * ```ts
 * const mlp = new ng.scalar.MLP(2, [16, 16, 1]);
 * const [y] = mlp.forward([0.5, -1]);
 * const loss = y.sub(1).pow(2);
 * mlp.zeroGrad();
 * loss.backward();
 * for (const p of mlp.parameters()) p.data -= 0.05 * p.grad;
 * ```
 */
export class MLP {
  /** The layers, input to output. */
  readonly layers: Layer[];

  /**
   * @param inputs - The number of inputs.
   * @param sizes - Each layer's number of outputs; the last layer is linear.
   * @param options - activation of the hidden layers (default 'tanh').
   */
  constructor(inputs: number, sizes: readonly number[], options: MLPOptions = {}) {
    const dims = [inputs, ...sizes];
    this.layers = sizes.map(
      (_, i) => new Layer(dims[i], dims[i + 1], i === sizes.length - 1 ? 'linear' : (options.activation ?? 'tanh')),
    );
  }

  /** The outputs for inputs `x`. */
  forward(x: readonly (Value | number)[]): Value[] {
    return this.layers.reduce<readonly (Value | number)[]>((h, layer) => layer.forward(h), x) as Value[];
  }

  /** Every layer's parameters, in order. */
  parameters(): Value[] {
    return this.layers.flatMap((l) => l.parameters());
  }

  /** Sets every parameter's grad to 0 (do it before each backward: gradients accumulate). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = 0;
  }
}
