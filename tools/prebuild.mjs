// The prebuilt addon the published package carries (npm's prepack): prebuilds/<platform>-<arch>/
// nodegrad.<libc>.node, named the way node-gyp-build looks it up at run time. By default prebuildify
// compiles it (`prebuildify --napi --strip --tag-libc`, which rebuilds build/ on the way).
// NODEGRAD_PREBUILD_FROM_BUILD=1 copies the addon already in build/Release instead, stripped: the
// tests pack with it so that they do not compile the addon a second time; a release packs without it.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, renameSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** glibc or musl: the C library this Node runs on (the report names glibc's version only under glibc). */
function libc() {
  if (process.platform !== 'linux') return '';
  const header = /** @type {{ glibcVersionRuntime?: string }} */ (process.report.getReport().header);
  return header.glibcVersionRuntime ? 'glibc' : 'musl';
}

function copyFromBuild() {
  const built = join(root, 'build', 'Release', 'nodegrad.node');
  if (!existsSync(built)) {
    console.error(
      `prebuild: NODEGRAD_PREBUILD_FROM_BUILD=1 but ${built} is missing; run \`npm run build:native\` first`,
    );
    process.exit(1);
  }
  const folder = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  const tag = libc();
  const target = join(folder, tag ? `nodegrad.${tag}.node` : 'nodegrad.node');
  mkdirSync(folder, { recursive: true });
  // Written beside the target and renamed over it: a pack running at the same time reads a whole file.
  const temporary = `${target}.${process.pid}.tmp`;
  copyFileSync(built, temporary);
  chmodSync(temporary, 0o755);
  if (process.platform === 'linux') spawnSync('strip', ['--strip-all', temporary], { stdio: 'ignore' });
  renameSync(temporary, target);
  console.log(`prebuild: ${relative(root, target)} (copied from build/Release)`);
}

// Other prebuilds in the folder (a musl one made on Alpine) stay: only this machine's is replaced.
function prebuildify() {
  const bin = join(root, 'node_modules', 'prebuildify', 'bin.js');
  // Gloo is a shared library most machines lack: the prebuilt addon leaves ng.distributed out
  // (NODEGRAD_WITH_GLOO=0); a build from source on a machine with libgloo-dev has it.
  execFileSync(process.execPath, [bin, '--napi', '--strip', '--tag-libc'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, NODEGRAD_WITH_GLOO: '0' },
  });
}

if (process.env.NODEGRAD_PREBUILD_FROM_BUILD === '1') copyFromBuild();
else prebuildify();
