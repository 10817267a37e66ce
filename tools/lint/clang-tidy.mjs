// `node tools/lint/clang-tidy.mjs [file ...]`: runs clang-tidy (.clang-tidy) over native/ with the
// flags binding.gyp compiles with, two files at a time; any finding fails (WarningsAsErrors).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { nativeFiles, requireTool, root } from './native-files.mjs';

requireTool('clang-tidy', 'clang-tidy');
const require = createRequire(import.meta.url);
const addonApi = require('node-addon-api').include_dir;
const nodeHeaders = join(dirname(process.execPath), '..', 'include', 'node');
const isaFlags = {
  'native/gemm_avx512.cc': ['-mavx512f', '-mavx512vl', '-mavx512dq', '-mavx512bw', '-mfma', '-mavx2'],
  'native/conv_direct_avx512.cc': ['-mavx512f', '-mavx512vl', '-mavx512dq', '-mavx512bw', '-mfma', '-mavx2'],
  'native/gemm_avx2.cc': ['-mavx2', '-mfma'],
};
const compileFlags = [
  '-x',
  'c++',
  '-std=c++17',
  `-I${addonApi}`,
  `-I${nodeHeaders}`,
  '-DNAPI_VERSION=8',
  '-DNAPI_CPP_EXCEPTIONS',
  '-DNODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS',
  '-DNODE_ADDON_API_DISABLE_DEPRECATED',
  // As binding.gyp: the Gloo glue is checked where Gloo is installed.
  ...(existsSync('/usr/include/gloo/config.h') ? ['-DNODEGRAD_HAVE_GLOO'] : []),
];

const requested = process.argv.slice(2);
const files = requested.length > 0 ? requested : nativeFiles(['.cc']);
const jobs = 2;

function tidy(file) {
  return new Promise((resolve) => {
    const args = ['--quiet', file, '--', ...compileFlags, ...(isaFlags[file] ?? [])];
    const child = spawn('clang-tidy', args, { cwd: root });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (code) => resolve({ file, code, output }));
  });
}

let failed = 0;
const queue = [...files];
await Promise.all(
  Array.from({ length: jobs }, async () => {
    for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
      const result = await tidy(file);
      if (result.code !== 0) {
        failed++;
        process.stdout.write(result.output.replace(/^\d+ warnings? (generated|treated as errors)\.\n/gm, ''));
      }
    }
  }),
);
if (failed > 0) {
  console.error(`clang-tidy: findings in ${failed} of ${files.length} files`);
  process.exit(1);
}
console.log(`clang-tidy: ${files.length} native files clean`);
