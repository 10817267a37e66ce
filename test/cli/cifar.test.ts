// `nodegrad train --model resnet18 --data cifar10:<dir>` end to end, on synthetic batches in
// CIFAR-10's binary format (3073-byte records: a label byte, then 3×32×32 pixel bytes).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonLines, run } from './helpers.js';

/** Records whose class is visible: class c brightens channel c % 3 in a band of rows c*3..c*3+2. */
function cifarBatch(records: number, seed: number): Buffer {
  const bytes = Buffer.alloc(records * 3073);
  let s = seed;
  const noise = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s >>> 26; // 0..63
  };
  for (let r = 0; r < records; r++) {
    const label = (r * 7 + seed) % 10;
    const off = r * 3073;
    bytes[off] = label;
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < 32; y++)
        for (let x = 0; x < 32; x++) {
          const lit = c === label % 3 && y >= label * 3 && y < label * 3 + 3;
          bytes[off + 1 + c * 1024 + y * 32 + x] = (lit ? 190 : 40) + noise();
        }
  }
  return bytes;
}

describe('nodegrad train --model resnet18 --data cifar10:<dir>', () => {
  it('reads the binary batches, trains ResNet-18 and lowers its loss', () => {
    const data = mkdtempSync(join(tmpdir(), 'nodegrad-cifar-'));
    for (let i = 1; i <= 5; i++) writeFileSync(join(data, `data_batch_${i}.bin`), cifarBatch(40, i));
    writeFileSync(join(data, 'test_batch.bin'), cifarBatch(40, 9));
    const out = mkdtempSync(join(tmpdir(), 'nodegrad-cifar-run-'));
    const r = run([
      'train',
      '--model',
      'resnet18',
      '--data',
      `cifar10:${data}`,
      '--epochs',
      '3',
      '--batch-size',
      '20',
      '--train-limit',
      '200',
      '--test-limit',
      '40',
      '--lr',
      '0.01',
      '--out',
      out,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const epochs = jsonLines(r.stdout).filter((e) => e.event === 'epoch');
    expect(epochs).toHaveLength(3);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({ model: 'resnet18', data: `cifar10:${data}`, epochs: 3 });
    const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { trainLoss: number; top1: number });
    expect(metrics).toHaveLength(3);
    const last = metrics[2];
    expect(last.trainLoss).toBeLessThan(metrics[0].trainLoss);
    expect(Number.isFinite(last.trainLoss)).toBe(true);
  }, 180_000);

  it('refuses a batch file that is not whole records, naming the file', () => {
    const data = mkdtempSync(join(tmpdir(), 'nodegrad-cifar-bad-'));
    for (let i = 1; i <= 5; i++) writeFileSync(join(data, `data_batch_${i}.bin`), cifarBatch(2, i));
    writeFileSync(join(data, 'test_batch.bin'), Buffer.alloc(3000));
    const r = run(['train', '--model', 'resnet18', '--data', `cifar10:${data}`, '--epochs', '1']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/cifar10: .*test_batch\.bin holds 3000 bytes/);
  });
});
