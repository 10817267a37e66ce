/**
 * `ng.models`: LeNet-5, AlexNet, VGG, GoogLeNet and ResNet in torchvision's layout (the same
 * state-dict keys), language models (lstmLM, gpt) and a text classifier, each built by a
 * registered factory so that `ng.save(model, path)` and `ng.loadModel(path)` round-trip it, and
 * summary() for a layer table.
 *
 * @module
 */
import { registerModel } from '../io/registry.js';
import type { Module } from '../nn/module.js';
import * as alexnetVgg from './alexnet-vgg.js';
import * as googlenetModule from './googlenet.js';
import * as lenet from './lenet.js';
import * as gptModule from './gpt.js';
import * as lstm from './lstm-lm.js';
import * as resnet from './resnet.js';
import * as textClassifierModule from './text-classifier.js';

export { LeNet5, type LeNet5Options } from './lenet.js';
export { AlexNet, VGG, type ClassifierOptions, type VggOptions } from './alexnet-vgg.js';
export { GoogLeNet, BasicConv2d, Inception, InceptionAux, type GoogLeNetOptions } from './googlenet.js';
export { ResNet, BasicBlock, Bottleneck, type BlockClass } from './resnet.js';
export { summary, type Summary, type SummaryRow } from './summary.js';
export { LstmLM, type LstmLMOptions } from './lstm-lm.js';
export { TextClassifier, type TextClassifierOptions } from './text-classifier.js';
export {
  GPT,
  Block,
  CausalSelfAttention,
  MLP,
  type GPTOptions,
  type GPTConfig,
  type GPTOutput,
  type GenerateOptions,
} from './gpt.js';

// Registered under their own names, so `ng.save(model, path)` records how to rebuild what they build.
/** A LeNet5 (default: 1×28×28 inputs, 10 classes, ReLU); saveable with `ng.save`. */
export const lenet5 = registerModel('lenet5', lenet.lenet5);
/** An AlexNet (default: 3-channel 224×224 inputs, 1000 classes), as `torchvision.models.alexnet`. */
export const alexnet = registerModel('alexnet', alexnetVgg.alexnet);
/** A VGG-11 (configuration A; `batchNorm: true` for vgg11_bn), as `torchvision.models.vgg11`. */
export const vgg11 = registerModel('vgg11', alexnetVgg.vgg11);
/** A VGG-16 (configuration D; `batchNorm: true` for vgg16_bn), as `torchvision.models.vgg16`. */
export const vgg16 = registerModel('vgg16', alexnetVgg.vgg16);
/** A VGG-19 (configuration E; `batchNorm: true` for vgg19_bn), as `torchvision.models.vgg19`. */
export const vgg19 = registerModel('vgg19', alexnetVgg.vgg19);
/** A GoogLeNet (Inception v1; `auxLogits: true` adds the auxiliary heads), as `torchvision.models.googlenet`. */
export const googlenet = registerModel('googlenet', googlenetModule.googlenet);
/**
 * A ResNet-18 (BasicBlocks [2, 2, 2, 2]; 11,689,512 parameters with 1000 classes), as
 * `torchvision.models.resnet18` with random weights; state-dict keys match torchvision's.
 *
 * @example
 * ```ts
 * const model = ng.models.resnet18({ numClasses: 10 });
 * model.eval();
 * const logits = ng.noGrad(() => model.forward(ng.randn([2, 3, 224, 224]))); // [2, 10]
 * console.log(ng.models.summary(model, [3, 224, 224]).text);
 * ng.save(model, 'resnet18.safetensors'); // ng.loadModel('resnet18.safetensors') rebuilds it
 * ```
 */
export const resnet18 = registerModel('resnet18', resnet.resnet18);
/** A ResNet-34 (BasicBlocks [3, 4, 6, 3]), as `torchvision.models.resnet34`. */
export const resnet34 = registerModel('resnet34', resnet.resnet34);
/** A ResNet-50 (Bottlenecks [3, 4, 6, 3]), as `torchvision.models.resnet50`. */
export const resnet50 = registerModel('resnet50', resnet.resnet50);

/**
 * word_language_model's LSTM language model (embedding → LSTM → linear decoder, optionally tied);
 * saveable with `ng.save`.
 *
 * @example
 * ```ts
 * const lm = ng.models.lstmLM({ vocabSize: 27, embeddingSize: 64, hiddenSize: 64, tieWeights: true });
 * const [logProbs, [h, c]] = lm.forward(ng.randint(0, 27, [35, 4])); // [140, 27], [2, 4, 64] twice
 * ```
 */
export const lstmLM = registerModel('lstmLM', lstm.lstmLM);
/**
 * nanoGPT's GPT (token and position embeddings, pre-norm causal self-attention blocks, tied
 * language-model head) with its state-dict keys; saveable with `ng.save`.
 *
 * @example
 * ```ts
 * const model = ng.models.gpt({ vocabSize: 27, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 32 });
 * const idx = ng.randint(0, 27, [4, 16]);
 * const { logits, loss } = model.forward(idx, idx); // logits [4, 16, 27], loss a 0-d tensor
 * model.eval();
 * const more = model.generate(idx.narrow(1, 0, 1), 10, { temperature: 0.8, topK: 5 }); // [4, 11]
 * ```
 */
export const gpt = registerModel('gpt', gptModule.gpt);
/**
 * A transformer-encoder text classifier: token and learned position embeddings, a pre-norm
 * `nn.TransformerEncoder` (batch first) that masks padding, mean pooling over the non-padding
 * tokens (or the first token's vector with `pooling: 'cls'`) and a linear head; int32 tokens
 * [N, T] → logits [N, numClasses]. Options and defaults: {@link TextClassifierOptions}. PyTorch
 * ships no such model; saveable with `ng.save`.
 *
 * @example
 * ```ts
 * const model = ng.models.textClassifier({ vocabSize: 100, numClasses: 3, dModel: 32, nhead: 4 });
 * const tokens = ng.tensor([[5, 17, 42, 0, 0], [8, 9, 10, 11, 12]], { dtype: 'int32' }); // 0 pads
 * const logits = model.forward(tokens); // [2, 3]
 * const loss = ng.nn.functional.crossEntropy(logits, ng.tensor([2, 0], { dtype: 'int32' }));
 * ng.save(model, 'classifier.safetensors'); // ng.loadModel('classifier.safetensors') rebuilds it
 * ```
 */
export const textClassifier = registerModel('textClassifier', textClassifierModule.textClassifier);

/** The options every zoo model takes (batchNorm only VGG's), as the registry passes them. */
export interface ModelOptions {
  /** Outputs of the last layer. Default 1000 (LeNet5: 10). */
  numClasses?: number;
  /** Channels of the input images. Default 3 (LeNet5: 1). */
  inChannels?: number;
  /** VGG only: batch norm after every convolution. Default false. */
  batchNorm?: boolean;
}

/** The image-classification zoo by name, for the CLI and for code that picks a model from configuration. */
export const registry: Record<string, (options: ModelOptions) => Module> = {
  lenet5,
  alexnet,
  vgg11,
  vgg16,
  vgg19,
  googlenet,
  resnet18,
  resnet34,
  resnet50,
};
