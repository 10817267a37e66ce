/** ResNet-18/34 (BasicBlock) and ResNet-50 (Bottleneck), He et al. (2016), torchvision's layout. */
import type { Tensor } from '../tensor/tensor.js';
import { add } from '../ops/elementwise.js';
import { BatchNorm2d } from '../nn/batchnorm.js';
import { kaimingNormal_ } from '../nn/init.js';
import { AdaptiveAvgPool2d, Conv2d, Linear, MaxPool2d, ReLU, runChain, Sequential } from '../nn/layers.js';
import { Module } from '../nn/module.js';
import type { ClassifierOptions } from './alexnet-vgg.js';

const conv3x3 = (inC: number, outC: number, stride = 1) =>
  new Conv2d(inC, outC, 3, { stride, padding: 1, bias: false });
const conv1x1 = (inC: number, outC: number, stride = 1) => new Conv2d(inC, outC, 1, { stride, bias: false });

export class BasicBlock extends Module {
  static readonly expansion = 1;
  conv1: Conv2d;
  bn1: BatchNorm2d;
  relu = new ReLU({ inplace: true });
  conv2: Conv2d;
  bn2: BatchNorm2d;
  downsample: Sequential | null;

  constructor(inplanes: number, planes: number, stride = 1, downsample: Sequential | null = null) {
    super();
    this.conv1 = conv3x3(inplanes, planes, stride);
    this.bn1 = new BatchNorm2d(planes);
    this.conv2 = conv3x3(planes, planes);
    this.bn2 = new BatchNorm2d(planes);
    this.downsample = downsample;
  }

  forward(x: Tensor): Tensor {
    const out = runChain([this.conv1, this.bn1, this.relu, this.conv2, this.bn2], x);
    const identity = this.downsample ? this.downsample.forward(x) : x;
    // The residual connection: the block learns F(x) and outputs relu(F(x) + x).
    return this.relu.forward(add(out, identity));
  }
}

export class Bottleneck extends Module {
  static readonly expansion = 4;
  conv1: Conv2d;
  bn1: BatchNorm2d;
  conv2: Conv2d;
  bn2: BatchNorm2d;
  conv3: Conv2d;
  bn3: BatchNorm2d;
  relu = new ReLU({ inplace: true });
  downsample: Sequential | null;

  constructor(inplanes: number, planes: number, stride = 1, downsample: Sequential | null = null) {
    super();
    this.conv1 = conv1x1(inplanes, planes);
    this.bn1 = new BatchNorm2d(planes);
    this.conv2 = conv3x3(planes, planes, stride);
    this.bn2 = new BatchNorm2d(planes);
    this.conv3 = conv1x1(planes, planes * 4);
    this.bn3 = new BatchNorm2d(planes * 4);
    this.downsample = downsample;
  }

  forward(x: Tensor): Tensor {
    const out = runChain([this.conv1, this.bn1, this.relu, this.conv2, this.bn2, this.relu, this.conv3, this.bn3], x);
    const identity = this.downsample ? this.downsample.forward(x) : x;
    return this.relu.forward(add(out, identity));
  }
}

type BlockClass = typeof BasicBlock | typeof Bottleneck;

export class ResNet extends Module {
  conv1: Conv2d;
  bn1: BatchNorm2d;
  relu = new ReLU({ inplace: true });
  maxpool = new MaxPool2d(3, { stride: 2, padding: 1 });
  layer1: Sequential;
  layer2: Sequential;
  layer3: Sequential;
  layer4: Sequential;
  avgpool = new AdaptiveAvgPool2d([1, 1]);
  fc: Linear;
  private inplanes = 64;

  constructor(block: BlockClass, layers: [number, number, number, number], options: ClassifierOptions = {}) {
    super();
    this.conv1 = new Conv2d(options.inChannels ?? 3, 64, 7, { stride: 2, padding: 3, bias: false });
    this.bn1 = new BatchNorm2d(64);
    this.layer1 = this.makeLayer(block, 64, layers[0]);
    this.layer2 = this.makeLayer(block, 128, layers[1], 2);
    this.layer3 = this.makeLayer(block, 256, layers[2], 2);
    this.layer4 = this.makeLayer(block, 512, layers[3], 2);
    this.fc = new Linear(512 * block.expansion, options.numClasses ?? 1000);
    for (const m of this.modules())
      if (m instanceof Conv2d) kaimingNormal_(m.weight, { mode: 'fan_out', nonlinearity: 'relu' });
  }

  private makeLayer(block: BlockClass, planes: number, blocks: number, stride = 1): Sequential {
    let downsample: Sequential | null = null;
    if (stride !== 1 || this.inplanes !== planes * block.expansion) {
      downsample = new Sequential(
        conv1x1(this.inplanes, planes * block.expansion, stride),
        new BatchNorm2d(planes * block.expansion),
      );
    }
    const list: Module[] = [new block(this.inplanes, planes, stride, downsample)];
    this.inplanes = planes * block.expansion;
    for (let i = 1; i < blocks; i++) list.push(new block(this.inplanes, planes));
    return new Sequential(...list);
  }

  forward(x: Tensor): Tensor {
    const h = runChain(
      [this.conv1, this.bn1, this.relu, this.maxpool, this.layer1, this.layer2, this.layer3, this.layer4, this.avgpool],
      x,
    );
    return this.fc.forward(h.flatten(1));
  }
}

/** 11,689,512 parameters (1000 classes). */
export const resnet18 = (options: ClassifierOptions = {}) => new ResNet(BasicBlock, [2, 2, 2, 2], options);
/** 21,797,672 parameters (1000 classes). */
export const resnet34 = (options: ClassifierOptions = {}) => new ResNet(BasicBlock, [3, 4, 6, 3], options);
/** 25,557,032 parameters (1000 classes). */
export const resnet50 = (options: ClassifierOptions = {}) => new ResNet(Bottleneck, [3, 4, 6, 3], options);
