/**
 * ONNX emitters of attention: nn.MultiheadAttention, the transformer encoder, and ng.models.gpt.
 * Attention is written with opset ops (MatMul, Softmax; Where for the causal mask) so that any
 * runtime runs it; heads are split and merged with Reshape's 0 (copy this dim), which keeps the batch
 * and sequence dims dynamic.
 */
import { GPT, Block, type GPTConfig } from '../models/gpt.js';
import { TextClassifier } from '../models/text-classifier.js';
import { MultiheadAttention } from '../nn/attention.js';
import { Embedding } from '../nn/embedding.js';
import type { LayerNorm } from '../nn/normalization.js';
import { TransformerEncoderLayer } from '../nn/transformer.js';
import { TransformerEncoder } from '../nn/transformer-model.js';
import type { Linear } from '../nn/layers.js';
import { type ExportContext, registerEmitter } from './export-context.js';
import { DataType } from './schema.js';
import { emitGelu, emitLayerNorm, emitLinear } from './export-layers.js';

/** `linear` applied to a [N, T, features] value. */
function linear3d(ctx: ExportContext, x: string, layer: Linear): string {
  const w = ctx.param(layer.weight, 'weight');
  return ctx.within(layer, () => emitLinear(ctx, x, 3, w, layer.bias ? ctx.param(layer.bias, 'bias') : null));
}

function layerNorm(ctx: ExportContext, x: string, norm: LayerNorm): string {
  return ctx.within(norm, () => emitLayerNorm(ctx, x, norm));
}

/** [N, T, E] → [N, H, T, D], or [N, H, D, T] with `transposed` (a key ready for q·kᵀ). */
function splitHeads(ctx: ExportContext, x: string, heads: number, transposed = false): string {
  const split = ctx.node('Reshape', [x, ctx.ints([0, 0, heads, -1], 'shape')]);
  return ctx.node('Transpose', [split], { perm: transposed ? [0, 2, 3, 1] : [0, 2, 1, 3] });
}

/**
 * Scaled dot-product attention of [N, H, T, D] heads, merged back to [N, T, E]; `causal`: key j ≤
 * query i; `mask`: an additive float mask broadcasting to the scores [N, H, L, S].
 */
function attend(ctx: ExportContext, q: string, k: string, v: string, headDim: number, causal: boolean, mask?: string) {
  let scores = ctx.node('Mul', [ctx.node('MatMul', [q, k]), ctx.scalar(1 / Math.sqrt(headDim))]);
  if (mask !== undefined) scores = ctx.node('Add', [scores, mask]);
  if (causal) {
    // mask[i, j] = j > i over the run's T positions, so the sequence length stays dynamic.
    const T = ctx.node('Gather', [ctx.node('Shape', [q]), ctx.intScalar(2)], { axis: 0 });
    const steps = ctx.node('Range', [ctx.intScalar(0), T, ctx.intScalar(1)]);
    const rows = ctx.node('Unsqueeze', [steps, ctx.ints([1], 'axes')]);
    const future = ctx.node('Greater', [steps, rows]);
    scores = ctx.node('Where', [future, ctx.scalar(-Infinity), scores]);
  }
  const attended = ctx.node('MatMul', [ctx.node('Softmax', [scores], { axis: -1 }), v]);
  const merged = ctx.node('Transpose', [attended], { perm: [0, 2, 1, 3] });
  return ctx.node('Reshape', [merged, ctx.ints([0, 0, -1], 'shape')]);
}

/**
 * MultiheadAttention's output (not its weights) for query, key, value and, from the layers that
 * build one, an additive key padding mask [N, 1, 1, S].
 */
function multiheadAttention(ctx: ExportContext, m: MultiheadAttention, inputs: string[]): string {
  const [query, key = query, value = key, mask] = inputs;
  const batched = ctx.inputShape(m).length === 3;
  const toBatchFirst = (t: string) =>
    !batched
      ? ctx.node('Unsqueeze', [t, ctx.ints([0], 'axes')])
      : m.batchFirst
        ? t
        : ctx.node('Transpose', [t], { perm: [1, 0, 2] });
  const [q0, k0, v0] = [query, key, value].map(toBatchFirst);
  const E = m.embedDim;
  const weights = m.in_proj_weight
    ? ctx.nodeN('Split', [ctx.param(m.in_proj_weight, 'in_proj_weight'), ctx.ints([E, E, E], 'split')], { axis: 0 }, 3)
    : (['q_proj_weight', 'k_proj_weight', 'v_proj_weight'] as const).map((name) => {
        const w = m[name];
        return w ? ctx.param(w, name) : ctx.fail(`MultiheadAttention at '${ctx.pathOf(m)}' has no ${name}`);
      });
  const biases = m.in_proj_bias
    ? ctx.nodeN('Split', [ctx.param(m.in_proj_bias, 'in_proj_bias'), ctx.ints([E, E, E], 'split')], { axis: 0 }, 3)
    : [null, null, null];
  const project = (t: string, i: number) => emitLinear(ctx, t, 3, weights[i], biases[i]);
  const q = splitHeads(ctx, project(q0, 0), m.numHeads);
  const k = splitHeads(ctx, project(k0, 1), m.numHeads, true);
  const v = splitHeads(ctx, project(v0, 2), m.numHeads);
  const out = linear3d(ctx, attend(ctx, q, k, v, m.headDim, false, mask), m.out_proj);
  if (!batched) return ctx.node('Squeeze', [out, ctx.ints([0], 'axes')]);
  return m.batchFirst ? out : ctx.node('Transpose', [out], { perm: [1, 0, 2] });
}

registerEmitter(MultiheadAttention, (ctx, m, inputs) => [multiheadAttention(ctx, m, inputs)]);

// inputs: src and, from TextClassifier, an additive key padding mask.
registerEmitter(TransformerEncoderLayer, (ctx, m, [src, ...mask]) => {
  const attention = (x: string) => ctx.emit(m.self_attn, [x, x, x, ...mask])[0];
  const feedForward = (x: string) => {
    const hidden = linear3d(ctx, x, m.linear1);
    const act = m.options.activation === 'gelu' ? emitGelu(ctx, hidden) : ctx.node('Relu', [hidden]);
    return linear3d(ctx, act, m.linear2);
  };
  if (m.normFirst) {
    const x = ctx.node('Add', [src, attention(layerNorm(ctx, src, m.norm1))]);
    return [ctx.node('Add', [x, feedForward(layerNorm(ctx, x, m.norm2))])];
  }
  const x = layerNorm(ctx, ctx.node('Add', [src, attention(src)]), m.norm1);
  return [layerNorm(ctx, ctx.node('Add', [x, feedForward(x)]), m.norm2)];
});

registerEmitter(TransformerEncoder, (ctx, m, [src, ...mask]) => {
  let x = src;
  for (const layer of m.layers) x = ctx.emit(layer, [x, ...mask])[0];
  return [m.norm ? ctx.emit1(m.norm, x) : x];
});

/** The first T rows of a position table, T being dim 1 of `tokens`: the embeddings of positions 0..T-1. */
function positionRows(ctx: ExportContext, table: Embedding, tokens: string): string {
  const T = ctx.node('Gather', [ctx.node('Shape', [tokens]), ctx.ints([1], 'index')], { axis: 0 });
  const weight = ctx.param(table.weight, 'weight');
  return ctx.within(table, () => ctx.node('Slice', [weight, ctx.ints([0], 'starts'), T, ctx.ints([0], 'axes')]));
}

// int64 tokens [N, T] → logits [N, numClasses]; padding keys masked, padding left out of the mean.
registerEmitter(TextClassifier, (ctx, m, [tokens]) => {
  const { paddingIdx, pooling } = m.options;
  const padding = ctx.node('Equal', [tokens, ctx.ints([paddingIdx], 'padding_idx')]);
  // −∞ on the scores of padding keys, as MultiheadAttention's boolean keyPaddingMask: [N, 1, 1, T].
  const keys = ctx.node('Unsqueeze', [padding, ctx.ints([1, 2], 'axes')]);
  const mask = ctx.node('Where', [keys, ctx.scalar(-Infinity), ctx.scalar(0)]);
  const tokenVectors = ctx.emit1(m.tokenEmbedding, tokens);
  const embedded = ctx.node('Add', [tokenVectors, positionRows(ctx, m.positionEmbedding, tokens)]);
  const x = ctx.emit(m.encoder, [ctx.emit1(m.dropout, embedded), mask])[0];
  let pooled: string;
  if (pooling === 'cls') {
    pooled = ctx.node('Gather', [x, ctx.intScalar(0)], { axis: 1 });
  } else {
    const kept = ctx.node('Cast', [ctx.node('Not', [padding])], { to: DataType.FLOAT });
    const keep = ctx.node('Unsqueeze', [kept, ctx.ints([2], 'axes')]);
    const sum = ctx.node('ReduceSum', [ctx.node('Mul', [x, keep]), ctx.ints([1], 'axes')], { keepdims: 0 });
    pooled = ctx.node('Div', [sum, ctx.node('ReduceSum', [keep, ctx.ints([1], 'axes')], { keepdims: 0 })]);
  }
  return [ctx.emit1(m.head, pooled)];
});

/** One pre-norm GPT block: x + attn(ln_1(x)), then + mlp(ln_2(x)). */
function gptBlock(ctx: ExportContext, block: Block, x: string, config: GPTConfig): string {
  const { attn, mlp } = block;
  const attention = ctx.within(attn, () => {
    const qkv = linear3d(ctx, layerNorm(ctx, x, block.ln_1), attn.c_attn);
    const C = config.nEmbd;
    const [q, k, v] = ctx.nodeN('Split', [qkv, ctx.ints([C, C, C], 'split')], { axis: 2 }, 3);
    const heads = (t: string, transposed = false) => splitHeads(ctx, t, config.nHead, transposed);
    return linear3d(ctx, attend(ctx, heads(q), heads(k, true), heads(v), C / config.nHead, true), attn.c_proj);
  });
  const h = ctx.node('Add', [x, attention]);
  const ff = ctx.within(mlp, () =>
    linear3d(ctx, emitGelu(ctx, linear3d(ctx, layerNorm(ctx, h, block.ln_2), mlp.c_fc)), mlp.c_proj),
  );
  return ctx.node('Add', [h, ff]);
}

// Eval, without targets: int64 tokens [B, T] → the last position's logits [B, 1, vocabSize].
registerEmitter(GPT, (ctx, m, [idx]) => {
  const parts = m.transformer;
  const tokens = ctx.emit1(parts.get('wte'), idx);
  const wpe = parts.get('wpe');
  if (!(wpe instanceof Embedding)) return ctx.fail(`GPT: transformer.wpe is ${wpe.typeName}, not an Embedding`);
  let x = ctx.node('Add', [tokens, positionRows(ctx, wpe, idx)]);
  for (const block of parts.get('h').children()) {
    if (!(block instanceof Block) || block.forward !== Block.prototype.forward) {
      return ctx.fail(`GPT: block ${block.typeName} at '${ctx.pathOf(block)}' is not a GPT Block`);
    }
    x = ctx.within(block, () => gptBlock(ctx, block, x, m.config));
  }
  x = ctx.emit1(parts.get('ln_f'), x);
  const last = ctx.node('Slice', [
    x,
    ctx.ints([-1], 'starts'),
    ctx.ints([Number.MAX_SAFE_INTEGER], 'ends'),
    ctx.ints([1], 'axes'),
  ]);
  return [linear3d(ctx, last, m.lm_head)];
});
