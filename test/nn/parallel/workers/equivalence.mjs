// One rank of a data-parallel run against dist/: trains `case` for a few SGD steps on its half of a
// fixed batch of 64, trains the same model in one process on the whole batch, and prints one JSON
// line with the largest weight difference. Run under `nodegrad launch --nproc-per-node 2`.
import * as ng from '../../../../dist/index.js';

const { nn } = ng;
const which = process.argv[2];
const steps = Number(process.argv[3] ?? 20);

class WithBatchNorm extends nn.Module {
  conv = new nn.Conv2d(1, 4, 3);
  bn = new nn.BatchNorm2d(4);
  fc = new nn.Linear(4 * 6 * 6, 10);
  forward(x) {
    return this.fc.forward(nn.functional.relu(this.bn.forward(this.conv.forward(x))).flatten(1));
  }
}

class WithUnused extends nn.Module {
  fc1 = new nn.Linear(64, 16);
  unused = new nn.Linear(16, 16);
  fc2 = new nn.Linear(16, 10);
  forward(x) {
    return this.fc2.forward(nn.functional.relu(this.fc1.forward(x.flatten(1))));
  }
}

const cases = {
  lenet: { build: () => ng.models.lenet5(), size: 28 },
  nosync: { build: () => ng.models.lenet5(), size: 28, micro: 2 },
  syncbn: { build: () => new WithBatchNorm(), size: 8, sync: true },
  unused: { build: () => new WithUnused(), size: 8, ddp: { findUnusedParameters: true } },
};
const spec = cases[which];

await ng.distributed.initProcessGroup();
const rank = ng.distributed.getRank();
const world = ng.distributed.getWorldSize();

ng.manualSeed(123);
const x = ng.randn([64, 1, spec.size, spec.size]);
const y = ng.randint(0, 10, [64]);

function build() {
  ng.manualSeed(7);
  return spec.build();
}

function trainSteps(model, forward, xs, ys, micro = 1, noSync = null) {
  const opt = new ng.optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  for (let s = 0; s < steps; s++) {
    opt.zeroGrad();
    const n = xs.shape[0] / micro;
    for (let m = 0; m < micro; m++) {
      const run = () =>
        nn.functional
          .crossEntropy(forward(xs.narrow(0, m * n, n)), ys.narrow(0, m * n, n))
          .div(micro)
          .backward();
      if (noSync && m < micro - 1) noSync(run);
      else run();
    }
    opt.step();
  }
}

const local = build();
// Different initial weights on other ranks: the construction broadcast must make them equal.
if (rank !== 0) for (const p of local.parameters()) ng.noGrad(() => p.add_(1));
const replica = spec.sync ? nn.SyncBatchNorm.convertSyncBatchnorm(local) : local;
const ddp = new nn.parallel.DistributedDataParallel(replica, spec.ddp ?? {});
const per = 64 / world;
trainSteps(
  ddp,
  (t) => ddp.forward(t),
  x.narrow(0, rank * per, per),
  y.narrow(0, rank * per, per),
  spec.micro ?? 1,
  (f) => ddp.noSync(f),
);

const reference = build();
trainSteps(reference, (t) => reference.forward(t), x, y);

const mine = ddp.module.stateDict();
let maxDiff = 0;
let maxAbs = 0;
for (const [name, t] of Object.entries(reference.stateDict())) {
  const a = t.data();
  const b = mine[name].data();
  for (let i = 0; i < a.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(Number(a[i]) - Number(b[i])));
    maxAbs = Math.max(maxAbs, Math.abs(Number(a[i])));
  }
}
const checksum = Object.values(mine).reduce((s, t) => s + t.data().reduce((u, v) => u + Number(v), 0), 0);
console.log(JSON.stringify({ rank, which, maxDiff, maxAbs, checksum }));
ng.distributed.destroyProcessGroup();
