
import * as ng from 'nodegrad';
ng.manualSeed(0);
const w = ng.randn([3, 1], { requiresGrad: true });
const x = ng.randn([64, 3]);
const y = x.matmul(ng.tensor([[1], [-2], [0.5]]));
const losses = [];
for (let step = 0; step < 20; step++) {
  w.grad = null;
  const loss = x.matmul(w).sub(y).pow(2).mean();
  loss.backward();
  ng.noGrad(() => { w.storage.data.set(w.sub(w.grad.mul(0.1)).data()); });
  losses.push(loss.item());
}
const a = ng.randn([33, 65]), b = ng.randn([65, 17]);
const native = a.matmul(b).data();
ng.backend.setBackend(ng.backend.referenceBackend);
const reference = a.matmul(b).data();
let maxError = 0;
for (let i = 0; i < native.length; i++) maxError = Math.max(maxError, Math.abs(native[i] - reference[i]));
console.log(JSON.stringify({ first: losses[0], last: losses.at(-1), maxError, addon: ng.backend.addonCandidates()[0] }));
