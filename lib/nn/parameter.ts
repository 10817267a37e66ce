import { Tensor } from '../tensor/tensor.js';

/**
 * A leaf tensor that requires grad and that a Module lists in parameters(), as PyTorch's
 * `torch.nn.Parameter`: assigning one to a module property registers it.
 */
export class Parameter extends Tensor {
  /**
   * Wraps `data`'s storage (no copy) as a trainable leaf.
   *
   * @param data - The tensor whose storage, shape and strides the parameter shares.
   * @param requiresGrad - Whether gradients are recorded (default true); an int32 tensor never requires grad.
   */
  constructor(data: Tensor, requiresGrad = true) {
    super(data.storage, data.shape, data.strides, data.offset);
    data.storage.kept = true;
    if (data.dtype !== 'int32') this.requiresGrad = requiresGrad;
  }
}
