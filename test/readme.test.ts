// The README's examples must run as printed: each ```ts block is executed against dist/ (built by
// `npm test`'s pretest step) with only its TypeScript-only `!` assertions removed.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');

function blocks(): string[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  return [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
}

function run(code: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'nodegrad-readme-'));
  try {
    const entry = pathToFileURL(join(root, 'dist', 'index.js')).href;
    let js = code
      .replace(/from 'nodegrad'/g, `from '${entry}'`)
      .replace(/!\)/g, ')')
      .replace(/!\./g, '.');
    if (!js.includes('import * as ng')) js = `import * as ng from '${entry}';\n${js}`;
    const file = join(dir, 'example.mjs');
    writeFileSync(file, js);
    return execFileSync(process.execPath, [file], { encoding: 'utf8' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

it('the define-train-predict example prints the prediction it promises', () => {
  const [example] = blocks();
  expect(example).toContain('backward()');
  const printed = Number(run(example).trim());
  expect(printed).toBeCloseTo(2 - 1 + 0.5 + 0.3, 1);
});

it('the scalar example computes the gradients its comment states', () => {
  const scalar = blocks()[1];
  const out = run(`${scalar}\nconsole.log(JSON.stringify([a.grad, b.grad]));`);
  const [ga, gb] = JSON.parse(out.trim()) as number[];
  expect(ga).toBeCloseTo(-3 + 1 - Math.tanh(2) ** 2, 12);
  expect(gb).toBe(2);
});
