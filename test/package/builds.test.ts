// The two build paths and the published package, exercised the way users meet them: the cmake-js
// build must load and compute like the node-gyp one, and the packed tarball must install into a
// fresh project, compiling the addon there when asked to build from source, and train a step there.
// (install.test.ts installs the same tarball from its prebuild, with no compiler.)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

// Runs under the built dist/ so that it exercises exactly what users import.
const smokeScript = `
import * as ng from 'nodegrad';
ng.manualSeed(0);
const w = ng.randn([3, 1], { requiresGrad: true });
const x = ng.randn([64, 3]);
const y = x.matmul(ng.tensor([[1], [-2], [0.5]]));
const losses = [];
for (let step = 0; step < 20; step++) {
  w.grad = null;
  const loss = x.matmul(w).sub(y).pow(2).mean();
  loss.backward();
  ng.noGrad(() => { w.storage.data.set(w.sub(w.grad.mul(0.1)).data()); });
  losses.push(loss.item());
}
const a = ng.randn([33, 65]), b = ng.randn([65, 17]);
const native = a.matmul(b).data();
ng.backend.setBackend(ng.backend.referenceBackend);
const reference = a.matmul(b).data();
let maxError = 0;
for (let i = 0; i < native.length; i++) maxError = Math.max(maxError, Math.abs(native[i] - reference[i]));
const { addonPath, addonSource } = ng.backend.info();
console.log(JSON.stringify({ first: losses[0], last: losses.at(-1), maxError, addon: addonPath, source: addonSource }));
`;

/** Runs the smoke script from `dir` (inside the package, so the 'nodegrad' import resolves there). */
interface SmokeResult {
  first: number;
  last: number;
  maxError: number;
  addon: string;
  source: string;
}

function runSmoke(cwd: string, dir: string, env: NodeJS.ProcessEnv = {}): SmokeResult {
  const file = join(dir, 'smoke.mjs');
  writeFileSync(file, smokeScript);
  const out = execFileSync(process.execPath, [file], { cwd, env: { ...process.env, ...env }, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').at(-1)!) as SmokeResult;
}

describe('build paths', () => {
  it('binding.gyp and CMakeLists.txt compile the same native sources', () => {
    const sources = (text: string) => [...new Set(text.match(/native\/[\w.]+\.cc/g))].sort();
    const gyp = sources(readFileSync(join(root, 'binding.gyp'), 'utf8'));
    const cmake = sources(readFileSync(join(root, 'CMakeLists.txt'), 'utf8'));
    expect(cmake).toEqual(gyp);
    expect(gyp).toContain('native/binding.cc');
  });

  it('the cmake-js build compiles the same sources and computes the same results', () => {
    execFileSync(npm, ['run', 'build:cmake'], { cwd: root, stdio: 'pipe' });
    const addon = join(root, 'build-cmake', 'Release', 'nodegrad.node');
    expect(existsSync(addon)).toBe(true);
    // A self-reference import ('nodegrad') resolves to this package's exports map.
    // build-cmake/ is inside the package and ignored by git: the script leaves no file in the tree.
    const result = runSmoke(root, join(root, 'build-cmake'), { NODEGRAD_ADDON: addon });
    expect(result.addon).toBe(addon);
    expect(result.source).toBe('NODEGRAD_ADDON');
    expect(result.last).toBeLessThan(result.first * 0.1);
    expect(result.maxError).toBeLessThan(1e-4);
  }, 300_000);

  it('npm pack, then install the tarball into a fresh project, building from source, and train there', () => {
    const scratch = mkdtempSync(join(tmpdir(), 'nodegrad-consumer-'));
    try {
      // prepack copies this checkout's addon into prebuilds/ rather than compiling it again.
      const packed = execFileSync(npm, ['pack', '--pack-destination', scratch, '--silent'], {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, NODEGRAD_PREBUILD_FROM_BUILD: '1' },
      });
      const tarball = join(scratch, packed.trim().split('\n').at(-1)!);
      const listing = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n');
      expect(listing).toContain('package/prebuilds/linux-x64/nodegrad.glibc.node');
      writeFileSync(
        join(scratch, 'package.json'),
        JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }),
      );
      execFileSync(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], {
        cwd: scratch,
        stdio: 'pipe',
        env: { ...process.env, NODEGRAD_BUILD_FROM_SOURCE: '1' },
      });
      expect(existsSync(join(scratch, 'node_modules', 'nodegrad', 'build', 'Release', 'nodegrad.node'))).toBe(true);
      expect(existsSync(join(scratch, 'node_modules', 'nodegrad', 'dist', 'index.d.ts'))).toBe(true);
      const result = runSmoke(scratch, scratch, { NODEGRAD_ADDON: '' });
      expect(result.addon).toContain(join('node_modules', 'nodegrad', 'build', 'Release'));
      expect(result.source).toBe('build');
      expect(result.last).toBeLessThan(result.first * 0.1);
      expect(result.maxError).toBeLessThan(1e-4);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }, 600_000);
});
