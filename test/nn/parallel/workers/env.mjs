// Prints the launcher's variables as one JSON line; with FAIL_RANK set, that rank exits with code 3
// while the others wait (so the launcher must stop them).
const keys = [
  'RANK',
  'LOCAL_RANK',
  'WORLD_SIZE',
  'LOCAL_WORLD_SIZE',
  'MASTER_ADDR',
  'MASTER_PORT',
  'NODEGRAD_NUM_THREADS',
];
console.log(
  JSON.stringify({ args: process.argv.slice(2), ...Object.fromEntries(keys.map((k) => [k, process.env[k]])) }),
);
if (process.env.FAIL_RANK !== undefined) {
  if (process.env.RANK === process.env.FAIL_RANK) process.exit(3);
  setTimeout(() => undefined, 60_000);
}
