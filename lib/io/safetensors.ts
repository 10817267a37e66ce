/**
 * safetensors files (the format PyTorch's `safetensors` package reads and writes): an 8-byte
 * little-endian header length, a JSON header {name: {dtype, shape, data_offsets}, __metadata__},
 * then the raw little-endian data. Writes are atomic (lib/io/files.ts); reads check the header
 * against the file's size before reading any tensor data.
 */
import type { DataArray, DType } from '../backend/types.js';
import { NodegradError } from '../errors.js';
import { fromArray, type Tensor } from '../tensor/tensor.js';
import { openRegularFile, writeFileAtomic } from './files.js';

const MAX_HEADER_BYTES = 100 * 1024 * 1024;

const WRITE_DTYPE: Record<DType, string> = { float32: 'F32', float64: 'F64', int32: 'I32', bool: 'BOOL' };
const ITEM_SIZE: Record<string, number> = {
  F32: 4,
  F64: 8,
  I32: 4,
  I64: 8,
  F16: 2,
  BF16: 2,
  U8: 1,
  I8: 1,
  BOOL: 1,
  I16: 2,
};

/** What readSafetensors returns: a safetensors file's tensors and its `__metadata__`. */
export interface SafetensorsFile {
  /** The tensors by name, in the file's dtypes (I64 read as int32, F16/BF16 as float32). */
  tensors: Record<string, Tensor>;
  /** The header's `__metadata__` strings (empty when the file has none). */
  metadata: Record<string, string>;
}

/** `source` names the op and the input: "load: model.safetensors". */
function fail(source: string, what: string): never {
  throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `${source} is not a valid safetensors file: ${what}`);
}

/** The bytes of a safetensors file holding `tensors`, as chunks to write one after another. */
export function serializeSafetensors(
  tensors: Record<string, Tensor>,
  metadata: Record<string, string> = {},
): Uint8Array[] {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    if (name === '__metadata__')
      throw new NodegradError('ERR_NODEGRAD_ARGUMENT', 'save: "__metadata__" is not a valid tensor name');
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
  return [lengthBytes, headerBytes, ...chunks];
}

/** Writes tensors (a state dict) to `path` atomically; metadata values must be strings. */
export function save(tensors: Record<string, Tensor>, path: string, metadata: Record<string, string> = {}): void {
  writeFileAtomic(path, serializeSafetensors(tensors, metadata));
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

function decode(source: string, name: string, dtype: string, bytes: Uint8Array, numel: number): DataArray {
  // `bytes` is a fresh, 0-offset buffer of its own, so the typed arrays can wrap it without a copy.
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F32':
      return new Float32Array(bytes.buffer, 0, numel);
    case 'F64':
      return new Float64Array(bytes.buffer, 0, numel);
    case 'I32':
      return new Int32Array(bytes.buffer, 0, numel);
    case 'BOOL':
      return Uint8Array.from(bytes.subarray(0, numel), (v) => (v !== 0 ? 1 : 0));
    case 'I64': {
      const out = new Int32Array(numel);
      for (let i = 0; i < numel; i++) {
        const v = view.getBigInt64(i * 8, true);
        if (v > 2147483647n || v < -2147483648n)
          fail(source, `tensor '${name}' (I64) holds ${v}, outside the int32 range`);
        out[i] = Number(v);
      }
      return out;
    }
    case 'F16':
      return Float32Array.from({ length: numel }, (_, i) => halfToFloat(view.getUint16(i * 2, true)));
    case 'BF16':
      return Float32Array.from({ length: numel }, (_, i) => {
        const f = new DataView(new ArrayBuffer(4));
        f.setUint32(0, view.getUint16(i * 2, true) << 16, true);
        return f.getFloat32(0, true);
      });
    default:
      return fail(
        source,
        `tensor '${name}' has dtype ${dtype}, which nodegrad cannot load (F32, F64, I32, I64, F16, BF16, BOOL)`,
      );
  }
}

/** Where one tensor lies in the data section, as the header names it. */
export interface Entry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

/** Checks a parsed header against the data section's length: every byte belongs to exactly one tensor. */
export function parseHeader(
  source: string,
  header: unknown,
  dataLength: number,
): { entries: Entry[]; metadata: Record<string, string> } {
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    fail(source, 'header is not a JSON object');
  const entries: Entry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Object.values(raw).some((v) => typeof v !== 'string')) {
        fail(source, '__metadata__ must map strings to strings');
      }
      metadata = raw as Record<string, string>;
      continue;
    }
    if (typeof raw !== 'object' || raw === null) fail(source, `entry '${name}' is not an object`);
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e.dtype !== 'string' || !(e.dtype in ITEM_SIZE))
      fail(source, `tensor '${name}' has unknown dtype ${JSON.stringify(e.dtype)}`);
    if (!Array.isArray(e.shape) || e.shape.some((s) => !Number.isSafeInteger(s) || s < 0))
      fail(source, `tensor '${name}' has an invalid shape`);
    const offsets = e.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || offsets.some((o) => !Number.isSafeInteger(o) || o < 0)) {
      fail(source, `tensor '${name}' has invalid data_offsets`);
    }
    const [begin, end] = offsets as number[];
    if (begin > end || end > dataLength) {
      fail(
        source,
        `tensor '${name}' data_offsets [${begin}, ${end}] lie outside the ${dataLength}-byte data section (truncated file?)`,
      );
    }
    const shape = e.shape as number[];
    const numel = shape.reduce((p, s) => p * s, 1);
    if (end - begin !== numel * ITEM_SIZE[e.dtype]) {
      fail(
        source,
        `tensor '${name}' spans ${end - begin} bytes but shape [${shape.join(',')}] of ${e.dtype} needs ${numel * ITEM_SIZE[e.dtype]}`,
      );
    }
    entries.push({ name, dtype: e.dtype, shape, begin, end });
  }
  const sorted = [...entries].sort((a, b) => a.begin - b.begin);
  let cursor = 0;
  for (const e of sorted) {
    if (e.begin < cursor) fail(source, `tensor '${e.name}' overlaps the previous tensor`);
    if (e.begin > cursor) fail(source, `${e.begin - cursor} bytes before tensor '${e.name}' belong to no tensor`);
    cursor = e.end;
  }
  if (cursor !== dataLength) fail(source, `${dataLength - cursor} bytes after the last tensor belong to no tensor`);
  return { entries, metadata };
}

/** Bytes to read from: an open regular file, or a caller's buffer. */
interface Source {
  readonly name: string;
  readonly size: number;
  read(position: number, length: number): Uint8Array;
  close(): void;
}

function openSource(op: string, input: string | Uint8Array): Source {
  if (input instanceof Uint8Array) {
    return {
      name: `the given ${input.byteLength}-byte buffer`,
      size: input.byteLength,
      // A copy: the tensors own their bytes, and Buffer#slice would only make a view.
      read: (position, length) => new Uint8Array(input.subarray(position, position + length)),
      close: () => undefined,
    };
  }
  if (typeof input !== 'string') {
    const given: unknown = input;
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `${op}: expected a file path or a Uint8Array, got ${given === null ? 'null' : typeof given}`,
    );
  }
  const file = openRegularFile(op, input);
  return {
    name: input,
    size: file.size,
    read: (position, length) => file.read(position, length),
    close: () => file.close(),
  };
}

/**
 * Reads and validates a safetensors file (a path, or its bytes as a Buffer/Uint8Array): tensors
 * (I64 → int32, F16/BF16 → float32) and metadata. The 8-byte length and the JSON header are read
 * and checked against the file's size first; then only the bytes the header names are read.
 */
export function readSafetensors(input: string | Uint8Array): SafetensorsFile {
  return readSafetensorsFor('readSafetensors', input);
}

/** readSafetensors for `op`, which its errors name (load, loadModel, readSafetensors). */
export function readSafetensorsFor(op: string, input: string | Uint8Array): SafetensorsFile {
  const source = openSource(op, input);
  try {
    const { size } = source;
    const name = `${op}: ${source.name}`;
    if (size < 8) fail(name, `${size} bytes is shorter than the 8-byte header length`);
    const headerLength = Buffer.from(source.read(0, 8)).readBigUInt64LE(0);
    if (headerLength > BigInt(Math.min(MAX_HEADER_BYTES, size - 8))) {
      fail(
        name,
        `header length ${headerLength} exceeds the file (${size} bytes) or the ${MAX_HEADER_BYTES}-byte limit`,
      );
    }
    const dataStart = 8 + Number(headerLength);
    let header: unknown;
    try {
      header = JSON.parse(Buffer.from(source.read(8, Number(headerLength))).toString('utf8'));
    } catch (error) {
      fail(name, `header is not valid JSON (${(error as Error).message})`);
    }
    const { entries, metadata } = parseHeader(name, header, size - dataStart);
    const tensors: Record<string, Tensor> = {};
    for (const e of entries) {
      const numel = e.shape.reduce((p, s) => p * s, 1);
      tensors[e.name] = fromArray(
        decode(name, e.name, e.dtype, source.read(dataStart + e.begin, e.end - e.begin), numel),
        e.shape,
      );
    }
    return { tensors, metadata };
  } finally {
    source.close();
  }
}

/**
 * The tensors of a safetensors file (a path or its bytes), by name: a state dict for
 * Module.loadStateDict, as PyTorch's `safetensors.torch.load_file`.
 *
 * @example
 * ```ts
 * const model = new ng.nn.Linear(3, 1);
 * ng.save(model.stateDict(), 'linear.safetensors');
 * model.loadStateDict(ng.load('linear.safetensors'));
 * ```
 */
export function load(input: string | Uint8Array): Record<string, Tensor> {
  return readSafetensorsFor('load', input).tensors;
}
