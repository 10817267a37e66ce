import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { fixturesDir } from '../fixtures.js';
import { expectNodegradError, flat } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'nodegrad-st-'));

/** The tensors tools/golden/write-nodegrad-fixture.mjs wrote (and make_goldens.py loaded in PyTorch). */
function fixtureTensors(): Record<string, ng.Tensor> {
  return {
    weight: ng.arange(12).reshape([3, 4]).div(4),
    bias: ng.tensor([-1.5, 0, 2.25], { dtype: 'float64' }),
    steps: ng.tensor([[7, -3]], { dtype: 'int32' }),
  };
}

function header(json: object, data: Uint8Array = new Uint8Array(0)): Buffer {
  const h = Buffer.from(JSON.stringify(json));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  return Buffer.concat([len, h, data]);
}

describe('safetensors', () => {
  it('round-trips float32, float64 and int32 tensors and metadata', () => {
    const path = join(dir, 'round.safetensors');
    ng.save(fixtureTensors(), path, { epoch: '3' });
    const { tensors, metadata } = ng.readSafetensors(path);
    expect(metadata).toEqual({ epoch: '3' });
    for (const [k, t] of Object.entries(fixtureTensors())) {
      expect(tensors[k].dtype).toBe(t.dtype);
      expect(tensors[k].shape).toEqual(t.shape);
      expect(flat(tensors[k])).toEqual(flat(t));
    }
  });

  it("writes exactly the bytes of the fixture that PyTorch's safetensors loaded", () => {
    const path = join(dir, 'same.safetensors');
    ng.save(fixtureTensors(), path, { writer: 'nodegrad' });
    expect(readFileSync(path).equals(readFileSync(join(fixturesDir, 'written-by-nodegrad.safetensors')))).toBe(true);
    // The data section starts 8-byte aligned, as the reference writer pads it.
    expect((8 + Number(readFileSync(path).readBigUInt64LE(0))) % 8).toBe(0);
  });

  it("loads files written by PyTorch's safetensors, int64 buffers included", () => {
    const sd = ng.load(join(fixturesDir, 'lenet.safetensors'));
    expect(sd['conv1.weight'].shape).toEqual([6, 1, 5, 5]);
    expect(sd['fc3.bias'].dtype).toBe('float32');
    expect(sd.target.dtype).toBe('int32');
    const { metadata } = ng.readSafetensors(join(fixturesDir, 'lenet.safetensors'));
    expect(metadata).toEqual({ model: 'lenet5' });
    const i64 = join(dir, 'i64.safetensors');
    const data = new Uint8Array(new BigInt64Array([5n, -7n]).buffer);
    writeFileSync(i64, header({ n: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, data));
    expect(flat(ng.load(i64).n)).toEqual([5, -7]);
  });

  it('rejects truncated and corrupt files with a clear error', () => {
    const good = readFileSync(join(fixturesDir, 'written-by-nodegrad.safetensors'));
    const cases: [string, Buffer, string][] = [
      ['too short', good.subarray(0, 5), 'shorter than the 8-byte header length'],
      ['truncated data', good.subarray(0, good.length - 4), 'outside'],
      [
        'header length past the end',
        Buffer.concat([Buffer.from([255, 255, 255, 255, 0, 0, 0, 0]), good.subarray(8)]),
        'header length',
      ],
      ['bad JSON', header({}).fill(0x7b, 8), 'not valid JSON'],
      [
        'unknown dtype',
        header({ a: { dtype: 'Q7', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)),
        'unknown dtype "Q7"',
      ],
      [
        'size mismatch',
        header({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, new Uint8Array(4)),
        'needs 8',
      ],
      [
        'overlap',
        header(
          {
            a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
            b: { dtype: 'F32', shape: [1], data_offsets: [2, 6] },
          },
          new Uint8Array(8),
        ),
        'overlaps',
      ],
      [
        'hole',
        header({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8)),
        'belong to no tensor',
      ],
      [
        'trailing bytes',
        header({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(8)),
        'after the last tensor',
      ],
      [
        'negative shape',
        header({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4)),
        'invalid shape',
      ],
      ['bad metadata', header({ __metadata__: { a: 1 } }), '__metadata__'],
    ];
    for (const [name, bytes, fragment] of cases) {
      const path = join(dir, `${name.replace(/\W+/g, '-')}.safetensors`);
      writeFileSync(path, bytes);
      expectNodegradError(
        () => ng.load(path),
        'ERR_NODEGRAD_ARGUMENT',
        `${path} is not a valid safetensors file`,
        fragment,
      );
    }
    expectNodegradError(() => ng.load(join(dir, 'missing.safetensors')), 'ERR_NODEGRAD_ARGUMENT', 'cannot read');
  });

  it('writes atomically: a failed save leaves the previous file intact and no temporary file', () => {
    const path = join(dir, 'atomic.safetensors');
    ng.save({ a: ng.ones([2]) }, path);
    const before = readFileSync(path);
    const broken = ng.ones([2]);
    broken.dispose();
    expect(() => ng.save({ a: ng.zeros([2]), b: broken }, path)).toThrow(/disposed/);
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(readdirSync(dir).filter((f) => f.includes('atomic') && f.endsWith('.tmp'))).toEqual([]);
    expect(existsSync(path)).toBe(true);
  });

  it('loads from a Buffer or Uint8Array as from its file, and names neither bytes nor a path in errors', () => {
    const path = join(dir, 'bytes.safetensors');
    ng.save(fixtureTensors(), path, { epoch: '3' });
    const bytes = readFileSync(path);
    for (const input of [bytes, new Uint8Array(bytes)]) {
      const { tensors, metadata } = ng.readSafetensors(input);
      expect(metadata).toEqual({ epoch: '3' });
      for (const [k, t] of Object.entries(fixtureTensors())) {
        expect(tensors[k].dtype).toBe(t.dtype);
        expect(flat(tensors[k])).toEqual(flat(t));
      }
    }
    // The tensors own their bytes: changing the buffer afterwards changes nothing.
    const loaded = ng.load(bytes);
    bytes.fill(0xff);
    expect(flat(loaded.weight)).toEqual(flat(fixtureTensors().weight));
    const junk = Buffer.from('{"this is": "not a safetensors file"}');
    expectNodegradError(
      () => ng.load(junk),
      'ERR_NODEGRAD_ARGUMENT',
      'load: the given 37-byte buffer is not a valid safetensors file',
      'header length',
    );
    expect(() => ng.load(junk)).not.toThrow(/this is/);
    expectNodegradError(
      () => ng.readSafetensors(new Uint8Array(junk)),
      'ERR_NODEGRAD_ARGUMENT',
      'readSafetensors: the given 37-byte buffer is not a valid safetensors file',
    );
    expect(() => ng.readSafetensors(junk)).not.toThrow(/this is|123,/);
    expectNodegradError(
      () => ng.load(42 as unknown as string),
      'ERR_NODEGRAD_ARGUMENT',
      'load: expected a file path or a Uint8Array, got number',
    );
  });

  it('refuses a FIFO and a character device at once instead of waiting or reading without end', () => {
    const fifo = join(dir, 'pipe.safetensors');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    // A writer that shows up later: a reader that blocked on the FIFO would return its junk after 2 s.
    const writer = spawn('sh', ['-c', `sleep 2; printf junkjunkjunk > '${fifo}'`], { stdio: 'ignore' });
    try {
      const started = performance.now();
      expectNodegradError(
        () => ng.load(fifo),
        'ERR_NODEGRAD_ARGUMENT',
        `load: ${fifo} is a FIFO; expected a regular file`,
      );
      expect(performance.now() - started).toBeLessThan(1000);
    } finally {
      writer.kill('SIGKILL');
      rmSync(fifo);
    }
    expectNodegradError(
      () => ng.load('/dev/zero'),
      'ERR_NODEGRAD_ARGUMENT',
      'load: /dev/zero is a character device; expected a regular file',
    );
    expectNodegradError(() => ng.load(dir), 'ERR_NODEGRAD_ARGUMENT', `load: ${dir} is a folder`);
  });

  it('checks a 1.9 GB file by its header and size alone, without reading its data', () => {
    const cases: [string, Buffer, string][] = [
      ['junk', Buffer.from('\x13\x37\x42\x99junkjunk'), 'header length'],
      [
        'small header, huge data',
        header({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)),
        'after the last tensor belong to no tensor',
      ],
      ['offsets past the end', header({ a: { dtype: 'F32', shape: [1e9], data_offsets: [0, 4e9] } }), 'outside the'],
    ];
    for (const [name, head, fragment] of cases) {
      const path = join(dir, `${name.replace(/\W+/g, '-')}-big.safetensors`);
      writeFileSync(path, head);
      truncateSync(path, 1.9e9); // sparse: no disk space used
      const started = performance.now();
      expectNodegradError(
        () => ng.load(path),
        'ERR_NODEGRAD_ARGUMENT',
        `${path} is not a valid safetensors file`,
        fragment,
      );
      expect(performance.now() - started, name).toBeLessThan(1000);
      rmSync(path);
    }
  });
});
