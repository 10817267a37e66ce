/** ONNX emitters of the vision zoo's custom forwards (ng.models): LeNet-5, AlexNet, VGG, ResNet, GoogLeNet. */
import { LeNet5 } from '../models/lenet.js';
import { AlexNet, VGG } from '../models/alexnet-vgg.js';
import { BasicBlock, Bottleneck, ResNet } from '../models/resnet.js';
import { BasicConv2d, GoogLeNet, Inception } from '../models/googlenet.js';
import type { Module } from '../nn/module.js';
import { type ExportContext, registerEmitter } from './export-context.js';

const chain = (ctx: ExportContext, modules: Module[], x: string) => modules.reduce((h, m) => ctx.emit1(m, h), x);
const flatten = (ctx: ExportContext, x: string) => ctx.node('Flatten', [x], { axis: 1 });

registerEmitter(LeNet5, (ctx, m, [x]) => [chain(ctx, [m.features, m.classifier], x)]);

for (const cls of [AlexNet, VGG]) {
  registerEmitter(cls, (ctx, m, [x]) => {
    const pooled = chain(ctx, [m.features, m.avgpool], x);
    return [ctx.emit1(m.classifier, flatten(ctx, pooled))];
  });
}

registerEmitter(BasicBlock, (ctx, m, [x]) => {
  const out = chain(ctx, [m.conv1, m.bn1, m.relu, m.conv2, m.bn2], x);
  const identity = m.downsample ? ctx.emit1(m.downsample, x) : x;
  return [ctx.emit1(m.relu, ctx.node('Add', [out, identity]))];
});

registerEmitter(Bottleneck, (ctx, m, [x]) => {
  const out = chain(ctx, [m.conv1, m.bn1, m.relu, m.conv2, m.bn2, m.relu, m.conv3, m.bn3], x);
  const identity = m.downsample ? ctx.emit1(m.downsample, x) : x;
  return [ctx.emit1(m.relu, ctx.node('Add', [out, identity]))];
});

registerEmitter(ResNet, (ctx, m, [x]) => {
  const stages = [m.conv1, m.bn1, m.relu, m.maxpool, m.layer1, m.layer2, m.layer3, m.layer4, m.avgpool];
  return [ctx.emit1(m.fc, flatten(ctx, chain(ctx, stages, x)))];
});

registerEmitter(BasicConv2d, (ctx, m, [x]) => [ctx.node('Relu', [chain(ctx, [m.conv, m.bn], x)])]);

registerEmitter(Inception, (ctx, m, [x]) => {
  const branches = [m.branch1, m.branch2, m.branch3, m.branch4].map((b) => ctx.emit1(b, x));
  return [ctx.node('Concat', branches, { axis: 1 })];
});

// Eval mode: the auxiliary heads do not run.
registerEmitter(GoogLeNet, (ctx, m, [x]) => {
  const trunk = [m.conv1, m.maxpool1, m.conv2, m.conv3, m.maxpool2, m.inception3a, m.inception3b, m.maxpool3];
  const middle = [m.inception4a, m.inception4b, m.inception4c, m.inception4d, m.inception4e, m.maxpool4];
  const top = [m.inception5a, m.inception5b, m.avgpool];
  const h = chain(ctx, [...trunk, ...middle, ...top], x);
  return [chain(ctx, [m.dropout, m.fc], flatten(ctx, h))];
});
