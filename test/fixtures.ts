import { join, resolve } from 'node:path';
import * as ng from '../lib/index.js';

export const fixturesDir = resolve(import.meta.dirname, 'fixtures');

export interface GoldenCase {
  name: string;
  kind: string;
  options: Record<string, unknown>;
  /** The case's tensors (name/key → key), as stored by tools/golden/make_goldens.py. */
  t: Record<string, ng.Tensor>;
}

/** The cases of a golden fixture, each with its tensors. */
export function goldenCases(file: string): GoldenCase[] {
  const { tensors, metadata } = ng.readSafetensors(join(fixturesDir, file));
  const cases = JSON.parse(metadata.cases) as Omit<GoldenCase, 't'>[];
  return cases.map((c) => {
    const t: Record<string, ng.Tensor> = {};
    for (const [key, value] of Object.entries(tensors)) {
      if (key.startsWith(`${c.name}/`)) t[key.slice(c.name.length + 1)] = value;
    }
    return { ...c, t };
  });
}
