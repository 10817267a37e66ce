// Convolutions over empty work (no images, no input or output channels, an empty output) through the
// public API, forward and backward, on every native path: the result is the bias (or 0) and the
// gradients are 0, with no crash and no scratch sized from the padded input.
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import type { Conv2dOptions } from '../../lib/ops/conv.js';
import { flat } from '../helpers.js';

const addon = ng.backend.loadAddon();
const paths = addon.convDirect() ? [true, false] : [false];

interface EmptyCase {
  name: string;
  input: number[];
  weight: number[];
  options: Conv2dOptions;
  output: number[];
}

const cases: EmptyCase[] = [
  {
    name: 'no input channels, stride 2',
    input: [1, 0, 8, 8],
    weight: [1, 0, 3, 3],
    options: { stride: 2 },
    output: [1, 1, 3, 3],
  },
  {
    name: 'no input channels per group',
    input: [2, 0, 6, 6],
    weight: [4, 0, 3, 3],
    options: { groups: 2, padding: 1 },
    output: [2, 4, 6, 6],
  },
  { name: 'no output channels', input: [2, 32, 5, 5], weight: [0, 32, 3, 3], options: {}, output: [2, 0, 3, 3] },
  {
    name: 'no output channels, huge padding',
    input: [1, 1, 1, 1],
    weight: [0, 1, 1, 1],
    options: { padding: 100000 },
    output: [1, 0, 200001, 200001],
  },
  { name: 'no images', input: [0, 3, 8, 8], weight: [4, 3, 3, 3], options: { padding: 1 }, output: [0, 4, 8, 8] },
  {
    name: 'no images, huge padding',
    input: [0, 1, 1, 1],
    weight: [2, 1, 1, 1],
    options: { padding: 100000 },
    output: [0, 2, 200001, 200001],
  },
];

const numel = (shape: readonly number[]) => shape.reduce((p, s) => p * s, 1);

describe.each(paths)('empty convolutions (direct kernels %s)', (direct) => {
  const withPath = (fn: () => void) => {
    const before = addon.convDirect(direct);
    try {
      fn();
    } finally {
      addon.convDirect(before);
    }
  };

  describe.each(['float32', 'float64'] as const)('%s', (dtype) => {
    it.each(cases)('$name: forward gives the bias, gradients are 0', ({ input, weight, options, output }) =>
      withPath(() => {
        const x = ng.full(input, 2, { dtype, requiresGrad: true });
        const w = ng.full(weight, 3, { dtype, requiresGrad: true });
        const b = ng.full([weight[0]], 0.5, { dtype, requiresGrad: true });
        const y = ng.conv2d(x, w, b, options);
        expect(y.shape).toEqual(output);
        expect(flat(y)).toEqual(new Array(numel(output)).fill(0.5));
        // An explicit all-ones seed: the gradient of y.sum() without reducing an empty tensor.
        y.backward(ng.ones(output, { dtype }));
        expect(x.grad?.shape).toEqual(input);
        expect(flat(x.grad!)).toEqual(new Array(numel(input)).fill(0));
        expect(w.grad?.shape).toEqual(weight);
        expect(flat(w.grad!)).toEqual(new Array(numel(weight)).fill(0));
        // Each output channel's bias gradient counts its output positions.
        expect(flat(b.grad!)).toEqual(new Array(weight[0]).fill(numel(output) / Math.max(1, weight[0])));
      }),
    );

    it.each(cases)('$name: without bias the output is 0, with fused ReLU too', ({ input, weight, options, output }) =>
      withPath(() => {
        const x = ng.full(input, 2, { dtype, requiresGrad: true });
        const w = ng.full(weight, 3, { dtype, requiresGrad: true });
        const y = ng.nn.functional.conv2d(x, w, null, options);
        expect(y.shape).toEqual(output);
        expect(flat(y)).toEqual(new Array(numel(output)).fill(0));
        y.backward(ng.ones(output, { dtype }));
        expect(flat(x.grad!)).toEqual(new Array(numel(input)).fill(0));
        expect(flat(w.grad!)).toEqual(new Array(numel(weight)).fill(0));
        const negative = ng.full([weight[0]], -0.5, { dtype });
        const r = ng.conv2d(x, w, negative, { ...options, activation: 'relu' });
        expect(flat(r)).toEqual(new Array(numel(output)).fill(0));
      }),
    );
  });
});
