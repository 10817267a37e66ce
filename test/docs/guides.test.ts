/**
 * The guides in docs/ must be true: every ```ts block typechecks against lib/ and runs against
 * dist/ (built by `npm test`'s pretest step), each in a fresh process in its own temporary folder.
 * A line whose comment ends in `→ text` promises what the block prints: the printed lines must be those
 * texts, in order. A block fenced as ```ts no-run is typechecked only (each says why beside it).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { guideFiles, root, tsBlocks, type CodeBlock } from './markdown.js';

const entry = pathToFileURL(join(root, 'dist', 'index.js')).href;

/** The texts after `// →` in the block, in order: what it promises to print. */
export function promisedOutput(code: string): string[] {
  return [...code.matchAll(/\/\/.*?→ (.*)$/gm)].map((m) => m[1].trim());
}

/** The block as a runnable ES module: TypeScript removed, 'nodegrad' pointing at dist/. */
function toJavaScript(code: string): string {
  const js = ts.transpileModule(code, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  const linked = js.replace(/from 'nodegrad'/g, `from '${entry}'`);
  return linked.includes(`from '${entry}'`) ? linked : `import * as ng from '${entry}';\n${linked}`;
}

function run(block: CodeBlock): string {
  const dir = mkdtempSync(join(tmpdir(), 'nodegrad-guide-'));
  try {
    const file = join(dir, 'block.mjs');
    writeFileSync(file, toJavaScript(block.code));
    return execFileSync(process.execPath, [file], { encoding: 'utf8', cwd: dir, timeout: 120_000 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Type errors in the blocks, each as "file:line: message" (the block's fence line plus its own). */
function typeErrors(blocks: CodeBlock[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'nodegrad-guide-types-'));
  try {
    // ES modules, as the blocks are when they run (top-level await, import.meta).
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    const files = blocks.map((block, i) => {
      const file = join(dir, `block${i}.ts`);
      const code = block.code.includes("from 'nodegrad'")
        ? block.code
        : `import * as ng from 'nodegrad';\n${block.code}`;
      writeFileSync(file, `${code}\nexport {};\n`);
      return file;
    });
    const program = ts.createProgram(files, {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      lib: ['lib.es2022.d.ts'],
      types: ['node'],
      typeRoots: [join(root, 'node_modules', '@types')],
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      paths: { nodegrad: [join(root, 'lib', 'index.ts')] },
    });
    return ts.getPreEmitDiagnostics(program).flatMap((d) => {
      const file = d.file;
      const i = file ? files.indexOf(file.fileName) : -1;
      if (!file || i < 0) return [`${file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`];
      const prepended = blocks[i].code.includes("from 'nodegrad'") ? 0 : 1;
      const line = file.getLineAndCharacterOfPosition(d.start ?? 0).line - prepended;
      return [
        `${blocks[i].file}:${blocks[i].line + 1 + line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`,
      ];
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const files = guideFiles();
const allBlocks = files.flatMap((file) => tsBlocks(file));

it('docs/ holds the guides the README points to, each with code', () => {
  for (const guide of [
    'getting-started',
    'coming-from-pytorch',
    'memory',
    'serving',
    'distributed',
    'adding-an-op',
    'benchmarks',
  ]) {
    expect(files).toContain(`${guide}.md`);
  }
  expect(allBlocks.length).toBeGreaterThan(10);
  // no-run is the exception: most code in the guides runs.
  expect(allBlocks.filter((b) => b.flags.includes('no-run')).length).toBeLessThan(allBlocks.length / 4);
});

// One program for every block and a planted bad one: typechecking lib/ costs seconds, once.
const badBlock: CodeBlock = { file: 'bad.md', line: 10, flags: [], code: 'const x: string = ng.zeros([1]);\n' };
let errors: string[] | undefined;
const checkedErrors = () => (errors ??= typeErrors([...allBlocks, badBlock]));

it('every block typechecks against lib/', { timeout: 180_000 }, () => {
  expect(checkedErrors().filter((e) => !e.startsWith('bad.md:'))).toEqual([]);
});

it('a block with a type error is reported with its guide and line', { timeout: 180_000 }, () => {
  expect(checkedErrors().filter((e) => e.startsWith('bad.md:'))).toEqual([
    expect.stringMatching(/^bad\.md:11: Type 'Tensor' is not assignable/),
  ]);
});

for (const file of files) {
  describe(file, () => {
    for (const block of tsBlocks(file).filter((b) => !b.flags.includes('no-run'))) {
      it(`the block at line ${block.line} runs and prints what it promises`, { timeout: 180_000 }, () => {
        const printed = run(block)
          .split('\n')
          .map((line) => line.trim())
          .filter(Boolean);
        const promised = promisedOutput(block.code);
        if (promised.length > 0) expect(printed).toEqual(promised);
      });
    }
  });
}
