// The benchmarks' peers (OpenBLAS's SGEMM, PyTorch) and how their rounds interleave with nodegrad's.
// PyTorch runs as /work/shared/BASELINES.md says: Debian's /usr/bin/python3, OPENBLAS_NUM_THREADS=1 with
// torch's own threads set to nodegrad's, and OpenBLAS's AVX2 presets unset.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const PYTHON = '/usr/bin/python3';

/** process.env without OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, which force OpenBLAS's slower AVX2 kernel here. */
export function cleanEnv() {
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  return env;
}

// glibc's default malloc returns freed buffers to the OS and re-faults them, which slows PyTorch;
// odd rounds run it with malloc tuned to keep them, and its figure is its better round.
export const TUNED_MALLOC =
  'glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296:glibc.malloc.top_pad=67108864';

/** The environment of a PyTorch peer run in round `round` with `threads` torch threads. */
export function torchEnv(threads, round = 0) {
  const extra = round % 2 === 0 ? {} : { GLIBC_TUNABLES: TUNED_MALLOC };
  return { ...cleanEnv(), OPENBLAS_NUM_THREADS: '1', TORCH_THREADS: String(threads), ...extra };
}

/** Whether the PyTorch peer can run (Debian's python3 exists). */
export const hasTorch = () => existsSync(PYTHON);

/**
 * Runs bench/torch_peer.py for one suite and returns its figures by name (an empty map when it
 * cannot run or fails: peers are never required).
 */
export function torch(suite, round, threads) {
  return torchScript('torch_peer.py', [suite], round, threads);
}

/**
 * Runs a PyTorch peer script of bench/ with `args` in round `round` and returns the name → value of
 * its JSON lines (an empty map when it cannot run or fails).
 */
export function torchScript(script, args, round, threads) {
  if (!hasTorch()) return new Map();
  const run = spawnSync(PYTHON, [join(here, script), ...args], {
    env: torchEnv(threads, round),
    encoding: 'utf8',
  });
  if (run.status !== 0) {
    console.error(`${script} ${args[0]} failed: ${run.stderr.trim().split('\n').at(-1)}`);
    return new Map();
  }
  return jsonFigures(run.stdout);
}

/** name → value from a peer's JSON lines (other lines, such as warnings, are skipped). */
function jsonFigures(stdout) {
  return new Map(
    stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => {
        const { name, value } = JSON.parse(line);
        return [name, value];
      }),
  );
}

let openblasExe;
/**
 * OpenBLAS's square SGEMM GFLOP/s by n on `threads` threads (bench/openblas_gemm.c, compiled on first
 * use); an empty map without OpenBLAS or a C compiler.
 */
export function openblasGemm(sizes, threads) {
  if (openblasExe === undefined) {
    openblasExe = null;
    const header = ['/usr/include/x86_64-linux-gnu/cblas.h', '/usr/include/cblas.h'].some(existsSync);
    // Without the -dev package: the runtime library by path, cblas_sgemm declared by the peer itself.
    const runtime = '/usr/lib/x86_64-linux-gnu/libopenblas.so.0';
    const link = header ? ['-lopenblas'] : existsSync(runtime) ? ['-DNO_CBLAS_H', runtime] : null;
    const exe = join(mkdtempSync(join(tmpdir(), 'nodegrad-bench-')), 'openblas_gemm');
    if (link && spawnSync('cc', ['-O2', '-o', exe, join(here, 'openblas_gemm.c'), ...link]).status === 0)
      openblasExe = exe;
  }
  if (!openblasExe) return new Map();
  const out = execFileSync(openblasExe, sizes.map(String), {
    env: { ...cleanEnv(), OPENBLAS_NUM_THREADS: String(threads) },
    encoding: 'utf8',
  });
  return new Map(
    out
      .trim()
      .split('\n')
      .map((l) => l.split(' ').map(Number)),
  );
}

/** Keeps the larger value per key (each side's best round). */
export function keepBest(into, from) {
  for (const [k, v] of from) into.set(k, Math.max(into.get(k) ?? 0, v));
  return into;
}

/**
 * Alternates the peer and nodegrad for `rounds` rounds: ours(results) records nodegrad's figures
 * of one round into the map it is given. Returns both sides' best per name (higher is better).
 */
export function interleaved(rounds, peerRound, ours) {
  const peer = new Map();
  const mine = new Map();
  for (let r = 0; r < rounds; r++) {
    keepBest(peer, peerRound(r));
    const once = new Map();
    ours(once);
    keepBest(mine, once);
  }
  return { peer, mine };
}

/** Prints one row: the figure, and beside it the peer's and the ratio nodegrad / peer (above 1: nodegrad ahead). */
export function printRow(name, value, unit, peerName, peerValue) {
  const ratio = peerValue ? `${(value / peerValue).toFixed(2)}x ${peerName} (${peerValue.toFixed(1)})` : '';
  console.log(`${name.padEnd(46)} ${value.toFixed(1).padStart(10)} ${unit.padEnd(9)} ${ratio}`);
}

/**
 * name → value from the JSON lines of bench/<script>, a standalone benchmark's PyTorch peer, run
 * with malloc tuned (PyTorch's better figure here) and `threads` torch threads; an empty map with
 * --no-peers or without Debian's python3.
 */
export function peerFigures(script, threads = availableParallelism()) {
  if (process.argv.includes('--no-peers') || !hasTorch()) return new Map();
  const run = spawnSync(PYTHON, [join(here, script)], { env: torchEnv(threads, 1), encoding: 'utf8' });
  if (run.status !== 0) return new Map();
  return jsonFigures(run.stdout);
}
