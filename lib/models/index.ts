import type { Module } from '../nn/module.js';
import { alexnet, vgg11, vgg16, vgg19 } from './alexnet-vgg.js';
import { googlenet } from './googlenet.js';
import { lenet5 } from './lenet.js';
import { resnet18, resnet34, resnet50 } from './resnet.js';

export { LeNet5, lenet5, type LeNet5Options } from './lenet.js';
export { AlexNet, VGG, alexnet, vgg11, vgg16, vgg19, type ClassifierOptions, type VggOptions } from './alexnet-vgg.js';
export { GoogLeNet, googlenet, type GoogLeNetOptions } from './googlenet.js';
export { ResNet, BasicBlock, Bottleneck, resnet18, resnet34, resnet50 } from './resnet.js';
export { summary, type Summary, type SummaryRow } from './summary.js';

export interface ModelOptions {
  numClasses?: number;
  inChannels?: number;
  batchNorm?: boolean;
}

/** The zoo by name, for the CLI and for code that picks a model from configuration. */
export const registry: Record<string, (options: ModelOptions) => Module> = {
  lenet5, alexnet, vgg11, vgg16, vgg19, googlenet, resnet18, resnet34, resnet50,
};
