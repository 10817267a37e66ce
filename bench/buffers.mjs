// `node --expose-gc bench/buffers.mjs [--nodegrad] [--no-buffers]`: a service's memory beside
// nodegrad. Allocates 400 × 1 MiB Buffers, drops them, collects, and prints the process's RSS in
// MiB as JSON. With --nodegrad it first loads the package and runs a few tensor ops: nodegrad must
// leave the rest of the process's memory (malloc, which Buffers use) as it found it. --no-buffers
// measures the same process without the Buffers (nodegrad's own footprint).
if (process.argv.includes('--nodegrad')) {
  const ng = await import('../dist/index.js');
  const x = ng.randn([256, 256]);
  ng.matmul(x, x).relu().sum().item();
}
let buffers = [];
const count = process.argv.includes('--no-buffers') ? 0 : 400;
for (let i = 0; i < count; i++) buffers.push(Buffer.alloc(1024 * 1024, i));
buffers = null;
for (let i = 0; i < 3; i++) {
  globalThis.gc();
  await new Promise((resolve) => setTimeout(resolve, 10));
}
console.log(JSON.stringify({ rssMiB: process.memoryUsage().rss / 1024 / 1024 }));
