/** The resizing layers: Upsample, PixelShuffle and PixelUnshuffle, as PyTorch's. */
import type { Tensor } from '../tensor/tensor.js';
import {
  checkFactor,
  checkInterpolateOptions,
  interpolate,
  pixelShuffle,
  pixelUnshuffle,
  type InterpolateOptions,
} from '../ops/upsample.js';
import { Module } from './module.js';

/** Python's repr of a float (2 → 2.0) or a tuple of them. */
function floatText(v: number | readonly number[]): string {
  const one = (x: number) => (Number.isInteger(x) ? `${x}.0` : String(x));
  return typeof v === 'number' ? one(v) : `(${v.map(one).join(', ')})`;
}

/**
 * Resizes the spatial dims of its input, as PyTorch's `torch.nn.Upsample`: {@link interpolate} with
 * the options given here (exactly one of size and scaleFactor; mode 'nearest' by default).
 *
 * @example
 * ```ts
 * const up = new ng.nn.Upsample({ scaleFactor: 2, mode: 'bilinear', alignCorners: false });
 * up.forward(ng.randn([1, 3, 4, 4])).shape; // [1, 3, 8, 8]
 * ```
 */
export class Upsample extends Module {
  /** @param options - size or scaleFactor, mode ('nearest', 'linear' or 'bilinear'), alignCorners. */
  constructor(readonly options: InterpolateOptions) {
    super();
    checkInterpolateOptions('Upsample', options);
  }

  /** `x` resized ([N, C, L] or [N, C, H, W]). */
  forward(x: Tensor): Tensor {
    return interpolate(x, this.options);
  }

  override extraRepr(): string {
    const { size, scaleFactor, mode = 'nearest' } = this.options;
    const sizeText = typeof size === 'number' ? String(size) : `(${(size ?? []).join(', ')})`;
    const what = scaleFactor === undefined ? `size=${sizeText}` : `scale_factor=${floatText(scaleFactor)}`;
    return `${what}, mode=${mode}`;
  }
}

/**
 * Rearranges [*, C·r², H, W] into [*, C, H·r, W·r], as PyTorch's `torch.nn.PixelShuffle`
 * (see {@link pixelShuffle}).
 *
 * @example
 * ```ts
 * new ng.nn.PixelShuffle(3).forward(ng.randn([1, 9, 4, 4])).shape; // [1, 1, 12, 12]
 * ```
 */
export class PixelShuffle extends Module {
  /** @param upscaleFactor - r: the factor each spatial size grows by. */
  constructor(readonly upscaleFactor: number) {
    super();
    checkFactor('PixelShuffle', upscaleFactor);
  }

  /** `x` with channel blocks of r² moved into r×r pixel blocks. */
  forward(x: Tensor): Tensor {
    return pixelShuffle(x, this.upscaleFactor);
  }

  override extraRepr(): string {
    return `upscale_factor=${this.upscaleFactor}`;
  }
}

/**
 * Rearranges [*, C, H·r, W·r] into [*, C·r², H, W], as PyTorch's `torch.nn.PixelUnshuffle`
 * (see {@link pixelUnshuffle}).
 *
 * @example
 * ```ts
 * new ng.nn.PixelUnshuffle(2).forward(ng.randn([1, 1, 8, 8])).shape; // [1, 4, 4, 4]
 * ```
 */
export class PixelUnshuffle extends Module {
  /** @param downscaleFactor - r: the factor each spatial size shrinks by. */
  constructor(readonly downscaleFactor: number) {
    super();
    checkFactor('PixelUnshuffle', downscaleFactor);
  }

  /** `x` with r×r pixel blocks moved into channel blocks of r². */
  forward(x: Tensor): Tensor {
    return pixelUnshuffle(x, this.downscaleFactor);
  }

  override extraRepr(): string {
    return `downscale_factor=${this.downscaleFactor}`;
  }
}
