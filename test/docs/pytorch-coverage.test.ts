/**
 * docs/coming-from-pytorch.md covers every PyTorch API the programs in examples/ use: each nodegrad
 * name those programs call (read from their source by api-names.ts) must appear in the guide's
 * 'nodegrad' table column.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { apiNamesIn, instanceMembers } from './api-names.js';
import { readGuide, root, tableCells, tableColumn } from './markdown.js';

const guide = readGuide('coming-from-pytorch.md');

function examplesApi(): Set<string> {
  const members = instanceMembers();
  const names = new Set<string>();
  for (const dir of ['examples', 'examples/parts']) {
    for (const file of readdirSync(join(root, dir)).filter((f) => f.endsWith('.ts'))) {
      for (const name of apiNamesIn(readFileSync(join(root, dir, file), 'utf8'), members)) names.add(name);
    }
  }
  return names;
}

/** The required names that no 'nodegrad' cell of `markdown` mentions as a whole word. */
function missingFrom(markdown: string, names: Iterable<string>): string[] {
  const words = new Set(tableColumn(markdown, 'nodegrad').flatMap((cell) => cell.match(/[\w$]+/g) ?? []));
  return [...names].filter((name) => !words.has(name)).sort();
}

const required = examplesApi();

it('the scan finds the API the examples use', () => {
  // A sample from each kind of use: namespace members, layers, functional, tensor and module methods.
  for (const name of ['cat', 'Linear', 'crossEntropy', 'AdamW', 'index', 'indexPut_', 'parameters', 'zeroGrad']) {
    expect(required).toContain(name);
  }
  // JavaScript's own members (Math.sqrt, console.log) are not nodegrad's.
  expect(apiNamesIn('Math.sqrt(2); console.log(1); Math.max(1, 2);', instanceMembers())).toEqual(new Set());
  expect(required.size).toBeGreaterThan(100);
});

it('every name the examples use is in the guide’s tables', () => {
  expect(missingFrom(guide, required)).toEqual([]);
});

it('removing the rows that give a name makes the check fail', () => {
  for (const name of required) {
    const word = new RegExp(`(?<![\\w$])${name.replace('$', '\\$')}(?![\\w$])`);
    const giving = new Set(tableCells(guide, 'nodegrad').flatMap((c) => (word.test(c.text) ? [c.line] : [])));
    expect(giving.size, name).toBeGreaterThan(0);
    const without = guide
      .split('\n')
      .filter((_, i) => !giving.has(i))
      .join('\n');
    expect(missingFrom(without, [name]), name).toEqual([name]);
  }
});
