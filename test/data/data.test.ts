import { mkdtempSync, writeFileSync } from 'node:fs';
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
    const counts = new Array(10).fill(0);
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
    expect(batches.map(([, y]) => flat(y))).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
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
    expectNodegradError(() => new data.TensorDataset(ng.zeros([3]), ng.zeros([4])), 'ERR_NODEGRAD_SHAPE', 'TensorDataset', '[4]');
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
    expectNodegradError(() => data.idxDataset(join(dir, 'nowhere')), 'ERR_NODEGRAD_ARGUMENT', 'train-images-idx3-ubyte');
  });

  it('cifar10 reads binary batches: label byte then 3 x 32 x 32 pixels', () => {
    const record = (label: number, fill: number) => Buffer.concat([Buffer.from([label]), Buffer.alloc(3072, fill)]);
    for (let i = 1; i <= 5; i++) writeFileSync(join(dir, `data_batch_${i}.bin`), Buffer.concat([record(i, 51), record(0, 255)]));
    writeFileSync(join(dir, 'test_batch.bin'), record(9, 0));
    const { train, test } = data.cifar10(dir);
    expect(train.length).toBe(10);
    expect(train.tensors[0].shape).toEqual([10, 3, 32, 32]);
    expect(flat(train.tensors[1]).slice(0, 4)).toEqual([1, 0, 2, 0]);
    expect(train.tensors[0].narrow(0, 0, 1).max().item()).toBeCloseTo(0.2, 6);
    expect(flat(test.tensors[1])).toEqual([9]);
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
