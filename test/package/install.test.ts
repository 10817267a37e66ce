// The packed tarball installed on a machine with no compiler, make or python: PATH holds only node, npm
// and sh (npm runs scripts through it). With the prebuild in the package the addon loads from it and nothing is compiled; where no
// prebuild fits (a musl system, simulated with node-gyp-build's LIBC variable) the install still
// succeeds after one warning, nodegrad falls back to its reference kernels with its load-time warning,
// and NODEGRAD_REQUIRE_NATIVE=1 turns that into an error. Installs run offline from the npm cache.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..');
let scratch = '';
let tarball = '';
let bin = '';

/** The environment of a user's shell: PATH with node, npm and sh only, no npm_* or NODEGRAD_* variables. */
function bareEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(npm_|NODEGRAD_|LIBC$|PATH$)/i.test(key)) env[key] = value;
  }
  return { ...env, PATH: bin, ...extra };
}

/** A fresh project with the tarball installed into it; the install's exit status and output. */
function install(name: string, env: Record<string, string> = {}): { project: string; status: number; output: string } {
  const project = join(scratch, name);
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }));
  const args = ['install', '--offline', '--omit=optional', '--foreground-scripts', '--no-audit', '--no-fund', tarball];
  const result = spawnSync(join(bin, 'npm'), args, { cwd: project, env: bareEnv(env), encoding: 'utf8' });
  return { project, status: result.status ?? -1, output: `${result.stdout}${result.stderr}` };
}

interface Probe {
  info?: { backend: string; addonPath: string | null; addonSource: string | null; isa: string | null };
  product?: number[];
  esmSameBackend?: boolean;
  error?: { name: string; code: string; message: string };
}

// CommonJS require() and ESM import() of the installed package, a backend report and a small matmul.
const probeScript = `
const ng = require('nodegrad');
import('nodegrad').then((esm) => {
  try {
    const product = Array.from(ng.tensor([[1, 2], [3, 4]]).matmul(ng.tensor([[1], [-1]])).data());
    const info = ng.backend.info();
    console.log(JSON.stringify({ info, product, esmSameBackend: esm.backend.info().backend === info.backend }));
  } catch (error) {
    console.log(JSON.stringify({ error: { name: error.constructor.name, code: error.code, message: error.message } }));
  }
});`;

function probe(project: string, env: Record<string, string> = {}): { result: Probe; stderr: string } {
  const run = spawnSync(join(bin, 'node'), ['-e', probeScript], { cwd: project, env: bareEnv(env), encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  return { result: JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as Probe, stderr: run.stderr };
}

const warnings = (output: string): number => output.split('nodegrad warning:').length - 1;

describe.skipIf(process.platform !== 'linux' || process.arch !== 'x64')('install without a compiler', () => {
  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'nodegrad-install-'));
    bin = join(scratch, 'bin');
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    const npmPath = execFileSync('/bin/sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim();
    symlinkSync(realpathSync(npmPath), join(bin, 'npm'));
    symlinkSync('/bin/sh', join(bin, 'sh'));
    // The prebuild copied from the addon this checkout built (tools/prebuild.mjs) rather than compiled
    // again; --ignore-scripts, since the test command has just built dist/.
    execFileSync(process.execPath, [join(root, 'tools', 'prebuild.mjs')], {
      cwd: root,
      env: { ...process.env, NODEGRAD_PREBUILD_FROM_BUILD: '1' },
      stdio: 'pipe',
    });
    const packed = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', scratch], {
      cwd: root,
      encoding: 'utf8',
    });
    tarball = join(scratch, packed.trim().split('\n').at(-1) ?? '');
  }, 120_000);

  afterAll(() => {
    rmSync(scratch, { recursive: true, force: true });
  });

  it('PATH has node, npm and sh but no compiler, make or python', () => {
    for (const tool of ['g++', 'c++', 'cc', 'gcc', 'clang++', 'make', 'python3', 'python']) {
      const found = spawnSync('/bin/sh', ['-c', `command -v ${tool}`], { env: bareEnv() });
      expect(found.status, tool).not.toBe(0);
    }
    expect(spawnSync('/bin/sh', ['-c', 'command -v node && command -v npm'], { env: bareEnv() }).status).toBe(0);
  });

  it('installs from the prebuild: nothing compiled, the addon loads, require() and import() work', () => {
    const { project, status, output } = install('with-prebuild');
    expect(status, output).toBe(0);
    expect(warnings(output)).toBe(0);
    const installed = join(project, 'node_modules', 'nodegrad');
    expect(existsSync(join(installed, 'build'))).toBe(false);
    const { result, stderr } = probe(project);
    expect(result.error).toBeUndefined();
    expect(result.info?.backend).toBe('native');
    expect(result.info?.addonSource).toBe('prebuild');
    expect(result.info?.addonPath).toBe(join(installed, 'prebuilds', 'linux-x64', 'nodegrad.glibc.node'));
    expect(['avx512', 'avx2', 'portable']).toContain(result.info?.isa);
    expect(result.product).toEqual([-1, -1]);
    expect(result.esmSameBackend).toBe(true);
    expect(stderr).not.toContain('NODEGRAD_NO_ADDON');
  }, 120_000);

  it('without a prebuild that fits, installs after one warning; loading falls back or, when required, throws', () => {
    const musl = { LIBC: 'musl' };
    const { project, status, output } = install('no-prebuild', musl);
    expect(status, output).toBe(0);
    expect(warnings(output), output).toBe(1);
    expect(output).toMatch(
      /nodegrad warning: no prebuilt addon loads here \(No native build was found for .*libc=musl/,
    );
    expect(output).toMatch(/native build failed: no (python3|make|C\+\+ compiler \(g\+\+\)) on PATH/);
    expect(output).toContain('NODEGRAD_REQUIRE_NATIVE=1');
    expect(existsSync(join(project, 'node_modules', 'nodegrad', 'dist', 'index.js'))).toBe(true);

    const fallback = probe(project, musl);
    expect(fallback.result.info?.backend).toBe('reference');
    expect(fallback.result.info?.addonSource).toBeNull();
    expect(fallback.result.product).toEqual([-1, -1]);
    expect(fallback.stderr.split('[NODEGRAD_NO_ADDON]').length - 1).toBe(1);
    expect(fallback.stderr).toContain('libc=musl');

    const required = probe(project, { ...musl, NODEGRAD_REQUIRE_NATIVE: '1' });
    expect(required.result.error?.name).toBe('NodegradError');
    expect(required.result.error?.code).toBe('ERR_NODEGRAD_ADDON');
    expect(required.result.error?.message).toContain('NODEGRAD_REQUIRE_NATIVE=1: the native backend is required');
    expect(required.result.error?.message).toContain('libc=musl');
    expect(required.stderr).not.toContain('NODEGRAD_NO_ADDON');
  }, 120_000);

  it('a compile that fails (a compiler that exits 1) warns once with the failing step and the log', () => {
    const { project } = install('failing-compiler', { LIBC: 'musl' });
    const env = bareEnv({ LIBC: 'musl', CXX: '/bin/false', PATH: process.env.PATH ?? '' });
    const args = ['rebuild', 'nodegrad', '--foreground-scripts'];
    const result = spawnSync(join(bin, 'npm'), args, { cwd: project, env, encoding: 'utf8' });
    const output = `${result.stdout}${result.stderr}`;
    expect(result.status, output).toBe(0);
    expect(warnings(output), output).toBe(1);
    expect(output).toMatch(/native build failed: .*Error 1\. Build log: /);
    const log = /Build log: (\S+)\./.exec(output)?.[1] ?? '';
    expect(existsSync(log)).toBe(true);
    rmSync(log);
  }, 120_000);
});
