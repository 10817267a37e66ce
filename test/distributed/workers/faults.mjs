// Failure scenarios; argv: library scenario initMethod. Errors are left uncaught on purpose: the
// process must exit non-zero and print the NodegradError.
const ng = await import(process.argv[2]);
const D = ng.distributed;
const [scenario, initMethod] = process.argv.slice(3);
// NODEGRAD_DIST_TIMEOUT_MS, when set, is the default the group runs with.
const timeoutMs = Number(process.env.NODEGRAD_DIST_TIMEOUT_MS ?? 3000);

await D.initProcessGroup({ initMethod, timeoutMs: process.env.NODEGRAD_DIST_TIMEOUT_MS ? undefined : timeoutMs });
const rank = D.getRank();
D.barrier();
if (scenario.startsWith('exit') && rank === 1) process.exit(0);
if (scenario === 'hang' && rank === 1) {
  // Never joins the collective; exits once rank 0 must have given up.
  setTimeout(() => process.exit(0), timeoutMs + 2000);
} else if (scenario === 'exit-async') {
  // The rejection goes unhandled: the process exits non-zero with it.
  const work = D.allReduce(ng.ones([1 << 16]), { asyncOp: true });
  await work.promise().finally(() => console.log(JSON.stringify({ completed: work.isCompleted() })));
} else {
  const t = ng.ones([1 << 16]);
  try {
    D.allReduce(t);
  } catch (error) {
    // A group that failed once fails every later collective at once, with the first cause.
    const started = Date.now();
    let second = null;
    try {
      D.allReduce(ng.ones([4]));
    } catch (later) {
      second = { message: later.message, ms: Date.now() - started };
    }
    console.log(JSON.stringify({ second }));
    throw error;
  }
  console.log('unexpected: allReduce returned');
}
