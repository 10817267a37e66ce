// The addon used from several worker threads at once: concurrent pool resizes and workers
// terminated mid-kernel leave the process alive and results correct. Each scenario runs in a
// child process, so an abort fails the test instead of killing the runner.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';

const script = fileURLToPath(new URL('./workers/native-workers.mjs', import.meta.url));
const addonPath = ng.backend.addonCandidates().find((path) => {
  try {
    ng.backend.loadAddon([path]);
    return true;
  } catch {
    return false;
  }
})!;

interface Report {
  rounds: { code: number; messages: string[] }[][];
  mainCorrect: boolean;
}

function scenario(mode: 'resize' | 'terminate'): Report {
  const child = spawnSync(process.execPath, [script, addonPath, mode], { encoding: 'utf8', timeout: 60_000 });
  expect(child.stderr).not.toMatch(/terminate called|FATAL ERROR/);
  expect(child.signal).toBeNull();
  expect(child.status).toBe(0);
  return JSON.parse(child.stdout) as Report;
}

describe('native addon in worker threads', () => {
  it('two workers calling setNumThreads at the same time: no abort, correct results', () => {
    const report = scenario('resize');
    for (const worker of report.rounds.flat()) expect(worker).toEqual({ code: 0, messages: ['started', 'correct'] });
    expect(report.mainCorrect).toBe(true);
  }, 70_000);

  it('workers terminated while running kernels: the process survives, 4 rounds of 3', () => {
    const report = scenario('terminate');
    expect(report.rounds).toHaveLength(4);
    // Exit code 1 is what a terminated worker reports; a worker never finishes on its own here.
    for (const worker of report.rounds.flat()) expect(worker).toEqual({ code: 1, messages: ['started'] });
    expect(report.mainCorrect).toBe(true);
  }, 70_000);
});
