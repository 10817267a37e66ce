// Text corpora: the embedded first names (makemore's framing) and users' text files.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';

describe('ng.data.names()', () => {
  const corpus = ng.data.names();

  it('holds out every tenth of the 8,403 distinct a-z names, disjoint from training, the same each call', () => {
    expect(corpus.trainWords.length + corpus.validationWords.length).toBe(8403);
    expect(corpus.validationWords.length).toBe(840);
    const train = new Set(corpus.trainWords);
    expect(train.size).toBe(corpus.trainWords.length);
    expect(corpus.validationWords.some((w) => train.has(w))).toBe(false);
    expect([...corpus.trainWords, ...corpus.validationWords].every((w) => /^[a-z]+$/.test(w))).toBe(true);
    expect(train.has('emma') || corpus.validationWords.includes('emma')).toBe(true);
    expect(ng.data.names()).toBe(corpus);
    // The split is a fixed shuffle, not alphabetical.
    expect(corpus.trainWords.slice(0, 5)).not.toEqual([...corpus.trainWords].sort().slice(0, 5));
  });

  it("has '.' then a-z as its vocabulary and round-trips text", () => {
    expect(corpus.vocab).toEqual(['.', ...Array.from('abcdefghijklmnopqrstuvwxyz')]);
    expect(Array.from(corpus.encode('.abz'))).toEqual([0, 1, 2, 26]);
    expect(corpus.decode(corpus.encode('.olivia.'))).toBe('.olivia.');
    expect(() => corpus.encode('Zoe')).toThrow(/names: character "Z" is not in the corpus vocabulary/);
    // The joined split: every name between boundaries.
    expect(corpus.decode(corpus.train).split('.').filter(Boolean)).toEqual(corpus.trainWords);
  });

  it('frames each name as x = . + name and y = name + ., padded with 0 and -1, cut at blockSize', () => {
    const ds = corpus.dataset('validation', 8);
    expect(ds.length).toBe(corpus.validationWords.length);
    const [x, y] = ds.batch([0]);
    const word = corpus.validationWords[0];
    const ids = Array.from(corpus.encode(word));
    const n = Math.min(ids.length + 1, 8);
    expect((x.toArray() as number[][])[0].slice(0, n)).toEqual([0, ...ids].slice(0, n));
    expect((y.toArray() as number[][])[0].slice(0, n)).toEqual([...ids, 0].slice(0, n));
    if (n < 8) {
      expect((x.toArray() as number[][])[0].slice(n)).toEqual(new Array(8 - n).fill(0));
      expect((y.toArray() as number[][])[0].slice(n)).toEqual(new Array(8 - n).fill(-1));
    }
    const long = corpus.trainWords.findIndex((w) => w.length >= 5);
    const [, yShort] = corpus.dataset('train', 3).batch([long]);
    expect((yShort.toArray() as number[][])[0]).toEqual(Array.from(corpus.encode(corpus.trainWords[long].slice(0, 3))));
    expect(x.dtype).toBe('int32');
    expect(() => corpus.dataset('train', 0)).toThrow(/names.dataset: blockSize must be a positive integer/);
  });
});

describe('ng.data.textFile()', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nodegrad-text-'));
  const path = join(dir, 'corpus.txt');
  const text = 'hello world, héllo again\n'.repeat(8);
  writeFileSync(path, text);

  it('character level: sorted distinct characters, 90/10 split, blocks shifted by one', () => {
    const corpus = ng.data.textFile(path);
    expect(corpus.vocab).toEqual([...new Set(Array.from(text))].sort());
    const total = Array.from(text).length;
    expect(corpus.train.length).toBe(Math.round(total * 0.9));
    expect(corpus.train.length + corpus.validation.length).toBe(total);
    expect(corpus.decode(corpus.train) + corpus.decode(corpus.validation)).toBe(text);
    const ds = corpus.dataset('train', 10);
    expect(ds.length).toBe(Math.floor((corpus.train.length - 1) / 10));
    const [x, y] = ds.batch([1]);
    expect(corpus.decode((x.toArray() as number[][])[0])).toBe(Array.from(text).slice(10, 20).join(''));
    expect(corpus.decode((y.toArray() as number[][])[0])).toBe(Array.from(text).slice(11, 21).join(''));
  });

  it('byte level: 256 tokens, the file bytes as ids, UTF-8 round trip', () => {
    const corpus = ng.data.textFile(path, { level: 'byte', validationFraction: 0.25 });
    expect(corpus.vocab.length).toBe(256);
    const bytes = Buffer.from(text, 'utf8');
    expect(corpus.train.length + corpus.validation.length).toBe(bytes.length);
    expect(corpus.validation.length).toBe(bytes.length - Math.round(bytes.length * 0.75));
    expect(corpus.decode(corpus.encode('héllo'))).toBe('héllo');
    expect(corpus.encode('é').length).toBe(2);
  });

  it('refuses a bad level, fraction or path with errors naming textFile', () => {
    expect(() => ng.data.textFile(path, { level: 'word' as 'char' })).toThrow(
      /textFile: level must be 'char' or 'byte'/,
    );
    expect(() => ng.data.textFile(path, { validationFraction: 1 })).toThrow(/textFile: validationFraction/);
    expect(() => ng.data.textFile(join(dir, 'missing.txt'))).toThrow(/textFile/);
    expect(() => ng.data.textFile(dir)).toThrow(/textFile/);
  });
});
