/**
 * TensorProto → nodegrad Tensor, for initializers and Constant values. Floats become float32; every
 * integer type becomes float64, which holds integers exactly up to 2^53 (the importer's convention for
 * shapes and indices, see ops.ts); bool stays bool. External data is read from files beside the model.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { NodegradError } from '../errors.js';
import { tensor } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import { DataType, type TensorProto } from './schema.js';

/** Where external data files are looked up, and those read so far (by path). */
export interface ExternalData {
  dir?: string;
  files: Map<string, Uint8Array>;
}

const BYTES: Partial<Record<number, number>> = {
  [DataType.FLOAT]: 4,
  [DataType.UINT8]: 1,
  [DataType.INT8]: 1,
  [DataType.INT32]: 4,
  [DataType.INT64]: 8,
  [DataType.BOOL]: 1,
  [DataType.FLOAT16]: 2,
  [DataType.DOUBLE]: 8,
};

function fail(t: TensorProto, message: string): never {
  throw new NodegradError('ERR_NODEGRAD_ONNX', `onnx: tensor '${t.name}': ${message}`);
}

function halfToFloat(h: number): number {
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  const sign = h & 0x8000 ? -1 : 1;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

function externalBytes(t: TensorProto, entries: Record<string, string>, external: ExternalData, size: number) {
  const location = entries.location;
  if (!location) fail(t, 'external data without a location');
  if (isAbsolute(location)) fail(t, `external data location '${location}' must be relative to the model's folder`);
  if (external.dir === undefined)
    fail(t, `its data is in external file '${location}': load the model from a path or pass options.externalDataDir`);
  const path = join(external.dir, location);
  let file = external.files.get(path);
  if (!file) {
    try {
      file = readFileSync(path);
    } catch {
      fail(t, `external data file '${location}' was not found at ${path}`);
    }
    external.files.set(path, file);
  }
  const offset = 'offset' in entries ? Number(entries.offset) : 0;
  const length = 'length' in entries ? Number(entries.length) : size;
  if (length !== size || offset + length > file.length)
    fail(t, `external data ${location} [${offset}, ${offset + length}) does not hold the ${size} bytes expected`);
  return file.subarray(offset, offset + length);
}

function fromRaw(t: TensorProto, raw: Uint8Array, numel: number): Float32Array | Float64Array | Uint8Array {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const read = (get: (i: number) => number, into: Float32Array | Float64Array | Uint8Array) => {
    for (let i = 0; i < numel; i++) into[i] = get(i);
    return into;
  };
  switch (t.dataType) {
    case DataType.FLOAT:
      return read((i) => view.getFloat32(i * 4, true), new Float32Array(numel));
    case DataType.DOUBLE:
      return read((i) => view.getFloat64(i * 8, true), new Float32Array(numel));
    case DataType.FLOAT16:
      return read((i) => halfToFloat(view.getUint16(i * 2, true)), new Float32Array(numel));
    case DataType.INT64:
      return read((i) => Number(view.getBigInt64(i * 8, true)), new Float64Array(numel));
    case DataType.INT32:
      return read((i) => view.getInt32(i * 4, true), new Float64Array(numel));
    case DataType.INT8:
      return read((i) => view.getInt8(i), new Float64Array(numel));
    case DataType.UINT8:
      return read((i) => view.getUint8(i), new Float64Array(numel));
    default:
      return read((i) => (view.getUint8(i) ? 1 : 0), new Uint8Array(numel));
  }
}

function fromLists(t: TensorProto): number[] {
  switch (t.dataType) {
    case DataType.FLOAT:
      return t.floatData ?? [];
    case DataType.DOUBLE:
      return t.doubleData ?? [];
    case DataType.INT64:
      return t.int64Data ?? [];
    case DataType.FLOAT16:
      return (t.int32Data ?? []).map(halfToFloat);
    default:
      return t.int32Data ?? [];
  }
}

/** The values of a TensorProto as a tensor: float32 (floats), float64 (integers) or bool. */
export function tensorFromProto(t: TensorProto, external: ExternalData = { files: new Map() }): Tensor {
  const size = BYTES[t.dataType];
  if (size === undefined)
    fail(t, `data type ${t.dataType} is not supported (float, double, float16, int8/32/64, uint8, bool)`);
  const numel = t.dims.reduce((a, b) => a * b, 1);
  const float = t.dataType === DataType.FLOAT || t.dataType === DataType.DOUBLE || t.dataType === DataType.FLOAT16;
  const dtype = float ? 'float32' : t.dataType === DataType.BOOL ? 'bool' : 'float64';
  let values: Float32Array | Float64Array | Uint8Array;
  if (t.externalData) values = fromRaw(t, externalBytes(t, t.externalData, external, numel * size), numel);
  else if (t.rawData) {
    if (t.rawData.length !== numel * size)
      fail(t, `raw data of ${t.rawData.length} bytes for dims [${t.dims.join(', ')}] (expected ${numel * size})`);
    values = fromRaw(t, t.rawData, numel);
  } else {
    const list = fromLists(t);
    if (list.length !== numel) fail(t, `${list.length} values for dims [${t.dims.join(', ')}] (expected ${numel})`);
    values =
      dtype === 'float32'
        ? Float32Array.from(list)
        : dtype === 'bool'
          ? Uint8Array.from(list, (v) => (v ? 1 : 0))
          : Float64Array.from(list);
  }
  return tensor(values, { dtype, shape: t.dims });
}
