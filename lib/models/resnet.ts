/** ResNet-18/34 (BasicBlock) and ResNet-50 (Bottleneck), He et al. (2016), torchvision's layout. */
import type { Tensor } from '../tensor/tensor.js';
import { addRelu } from '../ops/add-relu.js';
import { BatchNorm2d } from '../nn/batchnorm.js';
import { kaimingNormal_ } from '../nn/init.js';
import { AdaptiveAvgPool2d, Conv2d, Linear, MaxPool2d, ReLU, runChain, Sequential } from '../nn/layers.js';
import { Module } from '../nn/module.js';
import type { ClassifierOptions } from './alexnet-vgg.js';

const conv3x3 = (inC: number, outC: number, stride = 1) =>
  new Conv2d(inC, outC, 3, { stride, padding: 1, bias: false });
const conv1x1 = (inC: number, outC: number, stride = 1) => new Conv2d(inC, outC, 1, { stride, bias: false });

/**
 * ResNet-18/34's residual block, torchvision's `BasicBlock`: relu(bn2(conv2(relu(bn1(conv1(x))))) +
 * shortcut(x)) with two 3×3 convolutions. Shape: [N, inplanes, H, W] → [N, planes, H / stride, W / stride].
 */
export class BasicBlock extends Module {
  /** Output channels per `planes`: 1. */
  static readonly expansion = 1;
  /** 3×3 convolution, inplanes → planes, with the block's stride. */
  conv1: Conv2d;
  /** Batch norm after conv1. */
  bn1: BatchNorm2d;
  /** The ReLU after bn1 (fused into it by runChain); the one after the addition is fused into addRelu. */
  relu = new ReLU({ inplace: true });
  /** 3×3 convolution, planes → planes. */
  conv2: Conv2d;
  /** Batch norm after conv2. */
  bn2: BatchNorm2d;
  /** Maps x to the output's shape (1×1 convolution and batch norm) when it differs; null: the identity. */
  downsample: Sequential | null;

  /**
   * @param inplanes - Input channels.
   * @param planes - Output channels.
   * @param stride - Stride of conv1 (2 halves H and W). Default 1.
   * @param downsample - The shortcut's projection when the shape changes. Default null (identity).
   */
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
    // The residual connection: the block learns F(x) and outputs relu(F(x) + x), in one pass.
    return addRelu(out, identity);
  }
}

/**
 * ResNet-50's residual block, torchvision's `Bottleneck` (ResNet v1.5, the stride on the 3×3):
 * 1×1 reduce → 3×3 → 1×1 expand (×4), each with batch norm, plus the shortcut.
 * Shape: [N, inplanes, H, W] → [N, 4·planes, H / stride, W / stride].
 */
export class Bottleneck extends Module {
  /** Output channels per `planes`: 4. */
  static readonly expansion = 4;
  /** 1×1 convolution, inplanes → planes. */
  conv1: Conv2d;
  /** Batch norm after conv1. */
  bn1: BatchNorm2d;
  /** 3×3 convolution, planes → planes, with the block's stride. */
  conv2: Conv2d;
  /** Batch norm after conv2. */
  bn2: BatchNorm2d;
  /** 1×1 convolution, planes → 4·planes. */
  conv3: Conv2d;
  /** Batch norm after conv3. */
  bn3: BatchNorm2d;
  /** The ReLU after bn1 and bn2 (fused into them by runChain); the one after the addition is fused into addRelu. */
  relu = new ReLU({ inplace: true });
  /** Maps x to the output's shape (1×1 convolution and batch norm) when it differs; null: the identity. */
  downsample: Sequential | null;

  /**
   * @param inplanes - Input channels.
   * @param planes - Channels of the inner convolutions; the output has 4·planes.
   * @param stride - Stride of conv2 (2 halves H and W). Default 1.
   * @param downsample - The shortcut's projection when the shape changes. Default null (identity).
   */
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
    return addRelu(out, identity);
  }
}

/** The residual block a ResNet stacks: BasicBlock (ResNet-18/34) or Bottleneck (ResNet-50). */
export type BlockClass = typeof BasicBlock | typeof Bottleneck;

/**
 * Deep residual network (He et al., 2016), torchvision's `ResNet` with its state-dict keys
 * (`layer1.0.conv1.weight`); build one with resnet18, resnet34 or resnet50. Convolutions start with
 * Kaiming normal (fan_out) weights, as torchvision's.
 *
 * Shape: input [N, inChannels, H, W] (224×224 in ImageNet) → logits [N, numClasses]; the stem and the
 * stages divide H and W by 32 before the global average pool, which makes the classifier independent
 * of the input size.
 */
export class ResNet extends Module {
  /** The stem's 7×7 stride-2 convolution, inChannels → 64. */
  conv1: Conv2d;
  /** Batch norm after conv1. */
  bn1: BatchNorm2d;
  /** The stem's in-place ReLU. */
  relu = new ReLU({ inplace: true });
  /** The stem's 3×3 stride-2 max pool. */
  maxpool = new MaxPool2d(3, { stride: 2, padding: 1 });
  /** Stage 1: 64·expansion channels, stride 1. */
  layer1: Sequential;
  /** Stage 2: 128·expansion channels, stride 2. */
  layer2: Sequential;
  /** Stage 3: 256·expansion channels, stride 2. */
  layer3: Sequential;
  /** Stage 4: 512·expansion channels, stride 2. */
  layer4: Sequential;
  /** Global average pool to [N, 512·expansion, 1, 1]. */
  avgpool = new AdaptiveAvgPool2d([1, 1]);
  /** The classifier, 512·expansion → numClasses. */
  fc: Linear;
  private inplanes = 64;

  /**
   * @param block - The residual block: BasicBlock or Bottleneck.
   * @param layers - Blocks per stage, e.g. [2, 2, 2, 2] for ResNet-18.
   * @param options - numClasses (default 1000), inChannels (default 3).
   */
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

/** ResNet-18: 11,689,512 parameters (1000 classes). */
export const resnet18 = (options: ClassifierOptions = {}) => new ResNet(BasicBlock, [2, 2, 2, 2], options);
/** ResNet-34: 21,797,672 parameters (1000 classes). */
export const resnet34 = (options: ClassifierOptions = {}) => new ResNet(BasicBlock, [3, 4, 6, 3], options);
/** ResNet-50: 25,557,032 parameters (1000 classes). */
export const resnet50 = (options: ClassifierOptions = {}) => new ResNet(Bottleneck, [3, 4, 6, 3], options);
