/**
 * Helpers for reductions written as TS loops over dense data: the output slot of every input
 * element, and int32 sum/prod that stay integer (wrapping at 2^32, where PyTorch's int64 would not).
 */
import { contiguousStrides, numelOf, type Shape } from '../tensor/shape.js';
import { zerosTensor, type Tensor } from '../tensor/tensor.js';
import { denseCopy } from './shape.js';

/** The shape with each reduced dim set to 1. */
export function keptShape(shape: Shape, dims: readonly number[]): number[] {
  return shape.map((s, d) => (dims.includes(d) ? 1 : s));
}

/** The reduction's output shape: reduced dims kept as 1, or dropped. */
export function finalShape(shape: Shape, dims: readonly number[], keepDim: boolean): number[] {
  return keepDim ? keptShape(shape, dims) : shape.filter((_, d) => !dims.includes(d));
}

/**
 * For each element of a dense tensor of `shape` (row-major), the flat index of the output element
 * it reduces into. Elements of one slot appear in increasing flat order, which scans rely on.
 */
export function reductionSlots(shape: Shape, dims: readonly number[]): Int32Array {
  const steps = contiguousStrides(keptShape(shape, dims)).map((s, d) => (dims.includes(d) ? 0 : s));
  const n = numelOf(shape);
  const slots = new Int32Array(n);
  const index = new Array<number>(shape.length).fill(0);
  let slot = 0;
  for (let i = 0; i < n; i++) {
    slots[i] = slot;
    for (let d = shape.length - 1; d >= 0; d--) {
      index[d]++;
      slot += steps[d];
      if (index[d] < shape[d]) break;
      slot -= steps[d] * shape[d];
      index[d] = 0;
    }
  }
  return slots;
}

/** Sum or product of an int32 tensor over `dims`, in int32 arithmetic (no rounding through floats). */
export function reduceInt32(op: 'sum' | 'prod', x: Tensor, dims: readonly number[], keepDim: boolean): Tensor {
  const data = denseCopy(x).storage.data;
  const out = zerosTensor(finalShape(x.shape, dims, keepDim), 'int32');
  const target = out.storage.data;
  const slots = reductionSlots(x.shape, dims);
  if (op === 'prod') target.fill(1);
  for (let i = 0; i < data.length && i < slots.length; i++) {
    const s = slots[i];
    target[s] = op === 'sum' ? (target[s] + data[i]) | 0 : Math.imul(target[s], data[i]);
  }
  return out;
}
