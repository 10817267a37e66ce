/**
 * A variational autoencoder (pytorch/examples vae/main.py) on the embedded MNIST digits: a 20-dim
 * Gaussian latent code, the reparameterization trick, and a loss of binary cross-entropy plus the
 * KL divergence from the unit Gaussian. Ends by decoding random codes into new digits.
 */
import * as ng from 'nodegrad';
import { batches } from './parts/batches.js';
import { asciiImage } from './parts/ascii-image.js';
import { isMain, type ExampleOptions, type ExampleResult } from './parts/example.js';

const { nn } = ng;
const F = nn.functional;

class VAE extends nn.Module<[ng.Tensor], [ng.Tensor, ng.Tensor, ng.Tensor]> {
  fc1 = new nn.Linear(784, 400);
  fc21 = new nn.Linear(400, 20);
  fc22 = new nn.Linear(400, 20);
  fc3 = new nn.Linear(20, 400);
  fc4 = new nn.Linear(400, 784);

  encode(x: ng.Tensor): [mu: ng.Tensor, logvar: ng.Tensor] {
    const h1 = F.relu(this.fc1.forward(x));
    return [this.fc21.forward(h1), this.fc22.forward(h1)];
  }

  /** z = μ + ε·σ with ε ~ N(0, 1): the sample stays differentiable in μ and log σ². */
  reparameterize(mu: ng.Tensor, logvar: ng.Tensor): ng.Tensor {
    const std = logvar.mul(0.5).exp();
    return mu.add(ng.randnLike(std).mul(std));
  }

  decode(z: ng.Tensor): ng.Tensor {
    return F.sigmoid(this.fc4.forward(F.relu(this.fc3.forward(z))));
  }

  forward(x: ng.Tensor): [ng.Tensor, ng.Tensor, ng.Tensor] {
    const [mu, logvar] = this.encode(x.view([-1, 784]));
    return [this.decode(this.reparameterize(mu, logvar)), mu, logvar];
  }
}

/** Reconstruction (binary cross-entropy, summed) + KL(N(μ, σ²) ‖ N(0, 1)) = −½ Σ(1 + log σ² − μ² − σ²). */
function lossFunction(recon: ng.Tensor, x: ng.Tensor, mu: ng.Tensor, logvar: ng.Tensor): ng.Tensor {
  const bce = F.bceLoss(recon, x.view([-1, 784]), { reduction: 'sum' });
  const kld = logvar.add(1).sub(mu.pow(2)).sub(logvar.exp()).sum().mul(-0.5);
  return bce.add(kld);
}

export function main(options: ExampleOptions & { batchSize?: number } = {}): ExampleResult {
  const { steps = 400, batchSize = 128, log = () => {} } = options;
  ng.manualSeed(1);
  const loader = new ng.data.DataLoader(ng.data.mnist().train, { batchSize, shuffle: true, seed: 1 });
  const model = new VAE();
  const optimizer = new ng.optim.Adam(model.parameters(), { lr: 1e-3 });

  const losses: number[] = [];
  for (const [data] of batches(loader, steps)) {
    optimizer.zeroGrad();
    const [recon, mu, logvar] = model.forward(data);
    const loss = lossFunction(recon, data, mu, logvar);
    loss.backward();
    optimizer.step();
    losses.push(loss.item() / data.shape[0]);
    if (losses.length % 20 === 0)
      log(`Train step ${losses.length}/${steps}\tLoss per digit: ${losses[losses.length - 1].toFixed(4)}`);
  }

  const samples = ng.noGrad(() => model.decode(ng.randn([64, 20])));
  log(`A digit decoded from a random code:\n${asciiImage(samples.index(0).data(), 28)}`);
  return { losses };
}

if (isMain(import.meta.url)) main({ log: console.log });
