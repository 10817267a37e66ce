/** Modules of the table-driven activations (lib/ops/unary.ts): one line per module; PReLU and GLU. */
import type { Tensor } from '../tensor/tensor.js';
import { unaryOps, type UnaryOpName } from '../ops/unary.js';
import { glu } from '../ops/glu.js';
import { prelu } from '../ops/prelu.js';
import { full } from '../tensor/creation.js';
import { checkShape } from '../tensor/shape.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';

/** The options of table op `K` (`{ negativeSlope }` for leakyRelu), undefined for an op without options. */
export type ActivationOptions<K extends UnaryOpName> = Parameters<(typeof unaryOps)[K]>[1];

/**
 * Applies table op `op` elementwise with the options given to the constructor: the base of GELU,
 * SiLU, LeakyReLU and the other activation modules. Shape: any; the output has the input's shape.
 */
export class UnaryActivation<K extends UnaryOpName> extends Module {
  /**
   * @param op - The name of the table op (`'gelu'`, `'leakyRelu'`, ...).
   * @param options - The op's options, passed to it on every call.
   */
  constructor(
    readonly op: K,
    readonly options: NonNullable<ActivationOptions<K>> | Record<string, never> = {},
  ) {
    super();
  }

  /** The activation of `x`, a new tensor of its shape. */
  forward(x: Tensor): Tensor {
    return (unaryOps[this.op] as (x: Tensor, options?: unknown) => Tensor)(x, this.options);
  }

  override extraRepr(): string {
    return Object.entries(this.options)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(', ');
  }
}

/** The class activation() makes: `new GELU({ approximate: 'tanh' })`. */
export interface ActivationClass<K extends UnaryOpName> {
  /** @param options - The op's options, PyTorch's keyword arguments in camelCase (defaults as PyTorch's). */
  new (options?: ActivationOptions<K>): UnaryActivation<K>;
}

/** The Module class of table op `name`, named `className` (as PyTorch's reprs print it). */
export function activation<K extends UnaryOpName>(name: K, className: string): ActivationClass<K> {
  const cls = class extends UnaryActivation<K> {
    constructor(options?: ActivationOptions<K>) {
      super(name, options ?? {});
    }
  };
  Object.defineProperty(cls, 'name', { value: className });
  return cls;
}

/** x·Φ(x) (Φ the standard normal CDF), as `torch.nn.GELU`; `{ approximate: 'tanh' }` uses the tanh form. */
export const GELU = activation('gelu', 'GELU');
/** An instance of GELU. */
export type GELU = UnaryActivation<'gelu'>;
/** x·σ(x), as `torch.nn.SiLU` (swish). No options. */
export const SiLU = activation('silu', 'SiLU');
/** An instance of SiLU. */
export type SiLU = UnaryActivation<'silu'>;
/** x·tanh(softplus(x)), as `torch.nn.Mish`. No options. */
export const Mish = activation('mish', 'Mish');
/** An instance of Mish. */
export type Mish = UnaryActivation<'mish'>;
/**
 * log(1 + e^(β·x)) / β, as `torch.nn.Softplus`; `{ beta }` (default 1), `{ threshold }` (default 20):
 * the identity where β·x exceeds it.
 */
export const Softplus = activation('softplus', 'Softplus');
/** An instance of Softplus. */
export type Softplus = UnaryActivation<'softplus'>;
/** x for x > 0, α·(e^x − 1) otherwise, as `torch.nn.ELU`; `{ alpha }` (default 1). */
export const ELU = activation('elu', 'ELU');
/** An instance of ELU. */
export type ELU = UnaryActivation<'elu'>;
/** scale·ELU(x) with PyTorch's fixed α ≈ 1.6733 and scale ≈ 1.0507, as `torch.nn.SELU`. No options. */
export const SELU = activation('selu', 'SELU');
/** An instance of SELU. */
export type SELU = UnaryActivation<'selu'>;
/** x for x > 0, negativeSlope·x otherwise, as `torch.nn.LeakyReLU`; `{ negativeSlope }` (default 0.01). */
export const LeakyReLU = activation('leakyRelu', 'LeakyReLU');
/** An instance of LeakyReLU. */
export type LeakyReLU = UnaryActivation<'leakyRelu'>;
/** x clamped to [minVal, maxVal], as `torch.nn.Hardtanh`; `{ minVal, maxVal }` (default −1 and 1). */
export const Hardtanh = activation('hardtanh', 'Hardtanh');
/** An instance of Hardtanh. */
export type Hardtanh = UnaryActivation<'hardtanh'>;
/** x·min(max(x + 3, 0), 6) / 6, as `torch.nn.Hardswish`. No options. */
export const Hardswish = activation('hardswish', 'Hardswish');
/** An instance of Hardswish. */
export type Hardswish = UnaryActivation<'hardswish'>;
/** log(σ(x)), as `torch.nn.LogSigmoid`. No options. */
export const LogSigmoid = activation('logSigmoid', 'LogSigmoid');
/** An instance of LogSigmoid. */
export type LogSigmoid = UnaryActivation<'logSigmoid'>;
/** x / (1 + |x|), as `torch.nn.Softsign`. No options. */
export const Softsign = activation('softsign', 'Softsign');
/** An instance of Softsign. */
export type Softsign = UnaryActivation<'softsign'>;

/** Options of {@link PReLU}. */
export interface PReLUOptions {
  /** 1 (one slope shared by all channels) or the number of channels C. Default 1. */
  numParameters?: number;
  /** The initial slope. Default 0.25. */
  init?: number;
  /** The dtype of the weight. Default 'float32'. */
  dtype?: 'float32' | 'float64';
}

/**
 * x for x > 0, weight · x otherwise, with a learnable slope, as `torch.nn.PReLU` (state-dict key
 * `weight`, [numParameters]). With numParameters = C the slope is per channel (dim 1 of the input).
 * Shape: any; the output has the input's shape.
 */
export class PReLU extends Module {
  /** The learnable negative slope(s) [numParameters], starting at `init`. */
  weight: Parameter;
  /** The number of slopes (1 or the channels). */
  readonly numParameters: number;

  /** @param options - numParameters (default 1), init (default 0.25), dtype (default 'float32'). */
  constructor(options: PReLUOptions = {}) {
    super();
    this.numParameters = options.numParameters ?? 1;
    checkShape('PReLU', [this.numParameters], { names: ['numParameters'] });
    this.weight = new Parameter(
      full([this.numParameters], options.init ?? 0.25, { dtype: options.dtype ?? 'float32' }),
    );
  }

  /** `x` with its negative part scaled by the learned slope. */
  forward(x: Tensor): Tensor {
    return prelu(x, this.weight);
  }

  override extraRepr(): string {
    return `num_parameters=${this.numParameters}`;
  }
}

/** Options of {@link GLU}. */
export interface GLUOptions {
  /** The dim split in two halves. Default -1. */
  dim?: number;
}

/**
 * The gated linear unit, as `torch.nn.GLU`: a · σ(b), a and b the halves of the input along `dim`.
 * Shape: the input's, with dim halved (its size must be even).
 */
export class GLU extends Module {
  /** The dim split in two halves. */
  readonly dim: number;

  /** @param options - dim (default -1). */
  constructor(options: GLUOptions = {}) {
    super();
    this.dim = options.dim ?? -1;
  }

  /** The first half of `x` along dim, gated by the sigmoid of the second. */
  forward(x: Tensor): Tensor {
    return glu(x, this.dim);
  }

  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}
