/** Tensor methods for autograd hooks: t.registerHook(fn), t.registerPostAccumulateGradHook(fn), t.retainGrad(). */
import {
  registerHook,
  registerPostAccumulateGradHook,
  retainGrad,
  type PostAccumulateGradHook,
  type RemovableHandle,
  type TensorHook,
} from '../autograd/hooks.js';
import { Tensor } from '../tensor/tensor.js';

declare module '../tensor/tensor.js' {
  interface Tensor {
    /**
     * Calls hook(grad) each time this tensor's gradient is computed (on a leaf, before it is added
     * to .grad); a returned tensor replaces the gradient. remove() on the handle unregisters it.
     */
    registerHook(hook: TensorHook): RemovableHandle;
    /**
     * Calls hook(this) once backward has accumulated this leaf's gradient into .grad, as PyTorch's
     * `register_post_accumulate_grad_hook`. Leaves only.
     */
    registerPostAccumulateGradHook(hook: PostAccumulateGradHook): RemovableHandle;
    /** Makes backward() fill .grad of this non-leaf tensor too. */
    retainGrad(): void;
  }
}

const p = Tensor.prototype;
p.registerHook = function (hook) {
  return registerHook(this, hook);
};
p.registerPostAccumulateGradHook = function (hook) {
  return registerPostAccumulateGradHook(this, hook);
};
p.retainGrad = function () {
  retainGrad(this);
};
