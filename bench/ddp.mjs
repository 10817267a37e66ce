// `npm run bench -- ddp`: DistributedDataParallel on this machine and a model on paper of larger runs.
// 1. ResNet-18 (3×32×32, batch 16 per rank), 2 ranks started with `nodegrad launch`: step time (best of
//    3 alternating rounds, each the median of 3 steps)
//    (forward, backward, allreduce, SGD step) with the bucket allreduces overlapping backward and
//    without (all after backward), beside the same step with no communication.
// 2. Single-process compute time per step of ResNet-50 (3×224×224, batch 8) and the GPT of the
//    `train --model gpt` defaults (batch 32 × 16 tokens), then the ring-allreduce model of scaling
//    them to 8, 32 and 64 nodes at 10 and 100 Gb/s.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ng from '../dist/index.js';

const { nn } = ng;
const here = dirname(fileURLToPath(import.meta.url));

function timeSteps(step, warmup, reps) {
  for (let i = 0; i < warmup; i++) step();
  const times = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    step();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

function sgdStep(model, forward, x, y) {
  const opt = new ng.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  return () =>
    ng.tidy(() => {
      opt.zeroGrad();
      nn.functional.crossEntropy(forward(x), y).backward();
      opt.step();
    });
}

/** One rank of part 1 (run under `nodegrad launch`); rank 0 prints a JSON line of figures. */
async function worker() {
  await ng.distributed.initProcessGroup();
  const rank = ng.distributed.getRank();
  ng.manualSeed(rank);
  const x = ng.randn([16, 3, 32, 32]);
  const y = ng.randint(0, 10, [16]);
  const local = ng.models.resnet18({ numClasses: 10 });
  const overlapped = new nn.parallel.DistributedDataParallel(ng.models.resnet18({ numClasses: 10 }));
  const after = new nn.parallel.DistributedDataParallel(ng.models.resnet18({ numClasses: 10 }), { overlap: false });
  const steps = {
    local: sgdStep(local, (t) => local.forward(t), x, y),
    overlap: sgdStep(overlapped, (t) => overlapped.forward(t), x, y),
    after: sgdStep(after, (t) => after.forward(t), x, y),
  };
  // Rounds alternate the three, so each sees the same stretches of a shared machine; best round kept.
  const figures = { buckets: overlapped.bucketSizes.length };
  for (let round = 0; round < 3; round++) {
    for (const [name, step] of Object.entries(steps)) {
      ng.distributed.barrier();
      const ms = timeSteps(step, 1, 3);
      figures[name] = Math.min(figures[name] ?? Infinity, ms);
    }
  }
  if (rank === 0) console.log(JSON.stringify(figures));
  ng.distributed.destroyProcessGroup();
}

function paramBytes(model) {
  return model.parameters().reduce((n, p) => n + p.numel * 4, 0);
}

/** Single-process forward and whole-step times (ms) of a model, and its gradient bytes. */
function compute(name, model, x, y, loss, run = (t) => model.forward(t)) {
  const forward = timeSteps(() => ng.tidy(() => ng.noGrad(() => run(x))), 1, 3);
  const opt = new ng.optim.SGD(model.parameters(), { lr: 0.01 });
  const step = timeSteps(
    () =>
      ng.tidy(() => {
        opt.zeroGrad();
        loss(run(x), y).backward();
        opt.step();
      }),
    1,
    3,
  );
  return { name, forward, step, backward: Math.max(0, step - forward), bytes: paramBytes(model) };
}

function scalingTable(m) {
  console.log(
    `\n${m.name}: ${(m.bytes / 1e6).toFixed(1)} MB of float32 gradients; step ${m.step.toFixed(0)} ms ` +
      `(forward ${m.forward.toFixed(0)}, backward + update ${m.backward.toFixed(0)}) measured in one process`,
  );
  console.log('| nodes | link | allreduce (ms) | step, overlapped (ms) | efficiency | bound by |');
  console.log('|---:|---:|---:|---:|---:|---|');
  for (const gbps of [10, 100]) {
    for (const n of [8, 32, 64]) {
      const comm = ((((2 * (n - 1)) / n) * (m.bytes * 8)) / (gbps * 1e9)) * 1000;
      const step = m.forward + Math.max(m.backward, comm);
      const bound = comm > m.backward ? 'network' : 'compute';
      console.log(
        `| ${n} | ${gbps} Gb/s | ${comm.toFixed(1)} | ${step.toFixed(0)} | ${((100 * m.step) / step).toFixed(0)}% | ${bound} |`,
      );
    }
  }
}

export async function ddpSuite() {
  console.log('\n## DistributedDataParallel: ResNet-18, 3×32×32, batch 16 per rank, 2 ranks (ms per step)');
  const r = spawnSync(
    process.execPath,
    [join(here, '..', 'dist', 'cli.js'), 'launch', '--nproc-per-node', '2', fileURLToPath(import.meta.url)],
    {
      encoding: 'utf8',
      env: { ...process.env, NODEGRAD_DDP_BENCH_WORKER: '1' },
    },
  );
  if (r.status !== 0) throw new Error(`ddp bench: launch failed: ${r.stderr}`);
  const f = JSON.parse(r.stdout.trim().split('\n').at(-1));
  console.log(`no communication     ${f.local.toFixed(1)} ms`);
  console.log(
    `DDP, overlapped      ${f.overlap.toFixed(1)} ms  (${(f.overlap / f.local).toFixed(2)}× the step without communication)`,
  );
  console.log(
    `DDP, after backward  ${f.after.toFixed(1)} ms  (${(f.after / f.local).toFixed(2)}×); overlap saves ${(f.after - f.overlap).toFixed(1)} ms; ${f.buckets} buckets`,
  );

  console.log('\n## Scaling on paper: ring allreduce 2(N−1)/N · bytes / bandwidth, overlapped up to the backward time');
  ng.manualSeed(0);
  const xe = nn.functional.crossEntropy;
  scalingTable(
    compute(
      'ResNet-50 (3×224×224, batch 8)',
      ng.models.resnet50({ numClasses: 1000 }),
      ng.randn([8, 3, 224, 224]),
      ng.randint(0, 1000, [8]),
      xe,
    ),
  );
  const gpt = ng.models.gpt({ vocabSize: 28, blockSize: 16 });
  const tokens = ng.randint(0, 28, [32, 16]);
  scalingTable(
    compute(
      'GPT (ng.models.gpt defaults: 4 layers, 4 heads, width 128; batch 32 × 16 tokens)',
      gpt,
      ng.randint(0, 28, [32, 16]),
      tokens,
      (out) => out.loss,
      (t) => gpt.forward(t, tokens),
    ),
  );
}

if (process.env.NODEGRAD_DDP_BENCH_WORKER === '1') await worker();
else if (process.argv[1] === fileURLToPath(import.meta.url)) await ddpSuite();
