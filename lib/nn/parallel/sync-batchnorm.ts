/**
 * SyncBatchNorm: batch normalization whose training statistics cover the global batch (every rank's
 * part). Composed from recorded ops around one differentiable allreduce of [sum, sum of squares,
 * count], so its gradient is autograd's: the allreduce's backward sums the gradients of every rank.
 */
import { Function, type FunctionCtx } from '../../autograd/function.js';
import { noGrad } from '../../autograd/grad-mode.js';
import { NodegradError, formatShape } from '../../errors.js';
import '../../ops/index.js';
import { cat } from '../../ops/join.js';
import { tensor } from '../../tensor/creation.js';
import type { Tensor } from '../../tensor/tensor.js';
import { writeInPlace } from '../../tensor/write.js';
import { BatchNorm1d, BatchNorm2d, BatchNormBase } from '../batchnorm.js';
import { ModuleDict, ModuleList } from '../containers.js';
import type { AnyModule } from '../module.js';
import { allReduce, getWorldSize, isInitialized } from './comm.js';

/** Sum over every rank; the gradient of each rank's input is the sum of every rank's output gradient. */
class AllReduceSum extends Function {
  static forward(_ctx: FunctionCtx, x: Tensor): Tensor {
    const out = x.clone();
    allReduce(out, { op: 'sum' });
    return out;
  }

  static backward(_ctx: FunctionCtx, g: Tensor): Tensor {
    const out = g.clone();
    allReduce(out, { op: 'sum' });
    return out;
  }
}

/**
 * Batch normalization with statistics over the whole distributed batch, as PyTorch's
 * `torch.nn.SyncBatchNorm`: in training, with a process group of more than one rank, the mean and
 * variance per channel are those of all ranks' inputs together (one allreduce of sum, sum of squares
 * and count per forward, and one in backward); otherwise, and in eval mode, it is plain batch norm.
 * Input [N, C, ...] (any number of dims ≥ 2); the output has the input's shape. Every rank must call
 * it the same number of times. Convert a model's BatchNorm layers with
 * {@link SyncBatchNorm.convertSyncBatchnorm}.
 */
export class SyncBatchNorm extends BatchNormBase {
  protected checkInput(x: Tensor): void {
    if (x.ndim < 2 || x.shape[1] !== this.numFeatures) {
      throw new NodegradError(
        'ERR_NODEGRAD_SHAPE',
        `SyncBatchNorm: expected input [N, ${this.numFeatures}, ...] (at least 2-D), got ${formatShape(x.shape)}`,
      );
    }
  }

  /** `x` normalized per channel with the global batch's statistics (training) or the running ones. */
  override forward(x: Tensor): Tensor {
    this.checkInput(x);
    const useBatch = this.training || !this.running_mean;
    if (!useBatch) return this.normalize(x, this.running_mean, this.running_var);
    let batchesTracked = 0;
    if (this.training && this.num_batches_tracked) {
      batchesTracked = this.num_batches_tracked.item() + 1;
      writeInPlace('SyncBatchNorm', this.num_batches_tracked, (values) => values.fill(batchesTracked));
    }
    const C = this.numFeatures;
    const dims = [0, ...Array.from({ length: x.ndim - 2 }, (_, i) => i + 2)];
    const local = cat([x.sum(dims), x.mul(x).sum(dims), tensor([x.numel / C], { dtype: x.dtype })]);
    const sync = this.training && isInitialized() && getWorldSize() > 1;
    const stats = sync ? AllReduceSum.apply(local) : local;
    const count = stats.narrow(0, 2 * C, 1).item();
    if (count <= 1 && this.training) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `SyncBatchNorm: expected more than 1 value per channel when training, got input ${formatShape(x.shape)}`,
      );
    }
    const mean = stats.narrow(0, 0, C).div(count);
    const variance = stats.narrow(0, C, C).div(count).sub(mean.mul(mean));
    if (this.training && this.running_mean && this.running_var) {
      this.updateRunning(this.running_mean, this.running_var, mean, variance, count, batchesTracked);
    }
    return this.normalize(x, mean, variance);
  }

  private normalize(x: Tensor, mean: Tensor | null, variance: Tensor | null): Tensor {
    const view = [1, this.numFeatures, ...Array.from({ length: x.ndim - 2 }, () => 1)];
    const m = mean ? mean.reshape(view) : 0;
    let y = x.sub(m);
    if (variance) y = y.mul(variance.add(this.eps).rsqrt().reshape(view));
    if (this.weight) y = y.mul(this.weight.reshape(view));
    if (this.bias) y = y.add(this.bias.reshape(view));
    return y;
  }

  private updateRunning(
    runningMean: Tensor,
    runningVar: Tensor,
    mean: Tensor,
    variance: Tensor,
    count: number,
    batchesTracked: number,
  ): void {
    const factor = this.momentum ?? 1 / batchesTracked;
    noGrad(() => {
      const unbiased = variance.mul(count / (count - 1));
      runningMean.mul_(1 - factor).add_(mean.mul(factor));
      runningVar.mul_(1 - factor).add_(unbiased.mul(factor));
    });
  }

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum ?? 'None'}, affine=${this.weight ? 'True' : 'False'}`;
  }

  /**
   * Replaces every BatchNorm1d/BatchNorm2d in `module` by a SyncBatchNorm that shares its parameters
   * and running statistics, as PyTorch's `SyncBatchNorm.convert_sync_batchnorm`; returns the module
   * (a new SyncBatchNorm when `module` itself is a BatchNorm layer).
   */
  static convertSyncBatchnorm<M extends AnyModule>(module: M): M | SyncBatchNorm {
    if (module instanceof BatchNorm1d || module instanceof BatchNorm2d) {
      const sync = new SyncBatchNorm(module.numFeatures, {
        eps: module.eps,
        momentum: module.momentum,
        affine: module.weight !== null,
        trackRunningStats: module.running_mean !== null,
      });
      sync.weight = module.weight;
      sync.bias = module.bias;
      sync.running_mean = module.running_mean;
      sync.running_var = module.running_var;
      sync.num_batches_tracked = module.num_batches_tracked;
      sync.training = module.training;
      return sync;
    }
    for (const [name, child] of [...module.namedChildren()]) {
      const converted = SyncBatchNorm.convertSyncBatchnorm(child);
      if (converted === child) continue;
      if (module instanceof ModuleList) module.set(Number(name), converted);
      else if (module instanceof ModuleDict) module.set(name, converted);
      else (module as unknown as Record<string, unknown>)[name] = converted;
    }
    return module;
  }
}
