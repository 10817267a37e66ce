/**
 * `ng.data.transforms`: batch transforms for DataLoader's `transform`: normalization and simple
 * augmentation, like torchvision's transforms but applied to a whole batch.
 *
 * @module
 */
import { nextUniform } from '../tensor/random.js';
import { fromArray, type Tensor } from '../tensor/tensor.js';

/** A function from a batch (the DataLoader's tensors) to the batch to use instead. */
export type BatchTransform = (batch: Tensor[]) => Tensor[];

/** (x − mean_c) / std_c per channel of the first tensor ([N, C, H, W]). */
export function normalize(mean: readonly number[], std: readonly number[]): BatchTransform {
  return ([x, ...rest]) => {
    const [N, C] = x.shape;
    const plane = x.numel / (N * C);
    const src = x.contiguous().data();
    const out = new Float32Array(src.length);
    for (let i = 0; i < src.length; i++) {
      const c = Math.floor(i / plane) % C;
      out[i] = (src[i] - mean[c % mean.length]) / std[c % std.length];
    }
    return [fromArray(out, x.shape), ...rest];
  };
}

/** Pads each image by `padding` zeros and crops a random size x size window (seeded generator). */
export function randomCrop(size: number, padding = 0): BatchTransform {
  return ([x, ...rest]) => {
    const [N, C, H, W] = x.shape;
    const src = x.contiguous().data();
    const out = new Float32Array(N * C * size * size);
    for (let n = 0; n < N; n++) {
      const top = Math.floor(nextUniform() * (H + 2 * padding - size + 1)) - padding;
      const left = Math.floor(nextUniform() * (W + 2 * padding - size + 1)) - padding;
      for (let c = 0; c < C; c++) {
        for (let i = 0; i < size; i++) {
          const h = top + i;
          if (h < 0 || h >= H) continue;
          for (let j = 0; j < size; j++) {
            const w = left + j;
            if (w >= 0 && w < W) out[((n * C + c) * size + i) * size + j] = src[((n * C + c) * H + h) * W + w];
          }
        }
      }
    }
    return [fromArray(out, [N, C, size, size]), ...rest];
  };
}

/** Mirrors each image left-right with probability p (seeded generator). */
export function randomHorizontalFlip(p = 0.5): BatchTransform {
  return ([x, ...rest]) => {
    const [N, C, H, W] = x.shape;
    const out = Float32Array.from(x.contiguous().data());
    for (let n = 0; n < N; n++) {
      if (nextUniform() >= p) continue;
      for (let c = 0; c < C; c++) {
        for (let h = 0; h < H; h++) {
          const row = ((n * C + c) * H + h) * W;
          for (let w = 0; w < W / 2; w++) {
            const a = out[row + w];
            out[row + w] = out[row + W - 1 - w];
            out[row + W - 1 - w] = a;
          }
        }
      }
    }
    return [fromArray(out, x.shape), ...rest];
  };
}

/** Applies transforms left to right. */
export function compose(...transforms: BatchTransform[]): BatchTransform {
  return (batch) => transforms.reduce((b, t) => t(b), batch);
}
