/**
 * Dynamic batching, as Triton's and TorchServe's: queued requests whose inputs agree except in
 * the batch (first) dimension run as one forward, their inputs concatenated along it, and the
 * output is split back by each request's batch size.
 */
import type { DataArray, DType } from '../backend/types.js';

/** A queued request's input: its own copy of the data, row-major. */
export interface BatchInput {
  readonly data: DataArray;
  readonly shape: readonly number[];
  readonly dtype: DType;
}

/** Requests that may share a forward have the same key: dtype and every dimension but the first. */
export function batchKey(input: BatchInput): string {
  return `${input.dtype}:${input.shape.slice(1).join('x')}`;
}

/**
 * The requests to run next: the oldest, then every later one with its key, in order, while the
 * total batch stays within `maxBatch` (a request larger than maxBatch runs alone). `full` is true
 * when waiting longer would not make the batch larger.
 */
export function takeBatch<R extends { input: BatchInput }>(
  queue: readonly R[],
  maxBatch: number,
): { requests: R[]; full: boolean } {
  const key = batchKey(queue[0].input);
  const requests = [queue[0]];
  let total = queue[0].input.shape[0];
  let full = total >= maxBatch;
  for (let i = 1; i < queue.length && !full; i++) {
    const candidate = queue[i];
    if (batchKey(candidate.input) !== key) continue;
    if (total + candidate.input.shape[0] > maxBatch) {
      full = true;
      break;
    }
    requests.push(candidate);
    total += candidate.input.shape[0];
    full = total >= maxBatch;
  }
  return { requests, full };
}

/** The shape of the inputs concatenated along the first dimension. */
export function batchShape(inputs: readonly BatchInput[]): number[] {
  return [inputs.reduce((sum, input) => sum + input.shape[0], 0), ...inputs[0].shape.slice(1)];
}

/** Row-major parts of one batch as one array (the one part itself when alone): the worker does this. */
export function concatenate(parts: readonly DataArray[]): DataArray {
  if (parts.length === 1) return parts[0];
  const data = new (parts[0].constructor as new (length: number) => DataArray)(
    parts.reduce((sum, part) => sum + part.length, 0),
  );
  let offset = 0;
  for (const part of parts) {
    data.set(part, offset);
    offset += part.length;
  }
  return data;
}

/**
 * The output of a batched forward cut back into one piece per request, by their batch sizes; the
 * one request of a batch of one gets the array itself (no copy). Null when the output's first
 * dimension is not the batch's.
 */
export function split(
  data: DataArray,
  shape: readonly number[],
  sizes: readonly number[],
): { data: DataArray; shape: number[] }[] | null {
  if (sizes.length === 1) return [{ data, shape: [...shape] }];
  const rows = sizes.reduce((sum, size) => sum + size, 0);
  if (shape.length === 0 || shape[0] !== rows) return null;
  const perRow = data.length / rows;
  let row = 0;
  return sizes.map((size) => {
    const piece = data.slice(row * perRow, (row + size) * perRow);
    row += size;
    return { data: piece, shape: [size, ...shape.slice(1)] };
  });
}
