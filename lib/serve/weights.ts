/**
 * Weights shared by every worker of a pool: the safetensors bytes are read once into a
 * SharedArrayBuffer, and each worker's parameters become typed arrays over it, so N workers hold
 * one copy of the weights, not N.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { DataArray } from '../backend/types.js';
import { NodegradError } from '../errors.js';
import { load, parseHeader, type Entry } from '../io/safetensors.js';
import type { AnyModule } from '../nn/module.js';
import { Parameter } from '../nn/parameter.js';
import { fromArray, type Tensor } from '../tensor/tensor.js';

const MAX_HEADER_BYTES = 100 * 1024 * 1024;

/** A file's bytes in shared memory, read from a path or copied from a caller's buffer. */
export function readShared(weights: string | Uint8Array): SharedArrayBuffer {
  if (weights instanceof Uint8Array) {
    const shared = new SharedArrayBuffer(weights.byteLength);
    new Uint8Array(shared).set(weights);
    return shared;
  }
  if (typeof weights !== 'string') {
    const given: unknown = weights;
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `serve.createPool: weights must be a safetensors path or its bytes (a Buffer or Uint8Array), got ${typeof given}`,
    );
  }
  let fd: number;
  try {
    fd = openSync(weights, 'r');
  } catch (error) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `serve.createPool: cannot read weights: ${(error as Error).message}`,
    );
  }
  try {
    const size = fstatSync(fd).size;
    const shared = new SharedArrayBuffer(size);
    const view = new Uint8Array(shared);
    for (let done = 0; done < size;) {
      const read = readSync(fd, view, done, size - done, done);
      if (read === 0) break;
      done += read;
    }
    return shared;
  } finally {
    closeSync(fd);
  }
}

/** The checked header of safetensors bytes: every tensor's place, and where the data section starts. */
export function layout(bytes: Uint8Array, source: string): { entries: Entry[]; dataStart: number } {
  const fail = (what: string): never => {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `serve.createPool: ${source} is not a valid safetensors file: ${what}`,
    );
  };
  if (bytes.byteLength < 8) fail(`${bytes.byteLength} bytes is shorter than the 8-byte header length`);
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(Math.min(MAX_HEADER_BYTES, bytes.byteLength - 8))) {
    fail(`header length ${headerLength} exceeds the file (${bytes.byteLength} bytes)`);
  }
  const dataStart = 8 + Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, dataStart - 8).toString('utf8'));
  } catch (error) {
    fail(`header is not valid JSON (${(error as Error).message})`);
  }
  const { entries } = parseHeader(source, header, bytes.byteLength - dataStart);
  return { entries, dataStart };
}

/** A typed array over the shared bytes of `entry`, or null when its dtype or alignment needs a copy. */
function sharedView(shared: SharedArrayBuffer, dataStart: number, entry: Entry): DataArray | null {
  const begin = dataStart + entry.begin;
  const bytes = entry.end - entry.begin;
  if (entry.dtype === 'F32' && begin % 4 === 0) return new Float32Array(shared, begin, bytes / 4);
  if (entry.dtype === 'F64' && begin % 8 === 0) return new Float64Array(shared, begin, bytes / 8);
  if (entry.dtype === 'I32' && begin % 4 === 0) return new Int32Array(shared, begin, bytes / 4);
  return null;
}

/**
 * The state dict in `shared`: tensors over the shared bytes where the dtype (F32, F64, I32) and
 * alignment allow, else the whole file decoded by ng.load (a copy).
 */
export function sharedTensors(shared: SharedArrayBuffer, source: string): Record<string, Tensor> {
  const { entries, dataStart } = layout(new Uint8Array(shared), source);
  const tensors: Record<string, Tensor> = {};
  for (const entry of entries) {
    const view = sharedView(shared, dataStart, entry);
    if (!view) return load(new Uint8Array(shared));
    tensors[entry.name] = fromArray(view, entry.shape);
  }
  return tensors;
}

/**
 * Loads `tensors` into `model` (checked by loadStateDict: keys and shapes), then points each
 * parameter of the same dtype at the shared tensor, dropping the private copy loadStateDict made.
 */
export function loadShared(model: AnyModule, tensors: Record<string, Tensor>): void {
  model.loadStateDict(tensors);
  for (const [prefix, module] of model.namedModules()) {
    for (const [name, parameter] of module.namedParameters({ recurse: false })) {
      const shared = tensors[prefix ? `${prefix}.${name}` : name] as Tensor | undefined;
      if (shared?.dtype !== parameter.dtype || Reflect.get(module, name) !== parameter) continue;
      Reflect.set(module, name, new Parameter(shared, false));
    }
  }
}
