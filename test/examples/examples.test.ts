/**
 * The ports of pytorch/examples and nanoGPT in examples/: each trains for a few steps through the
 * public API and its loss must stay finite and fall (mean of the last third below the first third).
 */
import { describe, expect, it } from 'vitest';
import type { ExampleOptions, ExampleResult } from '../../examples/parts/example.js';
import * as regression from '../../examples/regression.js';

interface Case {
  name: string;
  main: (options: ExampleOptions) => Promise<ExampleResult>;
  steps: number;
}

const cases: Case[] = [
  { name: 'regression', main: regression.main, steps: 60 },
];

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

describe('examples', () => {
  it.each(cases)('$name: the loss is finite and falls over $steps steps', async ({ main, steps }) => {
    const { losses } = await main({ steps });
    expect(losses.length).toBeGreaterThan(3);
    for (const loss of losses) expect(Number.isFinite(loss)).toBe(true);
    const third = Math.floor(losses.length / 3);
    expect(mean(losses.slice(-third))).toBeLessThan(mean(losses.slice(0, third)));
  });
});
