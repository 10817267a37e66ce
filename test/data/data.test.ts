import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { expectNodegradError, flat } from '../helpers.js';

const { data } = ng;
const dir = mkdtempSync(join(tmpdir(), 'nodegrad-data-'));

function idx(type: number, shape: number[], values: number[]): Buffer {
  const head = Buffer.alloc(4 + 4 * shape.length);
  head[2] = type;
  head[3] = shape.length;
  shape.forEach((s, d) => head.writeUInt32BE(s, 4 + 4 * d));
  return Buffer.concat([head, Buffer.from(values)]);
}

describe('embedded digits', () => {
  it('splits 10,000 real MNIST digits deterministically: every tenth digit of each class is held out', () => {
    const { train, test } = data.mnist();
    expect(train.length + test.length).toBe(10_000);
    expect(test.length).toBe(997); // ⌊count / 10⌋ per class: 100+112+99+103+98+86+101+107+94+97
    const [x, y] = train.tensors;
    expect(x.shape).toEqual([train.length, 1, 28, 28]);
    expect(y.dtype).toBe('int32');
    const counts = new Array<number>(10).fill(0);
    for (const v of flat(test.tensors[1])) counts[v]++;
    expect(Math.min(...counts)).toBeGreaterThan(80);
    const pixels = flat(x.narrow(0, 0, 10));
    expect(Math.min(...pixels)).toBe(0);
    expect(Math.max(...pixels)).toBeLessThanOrEqual(1);
    expect(data.mnist()).toBe(data.mnist());
  });
});

describe('DataLoader', () => {
  const ds = new data.TensorDataset(ng.arange(10).reshape([10, 1]), ng.arange(10, undefined, 1, { dtype: 'int32' }));

  it('batches in order, keeps or drops the last partial batch', () => {
    const batches = [...new data.DataLoader(ds, { batchSize: 4 })];
    expect(batches.map(([, y]) => flat(y))).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
    expect([...new data.DataLoader(ds, { batchSize: 4, dropLast: true })]).toHaveLength(2);
  });

  it('shuffles with a seed: the same order per (seed, epoch), a new one each epoch', async () => {
    const a = new data.DataLoader(ds, { batchSize: 10, shuffle: true, seed: 3 });
    const b = new data.DataLoader(ds, { batchSize: 10, shuffle: true, seed: 3 });
    const first = flat([...a][0][1]);
    expect(flat([...b][0][1])).toEqual(first);
    expect([...first].sort((p, q) => p - q)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const second = flat([...a][0][1]);
    expect(second).not.toEqual(first);
    const asyncBatches: number[][] = [];
    const c = new data.DataLoader(ds, { batchSize: 5, shuffle: true, seed: 3 });
    for await (const [, y] of c) asyncBatches.push(flat(y));
    expect(asyncBatches.flat()).toEqual(first);
  });

  it('refuses bad arguments', () => {
    expectNodegradError(() => new data.DataLoader(ds, { batchSize: 0 }), 'ERR_NODEGRAD_ARGUMENT', 'batchSize');
    expectNodegradError(
      () => new data.TensorDataset(ng.zeros([3]), ng.zeros([4])),
      'ERR_NODEGRAD_SHAPE',
      'TensorDataset',
      '[4]',
    );
  });
});

describe('files', () => {
  it('readIdx reads plain and gzipped IDX files; idxDataset finds the four MNIST files', () => {
    writeFileSync(join(dir, 'train-images-idx3-ubyte'), idx(0x08, [2, 2, 2], [0, 255, 51, 102, 1, 2, 3, 4]));
    writeFileSync(join(dir, 'train-labels-idx1-ubyte.gz'), gzipSync(idx(0x08, [2], [7, 3])));
    writeFileSync(join(dir, 't10k-images-idx3-ubyte.gz'), gzipSync(idx(0x08, [1, 2, 2], [255, 0, 0, 255])));
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), idx(0x08, [1], [9]));
    const labels = data.readIdx(join(dir, 'train-labels-idx1-ubyte.gz'));
    expect(labels.dtype).toBe('int32');
    expect(flat(labels)).toEqual([7, 3]);
    const split = data.idxDataset(dir);
    expect(split.train.tensors[0].shape).toEqual([2, 1, 2, 2]);
    expect(flat(split.train.tensors[0]).slice(0, 4)).toEqual([0, 1, 0.2, 0.4].map(Math.fround));
    expect(flat(split.test.tensors[1])).toEqual([9]);
    writeFileSync(join(dir, 'bad'), Buffer.from([1, 2, 3, 4]));
    expectNodegradError(() => data.readIdx(join(dir, 'bad')), 'ERR_NODEGRAD_ARGUMENT', 'not a valid IDX file');
    expectNodegradError(
      () => data.idxDataset(join(dir, 'nowhere')),
      'ERR_NODEGRAD_ARGUMENT',
      'train-images-idx3-ubyte',
    );
  });

  it('a gzip bomb stops at the size its header implies, quickly', () => {
    // The header claims 2 images of 28 x 28 (1,584 bytes); the stream expands to 64 MB.
    const bomb = gzipSync(Buffer.concat([idx(0x08, [2, 28, 28], []), Buffer.alloc(64 << 20)]));
    expect(bomb.length).toBeLessThan(1 << 20);
    const path = join(dir, 'bomb-idx3-ubyte.gz');
    writeFileSync(path, bomb);
    const started = performance.now();
    expectNodegradError(
      () => data.readIdx(path),
      'ERR_NODEGRAD_ARGUMENT',
      `readIdx: ${path} is not a valid IDX file`,
      'decompresses to more than the 1584 bytes its shape [2,28,28] needs',
    );
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('refuses absurd dimensions, a size that disagrees with them, and files that are not regular', () => {
    const cases: [string, Buffer, string][] = [
      [
        'absurd.gz',
        gzipSync(idx(0x08, [0xffffffff, 28, 28], [])),
        'holds 3367254359280 elements; expected at most 1073741824',
      ],
      ['absurd', idx(0x08, [60000, 60000, 28], []), 'expected at most'],
      ['short', idx(0x08, [3], [1, 2]), '10 bytes, but shape [3] needs 11'],
      ['long', idx(0x08, [1], [1, 2]), '10 bytes, but shape [1] needs 9'],
      ['short.gz', gzipSync(idx(0x08, [3], [1, 2])), 'decompresses to 10 bytes, but shape [3] needs 11'],
      ['dims cut off', Buffer.from([0, 0, 8, 3, 0, 0]), 'cannot hold the 3 dimensions'],
    ];
    for (const [name, bytes, fragment] of cases) {
      const path = join(dir, name);
      writeFileSync(path, bytes);
      expectNodegradError(
        () => data.readIdx(path),
        'ERR_NODEGRAD_ARGUMENT',
        `readIdx: ${path} is not a valid IDX file`,
        fragment,
      );
    }
    // A 1.9 GB file whose header names 10 bytes is refused by its size, not read.
    const huge = join(dir, 'huge');
    writeFileSync(huge, idx(0x08, [2], [1, 2]));
    truncateSync(huge, 1.9e9);
    const started = performance.now();
    expectNodegradError(() => data.readIdx(huge), 'ERR_NODEGRAD_ARGUMENT', '1900000000 bytes, but shape [2] needs 10');
    expect(performance.now() - started).toBeLessThan(1000);
    rmSync(huge);
    expectNodegradError(
      () => data.readIdx('/dev/zero'),
      'ERR_NODEGRAD_ARGUMENT',
      'readIdx: /dev/zero is a character device; expected a regular file',
    );
    const flatImages = join(dir, 'flat-images');
    mkdirSync(flatImages);
    writeFileSync(join(flatImages, 'train-images-idx3-ubyte'), idx(0x08, [8], [0, 1, 2, 3, 4, 5, 6, 7]));
    writeFileSync(join(flatImages, 'train-labels-idx1-ubyte'), idx(0x08, [2], [7, 3]));
    expectNodegradError(
      () => data.idxDataset(flatImages),
      'ERR_NODEGRAD_SHAPE',
      'idx: expected images [N, H, W] and labels [N]',
      'got [8] and [2]',
    );
  });

  it('cifar10 reads binary batches: label byte then 3 x 32 x 32 pixels', () => {
    const record = (label: number, fill: number) => Buffer.concat([Buffer.from([label]), Buffer.alloc(3072, fill)]);
    for (let i = 1; i <= 5; i++)
      writeFileSync(join(dir, `data_batch_${i}.bin`), Buffer.concat([record(i, 51), record(0, 255)]));
    writeFileSync(join(dir, 'test_batch.bin'), record(9, 0));
    const { train, test } = data.cifar10(dir);
    expect(train.length).toBe(10);
    expect(train.tensors[0].shape).toEqual([10, 3, 32, 32]);
    expect(flat(train.tensors[1]).slice(0, 4)).toEqual([1, 0, 2, 0]);
    expect(train.tensors[0].narrow(0, 0, 1).max().item()).toBeCloseTo(0.2, 6);
    expect(flat(test.tensors[1])).toEqual([9]);
    writeFileSync(join(dir, 'test_batch.bin'), Buffer.alloc(3074));
    expectNodegradError(
      () => data.cifar10(dir),
      'ERR_NODEGRAD_ARGUMENT',
      'test_batch.bin holds 3074 bytes; expected a whole number of 3073-byte records',
    );
  });
});

describe('transforms', () => {
  it('normalize, randomCrop with padding, horizontal flip', () => {
    const x = ng.arange(16).reshape([1, 1, 4, 4]);
    const [n] = data.transforms.normalize([2], [4])([x]);
    expect(flat(n).slice(0, 3)).toEqual([-0.5, -0.25, 0]);
    const [f] = data.transforms.randomHorizontalFlip(1)([x]);
    expect(flat(f).slice(0, 4)).toEqual([3, 2, 1, 0]);
    ng.manualSeed(1);
    const [c] = data.transforms.randomCrop(4, 2)([x]);
    expect(c.shape).toEqual([1, 1, 4, 4]);
    const kept = flat(c).filter((v) => v !== 0);
    for (const v of kept) expect(flat(x)).toContain(v);
  });
});
