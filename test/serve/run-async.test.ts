// ng.runAsync: an inference's native kernels run off the JS thread. Results must equal the
// synchronous forward's; reads of values inside fn throw; failures reject without breaking the addon.
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import * as ng from '../../lib/index.js';
import { NodegradError } from '../../lib/errors.js';

const nativeLoaded = ng.backend.getBackend().name === 'native';

function expectDeferredError(error: unknown, op: string): void {
  expect(error).toBeInstanceOf(NodegradError);
  expect((error as NodegradError).code).toBe('ERR_NODEGRAD_DEFERRED');
  expect((error as NodegradError).message).toContain(op);
}

describe.runIf(nativeLoaded)('runAsync (native backend)', () => {
  afterEach(() => {
    ng.backend.setBackend(ng.backend.getBackend());
  });

  it('matches the synchronous forward of LeNet-5, and forwardAsync is the same call', async () => {
    ng.manualSeed(1);
    const model = ng.models.lenet5().eval();
    const x = ng.randn([16, 1, 28, 28]);
    const expected = ng.inferenceMode(() => model.forward(x)).toArray();
    expect((await ng.runAsync(() => model.forward(x))).toArray()).toEqual(expected);
    expect((await model.forwardAsync(x)).toArray()).toEqual(expected);
  });

  it('matches the synchronous forward of ResNet-18 (BatchNorm in eval, residual adds, pools)', async () => {
    ng.manualSeed(2);
    const model = ng.models.resnet18({ numClasses: 10 }).eval();
    const x = ng.randn([2, 3, 32, 32]);
    const expected = ng.inferenceMode(() => model.forward(x)).toArray();
    const out = await model.forwardAsync(x);
    expect(out.shape).toEqual([2, 10]);
    expect(out.toArray()).toEqual(expected);
  });

  it('matches the synchronous forward of a small GPT (embedding, layer norm, attention, GELU)', async () => {
    ng.manualSeed(3);
    const model = ng.models.gpt({ vocabSize: 27, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 32 }).eval();
    const idx = ng.randint(0, 27, [3, 16]);
    const expected = ng.inferenceMode(() => model.forward(idx).logits).toArray();
    const out = await ng.runAsync(() => model.forward(idx).logits);
    expect(out.toArray()).toEqual(expected);
  });

  it('keeps the event loop running while a batch-256 LeNet-5 inference is in flight', async () => {
    ng.manualSeed(4);
    const model = ng.models.lenet5().eval();
    const x = ng.randn([256, 1, 28, 28]);
    // One kernel thread leaves a core to the event loop on a small shared machine.
    const threads = ng.backend.getNumThreads();
    ng.backend.setNumThreads(1);
    onTestFinished(() => {
      ng.backend.setNumThreads(threads);
    });
    await model.forwardAsync(x); // warm-up: pools and arena pages
    let ticks = 0;
    let lastTick = performance.now();
    let longestGap = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - lastTick);
      lastTick = now;
      ticks++;
    }, 1);
    // Let the interval start ticking before the call.
    await new Promise((resolve) => setTimeout(resolve, 5));
    ticks = 0;
    longestGap = 0;
    lastTick = performance.now();
    const started = performance.now();
    await model.forwardAsync(x);
    const elapsed = performance.now() - started;
    clearInterval(timer);
    // Kernels run on the JS thread would let no timer fire before the call resolved.
    expect(ticks).toBeGreaterThan(0);
    // Loose (a shared, loaded machine can starve the JS thread of a core): some tick came before the end.
    expect(longestGap).toBeLessThan(elapsed);
  });

  it('refuses item() and toArray() inside fn with ERR_NODEGRAD_DEFERRED, and works afterwards', async () => {
    const x = ng.randn([4, 4]);
    const failure = await ng.runAsync(() => x.relu().sum().item()).catch((error: unknown) => error);
    expectDeferredError(failure, 'item()');
    const failure2 = await ng.runAsync(() => x.mul(2).toArray()).catch((error: unknown) => error);
    expectDeferredError(failure2, 'data()');
    const y = await ng.runAsync(() => x.mul(2));
    expect(Array.from(y.data())).toEqual(Array.from(x.data(), (v) => v * 2));
  });

  it('refuses an op that computes in TypeScript on values a deferred kernel computes', async () => {
    const x = ng.randn([8]);
    const failure = await ng.runAsync(() => x.relu().gt(0)).catch((error: unknown) => error);
    expectDeferredError(failure, 'comparison');
    // On values that exist (fn's input), TypeScript ops compute correctly inside fn.
    const mask = await ng.runAsync(() => x.gt(0));
    expect(Array.from(mask.data())).toEqual(Array.from(x.data(), (v) => (v > 0 ? 1 : 0)));
  });

  it('refuses TypeScript reads of pending values in indexing, triu and repeatInterleave', async () => {
    const x = ng.randn([4, 4]);
    const index = ng.tensor([2, 0], { dtype: 'int32' });
    const pendingIndex = await ng.runAsync(() => x.index(index.add(0))).catch((error: unknown) => error);
    expectDeferredError(pendingIndex, 'indexing with a tensor index');
    const triangle = await ng.runAsync(() => ng.triu(x.mul(2))).catch((error: unknown) => error);
    expectDeferredError(triangle, 'triu');
    const counts = ng.tensor([1, 2, 0, 1], { dtype: 'int32' });
    const repeated = await ng
      .runAsync(() => ng.repeatInterleave(x, counts.add(0), { dim: 0 }))
      .catch((error: unknown) => error);
    expectDeferredError(repeated, 'repeatInterleave');
    // The same ops on values that exist compute inside fn, and correctly.
    const rows = await ng.runAsync(() => x.index(index));
    expect(Array.from(rows.data())).toEqual([...x.data().slice(8, 12), ...x.data().slice(0, 4)]);
  });

  it('rejects with the kernel error when a deferred kernel fails, and the addon keeps working', async () => {
    const weight = ng.randn([5, 3]);
    // Indices computed inside fn are only checked when the kernel runs.
    const failure = await ng
      .runAsync(() => ng.nn.functional.embedding(ng.full([2], 9, { dtype: 'int32' }).add(0), weight))
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(NodegradError);
    expect((failure as NodegradError).code).toBe('ERR_NODEGRAD_NATIVE');
    expect((failure as NodegradError).message).toContain('indexSelect');
    const ok = await ng.runAsync(() => ng.nn.functional.embedding(ng.tensor([1, 4], { dtype: 'int32' }), weight));
    const rows = weight.toArray() as number[][];
    expect(ok.toArray()).toEqual([rows[1], rows[4]]);
  });

  it('rejects with fn’s own error, after the kernels it recorded ran', async () => {
    const x = ng.ones([3]);
    let y: ng.Tensor | undefined;
    const failure = await ng
      .runAsync(() => {
        y = x.mul(3);
        throw new Error('boom');
      })
      .catch((error: unknown) => error);
    expect((failure as Error).message).toBe('boom');
    expect(y?.toArray()).toEqual([3, 3, 3]);
  });

  it('runs many concurrent calls in order, each with its own correct result', async () => {
    ng.manualSeed(5);
    const model = ng.models.lenet5().eval();
    const inputs = Array.from({ length: 12 }, () => ng.randn([4, 1, 28, 28]));
    const expected = inputs.map((x) => ng.inferenceMode(() => model.forward(x)).toArray());
    const outputs = await Promise.all(inputs.map((x) => model.forwardAsync(x)));
    expect(outputs.map((y) => y.toArray())).toEqual(expected);
  });

  it('reuses the buffers fn released only after the call settled', async () => {
    ng.manualSeed(6);
    const model = ng.models.lenet5().eval();
    const x = ng.randn([32, 1, 28, 28]);
    const expected = ng.inferenceMode(() => model.forward(x)).toArray();
    const pending = model.forwardAsync(x);
    // Synchronous work while the call is in flight allocates from the pool.
    for (let i = 0; i < 5; i++) ng.inferenceMode(() => model.forward(ng.randn([32, 1, 28, 28])));
    expect((await pending).toArray()).toEqual(expected);
  });

  it('keeps an input disposed while the call is in flight out of the pool until the call settled', async () => {
    ng.manualSeed(7);
    const model = ng.models.lenet5().eval();
    const x = ng.randn([64, 1, 28, 28]);
    const expected = ng.inferenceMode(() => model.forward(x)).toArray();
    const pending = ng.runAsync(() => model.forward(x));
    await Promise.resolve(); // fn has run: its kernels are queued or running
    x.dispose();
    // A pooled x would be handed out here and overwritten while the replay still reads it.
    const others = Array.from({ length: 4 }, () => ng.full([64, 1, 28, 28], 7));
    expect((await pending).toArray()).toEqual(expected);
    expect(others.every((t) => t.max().item() === 7)).toBe(true);
  });

  it('refuses a native kernel that does not defer, naming it, and in-place writes from TypeScript', async () => {
    const logits = ng.randn([4, 3]);
    const target = ng.tensor([0, 1, 2, 1], { dtype: 'int32' });
    const failure = await ng
      .runAsync(() => ng.nn.functional.crossEntropy(logits, target))
      .catch((error: unknown) => error);
    expect((failure as { code?: string }).code).toBe('ERR_NODEGRAD_NATIVE');
    expect((failure as Error).message).toMatch(/crossEntropy: cannot run while ng.runAsync defers kernels/);
    const x = ng.zeros([3]);
    const inPlace = await ng.runAsync(() => x.exp().add_(1)).catch((error: unknown) => error);
    expectDeferredError(inPlace, 'add_');
  });
});

describe('runAsync (reference backend)', () => {
  it('runs fn synchronously and resolves with its result', async () => {
    const previous = ng.backend.getBackend();
    ng.backend.setBackend(ng.backend.referenceBackend);
    try {
      const x = ng.tensor([1, -2, 3]);
      const y = await ng.runAsync(() => x.relu().sum().item());
      expect(y).toBe(4);
    } finally {
      ng.backend.setBackend(previous);
    }
  });
});
