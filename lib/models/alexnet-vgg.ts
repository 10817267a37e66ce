/** AlexNet and VGG-11/16/19 (optionally with batch norm), with torchvision's layout and keys. */
import type { Tensor } from '../tensor/tensor.js';
import { BatchNorm2d } from '../nn/batchnorm.js';
import { constant_, kaimingNormal_, normal_ } from '../nn/init.js';
import { AdaptiveAvgPool2d, Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU, Sequential } from '../nn/layers.js';
import { Module } from '../nn/module.js';

/** Options of the ImageNet-style classifiers (AlexNet, ResNet). */
export interface ClassifierOptions {
  /** Outputs of the last layer. Default 1000. */
  numClasses?: number;
  /** Channels of the input images. Default 3. */
  inChannels?: number;
}

/**
 * AlexNet (Krizhevsky et al., 2012), torchvision's single-GPU variant and keys: 61,100,840 parameters
 * (1000 classes). Shape: input [N, inChannels, H, W] (224×224 in ImageNet; at least 63×63) → logits
 * [N, numClasses].
 */
export class AlexNet extends Module {
  /** Five convolutions with ReLU and three max pools: 256 channels out. */
  features: Sequential;
  /** Pools the features to 6×6 whatever the input size. */
  avgpool = new AdaptiveAvgPool2d([6, 6]);
  /** Dropout and three Linear layers, 256·6·6 → 4096 → 4096 → numClasses. */
  classifier: Sequential;

  /** @param options - numClasses (default 1000), inChannels (default 3). */
  constructor(options: ClassifierOptions = {}) {
    super();
    this.features = new Sequential(
      new Conv2d(options.inChannels ?? 3, 64, 11, { stride: 4, padding: 2 }),
      new ReLU({ inplace: true }),
      new MaxPool2d(3, { stride: 2 }),
      new Conv2d(64, 192, 5, { padding: 2 }),
      new ReLU({ inplace: true }),
      new MaxPool2d(3, { stride: 2 }),
      new Conv2d(192, 384, 3, { padding: 1 }),
      new ReLU({ inplace: true }),
      new Conv2d(384, 256, 3, { padding: 1 }),
      new ReLU({ inplace: true }),
      new Conv2d(256, 256, 3, { padding: 1 }),
      new ReLU({ inplace: true }),
      new MaxPool2d(3, { stride: 2 }),
    );
    this.classifier = new Sequential(
      new Dropout(0.5),
      new Linear(256 * 6 * 6, 4096),
      new ReLU({ inplace: true }),
      new Dropout(0.5),
      new Linear(4096, 4096),
      new ReLU({ inplace: true }),
      new Linear(4096, options.numClasses ?? 1000),
    );
  }

  /** The logits of a batch of images. */
  forward(x: Tensor): Tensor {
    return this.classifier.forward(this.avgpool.forward(this.features.forward(x)).flatten(1));
  }
}

const VGG_CONFIGS: Record<string, (number | 'M')[]> = {
  vgg11: [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  vgg16: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],
  vgg19: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512, 'M'],
};

/** Options of VGG: those of every classifier, plus batch norm. */
export interface VggOptions extends ClassifierOptions {
  /** Batch norm after every convolution (torchvision's vgg16_bn). Default false. */
  batchNorm?: boolean;
}

/**
 * VGG (Simonyan & Zisserman, 2015), torchvision's layout and keys; build one with vgg11, vgg16 or
 * vgg19. vgg16: 138,357,544 parameters; vgg19: 143,667,240 (1000 classes). Shape: input
 * [N, inChannels, H, W] (224×224 in ImageNet; at least 32×32) → logits [N, numClasses].
 */
export class VGG extends Module {
  /** The 3×3 convolutions (with batch norm if asked) and ReLUs, a max pool after each block: 512 channels out. */
  features: Sequential;
  /** Pools the features to 7×7 whatever the input size. */
  avgpool = new AdaptiveAvgPool2d([7, 7]);
  /** Three Linear layers with ReLU and dropout, 512·7·7 → 4096 → 4096 → numClasses. */
  classifier: Sequential;

  /**
   * @param config - Output channels of each 3×3 convolution, 'M' for a 2×2 max pool.
   * @param options - numClasses (default 1000), inChannels (default 3), batchNorm (default false).
   */
  constructor(config: (number | 'M')[], options: VggOptions = {}) {
    super();
    const layers: Module[] = [];
    let channels = options.inChannels ?? 3;
    for (const v of config) {
      if (v === 'M') {
        layers.push(new MaxPool2d(2, { stride: 2 }));
        continue;
      }
      const conv = new Conv2d(channels, v, 3, { padding: 1 });
      kaimingNormal_(conv.weight, { mode: 'fan_out', nonlinearity: 'relu' });
      if (conv.bias) constant_(conv.bias, 0);
      layers.push(conv);
      if (options.batchNorm) layers.push(new BatchNorm2d(v));
      layers.push(new ReLU({ inplace: true }));
      channels = v;
    }
    this.features = new Sequential(...layers);
    const linears = [
      new Linear(512 * 7 * 7, 4096),
      new Linear(4096, 4096),
      new Linear(4096, options.numClasses ?? 1000),
    ];
    for (const l of linears) {
      normal_(l.weight, 0, 0.01);
      if (l.bias) constant_(l.bias, 0);
    }
    this.classifier = new Sequential(
      linears[0],
      new ReLU({ inplace: true }),
      new Dropout(0.5),
      linears[1],
      new ReLU({ inplace: true }),
      new Dropout(0.5),
      linears[2],
    );
  }

  /** The logits of a batch of images. */
  forward(x: Tensor): Tensor {
    return this.classifier.forward(new Flatten().forward(this.avgpool.forward(this.features.forward(x))));
  }
}

/** A new AlexNet (unregistered: ng.models.alexnet is the registered, saveable one). */
export const alexnet = (options: ClassifierOptions = {}) => new AlexNet(options);
/** A new VGG-11 (configuration A). */
export const vgg11 = (options: VggOptions = {}) => new VGG(VGG_CONFIGS.vgg11, options);
/** A new VGG-16 (configuration D). */
export const vgg16 = (options: VggOptions = {}) => new VGG(VGG_CONFIGS.vgg16, options);
/** A new VGG-19 (configuration E). */
export const vgg19 = (options: VggOptions = {}) => new VGG(VGG_CONFIGS.vgg19, options);
