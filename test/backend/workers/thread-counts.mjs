// Thread counts per calling thread, through the built library: the main thread and two Workers
// each set their own and read back every thread's count. Prints one JSON line of what each saw.
// Usage: node thread-counts.mjs <path of dist/index.js>
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';

const library = isMainThread ? process.argv[2] : workerData.library;
const ng = await import(pathToFileURL(library).href);

// A GEMM large enough to be split over the pool, checked against the reference backend.
function computesCorrectly() {
  ng.manualSeed(1);
  const a = ng.randn([96, 200]),
    b = ng.randn([200, 80]);
  const native = a.matmul(b).data();
  const previous = ng.backend.getBackend();
  ng.backend.setBackend(ng.backend.referenceBackend);
  const reference = a.matmul(b).data();
  ng.backend.setBackend(previous);
  return native.every((v, i) => Math.abs(v - reference[i]) < 1e-3);
}

if (!isMainThread) {
  parentPort.on('message', (command) => {
    if (command.set !== undefined) ng.setNumThreads(command.set);
    parentPort.postMessage({ threads: ng.getNumThreads(), correct: computesCorrectly() });
  });
} else {
  const workers = [0, 1].map(() => new Worker(new URL(import.meta.url), { workerData: { library } }));
  const ask = (worker, command) =>
    new Promise((resolve) => {
      worker.once('message', resolve);
      worker.postMessage(command);
    });
  ng.setNumThreads(3);
  const seen = {};
  seen.defaults = [await ask(workers[0], {}), await ask(workers[1], {})].map((r) => r.threads);
  seen.firstSetsTwo = (await ask(workers[0], { set: 2 })).threads;
  seen.secondAfterFirst = (await ask(workers[1], {})).threads;
  seen.secondSetsFour = (await ask(workers[1], { set: 4 })).threads;
  const first = await ask(workers[0], {});
  seen.firstAfterSecond = first.threads;
  seen.main = ng.getNumThreads();
  seen.workersCorrect = first.correct && (await ask(workers[1], {})).correct;
  seen.mainCorrect = computesCorrectly();
  await Promise.all(workers.map((worker) => worker.terminate()));
  console.log(JSON.stringify(seen));
}
