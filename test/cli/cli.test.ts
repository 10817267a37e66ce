// End to end: the nodegrad command as a user runs it (built dist/cli.js), on a small subset of the
// embedded digits.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { cli, jsonLines, run, sameWeights, tiny } from './helpers.js';

/** One line of metrics.jsonl (testLoss is null where it was NaN). */
interface Metrics {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  testLoss: number | null;
  top1: number;
  top5: number;
}

describe('nodegrad train', () => {
  it('trains on a subset and writes the checkpoint, metrics, config and report', () => {
    const out = mkdtempSync(join(tmpdir(), 'nodegrad-run-'));
    const r = run(['train', '--epochs', '2', ...tiny, '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    for (const f of ['checkpoint.safetensors', 'model.safetensors', 'metrics.jsonl', 'config.json', 'report.html']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Metrics);
    expect(metrics).toHaveLength(2);
    for (const m of metrics) {
      for (const key of [
        'epoch',
        'trainLoss',
        'trainAccuracy',
        'testLoss',
        'top1',
        'top5',
        'seconds',
        'imagesPerSecond',
      ])
        expect(m).toHaveProperty(key);
      expect(m.top5).toBeGreaterThanOrEqual(m.top1);
    }
    expect(metrics[1].top1).toBeGreaterThan(0.3); // chance is 0.1
    expect(metrics[1].trainLoss).toBeLessThan(metrics[0].trainLoss);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))).toMatchObject({
      model: 'lenet5',
      epochs: 2,
      data: 'mnist',
    });
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
    const child = spawn(process.execPath, [
      cli,
      'train',
      '--epochs',
      '2',
      ...tiny,
      '--out',
      parts,
      '--json',
      '--checkpoint-every',
      '4',
    ]);
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
    const stoppedAt = JSON.parse(ng.readSafetensors(join(parts, 'checkpoint.safetensors')).metadata.trainer) as {
      epoch: number;
      batchesDone: number;
    };
    expect(stoppedAt.epoch * 100 + stoppedAt.batchesDone).toBeLessThan(200);

    const resumed = run(['train', '--epochs', '2', ...tiny, '--resume', parts, '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(jsonLines(resumed.stdout)[0]).toMatchObject({ event: 'start' });
    expect(sameWeights(parts, whole)).toBe(true);
    expect(readFileSync(join(parts, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
  }, 60_000);
});

describe('accuracy counts ties and NaN as PyTorch does', () => {
  const labels = Array.from(ng.data.mnist().test.tensors[1].data());
  const share = (classes: number[]) => labels.filter((l) => classes.includes(l)).length / labels.length;

  it.each([
    ['all-zero', 0],
    ['all-NaN', NaN],
  ])('eval of an %s model predicts class 0 everywhere: top-1 is the share of class 0', (_, fill) => {
    const dir = mkdtempSync(join(tmpdir(), 'nodegrad-constant-'));
    const model = ng.models.registry.lenet5({ numClasses: 10, inChannels: 1 });
    ng.save(
      Object.fromEntries(Object.entries(model.stateDict()).map(([k, t]) => [k, ng.full(t.shape, fill)])),
      join(dir, 'model.safetensors'),
    );
    const r = run(['eval', '--checkpoint', join(dir, 'model.safetensors'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { top1: number; top5: number; images: number; confusion: number[][] };
    expect(result.images).toBe(labels.length);
    expect(result.top1).toBe(share([0]));
    expect(result.top1).toBeCloseTo(0.1, 1);
    expect(result.top5).toBe(share([0, 1, 2, 3, 4]));
    expect(result.confusion.map((row) => row[0])).toEqual(
      Array.from({ length: 10 }, (_, c) => labels.filter((l) => l === c).length),
    );
  });

  it('a run whose loss turns NaN reports chance-level train and test accuracy, not 100%', () => {
    const out = mkdtempSync(join(tmpdir(), 'nodegrad-diverged-'));
    const r = run(['train', '--epochs', '1', ...tiny, '--lr', '1e10', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const [m] = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Metrics);
    expect(m.testLoss).toBeNull(); // NaN in JSON
    expect(m.trainAccuracy).toBeLessThan(0.2);
    expect(m.top1).toBeLessThan(0.2);
  });
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
    expect(
      run(['train', '--epochs', '1', '--train-limit', '64', '--test-limit', '64', '--out', out, '--json']).code,
    ).toBe(0);
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
