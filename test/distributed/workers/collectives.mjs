// Every collective on one group, per dtype, printing the results as one JSON line.
// argv: library initMethod
const ng = await import(process.argv[2]);
const D = ng.distributed;
const initMethod = process.argv[3];

await D.initProcessGroup({ initMethod, timeoutMs: 20_000 });
const rank = D.getRank();
const world = D.getWorldSize();
const out = { rank, world, backend: D.getBackend(), initialized: D.isInitialized() };
// Rank r's values: integers and halves, exact in every dtype's sums.
const values = (r, dtype) =>
  dtype === 'int32' ? [r + 1, -2 * (r + 1), 3 * r + 7] : [r + 1, -2 * (r + 1), 0.5 * r + 3];

for (const dtype of ['float32', 'float64', 'int32']) {
  for (const op of ['sum', 'avg', 'max', 'min']) {
    const t = ng.tensor(values(rank, dtype), { dtype });
    D.allReduce(t, { op });
    out[`allReduce.${dtype}.${op}`] = t.toArray();
  }
  const b = ng.tensor(values(rank, dtype), { dtype });
  D.broadcast(b, { src: world - 1 });
  out[`broadcast.${dtype}`] = b.toArray();

  const gathered = Array.from({ length: world }, () => ng.zeros([3], { dtype }));
  D.allGather(gathered, ng.tensor(values(rank, dtype), { dtype }));
  out[`allGather.${dtype}`] = gathered.map((g) => g.toArray());

  const scattered = ng.zeros([3], { dtype });
  const inputs = Array.from({ length: world }, (_, i) => ng.tensor(values(10 * rank + i, dtype), { dtype }));
  D.reduceScatter(scattered, inputs, { op: 'sum' });
  out[`reduceScatter.${dtype}`] = scattered.toArray();
}

// A contiguous view that starts inside its storage, and a tensor of many Gloo segments.
const matrix = ng
  .arange(0, 12)
  .reshape([4, 3])
  .mul(rank + 1);
D.allReduce(matrix.narrow(0, 1, 2));
out.offsetView = matrix.toArray();
const large = ng.full([300_001], rank + 1);
D.allReduce(large);
out.large = [large.min().item(), large.max().item()];

// Several async collectives in flight, waited in order; one through its promise.
const works = [];
const asyncTensors = [];
for (let i = 0; i < 4; i++) {
  const t = ng.full([1000 * (i + 1)], i + rank);
  asyncTensors.push(t);
  works.push(D.allReduce(t, { asyncOp: true }));
}
const gatherWork = D.allGather(
  Array.from({ length: world }, () => ng.zeros([1])),
  ng.tensor([rank]),
  { asyncOp: true },
);
for (const w of works.slice(0, 3)) w.wait();
await works[3].promise();
gatherWork.wait();
out.async = asyncTensors.map((t) => [t.min().item(), t.max().item()]);
out.completed = works.every((w) => w.isCompleted());

// Point to point: blocking in an order that cannot deadlock, then isend before irecv on every rank.
const next = (rank + 1) % world;
const previous = (rank + world - 1) % world;
const received = ng.zeros([3]);
if (rank % 2 === 0) {
  D.send(ng.tensor(values(rank, 'float32')), next);
  D.recv(received, previous);
} else {
  D.recv(received, previous);
  D.send(ng.tensor(values(rank, 'float32')), next);
}
out.recv = received.toArray();
const into = ng.zeros([2], { dtype: 'float64' });
const sending = D.isend(ng.tensor([rank, rank * 10], { dtype: 'float64' }), next);
const receiving = D.irecv(into, previous);
receiving.wait();
sending.wait();
out.irecv = into.toArray();

D.barrier();
D.destroyProcessGroup();
out.afterDestroy = D.isInitialized();

// The group can be made again after destroyProcessGroup.
await D.initProcessGroup({ initMethod, timeoutMs: 20_000 });
const again = ng.tensor([rank + 1]);
D.allReduce(again);
out.reinit = again.toArray();
D.destroyProcessGroup();
console.log(JSON.stringify(out));
