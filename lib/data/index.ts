/**
 * `ng.data`: datasets, the DataLoader that batches them, the embedded MNIST digits and readers for
 * the IDX and CIFAR-10 formats, as PyTorch's `torch.utils.data` with torchvision's data sets.
 *
 * @module
 */
export { TensorDataset, DataLoader, permutation, type Dataset, type DataLoaderOptions } from './dataset.js';
export { DistributedSampler, type Sampler, type DistributedSamplerOptions } from './sampler.js';
export { mnist, readIdx, idxDataset, cifar10, type Split } from './sources.js';
export * as transforms from './transforms.js';
export {
  names,
  textFile,
  NAME_BOUNDARY,
  type TextCorpus,
  type NamesCorpus,
  type TextSplit,
  type TextFileOptions,
} from './text.js';
