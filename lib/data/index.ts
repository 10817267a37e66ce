export { TensorDataset, DataLoader, permutation, type Dataset, type DataLoaderOptions } from './dataset.js';
export { mnist, readIdx, idxDataset, cifar10, type Split } from './sources.js';
export * as transforms from './transforms.js';
