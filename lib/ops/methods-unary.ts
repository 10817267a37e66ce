/**
 * Tensor methods of the table-driven unary ops: `x.gelu({ approximate: 'tanh' })`, `x.sin()`, and
 * each one in place, `x.sin_()` (written back through the in-place rules of inplace-math.ts).
 */
import { Tensor } from '../tensor/tensor.js';
import { inPlace } from './inplace-math.js';
import { unaryOps, type UnaryOpInPlaceMethods, type UnaryOpMethods, type UnaryOpName } from './unary.js';

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
