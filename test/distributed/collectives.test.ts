// Two ranks over each init method, and three over one, run every collective per dtype; each result is checked against
// the same computation done here on the ranks' inputs.
import { describe, expect, it } from 'vitest';
import { fileInitMethod, freePort, lastJson, runRanks } from './helpers.js';

const dtypes = ['float32', 'float64', 'int32'] as const;
type DType = (typeof dtypes)[number];

const values = (r: number, dtype: DType): number[] =>
  dtype === 'int32' ? [r + 1, -2 * (r + 1), 3 * r + 7] : [r + 1, -2 * (r + 1), 0.5 * r + 3];
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

function expected(rank: number, world: number): Record<string, unknown> {
  const ranks = Array.from({ length: world }, (_, r) => r);
  const across = (f: (r: number) => number[], combine: (xs: number[]) => number): number[] =>
    f(0).map((_, i) => combine(ranks.map((r) => f(r)[i] ?? NaN)));
  const out: Record<string, unknown> = { rank, world, backend: 'gloo', initialized: true };
  for (const dtype of dtypes) {
    const v = (r: number) => values(r, dtype);
    const total = across(v, sum);
    out[`allReduce.${dtype}.sum`] = total;
    out[`allReduce.${dtype}.avg`] = total.map((x) => (dtype === 'int32' ? Math.trunc(x / world) : x / world));
    out[`allReduce.${dtype}.max`] = across(v, (xs) => Math.max(...xs));
    out[`allReduce.${dtype}.min`] = across(v, (xs) => Math.min(...xs));
    out[`broadcast.${dtype}`] = v(world - 1);
    out[`allGather.${dtype}`] = ranks.map(v);
    out[`reduceScatter.${dtype}`] = across((s) => v(10 * s + rank), sum);
  }
  const row = (i: number, scale: number) => [0, 1, 2].map((j) => (3 * i + j) * scale);
  const scaleSum = sum(ranks.map((r) => r + 1));
  out.offsetView = [row(0, rank + 1), row(1, scaleSum), row(2, scaleSum), row(3, rank + 1)];
  out.large = [scaleSum, scaleSum];
  out.async = [0, 1, 2, 3].map((i) => {
    const s = sum(ranks.map((r) => i + r));
    return [s, s];
  });
  out.completed = true;
  const previous = (rank + world - 1) % world;
  out.recv = values(previous, 'float32');
  out.irecv = [previous, previous * 10];
  out.afterDestroy = false;
  out.reinit = [scaleSum];
  return out;
}

async function check(initMethod: string, env: Record<string, string> = {}, worldSize = 2): Promise<void> {
  const results = await runRanks('collectives', { args: [initMethod], env, worldSize });
  expect(results).toHaveLength(worldSize);
  for (const result of results) {
    expect(result.stderr).not.toMatch(/Error|terminate called|Aborted/);
    expect(result.code).toBe(0);
    expect(lastJson(result)).toEqual(expected(result.rank, worldSize));
  }
}

describe('ng.distributed collectives', () => {
  it('env:// (MASTER_ADDR, MASTER_PORT)', async () => {
    const port = await freePort();
    await check('env://', { MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port) });
  });

  it('tcp://host:port', async () => {
    await check(`tcp://localhost:${await freePort()}`);
  });

  it('file:///path', async () => {
    await check(fileInitMethod());
  });

  it('three ranks (an odd ring) over tcp://', async () => {
    await check(`tcp://127.0.0.1:${await freePort()}`, {}, 3);
  });
});
