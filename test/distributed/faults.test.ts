// A rank that exits, a rank that never joins a collective, a rank that never arrives: the others
// throw ERR_NODEGRAD_DISTRIBUTED naming the op, the rank and the cause within the timeout (3 s in
// the workers), and exit non-zero with that message; no hang, no crash.
import { describe, expect, it } from 'vitest';
import { freePort, runRanks } from './helpers.js';

const timeoutMs = 3000;

function parsed(stdout: string): { second: { message: string; ms: number } | null } {
  const line = stdout
    .trim()
    .split('\n')
    .find((l) => l.startsWith('{'));
  return JSON.parse(line ?? '{}') as { second: { message: string; ms: number } | null };
}

describe('ng.distributed faults', () => {
  it('a peer that exits before a collective: allReduce throws on the survivor', async () => {
    const [survivor, exited] = await runRanks('faults', { args: ['exit', `tcp://127.0.0.1:${await freePort()}`] });
    expect(exited.code).toBe(0);
    expect(survivor.code).not.toBe(0);
    expect(survivor.stderr).toMatch(/NodegradError: allReduce: rank 0 of 2: .*/);
    expect(survivor.stderr).toMatch(/ERR_NODEGRAD_DISTRIBUTED/);
    expect(survivor.stderr).toMatch(/\(a peer rank exited or crashed\)/);
    expect(survivor.stderr).not.toMatch(/\[\.\/gloo\//);
    expect(survivor.stderr).not.toMatch(/terminate called|Aborted|Segmentation/);
    // Start-up, rendezvous and the failed collective, well inside twice the timeout.
    expect(survivor.elapsedMs).toBeLessThan(20_000);
    const second = parsed(survivor.stdout).second;
    expect(second?.message).toMatch(/^allReduce: rank 0 of 2: the process group failed earlier: /);
    expect(second?.ms).toBeLessThan(500);
  }, 60_000);

  it('an async allReduce whose peer exits: its promise rejects with the cause', async () => {
    const [survivor] = await runRanks('faults', { args: ['exit-async', `tcp://127.0.0.1:${await freePort()}`] });
    expect(survivor.code).not.toBe(0);
    expect(survivor.stderr).toMatch(/NodegradError: allReduce: rank 0 of 2: .*\(a peer rank exited or crashed\)/);
    expect(survivor.stdout).toContain('{"completed":true}');
  }, 60_000);

  it('a peer that never calls the collective: allReduce times out', async () => {
    const [waiting, hung] = await runRanks('faults', { args: ['hang', `tcp://127.0.0.1:${await freePort()}`] });
    expect(hung.code).toBe(0);
    expect(waiting.code).not.toBe(0);
    expect(waiting.stderr).toMatch(/allReduce: rank 0 of 2: .*timed out.*\(timeoutMs = 3000/i);
    expect(waiting.stderr).toMatch(/ERR_NODEGRAD_DISTRIBUTED/);
    expect(waiting.elapsedMs).toBeLessThan(3 * timeoutMs + 15_000);
  }, 60_000);

  it('a rank that never arrives: the rendezvous times out naming it', async () => {
    const [alone] = await runRanks('faults', { ranks: [0], args: ['exit', `tcp://127.0.0.1:${await freePort()}`] });
    expect(alone.code).not.toBe(0);
    expect(alone.stderr).toMatch(
      /initProcessGroup: rank 0 of 2: rendezvous timed out after 3000 ms .*rank\(s\) 1 of 2 never arrived/,
    );
    expect(alone.stderr).toMatch(/ERR_NODEGRAD_DISTRIBUTED/);
  }, 60_000);

  it('a rank whose master never starts: the rendezvous times out (NODEGRAD_DIST_TIMEOUT_MS) naming the store', async () => {
    const port = await freePort();
    const [alone] = await runRanks('faults', {
      ranks: [1],
      args: ['exit', `tcp://127.0.0.1:${port}`],
      env: { NODEGRAD_DIST_TIMEOUT_MS: '2000' },
    });
    expect(alone.code).not.toBe(0);
    expect(alone.stderr).toMatch(
      new RegExp(
        `initProcessGroup: rank 1 of 2: rendezvous timed out after 2000 ms: no store answered at tcp://127.0.0.1:${port}`,
      ),
    );
  }, 60_000);
});
