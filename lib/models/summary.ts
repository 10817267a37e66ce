/**
 * summary(model, inputShape): runs one sample through the model (no grad, eval mode) and tabulates
 * every leaf layer's output shape and parameters, with totals: parameters, multiply-accumulates
 * per sample (convolutions and linear layers) and activation memory per sample (float32 outputs).
 */
import { noGrad } from '../autograd/grad-mode.js';
import { zeros } from '../tensor/creation.js';
import { Tensor } from '../tensor/tensor.js';
import { Conv2d, Linear } from '../nn/layers.js';
import type { RemovableHandle } from '../nn/hooks.js';
import type { Module } from '../nn/module.js';

/** One leaf layer's line of a Summary. */
export interface SummaryRow {
  /** The layer's dotted name in the model (`layer1.0.conv1`). */
  name: string;
  /** Its class name (`Conv2d`). */
  type: string;
  /** Its output shape for one sample (batch dim 1). */
  outputShape: number[];
  /** Its own parameters' element count. */
  params: number;
  /** Its multiply-accumulates for one sample (Conv2d and Linear; 0 for the others). */
  macs: number;
}

/** What summary returns: the per-layer rows, the totals and the formatted table. */
export interface Summary {
  /** One row per leaf layer, in the order the forward ran them (a layer run twice appears twice). */
  rows: SummaryRow[];
  /** Elements of all parameters. */
  totalParams: number;
  /** Elements of the parameters that require grad. */
  trainableParams: number;
  /** Multiply-accumulates of one sample's forward (Conv2d and Linear layers). */
  macsPerSample: number;
  /** Bytes of the leaf layers' outputs for one sample, at 4 bytes per element. */
  activationBytesPerSample: number;
  /** The formatted table. */
  text: string;
}

const fmt = (n: number) => n.toLocaleString('en-US');

/**
 * Runs one zero sample through `model` (no grad, eval mode, restored after) and tabulates every leaf
 * layer's output shape, parameters and multiply-accumulates, like torchinfo's `summary`.
 *
 * @param model - The model to inspect (a Tensor → Tensor module).
 * @param inputShape - One sample's shape, without the batch dim (e.g. [3, 224, 224]).
 *
 * @example
 * ```ts
 * console.log(ng.models.summary(ng.models.lenet5(), [1, 28, 28]).text);
 * // Layer         Type       Output shape     Params
 * // ------------------------------------------------
 * // features.0    Conv2d     [1, 6, 28, 28]      156
 * // ...
 * // Total params: 61,706 (trainable 61,706)
 * // MACs per sample: 416,520
 * ```
 */
export function summary(model: Module, inputShape: readonly number[]): Summary {
  const rows: SummaryRow[] = [];
  const handles: RemovableHandle[] = [];
  for (const [name, m] of model.namedModules()) {
    if ([...m.children()].length > 0) continue;
    handles.push(
      m.registerForwardHook((_module, _args, out) => {
        if (!(out instanceof Tensor)) return;
        const own = m.parameters().reduce((n, p) => n + p.numel, 0);
        const outputs = out.numel;
        let macs = 0;
        if (m instanceof Conv2d)
          macs = outputs * (m.inChannels / (m.options.groups ?? 1)) * m.kernelSize[0] * m.kernelSize[1];
        if (m instanceof Linear) macs = outputs * m.inFeatures;
        rows.push({ name, type: m.typeName, outputShape: [...out.shape], params: own, macs });
      }),
    );
  }
  const wasTraining = model.training;
  model.eval();
  try {
    noGrad(() => model.forward(zeros([1, ...inputShape])));
  } finally {
    for (const handle of handles) handle.remove();
    model.train(wasTraining);
  }
  const totalParams = model.parameters().reduce((n, p) => n + p.numel, 0);
  const trainableParams = model
    .parameters()
    .filter((p) => p.requiresGrad)
    .reduce((n, p) => n + p.numel, 0);
  const macsPerSample = rows.reduce((n, r) => n + r.macs, 0);
  const activationBytesPerSample = rows.reduce((n, r) => n + r.outputShape.reduce((p, s) => p * s, 1) * 4, 0);
  const header = ['Layer', 'Type', 'Output shape', 'Params'];
  const body = rows.map((r) => [r.name, r.type, `[${r.outputShape.join(', ')}]`, fmt(r.params)]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  const rule = '-'.repeat(widths.reduce((a, b) => a + b + 2, -2));
  const text = [
    line(header),
    rule,
    ...body.map(line),
    rule,
    `Total params: ${fmt(totalParams)} (trainable ${fmt(trainableParams)})`,
    `MACs per sample: ${fmt(macsPerSample)}`,
    `Activation memory per sample: ${(activationBytesPerSample / 1024 / 1024).toFixed(2)} MiB`,
  ].join('\n');
  return { rows, totalParams, trainableParams, macsPerSample, activationBytesPerSample, text };
}
