#!/usr/bin/env node
// `npm run bench [-- suite ...] [--no-peers]`: nodegrad's kernels and training throughput on this
// machine, side by side with OpenBLAS and PyTorch when they are installed (never required).
// Each figure is the median of 5 timed repetitions after warm-up. Peer and nodegrad measurements
// alternate over several rounds, so both sides see the same stretches of a noisy shared machine;
// each side's figure is its best round. Ratios are nodegrad / peer.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ng from '../dist/index.js';
import { allreduceSuite } from './allreduce.mjs';
import { ddpSuite } from './ddp.mjs';
import { cnnOptions, cnnSuite } from './cnn.mjs';
import { lmSuite } from './lm.mjs';
import { memorySuite } from './memory.mjs';
import { interleaved, openblasGemm, printRow, torch as torchPeer, torchEnv } from './peers.mjs';
import { median, timeCalls } from './timing.mjs';
import { lenet5, mlp, sgd } from './nets.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const usePeers = !args.includes('--no-peers');
const suites = args.filter((a) => !a.startsWith('--'));
const wanted = (name) => suites.length === 0 || suites.includes(name);
const allThreads = ng.getNumThreads();
const rows = [];

function report(name, value, unit, peerName, peerValue) {
  rows.push({ name, value, unit, peerName, peerValue });
  printRow(name, value, unit, peerName, peerValue);
}

function withThreads(n, fn) {
  const before = ng.getNumThreads();
  ng.setNumThreads(n);
  try {
    return fn();
  } finally {
    ng.setNumThreads(before);
  }
}

// ---- peers ----
const openblas = (sizes, threads) => (usePeers ? openblasGemm(sizes, threads) : new Map());
const torch = (suite, round) => (usePeers ? torchPeer(suite, round, allThreads) : new Map());

// ---- suites ----
function gemmSuite() {
  console.log(`\n## GEMM float32, square n (GFLOP/s), ISA ${ng.backend.loadAddon().gemmIsa()}`);
  const sizes = [64, 128, 256, 512, 1024, 2048];
  const addon = ng.backend.loadAddon();
  const operands = new Map(
    sizes.map((n) => [n, [ng.randn([n, n]).data(), ng.randn([n, n]).data(), new Float32Array(n * n)]]),
  );
  for (const threads of [1, allThreads]) {
    const { peer, mine } = interleaved(
      5,
      () => openblas(sizes, threads),
      (once) => {
        for (const n of sizes) {
          const [a, b, c] = operands.get(n);
          const params = {
            transA: false,
            transB: false,
            m: n,
            n,
            k: n,
            alpha: 1,
            beta: 0,
            aOffset: 0,
            lda: n,
            bOffset: 0,
            ldb: n,
            cOffset: 0,
            ldc: n,
            batch: 1,
            strideA: 0,
            strideB: 0,
            strideC: 0,
          };
          const seconds = withThreads(threads, () => median(() => addon.gemm(params, a, b, c)));
          once.set(n, (2 * n ** 3) / seconds / 1e9);
        }
      },
    );
    for (const n of sizes) report(`sgemm n=${n} threads=${threads}`, mine.get(n), 'GFLOP/s', 'OpenBLAS', peer.get(n));
    if (threads === allThreads) break;
  }
}

function convSuite() {
  console.log(`\n## Convolution layers (GFLOP/s, ${allThreads} threads; backward = input + weight gradients)`);
  const be = ng.backend.getBackend();
  const layers = [
    ['conv lenet conv1 64x1x28x28 6@5x5', 64, 1, 28, 28, 6, 5, 2],
    ['conv lenet conv2 64x6x14x14 16@5x5', 64, 6, 14, 14, 16, 5, 0],
    ['conv resnet 32x64x56x56 64@3x3', 32, 64, 56, 56, 64, 3, 1],
  ];
  const { peer, mine } = interleaved(
    2,
    (r) => torch('conv', r),
    (once) => {
      for (const [name, n, c, h, w, oc, k, pad] of layers) {
        const p = {
          batch: n,
          inChannels: c,
          inH: h,
          inW: w,
          outChannels: oc,
          kernelH: k,
          kernelW: k,
          strideH: 1,
          strideW: 1,
          padH: pad,
          padW: pad,
          dilationH: 1,
          dilationW: 1,
          groups: 1,
        };
        const oh = h + 2 * pad - k + 1;
        const ow = w + 2 * pad - k + 1;
        const x = ng.randn([n * c * h * w]).data();
        const wt = ng.randn([oc * c * k * k]).data();
        const bias = new Float32Array(oc);
        const out = new Float32Array(n * oc * oh * ow);
        const gx = new Float32Array(x.length);
        const gw = new Float32Array(wt.length);
        const gb = new Float32Array(oc);
        const flops = 2 * n * oc * c * k * k * oh * ow;
        const fwd = median(() => be.conv2dForward(p, x, wt, bias, out, false));
        const bwd = median(() => {
          be.conv2dBackwardInput(p, out, wt, gx);
          be.conv2dBackwardWeight(p, x, out, gw, gb);
        });
        once.set(`${name} forward`, flops / fwd / 1e9);
        once.set(`${name} backward`, (2 * flops) / bwd / 1e9);
      }
    },
  );
  for (const [name, value] of mine) report(name, value, 'GFLOP/s', 'PyTorch', peer.get(name));
}

function trainSuite() {
  console.log(
    `\n## Training and inference throughput (images/s, ${allThreads} threads; SGD momentum 0.9, cross-entropy)`,
  );
  const faultsPerStep = new Map();
  const { peer, mine } = interleaved(
    2,
    (r) => torch('train', r),
    (once) => {
      for (const [name, make] of [
        ['lenet5', lenet5],
        ['mlp', mlp],
      ]) {
        for (const batch of [64, 128]) {
          ng.manualSeed(0);
          const net = make();
          const opt = sgd(net.parameters);
          const x = ng.randn([batch, 1, 28, 28]);
          const y = ng.tensor(
            Array.from({ length: batch }, (_, i) => i % 10),
            { dtype: 'int32' },
          );
          const step = () => {
            opt.zeroGrad();
            ng.crossEntropy(net.forward(x), y).backward();
            opt.step();
          };
          for (let i = 0; i < 20; i++) step();
          const faults0 = process.resourceUsage().minorPageFault;
          const { seconds, calls } = timeCalls(step);
          faultsPerStep.set(`train ${name} batch ${batch}`, (process.resourceUsage().minorPageFault - faults0) / calls);
          once.set(`train ${name} batch ${batch}`, batch / seconds);
        }
        ng.manualSeed(0);
        const net = make();
        const x = ng.randn([256, 1, 28, 28]);
        const seconds = median(() => ng.noGrad(() => net.forward(x)));
        once.set(`inference ${name} batch 256`, 256 / seconds);
      }
    },
  );
  for (const [name, value] of mine) {
    report(name, value, 'images/s', 'PyTorch', peer.get(name));
    if (faultsPerStep.has(name)) {
      console.log(
        `${''.padEnd(46)} ${faultsPerStep.get(name).toFixed(1).padStart(10)} minor page faults per step (timed steps)`,
      );
    }
  }
}

function mainJobSuite() {
  console.log(
    '\n## The main job: `npm start` (LeNet-5, embedded digits, batch 64, 3 epochs; seconds, lower is better)',
  );
  const out = mkdtempSync(join(tmpdir(), 'nodegrad-mainjob-'));
  const t0 = performance.now();
  const run = spawnSync(process.execPath, [join(here, '..', 'dist', 'cli.js'), 'train', '--out', out, '--json'], {
    encoding: 'utf8',
  });
  const wall = (performance.now() - t0) / 1000;
  if (run.status !== 0) {
    console.log(`nodegrad train failed: ${run.stderr}`);
    return;
  }
  const epochs = run.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((e) => e.event === 'epoch');
  const trainSeconds = epochs.reduce((a, e) => a + e.seconds, 0);
  let peer = null;
  if (usePeers && existsSync('/usr/bin/python3')) {
    const p = spawnSync('/usr/bin/python3', [join(here, 'main_job_peer.py')], {
      env: torchEnv(allThreads, 0),
      encoding: 'utf8',
    });
    if (p.status === 0) peer = JSON.parse(p.stdout.trim().split('\n').at(-1));
  }
  const line = (name, ours, theirs) =>
    console.log(
      `${name.padEnd(46)} ${ours.toFixed(2).padStart(10)} s         ` +
        (theirs ? `PyTorch ${theirs.toFixed(2)} s (nodegrad takes ${(ours / theirs).toFixed(2)}x)` : ''),
    );
  line('main job: 3 training epochs', trainSeconds, peer?.trainSeconds);
  line('main job: whole command (start-up, data, eval)', wall, peer?.wallSeconds);
  console.log(
    `${'test top-1 after 3 epochs'.padEnd(46)} ${(epochs.at(-1).top1 * 100).toFixed(2).padStart(10)} %         ` +
      (peer ? `PyTorch ${(peer.top1 * 100).toFixed(2)} %` : ''),
  );
}

console.log(`nodegrad bench — ${cpus()[0]?.model ?? 'cpu'}, ${allThreads} threads, node ${process.version}`);
if (wanted('gemm')) gemmSuite();
if (wanted('conv')) convSuite();
if (wanted('train')) trainSuite();
for (const suite of ['gpt', 'lstm', 'attention']) if (wanted(suite)) await lmSuite(suite, { usePeers });
if (wanted('mainjob')) mainJobSuite();
if (wanted('allreduce')) await allreduceSuite();
// The cnn suite (deep CNNs beside PyTorch, bench/cnn.mjs) takes many minutes: only when asked for.
if (suites.includes('cnn')) cnnSuite(cnnOptions(args));
// The memory suite takes minutes (1,000 steps per model for the leak check): only when asked for.
if (suites.includes('memory')) await memorySuite();
if (suites.includes('ddp')) await ddpSuite();
