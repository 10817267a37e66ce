// `npm run bench -- cnn` (or `node bench/cnn.mjs`): deep CNNs beside PyTorch (bench/cnn_peer.py,
// torchvision's models written out) in the same run, rounds interleaved, each side's best round:
// training img/s of the zoo's ResNet-18/50, VGG-11-BN, GoogLeNet and AlexNet; ResNet inference at
// 224×224 (batch 1 latency, batch 32 throughput); ResNet-18's convolutions shape by shape through
// the backend (forward, input grad, weight grad) and its batch norms; the public API's `a.matmul(b)`
// beside OpenBLAS. Tables print as markdown, ratios nodegrad / PyTorch (> 1: nodegrad faster).
// Options: --quick (or NODEGRAD_BENCH_QUICK=1: tiny batches, one round, a smoke test),
// --no-peers, --models=resnet18,alexnet, --parts=train,infer,layers,bn,gemm, --rounds=N.
import { fileURLToPath } from 'node:url';
import * as ng from '../dist/index.js';
import { hasTorch, interleaved, openblasGemm, torchScript } from './peers.mjs';
import { timeCalls } from './timing.mjs';

/** Training workloads: the zoo model, its square input size and batch (10 classes). */
export const TRAIN = [
  { model: 'resnet18', size: 32, batch: 32 },
  { model: 'resnet50', size: 64, batch: 16 },
  { model: 'vgg11_bn', size: 32, batch: 32 },
  { model: 'googlenet', size: 64, batch: 16 },
  { model: 'alexnet', size: 64, batch: 32 },
];
/** Inference workloads at 224×224, 1000 classes, batch 1 (latency) and 32 (throughput). */
export const INFER = [
  { model: 'resnet18', size: 224, batches: [1, 32] },
  { model: 'resnet50', size: 224, batches: [1, 32] },
];
export const GEMM_SIZES = [256, 1024, 2048];
const PARTS = ['train', 'infer', 'layers', 'bn', 'gemm'];

/** A zoo model by the peer's name (vgg11_bn: vgg11 with batch norm). */
export function makeModel(name, numClasses) {
  if (name === 'vgg11_bn') return ng.models.vgg11({ numClasses, batchNorm: true });
  return ng.models[name]({ numClasses });
}

const count = (model) => model.parameters().reduce((n, p) => n + p.numel, 0);
const fmt = (v, digits = 1) => (v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits));
const ratio = (mine, peer) => (peer ? `${(mine / peer).toFixed(2)}×` : '—');
const table = (head) => console.log(`| ${head.join(' | ')} |\n|${head.map(() => '---').join('|')}|`);
const row = (cells) => console.log(`| ${cells.join(' | ')} |`);

function labels(batch, classes) {
  return ng.tensor(
    Array.from({ length: batch }, (_, i) => i % classes),
    { dtype: 'int32' },
  );
}

/** Distinct conv and batch-norm input shapes of ResNet-18 at [3, size, size], with how often each occurs. */
export function resnet18Shapes(size, batch) {
  const model = ng.models.resnet18({ numClasses: 10 });
  const convs = new Map();
  const bns = new Map();
  const add = (map, key, spec) => {
    const seen = map.get(key);
    if (seen) seen.count++;
    else map.set(key, { key, ...spec, count: 1 });
  };
  const handles = [];
  for (const m of model.modules()) {
    if (m instanceof ng.nn.Conv2d) {
      handles.push(
        m.registerForwardHook((_m, [x]) => {
          const [, c, h, w] = x.shape;
          const k = m.kernelSize[0];
          const s = m.options.stride ?? 1;
          const p = m.options.padding ?? 0;
          add(convs, `${c}→${m.outChannels} ${h}×${w} k${k} s${s} p${p}`, {
            n: batch,
            c,
            h,
            w,
            oc: m.outChannels,
            k,
            s,
            p,
          });
        }),
      );
    } else if (m instanceof ng.nn.BatchNorm2d) {
      handles.push(
        m.registerForwardHook((_m, [x]) => {
          const [, c, h, w] = x.shape;
          add(bns, `bn ${c}×${h}×${w}`, { n: batch, c, h, w });
        }),
      );
    }
  }
  model.eval();
  ng.noGrad(() => model.forward(ng.zeros([1, 3, size, size])));
  for (const h of handles) h.remove();
  return { convs: [...convs.values()], bns: [...bns.values()] };
}

function trainStep(name, batch, size) {
  ng.manualSeed(0);
  const model = makeModel(name, 10);
  model.train();
  const opt = new ng.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const x = ng.randn([batch, 3, size, size]);
  const y = labels(batch, 10);
  const step = () => {
    opt.zeroGrad();
    ng.nn.functional.crossEntropy(model.forward(x), y).backward();
    opt.step();
  };
  return { step, params: count(model) };
}

/** Seconds per call, and minor page faults per call over every call timeCalls makes after a first warm-up call. */
function timeWithFaults(fn) {
  fn();
  let calls = 0;
  const faults0 = process.resourceUsage().minorPageFault;
  const { seconds } = timeCalls(() => {
    calls++;
    fn();
  });
  return { seconds, faults: (process.resourceUsage().minorPageFault - faults0) / calls };
}

function convLayer(s, be) {
  const p = {
    batch: s.n,
    inChannels: s.c,
    inH: s.h,
    inW: s.w,
    outChannels: s.oc,
    kernelH: s.k,
    kernelW: s.k,
    strideH: s.s,
    strideW: s.s,
    padH: s.p,
    padW: s.p,
    dilationH: 1,
    dilationW: 1,
    groups: 1,
  };
  const oh = Math.floor((s.h + 2 * s.p - s.k) / s.s) + 1;
  const ow = Math.floor((s.w + 2 * s.p - s.k) / s.s) + 1;
  const x = ng.randn([s.n * s.c * s.h * s.w]).data();
  const w = ng.randn([s.oc * s.c * s.k * s.k]).data();
  const out = new Float32Array(s.n * s.oc * oh * ow);
  const g = ng.randn([out.length]).data();
  const gx = new Float32Array(x.length);
  const gw = new Float32Array(w.length);
  const flops = 2 * s.n * s.oc * s.c * s.k * s.k * oh * ow;
  return {
    flops,
    forward: () => be.conv2dForward(p, x, w, null, out, false),
    'input-grad': () => be.conv2dBackwardInput(p, g, w, gx),
    'weight-grad': () => be.conv2dBackwardWeight(p, x, g, gw, null),
  };
}

function bnStep(s) {
  const layer = new ng.nn.BatchNorm2d(s.c);
  layer.train();
  const x = ng.randn([s.n, s.c, s.h, s.w], { requiresGrad: true });
  const g = ng.randn([s.n, s.c, s.h, s.w]);
  const inputs = [x, layer.weight, layer.bias];
  return () => ng.autograd.grad(layer.forward(x), inputs, { gradOutputs: g });
}

/** Parses the suite's options from argv-style flags (and NODEGRAD_BENCH_QUICK). */
export function cnnOptions(argv) {
  const value = (flag) => argv.find((a) => a.startsWith(`--${flag}=`))?.slice(flag.length + 3);
  const quick = argv.includes('--quick') || process.env.NODEGRAD_BENCH_QUICK === '1';
  const models = value('models')?.split(',');
  return {
    quick,
    usePeers: !argv.includes('--no-peers'),
    models: (name) => !models || models.includes(name),
    parts: new Set(value('parts')?.split(',') ?? PARTS),
    rounds: Number(value('rounds') ?? (quick ? 1 : 2)),
    threads: Number(process.env.NODEGRAD_NUM_THREADS ?? 2),
  };
}

function trainPart(ctx, trains) {
  console.log(
    '\n### Training: SGD momentum 0.9, cross-entropy, 10 classes (images/s; faults: minor page faults per step)\n',
  );
  table(['model', 'input', 'batch', 'params nodegrad / PyTorch', 'nodegrad', 'PyTorch', 'ratio', 'faults/step']);
  for (const t of trains) {
    const batch = ctx.quick ? 2 : t.batch;
    const spec = { model: t.model, numClasses: 10, batch, size: t.size };
    const { step, params } = trainStep(t.model, batch, t.size);
    let faults = NaN;
    const { peer, mine } = interleaved(
      ctx.rounds,
      (r) => ctx.peer('train', spec, r),
      (once) => {
        const m = timeWithFaults(step);
        faults = m.faults;
        once.set('train', batch / m.seconds);
      },
    );
    const [a, b] = [mine.get('train'), peer.get('train')];
    row([
      t.model,
      `3×${t.size}×${t.size}`,
      batch,
      ctx.counts(t.model, 10, params),
      fmt(a),
      fmt(b),
      ratio(a, b),
      fmt(faults, 0),
    ]);
  }
}

function inferPart(ctx, infers) {
  console.log('\n### Inference: eval mode, 1000 classes; nodegrad inferenceMode, PyTorch no_grad\n');
  table(['model', 'input', 'batch', 'params nodegrad / PyTorch', 'nodegrad', 'PyTorch', 'ratio', 'unit']);
  for (const t of infers) {
    ng.manualSeed(0);
    const model = makeModel(t.model, 1000);
    model.eval();
    const size = ctx.quick ? 64 : t.size;
    for (const batch of ctx.quick ? [1, 2] : t.batches) {
      const x = ng.randn([batch, 3, size, size]);
      const spec = { model: t.model, numClasses: 1000, batch, size };
      const { peer, mine } = interleaved(
        ctx.rounds,
        (r) => ctx.peer('infer', spec, r),
        (once) => once.set('infer', batch / timeCalls(() => ng.inferenceMode(() => model.forward(x))).seconds),
      );
      const [a, b] = [mine.get('infer'), peer.get('infer')];
      // Batch 1 shows latency (ms per image); larger batches throughput. The ratio is the same either way.
      const cells =
        batch === 1
          ? [fmt(1e3 / a, 2), b ? fmt(1e3 / b, 2) : '—', ratio(a, b), 'ms']
          : [fmt(a), fmt(b), ratio(a, b), 'images/s'];
      row([t.model, `3×${size}×${size}`, batch, ctx.counts(t.model, 1000, count(model)), ...cells]);
    }
  }
}

const CONV_PARTS = ['forward', 'input-grad', 'weight-grad'];

function layersPart(ctx, convs) {
  console.log(
    `\n### ResNet-18 convolutions at 3×32×32, batch ${ctx.layerBatch} (GFLOP/s; nodegrad through ng.backend, ` +
      'PyTorch F.conv2d and autograd.grad per input)\n',
  );
  const pair = (what) => [`${what} ng / pt`, 'ratio'];
  table([
    'conv (in→out, input H×W, kernel, stride, pad)',
    'count',
    ...pair('forward'),
    ...pair('input grad'),
    ...pair('weight grad'),
  ]);
  const be = ng.backend.getBackend();
  const layers = convs.map((s) => convLayer(s, be));
  const { peer, mine } = interleaved(
    ctx.rounds,
    (r) => ctx.peer('layers', { shapes: convs }, r),
    (once) => {
      convs.forEach((s, i) => {
        for (const part of CONV_PARTS)
          once.set(`${s.key} ${part}`, layers[i].flops / timeCalls(layers[i][part]).seconds / 1e9);
      });
    },
  );
  for (const s of convs) {
    const cells = CONV_PARTS.flatMap((part) => {
      const [a, b] = [mine.get(`${s.key} ${part}`), peer.get(`${s.key} ${part}`)];
      return [`${fmt(a)} / ${fmt(b)}`, ratio(a, b)];
    });
    row([s.key, s.count, ...cells]);
  }
}

function bnPart(ctx, bns) {
  console.log(`\n### ResNet-18 BatchNorm2d, training forward + backward, batch ${ctx.layerBatch} (µs per call)\n`);
  table(['input C×H×W', 'count', 'nodegrad', 'PyTorch', 'ratio']);
  const steps = bns.map(bnStep);
  const { peer, mine } = interleaved(
    ctx.rounds,
    (r) => ctx.peer('bn', { shapes: bns }, r),
    (once) => bns.forEach((s, i) => once.set(s.key, 1 / timeCalls(steps[i]).seconds)),
  );
  for (const s of bns) {
    const [a, b] = [mine.get(s.key), peer.get(s.key)];
    row([s.key.slice(3), s.count, fmt(1e6 / a), b ? fmt(1e6 / b) : '—', ratio(a, b)]);
  }
}

function gemmPart(ctx) {
  const sizes = ctx.quick ? [256] : GEMM_SIZES;
  console.log(
    `\n### GEMM through the public API: a.matmul(b), float32, new output per call, no dispose (${ctx.threads} threads)\n`,
  );
  table(['n', 'nodegrad GFLOP/s', 'minor faults/call', 'OpenBLAS GFLOP/s', 'ratio']);
  const operands = new Map(sizes.map((n) => [n, [ng.randn([n, n]), ng.randn([n, n])]]));
  const faults = new Map();
  const { peer, mine } = interleaved(
    ctx.rounds,
    () => (ctx.usePeers ? openblasGemm(sizes, ctx.threads) : new Map()),
    (once) => {
      for (const [n, [a, b]] of operands) {
        const m = timeWithFaults(() => a.matmul(b));
        faults.set(n, m.faults);
        once.set(n, (2 * n ** 3) / m.seconds / 1e9);
      }
    },
  );
  for (const n of sizes)
    row([n, fmt(mine.get(n)), fmt(faults.get(n)), fmt(peer.get(n)), ratio(mine.get(n), peer.get(n))]);
}

/** Runs the suite (options from cnnOptions): prints its header and markdown tables. */
export function cnnSuite(options) {
  const { quick, usePeers, models, parts, rounds, threads } = options;
  const before = ng.getNumThreads();
  ng.setNumThreads(threads);
  const peer = (job, spec, r) =>
    usePeers ? torchScript('cnn_peer.py', [job, JSON.stringify(spec)], r, threads) : new Map();
  try {
    const peerNote = usePeers ? `peers in the same run, ${rounds} interleaved round(s), each side's best` : 'no peers';
    const quickNote = quick ? '; QUICK smoke mode: tiny batches, 64×64 inference inputs, not figures' : '';
    console.log(`\n## Deep CNNs (${threads} thread${threads === 1 ? '' : 's'}; ${peerNote}${quickNote})`);
    const trains = parts.has('train') ? TRAIN.filter((t) => models(t.model)) : [];
    const infers = parts.has('infer') ? INFER.filter((t) => models(t.model)) : [];
    const specs = [
      ...trains.map((t) => ({ model: t.model, numClasses: 10 })),
      ...infers.map((t) => ({ model: t.model, numClasses: 1000 })),
    ];
    const peerCounts = specs.length > 0 ? peer('params', { models: specs }, 1) : new Map();
    if (peerCounts.has('torch')) console.log(`PyTorch ${peerCounts.get('torch')} (bench/cnn_peer.py)`);
    else if (usePeers && !hasTorch()) console.log('PyTorch peer: /usr/bin/python3 not found');
    const counts = (model, classes, mine) => {
      const theirs = peerCounts.get(`${model} ${classes}`);
      const flag = theirs !== undefined && theirs !== mine ? ' MISMATCH' : '';
      return `${mine.toLocaleString('en-US')} / ${theirs?.toLocaleString('en-US') ?? '—'}${flag}`;
    };
    const layerBatch = quick ? 2 : 32;
    const ctx = { quick, usePeers, rounds, threads, peer, counts, layerBatch };
    if (trains.length > 0) trainPart(ctx, trains);
    if (infers.length > 0) inferPart(ctx, infers);
    if (parts.has('layers') || parts.has('bn')) {
      const { convs, bns } = resnet18Shapes(32, layerBatch);
      if (parts.has('layers')) layersPart(ctx, quick ? convs.slice(0, 2) : convs);
      if (parts.has('bn')) bnPart(ctx, quick ? bns.slice(0, 1) : bns);
    }
    if (parts.has('gemm')) gemmPart(ctx);
  } finally {
    ng.setNumThreads(before);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) cnnSuite(cnnOptions(process.argv.slice(2)));
