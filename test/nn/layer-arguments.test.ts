// Layer constructors refuse sizes that are not integers >= 0 (and window options out of range),
// naming the layer and the argument, instead of building a tensor with a fractional shape.
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { expectNodegradError } from '../helpers.js';

const { nn } = ng;

describe('layer constructors validate their sizes', () => {
  it.each([
    ['Linear inFeatures 1.5', () => new nn.Linear(1.5, 3), 'ERR_NODEGRAD_SHAPE', ['Linear:', 'inFeatures', 'got 1.5']],
    ['Linear outFeatures -2', () => new nn.Linear(2, -2), 'ERR_NODEGRAD_SHAPE', ['Linear:', 'outFeatures', 'got -2']],
    [
      'Conv2d inChannels NaN',
      () => new nn.Conv2d(NaN, 4, 3),
      'ERR_NODEGRAD_SHAPE',
      ['Conv2d:', 'inChannels', 'got NaN'],
    ],
    ['Conv2d outChannels 2.5', () => new nn.Conv2d(3, 2.5, 3), 'ERR_NODEGRAD_SHAPE', ['Conv2d:', 'outChannels']],
    ['Conv2d kernelSize 0', () => new nn.Conv2d(3, 4, 0), 'ERR_NODEGRAD_ARGUMENT', ['Conv2d:', 'kernelSize']],
    [
      'Conv2d groups 2 for 3 channels',
      () => new nn.Conv2d(3, 4, 3, { groups: 2 }),
      'ERR_NODEGRAD_ARGUMENT',
      ['Conv2d:', 'groups', 'got 2'],
    ],
    ['Conv2d stride 0', () => new nn.Conv2d(3, 4, 3, { stride: 0 }), 'ERR_NODEGRAD_ARGUMENT', ['Conv2d:', 'stride']],
    [
      'Conv2d padding -1',
      () => new nn.Conv2d(3, 4, 3, { padding: -1 }),
      'ERR_NODEGRAD_ARGUMENT',
      ['Conv2d:', 'padding'],
    ],
    ['MaxPool2d kernelSize 1.5', () => new nn.MaxPool2d(1.5), 'ERR_NODEGRAD_ARGUMENT', ['MaxPool2d:', 'kernelSize']],
    [
      'MaxPool2d dilation 0',
      () => new nn.MaxPool2d(2, { dilation: 0 }),
      'ERR_NODEGRAD_ARGUMENT',
      ['MaxPool2d:', 'dilation'],
    ],
    [
      'AvgPool2d stride [1, 0]',
      () => new nn.AvgPool2d(2, { stride: [1, 0] }),
      'ERR_NODEGRAD_ARGUMENT',
      ['AvgPool2d:', 'stride'],
    ],
    [
      'AdaptiveAvgPool2d outputSize 0',
      () => new nn.AdaptiveAvgPool2d(0),
      'ERR_NODEGRAD_ARGUMENT',
      ['AdaptiveAvgPool2d:', 'outputSize'],
    ],
    [
      'BatchNorm1d numFeatures 2.5',
      () => new nn.BatchNorm1d(2.5),
      'ERR_NODEGRAD_SHAPE',
      ['BatchNorm1d:', 'numFeatures', 'got 2.5'],
    ],
    ['BatchNorm2d numFeatures -1', () => new nn.BatchNorm2d(-1), 'ERR_NODEGRAD_SHAPE', ['BatchNorm2d:', 'numFeatures']],
  ] as const)('%s', (_name, make, code, fragments) => {
    expectNodegradError(make, code, ...fragments);
  });

  it('accepts the valid edge cases PyTorch accepts', () => {
    expect(new nn.Linear(0, 3).weight.shape).toEqual([3, 0]);
    expect(new nn.Conv2d(4, 6, [1, 3], { groups: 2, padding: 'same' }).weight.shape).toEqual([6, 2, 1, 3]);
    expect(new nn.MaxPool2d([2, 3], { stride: 1, padding: 1 }).kernelSize).toEqual([2, 3]);
  });
});
