// The PyTorch peers of the standalone benchmarks: `peerFigures(script)` runs bench/<script> with
// Debian's /usr/bin/python3 (when it has torch) as BASELINES.md prescribes — 2 threads, one
// OpenBLAS thread, the CPU presets that force OpenBLAS's AVX2 kernel unset — and reads its
// {"name", "value"} lines. --no-peers (or no python3 with torch) gives an empty map.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ng from '../dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));

/** The environment a PyTorch peer runs in. */
export function peerEnv(threads = ng.getNumThreads()) {
  const env = { ...process.env, TORCH_THREADS: String(threads), OPENBLAS_NUM_THREADS: '1' };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  return env;
}

/** name → value from bench/<script>'s JSON lines; empty when peers are off or unavailable. */
export function peerFigures(script, args = []) {
  const python = '/usr/bin/python3';
  if (process.argv.includes('--no-peers') || !existsSync(python)) return new Map();
  const run = spawnSync(python, [join(here, script), ...args], { env: peerEnv(), encoding: 'utf8' });
  if (run.status !== 0) return new Map();
  return new Map(
    run.stdout
      .trim()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => {
        const { name, value } = JSON.parse(line);
        return [name, value];
      }),
  );
}
