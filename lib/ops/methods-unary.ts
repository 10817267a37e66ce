/**
 * Tensor methods of the table-driven unary ops: `x.gelu({ approximate: 'tanh' })`, `x.sin()`, and
 * each one in place, `x.sin_()` (written back through the in-place rules of inplace-math.ts).
 */
import { Tensor } from '../tensor/tensor.js';
import { inPlace } from './inplace-math.js';
import {
  unaryOps,
  type EluOptions,
  type GeluOptions,
  type HardtanhOptions,
  type LeakyReluOptions,
  type SoftplusOptions,
  type UnaryOpName,
} from './unary.js';
import type * as unary from './unary.js';

/** An op's method form: the tensor argument becomes `this`. */
type MethodOf<F> = F extends (x: Tensor, ...rest: infer R) => Tensor
  ? R extends []
    ? () => Tensor
    : R extends [options?: infer O]
      ? (options?: O) => Tensor
      : never
  : never;

/**
 * `tensor.<op>(options?)` for each row. Mapped over the `ng.<op>` exports (through Pick, which keeps
 * their declarations) so each method shows the function's doc comment.
 * @internal
 */
type UnaryOpMethods = { [K in keyof Pick<typeof unary, UnaryOpName>]: MethodOf<(typeof unary)[K]> };

/**
 * `tensor.<op>_(options?)`: the same op in place (views too), by lib/ops/inplace-math.ts's rules.
 * Written out for the doc comments; a row missing here still gets its method from the Record.
 * @internal
 */
interface UnaryOpInPlaceMethods extends Record<`${UnaryOpName}_`, () => Tensor> {
  /** In-place {@link Tensor.square}. */
  square_(): Tensor;
  /** In-place {@link Tensor.gelu}. */
  gelu_(options?: GeluOptions): Tensor;
  /** In-place {@link Tensor.sin}. */
  sin_(): Tensor;
  /** In-place {@link Tensor.cos}. */
  cos_(): Tensor;
  /** In-place {@link Tensor.tan}. */
  tan_(): Tensor;
  /** In-place {@link Tensor.asin}. */
  asin_(): Tensor;
  /** In-place {@link Tensor.acos}. */
  acos_(): Tensor;
  /** In-place {@link Tensor.atan}. */
  atan_(): Tensor;
  /** In-place {@link Tensor.sinh}. */
  sinh_(): Tensor;
  /** In-place {@link Tensor.cosh}. */
  cosh_(): Tensor;
  /** In-place {@link Tensor.erf}. */
  erf_(): Tensor;
  /** In-place {@link Tensor.erfc}. */
  erfc_(): Tensor;
  /** In-place {@link Tensor.erfinv}. */
  erfinv_(): Tensor;
  /** In-place {@link Tensor.expm1}. */
  expm1_(): Tensor;
  /** In-place {@link Tensor.log1p}. */
  log1p_(): Tensor;
  /** In-place {@link Tensor.log2}. */
  log2_(): Tensor;
  /** In-place {@link Tensor.log10}. */
  log10_(): Tensor;
  /** In-place {@link Tensor.floor}. */
  floor_(): Tensor;
  /** In-place {@link Tensor.ceil}. */
  ceil_(): Tensor;
  /** In-place {@link Tensor.round}. */
  round_(): Tensor;
  /** In-place {@link Tensor.trunc}. */
  trunc_(): Tensor;
  /** In-place {@link Tensor.frac}. */
  frac_(): Tensor;
  /** In-place {@link Tensor.reciprocal}. */
  reciprocal_(): Tensor;
  /** In-place {@link Tensor.rsqrt}. */
  rsqrt_(): Tensor;
  /** In-place {@link Tensor.silu}. */
  silu_(): Tensor;
  /** In-place {@link Tensor.mish}. */
  mish_(): Tensor;
  /** In-place {@link Tensor.softplus}. */
  softplus_(options?: SoftplusOptions): Tensor;
  /** In-place {@link Tensor.elu}. */
  elu_(options?: EluOptions): Tensor;
  /** In-place {@link Tensor.selu}. */
  selu_(): Tensor;
  /** In-place {@link Tensor.leakyRelu}. */
  leakyRelu_(options?: LeakyReluOptions): Tensor;
  /** In-place {@link Tensor.hardtanh}. */
  hardtanh_(options?: HardtanhOptions): Tensor;
  /** In-place {@link Tensor.hardswish}. */
  hardswish_(): Tensor;
  /** In-place {@link Tensor.logSigmoid}. */
  logSigmoid_(): Tensor;
  /** In-place {@link Tensor.softsign}. */
  softsign_(): Tensor;
}

declare module '../tensor/tensor.js' {
  interface Tensor extends UnaryOpMethods, UnaryOpInPlaceMethods {}
}

for (const name of Object.keys(unaryOps) as UnaryOpName[]) {
  const op = unaryOps[name] as (x: Tensor, options?: unknown) => Tensor;
  const method = (key: string, value: (this: Tensor, options?: unknown) => Tensor) =>
    Object.defineProperty(Tensor.prototype, key, { value, writable: true, configurable: true });
  method(name, function (this: Tensor, options?: unknown) {
    return op(this, options);
  });
  method(`${name}_`, function (this: Tensor, options?: unknown) {
    return inPlace(`${name}_`, this, [], (self) => op(self, options));
  });
}
