// Runs the native addon from several worker threads at once; prints one JSON line with what each
// scenario saw. Usage: node native-workers.mjs <addon path> resize|terminate
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const n = 1 << 18;
const ADD = 0,
  MUL = 2,
  SUM = 0;

// a + b, times 2, summed over axis 0 of [n / 512, 512]: every column sums to 2 * (1 + 2) * rows.
function compute(addon) {
  const a = new Float32Array(n).fill(1),
    b = new Float32Array(n).fill(2),
    t = new Float32Array(n),
    two = new Float32Array([2]);
  addon.binary(ADD, [n], { data: a, offset: 0, strides: [1] }, { data: b, offset: 0, strides: [1] }, t);
  addon.binary(MUL, [n], { data: t, offset: 0, strides: [1] }, { data: two, offset: 0, strides: [0] }, t);
  const out = new Float32Array(512);
  addon.reduce(SUM, t, 1, n / 512, 512, out, null);
  return out.every((v) => v === 6 * (n / 512));
}

if (!isMainThread) {
  const addon = require(workerData.addon);
  let correct = true;
  for (let i = 0; workerData.mode === 'terminate' || i < 200; i++) {
    if (workerData.mode === 'resize') addon.setNumThreads(1 + ((i + workerData.id) % 4));
    correct = compute(addon) && correct;
    if (i === 0) parentPort.postMessage('started');
  }
  parentPort.postMessage(correct ? 'correct' : 'wrong');
} else {
  const [addonPath, mode] = process.argv.slice(2);
  const addon = require(addonPath);
  addon.setNumThreads(4);
  const run = (count) =>
    Promise.all(
      Array.from(
        { length: count },
        (_, id) =>
          new Promise((resolve, reject) => {
            const worker = new Worker(new URL(import.meta.url), { workerData: { addon: addonPath, mode, id } });
            const messages = [];
            worker.on('message', (m) => {
              messages.push(m);
              if (mode === 'terminate' && m === 'started') setTimeout(() => worker.terminate(), 20 + 10 * id);
            });
            worker.on('error', reject);
            worker.on('exit', (code) => resolve({ code, messages }));
          }),
      ),
    );
  const rounds = [];
  for (let round = 0; round < (mode === 'terminate' ? 4 : 2); round++)
    rounds.push(await run(mode === 'terminate' ? 3 : 2));
  console.log(JSON.stringify({ rounds, mainCorrect: compute(addon), threads: addon.getNumThreads() }));
}
