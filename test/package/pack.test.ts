// What the published tarball carries, read from `npm pack --dry-run --json`: everything a user needs to
// install and run (compiled TypeScript, the prebuilt addon where prepack made one, native sources and
// build files for the install script's fallback, README, LICENSE, CHANGELOG) and none of the development
// material (tests, fixtures, examples, goldens, run folders, build outputs).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

interface PackEntry {
  path: string;
  size: number;
}
interface PackReport {
  size: number;
  unpackedSize: number;
  files: PackEntry[];
}

describe('npm pack', () => {
  // --ignore-scripts: the listing needs no rebuild of dist/, which the test command has just built.
  const report = (
    JSON.parse(
      execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' }),
    ) as PackReport[]
  )[0];
  const paths = report.files.map((f) => f.path);

  it('holds the compiled library, the native sources and the package files', () => {
    for (const needed of [
      'package.json',
      'README.md',
      'LICENSE',
      'CHANGELOG.md',
      'binding.gyp',
      'CMakeLists.txt',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/cli.js',
      'native/binding.cc',
      'native/glue.h',
      'native/gemm_kernel.inc',
      'bench/run.mjs',
      'tools/install.mjs',
    ])
      expect(paths, needed).toContain(needed);
    const sources = paths.filter((p) => p.startsWith('native/') && p.endsWith('.cc'));
    expect(sources.length).toBeGreaterThan(15);
  });

  it('leaves out tests, fixtures, examples, goldens, build outputs and run folders', () => {
    const forbidden = [
      /^test\//,
      /^examples\//,
      /^dist\/examples\//,
      /^tools\/(?!install\.mjs$)/,
      /^docs\//,
      /^build(-asan|-cmake)?\//,
      /^runs\//,
      /^node_modules\//,
      /\.safetensors$/,
      /\.test\.[jt]s$/,
      /\.tgz$/,
      /^\.ci\//,
    ];
    const leaked = paths.filter((p) => forbidden.some((f) => f.test(p)));
    expect(leaked).toEqual([]);
  });

  it('runs tools/install.mjs at install and builds the prebuild at pack time, which it ships', () => {
    const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
      files: string[];
    };
    expect(pkg.scripts.install).toBe('node tools/install.mjs');
    expect(pkg.scripts.prepack).toBe('node tools/prebuild.mjs');
    expect(pkg.files).toContain('prebuilds/');
    // Only prebuilds: never an addon compiled in this checkout.
    expect(
      paths.filter((p) => p.endsWith('.node') && !/^prebuilds\/[\w+-]+\/nodegrad\.((glibc|musl)\.)?node$/.test(p)),
    ).toEqual([]);
  });

  it('stays small', () => {
    console.log(
      `npm pack: ${paths.length} files, ${(report.size / 1024).toFixed(0)} KiB packed, ` +
        `${(report.unpackedSize / 1024).toFixed(0)} KiB unpacked`,
    );
    expect(report.size).toBeLessThan(2 * 1024 * 1024);
  });
});
