/**
 * writeInPlace: the one way code outside lib/tensor and lib/backend writes into an existing
 * tensor's elements (optimizer steps, initializers, running statistics, in-place activations).
 * It honours the tensor's offset and strides, so a view (narrow, transpose) updates exactly its
 * own elements, and it bumps the storage version so saved tensors see the write.
 */
import { getBackend } from '../backend/index.js';
import type { DataArray } from '../backend/types.js';
import { NodegradError, formatShape } from '../errors.js';
import { contiguousStrides } from './shape.js';
import { arrayFor } from './storage.js';
import type { Tensor } from './tensor.js';

/**
 * True when no two elements of the view share a storage slot: with the dims sorted by stride,
 * each stride must step past everything the smaller dims can reach.
 */
function isNonOverlapping(t: Tensor): boolean {
  const dims = t.shape
    .map((size, d) => ({ size, stride: Math.abs(t.strides[d]) }))
    .filter((x) => x.size > 1)
    .sort((a, b) => a.stride - b.stride);
  let reach = 0;
  for (const { size, stride } of dims) {
    if (stride <= reach) return false;
    reach += (size - 1) * stride;
  }
  return true;
}

/**
 * Calls `update` with the tensor's elements as a dense row-major array and makes its changes
 * the tensor's new values. A contiguous view passes a zero-copy subarray of the storage; any
 * other view is gathered, updated and scattered back. A view whose elements share memory
 * (expand) is refused, as PyTorch refuses in-place writes to it.
 */
export function writeInPlace(op: string, t: Tensor, update: (values: DataArray) => void): void {
  const storage = t.storage.data;
  if (t.isContiguous()) {
    update(storage.subarray(t.offset, t.offset + t.numel));
  } else {
    if (!isNonOverlapping(t)) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `${op}: cannot write in place into a tensor whose elements share memory (shape ${formatShape(t.shape)}, ` +
          `strides ${formatShape(t.strides)}); clone() it first`,
      );
    }
    const dense = { offset: 0, strides: contiguousStrides(t.shape) };
    const values = arrayFor(t.dtype, t.numel);
    const view = { data: storage, offset: t.offset, strides: t.strides };
    getBackend().copyStrided(t.shape, view, { ...dense, data: values });
    update(values);
    getBackend().copyStrided(t.shape, { ...dense, data: values }, view);
  }
  t.storage.bump(op);
}
