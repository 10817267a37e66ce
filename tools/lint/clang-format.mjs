// `node tools/lint/clang-format.mjs [--check]`: formats native/ with the checked-in .clang-format,
// or with --check lists the files that differ and exits 1.
import { spawnSync } from 'node:child_process';
import { nativeFiles, requireTool, root } from './native-files.mjs';

requireTool('clang-format', 'clang-format');
const check = process.argv.includes('--check');
const files = nativeFiles();
const args = check ? ['--dry-run', '--Werror', ...files] : ['-i', ...files];
const run = spawnSync('clang-format', args, { cwd: root, stdio: 'inherit' });
if (run.status !== 0) {
  if (check) console.error('native/ is not clang-formatted: run `npm run format`.');
  process.exit(run.status ?? 1);
}
if (check) console.log(`clang-format: ${files.length} native files formatted`);
