// `npm run bench -- memory`: what a step costs in memory, per mode. For ResNet-18 (3×32×32,
// batch 32) and an MLP 784-1024×8-10 (batch 256): peak tensor bytes from ng.memory() (live storage
// at its highest during the step; buffers are counted until the framework recycles them or the
// garbage collector finalizes them), peak RSS of the process, and the step time.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as ng from '../dist/index.js';

const { nn } = ng;
const mib = (b) => (b / 1024 / 1024).toFixed(1);

setFlagsFromString('--expose-gc');
const fullCollection = runInNewContext('gc');

async function settle() {
  // A full collection (gc() without options: V8 11's { type: 'major' } leaves old-generation
  // buffers alive), then yields for the finalizers: the next measurement starts from live tensors
  // only, not from earlier rows' garbage that a collection during it would subtract.
  fullCollection();
  for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 5));
}

function setInplace(model, inplace) {
  for (const m of model.modules()) if (m instanceof nn.ReLU) m.options.inplace = inplace;
}

function resnetChain(model) {
  // ResNet-18's top level as one Sequential, so checkpointSequential can cut it into segments.
  return new nn.Sequential(
    model.conv1,
    model.bn1,
    model.relu,
    model.maxpool,
    model.layer1,
    model.layer2,
    model.layer3,
    model.layer4,
    model.avgpool,
    new nn.Flatten(),
    model.fc,
  );
}

async function measure(name, step, repeats) {
  await settle();
  const rss0 = process.memoryUsage().rss;
  let rssPeak = rss0;
  const times = [];
  let kept = 0;
  let peak = 0;
  for (let i = 0; i < repeats; i++) {
    // Each repetition's peak above what was live when it started (earlier outputs may await GC).
    const start = ng.memory().liveBytes;
    ng.resetPeakMemory();
    const t0 = performance.now();
    kept = Math.max(kept, step() ?? 0);
    times.push(performance.now() - t0);
    peak = Math.max(peak, ng.memory().peakBytes - start);
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    await settle();
  }
  times.sort((a, b) => a - b);
  const row = { name, peakBytes: peak, kept, rssPeak, ms: times[Math.floor(times.length / 2)] };
  console.log(
    `${name.padEnd(40)} peak ${mib(row.peakBytes).padStart(7)} MiB` +
      (kept ? `  kept for backward ${mib(kept).padStart(7)} MiB` : '').padEnd(34) +
      `  peak RSS ${mib(rssPeak).padStart(7)} MiB  step ${row.ms.toFixed(1).padStart(7)} ms`,
  );
  return row;
}

async function suite(label, makeModel, inputShape, classes, chain, largestActivation) {
  console.log(`\n## ${label}`);
  ng.manualSeed(0);
  const model = makeModel();
  const x = ng.randn(inputShape);
  const y = ng.tensor(
    Array.from({ length: inputShape[0] }, (_, i) => i % classes),
    { dtype: 'int32' },
  );
  const opt = new ng.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const weights = model.parameters().reduce((n, p) => n + p.storage.byteLength, 0);
  console.log(`weights ${mib(weights)} MiB; largest single activation ${mib(largestActivation)} MiB`);
  // Returns the bytes the forward left alive for backward (activations and saved tensors).
  const train = (forward) => () => {
    opt.zeroGrad();
    const from = ng.memory().liveBytes;
    const loss = ng.crossEntropy(forward(), y);
    const kept = ng.memory().liveBytes - from;
    loss.backward();
    opt.step();
    return kept;
  };
  model.eval();
  await measure('inference, noGrad', () => ng.noGrad(() => model.forward(x)), 5);
  const inf = await measure('inference, inferenceMode', () => ng.inferenceMode(() => model.forward(x)), 5);
  console.log(
    `${''.padEnd(40)} inference peak / largest activation: ${(inf.peakBytes / largestActivation).toFixed(2)}x`,
  );
  model.train();
  setInplace(model, false);
  const plain = await measure(
    'training step, ReLU out of place',
    train(() => model.forward(x)),
    5,
  );
  setInplace(model, true);
  const inplace = await measure(
    'training step, in-place ReLU',
    train(() => model.forward(x)),
    5,
  );
  const seq = chain(model);
  for (const segments of [2, 4]) {
    const c = await measure(
      `training step, checkpointSequential(${segments})`,
      train(() => nn.checkpointSequential(seq, segments, x)),
      5,
    );
    console.log(
      `${''.padEnd(40)} activations kept ${(100 * (1 - c.kept / inplace.kept)).toFixed(0)}% below the in-place step, ` +
        `step time +${(100 * (c.ms / inplace.ms - 1)).toFixed(0)}%`,
    );
  }
  console.log(
    `${''.padEnd(40)} in-place ReLU: peak ${(100 * (1 - inplace.peakBytes / plain.peakBytes)).toFixed(0)}% below out of place, ` +
      `activations kept ${(100 * (1 - inplace.kept / plain.kept)).toFixed(0)}% below`,
  );
  // Leak check: RSS over many steps stays flat.
  const step = train(() => model.forward(x));
  const rss = [];
  const steps = Number(process.env.MEMORY_STEPS ?? 1000);
  for (let i = 1; i <= steps; i++) {
    step();
    if (i % Math.max(1, Math.floor(steps / 10)) === 0) {
      await settle();
      rss.push(process.memoryUsage().rss);
    }
  }
  const tail = rss.slice(1);
  console.log(
    `RSS over ${steps} training steps (MiB, every ${steps / 10}): ${rss.map(mib).join(' ')}; ` +
      `spread after the first checkpoint ${(100 * (Math.max(...tail) / Math.min(...tail) - 1)).toFixed(1)}%`,
  );
}

/**
 * LeNet-5, batch 1, inferences in a loop that never yields, each inside ng.tidy: ng.memory() must
 * return to its baseline after every call (no collector involved), and RSS stay flat after warm-up.
 */
async function tidyLoop(calls) {
  console.log(`\n## ng.tidy: LeNet-5 inferences (batch 1) in a loop that never yields`);
  ng.manualSeed(0);
  const model = ng.models.lenet5();
  model.eval();
  const x = ng.randn([1, 1, 28, 28]);
  ng.tidy(() => ng.noGrad(() => model.forward(x).argmax(1).item()));
  // The baseline counts live tensors only: earlier rows' garbage, collected during the loop, would
  // otherwise make the count drop below it.
  await settle();
  const baseline = ng.memory().liveBytes;
  let drifted = 0;
  let largestDrift = 0;
  const rss = [];
  const t0 = performance.now();
  for (let i = 1; i <= calls; i++) {
    ng.tidy(() => ng.noGrad(() => model.forward(x).argmax(1).item()));
    const drift = ng.memory().liveBytes - baseline;
    if (drift !== 0) drifted++;
    if (Math.abs(drift) > Math.abs(largestDrift)) largestDrift = drift;
    if (i % (calls / 10) === 0) rss.push(process.memoryUsage().rss);
  }
  const us = ((performance.now() - t0) * 1000) / calls;
  const tail = rss.slice(1);
  console.log(
    `${calls} calls, ${us.toFixed(1)} µs each; calls whose liveBytes differed from the baseline: ${drifted}` +
      (drifted ? ` (largest difference ${largestDrift} bytes)` : '') +
      `; ` +
      `RSS (MiB, every ${calls / 10}): ${rss.map(mib).join(' ')}; spread after warm-up ` +
      `${(100 * (Math.max(...tail) / Math.min(...tail) - 1)).toFixed(1)}%`,
  );
}

/** bench/buffers.mjs in child processes: RSS after 400 freed 1 MiB Buffers, without and with nodegrad. */
function bufferRow() {
  const script = fileURLToPath(new URL('./buffers.mjs', import.meta.url));
  const rss = (...flags) =>
    JSON.parse(execFileSync(process.execPath, ['--expose-gc', script, ...flags], { encoding: 'utf8' })).rssMiB;
  const without = rss();
  const withNodegrad = rss('--nodegrad');
  const footprint = rss('--nodegrad', '--no-buffers') - rss('--no-buffers');
  console.log(`\n## A service beside nodegrad: 400 × 1 MiB Buffers allocated, dropped, collected`);
  console.log(
    `RSS without nodegrad ${without.toFixed(1)} MiB, with nodegrad ${withNodegrad.toFixed(1)} MiB ` +
      `(${(withNodegrad / without).toFixed(2)}x; nodegrad's own footprint without the Buffers ${footprint.toFixed(1)} MiB)`,
  );
}

/**
 * 140,000 small tensors (384 floats, below the arena's threshold: V8's typed arrays) made in a loop
 * that never yields, one in 100 kept: at every 20,000th, ng.memory().liveBytes after a full
 * collection against the kept tensors' bytes (the exact answer), and before it against RSS.
 */
async function smallTensorLoop() {
  console.log('\n## 140,000 small tensors (384 floats) in a loop that never yields, 1 in 100 kept');
  const a = ng.randn([384]);
  await settle();
  const baseline = ng.memory().liveBytes;
  const rss0 = process.memoryUsage().rss;
  const kept = [];
  let largestError = 0;
  let unswept = 0;
  let rss = 0;
  for (let i = 1; i <= 140_000; i++) {
    const t = a.mul(2);
    if (i % 100 === 0) kept.push(t);
    if (i % 20_000 === 0) {
      unswept = Math.max(unswept, ng.memory().liveBytes - baseline);
      rss = Math.max(rss, process.memoryUsage().rss - rss0);
      fullCollection();
      largestError = Math.max(largestError, Math.abs(ng.memory().liveBytes - baseline - kept.length * 384 * 4));
    }
  }
  console.log(
    `liveBytes after a collection differs from the kept tensors' bytes by at most ${largestError} bytes ` +
      `(7 checks); before one, at most ${mib(unswept)} MiB live (RSS grew at most ${mib(rss)} MiB; ` +
      `kept ${mib(kept.length * 384 * 4)} MiB)`,
  );
}

/** Peak tensor bytes above what was live when `fn` started (median of 3, after letting V8 settle). */
async function peakOf(fn) {
  const peaks = [];
  for (let i = 0; i < 3; i++) {
    await settle();
    const start = ng.memory().liveBytes;
    ng.resetPeakMemory();
    fn();
    peaks.push(ng.memory().peakBytes - start);
  }
  return peaks.sort((a, b) => a - b)[1];
}

/**
 * The memory issue's table: 16 × (Linear 256→256 + ReLU) at batch 4096 (one activation 4 MiB) under
 * noGrad, as a hand-written loop under inferenceMode, and trained plain vs checkpointSequential(4);
 * then ResNet-18 trained with checkpointByBudget at half the plain step's peak.
 */
async function issueRows() {
  console.log('\n## Peaks: 16 × (Linear 256→256 + ReLU), batch 4096 (one activation = 4.0 MiB)');
  ng.manualSeed(0);
  const layers = [];
  for (let i = 0; i < 16; i++) layers.push(new nn.Linear(256, 256), new nn.ReLU());
  const model = new nn.Sequential(...layers);
  const x = ng.randn([4096, 256]);
  const y = ng.randn([4096, 256]);
  const rows = [
    ['noGrad(() => model.forward(x))', () => ng.noGrad(() => model.forward(x))],
    [
      'hand-written loop, inferenceMode',
      () =>
        ng.inferenceMode(() => {
          let h = x;
          for (let i = 0; i < layers.length; i += 2) h = layers[i + 1].forward(layers[i].forward(h));
          return h;
        }),
    ],
    [
      'training step, plain',
      () => {
        model.zeroGrad();
        nn.functional.mseLoss(model.forward(x), y).backward();
      },
    ],
    [
      'training step, checkpointSequential(4)',
      () => {
        model.zeroGrad();
        nn.functional.mseLoss(nn.checkpointSequential(model, 4, x), y).backward();
      },
    ],
  ];
  const peaks = [];
  for (const [name, fn] of rows) {
    const peak = await peakOf(fn);
    peaks.push(peak);
    console.log(
      `${name.padEnd(40)} peak ${mib(peak).padStart(7)} MiB = ${(peak / (4 * 2 ** 20)).toFixed(1)} activations`,
    );
  }
  console.log(
    `${''.padEnd(40)} checkpointSequential(4) peak ${(100 * (1 - peaks[3] / peaks[2])).toFixed(0)}% below plain`,
  );

  console.log('\n## checkpointByBudget: ResNet-18, 3×32×32, batch 32, budget = half the plain step peak');
  ng.manualSeed(0);
  const chain = resnetChain(ng.models.resnet18({ numClasses: 10 }));
  const images = ng.randn([32, 3, 32, 32]);
  const labels = ng.tensor(
    Array.from({ length: 32 }, (_, i) => i % 10),
    { dtype: 'int32' },
  );
  const opt = new ng.optim.SGD(chain.parameters(), { lr: 0.01, momentum: 0.9 });
  const step = (forward) => () => {
    opt.zeroGrad();
    ng.crossEntropy(forward(), labels).backward();
    opt.step();
  };
  step(() => chain.forward(images))(); // warm-up: measure() reports the largest peak of its repeats
  const plain = await measure(
    'plain',
    step(() => chain.forward(images)),
    5,
  );
  const budgeted = nn.checkpointByBudget(chain, { maxBytes: plain.peakBytes / 2 });
  step(() => budgeted.forward(images))(); // plans, then warms up
  const fitted = await measure(
    'checkpointByBudget(50%)',
    step(() => budgeted.forward(images)),
    5,
  );
  const plan = budgeted.plan;
  console.log(
    `${''.padEnd(40)} plan ${plan.segments.map((s) => `${s.start}-${s.end}${s.checkpointed ? '(recomputed)' : ''}`).join(' ')}; ` +
      `estimated peak ${mib(plan.peakBytes)} MiB; measured peak / budget ${(fitted.peakBytes / (plain.peakBytes / 2)).toFixed(2)}; ` +
      `step time ${(fitted.ms / plain.ms).toFixed(2)}× plain`,
  );
}

export async function memorySuite() {
  await issueRows();
  bufferRow();
  await smallTensorLoop();
  await tidyLoop(Number(process.env.TIDY_CALLS ?? 100_000));
  if (process.env.MEMORY_TABLE_ONLY) return; // the issue's rows only, without the per-mode suites
  await suite(
    'ResNet-18, 3×32×32, batch 32',
    () => ng.models.resnet18({ numClasses: 10 }),
    [32, 3, 32, 32],
    10,
    resnetChain,
    32 * 64 * 16 * 16 * 4,
  );
  const mlpLayers = () => {
    const layers = [new nn.Flatten(), new nn.Linear(784, 1024), new nn.ReLU()];
    for (let i = 0; i < 7; i++) layers.push(new nn.Linear(1024, 1024), new nn.ReLU());
    layers.push(new nn.Linear(1024, 10));
    return new nn.Sequential(...layers);
  };
  await suite('MLP 784-1024×8-10, batch 256', mlpLayers, [256, 1, 28, 28], 10, (m) => m, 256 * 1024 * 4);
}
