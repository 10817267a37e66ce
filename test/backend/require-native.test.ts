// NODEGRAD_REQUIRE_NATIVE, backend.requireNative() and backend.info(). A missing addon is simulated
// with NODEGRAD_ADDON pointing at a path with no addon; each case imports a fresh copy of the
// backend module, since the backend is chosen once per module instance.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type * as ng from '../../lib/index.js';
import { expectNodegradError } from '../helpers.js';

type BackendModule = typeof import('../../lib/backend/index.js');

const missing = '/nonexistent/nodegrad.node';
const saved = { ...process.env };
let warnings: string[] = [];

/** A fresh backend module (and NodegradError class) loaded under `env`. */
async function freshBackend(
  env: Record<string, string>,
): Promise<{ backend: BackendModule; NodegradError: typeof ng.NodegradError }> {
  Object.assign(process.env, env);
  vi.resetModules();
  const backend = await import('../../lib/backend/index.js');
  const { NodegradError } = await import('../../lib/errors.js');
  return { backend, NodegradError };
}

beforeEach(() => {
  warnings = [];
  vi.spyOn(process, 'emitWarning').mockImplementation((warning: string | Error) => {
    warnings.push(String(warning));
  });
});

afterEach(() => {
  vi.restoreAllMocks();
  for (const key of ['NODEGRAD_ADDON', 'NODEGRAD_REQUIRE_NATIVE', 'NODEGRAD_BACKEND']) {
    if (saved[key] === undefined) Reflect.deleteProperty(process.env, key);
    else process.env[key] = saved[key];
  }
});

describe('NODEGRAD_REQUIRE_NATIVE=1', () => {
  it('makes a missing addon fatal: the first op throws, naming where it looked and why', async () => {
    const { backend, NodegradError } = await freshBackend({ NODEGRAD_ADDON: missing, NODEGRAD_REQUIRE_NATIVE: '1' });
    expect(() => backend.getBackend()).toThrow(NodegradError);
    expectNodegradError(
      () => backend.getBackend(),
      'ERR_NODEGRAD_ADDON',
      'NODEGRAD_REQUIRE_NATIVE=1: the native backend is required',
      `${missing}: not found`,
      'npm run build:native',
    );
    expect(() => backend.getNumThreads()).toThrow(/NODEGRAD_REQUIRE_NATIVE/);
    expect(warnings).toEqual([]);
  });

  it('names the loader failure of a file that is no addon', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nodegrad-addon-'));
    try {
      const junk = join(dir, 'nodegrad.node');
      writeFileSync(junk, 'not a shared object');
      const { backend } = await freshBackend({ NODEGRAD_ADDON: junk, NODEGRAD_REQUIRE_NATIVE: '1' });
      expectNodegradError(() => backend.getBackend(), 'ERR_NODEGRAD_ADDON', `${junk}: `);
      expect(() => backend.getBackend()).not.toThrow(/not found/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses NODEGRAD_BACKEND=reference beside it', async () => {
    const { backend } = await freshBackend({ NODEGRAD_REQUIRE_NATIVE: '1', NODEGRAD_BACKEND: 'reference' });
    expectNodegradError(() => backend.getBackend(), 'ERR_NODEGRAD_ADDON', 'NODEGRAD_BACKEND=reference');
  });

  it('changes nothing when the addon loads', async () => {
    const { backend } = await freshBackend({ NODEGRAD_REQUIRE_NATIVE: '1' });
    expect(backend.getBackend().name).toBe('native');
  });
});

describe('backend.requireNative()', () => {
  it('without the env var, a missing addon falls back with a warning; requireNative() then throws', async () => {
    const { backend, NodegradError } = await freshBackend({ NODEGRAD_ADDON: missing });
    expect(backend.getBackend().name).toBe('reference');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`${missing}: not found`);
    expect(() => backend.requireNative()).toThrow(NodegradError);
    expectNodegradError(
      () => backend.requireNative(),
      'ERR_NODEGRAD_ADDON',
      'requireNative: the native backend is required',
      `${missing}: not found`,
    );
  });

  it('passes with the addon, and throws once setBackend selected the reference', async () => {
    const { backend } = await freshBackend({});
    expect(() => backend.requireNative()).not.toThrow();
    backend.setBackend(backend.referenceBackend);
    expectNodegradError(() => backend.requireNative(), 'ERR_NODEGRAD_ADDON', 'requireNative', 'reference backend');
  });
});

describe('backend.info()', () => {
  it('reports the native backend, the addon it loaded, the GEMM variant, threads and arena', async () => {
    const { backend } = await freshBackend({});
    const info = backend.info();
    const addon = backend.loadAddon();
    expect(info.backend).toBe('native');
    expect(backend.addonCandidates()).toContain(info.addonPath);
    // This checkout's own build wins over a prebuild in prebuilds/.
    expect(info.addonSource).toBe('build');
    expect(info.addonPath).toMatch(/build(-cmake)?[/\\]/);
    expect(['avx512', 'avx2', 'portable']).toContain(info.isa);
    expect(info.isa).toBe(addon.gemmIsa());
    expect(info.threads).toBe(addon.getNumThreads());
    expect(Object.keys(info.arena ?? {}).sort()).toEqual(Object.keys(addon.arenaStats()).sort());
    expect(info.arena?.cacheLimitBytes).toBe(addon.arenaCacheLimit());
  });

  it('reports the reference backend and no addon when it is missing', async () => {
    const { backend } = await freshBackend({ NODEGRAD_ADDON: missing });
    expect(backend.info()).toEqual({
      backend: 'reference',
      addonPath: null,
      addonSource: null,
      isa: null,
      threads: 1,
      arena: null,
    });
  });

  it("names NODEGRAD_ADDON as the addon's source when that variable picked it", async () => {
    const built = (await freshBackend({})).backend.info().addonPath ?? '';
    const { backend } = await freshBackend({ NODEGRAD_ADDON: built });
    expect(backend.info()).toMatchObject({ backend: 'native', addonPath: built, addonSource: 'NODEGRAD_ADDON' });
  });
});
