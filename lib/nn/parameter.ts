/** A Parameter is a leaf tensor that requires grad and that a Module lists in parameters(). */
import { Tensor } from '../tensor/tensor.js';

export class Parameter extends Tensor {
  /** Wraps `data`'s storage (no copy) as a trainable leaf. */
  constructor(data: Tensor, requiresGrad = true) {
    super(data.storage, data.shape, data.strides, data.offset);
    data.storage.kept = true;
    if (data.dtype !== 'int32') this.requiresGrad = requiresGrad;
  }
}
