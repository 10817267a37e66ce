/**
 * GoogLeNet (Inception v1, Szegedy et al. 2015) in torchvision's layout: 6,624,904 parameters with
 * 1000 classes and no auxiliary heads. As in torchvision, each Inception's "5x5" branch uses a 3×3
 * convolution (the paper has 5×5), and every convolution is followed by batch norm.
 */
import type { Tensor } from '../tensor/tensor.js';
import { cat } from '../ops/join.js';
import { dropout } from '../ops/dropout.js';
import { adaptiveAvgPool2d } from '../ops/pool.js';
import { BatchNorm2d } from '../nn/batchnorm.js';
import { normal_ } from '../nn/init.js';
import { AdaptiveAvgPool2d, Conv2d, Dropout, Linear, MaxPool2d, Sequential } from '../nn/layers.js';
import type { Conv2dLayerOptions } from '../nn/layers.js';
import { Module } from '../nn/module.js';
import type { Pair } from '../ops/conv.js';

class BasicConv2d extends Module {
  conv: Conv2d;
  bn: BatchNorm2d;

  constructor(inC: number, outC: number, kernelSize: Pair, options: Conv2dLayerOptions = {}) {
    super();
    this.conv = new Conv2d(inC, outC, kernelSize, { ...options, bias: false });
    this.bn = new BatchNorm2d(outC, { eps: 0.001 });
  }

  forward(x: Tensor): Tensor {
    return this.bn.forward(this.conv.forward(x)).relu_();
  }
}

class Inception extends Module {
  branch1: BasicConv2d;
  branch2: Sequential;
  branch3: Sequential;
  branch4: Sequential;

  constructor(
    inC: number,
    ch1x1: number,
    ch3x3red: number,
    ch3x3: number,
    ch5x5red: number,
    ch5x5: number,
    poolProj: number,
  ) {
    super();
    this.branch1 = new BasicConv2d(inC, ch1x1, 1);
    this.branch2 = new Sequential(
      new BasicConv2d(inC, ch3x3red, 1),
      new BasicConv2d(ch3x3red, ch3x3, 3, { padding: 1 }),
    );
    this.branch3 = new Sequential(
      new BasicConv2d(inC, ch5x5red, 1),
      new BasicConv2d(ch5x5red, ch5x5, 3, { padding: 1 }),
    );
    this.branch4 = new Sequential(
      new MaxPool2d(3, { stride: 1, padding: 1, ceilMode: true }),
      new BasicConv2d(inC, poolProj, 1),
    );
  }

  forward(x: Tensor): Tensor {
    return cat([this.branch1.forward(x), this.branch2.forward(x), this.branch3.forward(x), this.branch4.forward(x)], 1);
  }
}

class InceptionAux extends Module {
  conv: BasicConv2d;
  fc1 = new Linear(2048, 1024);
  fc2: Linear;

  constructor(inC: number, numClasses: number) {
    super();
    this.conv = new BasicConv2d(inC, 128, 1);
    this.fc2 = new Linear(1024, numClasses);
  }

  forward(x: Tensor): Tensor {
    const h = this.conv.forward(adaptiveAvgPool2d(x, [4, 4])).flatten(1);
    return this.fc2.forward(dropout(this.fc1.forward(h).relu(), 0.7, { training: this.training }));
  }
}

export interface GoogLeNetOptions {
  numClasses?: number;
  inChannels?: number;
  /** Add the two auxiliary classifiers (used in training; forward still returns the main logits). */
  auxLogits?: boolean;
}

export class GoogLeNet extends Module {
  conv1: BasicConv2d;
  maxpool1 = new MaxPool2d(3, { stride: 2, ceilMode: true });
  conv2 = new BasicConv2d(64, 64, 1);
  conv3 = new BasicConv2d(64, 192, 3, { padding: 1 });
  maxpool2 = new MaxPool2d(3, { stride: 2, ceilMode: true });
  inception3a = new Inception(192, 64, 96, 128, 16, 32, 32);
  inception3b = new Inception(256, 128, 128, 192, 32, 96, 64);
  maxpool3 = new MaxPool2d(3, { stride: 2, ceilMode: true });
  inception4a = new Inception(480, 192, 96, 208, 16, 48, 64);
  inception4b = new Inception(512, 160, 112, 224, 24, 64, 64);
  inception4c = new Inception(512, 128, 128, 256, 24, 64, 64);
  inception4d = new Inception(512, 112, 144, 288, 32, 64, 64);
  inception4e = new Inception(528, 256, 160, 320, 32, 128, 128);
  maxpool4 = new MaxPool2d(2, { stride: 2, ceilMode: true });
  inception5a = new Inception(832, 256, 160, 320, 32, 128, 128);
  inception5b = new Inception(832, 384, 192, 384, 48, 128, 128);
  aux1: InceptionAux | null;
  aux2: InceptionAux | null;
  avgpool = new AdaptiveAvgPool2d([1, 1]);
  dropout = new Dropout(0.2);
  fc: Linear;
  /** The auxiliary logits of the last training-mode forward (when auxLogits is on). */
  auxOutputs: Tensor[] = [];

  constructor(options: GoogLeNetOptions = {}) {
    super();
    const classes = options.numClasses ?? 1000;
    this.conv1 = new BasicConv2d(options.inChannels ?? 3, 64, 7, { stride: 2, padding: 3 });
    this.aux1 = options.auxLogits ? new InceptionAux(512, classes) : null;
    this.aux2 = options.auxLogits ? new InceptionAux(528, classes) : null;
    this.fc = new Linear(1024, classes);
    // torchvision: trunc_normal_(std=0.01, a=-2, b=2), whose bounds (±200σ) never bind: N(0, 0.01²).
    for (const m of this.modules()) {
      if (m instanceof Conv2d || m instanceof Linear) normal_(m.weight, 0, 0.01);
    }
  }

  forward(x: Tensor): Tensor {
    let h = this.maxpool1.forward(this.conv1.forward(x));
    h = this.maxpool2.forward(this.conv3.forward(this.conv2.forward(h)));
    h = this.maxpool3.forward(this.inception3b.forward(this.inception3a.forward(h)));
    h = this.inception4a.forward(h);
    const aux: Tensor[] = [];
    if (this.aux1 && this.training) aux.push(this.aux1.forward(h));
    h = this.inception4d.forward(this.inception4c.forward(this.inception4b.forward(h)));
    if (this.aux2 && this.training) aux.push(this.aux2.forward(h));
    h = this.maxpool4.forward(this.inception4e.forward(h));
    h = this.inception5b.forward(this.inception5a.forward(h));
    this.auxOutputs = aux;
    return this.fc.forward(this.dropout.forward(this.avgpool.forward(h).flatten(1)));
  }
}

export const googlenet = (options: GoogLeNetOptions = {}) => new GoogLeNet(options);
