// The C++ sources the native linters look at: every file under native/ (kernels, glue, per-ISA stubs).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

export const root = join(import.meta.dirname, '..', '..');

export function nativeFiles(extensions = ['.cc', '.h', '.inc']) {
  const dir = join(root, 'native');
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => extensions.some((e) => f.endsWith(e)))
    .sort()
    .map((f) => join('native', f));
}

/** Exits with a message naming the Debian package when `tool` is not on PATH. */
export function requireTool(tool, aptPackage) {
  const probe = spawnSync(tool, ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    console.error(
      `${tool} not found: install it with \`apt-get install -y ${aptPackage}\` (README, "System packages").`,
    );
    process.exit(2);
  }
}
