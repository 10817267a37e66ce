// `npm run bench -- allreduce` (or `node bench/allreduce.mjs`): ng.distributed.allReduce (float32,
// sum) between 2 ranks over loopback, message sizes 1 KB … 64 MB: median time per call and
// algorithm bandwidth (bytes / time), beside the ring bound 2(N−1)/N · bytes / B, where B is the
// loopback bandwidth of a plain TCP stream between the same two processes, measured first.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, connect } from 'node:net';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const world = 2;
const sizes = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536].map((kb) => kb * 1024);
const streamBytes = 256 << 20;
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// Rank 1 serves a stream of `streamBytes` in 4 MB writes; rank 0 reads it into one reused 4 MB
// buffer (net's onread, no allocation per read) and times first byte to last. Best of 3.
async function loopbackBandwidth(rank, port) {
  const rounds = 3;
  if (rank === 1) {
    const chunk = Buffer.alloc(4 << 20, 7);
    const server = createServer();
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    for (let round = 0; round < rounds; round++) {
      const [socket] = await once(server, 'connection');
      for (let sent = 0; sent < streamBytes; sent += chunk.length) {
        if (!socket.write(chunk)) await once(socket, 'drain');
      }
      socket.end();
      await once(socket, 'close');
    }
    server.close();
    return 0;
  }
  let best = 0;
  for (let round = 0; round < rounds; round++) {
    let received = 0;
    let start = 0;
    const onread = {
      buffer: Buffer.alloc(4 << 20),
      callback: (n) => {
        if (received === 0) start = performance.now();
        received += n;
      },
    };
    let socket;
    for (;;) {
      socket = connect({ port, host: '127.0.0.1', onread });
      // events.once rejects when 'error' comes first: nobody listens yet.
      const outcome = await once(socket, 'connect').then(
        () => 'ok',
        () => 'retry',
      );
      if (outcome === 'ok') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await once(socket, 'end');
    best = Math.max(best, received / ((performance.now() - start) / 1000));
    socket.destroy();
  }
  return best;
}

async function rankMain(rank, storePort, streamPort, library) {
  const ng = await import(library);
  const bandwidth = await loopbackBandwidth(rank, streamPort);
  await ng.distributed.initProcessGroup({ rank, worldSize: world, initMethod: `tcp://127.0.0.1:${storePort}` });
  const rows = [];
  for (const bytes of sizes) {
    const t = ng.zeros([bytes / 4]);
    const reps = bytes >= 16 << 20 ? 7 : bytes >= 1 << 20 ? 15 : 50;
    for (let i = 0; i < 3; i++) ng.distributed.allReduce(t);
    ng.distributed.barrier();
    const times = [];
    for (let i = 0; i < reps; i++) {
      const start = performance.now();
      ng.distributed.allReduce(t);
      times.push((performance.now() - start) / 1000);
    }
    rows.push({ bytes, seconds: median(times) });
  }
  ng.distributed.destroyProcessGroup();
  if (rank === 0) console.log(JSON.stringify({ bandwidth, rows }));
}

function formatBytes(bytes) {
  return bytes >= 1 << 20 ? `${bytes >> 20} MB` : `${bytes >> 10} KB`;
}

/** Runs the two ranks and prints the table. */
export async function allreduceSuite() {
  const [storePort, streamPort] = [await freePort(), await freePort()];
  const library = new URL('../dist/index.js', import.meta.url).href;
  const children = [0, 1].map((rank) =>
    spawn(process.execPath, [self, '--rank', String(rank), String(storePort), String(streamPort), library], {
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  let output = '';
  children[0].stdout.on('data', (d) => (output += d));
  const codes = await Promise.all(children.map((c) => once(c, 'close').then(([code]) => code)));
  if (codes.some((c) => c !== 0)) throw new Error(`allreduce bench: a rank exited with ${codes.join(', ')}`);
  const { bandwidth, rows } = JSON.parse(output.trim().split('\n').at(-1));
  const ringFactor = (2 * (world - 1)) / world;
  console.log(`\n## allReduce float32 sum, ${world} ranks over loopback (Gloo, ring bound from a TCP stream)`);
  console.log(`loopback TCP stream between the two processes: ${(bandwidth / 1e9).toFixed(2)} GB/s`);
  console.log('| size | median time | algorithm bandwidth | ring bound time | time / bound |');
  console.log('|---:|---:|---:|---:|---:|');
  for (const { bytes, seconds } of rows) {
    const bound = (ringFactor * bytes) / bandwidth;
    const time = seconds >= 1e-3 ? `${(seconds * 1e3).toFixed(2)} ms` : `${(seconds * 1e6).toFixed(0)} µs`;
    const boundTime = bound >= 1e-3 ? `${(bound * 1e3).toFixed(2)} ms` : `${(bound * 1e6).toFixed(1)} µs`;
    console.log(
      `| ${formatBytes(bytes)} | ${time} | ${(bytes / seconds / 1e9).toFixed(3)} GB/s | ${boundTime} | ${(seconds / bound).toFixed(1)}× |`,
    );
  }
}

const rankFlag = process.argv.indexOf('--rank');
if (rankFlag >= 0) {
  const [rank, storePort, streamPort] = process.argv.slice(rankFlag + 1, rankFlag + 4).map(Number);
  await rankMain(rank, storePort, streamPort, process.argv[rankFlag + 4]);
} else if (process.argv[1] === self) {
  await allreduceSuite();
}
