/**
 * nn.ConvTranspose2d, standing in for PyTorch's until nodegrad ships it. A transposed convolution
 * is a plain convolution of the input dilated by the stride (zeros between pixels), padded by
 * dilation·(k − 1) − padding, with the kernel flipped and its in/out channels swapped; output size
 * (H − 1)·stride − 2·padding + k, as PyTorch's (no output padding, groups or dilation here).
 */
import * as ng from 'nodegrad';

const { nn } = ng;

export interface ConvTranspose2dOptions {
  stride?: number;
  padding?: number;
  bias?: boolean;
}

export class ConvTranspose2d extends nn.Module {
  /** [in, out, k, k], PyTorch's layout for a transposed convolution. */
  weight: ng.nn.Parameter;
  bias: ng.nn.Parameter | null;
  readonly stride: number;
  readonly padding: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    options: ConvTranspose2dOptions = {},
  ) {
    super();
    this.stride = options.stride ?? 1;
    this.padding = options.padding ?? 0;
    if (this.padding > kernelSize - 1) {
      throw new ng.NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `ConvTranspose2d: padding ${this.padding} must be at most kernelSize − 1 = ${kernelSize - 1}`,
      );
    }
    // PyTorch's fan-in for this layout is out·k·k (weight.size(1) · receptive field).
    const bound = 1 / Math.sqrt(outChannels * kernelSize * kernelSize);
    this.weight = new nn.Parameter(
      nn.init.uniform_(ng.zeros([inChannels, outChannels, kernelSize, kernelSize]), -bound, bound),
    );
    this.bias =
      options.bias === false ? null : new nn.Parameter(nn.init.uniform_(ng.zeros([outChannels]), -bound, bound));
  }

  forward(x: ng.Tensor): ng.Tensor {
    const [n, c, h, w] = x.shape;
    let dilated = x;
    if (this.stride > 1) {
      const every = ng.slice(null, null, this.stride);
      dilated = ng
        .zeros([n, c, (h - 1) * this.stride + 1, (w - 1) * this.stride + 1], { dtype: x.dtype })
        .indexPut([':', ':', every, every], x);
    }
    const kernel = this.weight.transpose(0, 1).flip([2, 3]);
    return nn.functional.conv2d(dilated, kernel, this.bias, { padding: this.kernelSize - 1 - this.padding });
  }
}
