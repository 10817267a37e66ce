#!/usr/bin/env node
// `node bench/serve.mjs [--seconds 3]`: LeNet-5 behind a node:http server, its forwards run by
// ng.serve.createPool (2 workers × 1 thread, dynamic batching; request bodies copied to the
// workers), on the server's main thread, or by ng.runAsync (the main thread records, the addon's
// replay thread computes).
// Clients in a child process POST batches of 1 (16 at a time) or 256 images (4 at a time);
// the figures are requests per second and client latency p50/p99, and the server's /health
// latency p99 and event-loop delay p99 (perf_hooks.monitorEventLoopDelay) while loaded, and the
// server process's CPU time (all its threads) per request.
// `--servers pool,main,async,ort` and `--batches 1,256` pick rows.
// With onnxruntime-node installed (a devDependency), the same LeNet-5 exported by ng.onnx.exportModel
// is served by its InferenceSession as a third row. Needs dist/.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const IMAGE = 784;
const percentile = (values, p) =>
  [...values].sort((a, b) => a - b)[Math.max(0, Math.ceil(values.length * p) - 1)] ?? NaN;

function readBody(message) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    message.on('data', (chunk) => chunks.push(chunk));
    message.on('end', () => resolve(Buffer.concat(chunks)));
    message.on('error', reject);
  });
}

/** The client side, in its own process: `concurrency` loops POSTing `batch` images for `seconds`. */
async function client(port, seconds, concurrency, batch) {
  const payload = Buffer.from(
    Float32Array.from({ length: batch * IMAGE }, (_, i) => ((i * 7919) % 1000) / 1000).buffer,
  );
  const post = () =>
    new Promise((resolve, reject) => {
      const req = request({ port, path: '/classify', method: 'POST' }, (res) => readBody(res).then(resolve, reject));
      req.on('error', reject);
      req.end(payload);
    });
  const latencies = [];
  const end = performance.now() + seconds * 1000;
  const loop = async () => {
    while (performance.now() < end) {
      const start = performance.now();
      await post();
      latencies.push(performance.now() - start);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  console.log(
    JSON.stringify({ count: latencies.length, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) }),
  );
}

/**
 * A server whose /classify answers the labels `classify(data, rows)` computes; /health answers ok.
 * Request bodies land in buffers reused across requests of one size, as a service keeps them: a new
 * 800 KB array per batch-256 request made the main thread run a full collection every 100-200 ms.
 */
function server(classify) {
  const free = new Map();
  const take = (length) => free.get(length)?.pop() ?? new Float32Array(length);
  const giveBack = (data) => {
    if (!free.has(data.length)) free.set(data.length, []);
    free.get(data.length).push(data);
  };
  return createServer((req, res) => {
    if (req.url === '/health') return res.end('ok');
    const data = take(Number(req.headers['content-length']) / 4);
    const bytes = new Uint8Array(data.buffer);
    let received = 0;
    req.on('data', (chunk) => {
      bytes.set(chunk, received);
      received += chunk.length;
    });
    req.on('end', () => {
      Promise.resolve(classify(data, data.length / IMAGE)).then(
        (labels) => {
          giveBack(data);
          res.end(JSON.stringify(labels));
        },
        (error) => {
          res.statusCode = 500;
          res.end(String(error));
        },
      );
    });
  });
}

/** Loads the server from a child process; returns the client's figures and the server's health and event-loop p99. */
async function measure(classify, seconds, concurrency, batch) {
  const http = server(classify);
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address();
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const cpu = process.cpuUsage();
  const child = spawn(
    process.execPath,
    [fileURLToPath(import.meta.url), '--client', port, seconds, concurrency, batch],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  let done = false;
  void exited.then(() => (done = true));
  const health = [];
  while (!done) {
    const start = performance.now();
    await new Promise((resolve) => request({ port, path: '/health' }, (res) => readBody(res).then(resolve)).end());
    health.push(performance.now() - start);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  delay.disable();
  const { user, system } = process.cpuUsage(cpu);
  http.close();
  const figures = JSON.parse(out);
  return {
    ...figures,
    cpu: (user + system) / figures.count,
    rate: figures.count / seconds,
    health: percentile(health, 0.99),
    loop: delay.percentile(99) / 1e6,
  };
}

// ORT gets the pool's two cores as intra-op threads.
async function onnxRuntime(path) {
  let ort;
  try {
    ort = await import('onnxruntime-node');
  } catch {
    return { note: 'onnxruntime-node not installed: no ONNX Runtime row' };
  }
  const session = await ort.InferenceSession.create(path, { intraOpNumThreads: 2, interOpNumThreads: 1 });
  const [input] = session.inputNames;
  const [output] = session.outputNames;
  return {
    classify: async (data, rows) => {
      const result = await session.run({ [input]: new ort.Tensor('float32', data, [rows, 1, 28, 28]) });
      const logits = result[output].data;
      const classes = logits.length / rows;
      return Array.from({ length: rows }, (_, r) => {
        let best = 0;
        for (let c = 1; c < classes; c++) if (logits[r * classes + c] > logits[r * classes + best]) best = c;
        return best;
      });
    },
  };
}

async function main() {
  const ng = await import('../dist/index.js');
  const option = (name, fallback) => {
    const at = process.argv.indexOf(name);
    return at > 0 ? process.argv[at + 1] : fallback;
  };
  const seconds = Number(option('--seconds', 3));
  const only = option('--servers', 'pool,main,async,ort').split(',');
  const batches = option('--batches', '1,256').split(',').map(Number);
  const dir = mkdtempSync(join(tmpdir(), 'nodegrad-bench-serve-'));
  const weights = join(dir, 'lenet5.safetensors');
  ng.manualSeed(0);
  const model = ng.models.lenet5().eval();
  ng.save(model.stateDict(), weights);
  const pool = await ng.serve.createPool({
    model: 'lenet5',
    weights,
    workers: 2,
    threadsPerWorker: 1,
    maxBatch: 256,
    ...(process.env.NG_DELAY ? { maxDelayMs: Number(process.env.NG_DELAY) } : {}),
  });
  const labels = (logits) => [...logits.argmax(1).data()];
  const servers = [
    ['ng.serve pool (2×1)', 'pool', async (data, rows) => labels(await pool.run({ data, shape: [rows, 1, 28, 28] }))],
    [
      'main thread',
      'main',
      (data, rows) => labels(ng.inferenceMode(() => model.forward(ng.tensor(data, { shape: [rows, 1, 28, 28] })))),
    ],
    [
      'ng.runAsync',
      'async',
      async (data, rows) => labels(await model.forwardAsync(ng.tensor(data, { shape: [rows, 1, 28, 28] }))),
    ],
  ];
  // The same weights, exported with ng.onnx and served by ONNX Runtime's CPU provider.
  const onnxPath = join(dir, 'lenet5.onnx');
  ng.onnx.exportModel(model, ng.randn([1, 1, 28, 28]), onnxPath, { dynamicBatch: true });
  const ort = await onnxRuntime(onnxPath);
  if (ort.classify) {
    const probe = ng.randn([64, 1, 28, 28]);
    const [ours, theirs] = [await servers[1][2](probe.data(), 64), await ort.classify(probe.data(), 64)];
    const agree = ours.filter((label, i) => label === theirs[i]).length;
    console.log(`onnxruntime-node (2 threads) agrees with nodegrad on ${agree}/64 labels`);
    servers.push(['onnxruntime-node', 'ort', ort.classify]);
  }

  console.log(`LeNet-5 over HTTP, ${seconds} s per row; ms (lower is better), req/s (higher is better)`);
  console.log(
    'server               batch  clients    req/s   img/s   p50 ms   p99 ms  /health p99  loop p99  cpu µs/req',
  );
  for (const [batch, concurrency] of [
    [1, 16],
    [256, 4],
  ].filter(([b]) => batches.includes(b))) {
    for (const [name, key, classify] of servers) {
      if (!only.includes(key)) continue;
      const r = await measure(classify, seconds, concurrency, batch);
      console.log(
        `${name.padEnd(20)} ${String(batch).padStart(5)} ${String(concurrency).padStart(8)} ${r.rate.toFixed(0).padStart(8)} ${(r.rate * batch).toFixed(0).padStart(7)} ${r.p50.toFixed(1).padStart(8)} ${r.p99.toFixed(1).padStart(8)} ${r.health.toFixed(1).padStart(12)} ${r.loop.toFixed(1).padStart(9)} ${r.cpu.toFixed(0).padStart(11)}`,
      );
    }
  }
  const stats = pool.stats();
  console.log(`pool: ${stats.requests} requests in ${stats.batches} forwards (dynamic batching)`);
  if (ort.note) console.log(ort.note);
  await pool.close();
  rmSync(dir, { recursive: true, force: true });
}

if (process.argv[2] === '--client') await client(...process.argv.slice(3, 7).map(Number));
else await main();
