import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import * as ng from '../../lib/index.js';
import { floatAttr, floats, graphBytes, intAttr, ints, intsAttr, node } from './import-graphs.js';

// The same hand-built graphs run by onnxruntime (ONNX's reference runtime) and by importModel: the
// edge cases where ONNX's semantics and PyTorch's differ (pooling windows past the edge, opset-dependent
// axes, integer division) must follow ONNX's.

const wave = (shape: number[]) => {
  const n = shape.reduce((a, b) => a * b, 1);
  return ng.tensor(
    Float32Array.from({ length: n }, (_, i) => Math.sin(1.3 * i + 0.2) * 2),
    { shape },
  );
};

const cases: { name: string; bytes: Uint8Array; input: ng.Tensor }[] = [
  {
    name: 'AveragePool ceil_mode, pads, count_include_pad 0',
    bytes: graphBytes(17, [
      node(
        'AveragePool',
        ['x'],
        ['y'],
        [
          intsAttr('kernel_shape', [3, 3]),
          intsAttr('strides', [2, 2]),
          intsAttr('pads', [1, 1, 1, 1]),
          intAttr('ceil_mode', 1),
        ],
      ),
    ]),
    input: wave([1, 2, 6, 6]),
  },
  {
    name: 'AveragePool count_include_pad 1',
    bytes: graphBytes(17, [
      node(
        'AveragePool',
        ['x'],
        ['y'],
        [
          intsAttr('kernel_shape', [3, 3]),
          intsAttr('strides', [2, 2]),
          intsAttr('pads', [1, 1, 1, 1]),
          intAttr('count_include_pad', 1),
        ],
      ),
    ]),
    input: wave([1, 2, 5, 5]),
  },
  {
    name: 'MaxPool ceil_mode, dilations',
    bytes: graphBytes(17, [
      node(
        'MaxPool',
        ['x'],
        ['y'],
        [
          intsAttr('kernel_shape', [2, 2]),
          intsAttr('strides', [2, 2]),
          intsAttr('dilations', [2, 2]),
          intAttr('ceil_mode', 1),
        ],
      ),
    ]),
    input: wave([2, 1, 7, 7]),
  },
  {
    name: 'Conv with groups, strides, dilations and pads',
    bytes: graphBytes(
      17,
      [
        node(
          'Conv',
          ['x', 'w', 'b'],
          ['y'],
          [
            intAttr('group', 2),
            intsAttr('strides', [2, 1]),
            intsAttr('dilations', [1, 2]),
            intsAttr('pads', [1, 2, 1, 2]),
          ],
        ),
      ],
      [floats('w', [4, 1, 3, 3], Array.from(wave([36]).data())), floats('b', [4], [0.1, -0.2, 0.3, -0.4])],
    ),
    input: wave([1, 2, 6, 5]),
  },
  {
    name: 'Softmax and LogSoftmax at opset 11 (flattened from axis 1)',
    bytes: graphBytes(11, [node('Softmax', ['x'], ['s']), node('LogSoftmax', ['s'], ['y'], [intAttr('axis', 2)])]),
    input: wave([2, 3, 4]),
  },
  {
    name: 'LayerNormalization over the last two axes, ReduceMean (opset 18 axes input)',
    bytes: graphBytes(
      18,
      [
        node('LayerNormalization', ['x', 'g', 'b'], ['n'], [intAttr('axis', -2), floatAttr('epsilon', 1e-3)]),
        node('ReduceMean', ['n', 'axes'], ['y'], [intAttr('keepdims', 0)]),
      ],
      [floats('g', [3, 2], [1, 2, 3, 4, 5, 6]), floats('b', [3, 2], [0, 0, 1, 1, -1, -1]), ints('axes', [-1])],
    ),
    input: wave([2, 3, 2]),
  },
  {
    name: 'shape arithmetic: Shape, Gather, integer Div, Concat, Reshape, Transpose, Slice',
    bytes: graphBytes(
      17,
      [
        node('Shape', ['x'], ['shape']),
        node('Gather', ['shape', 'minus1'], ['last']),
        node('Div', ['last', 'minus3'], ['q']),
        node('Neg', ['q'], ['cols']),
        node('Concat', ['minus1v', 'cols'], ['newShape'], [intAttr('axis', 0)]),
        node('Reshape', ['x', 'newShape'], ['r']),
        node('Transpose', ['r'], ['t'], [intsAttr('perm', [1, 0])]),
        node('Slice', ['t', 'starts', 'ends', 'axes', 'steps'], ['y']),
      ],
      [
        ints('minus1', [-1]),
        ints('minus3', [-3], []),
        ints('minus1v', [-1]),
        ints('starts', [-2, 5]),
        ints('ends', [-1000, 0]),
        ints('axes', [0, 1]),
        ints('steps', [-1, -2]),
      ],
    ),
    input: wave([4, 9]),
  },
  {
    name: 'Gemm transA, Erf, Sigmoid, Tanh, Pow, Where, Expand',
    bytes: graphBytes(
      17,
      [
        node('Gemm', ['x', 'w', 'c'], ['g'], [intAttr('transA', 1), floatAttr('alpha', 0.5), floatAttr('beta', 2)]),
        node('Erf', ['g'], ['e']),
        node('Sigmoid', ['g'], ['s']),
        node('Tanh', ['s'], ['t']),
        node('Pow', ['t', 'two'], ['p']),
        node('Greater', ['g', 'zero'], ['positive']),
        node('Where', ['positive', 'e', 'p'], ['w2']),
        node('Expand', ['w2', 'shape'], ['y']),
      ],
      [
        floats('w', [3, 2], [1, -1, 0.5, 2, -0.5, 1]),
        floats('c', [1, 2], [0.25, -0.25]),
        floats('two', [], [2]),
        floats('zero', [], [0]),
        ints('shape', [2, 1, 1]),
      ],
    ),
    input: wave([3, 4]),
  },
];

describe('importModel agrees with onnxruntime', () => {
  it.each(cases)('$name', async ({ bytes, input }) => {
    const session = await ort.InferenceSession.create(bytes);
    const result = await session.run({ x: new ort.Tensor('float32', input.data() as Float32Array, input.shape) });
    const expected = result.y;
    const actual = ng.onnx.importModel(bytes).forward(input);
    expect(actual.shape).toEqual(expected.dims);
    expect(actual.numel).toBeGreaterThan(0);
    const want = Array.from(expected.data as Float32Array);
    const got = Array.from(actual.data());
    expect(got.length).toBe(want.length);
    expect(Math.max(...got.map((v, i) => Math.abs(v - (want[i] ?? NaN))))).toBeLessThan(1e-5);
  });
});
