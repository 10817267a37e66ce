// Runs the nodegrad command as a user does: the built dist/cli.js in a child process.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const cli = resolve(import.meta.dirname, '..', '..', 'dist', 'cli.js');
/** A small subset of the embedded digits: 20 batches per epoch, one thread for reproducible sums. */
export const tiny = [
  '--train-limit',
  '640',
  '--test-limit',
  '300',
  '--batch-size',
  '32',
  '--lr',
  '0.05',
  '--threads',
  '1',
];

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function run(args: string[], env: Record<string, string> = {}): RunResult {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

export function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export function sameWeights(a: string, b: string): boolean {
  return readFileSync(join(a, 'model.safetensors')).equals(readFileSync(join(b, 'model.safetensors')));
}

export function tempFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.tmp'));
}
