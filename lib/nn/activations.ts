/** Modules of the table-driven activations (lib/ops/unary.ts): one line per module. */
import type { Tensor } from '../tensor/tensor.js';
import { unaryOps, type UnaryOpName } from '../ops/unary.js';
import { Module } from './module.js';

type OptionsOf<K extends UnaryOpName> = Parameters<(typeof unaryOps)[K]>[1];

/** Applies table op `op` with the options given to the constructor. */
export class UnaryActivation<K extends UnaryOpName> extends Module {
  constructor(
    readonly op: K,
    readonly options: NonNullable<OptionsOf<K>> | Record<string, never> = {},
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return (unaryOps[this.op] as (x: Tensor, options?: unknown) => Tensor)(x, this.options);
  }

  override extraRepr(): string {
    return Object.entries(this.options)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(', ');
  }
}

/** The Module class of table op `name`, named `className` (as PyTorch's reprs print it). */
export function activation<K extends UnaryOpName>(
  name: K,
  className: string,
): new (options?: OptionsOf<K>) => UnaryActivation<K> {
  const cls = class extends UnaryActivation<K> {
    constructor(options?: OptionsOf<K>) {
      super(name, options ?? {});
    }
  };
  Object.defineProperty(cls, 'name', { value: className });
  return cls;
}

export const GELU = activation('gelu', 'GELU');
export type GELU = UnaryActivation<'gelu'>;
export const SiLU = activation('silu', 'SiLU');
export type SiLU = UnaryActivation<'silu'>;
export const Mish = activation('mish', 'Mish');
export type Mish = UnaryActivation<'mish'>;
export const Softplus = activation('softplus', 'Softplus');
export type Softplus = UnaryActivation<'softplus'>;
export const ELU = activation('elu', 'ELU');
export type ELU = UnaryActivation<'elu'>;
export const SELU = activation('selu', 'SELU');
export type SELU = UnaryActivation<'selu'>;
export const LeakyReLU = activation('leakyRelu', 'LeakyReLU');
export type LeakyReLU = UnaryActivation<'leakyRelu'>;
export const Hardtanh = activation('hardtanh', 'Hardtanh');
export type Hardtanh = UnaryActivation<'hardtanh'>;
export const Hardswish = activation('hardswish', 'Hardswish');
export type Hardswish = UnaryActivation<'hardswish'>;
export const LogSigmoid = activation('logSigmoid', 'LogSigmoid');
export type LogSigmoid = UnaryActivation<'logSigmoid'>;
export const Softsign = activation('softsign', 'Softsign');
export type Softsign = UnaryActivation<'softsign'>;
