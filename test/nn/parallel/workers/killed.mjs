// Two ranks allreduce in a loop; rank 1 kills itself at step 3. Rank 0 must fail with a message,
// not hang: it prints it and exits 1.
import * as ng from '../../../../dist/index.js';

await ng.distributed.initProcessGroup();
const rank = ng.distributed.getRank();
const model = new ng.nn.Linear(64, 64);
const ddp = new ng.nn.parallel.DistributedDataParallel(model);
try {
  for (let step = 0; step < 1000; step++) {
    if (rank === 1 && step === 3) process.kill(process.pid, 'SIGKILL');
    ddp
      .forward(ng.randn([8, 64]))
      .sum()
      .backward();
  }
  console.log('rank 0 finished without noticing');
} catch (error) {
  console.error(`rank ${rank} failed: ${error.message}`);
  process.exit(1);
}
