// `nodegrad train --nproc-per-node 2`: data-parallel training of the main job on 2 processes.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, jsonLines, tiny } from './helpers.js';

const cwd = mkdtempSync(join(tmpdir(), 'nodegrad-ddp-train-'));
afterAll(() => {
  rmSync(cwd, { recursive: true, force: true });
});

function train(args: string[]) {
  const r = spawnSync(process.execPath, [cli, 'train', ...tiny, '--json', ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NODEGRAD_DIST_TIMEOUT_MS: '30000' },
    timeout: 90_000,
  });
  return { code: r.status, events: jsonLines(r.stdout), stderr: r.stderr };
}

describe('train --nproc-per-node 2', () => {
  it('trains to a sane accuracy; rank 0 alone reports and writes one run folder; resumes on 1 process', () => {
    const r = train(['--nproc-per-node', '2', '--epochs', '2']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.events.filter((e) => e.event === 'start')).toHaveLength(1);
    // Each rank sees half of the 640 items: 10 batches of 32 per epoch.
    expect(r.events[0]).toMatchObject({ batchesPerEpoch: 10, trainSize: 640 });
    const epochs = r.events.filter((e) => e.event === 'epoch');
    expect(epochs).toHaveLength(2);
    expect(epochs[1].top1).toBeGreaterThan(0.5);
    const runs = readdirSync(join(cwd, 'runs'));
    expect(runs).toHaveLength(1);
    const run = join(cwd, 'runs', runs[0]);
    for (const file of ['model.safetensors', 'checkpoint.safetensors', 'metrics.jsonl', 'report.html'])
      expect(existsSync(join(run, file))).toBe(true);

    // The checkpoint holds model and optimizer only: it resumes with another world size.
    const resumed = train(['--resume', run, '--epochs', '3']);
    expect(resumed.code).toBe(0);
    const last = resumed.events.filter((e) => e.event === 'epoch');
    expect(last.map((e) => e.epoch)).toEqual([3]);
    expect(last[0].top1).toBeGreaterThan(0.5);
  }, 120_000);
});
