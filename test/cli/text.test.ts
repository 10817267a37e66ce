// End to end: the text job (`nodegrad train --model gpt|lstm`, `nodegrad generate`) as a user runs it.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonLines, run } from './helpers.js';

/** A small GPT: one epoch of the names takes a few seconds. */
const small = ['--epochs', '2', '--layers', '1', '--heads', '2', '--width', '32', '--threads', '1'];

describe('nodegrad train --model gpt', () => {
  const out = mkdtempSync(join(tmpdir(), 'nodegrad-text-'));
  const r = run(['train', '--model', 'gpt', ...small, '--samples', '5', '--out', out, '--json']);

  it('trains on the names, lowering the validation loss, and writes the run folder with samples', () => {
    expect(r.code, r.stderr).toBe(0);
    for (const f of ['model.safetensors', 'metrics.jsonl', 'config.json', 'report.html', 'samples.txt']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    const events = jsonLines(r.stdout);
    const epochs = events.filter((e) => e.event === 'epoch') as unknown as { validationLoss: number }[];
    expect(epochs).toHaveLength(2);
    // Uniform guessing over 27 tokens costs ln 27 = 3.30 nats; a bigram model ~2.45.
    expect(epochs[0].validationLoss).toBeLessThan(2.8);
    expect(epochs[1].validationLoss).toBeLessThan(epochs[0].validationLoss);
    const samples = readFileSync(join(out, 'samples.txt'), 'utf8').trim().split('\n');
    expect(samples).toHaveLength(5);
    expect(samples.every((s) => /^[a-z]*$/.test(s))).toBe(true);
    const report = readFileSync(join(out, 'report.html'), 'utf8');
    expect(report).toContain('validation loss');
    expect(report).toContain(samples[0]);
  });

  it('generate samples names from the saved run, the same for the same seed', () => {
    const a = run(['generate', '--checkpoint', out, '--n', '6', '--seed', '3']);
    expect(a.code, a.stderr).toBe(0);
    const names = a.stdout.trim().split('\n');
    expect(names).toHaveLength(6);
    expect(names.every((s) => /^[a-z]*$/.test(s))).toBe(true);
    expect(run(['generate', '--checkpoint', out, '--n', '6', '--seed', '3']).stdout).toBe(a.stdout);
  });
});

describe('nodegrad text errors', () => {
  it('names the valid choices for an unknown text model, data or a run folder that is not a text run', () => {
    const badData = run(['train', '--model', 'gpt', '--data', 'shakespeare', '--epochs', '1']);
    expect(badData.code).toBe(2);
    expect(badData.stderr).toContain("unknown text data 'shakespeare'; valid: names, text:<path>");
    const dir = mkdtempSync(join(tmpdir(), 'nodegrad-notext-'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model: 'lenet5' }));
    const notText = run(['generate', '--checkpoint', dir]);
    expect(notText.code).toBe(2);
    expect(notText.stderr).toContain("is not a text run (its model is 'lenet5')");
    expect(run(['generate']).stderr).toContain('generate needs --checkpoint');
  });

  it('trains the LSTM language model on a text file at the character level', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nodegrad-textfile-'));
    const file = join(dir, 'corpus.txt');
    writeFileSync(file, 'the quick brown fox jumps over the lazy dog. '.repeat(60));
    const out = join(dir, 'run');
    const r = run(['train', '--model', 'lstm', '--data', `text:${file}`, ...small, '--samples', '2', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('done: validation loss');
    const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { validationLoss: number });
    expect(metrics[1].validationLoss).toBeLessThan(metrics[0].validationLoss);
  });
});
