/**
 * `nodegrad launch`: starts one process per rank with torchrun's environment (RANK, LOCAL_RANK,
 * WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT), as PyTorch's `torchrun`. Restarts nothing:
 * when a rank fails, the others are stopped and launch exits non-zero naming the failed rank.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const LAUNCH_USAGE = `  launch    --nproc-per-node N [--nnodes M --node-rank R --master-addr A --master-port P]
              <script.mjs | train> [args ...]   one process per rank (torchrun's variables);
              'train' runs nodegrad's own training data-parallel`;

/** What `launch` was asked for. */
export interface LaunchOptions {
  /** Processes on this machine. */
  nprocPerNode: number;
  /** Machines taking part. */
  nnodes: number;
  /** This machine's index in [0, nnodes). */
  nodeRank: number;
  /** Address of rank 0's machine. */
  masterAddr: string;
  /** Port rank 0 listens on; undefined picks a free one (single machine only). */
  masterPort: number | undefined;
  /** The script (or nodegrad command) and its arguments. */
  command: string[];
}

/** A command-line mistake: printed as one line, exit code 2. */
export class LaunchUsageError extends Error {}

const FLAGS = ['nproc-per-node', 'nnodes', 'node-rank', 'master-addr', 'master-port'] as const;

function integer(name: string, value: string | undefined, min: number): number {
  const v = Number(value);
  if (value === undefined || !Number.isInteger(v) || v < min) {
    throw new LaunchUsageError(`launch: --${name} must be an integer >= ${min}, got '${value ?? ''}'`);
  }
  return v;
}

/** Reads launch's own flags up to the script; everything after the script belongs to it. */
export function parseLaunchArgs(args: readonly string[]): LaunchOptions {
  const flags = new Map<string, string | undefined>();
  let i = 0;
  for (; i < args.length && args[i].startsWith('--'); i++) {
    const eq = args[i].indexOf('=');
    const name = eq < 0 ? args[i].slice(2) : args[i].slice(2, eq);
    const inline = eq < 0 ? undefined : args[i].slice(eq + 1);
    if (!(FLAGS as readonly string[]).includes(name)) {
      throw new LaunchUsageError(`launch: unknown option '--${name}'; valid: ${FLAGS.map((f) => `--${f}`).join(', ')}`);
    }
    flags.set(name, inline ?? args[++i]);
  }
  const command = args.slice(i);
  if (command.length === 0) throw new LaunchUsageError('launch: expected a script to run (script.mjs or train)');
  const nnodes = integer('nnodes', flags.get('nnodes') ?? '1', 1);
  const nodeRank = integer('node-rank', flags.get('node-rank') ?? '0', 0);
  if (nodeRank >= nnodes) {
    throw new LaunchUsageError(
      `launch: --node-rank must be in [0, ${nnodes - 1}] for --nnodes ${nnodes}, got ${nodeRank}`,
    );
  }
  const port = flags.get('master-port');
  if (nnodes > 1 && (port === undefined || !flags.has('master-addr'))) {
    throw new LaunchUsageError('launch: --nnodes > 1 needs --master-addr and --master-port (the same on every node)');
  }
  return {
    nprocPerNode: integer('nproc-per-node', flags.get('nproc-per-node'), 1),
    nnodes,
    nodeRank,
    masterAddr: flags.get('master-addr') ?? '127.0.0.1',
    masterPort: port === undefined ? undefined : integer('master-port', port, 1),
    command,
  };
}

/** A TCP port that was free a moment ago. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => {
        resolve(port);
      });
    });
  });
}

/** The environment of one rank, as torchrun sets it. */
export function rankEnvironment(options: LaunchOptions, localRank: number, port: number): Record<string, string> {
  const env: Record<string, string> = {
    RANK: String(options.nodeRank * options.nprocPerNode + localRank),
    LOCAL_RANK: String(localRank),
    GROUP_RANK: String(options.nodeRank),
    WORLD_SIZE: String(options.nnodes * options.nprocPerNode),
    LOCAL_WORLD_SIZE: String(options.nprocPerNode),
    MASTER_ADDR: options.masterAddr,
    MASTER_PORT: String(port),
  };
  // Ranks on one machine share its cores, as torchrun's OMP_NUM_THREADS.
  if (process.env.NODEGRAD_NUM_THREADS === undefined) {
    env.NODEGRAD_NUM_THREADS = String(Math.max(1, Math.floor(availableParallelism() / options.nprocPerNode)));
  }
  return env;
}

/** The argv of one rank: node with the script, or nodegrad's own CLI for `train`. */
function rankArgv(command: readonly string[]): string[] {
  if (command[0] === 'train') return [join(dirname(fileURLToPath(import.meta.url)), 'cli.js'), ...command];
  return [...command];
}

/**
 * Runs every local rank and waits for them. Returns 0 when all exit 0; otherwise stops the others
 * (SIGTERM, then SIGKILL after `graceMs`) and returns the failed rank's exit code (1 for a signal).
 */
export async function launch(options: LaunchOptions, graceMs = 5000): Promise<number> {
  const port = options.masterPort ?? (await freePort());
  const argv = rankArgv(options.command);
  const children: ChildProcess[] = [];
  let failure: { rank: string; code: number; how: string } | null = null;
  let killTimer: NodeJS.Timeout | undefined;
  const stopOthers = (signal: NodeJS.Signals) => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    killTimer ??= setTimeout(() => {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }, graceMs);
  };
  const forward = (signal: NodeJS.Signals) => () => {
    for (const child of children) child.kill(signal);
  };
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    const exits = Array.from({ length: options.nprocPerNode }, (_, localRank) => {
      const rankEnv = rankEnvironment(options, localRank, port);
      const rank = rankEnv.RANK;
      const env = { ...process.env, ...rankEnv };
      const child = spawn(process.execPath, argv, { env, stdio: 'inherit' });
      children.push(child);
      return new Promise<void>((resolve) => {
        const done = (code: number | null, signal: NodeJS.Signals | null) => {
          if ((code !== 0 || signal) && !failure) {
            const how = signal ? `was killed by ${signal}` : `exited with code ${code ?? 1}`;
            failure = { rank, code: code ?? 1, how };
            console.error(
              `nodegrad launch: rank ${rank} (local rank ${localRank}, pid ${child.pid ?? '?'}) ${how}; ` +
                'stopping the other ranks',
            );
            stopOthers('SIGTERM');
          }
          resolve();
        };
        child.once('exit', done);
        child.once('error', (error) => {
          console.error(`nodegrad launch: rank ${rank} could not start: ${error.message}`);
          done(1, null);
        });
      });
    });
    await Promise.all(exits);
  } finally {
    clearTimeout(killTimer);
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
  const failed = failure as { rank: string; code: number; how: string } | null;
  if (!failed) return 0;
  console.error(`nodegrad launch: failed: rank ${failed.rank} ${failed.how}`);
  return failed.code === 0 ? 1 : failed.code;
}
