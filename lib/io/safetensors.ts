/**
 * safetensors files (the format PyTorch's `safetensors` package reads and writes): an 8-byte
 * little-endian header length, a JSON header {name: {dtype, shape, data_offsets}, __metadata__},
 * then the raw little-endian data. Writes go to a temporary file that is synced and renamed over
 * the target, so a crash never leaves a half-written file where a good one was.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { DataArray, DType } from '../backend/types.js';
import { NodegradError } from '../errors.js';
import { fromArray, type Tensor } from '../tensor/tensor.js';

const MAX_HEADER_BYTES = 100 * 1024 * 1024;

const WRITE_DTYPE: Record<DType, string> = { float32: 'F32', float64: 'F64', int32: 'I32' };
const ITEM_SIZE: Record<string, number> = { F32: 4, F64: 8, I32: 4, I64: 8, F16: 2, BF16: 2, U8: 1, I8: 1, BOOL: 1, I16: 2 };

export interface SafetensorsFile {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

function fail(path: string, what: string): never {
  throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `load: ${path} is not a valid safetensors file: ${what}`);
}

/** Writes tensors (a state dict) to `path` atomically; metadata values must be strings. */
export function save(tensors: Record<string, Tensor>, path: string, metadata: Record<string, string> = {}): void {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    if (name === '__metadata__') throw new NodegradError('ERR_NODEGRAD_ARGUMENT', 'save: "__metadata__" is not a valid tensor name');
    const data = t.contiguous().data();
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    header[name] = { dtype: WRITE_DTYPE[t.dtype], shape: [...t.shape], data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  // Pad with spaces so the data section starts 8-byte aligned, as the reference writer does.
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const lengthBytes = Buffer.alloc(8);
  lengthBytes.writeBigUInt64LE(BigInt(headerBytes.length));
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(temp, 'w');
  try {
    writeSync(fd, lengthBytes);
    writeSync(fd, headerBytes);
    for (const c of chunks) writeSync(fd, c);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(temp, path);
  } catch (error) {
    try { closeSync(fd); } catch { /* already closed */ }
    rmSync(temp, { force: true });
    throw error;
  }
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

function decode(path: string, name: string, dtype: string, bytes: Uint8Array, numel: number): DataArray {
  const copy = new Uint8Array(bytes);  // a real copy: Buffer.slice would only make a view
  const view = new DataView(copy.buffer);
  switch (dtype) {
    case 'F32': return new Float32Array(copy.buffer, 0, numel);
    case 'F64': return new Float64Array(copy.buffer, 0, numel);
    case 'I32': return new Int32Array(copy.buffer, 0, numel);
    case 'I64': {
      const out = new Int32Array(numel);
      for (let i = 0; i < numel; i++) {
        const v = view.getBigInt64(i * 8, true);
        if (v > 2147483647n || v < -2147483648n) fail(path, `tensor '${name}' (I64) holds ${v}, outside the int32 range`);
        out[i] = Number(v);
      }
      return out;
    }
    case 'F16': return Float32Array.from({ length: numel }, (_, i) => halfToFloat(view.getUint16(i * 2, true)));
    case 'BF16': return Float32Array.from({ length: numel }, (_, i) => {
      const f = new DataView(new ArrayBuffer(4));
      f.setUint32(0, view.getUint16(i * 2, true) << 16, true);
      return f.getFloat32(0, true);
    });
    default: return fail(path, `tensor '${name}' has dtype ${dtype}, which nodegrad cannot load (F32, F64, I32, I64, F16, BF16)`);
  }
}

/** Reads and validates a safetensors file: tensors (I64 → int32, F16/BF16 → float32) and metadata. */
export function readSafetensors(path: string): SafetensorsFile {
  let file: Buffer;
  try {
    file = readFileSync(path);
  } catch (error) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `load: cannot read ${path}: ${(error as Error).message}`);
  }
  if (file.length < 8) fail(path, `${file.length} bytes is shorter than the 8-byte header length`);
  const headerLength = file.readBigUInt64LE(0);
  if (headerLength > BigInt(Math.min(MAX_HEADER_BYTES, file.length - 8))) {
    fail(path, `header length ${headerLength} exceeds the file (${file.length} bytes) or the ${MAX_HEADER_BYTES}-byte limit`);
  }
  const dataStart = 8 + Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(file.subarray(8, dataStart).toString('utf8'));
  } catch (error) {
    fail(path, `header is not valid JSON (${(error as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail(path, 'header is not a JSON object');
  const dataLength = file.length - dataStart;
  const entries: { name: string; dtype: string; shape: number[]; begin: number; end: number }[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Object.values(raw).some((v) => typeof v !== 'string')) {
        fail(path, '__metadata__ must map strings to strings');
      }
      metadata = raw as Record<string, string>;
      continue;
    }
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== 'object' || e === null) fail(path, `entry '${name}' is not an object`);
    if (typeof e.dtype !== 'string' || !(e.dtype in ITEM_SIZE)) fail(path, `tensor '${name}' has unknown dtype ${JSON.stringify(e.dtype)}`);
    if (!Array.isArray(e.shape) || e.shape.some((s) => !Number.isInteger(s) || s < 0)) fail(path, `tensor '${name}' has an invalid shape`);
    const offsets = e.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || offsets.some((o) => !Number.isInteger(o) || o < 0)) {
      fail(path, `tensor '${name}' has invalid data_offsets`);
    }
    const [begin, end] = offsets as number[];
    if (begin > end || end > dataLength) fail(path, `tensor '${name}' data_offsets [${begin}, ${end}] lie outside the ${dataLength}-byte data section (truncated file?)`);
    const numel = (e.shape as number[]).reduce((p, s) => p * s, 1);
    if (end - begin !== numel * ITEM_SIZE[e.dtype]) {
      fail(path, `tensor '${name}' spans ${end - begin} bytes but shape [${e.shape}] of ${e.dtype} needs ${numel * ITEM_SIZE[e.dtype]}`);
    }
    entries.push({ name, dtype: e.dtype, shape: e.shape as number[], begin, end });
  }
  const sorted = [...entries].sort((a, b) => a.begin - b.begin);
  let cursor = 0;
  for (const e of sorted) {
    if (e.begin < cursor) fail(path, `tensor '${e.name}' overlaps the previous tensor`);
    if (e.begin > cursor) fail(path, `${e.begin - cursor} bytes before tensor '${e.name}' belong to no tensor`);
    cursor = e.end;
  }
  if (cursor !== dataLength) fail(path, `${dataLength - cursor} bytes after the last tensor belong to no tensor`);
  const tensors: Record<string, Tensor> = {};
  for (const e of entries) {
    const numel = e.shape.reduce((p, s) => p * s, 1);
    tensors[e.name] = fromArray(decode(path, e.name, e.dtype, file.subarray(dataStart + e.begin, dataStart + e.end), numel), e.shape);
  }
  return { tensors, metadata };
}

/** The tensors of a safetensors file, by name (a state dict for Module.loadStateDict). */
export function load(path: string): Record<string, Tensor> {
  return readSafetensors(path).tensors;
}
