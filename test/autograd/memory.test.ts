// The memory modes' structural facts: what is recorded, what is kept, what is released.
import '../deterministic-memory.js';
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import type { Node } from '../../lib/autograd/node.js';
import { expectClose, expectNodegradError, flat } from '../helpers.js';

const { nn } = ng;
const F = nn.functional;

function nodesOf(t: ng.Tensor): Node[] {
  const seen = new Set<Node>();
  const stack = t.gradFn ? [t.gradFn] : [];
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    for (const i of n.inputs) if (i.gradFn) stack.push(i.gradFn);
  }
  return [...seen];
}

async function collectGarbage(): Promise<void> {
  const { setFlagsFromString } = await import('node:v8');
  const { runInNewContext } = await import('node:vm');
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 10));
  }
}

const mlp = () =>
  new nn.Sequential(new nn.Linear(32, 64), new nn.ReLU(), new nn.Linear(64, 64), new nn.ReLU(), new nn.Linear(64, 10));

describe('inference', () => {
  it('noGrad records no node, and the intermediates of a dropped forward are released', async () => {
    const model = mlp();
    const x = ng.randn([16, 32]);
    await collectGarbage();
    const baseline = ng.memory().liveTensors;
    (() => {
      const y = ng.noGrad(() => model.forward(x));
      expect(y.gradFn).toBeNull();
      expect(y.requiresGrad).toBe(false);
    })();
    await collectGarbage();
    expect(ng.memory().liveTensors).toBeLessThanOrEqual(baseline);
  });

  it('inferenceMode releases each Sequential intermediate as soon as the next layer has run', () => {
    const model = mlp();
    const x = ng.randn([256, 32]);
    const before = ng.memory().liveBytes;
    ng.resetPeakMemory();
    const y = ng.inferenceMode(() => model.forward(x));
    // Live after: the output only. Peak: at most two activations at once (64-wide layers), not five.
    expect(ng.memory().liveBytes - before).toBe(y.storage.byteLength);
    expect(ng.memory().peakBytes - before).toBeLessThanOrEqual(2 * 256 * 64 * 4);
    expect(flat(y)).toEqual(flat(ng.noGrad(() => model.forward(x))));
  });

  it('noGrad: a Sequential recycles each intermediate once the next layer ran, with the same output', () => {
    ng.manualSeed(5);
    const layers: ng.nn.Module[] = [];
    for (let i = 0; i < 8; i++) layers.push(new nn.Linear(64, 64), new nn.ReLU());
    const model = new nn.Sequential(...layers);
    const x = ng.randn([128, 64]);
    const expected = flat(ng.inferenceMode(() => model.forward(x)));
    const before = ng.memory().liveBytes;
    ng.resetPeakMemory();
    const y = ng.noGrad(() => model.forward(x));
    const activation = 128 * 64 * 4;
    expect(ng.memory().peakBytes - before).toBeLessThanOrEqual(2 * activation);
    expect(ng.memory().liveBytes - before).toBe(activation);
    expect(flat(y)).toEqual(expected);
  });

  it('noGrad: an intermediate a forward hook captured, and a parameter a layer returns, stay usable', () => {
    class Table extends nn.Module {
      table = new ng.nn.Parameter(ng.ones([4, 4]));
      forward(): ng.Tensor {
        return this.table;
      }
    }
    const first = new nn.Linear(4, 4);
    const captured: ng.Tensor[] = [];
    first.registerForwardHook((_m, _args, out) => {
      captured.push(out);
    });
    const table = new Table();
    const model = new nn.Sequential(first, new nn.ReLU(), table, new nn.Linear(4, 2));
    const y = ng.noGrad(() => model.forward(ng.ones([3, 4])));
    expect(y.shape).toEqual([4, 2]);
    expect(captured[0].sum().item()).toBeCloseTo(
      flat(first.forward(ng.ones([3, 4]))).reduce((a, b) => a + b),
      5,
    );
    expect(table.table.sum().item()).toBe(16);
  });

  it('inferenceMode keeps ResNet-18 within two of its largest activations, with the same logits', () => {
    ng.manualSeed(3);
    const model = ng.models.resnet18({ numClasses: 10 }).eval();
    const x = ng.randn([4, 3, 32, 32]);
    const expected = flat(ng.noGrad(() => model.forward(x)));
    const before = ng.memory().liveBytes;
    ng.resetPeakMemory();
    const y = ng.inferenceMode(() => model.forward(x));
    const largest = 4 * 64 * 16 * 16 * 4; // the stem's conv1 output
    // Plus a few KiB of per-channel batch-norm coefficients (derived from the weights).
    expect(ng.memory().peakBytes - before).toBeLessThanOrEqual(2 * largest + 4096);
    expectClose(flat(y), expected, 1e-5, 1e-6);
  });

  it('inferenceMode keeps a ResNet block within two block-sized activations besides its input', () => {
    ng.manualSeed(4);
    const { BasicBlock, Bottleneck } = ng.models;
    const x = ng.randn([2, 64, 16, 16]);
    const downsample = new nn.Sequential(
      new nn.Conv2d(64, 128, 1, { stride: 2, bias: false }),
      new nn.BatchNorm2d(128),
    );
    const cases = [
      // Block, the bytes of its output, and how many outputs it holds at its peak: two in the chain
      // and at the residual sum, three with a downsample (the chain's output, the shortcut's two).
      [new BasicBlock(64, 64), x.storage.byteLength, 2],
      [new Bottleneck(64, 16), x.storage.byteLength, 2],
      [new BasicBlock(64, 128, 2, downsample), x.storage.byteLength / 2, 3],
    ] as const;
    for (const [block, outBytes, held] of cases) {
      block.eval();
      const expected = flat(ng.noGrad(() => block.forward(x)));
      const before = ng.memory().liveBytes;
      ng.resetPeakMemory();
      const y = ng.inferenceMode(() => new nn.Sequential(block).forward(x));
      expect(ng.memory().peakBytes - before).toBeLessThanOrEqual(held * outBytes + 4096);
      // Live after: the output only; the residual's operands were recycled with the block's forward.
      expect(ng.memory().liveBytes - before).toBe(y.storage.byteLength);
      expectClose(flat(y), expected, 1e-5, 1e-6);
    }
  });

  it('any module run by a Sequential keeps only its output under inferenceMode', () => {
    class TwoBranches extends nn.Module {
      left = new nn.Linear(32, 64);
      right = new nn.Linear(32, 64);
      forward(x: ng.Tensor): ng.Tensor {
        return this.left.forward(x).relu().add(this.right.forward(x).tanh());
      }
    }
    const model = new nn.Sequential(new TwoBranches(), new nn.Linear(64, 8));
    const x = ng.randn([128, 32]);
    const before = ng.memory().liveBytes;
    const y = ng.inferenceMode(() => model.forward(x));
    expect(ng.memory().liveBytes - before).toBe(y.storage.byteLength);
    expectClose(flat(y), flat(ng.noGrad(() => model.forward(x))), 1e-6, 1e-7);
  });

  it('eval() switches Dropout and BatchNorm independently of grad mode', () => {
    const m = new nn.Sequential(new nn.Dropout(0.9), new nn.BatchNorm1d(4)).eval();
    const x = ng.randn([8, 4], { requiresGrad: true });
    const y = m.forward(x);
    expect(y.requiresGrad).toBe(true);
    expectClose(
      flat(y),
      flat(x.detach()).map((v) => v / Math.sqrt(1 + 1e-5)),
      1e-5,
      1e-6,
    );
  });
});

describe('training keeps only what backward reads, and releases it', () => {
  it('after backward the graph holds no saved tensors; a second backward throws', () => {
    const model = mlp();
    const loss = ng.crossEntropy(
      model.forward(ng.randn([8, 32])),
      ng.tensor([1, 2, 3, 4, 5, 6, 7, 8], { dtype: 'int32' }),
    );
    const nodes = nodesOf(loss);
    expect(nodes.some((n) => n.savedCount > 0)).toBe(true);
    loss.backward();
    expect(nodes.every((n) => n.released && n.savedCount === 0)).toBe(true);
    expectNodegradError(() => loss.backward(), 'ERR_NODEGRAD_AUTOGRAD', 'second time', 'retainGraph');
  });

  it('relu saves its output only; max pooling its int32 indices; fused cross-entropy one buffer', () => {
    const x = ng.randn([2, 3, 4, 4], { requiresGrad: true });
    expect(x.relu().gradFn!.savedCount).toBe(1);
    const pooled = ng.maxPool2d(x, 2);
    expect(pooled.gradFn!.savedCount).toBe(1);
    const logits = ng.randn([4, 10], { requiresGrad: true });
    const target = ng.tensor([1, 2, 3, 4], { dtype: 'int32' });
    expect(ng.crossEntropy(logits, target).gradFn!.savedCount).toBe(1);
  });

  it('fused linear+relu and conv+bias+relu equal the composed ops and allocate less', () => {
    const x = ng.randn([64, 128], { requiresGrad: true });
    const w = ng.randn([96, 128], { requiresGrad: true });
    const b = ng.randn([96], { requiresGrad: true });
    let before = ng.memory().liveBytes;
    const fused = ng.linear(x, w, b, { activation: 'relu' });
    const fusedBytes = ng.memory().liveBytes - before;
    before = ng.memory().liveBytes;
    const composed = x.matmul(w.t()).add(b).relu();
    const composedBytes = ng.memory().liveBytes - before;
    expect(fusedBytes).toBeLessThan(composedBytes);
    expectClose(flat(fused), flat(composed), 1e-5, 1e-5);
    const grads = (y: ng.Tensor) => {
      for (const t of [x, w, b]) t.grad = null;
      y.sum().backward();
      return [x, w, b].map((t) => flat(t.grad!));
    };
    const [gf, gc] = [grads(fused), grads(composed)];
    gf.forEach((g, i) => expectClose(g, gc[i], 1e-4, 1e-4));

    const img = ng.randn([2, 3, 8, 8], { requiresGrad: true });
    const k = ng.randn([4, 3, 3, 3], { requiresGrad: true });
    const fusedConv = ng.conv2d(img, k, b.narrow(0, 0, 4), { padding: 1, activation: 'relu' });
    expect(fusedConv.gradFn!.name).toBe('conv2d+relu');
    expectClose(flat(fusedConv), flat(ng.conv2d(img, k, b.narrow(0, 0, 4), { padding: 1 }).relu()), 1e-5, 1e-5);
  });

  it('an in-place write to a tensor saved for backward is caught, naming both ops', () => {
    const x = ng.randn([4], { requiresGrad: true });
    const h = x.mul(1);
    const y = h.mul(h);
    h.relu_();
    expectNodegradError(
      () => y.sum().backward(),
      'ERR_NODEGRAD_AUTOGRAD',
      'relu_: a tensor saved for backward by mul was modified in place; clone it first',
    );
    expectNodegradError(() => x.relu_(), 'ERR_NODEGRAD_AUTOGRAD', 'relu_', 'leaf tensor that requires grad');
  });
});

describe('backward owns its gradient buffers', () => {
  it("a fresh gradient buffer becomes the leaf's .grad without a copy; temporaries go back", () => {
    const n = 1 << 16;
    const x = ng.randn([n], { requiresGrad: true });
    const loss = x.exp().sum();
    const before = ng.memory().liveBytes;
    ng.resetPeakMemory();
    loss.backward();
    // exp's backward allocates one buffer, which becomes x.grad: live and peak are that buffer (plus
    // the 4-byte seed), not a second one to copy it into.
    expect(ng.memory().liveBytes - before).toBeGreaterThanOrEqual(4 * n);
    expect(ng.memory().peakBytes - before).toBeLessThanOrEqual(4 * n + 64);
    expectClose(flat(x.grad!), flat(x.detach()).map(Math.exp), 1e-6, 1e-7);
  });

  it('a tensor used twice sums its gradients into a buffer backward owns, without a copy', () => {
    const n = 1 << 16;
    const x = ng.randn([n], { requiresGrad: true });
    const h = x.exp();
    const loss = h.mul(2).add(h.mul(3)).sum();
    const before = ng.memory().liveBytes;
    ng.resetPeakMemory();
    loss.backward();
    // At most two buffers at once: h's first gradient, summed in place with its second, then exp's.
    expect(ng.memory().peakBytes - before).toBeLessThanOrEqual(2 * 4 * n + 64);
    expectClose(
      flat(x.grad!),
      flat(x.detach()).map((v) => 5 * Math.exp(v)),
      1e-5,
      1e-6,
    );
  });

  it("an MLP step leaves only the parameters' gradients alive, and a second step adds into them", () => {
    ng.manualSeed(5);
    const model = mlp();
    const x = ng.randn([256, 32]);
    const gradBytes = model.parameters().reduce((n, p) => n + p.storage.byteLength, 0);
    const loss = () => model.forward(x).pow(2).mean();
    // The two hidden activations between the Sequential's layers are released by backward itself.
    const hidden = 2 * 256 * 64 * 4;
    let l = loss();
    let before = ng.memory().liveBytes;
    l.backward();
    expect(ng.memory().liveBytes - before).toBeLessThanOrEqual(gradBytes - hidden + 64);
    expect(ng.memory().liveBytes - before).toBeGreaterThanOrEqual(gradBytes - hidden);
    const first = model.parameters().map((p) => flat(p.grad!));
    const storages = model.parameters().map((p) => p.grad!.storage);
    l = loss();
    before = ng.memory().liveBytes;
    l.backward();
    expect(ng.memory().liveBytes - before).toBeLessThanOrEqual(64 - hidden);
    model.parameters().forEach((p, i) => {
      expect(p.grad!.storage).toBe(storages[i]);
      expectClose(
        flat(p.grad!),
        first[i].map((v) => 2 * v),
        1e-5,
        1e-6,
      );
    });
  });
});

describe("backward releases a Sequential's activations once every node that reads them ran", () => {
  /** The tensors between the Sequential's layers: inputs of the graph's nodes that are not leaves. */
  function activations(y: ng.Tensor): ng.Tensor[] {
    return nodesOf(y).flatMap((n) => n.inputs.filter((t) => t.gradFn !== null));
  }

  it('frees them in backward, with the gradients of the same layers called one by one', () => {
    ng.manualSeed(8);
    const model = mlp();
    const x = ng.randn([64, 32]);
    const y = model.forward(x);
    const hidden = activations(y);
    expect(hidden.length).toBeGreaterThanOrEqual(2);
    y.pow(2).mean().backward();
    expect(hidden.every((t) => t.storage.disposed)).toBe(true);
    expect(y.storage.disposed).toBe(false);
    const grads = model.parameters().map((p) => flat(p.grad!));
    model.zeroGrad();
    let h = x;
    for (const layer of model.layers()) h = layer.forward(h);
    h.pow(2).mean().backward();
    model.parameters().forEach((p, i) => expectClose(flat(p.grad!), grads[i], 1e-6, 1e-7));
  });

  it('keeps them with retainGraph, and keeps the output of a layer with forward hooks', () => {
    ng.manualSeed(8);
    const model = mlp();
    const x = ng.randn([64, 32]);
    const y = model.forward(x);
    const hidden = activations(y);
    y.sum().backward({ retainGraph: true });
    expect(hidden.some((t) => t.storage.disposed)).toBe(false);
    y.sum().backward();
    const captured: ng.Tensor[] = [];
    const handle = model.at(1).registerForwardHook((_m, _args, out) => {
      captured.push(out);
    });
    model.forward(x).sum().backward();
    handle.remove();
    expect(captured[0].storage.disposed).toBe(false);
    expect(captured[0].sum().item()).toBeGreaterThan(0);
  });
});

describe('the pool cycles', () => {
  it('training steps take back what the previous step released: the pool and live bytes stay flat', () => {
    ng.manualSeed(13);
    const model = new nn.Sequential(
      new nn.Linear(32, 128),
      new nn.ReLU(),
      new nn.Linear(128, 128),
      new nn.Tanh(),
      new nn.Linear(128, 10),
    );
    const opt = new ng.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
    const x = ng.randn([256, 32]);
    const y = ng.randint(0, 10, [256]);
    const pooled: number[] = [];
    for (let i = 0; i < 12; i++) {
      ng.tidy(() => {
        opt.zeroGrad();
        F.crossEntropy(model.forward(x), y).backward();
        opt.step();
      });
      pooled.push(ng.memory().pooledBytes);
    }
    // After two warm-up steps the pool holds the same bytes at the end of every step.
    expect(new Set(pooled.slice(2)).size).toBe(1);
  });
});

describe('recomputation', () => {
  it('checkpoint gives the gradients of the plain run, dropout masks included', () => {
    const lin1 = new nn.Linear(8, 16);
    const lin2 = new nn.Linear(16, 4);
    const segment = (h: ng.Tensor) => ng.dropout(lin1.forward(h).relu(), 0.5);
    const x = ng.randn([5, 8], { requiresGrad: true });
    const run = (useCheckpoint: boolean) => {
      for (const p of [...lin1.parameters(), ...lin2.parameters(), x]) p.grad = null;
      ng.manualSeed(21);
      const h = useCheckpoint ? ng.checkpoint(segment, x) : segment(x);
      lin2.forward(h).pow(2).sum().backward();
      return [x, ...lin1.parameters(), ...lin2.parameters()].map((p) => flat(p.grad!));
    };
    const plain = run(false);
    const checkpointed = run(true);
    plain.forEach((g, i) => expectClose(checkpointed[i], g, 1e-6, 1e-7));
  });

  it('checkpointSequential in 2 and 4 segments equals the plain run, and keeps fewer tensors', () => {
    ng.manualSeed(2);
    const seq = new nn.Sequential(
      ...Array.from({ length: 8 }, (_, i) => (i % 2 ? new nn.ReLU() : new nn.Linear(16, 16))),
    );
    const x = ng.randn([4, 16]);
    const run = (segments: number) => {
      seq.zeroGrad();
      const y = segments === 1 ? seq.forward(x) : nn.checkpointSequential(seq, segments, x);
      const saved = nodesOf(y).reduce((n, node) => n + node.savedCount, 0);
      y.sum().backward();
      return { grads: seq.parameters().map((p) => flat(p.grad!)), saved };
    };
    const plain = run(1);
    for (const segments of [2, 4]) {
      const c = run(segments);
      plain.grads.forEach((g, i) => expectClose(c.grads[i], g, 1e-6, 1e-7));
      expect(c.saved).toBeLessThan(plain.saved);
    }
  });

  it('a checkpointed segment keeps only its output until backward recomputes it', () => {
    const lin = new nn.Linear(32, 64);
    const segment = (h: ng.Tensor) => lin.forward(h).relu().add(lin.forward(h).sigmoid());
    const x = ng.randn([128, 32], { requiresGrad: true });
    const before = ng.memory().liveBytes;
    const y = ng.checkpoint(segment, x);
    expect(ng.memory().liveBytes - before).toBe(y.storage.byteLength);
    y.sum().backward();
    const plain = lin.parameters().map((p) => flat(p.grad!));
    lin.zeroGrad();
    segment(x).sum().backward();
    lin.parameters().forEach((p, i) => expectClose(plain[i], flat(p.grad!), 1e-5, 1e-6));
  });

  it("a recomputed segment's intermediates are released when its backward has run, not left to the collector", () => {
    const lin = new nn.Linear(16, 16);
    const seen: ng.Tensor[] = [];
    const segment = (h: ng.Tensor) => {
      const hidden = lin.forward(h).tanh();
      seen.push(hidden);
      return hidden.mul(hidden);
    };
    const x = ng.randn([8, 16], { requiresGrad: true });
    const y = ng.checkpoint(segment, x);
    y.sum().backward();
    expect(seen).toHaveLength(2); // the first forward and the recomputation
    expect(seen[1].storage.disposed).toBe(true);
    expect(lin.weight.grad!.storage.disposed).toBe(false);
    expect(x.grad!.storage.disposed).toBe(false);
    const plain = [flat(lin.weight.grad!), flat(x.grad!)];
    lin.zeroGrad();
    x.grad = null;
    segment(x).sum().backward();
    expectClose(plain[0], flat(lin.weight.grad!), 1e-6, 1e-7);
    expectClose(plain[1], flat(x.grad!), 1e-6, 1e-7);
  });

  it("mseLoss's intermediates are released by backward, not left to the collector", () => {
    const lin = new nn.Linear(64, 64);
    const x = ng.randn([256, 64]);
    const y = ng.randn([256, 64]);
    F.mseLoss(lin.forward(x), y).backward();
    const before = ng.memory().liveBytes;
    const out = lin.forward(x);
    F.mseLoss(out, y).backward();
    // Only the output the caller holds and a few scalars remain; the difference and its square go.
    expect(ng.memory().liveBytes - before).toBeLessThanOrEqual(out.storage.byteLength + 1024);
    lin.zeroGrad();
    lin.forward(x).sub(y).pow(2).mean().backward();
    const composed = flat(lin.weight.grad!);
    lin.zeroGrad();
    F.mseLoss(lin.forward(x), y).backward();
    expectClose(flat(lin.weight.grad!), composed, 1e-6, 1e-7);
  });

  it('checkpointSequential: boundaries and recomputed outputs go once read, the peak falls with identical gradients', () => {
    ng.manualSeed(21);
    const layers: ng.nn.Module[] = [];
    for (let i = 0; i < 16; i++) layers.push(new nn.Linear(64, 64), new nn.ReLU());
    const model = new nn.Sequential(...layers);
    const x = ng.randn([256, 64]);
    const seed = ng.randn([256, 64]);
    const activation = 256 * 64 * 4;
    const step = (forward: () => ng.Tensor): { peak: number; grads: number[][] } => {
      model.zeroGrad();
      const start = ng.memory().liveBytes;
      ng.resetPeakMemory();
      forward().backward(seed);
      const peak = (ng.memory().peakBytes - start) / activation;
      return { peak, grads: model.parameters().map((p) => flat(p.grad!)) };
    };
    step(() => model.forward(x));
    const plain = step(() => model.forward(x));
    const checkpointed = step(() => nn.checkpointSequential(model, 4, x));
    checkpointed.grads.forEach((g, i) => expectClose(g, plain.grads[i], 1e-6, 1e-7));
    // Plain: 16 activations kept and the gradients in flight (19.5). Checkpointed: 3 boundaries and
    // the last segment (4), then one recomputed segment at a time with its gradients: 11.3; 14.6 while
    // each boundary, recomputed output and gradient between segments stayed until the collector ran.
    expect(plain.peak).toBeGreaterThan(18);
    expect(checkpointed.peak).toBeLessThanOrEqual(0.6 * plain.peak);
  });

  it("checkpointSequential over blocks: a recomputed block's inner activations go once read", () => {
    ng.manualSeed(22);
    class Block extends nn.Module {
      a = new nn.Linear(64, 64);
      b = new nn.Linear(64, 64);
      forward(x: ng.Tensor): ng.Tensor {
        return this.b.forward(this.a.forward(x).tanh()).add(x).relu();
      }
    }
    const blocks = Array.from({ length: 8 }, () => new Block());
    const model = new nn.Sequential(...blocks);
    const x = ng.randn([256, 64]);
    const seed = ng.randn([256, 64]);
    const activation = 256 * 64 * 4;
    const step = (forward: () => ng.Tensor): { peak: number; grads: number[][] } => {
      model.zeroGrad();
      const start = ng.memory().liveBytes;
      ng.resetPeakMemory();
      forward().backward(seed);
      return {
        peak: (ng.memory().peakBytes - start) / activation,
        grads: model.parameters().map((p) => flat(p.grad!)),
      };
    };
    step(() => model.forward(x));
    const plain = step(() => model.forward(x));
    const checkpointed = step(() => nn.checkpointSequential(model, 8, x));
    checkpointed.grads.forEach((g, i) => expectClose(g, plain.grads[i], 1e-6, 1e-7));
    expect(checkpointed.peak).toBeLessThanOrEqual(0.5 * plain.peak);
    // A block's inner activation from the recomputation (captured by a forward hook) is released
    // by the nested backward once read: already gone when the block's weight gradient arrives at the
    // end of that walk, instead of when the checkpoint's node returns.
    const block = blocks[0];
    let inner: ng.Tensor | null = null;
    let releasedInWalk: boolean | null = null;
    const capture = block.a.registerForwardHook((_m, _args, out) => {
      inner = out;
    });
    const probe = block.a.weight.registerHook(() => {
      releasedInWalk = inner?.storage.disposed ?? null;
    });
    nn.checkpointSequential(model, 8, x).backward(seed);
    capture.remove();
    probe.remove();
    expect(releasedInWalk).toBe(true);
  });

  it('a checkpoint inside a Sequential, after layers whose activations backward releases, gives the plain gradients', () => {
    ng.manualSeed(11);
    const inner = new nn.Sequential(new nn.Linear(16, 16), new nn.Tanh(), new nn.Linear(16, 16));
    class Checkpointed extends nn.Module {
      inner = inner;
      forward(x: ng.Tensor): ng.Tensor {
        return ng.checkpoint((h) => this.inner.forward(h), x);
      }
    }
    const model = new nn.Sequential(new nn.Linear(8, 16), new nn.ReLU(), new Checkpointed(), new nn.ReLU());
    const x = ng.randn([32, 8]);
    model.forward(x).pow(2).sum().backward();
    const grads = model.parameters().map((p) => flat(p.grad!));
    model.zeroGrad();
    let h = x;
    for (const layer of [model.at(0), model.at(1), inner, model.at(3)]) h = layer.forward(h);
    h.pow(2).sum().backward();
    model.parameters().forEach((p, i) => expectClose(flat(p.grad!), grads[i], 1e-6, 1e-7));
  });

  it('checkpointByBudget keeps within its budget and gives the plain gradients', () => {
    ng.manualSeed(12);
    const layers: ng.nn.Module[] = [];
    for (let i = 0; i < 8; i++) layers.push(new nn.Linear(64, 64), new nn.ReLU());
    const model = new nn.Sequential(...layers);
    const x = ng.randn([256, 64]);
    const activation = 256 * 64 * 4;
    const plainStep = (): number[][] => {
      model.zeroGrad();
      model.forward(x).pow(2).mean().backward();
      return model.parameters().map((p) => flat(p.grad!));
    };
    const plain = plainStep();
    // Plain: 8 activations kept + 2 gradients in flight = 10; the best split reaches 8.
    for (const maxBytes of [9 * activation, 8 * activation]) {
      const net = nn.checkpointByBudget(model, { maxBytes });
      model.zeroGrad();
      const before = ng.memory().liveBytes;
      const y = net.forward(x);
      const kept = ng.memory().liveBytes - before;
      const plan = net.plan!;
      expect(plan.peakBytes).toBeLessThanOrEqual(maxBytes);
      expect(plan.keptBytes).toBeLessThan(plan.plainKeptBytes);
      expect(plan.plainKeptBytes).toBe(8 * activation);
      expect(kept).toBeLessThanOrEqual(plan.keptBytes + 4096);
      expect(plan.segments[0].start).toBe(0);
      expect(plan.segments.at(-1)!.end).toBe(16);
      plan.segments.slice(1).forEach((s, i) => expect(s.start).toBe(plan.segments[i].end));
      expect(plan.segments.some((s) => s.checkpointed)).toBe(true);
      // What backward recomputes plus what the forward keeps: every activation once, and each
      // checkpointed segment's output a second time (kept as the next segment's input).
      const recomputedSegments = plan.segments.filter((s) => s.checkpointed).length;
      expect(plan.recomputedBytes).toBeGreaterThan(0);
      expect(plan.keptBytes + plan.recomputedBytes).toBe(plan.plainKeptBytes + recomputedSegments * activation);
      y.pow(2).mean().backward();
      model.parameters().forEach((p, i) => expectClose(flat(p.grad!), plain[i], 1e-5, 1e-7));
    }
    expectNodegradError(
      () => nn.checkpointByBudget(model, { maxBytes: activation }).forward(x),
      'ERR_NODEGRAD_ARGUMENT',
      'checkpointByBudget',
      'maxBytes',
    );
    expectNodegradError(
      () => nn.checkpointByBudget(model, { maxBytes: -1 }),
      'ERR_NODEGRAD_ARGUMENT',
      'checkpointByBudget',
      'positive',
    );
  });

  it('refuses a non-function and a function that returns no tensor', () => {
    expectNodegradError(
      () => ng.checkpoint(42 as unknown as () => ng.Tensor),
      'ERR_NODEGRAD_ARGUMENT',
      'checkpoint',
      'function',
    );
    expectNodegradError(
      () => ng.checkpoint((() => 3) as unknown as () => ng.Tensor, ng.ones([1])),
      'ERR_NODEGRAD_ARGUMENT',
      'checkpoint',
      'must return a Tensor',
      'number',
    );
  });
});
