/** A request's input as the pool queues it: checked, in its own buffer, with its dtype. */
import type { DataArray, DType } from '../backend/types.js';
import { NodegradError, formatShape } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import type { BatchInput } from './batching.js';
import type { ArrayInput, RunOptions } from './types.js';

const DTYPES = new Map<unknown, DType>([
  [Float32Array, 'float32'],
  [Float64Array, 'float64'],
  [Int32Array, 'int32'],
]);

/** Whether `data` may be transferred as it is: a whole, unshared ArrayBuffer. */
function wholeBuffer(data: DataArray): boolean {
  return data.buffer instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
}

/** The input of Pool.run, checked against `inputShape` and copied unless it may be transferred. */
export function toInput(input: Tensor | ArrayInput, options: RunOptions, inputShape?: readonly number[]): BatchInput {
  let data: DataArray;
  let shape: readonly number[];
  let dtype: DType | undefined;
  if (input instanceof Tensor) {
    data = input.data(); // a copy, so the caller's tensor may change or be released meanwhile
    shape = input.shape;
    dtype = input.dtype;
  } else {
    dtype = DTYPES.get((input as Partial<ArrayInput>).data?.constructor);
    if (!dtype)
      throw new NodegradError(
        'ERR_NODEGRAD_DTYPE',
        'serve.run: expected a Tensor or { data, shape } with a Float32Array, Float64Array or Int32Array',
      );
    data = options.transfer && wholeBuffer(input.data) ? input.data : input.data.slice();
    shape = input.shape;
    const numel = shape.reduce((p, s) => p * s, 1);
    if (numel !== data.length)
      throw new NodegradError(
        'ERR_NODEGRAD_SHAPE',
        `serve.run: ${data.length} values do not fill shape ${formatShape(shape)}`,
      );
  }
  if (dtype === 'bool') throw new NodegradError('ERR_NODEGRAD_DTYPE', 'serve.run: bool inputs are not supported');
  if (shape.length === 0)
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      'serve.run: expected an input with a batch dimension, got a 0-d tensor',
    );
  if (inputShape && (shape.length !== inputShape.length + 1 || inputShape.some((s, i) => s !== shape[i + 1]))) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `serve.run: expected input of shape [N, ${inputShape.join(', ')}], got ${formatShape(shape)}`,
    );
  }
  return { data, shape: [...shape], dtype };
}
