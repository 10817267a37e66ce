/**
 * The ports of pytorch/examples and nanoGPT in examples/: each trains for a few steps through the
 * public API and its loss must stay finite and fall (mean of the last third below the first third).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ExampleOptions, ExampleResult } from '../../examples/parts/example.js';
import * as dcgan from '../../examples/dcgan.js';
import * as mnist from '../../examples/mnist.js';
import * as mnistRnn from '../../examples/mnist_rnn.js';
import * as nanogpt from '../../examples/nanogpt.js';
import * as regression from '../../examples/regression.js';
import * as timeSequencePrediction from '../../examples/time_sequence_prediction.js';
import * as vae from '../../examples/vae.js';
import * as ng from '../../lib/index.js';
import { expectNodegradError } from '../helpers.js';
import * as wordLanguageModel from '../../examples/word_language_model.js';

interface Case {
  name: string;
  // Each main takes ExampleOptions plus its own size options (batch size, ...), passed in `options`.
  main: (options: ExampleOptions & Record<string, number>) => ExampleResult;
  steps: number;
  options?: Record<string, number>;
}

const cases: Case[] = [
  { name: 'regression', main: regression.main, steps: 60 },
  { name: 'mnist', main: mnist.main, steps: 12, options: { batchSize: 32, testLimit: 50 } },
  { name: 'vae', main: vae.main, steps: 20, options: { batchSize: 64 } },
  { name: 'mnist_rnn', main: mnistRnn.main, steps: 15, options: { batchSize: 32, testLimit: 50 } },
  {
    name: 'time_sequence_prediction',
    main: timeSequencePrediction.main,
    steps: 8,
    options: { length: 30, future: 10 },
  },
  { name: 'word_language_model (LSTM)', main: wordLanguageModel.main, steps: 24 },
  {
    name: 'word_language_model (Transformer)',
    main: (o) => wordLanguageModel.main({ ...o, model: 'Transformer' }),
    steps: 15,
  },
  { name: 'nanogpt', main: nanogpt.main, steps: 15, options: { generate: 20 } },
  // The discriminator's loss: it falls from ln 4 as D learns to tell digits from the first fakes.
  { name: 'dcgan', main: dcgan.main, steps: 12, options: { batchSize: 16 } },
];

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

describe('examples', () => {
  it.each(cases)('$name: the loss is finite and falls over $steps steps', ({ main, steps, options }) => {
    const { losses } = main({ steps, ...options });
    expect(losses.length).toBeGreaterThan(3);
    for (const loss of losses) expect(Number.isFinite(loss)).toBe(true);
    const third = Math.floor(losses.length / 3);
    expect(mean(losses.slice(-third))).toBeLessThan(mean(losses.slice(0, third)));
  });
});

describe('examples use only the public API', () => {
  const root = resolve(import.meta.dirname, '..', '..', 'examples');
  const sources = [
    ...readdirSync(root).filter((f) => f.endsWith('.ts')),
    ...readdirSync(join(root, 'parts')).map((f) => `parts/${f}`),
  ].map((file) => ({ file, text: readFileSync(join(root, file), 'utf8') }));

  it.each(sources.map((s) => [s.file, s] as const))(
    '%s imports nodegrad, node: modules and its own parts only',
    (_file, { text }) => {
      const specifiers = [...text.matchAll(/from '([^']+)'/g)].map((m) => m[1]);
      for (const specifier of specifiers)
        expect(specifier).toMatch(/^(nodegrad|node:[a-z:/]+|\.\/parts\/[a-z-]+\.js|\.\/[a-z-]+\.js)$/);
    },
  );

  it('the import scan sees every example import nodegrad', () => {
    for (const { file, text } of sources)
      if (!file.startsWith('parts/')) expect(text, file).toContain("import * as ng from 'nodegrad';");
  });

  it('no example writes into a storage or reaches the backend', () => {
    for (const { file, text } of sources) {
      expect(text, file).not.toMatch(/\.storage\b|ng\.backend|storage\.data/);
    }
  });
});

describe('nanogpt model', () => {
  const config = { blockSize: 8, vocabSize: 11, nLayer: 1, nHead: 2, nEmbd: 8, dropout: 0, bias: true };

  it('generate appends tokens of the vocabulary, past the block size', () => {
    ng.manualSeed(0);
    const model = new nanogpt.GPT(config);
    const out = model.generate(
      ng.tensor(
        [
          [1, 2, 3],
          [4, 5, 6],
        ],
        { dtype: 'int32' },
      ),
      10,
      { temperature: 0.8, topK: 3 },
    );
    expect(out.shape).toEqual([2, 13]);
    expect(Array.from(out.index(':', ng.slice(null, 3)).data())).toEqual([1, 2, 3, 4, 5, 6]);
    for (const token of out.data()) expect(token >= 0 && token < config.vocabSize).toBe(true);
  });

  it('refuses a sequence longer than the block size', () => {
    const model = new nanogpt.GPT(config);
    expectNodegradError(
      () => model.forward(ng.zeros([1, 9], { dtype: 'int32' })),
      'ERR_NODEGRAD_SHAPE',
      'GPT',
      'length 9',
      'block size is only 8',
    );
  });

  it('refuses nEmbd that the heads do not divide', () => {
    expectNodegradError(
      () => new nanogpt.GPT({ ...config, nHead: 3 }),
      'ERR_NODEGRAD_ARGUMENT',
      'CausalSelfAttention',
      'nEmbd 8',
      'nHead 3',
    );
  });
});
