// Runs a worker script as `worldSize` ranks of one process group: child node processes against the
// built library (dist/, which `npm test` builds first), each with torchrun's variables set.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const library = resolve(import.meta.dirname, '..', '..', 'dist', 'index.js');

export interface RankResult {
  rank: number;
  code: number | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from spawn to exit. */
  elapsedMs: number;
}

/** A port nothing listens on now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => {
        done(port);
      });
    });
  });
}

/** A `file://` init method in a fresh folder. */
export function fileInitMethod(): string {
  return `file://${join(mkdtempSync(join(tmpdir(), 'nodegrad-rendezvous-')), 'store')}`;
}

export interface RunOptions {
  worldSize?: number;
  /** The ranks to start (default: all). */
  ranks?: number[];
  args?: string[];
  env?: Record<string, string>;
  timeoutMs?: number;
}

function runRank(script: string, rank: number, options: RunOptions): Promise<RankResult> {
  const started = Date.now();
  const env = { ...process.env, RANK: String(rank), WORLD_SIZE: String(options.worldSize ?? 2), ...options.env };
  const child = spawn(process.execPath, [script, library, ...(options.args ?? [])], { env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 45_000);
  return new Promise((done) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ rank, code, stdout, stderr, elapsedMs: Date.now() - started });
    });
  });
}

/** Runs test/distributed/workers/<name>.mjs on every rank at once and waits for all of them. */
export function runRanks(name: string, options: RunOptions = {}): Promise<RankResult[]> {
  if (!existsSync(library)) throw new Error(`${library} is missing: build it with npm run build:ts`);
  const script = fileURLToPath(new URL(`./workers/${name}.mjs`, import.meta.url));
  const ranks = options.ranks ?? Array.from({ length: options.worldSize ?? 2 }, (_, r) => r);
  return Promise.all(ranks.map((rank) => runRank(script, rank, options)));
}

/** The last JSON line a rank printed. */
export function lastJson(result: RankResult): Record<string, unknown> {
  const line = result.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new Error(
      `rank ${result.rank} (exit ${String(result.code)}) printed no JSON:\n${result.stdout}\n${result.stderr}`,
    );
  }
}
