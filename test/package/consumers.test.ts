// nodegrad as other projects consume it: require() from CommonJS (Node's require of ES modules) and
// TypeScript's resolution of its types under each module setting a backend service may use. The
// consumer projects live in a scratch folder whose node_modules/nodegrad links to this package's
// built dist/.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
let scratch = '';

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'nodegrad-consumers-'));
  mkdirSync(join(scratch, 'node_modules', '@types'), { recursive: true });
  symlinkSync(root, join(scratch, 'node_modules', 'nodegrad'), 'dir');
  symlinkSync(join(root, 'node_modules', '@types', 'node'), join(scratch, 'node_modules', '@types', 'node'), 'dir');
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe('require() from CommonJS', () => {
  it('resolves to dist/index.js and computes', () => {
    const script = `
      const ng = require('nodegrad');
      const y = ng.tensor([[1, 2], [3, 4]]).matmul(ng.tensor([[1], [-1]]));
      console.log(JSON.stringify({ resolved: require.resolve('nodegrad'), y: Array.from(y.data()) }));`;
    const out = execFileSync(process.execPath, ['-e', script], { cwd: scratch, encoding: 'utf8' });
    const result = JSON.parse(out.trim().split('\n').at(-1) ?? '') as { resolved: string; y: number[] };
    // The symlink resolves to the package itself.
    expect(result.resolved).toBe(join(root, 'dist', 'index.js'));
    expect(result.y).toEqual([-1, -1]);
  }, 30_000);
});

interface Consumer {
  compilerOptions: Record<string, string | boolean>;
  packageType: 'module' | 'commonjs';
  source: string;
}

const esmSource = `import * as ng from 'nodegrad';
const model = new ng.nn.Linear(3, 2);
const y: ng.Tensor = model.forward(ng.ones([4, 3]));
export const total: number = y.sum().item();
`;

const consumers: Record<string, Consumer> = {
  node16: {
    compilerOptions: { module: 'node16', moduleResolution: 'node16' },
    packageType: 'module',
    source: esmSource,
  },
  'nodenext (CommonJS, import = require)': {
    compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext' },
    packageType: 'commonjs',
    source: esmSource.replace(`import * as ng from 'nodegrad';`, `import ng = require('nodegrad');`),
  },
  bundler: {
    compilerOptions: { module: 'esnext', moduleResolution: 'bundler' },
    packageType: 'module',
    source: esmSource,
  },
  commonjs: {
    compilerOptions: { module: 'commonjs', esModuleInterop: true },
    packageType: 'commonjs',
    source: esmSource,
  },
};

/** Type-checks `consumer` in its own folder; tsc's exit status and output. */
function typecheck(name: string, consumer: Consumer): { status: number | null; output: string } {
  const dir = join(scratch, name.replace(/\W+/g, '-'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: consumer.packageType }));
  const compilerOptions = {
    ...consumer.compilerOptions,
    target: 'es2022',
    strict: true,
    noEmit: true,
    types: ['node'],
    typeRoots: [join(scratch, 'node_modules', '@types')],
  };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['main.ts'] }));
  writeFileSync(join(dir, 'main.ts'), consumer.source);
  const child = spawnSync(process.execPath, [tsc, '-p', dir], { cwd: dir, encoding: 'utf8' });
  return { status: child.status, output: child.stdout + child.stderr };
}

describe('TypeScript consumers', () => {
  for (const [name, consumer] of Object.entries(consumers)) {
    it(`${name}: the types resolve and check`, () => {
      const { status, output } = typecheck(name, consumer);
      expect(output).toBe('');
      expect(status).toBe(0);
    }, 60_000);
  }

  it('reports a type error in the consumer (the types are not any)', () => {
    const wrong = { ...consumers.node16, source: esmSource.replace('total: number', 'total: string') };
    const { status, output } = typecheck('wrong', wrong);
    expect(status).not.toBe(0);
    expect(output).toMatch(/main\.ts\(4,\d+\): error TS2322: Type 'number' is not assignable to type 'string'/);
  }, 60_000);
});
