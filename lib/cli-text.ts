/**
 * The text commands of `nodegrad`: `train --model gpt|lstm` (a character-level language model, by
 * default on the embedded names) and `generate` (samples from a text run's saved model).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ng from './index.js';
import { checkpointDir } from './train/checkpoint.js';
import { loadCorpus, trainText, type TextTrainConfig, type TextTrainEvents } from './train/text-trainer.js';

/** The language models `train --model` accepts. */
export const TEXT_MODELS = ['gpt', 'lstm'];

/** The lines `nodegrad help` shows for the text commands. */
export const TEXT_USAGE = `  train --model gpt|lstm   a character-level language model (default data: the embedded names)
              --data names|text:<file>  --epochs 12  --batch-size 32  --lr 3e-3  --weight-decay 0.1
              --block-size 16  --layers 4  --heads 4  --width 64  --dropout 0  --samples 20  --seed 0
              --threads N  --out runs/<timestamp>  --json
  generate  --checkpoint <text run folder> [--n 20] [--temperature 1] [--seed 0]`;

/** A bad flag value, shown as one line (exit code 2). */
export class TextUsageError extends Error {}

function number(name: string, value: string | undefined, integer: boolean, min: number): number {
  const v = Number(value);
  if (value === undefined || !Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))) {
    throw new TextUsageError(`--${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got '${value}'`);
  }
  return v;
}

function events(json: boolean): TextTrainEvents {
  let lastPlain = 0;
  return {
    start(info) {
      if (json) console.log(JSON.stringify({ event: 'start', ...info }));
      else
        console.log(
          `training on ${info.trainSequences} sequences, validating on ${info.validationSequences}; ` +
            `${info.batchesPerEpoch} batches per epoch, ${info.parameters} parameters`,
        );
    },
    batch(b) {
      if (json || (b.batch !== b.batches && performance.now() - lastPlain < 2000)) return;
      lastPlain = performance.now();
      const line = `epoch ${b.epoch + 1} batch ${b.batch}/${b.batches} loss ${b.loss.toFixed(4)} ${Math.round(b.tokensPerSecond)} tokens/s`;
      if (process.stdout.isTTY) process.stdout.write(`\r${line}`);
      else console.log(line);
    },
    epoch(m) {
      if (process.stdout.isTTY && !json) process.stdout.write('\n');
      if (json) console.log(JSON.stringify({ event: 'epoch', ...m }));
      else
        console.log(
          `epoch ${m.epoch}: train loss ${m.trainLoss.toFixed(4)} | validation loss ${m.validationLoss.toFixed(4)} | ` +
            `${m.seconds.toFixed(1)} s, ${Math.round(m.tokensPerSecond)} tokens/s`,
        );
    },
  };
}

/** `nodegrad train --model gpt|lstm ...`; `out` is the default run folder. */
export async function textTrainCommand(args: string[], out: string): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      model: { type: 'string' },
      data: { type: 'string', default: 'names' },
      epochs: { type: 'string', default: '12' },
      'batch-size': { type: 'string', default: '32' },
      lr: { type: 'string', default: '3e-3' },
      'weight-decay': { type: 'string', default: '0.1' },
      'block-size': { type: 'string', default: '16' },
      layers: { type: 'string', default: '4' },
      heads: { type: 'string', default: '4' },
      width: { type: 'string', default: '64' },
      dropout: { type: 'string', default: '0' },
      samples: { type: 'string', default: '20' },
      seed: { type: 'string', default: '0' },
      threads: { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
    },
  });
  const model = values.model;
  if (model !== 'gpt' && model !== 'lstm') {
    throw new TextUsageError(`unknown text model '${model ?? ''}'; valid: ${TEXT_MODELS.join(', ')}`);
  }
  const config: TextTrainConfig = {
    model,
    data: values.data,
    epochs: number('epochs', values.epochs, true, 1),
    batchSize: number('batch-size', values['batch-size'], true, 1),
    lr: number('lr', values.lr, false, 0),
    weightDecay: number('weight-decay', values['weight-decay'], false, 0),
    blockSize: number('block-size', values['block-size'], true, 2),
    nLayer: number('layers', values.layers, true, 1),
    nHead: number('heads', values.heads, true, 1),
    nEmbd: number('width', values.width, true, 1),
    dropout: number('dropout', values.dropout, false, 0),
    samples: number('samples', values.samples, true, 0),
    seed: number('seed', values.seed, true, 0),
    threads: values.threads ? number('threads', values.threads, true, 1) : undefined,
    out: values.out ?? out,
  };
  const result = await trainText(config, events(values.json));
  const last = result.history.at(-1);
  if (values.json) {
    console.log(JSON.stringify({ event: 'samples', samples: result.samples }));
  } else {
    console.log(`samples:\n${result.samples.map((s) => `  ${s}`).join('\n')}`);
    if (last) {
      console.log(
        `done: validation loss ${last.validationLoss.toFixed(4)} nats per token. ` +
          `Wrote ${join(config.out, 'model.safetensors')}, metrics.jsonl, samples.txt, report.html`,
      );
    }
  }
  return 0;
}

/** `nodegrad generate --checkpoint <run> --n 20`: names (or text) sampled from a text run's model. */
export function generateCommand(args: string[]): number {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      checkpoint: { type: 'string' },
      n: { type: 'string', default: '20' },
      temperature: { type: 'string', default: '1' },
      seed: { type: 'string', default: '0' },
      verbose: { type: 'boolean', default: false },
    },
  });
  if (!values.checkpoint) throw new TextUsageError('generate needs --checkpoint <text run folder>');
  const dir = checkpointDir(values.checkpoint);
  let config: Partial<TextTrainConfig>;
  try {
    config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Partial<TextTrainConfig>;
  } catch {
    throw new TextUsageError(`${dir} has no readable config.json; is it a run folder of 'nodegrad train --model gpt'?`);
  }
  if (config.model !== 'gpt' && config.model !== 'lstm') {
    throw new TextUsageError(`${dir} is not a text run (its model is '${String(config.model)}'); valid: gpt, lstm`);
  }
  const n = number('n', values.n, true, 1);
  const temperature = number('temperature', values.temperature, false, 1e-6);
  ng.manualSeed(number('seed', values.seed, true, 0));
  const corpus = loadCorpus(config.data ?? 'names');
  const model = ng.loadModel(join(dir, 'model.safetensors'));
  model.eval();
  const blockSize = config.blockSize ?? 16;
  for (let i = 0; i < n; i++) {
    let ids: number[];
    if (model instanceof ng.models.GPT) {
      const out = model.generate(ng.tensor([[0]], { dtype: 'int32' }), blockSize - 1, { temperature });
      ids = Array.from(out.data()).slice(1);
    } else if (model instanceof ng.models.LstmLM) {
      ids = model.generate([0], blockSize - 1, temperature);
    } else {
      throw new TextUsageError(`${dir}/model.safetensors holds a ${model.constructor.name}, not a language model`);
    }
    const end = ids.indexOf(0);
    console.log(corpus.decode(end < 0 ? ids : ids.slice(0, end)));
  }
  return 0;
}
