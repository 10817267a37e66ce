// The native fused recurrent gate kernels against the reference ones, outputs poisoned (NaN)
// beforehand, in both float dtypes; and the boundary refusing short buffers.
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import type { Backend, FloatArray } from '../../lib/backend/types.js';
import { expectClose, randomArray } from '../helpers.js';

const native: Backend = ng.backend.getBackend();
const reference = ng.backend.referenceBackend;
const DTYPES = ['float32', 'float64'] as const;
type Kind = (typeof DTYPES)[number];
const batch = 3;
const hidden = 5;
const n = batch * hidden;

/** Runs `kernel` on both backends over fresh copies of the inputs and NaN-filled outputs, then compares the outputs. */
function compare(
  kind: Kind,
  inputs: number[],
  outputs: number[],
  kernel: (b: Backend, ins: FloatArray[], outs: FloatArray[]) => void,
): void {
  const make = () => inputs.map((size, i) => randomArray(size, 11 + i, kind));
  const poisoned = () =>
    outputs.map((size) => (kind === 'float32' ? new Float32Array(size) : new Float64Array(size)).fill(NaN));
  const ins = make();
  const nativeOut = poisoned();
  const referenceOut = poisoned();
  kernel(native, ins, nativeOut);
  kernel(reference, make(), referenceOut);
  const [rtol, atol] = kind === 'float32' ? [1e-5, 1e-6] : [1e-12, 1e-13];
  nativeOut.forEach((out, i) => expectClose(out, referenceOut[i], rtol, atol));
}

describe.each(DTYPES)('%s', (kind) => {
  it.each([false, true])('rnnCell and rnnCellBackward (relu %s)', (relu) => {
    const p = { batch, hidden, relu };
    compare(kind, [n, n, hidden], [n], (b, [x, h, bias], [out]) => b.rnnCell(p, x, h, bias, out));
    compare(kind, [n, n], [n], (b, [h, g], [out]) => b.rnnCellBackward(p, h, g, out));
  });

  it.each([false, true])('lstmCell and lstmCellBackward (bias %s)', (withBias) => {
    const p = { batch, hidden };
    compare(kind, [4 * n, 4 * n, 4 * hidden, n], [n, n, 4 * n], (b, [x, h, bias, cPrev], [c, hOut, gates]) =>
      b.lstmCell(p, x, h, withBias ? bias : null, cPrev, c, hOut, gates),
    );
    // gradC is read and rewritten in place: it starts as input data in both runs.
    compare(kind, [4 * n, n, n, n, n], [4 * n, n], (b, [gates, cPrev, c, gradH, gradC], [gradGates, gradCPrev]) => {
      b.lstmCellBackward(p, gates, cPrev, c, gradH, gradC, gradGates);
      gradCPrev.set(gradC);
    });
  });

  it.each([false, true])('gruCell and gruCellBackward (bias %s)', (withBias) => {
    const p = { batch, hidden };
    compare(kind, [3 * n, 3 * n, 3 * hidden, n], [n, 4 * n], (b, [x, h, bias, hPrev], [hOut, saved]) =>
      b.gruCell(p, x, h, withBias ? bias : null, hPrev, hOut, saved),
    );
    compare(kind, [4 * n, n, n, n], [3 * n, 3 * n, n], (b, [saved, hPrev, gradH, acc], [gx, gh, gradHPrev]) => {
      gradHPrev.set(acc);
      b.gruCellBackward(p, saved, hPrev, gradH, gx, gh, gradHPrev);
    });
  });
});

describe('native boundary', () => {
  it('refuses buffers shorter than batch x hidden implies, before writing', () => {
    const out = new Float32Array(4 * n).fill(7);
    const short = new Float32Array(4 * n - 1);
    const full = new Float32Array(4 * n);
    let caught: unknown;
    try {
      native.lstmCell({ batch, hidden }, short, full, null, full, out, out, null);
    } catch (error) {
      caught = error;
    }
    expect((caught as { code?: string }).code).toBe('ERR_NODEGRAD_NATIVE');
    expect((caught as Error).message).toMatch(/lstmCell.*xGates/);
    expect(out.every((v) => v === 7)).toBe(true);
  });

  it('refuses mixed float types', () => {
    const f32 = new Float32Array(n);
    expect(() => native.rnnCell({ batch, hidden, relu: false }, f32, new Float64Array(n), null, f32)).toThrow(
      /rnnCell/,
    );
  });
});
