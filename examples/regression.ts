/**
 * Polynomial regression (pytorch/examples regression/main.py): a Linear layer learns the
 * coefficients of a random degree-4 polynomial from batches of (x, x², x³, x⁴) features, with a
 * hand-written SGD step.
 */
import * as ng from 'nodegrad';
import { isMain, type ExampleOptions, type ExampleResult } from './parts/example.js';

const POLY_DEGREE = 4;

/** [x, x², ..., x^POLY_DEGREE] for each x: [N] → [N, POLY_DEGREE]. */
function makeFeatures(x: ng.Tensor): ng.Tensor {
  const column = x.unsqueeze(1);
  return ng.cat(
    Array.from({ length: POLY_DEGREE }, (_, i) => column.pow(i + 1)),
    1,
  );
}

/** "y = +1.23 x^1 -0.45 x^2 ... +0.67" for weights [POLY_DEGREE] and a bias. */
function polyDescription(weights: ArrayLike<number>, bias: number): string {
  const terms = Array.from(weights, (w, i) => `${w >= 0 ? '+' : ''}${w.toFixed(2)} x^${i + 1}`);
  return `y = ${terms.join(' ')} ${bias >= 0 ? '+' : ''}${bias.toFixed(2)}`;
}

export function main(options: ExampleOptions & { batchSize?: number } = {}): ExampleResult {
  const { steps = 3000, batchSize = 32, log = () => {} } = options;
  ng.manualSeed(1);
  const wTarget = ng.randn([POLY_DEGREE, 1]).mul(5);
  const bTarget = ng.randn([1]).mul(5).item();
  const f = (features: ng.Tensor) => features.matmul(wTarget).add(bTarget);

  const fc = new ng.nn.Linear(POLY_DEGREE, 1);
  const losses: number[] = [];
  for (let step = 1; step <= steps; step++) {
    const x = makeFeatures(ng.randn([batchSize]));
    const y = f(x);
    fc.zeroGrad();
    const loss = ng.nn.functional.smoothL1Loss(fc.forward(x), y);
    losses.push(loss.item());
    loss.backward();
    // param.data.add_(-lr * param.grad): an in-place update of the leaves, outside the graph.
    ng.noGrad(() => {
      for (const param of fc.parameters()) if (param.grad) param.add_(param.grad, { alpha: -0.1 });
    });
    if (losses[losses.length - 1] < 1e-3) break;
  }
  log(`Loss: ${losses[losses.length - 1].toFixed(6)} after ${losses.length} batches`);
  log(`==> Learned function:\t${polyDescription(fc.weight.data(), fc.bias?.item() ?? 0)}`);
  log(`==> Actual function:\t${polyDescription(wTarget.data(), bTarget)}`);
  return { losses };
}

if (isMain(import.meta.url)) main({ log: console.log });
