/**
 * In-place initializers (PyTorch's torch.nn.init): each fills a tensor from the seeded generator
 * under no-grad and returns it. fan_in / fan_out follow PyTorch: for a conv weight
 * [outC, inC, kH, kW], fan_in = inC·kH·kW and fan_out = outC·kH·kW.
 *
 * @module
 */
import { noGrad } from '../autograd/grad-mode.js';
import { NodegradError, formatShape } from '../errors.js';
import { fillNormal, fillUniform } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { writeInPlace } from '../tensor/write.js';

/** The nonlinearities calculateGain knows, by PyTorch's names. */
export type Nonlinearity =
  'linear' | 'conv1d' | 'conv2d' | 'conv3d' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu';
/** Which fan Kaiming initialization scales by: 'fan_in' keeps the forward's variance, 'fan_out' the backward's. */
export type FanMode = 'fan_in' | 'fan_out';

/** [fanIn, fanOut] of a weight of at least 2 dims. */
export function calculateFanInAndFanOut(t: Tensor): [number, number] {
  if (t.ndim < 2) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `init: fan in and fan out cannot be computed for a tensor with fewer than 2 dims, got ${formatShape(t.shape)}`,
    );
  }
  const receptive = t.shape.slice(2).reduce((p, s) => p * s, 1);
  return [t.shape[1] * receptive, t.shape[0] * receptive];
}

/** The recommended gain for a nonlinearity (PyTorch's table); `param` is leaky_relu's slope. */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'conv1d':
    case 'conv2d':
    case 'conv3d':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `calculateGain: unsupported nonlinearity '${String(nonlinearity)}'`,
      );
  }
}

function fill(t: Tensor, draw: () => number): Tensor {
  noGrad(() => {
    writeInPlace('init', t, (values) => {
      for (let i = 0; i < values.length; i++) values[i] = draw();
    });
  });
  return t;
}

/** U(low, high). */
export function uniform_(t: Tensor, low = 0, high = 1): Tensor {
  noGrad(() => {
    writeInPlace('init', t, (values) => fillUniform(values, low, high));
  });
  return t;
}

/** N(mean, std²). */
export function normal_(t: Tensor, mean = 0, std = 1): Tensor {
  noGrad(() => {
    writeInPlace('init', t, (values) => fillNormal(values, mean, std));
  });
  return t;
}

/** Fills `t` with `value`. */
export function constant_(t: Tensor, value: number): Tensor {
  return fill(t, () => value);
}

/** Fills `t` with 0. */
export function zeros_(t: Tensor): Tensor {
  return constant_(t, 0);
}

/** Fills `t` with 1. */
export function ones_(t: Tensor): Tensor {
  return constant_(t, 1);
}

/** U(±1/√fan_in): the default of Linear and Conv2d weights and biases (fan_in of the weight). */
export function uniformFanIn_(t: Tensor, fanIn?: number): Tensor {
  const fan = fanIn ?? calculateFanInAndFanOut(t)[0];
  const bound = fan > 0 ? 1 / Math.sqrt(fan) : 0;
  return uniform_(t, -bound, bound);
}

/** Glorot & Bengio (2010): U(±gain·√(6 / (fan_in + fan_out))). */
export function xavierUniform_(t: Tensor, gain = 1): Tensor {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const bound = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform_(t, -bound, bound);
}

/** N(0, gain²·2 / (fan_in + fan_out)). */
export function xavierNormal_(t: Tensor, gain = 1): Tensor {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  return normal_(t, 0, gain * Math.sqrt(2 / (fanIn + fanOut)));
}

/** Options of kaimingUniform_ and kaimingNormal_ (PyTorch's keyword arguments). */
export interface KaimingOptions {
  /** Negative slope of the rectifier after this layer (leaky_relu). Default 0. */
  a?: number;
  /** The fan the variance is scaled by. Default 'fan_in'. */
  mode?: FanMode;
  /** The nonlinearity whose gain is used. Default 'leaky_relu' (with slope `a`). */
  nonlinearity?: Nonlinearity;
}

function kaimingStd(t: Tensor, options: KaimingOptions): number {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const fan = (options.mode ?? 'fan_in') === 'fan_in' ? fanIn : fanOut;
  const gain = calculateGain(options.nonlinearity ?? 'leaky_relu', options.a ?? 0);
  return gain / Math.sqrt(fan);
}

/** He et al. (2015): U(±gain·√(3 / fan)). */
export function kaimingUniform_(t: Tensor, options: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd(t, options);
  return uniform_(t, -bound, bound);
}

/** He et al. (2015): N(0, gain² / fan). */
export function kaimingNormal_(t: Tensor, options: KaimingOptions = {}): Tensor {
  return normal_(t, 0, kaimingStd(t, options));
}
