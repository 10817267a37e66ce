// The kernels' thread count is per calling thread: a Worker starts with one thread, and a Worker's
// setNumThreads changes neither the main thread's count nor another Worker's. Runs the built
// library (dist/, which `npm test` builds first) in a child process with two Workers.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('./workers/thread-counts.mjs', import.meta.url));
const library = resolve(import.meta.dirname, '..', '..', 'dist', 'index.js');

describe('thread counts per calling thread', () => {
  it('Workers start at 1 thread and set their own count without changing the others', () => {
    expect(existsSync(library), `${library} is missing: build it with npm run build:ts`).toBe(true);
    const child = spawnSync(process.execPath, [script, library], { encoding: 'utf8', timeout: 60_000 });
    expect(child.stderr).not.toMatch(/terminate called|FATAL ERROR|Error/);
    expect(child.status).toBe(0);
    expect(JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '')).toEqual({
      defaults: [1, 1],
      firstSetsTwo: 2,
      secondAfterFirst: 1,
      secondSetsFour: 4,
      firstAfterSecond: 2,
      main: 3,
      workersCorrect: true,
      mainCorrect: true,
    });
  }, 70_000);
});
