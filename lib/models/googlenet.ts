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
import { AdaptiveAvgPool2d, Conv2d, Dropout, Linear, MaxPool2d, ReLU, runChain, Sequential } from '../nn/layers.js';
import type { Conv2dLayerOptions } from '../nn/layers.js';
import { Module } from '../nn/module.js';
import type { Pair } from '../ops/conv.js';

/** The ReLU every BasicConv2d ends with (no state, so one instance serves them all). */
const blockRelu = new ReLU();

/** Convolution (no bias), batch norm (eps 0.001) and ReLU: GoogLeNet's building block, torchvision's `BasicConv2d`. */
export class BasicConv2d extends Module {
  /** The convolution, without bias. */
  conv: Conv2d;
  /** Batch norm after the convolution. */
  bn: BatchNorm2d;

  /**
   * @param inC - Input channels.
   * @param outC - Output channels.
   * @param kernelSize - The filter size.
   * @param options - Conv2d's options (stride, padding, ...); bias is always off.
   */
  constructor(inC: number, outC: number, kernelSize: Pair, options: Conv2dLayerOptions = {}) {
    super();
    this.conv = new Conv2d(inC, outC, kernelSize, { ...options, bias: false });
    this.bn = new BatchNorm2d(outC, { eps: 0.001 });
  }

  /** relu(bn(conv(x))): batch norm and ReLU in one pass, and without grad in eval mode one convolution. */
  forward(x: Tensor): Tensor {
    return runChain([this.conv, this.bn, blockRelu], x);
  }
}

/**
 * An Inception module: four parallel branches (1×1; 1×1 → 3×3; 1×1 → 3×3; 3×3 max pool → 1×1)
 * concatenated along channels. Shape: [N, inC, H, W] → [N, ch1x1 + ch3x3 + ch5x5 + poolProj, H, W].
 */
export class Inception extends Module {
  /** 1×1 convolution, inC → ch1x1. */
  branch1: BasicConv2d;
  /** 1×1 reduction to ch3x3red, then 3×3 → ch3x3. */
  branch2: Sequential;
  /** 1×1 reduction to ch5x5red, then 3×3 (torchvision's stand-in for 5×5) → ch5x5. */
  branch3: Sequential;
  /** 3×3 stride-1 max pool, then 1×1 → poolProj. */
  branch4: Sequential;

  /**
   * @param inC - Input channels.
   * @param ch1x1 - Output channels of the 1×1 branch.
   * @param ch3x3red - Channels of the 3×3 branch's 1×1 reduction.
   * @param ch3x3 - Output channels of the 3×3 branch.
   * @param ch5x5red - Channels of the "5×5" branch's 1×1 reduction.
   * @param ch5x5 - Output channels of the "5×5" branch.
   * @param poolProj - Output channels of the pooling branch's 1×1 projection.
   */
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

  /** The four branches' outputs concatenated along dim 1. */
  forward(x: Tensor): Tensor {
    return cat([this.branch1.forward(x), this.branch2.forward(x), this.branch3.forward(x), this.branch4.forward(x)], 1);
  }
}

/**
 * An auxiliary classifier (torchvision's `InceptionAux`): 4×4 average pool, 1×1 convolution to 128
 * channels, Linear 2048 → 1024, ReLU, dropout 0.7, Linear → numClasses. Shape: [N, inC, H, W] → [N, numClasses].
 */
export class InceptionAux extends Module {
  /** 1×1 convolution, inC → 128. */
  conv: BasicConv2d;
  /** Linear, 128·4·4 → 1024. */
  fc1 = new Linear(2048, 1024);
  /** Linear, 1024 → numClasses. */
  fc2: Linear;

  /**
   * @param inC - Input channels (512 after inception4a, 528 after inception4d).
   * @param numClasses - Outputs.
   */
  constructor(inC: number, numClasses: number) {
    super();
    this.conv = new BasicConv2d(inC, 128, 1);
    this.fc2 = new Linear(1024, numClasses);
  }

  /** The auxiliary logits of a feature map. */
  forward(x: Tensor): Tensor {
    const h = this.conv.forward(adaptiveAvgPool2d(x, [4, 4])).flatten(1);
    return this.fc2.forward(dropout(this.fc1.forward(h).relu(), 0.7, { training: this.training }));
  }
}

/** Options of GoogLeNet. */
export interface GoogLeNetOptions {
  /** Outputs of the last layer. Default 1000. */
  numClasses?: number;
  /** Channels of the input images. Default 3. */
  inChannels?: number;
  /** Add the two auxiliary classifiers (used in training; forward still returns the main logits). */
  auxLogits?: boolean;
}

/**
 * GoogLeNet (Inception v1, Szegedy et al., 2015), torchvision's layout and keys: 6,624,904 parameters
 * with 1000 classes and no auxiliary heads. Convolution and Linear weights start as N(0, 0.01²).
 * Shape: input [N, inChannels, H, W] (224×224 in ImageNet) → logits [N, numClasses]; the channel
 * counts below are for that input, the sizes halve at each stride-2 layer (112, 56, 28, 14, 7).
 */
export class GoogLeNet extends Module {
  /** 7×7 stride-2 BasicConv2d, inChannels → 64. */
  conv1: BasicConv2d;
  /** 3×3 stride-2 max pool. */
  maxpool1 = new MaxPool2d(3, { stride: 2, ceilMode: true });
  /** 1×1 BasicConv2d, 64 → 64. */
  conv2 = new BasicConv2d(64, 64, 1);
  /** 3×3 BasicConv2d, 64 → 192. */
  conv3 = new BasicConv2d(64, 192, 3, { padding: 1 });
  /** 3×3 stride-2 max pool. */
  maxpool2 = new MaxPool2d(3, { stride: 2, ceilMode: true });
  /** Inception, 192 → 256 channels. */
  inception3a = new Inception(192, 64, 96, 128, 16, 32, 32);
  /** Inception, 256 → 480 channels. */
  inception3b = new Inception(256, 128, 128, 192, 32, 96, 64);
  /** 3×3 stride-2 max pool. */
  maxpool3 = new MaxPool2d(3, { stride: 2, ceilMode: true });
  /** Inception, 480 → 512 channels (aux1 reads its output). */
  inception4a = new Inception(480, 192, 96, 208, 16, 48, 64);
  /** Inception, 512 → 512 channels. */
  inception4b = new Inception(512, 160, 112, 224, 24, 64, 64);
  /** Inception, 512 → 512 channels. */
  inception4c = new Inception(512, 128, 128, 256, 24, 64, 64);
  /** Inception, 512 → 528 channels (aux2 reads its output). */
  inception4d = new Inception(512, 112, 144, 288, 32, 64, 64);
  /** Inception, 528 → 832 channels. */
  inception4e = new Inception(528, 256, 160, 320, 32, 128, 128);
  /** 2×2 stride-2 max pool. */
  maxpool4 = new MaxPool2d(2, { stride: 2, ceilMode: true });
  /** Inception, 832 → 832 channels. */
  inception5a = new Inception(832, 256, 160, 320, 32, 128, 128);
  /** Inception, 832 → 1024 channels. */
  inception5b = new Inception(832, 384, 192, 384, 48, 128, 128);
  /** The auxiliary classifier after inception4a; null without `auxLogits`. */
  aux1: InceptionAux | null;
  /** The auxiliary classifier after inception4d; null without `auxLogits`. */
  aux2: InceptionAux | null;
  /** Global average pool to [N, 1024, 1, 1]. */
  avgpool = new AdaptiveAvgPool2d([1, 1]);
  /** Dropout (p = 0.2) before fc. */
  dropout = new Dropout(0.2);
  /** The classifier, 1024 → numClasses. */
  fc: Linear;
  /** The auxiliary logits of the last training-mode forward (when auxLogits is on). */
  auxOutputs: Tensor[] = [];

  /** @param options - numClasses (default 1000), inChannels (default 3), auxLogits (default false). */
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

  /** The main logits of a batch of images; in training mode with auxLogits, the auxiliary ones go to auxOutputs. */
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

/** A new GoogLeNet (unregistered: ng.models.googlenet is the registered, saveable one). */
export const googlenet = (options: GoogLeNetOptions = {}) => new GoogLeNet(options);
