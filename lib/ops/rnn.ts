/**
 * One layer and direction of a recurrent net (RNN, LSTM, GRU) as one autograd node. Forward: one
 * GEMM projects the whole sequence's input (x [T·N, in] · W_ihᵀ + b_ih); each step then runs one
 * GEMM (h · W_hhᵀ) and one fused gate kernel. Backward walks time in reverse with the fused gate
 * backward and one GEMM per step for the recurrent gradient; the weight, bias and input gradients
 * are one GEMM each over the gate gradients of all steps.
 *
 * Hidden states live in one buffer of T + 1 slots [T + 1, N, P]: the initial state in the slot before
 * the first step processed, so the outputs are T consecutive slots and the states each step reads
 * are T consecutive slots too (the rows of dW_hh's GEMM).
 */
import { getBackend } from '../backend/index.js';
import type { FloatArray, GemmParams } from '../backend/types.js';
import { isGradEnabled } from '../autograd/grad-mode.js';
import { record } from '../autograd/node.js';
import { NodegradError, formatShape } from '../errors.js';
import { allocateUninitialized, type Storage } from '../tensor/storage.js';
import { uninitTensor, type Tensor } from '../tensor/tensor.js';
import { denseArray, narrow, reshape } from './shape.js';

/** The recurrence: plain RNN with tanh or ReLU, LSTM, or GRU. */
export type RecurrentMode = 'rnnTanh' | 'rnnRelu' | 'lstm' | 'gru';

/** The parameters of one layer and direction, in PyTorch's layout (gates stacked along dim 0). */
export interface RecurrentWeights {
  /** [gates · hidden, inputSize]. */
  weightIh: Tensor;
  /** [gates · hidden, P], P = projSize or hidden. */
  weightHh: Tensor;
  /** [gates · hidden] or null. */
  biasIh: Tensor | null;
  /** [gates · hidden] or null. */
  biasHh: Tensor | null;
  /** LSTM's projection [projSize, hidden], or null. */
  weightHr: Tensor | null;
}

/** What {@link recurrentLayer} returns. */
export interface RecurrentLayerResult {
  /** [T, N, P]: the hidden state after every step, in time order. */
  output: Tensor;
  /** [N, P]: the hidden state after the last step processed. */
  h: Tensor;
  /** LSTM's cell state after the last step [N, hidden]; null for RNN and GRU. */
  c: Tensor | null;
}

const gateCount: Record<RecurrentMode, number> = { rnnTanh: 1, rnnRelu: 1, lstm: 4, gru: 3 };

/**
 * Buffers that live for one forward or backward pass: they go back to the framework's pool at its
 * end, so the next step's pass reuses them instead of faulting in fresh pages.
 */
class Scratch {
  private readonly storages: Storage[] = [];

  constructor(private readonly dtype: 'float32' | 'float64') {}

  /** A buffer of n elements whose contents are unspecified, released by release(). */
  take(n: number): FloatArray {
    const storage = allocateUninitialized(this.dtype, n);
    this.storages.push(storage);
    return storage.data as FloatArray;
  }

  /** Returns every buffer taken to the pool. */
  release(): void {
    for (const storage of this.storages) storage.recycle('an RNN pass scratch buffer');
  }
}

function array(n: number, dtype: 'float32' | 'float64'): FloatArray {
  return allocateUninitialized(dtype, n).data as FloatArray;
}

/** C[cOffset..] = op(A) · op(B) (+ C when accumulate), all row-major with the given leading dims. */
function gemm(
  a: FloatArray,
  aOffset: number,
  transA: boolean,
  b: FloatArray,
  bOffset: number,
  transB: boolean,
  c: FloatArray,
  cOffset: number,
  m: number,
  n: number,
  k: number,
  accumulate: boolean,
): void {
  const params: GemmParams = {
    transA,
    transB,
    m,
    n,
    k,
    alpha: 1,
    beta: accumulate ? 1 : 0,
    aOffset,
    lda: Math.max(transA ? m : k, 1),
    bOffset,
    ldb: Math.max(transB ? k : n, 1),
    cOffset,
    ldc: Math.max(n, 1),
    batch: 1,
    strideA: 0,
    strideB: 0,
    strideC: 0,
  };
  getBackend().gemm(params, a, b, c);
}

function checkShape(op: string, what: string, t: Tensor | null, expected: readonly number[]): void {
  if (t && (t.ndim !== expected.length || t.shape.some((s, i) => s !== expected[i]))) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `${op}: expected ${what} of shape ${formatShape(expected)}, got ${formatShape(t.shape)}`,
    );
  }
}

/**
 * Runs one layer in one direction over a sequence: input [T, N, in], h0 [N, P], c0 [N, hidden] (LSTM
 * only). With `reverse` the steps run from t = T − 1 down to 0 (a bidirectional net's backward
 * direction); output[t] is still the state at time t. Differentiable in every tensor argument.
 */
export function recurrentLayer(
  mode: RecurrentMode,
  input: Tensor,
  h0: Tensor,
  c0: Tensor | null,
  weights: RecurrentWeights,
  reverse = false,
): RecurrentLayerResult {
  const op = mode === 'lstm' ? 'lstm' : mode === 'gru' ? 'gru' : 'rnn';
  const { weightIh, weightHh, biasIh, biasHh, weightHr } = weights;
  if (input.ndim !== 3 || input.shape[0] < 1) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `${op}: expected input of shape [T, N, inputSize] with T >= 1, got ${formatShape(input.shape)}`,
    );
  }
  const [T, N, I] = input.shape;
  const gates = gateCount[mode];
  const H = weightIh.shape[0] / gates;
  const P = weightHr ? weightHr.shape[0] : H;
  const G = gates * H;
  checkShape(op, 'weight_ih', weightIh, [G, I]);
  checkShape(op, 'weight_hh', weightHh, [G, P]);
  checkShape(op, 'bias_ih', biasIh, [G]);
  checkShape(op, 'bias_hh', biasHh, [G]);
  checkShape(op, 'weight_hr', weightHr, [P, H]);
  checkShape(op, 'hidden state', h0, [N, P]);
  checkShape(op, 'cell state', c0, [N, H]);
  if (mode === 'lstm' && !c0) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `${op}: the LSTM needs a cell state c0 of shape [${N}, ${H}]`);
  }
  const tensors = [input, h0, c0, weightIh, weightHh, biasIh, biasHh, weightHr];
  const dtype = input.dtype;
  for (const t of tensors) {
    if (t && t.dtype !== dtype) {
      throw new NodegradError(
        'ERR_NODEGRAD_DTYPE',
        `${op}: expected every tensor to be ${dtype} like the input, got ${t.dtype} (cast the module with .to('${dtype}'))`,
      );
    }
  }
  if (dtype !== 'float32' && dtype !== 'float64') {
    throw new NodegradError('ERR_NODEGRAD_DTYPE', `${op}: expected a float32 or float64 input, got ${dtype}`);
  }
  const inputs = tensors.filter((t): t is Tensor => t !== null);
  const recording = isGradEnabled() && inputs.some((t) => t.requiresGrad);
  const backend = getBackend();
  const NP = N * P;
  const NH = N * H;
  const x = denseArray(input);
  const wIh = denseArray(weightIh);
  const wHh = denseArray(weightHh);
  const bHh = biasHh ? denseArray(biasHh) : null;
  const wHr = weightHr ? denseArray(weightHr) : null;

  const scratch = new Scratch(dtype);
  // The input projection of every step in one GEMM, over rows that start as b_ih.
  const xg = scratch.take(T * N * G);
  if (biasIh) {
    const b = denseArray(biasIh);
    for (let r = 0; r < T * N; r++) xg.set(b, r * G);
  }
  gemm(x, 0, false, wIh, 0, true, xg, 0, T * N, G, I, biasIh !== null);

  // The packed result: T + 1 hidden-state slots, then LSTM's final cell state.
  const packed = uninitTensor([(T + 1) * NP + (mode === 'lstm' ? NH : 0)], dtype);
  const hs = packed.storage.data as FloatArray;
  const slotOf = (t: number) => (reverse ? t : t + 1);
  const prevOf = (t: number) => (reverse ? t + 1 : t);
  const initialSlot = reverse ? T : 0;
  hs.set(denseArray(h0), initialSlot * NP);
  // Training keeps every step's cell state, activated gates and projection input; inference one step's.
  const kept = (n: number) => (recording ? array(n, dtype) : scratch.take(n));
  const cs = mode === 'lstm' ? kept((recording ? T + 1 : 2) * NH) : null;
  const cSlot = (slot: number) => (recording ? slot : slot & 1) * NH;
  if (cs && c0) cs.set(denseArray(c0), cSlot(initialSlot));
  const saved = (mode === 'lstm' || mode === 'gru') && recording ? array(T * N * 4 * H, dtype) : null;
  const gruScratch = mode === 'gru' && !recording ? null : saved;
  const hpre = wHr ? kept((recording ? T : 1) * NH) : null;
  const hg = scratch.take(N * G);
  // W_hhᵀ [P, G] once: the per-step GEMM then reads B untransposed, which packs much faster at small N.
  const wHhT = scratch.take(P * G);
  backend.copyStrided([P, G], { data: wHh, offset: 0, strides: [1, P] }, { data: wHhT, offset: 0, strides: [G, 1] });
  const params = { batch: N, hidden: H, relu: mode === 'rnnRelu' };
  const span = (a: FloatArray, offset: number, n: number) => a.subarray(offset, offset + n);
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    const slot = slotOf(t);
    const prev = prevOf(t);
    gemm(hs, prev * NP, false, wHhT, 0, false, hg, 0, N, G, P, false);
    const xt = span(xg, t * N * G, N * G);
    const hOut = span(hs, slot * NP, NP);
    if (mode === 'lstm' && cs) {
      const hCell = hpre ? span(hpre, recording ? t * NH : 0, NH) : hOut;
      const gatesOut = saved ? span(saved, t * 4 * NH, 4 * NH) : null;
      backend.lstmCell(params, xt, hg, bHh, span(cs, cSlot(prev), NH), span(cs, cSlot(slot), NH), hCell, gatesOut);
      if (hpre && wHr) gemm(hCell, 0, false, wHr, 0, true, hs, slot * NP, N, P, H, false);
    } else if (mode === 'gru') {
      const out = gruScratch ? span(gruScratch, t * 4 * NH, 4 * NH) : null;
      backend.gruCell(params, xt, hg, bHh, span(hs, prev * NP, NP), hOut, out);
    } else {
      backend.rnnCell(params, xt, hg, bHh, hOut);
    }
  }
  const lastSlot = slotOf(reverse ? 0 : T - 1);
  if (cs) hs.set(span(cs, cSlot(lastSlot), NH), (T + 1) * NP);
  scratch.release();

  if (recording) {
    const context: BackwardContext = { mode, T, N, I, H, P, reverse, x, wIh, wHh, wHr, hs, cs, saved, hpre, inputs };
    const needs = { input, h0, c0, weightIh, weightHh, biasIh, biasHh, weightHr };
    record(op, packed, inputs, (g) => recurrentBackward(context, needs, denseArray(g)), inputs);
  }
  const outputStart = (reverse ? 0 : 1) * NP;
  return {
    output: reshape(narrow(packed, 0, outputStart, T * NP), [T, N, P]),
    h: reshape(narrow(packed, 0, lastSlot * NP, NP), [N, P]),
    c: mode === 'lstm' ? reshape(narrow(packed, 0, (T + 1) * NP, NH), [N, H]) : null,
  };
}

interface BackwardContext {
  mode: RecurrentMode;
  T: number;
  N: number;
  I: number;
  H: number;
  P: number;
  reverse: boolean;
  x: FloatArray;
  wIh: FloatArray;
  wHh: FloatArray;
  wHr: FloatArray | null;
  hs: FloatArray;
  cs: FloatArray | null;
  saved: FloatArray | null;
  hpre: FloatArray | null;
  inputs: readonly Tensor[];
}

type LayerTensors = Record<
  'input' | 'h0' | 'c0' | 'weightIh' | 'weightHh' | 'biasIh' | 'biasHh' | 'weightHr',
  Tensor | null
>;

/** The reverse-time walk: gradients of every input of {@link recurrentLayer} from that of the packed result. */
function recurrentBackward(ctx: BackwardContext, tensors: LayerTensors, g: FloatArray): (Tensor | null)[] {
  const { mode, T, N, I, H, P, reverse, x, wIh, wHh, wHr, hs, cs, saved, hpre } = ctx;
  const backend = getBackend();
  const dtype = g instanceof Float64Array ? 'float64' : 'float32';
  const G = gateCount[mode] * H;
  const NP = N * P;
  const NH = N * H;
  const TN = T * N;
  const span = (a: FloatArray, offset: number, n: number) => a.subarray(offset, offset + n);
  // gh[slot] accumulates the gradient of each hidden state: from the outputs and h_N (the incoming
  // gradient), then from the step after it, which has run by the time the slot is read.
  const scratch = new Scratch(dtype);
  const gh = scratch.take((T + 1) * NP);
  gh.set(span(g, 0, (T + 1) * NP));
  const dc = cs ? scratch.take(NH) : null;
  if (dc) dc.set(span(g, (T + 1) * NP, NH));
  const dGx = scratch.take(TN * G);
  const dGh = mode === 'gru' ? scratch.take(TN * G) : dGx;
  const dhCell = wHr ? scratch.take(NH) : null;
  const params = { batch: N, hidden: H, relu: mode === 'rnnRelu' };
  for (let s = T - 1; s >= 0; s--) {
    const t = reverse ? T - 1 - s : s;
    const slot = reverse ? t : t + 1;
    const prev = reverse ? t + 1 : t;
    const dh = span(gh, slot * NP, NP);
    const dGxt = span(dGx, t * N * G, N * G);
    const dGht = span(dGh, t * N * G, N * G);
    if (mode === 'lstm' && cs && dc && saved) {
      let dCell = dh;
      if (dhCell && wHr) {
        gemm(gh, slot * NP, false, wHr, 0, false, dhCell, 0, N, H, P, false);
        dCell = dhCell;
      }
      backend.lstmCellBackward(
        params,
        span(saved, t * 4 * NH, 4 * NH),
        span(cs, prev * NH, NH),
        span(cs, slot * NH, NH),
        dCell,
        dc,
        dGxt,
      );
    } else if (mode === 'gru' && saved) {
      const hPrev = span(hs, prev * NP, NP);
      backend.gruCellBackward(params, span(saved, t * 4 * NH, 4 * NH), hPrev, dh, dGxt, dGht, span(gh, prev * NP, NP));
    } else {
      backend.rnnCellBackward(params, span(hs, slot * NP, NP), dh, dGxt);
    }
    gemm(dGh, t * N * G, false, wHh, 0, false, gh, prev * NP, N, P, G, true);
  }
  const result = (t: Tensor | null, compute: (out: FloatArray) => void): Tensor | null => {
    if (!t?.requiresGrad) return null;
    const out = uninitTensor(t.shape, dtype);
    compute(out.storage.data as FloatArray);
    return out;
  };
  const ones = scratch.take(TN).fill(1);
  const prevStart = reverse ? NP : 0;
  const outputStart = reverse ? 0 : NP;
  const initialSlot = reverse ? T : 0;
  const grads: LayerTensors = {
    input: result(tensors.input, (out) => gemm(dGx, 0, false, wIh, 0, false, out, 0, TN, I, G, false)),
    h0: result(tensors.h0, (out) => out.set(span(gh, initialSlot * NP, NP))),
    c0: result(tensors.c0, (out) => dc && out.set(dc)),
    weightIh: result(tensors.weightIh, (out) => gemm(dGx, 0, true, x, 0, false, out, 0, G, I, TN, false)),
    weightHh: result(tensors.weightHh, (out) => gemm(dGh, 0, true, hs, prevStart, false, out, 0, G, P, TN, false)),
    biasIh: result(tensors.biasIh, (out) => gemm(ones, 0, false, dGx, 0, false, out, 0, 1, G, TN, false)),
    biasHh: result(tensors.biasHh, (out) => gemm(ones, 0, false, dGh, 0, false, out, 0, 1, G, TN, false)),
    weightHr: result(
      tensors.weightHr,
      (out) => hpre && gemm(gh, outputStart, true, hpre, 0, false, out, 0, P, H, TN, false),
    ),
  };
  scratch.release();
  const order: (keyof LayerTensors)[] = ['input', 'h0', 'c0', 'weightIh', 'weightHh', 'biasIh', 'biasHh', 'weightHr'];
  return order.filter((k) => tensors[k] !== null).map((k) => grads[k]);
}
