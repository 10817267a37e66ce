#!/usr/bin/env node
/**
 * The `nodegrad` command: train (the main job; `npm start`; `--model gpt` for text), generate, eval, summary, bench. User errors print
 * one line naming the problem and what is valid, and exit with code 2 (a stack trace only with
 * --verbose). Ctrl-C during training stops after the current batch, saves a checkpoint, exits 130.
 */
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { LAUNCH_USAGE, launch, parseLaunchArgs } from './cli-launch.js';
import { generateCommand, TEXT_MODELS, TEXT_USAGE, textTrainCommand } from './cli-text.js';
import * as ng from './index.js';
import { checkpointDir } from './train/checkpoint.js';
import { confusionMatrix, topKCorrect } from './train/metrics.js';
import { buildModel, DATASETS, loadData, train, type TrainConfig, type TrainEvents } from './train/trainer.js';

const USAGE = `usage: nodegrad <command> [options]

commands:
  train     train a model (defaults: LeNet-5 on the embedded MNIST digits, 3 epochs)
              --model lenet5  --data mnist|idx:<dir>|cifar10:<dir>  --epochs 3  --batch-size 64
              --lr 0.01  --momentum 0.9  --weight-decay 5e-4  --optimizer sgd|adam  --seed 0
              --threads N  --checkpoint-every N  --out runs/<timestamp>  --resume <checkpoint>
              --allow-config-change (resume with other --seed/--batch-size/--optimizer/... than the checkpoint's)
              --train-limit N  --test-limit N  --json  --verbose
              --nproc-per-node N (data-parallel on N processes; --batch-size is per process)
${TEXT_USAGE}
${LAUNCH_USAGE}
  eval      --checkpoint <model.safetensors or run folder> [--model lenet5] [--data mnist]
  summary   <model> [--input 3,224,224]
  bench     [suite ...]   runs the benchmark suite (npm run bench)
  help      show this text

models: ${[...Object.keys(ng.models.registry), ...TEXT_MODELS].join(', ')}
data:   ${DATASETS.join(', ')} (image models); names, text:<file> (gpt, lstm)`;

class UsageError extends Error {}

function number(name: string, value: string | undefined, integer: boolean, min: number): number {
  const v = Number(value);
  if (value === undefined || !Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))) {
    throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got '${value}'`);
  }
  return v;
}

function timestamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
}

function events(json: boolean): TrainEvents & { stop(): void } {
  const tty = process.stdout.isTTY && !json;
  let bar: cliProgress.SingleBar | null = null;
  let lastPlain = 0;
  return {
    start(info) {
      if (json) {
        console.log(
          JSON.stringify({
            event: 'start',
            ...info,
            resumedAt: info.resumedAt ? { epoch: info.resumedAt.epoch, batch: info.resumedAt.batchesDone } : undefined,
          }),
        );
        return;
      }
      console.log(
        `training on ${info.trainSize} images, testing on ${info.testSize}; ${info.batchesPerEpoch} batches per epoch` +
          (info.resumedAt
            ? `; resuming at epoch ${info.resumedAt.epoch + 1}, batch ${info.resumedAt.batchesDone}`
            : ''),
      );
    },
    batch(b) {
      if (json) return;
      if (tty) {
        if (!bar || b.batch === 1 || !bar.isActive) {
          bar?.stop();
          bar = new cliProgress.SingleBar(
            {
              format: `epoch ${b.epoch + 1} {bar} {value}/{total} | loss {loss} | acc {acc} | {speed} img/s | ETA {eta_formatted}`,
              hideCursor: true,
              etaBuffer: 50,
            },
            cliProgress.Presets.shades_classic,
          );
          bar.start(b.batches, b.batch - 1, { loss: '-', acc: '-', speed: '-' });
        }
        bar.update(b.batch, {
          loss: b.loss.toFixed(4),
          acc: `${(b.accuracy * 100).toFixed(1)}%`,
          speed: Math.round(b.imagesPerSecond),
        });
      } else if (b.batch === b.batches || performance.now() - lastPlain > 5000) {
        lastPlain = performance.now();
        console.log(
          `epoch ${b.epoch + 1} batch ${b.batch}/${b.batches} loss ${b.loss.toFixed(4)} acc ${(b.accuracy * 100).toFixed(1)}% ${Math.round(b.imagesPerSecond)} img/s`,
        );
      }
    },
    epoch(m) {
      bar?.stop();
      bar = null;
      if (json) {
        console.log(JSON.stringify({ event: 'epoch', ...m }));
        return;
      }
      console.log(
        `epoch ${m.epoch}: train loss ${m.trainLoss.toFixed(4)} acc ${(m.trainAccuracy * 100).toFixed(2)}% | ` +
          `test loss ${m.testLoss.toFixed(4)} top-1 ${(m.top1 * 100).toFixed(2)}% top-5 ${(m.top5 * 100).toFixed(2)}% | ${m.seconds.toFixed(1)} s`,
      );
    },
    checkpoint(dir) {
      if (json) console.log(JSON.stringify({ event: 'checkpoint', dir }));
    },
    stop() {
      bar?.stop();
    },
  };
}

/** The --model value among the arguments (as `--model x` or `--model=x`), if any. */
function modelFlag(args: string[]): string | undefined {
  const i = args.findIndex((a) => a === '--model' || a.startsWith('--model='));
  if (i < 0) return undefined;
  return args[i].startsWith('--model=') ? args[i].slice('--model='.length) : args.at(i + 1);
}

/** Splits `--nproc-per-node N` (or `=N`) off the arguments. */
function nprocFlag(args: string[]): { nproc: string | undefined; rest: string[] } {
  const i = args.findIndex((a) => a === '--nproc-per-node' || a.startsWith('--nproc-per-node='));
  if (i < 0) return { nproc: undefined, rest: args };
  const inline = args[i].startsWith('--nproc-per-node=');
  const nproc = inline ? args[i].slice('--nproc-per-node='.length) : args.at(i + 1);
  return { nproc, rest: [...args.slice(0, i), ...args.slice(i + (inline ? 1 : 2))] };
}

async function trainCommand(argv: string[]): Promise<number> {
  const { nproc, rest: args } = nprocFlag(argv);
  if (nproc !== undefined) {
    const nprocPerNode = number('nproc-per-node', nproc, true, 1);
    // One run folder for all ranks (rank 0 writes it).
    const out = args.some((a) => a.startsWith('--out') || a.startsWith('--resume'))
      ? []
      : ['--out', join('runs', timestamp())];
    if (nprocPerNode > 1)
      return launch(parseLaunchArgs(['--nproc-per-node', String(nprocPerNode), 'train', ...args, ...out]));
  }
  // A rank started by `nodegrad launch`: join the group; trainer trains data-parallel.
  if (Number(process.env.WORLD_SIZE ?? 1) > 1) await ng.distributed.initProcessGroup();
  const model = modelFlag(args);
  if (model !== undefined && TEXT_MODELS.includes(model)) return textTrainCommand(args, join('runs', timestamp()));
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      model: { type: 'string', default: 'lenet5' },
      data: { type: 'string', default: 'mnist' },
      epochs: { type: 'string', default: '3' },
      'batch-size': { type: 'string', default: '64' },
      lr: { type: 'string', default: '0.01' },
      momentum: { type: 'string', default: '0.9' },
      'weight-decay': { type: 'string', default: '5e-4' },
      optimizer: { type: 'string', default: 'sgd' },
      seed: { type: 'string', default: '0' },
      threads: { type: 'string' },
      'checkpoint-every': { type: 'string', default: '0' },
      out: { type: 'string' },
      resume: { type: 'string' },
      'train-limit': { type: 'string' },
      'test-limit': { type: 'string' },
      'allow-config-change': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
    },
  });
  if (values.optimizer !== 'sgd' && values.optimizer !== 'adam')
    throw new UsageError(`unknown optimizer '${values.optimizer}'; valid: sgd, adam`);
  const resume = values.resume;
  const config: TrainConfig = {
    model: values.model,
    data: values.data,
    epochs: number('epochs', values.epochs, true, 1),
    batchSize: number('batch-size', values['batch-size'], true, 1),
    lr: number('lr', values.lr, false, 0),
    momentum: number('momentum', values.momentum, false, 0),
    weightDecay: number('weight-decay', values['weight-decay'], false, 0),
    optimizer: values.optimizer,
    seed: number('seed', values.seed, true, 0),
    threads: values.threads ? number('threads', values.threads, true, 1) : undefined,
    checkpointEvery: number('checkpoint-every', values['checkpoint-every'], true, 0),
    out: values.out ?? (resume ? checkpointDir(resume) : join('runs', timestamp())),
    resume,
    allowConfigChange: values['allow-config-change'],
    trainLimit: values['train-limit'] ? number('train-limit', values['train-limit'], true, 1) : undefined,
    testLimit: values['test-limit'] ? number('test-limit', values['test-limit'], true, 1) : undefined,
  };
  let stopRequested = false;
  const onSignal = () => {
    stopRequested = true;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const ev = events(values.json);
  try {
    const result = await train(config, ev, () => stopRequested);
    ev.stop();
    const last = result.history.at(-1);
    if (result.exitCode === 130) {
      console.log(`stopped: checkpoint saved in ${config.out}; continue with --resume ${config.out}`);
    } else if (!values.json && last && (process.env.RANK ?? '0') === '0') {
      console.log(
        `done: test top-1 ${(last.top1 * 100).toFixed(2)}%, top-5 ${(last.top5 * 100).toFixed(2)}%. ` +
          `Wrote ${join(config.out, 'model.safetensors')}, metrics.jsonl, report.html`,
      );
    }
    return result.exitCode;
  } finally {
    ev.stop();
    if (ng.distributed.isInitialized()) ng.distributed.destroyProcessGroup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function evalCommand(args: string[]): number {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      checkpoint: { type: 'string' },
      model: { type: 'string', default: 'lenet5' },
      data: { type: 'string', default: 'mnist' },
      'test-limit': { type: 'string' },
      verbose: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  if (!values.checkpoint) throw new UsageError('eval needs --checkpoint <model.safetensors or run folder>');
  const data = loadData(values.data);
  const model = buildModel(values.model, data);
  const path = values.checkpoint.endsWith('.safetensors')
    ? values.checkpoint
    : join(checkpointDir(values.checkpoint), 'model.safetensors');
  model.loadStateDict(ng.load(path), { strict: true });
  model.eval();
  const limit = values['test-limit'] ? number('test-limit', values['test-limit'], true, 1) : data.test.length;
  const loader = new ng.data.DataLoader(
    data.test.subset(Array.from({ length: Math.min(limit, data.test.length) }, (_, i) => i)),
    { batchSize: 256, transform: ng.data.transforms.normalize(data.mean, data.std) },
  );
  let top1 = 0;
  let top5 = 0;
  let n = 0;
  const matrix = Array.from({ length: 10 }, () => new Array<number>(10).fill(0));
  ng.noGrad(() => {
    for (const [x, y] of loader) {
      const logits = model.forward(x);
      top1 += topKCorrect(logits, y, 1);
      top5 += topKCorrect(logits, y, 5);
      confusionMatrix(logits, y, 10, matrix);
      n += y.shape[0];
    }
  });
  if (values.json) {
    console.log(JSON.stringify({ top1: top1 / n, top5: top5 / n, images: n, confusion: matrix }));
    return 0;
  }
  console.log(`${n} test images: top-1 ${((100 * top1) / n).toFixed(2)}%, top-5 ${((100 * top5) / n).toFixed(2)}%`);
  console.log('confusion matrix (rows: true class, columns: predicted):');
  console.log(`     ${matrix.map((_, j) => String(j).padStart(5)).join('')}`);
  matrix.forEach((row, i) => console.log(`${String(i).padStart(4)} ${row.map((v) => String(v).padStart(5)).join('')}`));
  return 0;
}

function summaryCommand(args: string[]): number {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: { input: { type: 'string' }, verbose: { type: 'boolean', default: false } },
  });
  const name = positionals.at(0);
  const registry: Partial<typeof ng.models.registry> = ng.models.registry;
  const factory = name === undefined ? undefined : registry[name];
  if (!name || !factory) {
    throw new UsageError(`unknown model '${name ?? ''}'; valid: ${Object.keys(ng.models.registry).join(', ')}`);
  }
  const input = (values.input ?? (name === 'lenet5' ? '1,28,28' : '3,224,224')).split(',').map(Number);
  if (input.length !== 3 || input.some((v) => !Number.isInteger(v) || v < 1))
    throw new UsageError(`--input must be C,H,W, got '${values.input}'`);
  const model = factory({
    numClasses: 1000,
    inChannels: input[0],
    ...(name === 'lenet5' ? { numClasses: 10, inputSize: input[1] } : {}),
  });
  console.log(ng.models.summary(model, input).text);
  return 0;
}

function benchCommand(args: string[]): number {
  const script = join(dirname(fileURLToPath(import.meta.url)), '..', 'bench', 'run.mjs');
  return spawnSync(process.execPath, [script, ...args], { stdio: 'inherit' }).status ?? 1;
}

async function main(argv: string[]): Promise<number> {
  const command = argv.at(0) ?? 'help';
  const rest = argv.slice(1);
  switch (command) {
    case 'train':
      return trainCommand(rest);
    case 'eval':
      return evalCommand(rest);
    case 'generate':
      return generateCommand(rest);
    case 'summary':
      return summaryCommand(rest);
    case 'bench':
      return benchCommand(rest);
    case 'launch':
      return launch(parseLaunchArgs(rest));
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return 0;
    default:
      throw new UsageError(`unknown command '${command}'; valid: train, launch, generate, eval, summary, bench, help`);
  }
}

const verbose = process.argv.includes('--verbose');
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const message = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    console.error(`nodegrad: ${message}`);
    if (verbose && error instanceof Error) console.error(error.stack);
    process.exitCode = 2;
  },
);
