// The package's install script. A prebuilt addon that loads on this machine (prebuilds/, picked by
// node-gyp-build by platform, architecture and C library) needs nothing more. Otherwise the addon is
// compiled with node-gyp; when that fails (no compiler, make or python, missing headers) the install
// still succeeds, after one warning with the reason: nodegrad then runs on its pure TypeScript kernels.
// A source checkout, NODEGRAD_BUILD_FROM_SOURCE=1 or `npm install --build-from-source` always compiles,
// and there a failed compile fails the install, as a developer or a release build needs the addon.
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/** A clone of the repository: its TypeScript sources and tests are not in the published package. */
const sourceCheckout = existsSync(join(root, 'lib', 'index.ts'));
const fromSource =
  sourceCheckout ||
  process.env.NODEGRAD_BUILD_FROM_SOURCE === '1' ||
  process.env.npm_config_build_from_source === 'true';

/** The addon node-gyp-build finds (build/Release, else the prebuild that fits), or why there is none. */
function findAddon() {
  try {
    const nodeGypBuild = /** @type {{ resolve(dir: string): string }} */ (require('node-gyp-build'));
    return { path: nodeGypBuild.resolve(root) };
  } catch (error) {
    return { reason: String(/** @type {Error} */ (error).message).split('\n')[0] };
  }
}

/** Loads the addon in a child process, so that a crash while loading cannot take the install down. */
function loads(path) {
  const probe = `if (typeof require(${JSON.stringify(path)}).gemmIsa !== 'function') process.exit(1)`;
  const result = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8' });
  return result.status === 0 ? { ok: true } : { ok: false, reason: (result.stderr || '').split('\n').find(Boolean) };
}

/** Whether `command` is an executable on PATH (or a path to one). */
function onPath(command) {
  if (command.includes('/')) return existsSync(command);
  return (process.env.PATH ?? '').split(delimiter).some((folder) => folder && existsSync(join(folder, command)));
}

/** What node-gyp needs on Linux and macOS that is missing, or undefined when all is there. */
function missingTool() {
  if (process.platform === 'win32') return undefined;
  const python = process.env.PYTHON ?? process.env.npm_config_python;
  if (python ? !onPath(python) : !onPath('python3') && !onPath('python')) return 'no python3 on PATH';
  if (!onPath(process.env.MAKE ?? 'make')) return 'no make on PATH';
  const compiler = (process.env.CXX ?? 'g++').split(' ')[0];
  if (!onPath(compiler)) return `no C++ compiler (${compiler}) on PATH`;
  return undefined;
}

/** The first error line of a failed node-gyp run. */
function failureReason(output) {
  const lines = output.split('\n');
  const compiler = lines.find((line) => /\berror\b/i.test(line) && !line.startsWith('gyp'));
  const gyp = lines.find((line) => /^gyp ERR! (stack )?Error:/.test(line));
  return (compiler ?? gyp ?? lines.filter(Boolean).at(-1) ?? 'node-gyp failed').trim();
}

/** Runs `node-gyp rebuild`: the one on PATH (npm puts its own there for scripts), else npm's by path. */
function nodeGypRebuild(stdio) {
  const options = { cwd: root, stdio, encoding: /** @type {const} */ ('utf8') };
  const result = spawnSync('node-gyp', ['rebuild'], options);
  const bundled = process.env.npm_config_node_gyp;
  if (result.error && bundled) return spawnSync(process.execPath, [bundled, 'rebuild'], options);
  return result;
}

function warn(prebuild, reason, log) {
  console.warn(
    `nodegrad warning: no prebuilt addon loads here (${prebuild}) and the native build failed: ${reason}.` +
      (log ? ` Build log: ${log}.` : '') +
      ' nodegrad will run on its pure TypeScript kernels (30-50x slower) unless NODEGRAD_REQUIRE_NATIVE=1 is set,' +
      ' which makes a missing addon an error. Install python3, make and a C++17 compiler, then run' +
      ' `npm rebuild nodegrad` to build the addon.',
  );
}

if (fromSource) {
  const result = nodeGypRebuild('inherit');
  if (result.error) console.error(`nodegrad: node-gyp could not be run: ${result.error.message}`);
  process.exit(result.status ?? 1);
}

const found = findAddon();
const loaded = found.path ? loads(found.path) : { ok: false, reason: found.reason };
if (loaded.ok) process.exit(0);
const prebuild = loaded.reason ?? `${found.path} does not load`;

const missing = missingTool();
if (missing) {
  warn(prebuild, missing);
  process.exit(0);
}
const result = nodeGypRebuild('pipe');
if (result.status !== 0) {
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}`;
  const log = join(tmpdir(), `nodegrad-build-${process.pid}.log`);
  writeFileSync(log, output);
  warn(prebuild, failureReason(output), log);
}
process.exit(0);
