// End to end: the nodegrad command as a user runs it (built dist/cli.js), on a small subset of the
// embedded digits.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const cli = resolve(import.meta.dirname, '..', '..', 'dist', 'cli.js');
const tiny = ['--train-limit', '640', '--test-limit', '300', '--batch-size', '32', '--lr', '0.05', '--threads', '1'];

function run(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}

describe('nodegrad train', () => {
  it('trains on a subset and writes the checkpoint, metrics, config and report', () => {
    const out = mkdtempSync(join(tmpdir(), 'nodegrad-run-'));
    const r = run(['train', '--epochs', '2', ...tiny, '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    for (const f of ['model.safetensors', 'optimizer.safetensors', 'metrics.jsonl', 'config.json', 'report.html']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(metrics).toHaveLength(2);
    for (const m of metrics) {
      for (const key of ['epoch', 'trainLoss', 'trainAccuracy', 'testLoss', 'top1', 'top5', 'seconds', 'imagesPerSecond']) expect(m).toHaveProperty(key);
      expect(m.top5).toBeGreaterThanOrEqual(m.top1);
    }
    expect(metrics[1].top1).toBeGreaterThan(0.3); // chance is 0.1
    expect(metrics[1].trainLoss).toBeLessThan(metrics[0].trainLoss);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))).toMatchObject({ model: 'lenet5', epochs: 2, data: 'mnist' });
    const report = readFileSync(join(out, 'report.html'), 'utf8');
    expect(report).toContain('<svg');
    expect(report.match(/<polyline/g)).toHaveLength(5);
    expect(jsonLines(r.stdout).filter((e) => e.event === 'epoch')).toHaveLength(2);

    const evaluated = run(['eval', '--checkpoint', out, '--test-limit', '300', '--json']);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    const result = JSON.parse(evaluated.stdout) as { top1: number; images: number; confusion: number[][] };
    expect(result.images).toBe(300);
    expect(result.confusion.flat().reduce((a, b) => a + b, 0)).toBe(300);
    expect(result.top1).toBeGreaterThan(0.3);
  });

  it('Ctrl-C saves a checkpoint and exits 130; --resume ends with the weights of an uninterrupted run', async () => {
    const whole = mkdtempSync(join(tmpdir(), 'nodegrad-whole-'));
    expect(run(['train', '--epochs', '2', ...tiny, '--out', whole, '--json']).code).toBe(0);

    const parts = mkdtempSync(join(tmpdir(), 'nodegrad-parts-'));
    const child = spawn(process.execPath, [cli, 'train', '--epochs', '2', ...tiny, '--out', parts, '--json', '--checkpoint-every', '4']);
    let output = '';
    let signalled = false;
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      // Interrupt once the first mid-epoch checkpoint exists.
      if (!signalled && output.includes('"event":"checkpoint"')) {
        signalled = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((done) => child.on('close', done));
    expect(code).toBe(130);
    const saved = JSON.parse(readFileSync(join(parts, 'optimizer.safetensors')).subarray(8, 8 + Number(readFileSync(join(parts, 'optimizer.safetensors')).readBigUInt64LE(0))).toString()).__metadata__;
    const stoppedAt = JSON.parse(saved.trainer) as { epoch: number; batchesDone: number };
    expect(stoppedAt.epoch * 100 + stoppedAt.batchesDone).toBeLessThan(200);

    const resumed = run(['train', '--epochs', '2', ...tiny, '--resume', parts, '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(jsonLines(resumed.stdout)[0]).toMatchObject({ event: 'start' });
    expect(readFileSync(join(parts, 'model.safetensors')).equals(readFileSync(join(whole, 'model.safetensors')))).toBe(true);
    expect(readFileSync(join(parts, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
  }, 60_000);
});

describe('nodegrad errors and other commands', () => {
  it.each([
    [['train', '--model', 'resnet9'], "unknown model 'resnet9'", 'valid: lenet5'],
    [['train', '--data', 'imagenet'], "unknown dataset 'imagenet'", 'valid: mnist'],
    [['train', '--data', 'idx:/nonexistent/dir'], '/nonexistent/dir', 'train-images-idx3-ubyte'],
    [['train', '--epochs', '0'], '--epochs must be an integer >= 1', ''],
    [['eval', '--checkpoint', '/nonexistent/run'], '/nonexistent/run does not exist', ''],
    [['summary', 'nope'], "unknown model 'nope'", 'resnet18'],
    [['fly'], "unknown command 'fly'", 'valid: train'],
  ])('%j exits 2 with one line', (args, fragment, valid) => {
    const r = run(args);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(fragment);
    expect(r.stderr).toContain(valid);
    expect(r.stderr).not.toContain('    at ');
  });

  it('a checkpoint of another model is refused by name', () => {
    const out = mkdtempSync(join(tmpdir(), 'nodegrad-mismatch-'));
    expect(run(['train', '--epochs', '1', '--train-limit', '64', '--test-limit', '64', '--out', out, '--json']).code).toBe(0);
    const r = run(['eval', '--checkpoint', out, '--model', 'resnet18', '--test-limit', '8']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('loadStateDict');
    expect(r.stderr).toContain('missing keys');
  });

  it('summary prints the layer table and totals', () => {
    const r = run(['summary', 'lenet5']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Total params: 61,706');
    expect(r.stdout).toContain('[1, 6, 28, 28]');
  });
});
