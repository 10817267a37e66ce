/** Tensor methods of the table-driven unary ops: `x.gelu({ approximate: 'tanh' })`, `x.sin()`. */
import { Tensor } from '../tensor/tensor.js';
import { unaryOps, type UnaryOpMethods, type UnaryOpName } from './unary.js';

declare module '../tensor/tensor.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface Tensor extends UnaryOpMethods {}
}

for (const name of Object.keys(unaryOps) as UnaryOpName[]) {
  const op = unaryOps[name] as (x: Tensor, options?: unknown) => Tensor;
  Object.defineProperty(Tensor.prototype, name, {
    value: function (this: Tensor, options?: unknown) { return op(this, options); },
    writable: true,
    configurable: true,
  });
}
