import { registerModel } from '../io/registry.js';
import type { Module } from '../nn/module.js';
import * as alexnetVgg from './alexnet-vgg.js';
import * as googlenetModule from './googlenet.js';
import * as lenet from './lenet.js';
import * as resnet from './resnet.js';

export { LeNet5, type LeNet5Options } from './lenet.js';
export { AlexNet, VGG, type ClassifierOptions, type VggOptions } from './alexnet-vgg.js';
export { GoogLeNet, type GoogLeNetOptions } from './googlenet.js';
export { ResNet, BasicBlock, Bottleneck } from './resnet.js';
export { summary, type Summary, type SummaryRow } from './summary.js';

// Registered under their own names, so `ng.save(model, path)` records how to rebuild what they build.
export const lenet5 = registerModel('lenet5', lenet.lenet5);
export const alexnet = registerModel('alexnet', alexnetVgg.alexnet);
export const vgg11 = registerModel('vgg11', alexnetVgg.vgg11);
export const vgg16 = registerModel('vgg16', alexnetVgg.vgg16);
export const vgg19 = registerModel('vgg19', alexnetVgg.vgg19);
export const googlenet = registerModel('googlenet', googlenetModule.googlenet);
export const resnet18 = registerModel('resnet18', resnet.resnet18);
export const resnet34 = registerModel('resnet34', resnet.resnet34);
export const resnet50 = registerModel('resnet50', resnet.resnet50);

export interface ModelOptions {
  numClasses?: number;
  inChannels?: number;
  batchNorm?: boolean;
}

/** The zoo by name, for the CLI and for code that picks a model from configuration. */
export const registry: Record<string, (options: ModelOptions) => Module> = {
  lenet5,
  alexnet,
  vgg11,
  vgg16,
  vgg19,
  googlenet,
  resnet18,
  resnet34,
  resnet50,
};
