// The sequence-model suites of `npm run bench` (gpt, lstm, attention), each beside the same
// workload in PyTorch (bench/lm_peer.py through bench/torch_peer.py), rounds interleaved.
// bench/gpt.mjs, bench/rnn.mjs and bench/attention.mjs run one suite alone.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as ng from '../dist/index.js';
import { interleaved, printRow, torch } from './peers.mjs';
import { timeCalls } from './timing.mjs';

const { nn } = ng;
const F = nn.functional;

/** nanoGPT (4 layers, 4 heads, 128 wide, block 64, vocabulary 65, dropout 0, bias) at batch 16. */
export const GPT = { nLayer: 4, nHead: 4, nEmbd: 128, blockSize: 64, vocabSize: 65, dropout: 0, bias: true, batch: 16 };

/** One AdamW training step of the GPT: zero_grad, forward(x, y), backward, clip_grad_norm_(1.0), step. */
export function gptStep() {
  ng.manualSeed(0);
  const { batch, ...options } = GPT;
  const model = ng.models.gpt(options);
  const optimizer = model.configureOptimizers(0.1, 1e-3, [0.9, 0.99]);
  const x = ng.randint(0, GPT.vocabSize, [batch, GPT.blockSize], { dtype: 'int32' });
  const y = ng.randint(0, GPT.vocabSize, [batch, GPT.blockSize], { dtype: 'int32' });
  const params = [...model.parameters()];
  return () => {
    optimizer.zeroGrad();
    const { loss } = model.forward(x, y);
    loss.backward();
    nn.utils.clipGradNorm_(params, 1.0);
    optimizer.step();
  };
}

/** word_language_model's LSTM LM sizes: 2 layers, embedding and hidden 200, T = 35, batch 20, vocabulary 1000. */
export const LSTM = { vocab: 1000, emb: 200, hidden: 200, layers: 2, T: 35, N: 20 };

/** One SGD (lr 0.1) training step of the LSTM LM, hidden state carried over (detached) as in truncated BPTT. */
export function lstmStep() {
  const { vocab, emb, hidden: size, layers, T, N } = LSTM;
  ng.manualSeed(0);
  const encoder = new nn.Embedding(vocab, emb);
  const rnn = new nn.LSTM(emb, size, { numLayers: layers });
  const decoder = new nn.Linear(size, vocab);
  const params = [...encoder.parameters(), ...rnn.parameters(), ...decoder.parameters()];
  const optimizer = new ng.optim.SGD(params, { lr: 0.1 });
  const data = ng.randint(0, vocab, [T + 1, N], { dtype: 'int32' });
  const inputs = data.narrow(0, 0, T).contiguous();
  const targets = data.narrow(0, 1, T).reshape([-1]);
  let hidden = [ng.zeros([layers, N, size]), ng.zeros([layers, N, size])];
  return () => {
    hidden = hidden.map((h) => h.detach());
    optimizer.zeroGrad();
    const [output, next] = rnn.forward(encoder.forward(inputs), hidden);
    hidden = next;
    F.crossEntropy(decoder.forward(output).view([-1, vocab]), targets).backward();
    optimizer.step();
  };
}

/** Attention shapes: B = 4, H = 4, E = 64, causal. */
export const ATTENTION = { B: 4, H: 4, E: 64, lengths: [256, 1024], memoryLengths: [1024, 2048, 4096] };

function attentionInputs(T) {
  const { B, H, E } = ATTENTION;
  const [q, k, v] = [0, 1, 2].map(() => ng.randn([B, H, T, E], { requiresGrad: true }));
  return { q, k, v, grad: ng.randn([B, H, T, E]) };
}

function attentionOnce({ q, k, v, grad }) {
  F.scaledDotProductAttention(q, k, v, { isCausal: true }).backward(grad);
  q.grad = k.grad = v.grad = null;
}

/** Causal scaled dot-product attention forward + backward at length T. */
export function attentionStep(T) {
  const x = attentionInputs(T);
  return () => attentionOnce(x);
}

// The garbage collector on demand (as --expose-gc), so that the timing loops' garbage is freed before
// a peak is measured instead of during it.
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc');

/** Collects, then lets the finalizers that return arena blocks run (they run from later turns). */
async function settle() {
  collect();
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setTimeout(resolve, 5));
}

/**
 * Peak tensor memory above the inputs of causal attention forward + backward at length T: the
 * output, the log-sum-exp rows and the three gradients, all O(T) (naive attention adds B·H·T² scores).
 */
export async function attentionPeakBytes(T) {
  const x = attentionInputs(T);
  await settle();
  ng.resetPeakMemory();
  const before = ng.memory().liveBytes;
  attentionOnce(x);
  const peak = ng.memory().peakBytes - before;
  for (const t of Object.values(x)) t.dispose();
  return peak;
}

const gptName = `train gpt ${GPT.nLayer}x${GPT.nEmbd} T=${GPT.blockSize} batch ${GPT.batch}`;
const lstmName = `train lstm lm ${LSTM.layers}x${LSTM.hidden} T=${LSTM.T} batch ${LSTM.N}`;
const attentionName = (T) => `sdpa causal fwd+bwd B=4 H=4 E=64 T=${T}`;

/** Runs the named suite (gpt, lstm or attention) for `rounds` interleaved rounds and prints its rows. */
export async function lmSuite(suite, { rounds = 3, usePeers = true } = {}) {
  const threads = ng.getNumThreads();
  const peerRound = (r) => (usePeers ? torch(suite, r, threads) : new Map());
  if (suite === 'gpt' || suite === 'lstm') {
    const [name, make, tokens, what] =
      suite === 'gpt'
        ? [gptName, gptStep, GPT.batch * GPT.blockSize, 'AdamW, clip_grad_norm_ 1.0']
        : [lstmName, lstmStep, LSTM.T * LSTM.N, 'SGD, vocabulary 1000'];
    console.log(`\n## ${suite.toUpperCase()} language-model training (tokens/s, ${threads} threads; ${what})`);
    const step = make();
    const { peer, mine } = interleaved(rounds, peerRound, (once) => once.set(name, tokens / timeCalls(step).seconds));
    printRow(name, mine.get(name), 'tokens/s', 'PyTorch', peer.get(name));
  } else if (suite === 'attention') {
    console.log(`\n## Causal scaled dot-product attention forward + backward (calls/s, ${threads} threads)`);
    console.log('   PyTorch: softmax(q kᵀ / √E + mask) v (torch 1.13 has no fused attention)');
    const steps = new Map(ATTENTION.lengths.map((T) => [T, attentionStep(T)]));
    const { peer, mine } = interleaved(rounds, peerRound, (once) => {
      for (const [T, step] of steps) once.set(attentionName(T), 1 / timeCalls(step).seconds);
    });
    for (const T of ATTENTION.lengths) {
      const name = attentionName(T);
      printRow(name, mine.get(name), 'calls/s', 'PyTorch', peer.get(name));
      console.log(`${''.padEnd(46)} ${(1e3 / mine.get(name)).toFixed(2).padStart(10)} ms per call`);
    }
    for (const T of ATTENTION.memoryLengths) {
      const mib = (await attentionPeakBytes(T)) / 2 ** 20;
      console.log(`${`sdpa causal fwd+bwd peak memory T=${T}`.padEnd(46)} ${mib.toFixed(1).padStart(10)} MiB`);
    }
  } else {
    throw new Error(`unknown suite ${suite}`);
  }
}

/** Runs the suites of a standalone script (`node bench/gpt.mjs [--no-peers] [--rounds N]`). */
export async function standalone(suite) {
  const argv = process.argv.slice(2);
  const at = argv.indexOf('--rounds');
  ng.setNumThreads(Number(process.env.NODEGRAD_NUM_THREADS ?? 2));
  await lmSuite(suite, { usePeers: !argv.includes('--no-peers'), rounds: at >= 0 ? Number(argv[at + 1]) : 3 });
}
