// --resume after a crash: a checkpoint is one atomic file, so a run killed at any point of a
// checkpoint write (or anywhere else) resumes to the weights of an uninterrupted run.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, run, sameWeights, tempFiles, tiny } from './helpers.js';

const train = ['train', '--epochs', '2', ...tiny, '--json'];
let whole: string;

beforeAll(() => {
  whole = mkdtempSync(join(tmpdir(), 'nodegrad-whole-'));
  const r = run([...train, '--out', whole]);
  expect(r.code, r.stderr).toBe(0);
});

describe('--resume after a crash', () => {
  // 20 batches per epoch and a checkpoint every 4: the 2nd checkpoint is mid-epoch, the 5th ends epoch 1.
  it.each([
    ['checkpoint-written:2', true],
    ['checkpoint-renamed:2', false],
    ['model-written:2', true],
    ['checkpoint-written:5', true],
  ])('killed at %s, it resumes to the uninterrupted weights and removes stale temporary files', (point, leavesTemp) => {
    const out = mkdtempSync(join(tmpdir(), 'nodegrad-crash-'));
    const crashed = run([...train, '--checkpoint-every', '4', '--out', out], { NODEGRAD_CRASH_AT: point });
    expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
    expect(tempFiles(out).length > 0).toBe(leavesTemp);
    // What a writer killed mid-write leaves: the first bytes of a newer checkpoint (its pid is gone).
    const partial = join(out, '.checkpoint.safetensors.999999999.0badf00d.tmp');
    writeFileSync(partial, Buffer.from([200, 1, 0, 0, 0, 0, 0, 0, 123]));
    const resumed = run([...train, '--resume', out]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(sameWeights(out, whole)).toBe(true);
    expect(tempFiles(out)).toEqual([]);
  });

  it('kill -9 at an arbitrary moment of a run that checkpoints every batch, then --resume: the uninterrupted weights', async () => {
    for (const [checkpoints, delayMs] of [
      [3, 0],
      [26, 3],
    ]) {
      const out = mkdtempSync(join(tmpdir(), 'nodegrad-kill-'));
      const child = spawn(process.execPath, [cli, ...train, '--checkpoint-every', '1', '--out', out]);
      let seen = 0;
      child.stdout.on('data', (chunk: Buffer) => {
        seen += chunk.toString().split('"event":"checkpoint"').length - 1;
        if (seen >= checkpoints) setTimeout(() => child.kill('SIGKILL'), delayMs);
      });
      const signal = await new Promise<NodeJS.Signals | null>((done) => child.on('close', (_, s) => done(s)));
      expect(signal, `try ${checkpoints}`).toBe('SIGKILL');
      const resumed = run([...train, '--resume', out]);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(sameWeights(out, whole), `killed after ${checkpoints} checkpoints + ${delayMs} ms`).toBe(true);
      expect(tempFiles(out)).toEqual([]);
    }
  }, 120_000);
});

describe('--resume refuses what it cannot continue exactly', () => {
  let done: string;

  beforeAll(() => {
    done = mkdtempSync(join(tmpdir(), 'nodegrad-done-'));
    expect(run(['train', '--epochs', '1', ...tiny, '--out', done, '--json']).code).toBe(0);
  });

  it('changed settings exit 2 with one line naming each difference', () => {
    const r = run([
      'train',
      '--epochs',
      '2',
      ...tiny,
      '--batch-size',
      '16',
      '--seed',
      '3',
      '--optimizer',
      'adam',
      '--resume',
      done,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('--resume: checkpoint was trained with --seed 0, this run asks for 3');
    expect(r.stderr).toContain('--batch-size 32, this run asks for 16');
    expect(r.stderr).toContain('--optimizer sgd, this run asks for adam');
    expect(r.stderr).toContain('--allow-config-change');
    expect(r.stderr).not.toContain('--lr');
  });

  it('--allow-config-change resumes with the new settings: the weights, not the optimizer state, carry over', () => {
    const out = mkdtempSync(join(tmpdir(), 'nodegrad-override-'));
    for (const f of readdirSync(done)) copyFileSync(join(done, f), join(out, f));
    const r = run([
      'train',
      '--epochs',
      '2',
      ...tiny,
      '--optimizer',
      'adam',
      '--lr',
      '0.001',
      '--resume',
      out,
      '--allow-config-change',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.split('\n')[0])).toMatchObject({ event: 'start', resumedAt: { epoch: 1, batch: 0 } });
    expect(sameWeights(out, done)).toBe(false);
  });

  it('a folder without checkpoint.safetensors is refused, naming the old two-file layout', () => {
    const out = mkdtempSync(join(tmpdir(), 'nodegrad-legacy-'));
    copyFileSync(join(done, 'model.safetensors'), join(out, 'model.safetensors'));
    copyFileSync(join(done, 'model.safetensors'), join(out, 'optimizer.safetensors'));
    const r = run([...train, '--resume', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--resume: ${out} holds no checkpoint.safetensors`);
    expect(r.stderr).toContain('may be from different steps');
    rmSync(join(out, 'optimizer.safetensors'));
    expect(run([...train, '--resume', out]).stderr).toContain('holds no checkpoint.safetensors\n');
  });
});
