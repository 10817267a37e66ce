// Float64 gradchecks of conv1d, the transposed convolutions, interpolate and the pixel shuffles on
// the native and reference backends (one row per geometry), and their errors.
import { afterEach, describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { expectNodegradError, randomTensor } from '../helpers.js';

const F = ng.nn.functional;
const leaf = (shape: number[], seed: number) => randomTensor(shape, seed, 'float64', true);

type Row = [string, (...t: ng.Tensor[]) => ng.Tensor, ng.Tensor[]];

const rows: Row[] = [
  [
    'conv1d stride, padding, bias',
    (x, w, b) => F.conv1d(x, w, b, { stride: 2, padding: 1 }),
    [leaf([2, 3, 7], 1), leaf([4, 3, 3], 2), leaf([4], 3)],
  ],
  [
    'conv1d groups, dilation',
    (x, w) => F.conv1d(x, w, null, { groups: 2, dilation: 2 }),
    [leaf([1, 4, 8], 4), leaf([2, 2, 3], 5)],
  ],
  [
    'conv1d same, even kernel',
    (x, w) => F.conv1d(x, w, null, { padding: 'same' }),
    [leaf([3, 6], 6), leaf([2, 3, 4], 7)],
  ],
  [
    'convTranspose2d stride, padding, outputPadding, bias',
    (x, w, b) => F.convTranspose2d(x, w, b, { stride: [2, 3], padding: [1, 0], outputPadding: [1, 2] }),
    [leaf([2, 3, 3, 2], 8), leaf([3, 2, 3, 2], 9), leaf([2], 10)],
  ],
  [
    'convTranspose2d groups, dilation, outputPadding >= stride',
    (x, w) => F.convTranspose2d(x, w, null, { groups: 2, dilation: 2, outputPadding: 1 }),
    [leaf([1, 4, 3, 2], 11), leaf([4, 1, 2, 3], 12)],
  ],
  [
    'convTranspose2d unbatched, odd sizes',
    (x, w) => F.convTranspose2d(x, w, null, { stride: 3, padding: 2 }),
    [leaf([2, 3, 5], 13), leaf([2, 3, 5, 3], 14)],
  ],
  [
    'convTranspose1d',
    (x, w, b) => F.convTranspose1d(x, w, b, { stride: 2, padding: 1, outputPadding: 1, groups: 2 }),
    [leaf([2, 4, 5], 15), leaf([4, 1, 3], 16), leaf([2], 17)],
  ],
  ['interpolate nearest', (x) => F.interpolate(x, { size: [5, 3] }), [leaf([1, 2, 3, 4], 18)]],
  [
    'interpolate bilinear',
    (x) => F.interpolate(x, { scaleFactor: [1.5, 2], mode: 'bilinear' }),
    [leaf([1, 2, 3, 4], 19)],
  ],
  [
    'interpolate bilinear alignCorners',
    (x) => F.interpolate(x, { size: [5, 2], mode: 'bilinear', alignCorners: true }),
    [leaf([2, 1, 3, 4], 20)],
  ],
  ['interpolate linear', (x) => F.interpolate(x, { size: 7, mode: 'linear' }), [leaf([2, 2, 4], 21)]],
  [
    'pixelShuffle',
    (x) => F.pixelShuffle(x, 2).mul(ng.arange(0, 8, 1, { dtype: 'float64' }).reshape([4, 2])),
    [leaf([2, 4, 2, 1], 22)],
  ],
  ['pixelUnshuffle', (x) => F.pixelUnshuffle(x, 2), [leaf([3, 4, 2], 23)]],
];

const backends = [
  ['native', ng.backend.nativeBackend(ng.backend.loadAddon())],
  ['reference', ng.backend.referenceBackend],
] as const;
const previous = ng.backend.getBackend();
afterEach(() => {
  ng.backend.setBackend(previous);
});

describe.each(backends)('gradcheck (float64, %s backend)', (_name, backend) => {
  it.each(rows)('%s', (_row, fn, inputs) => {
    ng.backend.setBackend(backend);
    expect(ng.gradcheck(fn, inputs)).toBe(true);
  });
  it('convTranspose2d differentiates twice', () => {
    ng.backend.setBackend(backend);
    const fn = (x: ng.Tensor, w: ng.Tensor) => F.convTranspose2d(x, w, null, { stride: 2, padding: 1 });
    expect(ng.gradgradcheck(fn, [leaf([1, 2, 2, 3], 24), leaf([2, 2, 3, 3], 25)])).toBe(true);
  });
});

describe('the native and reference backends agree', () => {
  it('convTranspose2d in float32 on a DCGAN layer', () => {
    const x = randomTensor([3, 8, 4, 4], 26, 'float32');
    const w = randomTensor([8, 4, 4, 4], 27, 'float32');
    const run = (backend: ng.backend.Backend) => {
      ng.backend.setBackend(backend);
      return F.convTranspose2d(x, w, null, { stride: 2, padding: 1 }).data();
    };
    const native = Array.from(run(backends[0][1]));
    const reference = Array.from(run(ng.backend.referenceBackend));
    expect(native.length).toBe(3 * 4 * 8 * 8);
    native.forEach((v, i) => expect(v).toBeCloseTo(reference[i], 4));
  });
});

describe('errors name the op, the shapes and what was expected', () => {
  const x4 = ng.zeros([1, 4, 3, 3]);
  it('convTranspose2d: outputPadding not below stride or dilation', () => {
    expectNodegradError(
      () => F.convTranspose2d(x4, ng.zeros([4, 2, 3, 3]), null, { stride: 2, outputPadding: [1, 2] }),
      'ERR_NODEGRAD_ARGUMENT',
      'convTranspose2d',
      'outputPadding (1, 2)',
      'stride (2, 2)',
    );
  });
  it('convTranspose2d: in channels not divisible by groups', () => {
    expectNodegradError(
      () => F.convTranspose2d(x4, ng.zeros([4, 2, 3, 3]), null, { groups: 3 }),
      'ERR_NODEGRAD_ARGUMENT',
      'convTranspose2d',
      'in channels 4',
      'got 3',
    );
  });
  it('convTranspose2d: input channels, weight rank, bias and empty output', () => {
    expectNodegradError(
      () => F.convTranspose2d(x4, ng.zeros([3, 2, 3, 3])),
      'ERR_NODEGRAD_SHAPE',
      'convTranspose2d',
      'C = 3',
      '[1, 4, 3, 3]',
    );
    expectNodegradError(() => F.convTranspose2d(x4, ng.zeros([4, 2, 3])), 'ERR_NODEGRAD_SHAPE', 'weight', '[4, 2, 3]');
    expectNodegradError(
      () => F.convTranspose2d(x4, ng.zeros([4, 2, 3, 3]), ng.zeros([3]), { groups: 2 }),
      'ERR_NODEGRAD_SHAPE',
      'bias of shape [4]',
    );
    expectNodegradError(
      () => F.convTranspose2d(ng.zeros([1, 4, 1, 1]), ng.zeros([4, 2, 1, 1]), null, { padding: 1 }),
      'ERR_NODEGRAD_SHAPE',
      'convTranspose2d',
      'empty output',
    );
  });
  it('convTranspose1d and ConvTranspose1d show single values', () => {
    expectNodegradError(
      () => F.convTranspose1d(ng.zeros([1, 2, 5]), ng.zeros([2, 2, 3]), null, { stride: 2, outputPadding: 2 }),
      'ERR_NODEGRAD_ARGUMENT',
      'convTranspose1d: outputPadding 2 must be smaller than stride 2 or dilation 1',
    );
    expectNodegradError(
      () => new ng.nn.ConvTranspose1d(2, 2, 3, { outputPadding: 1 }),
      'ERR_NODEGRAD_ARGUMENT',
      'ConvTranspose1d: outputPadding (1,)',
    );
  });
  it('layers: channels not divisible by groups', () => {
    expectNodegradError(
      () => new ng.nn.ConvTranspose2d(4, 6, 3, { groups: 4 }),
      'ERR_NODEGRAD_ARGUMENT',
      'ConvTranspose2d',
      'inChannels (4)',
      'outChannels (6)',
    );
    expectNodegradError(() => new ng.nn.Conv1d(3, 4, 3, { groups: 2 }), 'ERR_NODEGRAD_ARGUMENT', 'Conv1d', 'got 2');
  });
  it('ConvTranspose2d: an outputSize out of the stride’s reach', () => {
    const up = new ng.nn.ConvTranspose2d(4, 2, 4, { stride: 2, padding: 1 });
    expect(up.forward(x4, [7, 6]).shape).toEqual([1, 2, 7, 6]);
    expectNodegradError(
      () => up.forward(x4, [8, 6]),
      'ERR_NODEGRAD_ARGUMENT',
      'ConvTranspose2d',
      'output size of [8, 6]',
      'from 6 to 7',
    );
    expectNodegradError(() => up.forward(x4, [6]), 'ERR_NODEGRAD_ARGUMENT', 'ConvTranspose2d', '2 or 4 elements');
  });
  it('conv1d: input shape, weight rank, same with stride, too short', () => {
    const w = ng.zeros([2, 3, 3]);
    expectNodegradError(() => F.conv1d(ng.zeros([1, 2, 5]), w), 'ERR_NODEGRAD_SHAPE', 'conv1d', 'C = 3', '[1, 2, 5]');
    expectNodegradError(
      () => F.conv1d(ng.zeros([1, 3, 5]), ng.zeros([2, 3])),
      'ERR_NODEGRAD_SHAPE',
      'conv1d',
      'weight',
    );
    expectNodegradError(
      () => F.conv1d(ng.zeros([1, 3, 5]), w, null, { padding: 'same', stride: 2 }),
      'ERR_NODEGRAD_ARGUMENT',
      "conv1d: padding 'same' needs stride 1",
    );
    expectNodegradError(() => F.conv1d(ng.zeros([1, 3, 2]), w), 'ERR_NODEGRAD_SHAPE', 'conv1d', 'kernel 3');
  });
  it("Conv1d: paddingMode other than 'zeros'", () => {
    expectNodegradError(
      () => new ng.nn.Conv1d(1, 1, 3, { paddingMode: 'reflect' as 'zeros' }),
      'ERR_NODEGRAD_ARGUMENT',
      "Conv1d: paddingMode must be 'zeros', got 'reflect'",
    );
  });
  it('interpolate: options and input rank', () => {
    expectNodegradError(
      () => F.interpolate(x4, { size: 4, scaleFactor: 2 }),
      'ERR_NODEGRAD_ARGUMENT',
      'interpolate',
      'exactly one',
    );
    expectNodegradError(
      () => F.interpolate(x4, { size: 4, alignCorners: true }),
      'ERR_NODEGRAD_ARGUMENT',
      'interpolate',
      'alignCorners',
    );
    expectNodegradError(
      () => F.interpolate(ng.zeros([1, 2, 3]), { size: 4, mode: 'bilinear' }),
      'ERR_NODEGRAD_SHAPE',
      "interpolate: mode 'bilinear' expects input of shape [N, C, H, W]",
      '[1, 2, 3]',
    );
    expectNodegradError(() => F.interpolate(x4, { size: [4, 4, 4] }), 'ERR_NODEGRAD_ARGUMENT', 'size', '2 of them');
    expectNodegradError(() => new ng.nn.Upsample({ mode: 'bilinear' }), 'ERR_NODEGRAD_ARGUMENT', 'Upsample');
  });
  it('pixelShuffle and pixelUnshuffle: sizes not divisible by the factor', () => {
    expectNodegradError(() => F.pixelShuffle(x4, 3), 'ERR_NODEGRAD_SHAPE', 'pixelShuffle', 'r² = 9', '[1, 4, 3, 3]');
    expectNodegradError(() => F.pixelUnshuffle(x4, 2), 'ERR_NODEGRAD_SHAPE', 'pixelUnshuffle', 'divisible by 2');
    expectNodegradError(() => new ng.nn.PixelShuffle(0), 'ERR_NODEGRAD_ARGUMENT', 'PixelShuffle', 'got 0');
  });
});

describe('the doc comments’ examples give the shapes they claim', () => {
  it('functional', () => {
    expect(ng.conv1d(ng.randn([8, 4, 100]), ng.randn([16, 4, 5]), null, { padding: 'same' }).shape).toEqual([
      8, 16, 100,
    ]);
    const up = F.convTranspose2d(ng.randn([1, 8, 7, 7]), ng.randn([8, 4, 4, 4]), null, { stride: 2, padding: 1 });
    expect(up.shape).toEqual([1, 4, 14, 14]);
    expect(F.convTranspose1d(ng.randn([2, 4, 10]), ng.randn([4, 3, 3]), null, { stride: 2 }).shape).toEqual([2, 3, 21]);
    expect(F.interpolate(ng.randn([1, 3, 8, 8]), { scaleFactor: 2, mode: 'bilinear' }).shape).toEqual([1, 3, 16, 16]);
    expect(F.pixelShuffle(ng.randn([1, 12, 4, 4]), 2).shape).toEqual([1, 3, 8, 8]);
    expect(F.pixelUnshuffle(ng.randn([1, 3, 8, 8]), 2).shape).toEqual([1, 12, 4, 4]);
  });
  it('layers', () => {
    expect(new ng.nn.Conv1d(4, 8, 3, { padding: 1 }).forward(ng.randn([2, 4, 50])).shape).toEqual([2, 8, 50]);
    const up = new ng.nn.ConvTranspose2d(16, 8, 4, { stride: 2, padding: 1 });
    expect(up.forward(ng.randn([2, 16, 7, 7])).shape).toEqual([2, 8, 14, 14]);
    expect(up.forward(ng.randn([2, 16, 7, 7]), [15, 15]).shape).toEqual([2, 8, 15, 15]);
    expect(new ng.nn.ConvTranspose1d(4, 2, 3, { stride: 2 }).forward(ng.randn([1, 4, 10])).shape).toEqual([1, 2, 21]);
    const upsample = new ng.nn.Upsample({ scaleFactor: 2, mode: 'bilinear', alignCorners: false });
    expect(upsample.forward(ng.randn([1, 3, 4, 4])).shape).toEqual([1, 3, 8, 8]);
    expect(new ng.nn.PixelShuffle(3).forward(ng.randn([1, 9, 4, 4])).shape).toEqual([1, 1, 12, 12]);
    expect(new ng.nn.PixelUnshuffle(2).forward(ng.randn([1, 1, 8, 8])).shape).toEqual([1, 4, 4, 4]);
  });
});
