/** LeNet-5 in its common modern form (ReLU or tanh, max pooling, padded first conv). */
import type { Tensor } from '../tensor/tensor.js';
import { Conv2d, Linear, MaxPool2d, ReLU, Sequential, Tanh, Flatten } from '../nn/layers.js';
import { kaimingUniform_, zeros_ } from '../nn/init.js';
import { Module } from '../nn/module.js';

/** Options of LeNet5. */
export interface LeNet5Options {
  /** Outputs of the last layer. Default 10. */
  numClasses?: number;
  /** Channels of the input images. Default 1. */
  inChannels?: number;
  /** Side of the square input; 28 (MNIST) gives fc1 400 inputs. */
  inputSize?: number;
  /** The nonlinearity after each layer but the last. Default 'relu'. */
  activation?: 'relu' | 'tanh';
}

/**
 * LeNet-5 (LeCun et al., 1998) in its common modern form: conv 6@5×5 (pad 2) → pool → conv 16@5×5 →
 * pool → 120 → 84 → classes, with ReLU (or tanh) and max pooling: 61,706 parameters for 1×28×28
 * inputs and 10 classes. Weights start with Kaiming uniform, biases at 0.
 *
 * Shape: input [N, inChannels, inputSize, inputSize] → logits [N, numClasses].
 */
export class LeNet5 extends Module {
  /** The two convolution, activation and pooling stages. */
  features: Sequential;
  /** Flatten, then the three Linear layers. */
  classifier: Sequential;

  /**
   * @param options - numClasses (default 10), inChannels (default 1), inputSize (default 28),
   *   activation (default 'relu').
   */
  constructor(options: LeNet5Options = {}) {
    super();
    const act = () => (options.activation === 'tanh' ? new Tanh() : new ReLU());
    const size = options.inputSize ?? 28;
    const side = Math.floor((Math.floor(size / 2) - 4) / 2);
    this.features = new Sequential(
      new Conv2d(options.inChannels ?? 1, 6, 5, { padding: 2 }),
      act(),
      new MaxPool2d(2),
      new Conv2d(6, 16, 5),
      act(),
      new MaxPool2d(2),
    );
    this.classifier = new Sequential(
      new Flatten(),
      new Linear(16 * side * side, 120),
      act(),
      new Linear(120, 84),
      act(),
      new Linear(84, options.numClasses ?? 10),
    );
    // He initialization for the rectified layers (Glorot's gain for tanh): with PyTorch's default
    // U(±1/√fan_in) the first epoch on the embedded digits mostly climbs out of the flat start.
    for (const m of this.modules()) {
      if (m instanceof Conv2d || m instanceof Linear) {
        kaimingUniform_(m.weight, { nonlinearity: options.activation === 'tanh' ? 'tanh' : 'relu' });
        if (m.bias) zeros_(m.bias);
      }
    }
  }

  /** The logits of a batch of images. */
  forward(x: Tensor): Tensor {
    return this.classifier.forward(this.features.forward(x));
  }
}

/** A new LeNet5 (unregistered: ng.models.lenet5 is the registered, saveable one). */
export function lenet5(options: LeNet5Options = {}): LeNet5 {
  return new LeNet5(options);
}
