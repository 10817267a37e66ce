import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { AttributeType, DataType } from '../../lib/onnx/schema.js';
import { floats, graphBytes, intAttr, ints, intsAttr, node } from './import-graphs.js';

// Small graphs built with encodeModel; every expected value below is worked out by hand from the
// ONNX operator specification.

/** The imported model of graphBytes(...). */
const model = (...args: Parameters<typeof graphBytes>): ng.onnx.OnnxModule => ng.onnx.importModel(graphBytes(...args));

const range = (n: number, shape: number[]) => ng.arange(n).reshape(shape);

describe('shape ops', () => {
  it('Reshape copies 0 entries and infers -1', () => {
    const m = model(17, [node('Reshape', ['x', 's'], ['y'])], [ints('s', [0, -1])]);
    const y = m.forward(range(24, [2, 3, 4]));
    expect(y.shape).toEqual([2, 12]);
    expect(y.toArray()).toEqual([
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
      [12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23],
    ]);
  });

  it('Slice with negative starts, clamped ends and negative steps', () => {
    const sliced = (starts: number[], ends: number[], axes: number[], steps: number[], x: ng.Tensor) =>
      model(
        13,
        [node('Slice', ['x', 'starts', 'ends', 'axes', 'steps'], ['y'])],
        [ints('starts', starts), ints('ends', ends), ints('axes', axes), ints('steps', steps)],
      ).forward(x);
    // 8, 8-3, 8-6: stops before index 1.
    expect(sliced([8], [1], [0], [-3], ng.arange(10)).toArray()).toEqual([8, 5, 2]);
    // -3 is index 7; an end past the size is clamped to 10.
    expect(sliced([-3], [1000], [0], [1], ng.arange(10)).toArray()).toEqual([7, 8, 9]);
    // From the last column down to before index 0 (an end below -size clamps to -1): every column reversed.
    expect(sliced([-1], [-1000], [1], [-1], range(12, [3, 4])).toArray()).toEqual([
      [3, 2, 1, 0],
      [7, 6, 5, 4],
      [11, 10, 9, 8],
    ]);
    // Rows 0 and 2 (step 2), columns 1..2.
    expect(sliced([0, 1], [3, 3], [0, 1], [2, 1], range(12, [3, 4])).toArray()).toEqual([
      [1, 2],
      [9, 10],
    ]);
  });

  it('Unsqueeze reads axes from the attribute before opset 13 and from an input after', () => {
    const old = model(11, [node('Unsqueeze', ['x'], ['y'], [intsAttr('axes', [3, 0])])]);
    expect(old.forward(ng.zeros([2, 3])).shape).toEqual([1, 2, 3, 1]);
    const current = model(13, [node('Unsqueeze', ['x', 'axes'], ['y'])], [ints('axes', [-1])]);
    expect(current.forward(ng.zeros([2, 3])).shape).toEqual([2, 3, 1]);
  });

  it('Squeeze by attribute (opset 11) and with no axes (every size-1 dim)', () => {
    expect(
      model(11, [node('Squeeze', ['x'], ['y'], [intsAttr('axes', [0])])]).forward(ng.zeros([1, 2, 1])).shape,
    ).toEqual([2, 1]);
    expect(model(13, [node('Squeeze', ['x'], ['y'])]).forward(ng.zeros([1, 2, 1])).shape).toEqual([2]);
  });

  it('shape arithmetic: Shape, Gather with a negative index, integer Div truncating, Concat, Reshape', () => {
    // x [2, 6]: the last dim 6 / -4 truncates to -1 (not floor's -2); the new shape is [2, 3, -1] → [2, 3, 2].
    const m = model(
      17,
      [
        node('Shape', ['x'], ['shape']),
        node('Gather', ['shape', 'last'], ['cols']),
        node('Div', ['cols', 'minus4'], ['q']),
        node('Concat', ['first', 'three', 'q'], ['newShape'], [intAttr('axis', 0)]),
        node('Reshape', ['x', 'newShape'], ['y']),
      ],
      [ints('last', [-1]), ints('minus4', [-4]), ints('first', [2]), ints('three', [3])],
    );
    expect(m.forward(range(12, [2, 6])).shape).toEqual([2, 3, 2]);
  });

  it('Expand broadcasts both ways; Where picks by a mask from Equal', () => {
    const expand = model(13, [node('Expand', ['x', 's'], ['y'])], [ints('s', [2, 1])]);
    expect(expand.forward(ng.tensor([[1, 2, 3]])).toArray()).toEqual([
      [1, 2, 3],
      [1, 2, 3],
    ]);
    const masked = model(
      13,
      [node('Equal', ['x', 'zero'], ['isZero']), node('Where', ['isZero', 'minus', 'x'], ['y'])],
      [floats('zero', [], [0]), floats('minus', [], [-5])],
    );
    expect(masked.forward(ng.tensor([0, 2, 0, 4])).toArray()).toEqual([-5, 2, -5, 4]);
  });
});

describe('ops whose semantics change with the opset or differ from PyTorch', () => {
  it('Softmax: opset 11 flattens from axis 1, opset 13 works along the last axis', () => {
    const x = ng.tensor([
      [
        [0, 0],
        [0, 0],
      ],
      [
        [Math.log(2), 0],
        [0, 0],
      ],
    ]);
    // Batch 1 flattened: exp = [2, 1, 1, 1] over 5.
    const old = model(11, [node('Softmax', ['x'], ['y'])])
      .forward(x)
      .toArray() as number[][][];
    const expectedOld = [
      [
        [0.25, 0.25],
        [0.25, 0.25],
      ],
      [
        [0.4, 0.2],
        [0.2, 0.2],
      ],
    ];
    // Each pair on its own: [2, 1] over 3.
    const current = model(13, [node('Softmax', ['x'], ['y'])])
      .forward(x)
      .toArray() as number[][][];
    const expectedCurrent = [
      [
        [0.5, 0.5],
        [0.5, 0.5],
      ],
      [
        [2 / 3, 1 / 3],
        [0.5, 0.5],
      ],
    ];
    expect(old.flat(2).map((v, i) => v - (expectedOld.flat(2)[i] ?? NaN))).toEqual(Array(8).fill(expect.closeTo(0, 6)));
    expect(current.flat(2).map((v, i) => v - (expectedCurrent.flat(2)[i] ?? NaN))).toEqual(
      Array(8).fill(expect.closeTo(0, 6)),
    );
  });

  it('AveragePool excludes padding unless count_include_pad = 1 (ONNX default 0, PyTorch true)', () => {
    const pool = (include: number) =>
      model(17, [
        node(
          'AveragePool',
          ['x'],
          ['y'],
          [
            intsAttr('kernel_shape', [2, 2]),
            intsAttr('strides', [2, 2]),
            intsAttr('pads', [1, 1, 1, 1]),
            intAttr('count_include_pad', include),
          ],
        ),
      ]).forward(
        ng.tensor([
          [
            [
              [1, 2],
              [3, 4],
            ],
          ],
        ]),
      );
    // Each 2×2 window holds one element and three padded zeros.
    expect(pool(0).toArray()).toEqual([
      [
        [
          [1, 2],
          [3, 4],
        ],
      ],
    ]);
    expect(pool(1).toArray()).toEqual([
      [
        [
          [0.25, 0.5],
          [0.75, 1],
        ],
      ],
    ]);
  });

  it('BatchNormalization uses the running statistics, which are buffers, not parameters', () => {
    const m = model(
      15,
      [
        node(
          'BatchNormalization',
          ['x', 'scale', 'bias', 'mean', 'var'],
          ['y'],
          [{ name: 'epsilon', type: AttributeType.FLOAT, f: 0 }],
        ),
      ],
      [
        floats('scale', [2], [2, 1]),
        floats('bias', [2], [0, 3]),
        floats('mean', [2], [1, -1]),
        floats('var', [2], [4, 0.25]),
      ],
    );
    // Channel 0: (x - 1) / 2 * 2; channel 1: (x + 1) / 0.5 + 3.
    expect(m.forward(ng.tensor([[[[1, 5]], [[-1, 0]]]])).toArray()).toEqual([[[[0, 4]], [[3, 5]]]]);
    expect(m.parameters().length).toBe(2);
    expect(m.buffers().length).toBe(2);
  });

  it('Gemm with transB, alpha and beta', () => {
    // x [1, 2] · Wᵀ (W = [[1, 2], [3, 4]]) = [5, 11]; 2·that + 0.5·[2, 4] = [11, 24].
    const m = model(
      17,
      [
        node(
          'Gemm',
          ['x', 'w', 'c'],
          ['y'],
          [
            intAttr('transB', 1),
            { name: 'alpha', type: AttributeType.FLOAT, f: 2 },
            { name: 'beta', type: AttributeType.FLOAT, f: 0.5 },
          ],
        ),
      ],
      [floats('w', [2, 2], [1, 2, 3, 4]), floats('c', [2], [2, 4])],
    );
    expect(m.forward(ng.tensor([[1, 2]])).toArray()).toEqual([[11, 24]]);
  });
});

describe('constant, reduction and activation ops', () => {
  it('ConstantOfShape, Range and Cast build a float ramp from the input shape', () => {
    // x [3, 2]: Range(0, 3, 1) = [0, 1, 2] cast to float, plus ConstantOfShape([3]) filled with 0.5.
    const m = model(
      17,
      [
        node('Shape', ['x'], ['shape']),
        node('Gather', ['shape', 'zero'], ['rows']),
        node('Range', ['start', 'rows', 'one'], ['ramp']),
        node('Cast', ['ramp'], ['rampFloat'], [intAttr('to', DataType.FLOAT)]),
        node('Unsqueeze', ['rows', 'zero'], ['rowsVector']),
        node(
          'ConstantOfShape',
          ['rowsVector'],
          ['halves'],
          [{ name: 'value', type: AttributeType.TENSOR, t: floats('v', [1], [0.5]) }],
        ),
        node('Add', ['rampFloat', 'halves'], ['y']),
      ],
      [
        { ...ints('zero', [0]), dims: [] },
        { ...ints('start', [0]), dims: [] },
        { ...ints('one', [1]), dims: [] },
      ],
    );
    expect(m.forward(ng.zeros([3, 2])).toArray()).toEqual([0.5, 1.5, 2.5]);
  });

  it('ReduceMean with attribute axes (opset 17), ReduceSum with input axes (opset 13)', () => {
    const x = ng.tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const mean = model(17, [node('ReduceMean', ['x'], ['y'], [intsAttr('axes', [1]), intAttr('keepdims', 0)])]);
    expect(mean.forward(x).toArray()).toEqual([2, 5]);
    const total = model(13, [node('ReduceSum', ['x', 'axes'], ['y'])], [ints('axes', [0])]);
    expect(total.forward(x).toArray()).toEqual([[5, 7, 9]]);
  });

  it('Split by sizes, Trilu, and Gelu (opset 20) exact or tanh', () => {
    const split = model(
      13,
      [node('Split', ['x', 'sizes'], ['y', 'rest'], [intAttr('axis', 0)])],
      [ints('sizes', [1, 3])],
    );
    expect(split.forward(ng.tensor([1, 2, 3, 4])).toArray()).toEqual([1]);
    const lower = model(14, [node('Trilu', ['x'], ['y'], [intAttr('upper', 0)])]);
    expect(lower.forward(ng.ones([2, 2])).toArray()).toEqual([
      [1, 0],
      [1, 1],
    ]);
    // Φ(1) = 0.8413447; the tanh form 0.5 (1 + tanh(√(2/π) (1 + 0.044715))) = 0.8411920.
    const gelu = (approximate: string) =>
      model(20, [
        node(
          'Gelu',
          ['x'],
          ['y'],
          [{ name: 'approximate', type: AttributeType.STRING, s: new TextEncoder().encode(approximate) }],
        ),
      ])
        .forward(ng.tensor([1]))
        .item();
    expect(gelu('none')).toBeCloseTo(0.8413447, 6);
    expect(gelu('tanh')).toBeCloseTo(0.841192, 6);
  });
});

describe('bounds and slopes', () => {
  it('Clip bounds by attribute (opset 6) or by optional inputs (opset 11); LeakyRelu alpha', () => {
    const x = ng.tensor([-3, -0.5, 0.5, 3]);
    const old = model(6, [
      node(
        'Clip',
        ['x'],
        ['y'],
        [
          { name: 'min', type: AttributeType.FLOAT, f: -1 },
          { name: 'max', type: AttributeType.FLOAT, f: 2 },
        ],
      ),
    ]);
    expect(old.forward(x).toArray()).toEqual([-1, -0.5, 0.5, 2]);
    // Only max given (min omitted as ''): [-3, -0.5, 0.5, 1].
    const upper = model(11, [node('Clip', ['x', '', 'max'], ['y'])], [floats('max', [], [1])]);
    expect(upper.forward(x).toArray()).toEqual([-3, -0.5, 0.5, 1]);
    const leaky = model(16, [node('LeakyRelu', ['x'], ['y'], [{ name: 'alpha', type: AttributeType.FLOAT, f: 0.5 }])]);
    expect(leaky.forward(x).toArray()).toEqual([-1.5, -0.25, 0.5, 3]);
  });

  it('Dropout is the identity in eval mode (the default) and drops after train()', () => {
    const m = model(13, [node('Dropout', ['x', 'ratio'], ['y'])], [floats('ratio', [], [0.5])]);
    const x = ng.ones([1000]);
    expect(m.training).toBe(false);
    expect(ng.equal(m.forward(x), x)).toBe(true);
    m.train();
    const dropped = m.forward(x).data();
    // Kept entries are scaled by 1 / (1 - 0.5); about half are zeros.
    expect(new Set(dropped)).toEqual(new Set([0, 2]));
  });
});

describe('parameter names', () => {
  it('sanitizes ONNX names and steps around Module members and each other', () => {
    const m = model(
      17,
      [
        node('Add', ['x', 'layer.0/w'], ['a']),
        node('Add', ['a', 'layer_0_w'], ['b']),
        node('Mul', ['b', 'train'], ['y']),
      ],
      [floats('layer.0/w', [1], [1]), floats('layer_0_w', [1], [2]), floats('train', [1], [10])],
    );
    expect(Object.keys(m.stateDict())).toEqual(['layer_0_w', 'layer_0_w_1', 'train_1']);
    expect(m.forward(ng.tensor([0.5])).toArray()).toEqual([35]);
    expect(typeof m.train).toBe('function');
  });
});

describe('import-time errors', () => {
  const expectOnnxError = (f: () => unknown, pattern: RegExp) => {
    try {
      f();
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ng.NodegradError);
      expect((e as ng.NodegradError).code).toBe('ERR_NODEGRAD_ONNX');
      expect((e as Error).message).toMatch(pattern);
    }
  };

  it('an unsupported operator is named with its node, before any forward', () => {
    expectOnnxError(
      () => model(17, [node('Relu', ['x'], ['r']), node('NonMaxSuppression', ['r'], ['y'])]),
      /operator NonMaxSuppression \(node 'nonmaxsuppression_node'\) is not supported/,
    );
  });

  it('an input nothing defines, and an unsupported attribute form', () => {
    expectOnnxError(() => model(17, [node('Add', ['x', 'missing'], ['y'])]), /Add node 'add_node' reads 'missing'/);
    const asymmetric = model(17, [
      node('MaxPool', ['x'], ['y'], [intsAttr('kernel_shape', [2, 2]), intsAttr('pads', [0, 0, 1, 1])]),
    ]);
    expectOnnxError(() => asymmetric.forward(ng.zeros([1, 1, 4, 4])), /MaxPool node 'maxpool_node': asymmetric pads/);
  });
});
