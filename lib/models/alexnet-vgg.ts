/** AlexNet and VGG-11/16/19 (optionally with batch norm), with torchvision's layout and keys. */
import type { Tensor } from '../tensor/tensor.js';
import { BatchNorm2d } from '../nn/batchnorm.js';
import { constant_, kaimingNormal_, normal_ } from '../nn/init.js';
import { AdaptiveAvgPool2d, Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU, Sequential } from '../nn/layers.js';
import { Module } from '../nn/module.js';

export interface ClassifierOptions {
  numClasses?: number;
  inChannels?: number;
}

/** Krizhevsky et al. (2012), torchvision's single-GPU variant: 61,100,840 parameters (1000 classes). */
export class AlexNet extends Module {
  features: Sequential;
  avgpool = new AdaptiveAvgPool2d([6, 6]);
  classifier: Sequential;

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

  forward(x: Tensor): Tensor {
    return this.classifier.forward(this.avgpool.forward(this.features.forward(x)).flatten(1));
  }
}

const VGG_CONFIGS: Record<string, (number | 'M')[]> = {
  vgg11: [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  vgg16: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],
  vgg19: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512, 'M'],
};

export interface VggOptions extends ClassifierOptions {
  batchNorm?: boolean;
}

/** Simonyan & Zisserman (2015). vgg16: 138,357,544 parameters; vgg19: 143,667,240 (1000 classes). */
export class VGG extends Module {
  features: Sequential;
  avgpool = new AdaptiveAvgPool2d([7, 7]);
  classifier: Sequential;

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

  forward(x: Tensor): Tensor {
    return this.classifier.forward(new Flatten().forward(this.avgpool.forward(this.features.forward(x))));
  }
}

export const alexnet = (options: ClassifierOptions = {}) => new AlexNet(options);
export const vgg11 = (options: VggOptions = {}) => new VGG(VGG_CONFIGS.vgg11, options);
export const vgg16 = (options: VggOptions = {}) => new VGG(VGG_CONFIGS.vgg16, options);
export const vgg19 = (options: VggOptions = {}) => new VGG(VGG_CONFIGS.vgg19, options);
