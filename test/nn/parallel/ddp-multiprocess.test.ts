/**
 * Data parallelism across real processes: 2 ranks on this machine (Gloo over loopback), started by
 * `nodegrad launch` from dist/ (build it first: npx tsc -p tsconfig.build.json).
 */
import { spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, jsonLines } from '../../cli/helpers.js';

const workers = resolve(import.meta.dirname, 'workers');

function launch(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [cli, 'launch', '--nproc-per-node', '2', ...args], {
    encoding: 'utf8',
    env: { ...process.env, NODEGRAD_NUM_THREADS: '1', NODEGRAD_DIST_TIMEOUT_MS: '20000', ...env },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function equivalence(which: string, steps: number) {
  const r = launch([resolve(workers, 'equivalence.mjs'), which, String(steps)]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const lines = jsonLines(r.stdout) as { rank: number; maxDiff: number; maxAbs: number; checksum: number }[];
  expect(lines.map((l) => l.rank).sort()).toEqual([0, 1]);
  return lines;
}

describe('DistributedDataParallel on 2 processes equals one process on the whole batch', () => {
  // float32 summation order differs (two half-batch sums averaged vs one sum): relative 1e-4.
  it.each([
    ['lenet', 20],
    ['syncbn', 20],
    ['unused', 20],
    ['nosync', 5],
  ])(
    '%s',
    (which, steps) => {
      const lines = equivalence(which, steps);
      for (const l of lines) {
        expect(l.maxAbs).toBeGreaterThan(0);
        expect(l.maxDiff).toBeLessThan(1e-4 * Math.max(1, l.maxAbs));
      }
      // The replicas stay identical: same averaged gradients, same updates.
      expect(lines[0].checksum).toBe(lines[1].checksum);
    },
    60_000,
  );
});

describe('nodegrad launch', () => {
  it("sets torchrun's variables for each rank and passes the script its arguments", () => {
    const r = launch(['--master-port', '29517', resolve(workers, 'env.mjs'), 'a', '--b']);
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stdout).sort((a, b) => Number(a.RANK) - Number(b.RANK));
    expect(lines).toEqual(
      [0, 1].map((rank) => ({
        args: ['a', '--b'],
        RANK: String(rank),
        LOCAL_RANK: String(rank),
        WORLD_SIZE: '2',
        LOCAL_WORLD_SIZE: '2',
        MASTER_ADDR: '127.0.0.1',
        MASTER_PORT: '29517',
        NODEGRAD_NUM_THREADS: '1',
      })),
    );
  });

  it('stops the other ranks when one fails and exits with its code, naming it', () => {
    const started = performance.now();
    const r = launch([resolve(workers, 'env.mjs')], { FAIL_RANK: '1' });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('rank 1');
    expect(r.stderr).toContain('exited with code 3');
    expect(performance.now() - started).toBeLessThan(20_000);
  });

  it('forwards SIGTERM to every rank and exits non-zero', async () => {
    const child = spawn(process.execPath, [cli, 'launch', '--nproc-per-node', '2', resolve(workers, 'env.mjs')], {
      env: { ...process.env, FAIL_RANK: 'none' },
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    // Both ranks are up once both printed their line.
    await new Promise<void>((ready) =>
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.split('\n').length > 2) ready();
      }),
    );
    child.kill('SIGTERM');
    expect(await exited).toBe(1);
    expect(stderr).toContain('killed by SIGTERM');
  }, 30_000);

  it('names a usage mistake', () => {
    const r = spawnSync(process.execPath, [cli, 'launch', '--nproc-per-node', '0', 'x.mjs'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--nproc-per-node must be an integer >= 1');
  });
});

describe('a rank killed mid-step', () => {
  it('makes the other rank fail with a message within the timeout, not hang', async () => {
    const env = { ...process.env, NODEGRAD_NUM_THREADS: '1', NODEGRAD_DIST_TIMEOUT_MS: '4000', WORLD_SIZE: '2' };
    const port = String(29600 + Math.floor(Math.random() * 300));
    const started = performance.now();
    const ranks = [0, 1].map((rank) => {
      const child = spawn(process.execPath, [resolve(workers, 'killed.mjs')], {
        env: { ...env, RANK: String(rank), LOCAL_RANK: String(rank), MASTER_ADDR: '127.0.0.1', MASTER_PORT: port },
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      return new Promise<{ code: number | null; signal: string | null; stderr: string }>((done) =>
        child.on('exit', (code, signal) => done({ code, signal, stderr })),
      );
    });
    const [zero, one] = await Promise.all(ranks);
    expect(one.signal).toBe('SIGKILL');
    expect(zero.code).toBe(1);
    expect(zero.stderr).toContain('rank 0 failed: allReduce');
    expect(performance.now() - started).toBeLessThan(30_000);
  }, 40_000);
});
