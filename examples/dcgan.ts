/**
 * DCGAN (pytorch/examples dcgan/main.py) on the embedded MNIST digits shrunk to 16×16: a generator
 * of transposed convolutions and a convolutional discriminator play the GAN game with BCE losses
 * and Adam (lr 2e-4, β₁ 0.5). The returned losses are the discriminator's.
 */
import * as ng from 'nodegrad';
import { asciiImage } from './parts/ascii-image.js';
import { batches } from './parts/batches.js';
import { isMain, type ExampleOptions, type ExampleResult } from './parts/example.js';

const { nn } = ng;
const F = nn.functional;

/** z [N, nz, 1, 1] → images [N, nc, 16, 16] in (−1, 1). */
class Generator extends nn.Module {
  main: ng.nn.Sequential;

  constructor(nz: number, ngf: number, nc: number) {
    super();
    this.main = new nn.Sequential(
      new nn.ConvTranspose2d(nz, ngf * 2, 4, { stride: 1, padding: 0, bias: false }), // → ngf·2 × 4 × 4
      new nn.BatchNorm2d(ngf * 2),
      new nn.ReLU(),
      new nn.ConvTranspose2d(ngf * 2, ngf, 4, { stride: 2, padding: 1, bias: false }), // → ngf × 8 × 8
      new nn.BatchNorm2d(ngf),
      new nn.ReLU(),
      new nn.ConvTranspose2d(ngf, nc, 4, { stride: 2, padding: 1, bias: false }), // → nc × 16 × 16
      new nn.Tanh(),
    );
  }

  forward(z: ng.Tensor): ng.Tensor {
    return this.main.forward(z);
  }
}

/** images [N, nc, 16, 16] → the probability that each is real, [N]. */
class Discriminator extends nn.Module {
  main: ng.nn.Sequential;

  constructor(ndf: number, nc: number) {
    super();
    this.main = new nn.Sequential(
      new nn.Conv2d(nc, ndf, 4, { stride: 2, padding: 1, bias: false }), // → ndf × 8 × 8
      new nn.LeakyReLU({ negativeSlope: 0.2 }),
      new nn.Conv2d(ndf, ndf * 2, 4, { stride: 2, padding: 1, bias: false }), // → ndf·2 × 4 × 4
      new nn.BatchNorm2d(ndf * 2),
      new nn.LeakyReLU({ negativeSlope: 0.2 }),
      new nn.Conv2d(ndf * 2, 1, 4, { stride: 1, padding: 0, bias: false }), // → 1 × 1 × 1
      new nn.Sigmoid(),
    );
  }

  forward(x: ng.Tensor): ng.Tensor {
    return this.main.forward(x).view([-1]);
  }
}

/** weights_init: convolution weights ~ N(0, 0.02), batch-norm scales ~ N(1, 0.02) and shifts 0. */
function weightsInit(model: ng.nn.Module): void {
  ng.noGrad(() => {
    for (const m of model.modules()) {
      if (m instanceof nn.Conv2d || m instanceof nn.ConvTranspose2d) nn.init.normal_(m.weight, 0, 0.02);
      else if (m instanceof nn.BatchNorm2d) {
        if (m.weight) nn.init.normal_(m.weight, 1, 0.02);
        if (m.bias) nn.init.zeros_(m.bias);
      }
    }
  });
}

export function main(
  options: ExampleOptions & { batchSize?: number } = {},
): ExampleResult & { generatorLosses: number[] } {
  const { steps = 200, batchSize = 64, log = () => {} } = options;
  const nz = 32;
  const ngf = 32;
  const ndf = 32;
  ng.manualSeed(999);
  // transforms.Resize(16) and Normalize((0.5,), (0.5,)): pixels to [−1, 1], the range of tanh.
  const shrink = ([images]: ng.Tensor[]) => [F.adaptiveAvgPool2d(images, 16).mul(2).sub(1)];
  const loader = new ng.data.DataLoader(ng.data.mnist().train, {
    batchSize,
    shuffle: true,
    seed: 999,
    transform: shrink,
  });

  const netG = new Generator(nz, ngf, 1);
  const netD = new Discriminator(ndf, 1);
  weightsInit(netG);
  weightsInit(netD);
  const criterion = new nn.BCELoss();
  const optimizerD = new ng.optim.Adam(netD.parameters(), { lr: 2e-4, betas: [0.5, 0.999] });
  const optimizerG = new ng.optim.Adam(netG.parameters(), { lr: 2e-4, betas: [0.5, 0.999] });

  const losses: number[] = [];
  const generatorLosses: number[] = [];
  for (const [real] of batches(loader, steps)) {
    const n = real.shape[0];
    // (1) Update D: maximize log D(x) + log(1 − D(G(z))).
    optimizerD.zeroGrad();
    const outputReal = netD.forward(real);
    const errDReal = criterion.forward(outputReal, ng.ones([n]));
    errDReal.backward();
    const fake = netG.forward(ng.randn([n, nz, 1, 1]));
    const outputFake = netD.forward(fake.detach());
    const errDFake = criterion.forward(outputFake, ng.zeros([n]));
    errDFake.backward();
    optimizerD.step();
    // (2) Update G: maximize log D(G(z)), i.e. BCE against the "real" label.
    optimizerG.zeroGrad();
    const output = netD.forward(fake);
    const errG = criterion.forward(output, ng.ones([n]));
    errG.backward();
    optimizerG.step();

    losses.push(errDReal.item() + errDFake.item());
    generatorLosses.push(errG.item());
    const step = losses.length;
    if (step % 10 === 0 || step === 1) {
      log(
        `[${step}/${steps}] Loss_D: ${losses[step - 1].toFixed(4)} Loss_G: ${errG.item().toFixed(4)} ` +
          `D(x): ${outputReal.mean().item().toFixed(4)} D(G(z)): ${outputFake.mean().item().toFixed(4)} / ${output.mean().item().toFixed(4)}`,
      );
    }
  }
  netG.eval();
  const sample = ng.noGrad(() =>
    netG
      .forward(ng.randn([1, nz, 1, 1]))
      .add(1)
      .div(2),
  );
  log(`A generated digit:\n${asciiImage(sample.data(), 16)}`);
  return { losses, generatorLosses };
}

if (isMain(import.meta.url)) main({ log: console.log });
