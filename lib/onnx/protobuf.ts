/**
 * The protocol-buffer wire format, as much of it as ONNX files use: varints (int64 values as JS
 * numbers, exact up to 2^53), length-delimited fields (strings, bytes, messages, packed arrays) and
 * 32/64-bit fixed fields. ProtoWriter appends fields to a growing buffer; readFields walks a
 * message's fields once, and the readers below turn a field's payload into values.
 */
import { NodegradError } from '../errors.js';

/** Wire types: 0 varint, 1 64-bit, 2 length-delimited, 5 32-bit. */
export const WIRE = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 } as const;

const TWO_32 = 2 ** 32;
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

// Payloads from this size on are kept by reference, not copied, until finish().
const LARGE = 4096;

/**
 * Appends protobuf fields to a buffer that grows as needed. Large payloads (a weight's bytes, an
 * embedded message holding one) are kept as parts and joined once by finish(), so a model's weights
 * are copied once however deep their messages nest.
 */
export class ProtoWriter {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  private pos = 0;
  private readonly parts: Uint8Array[] = [];
  private partsLength = 0;

  /** The number of bytes written so far. */
  get length(): number {
    return this.partsLength + this.pos;
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** Appends `part` by reference, after the bytes written so far. */
  private append(part: Uint8Array): void {
    if (this.pos > 0) {
      this.parts.push(this.buf.subarray(0, this.pos));
      this.partsLength += this.pos;
      this.buf = new Uint8Array(256);
      this.view = new DataView(this.buf.buffer);
      this.pos = 0;
    }
    this.parts.push(part);
    this.partsLength += part.length;
  }

  /** The parts written so far, in order (the current buffer's view last). */
  private *segments(): Generator<Uint8Array> {
    yield* this.parts;
    if (this.pos > 0) yield this.buf.subarray(0, this.pos);
  }

  /** A varint; negative values are written as 64-bit two's complement (10 bytes), as int64 fields are. */
  rawVarint(value: number): void {
    if (!Number.isSafeInteger(value)) throw new NodegradError('ERR_NODEGRAD_ONNX', `onnx: ${value} is not an integer`);
    this.reserve(10);
    if (value < 0) {
      let v = BigInt.asUintN(64, BigInt(value));
      while (v >= 0x80n) {
        this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
        v >>= 7n;
      }
      this.buf[this.pos++] = Number(v);
      return;
    }
    let v = value;
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }

  private tag(field: number, wire: number): void {
    this.rawVarint(field * 8 + wire);
  }

  /** An int32/int64/enum/bool field. */
  varint(field: number, value: number): void {
    this.tag(field, WIRE.varint);
    this.rawVarint(value);
  }

  /** A float field (32-bit). */
  float(field: number, value: number): void {
    this.tag(field, WIRE.fixed32);
    this.reserve(4);
    this.view.setFloat32(this.pos, value, true);
    this.pos += 4;
  }

  /** A bytes field. */
  bytes(field: number, value: Uint8Array): void {
    this.tag(field, WIRE.bytes);
    this.rawVarint(value.length);
    this.raw(value);
  }

  private raw(value: Uint8Array): void {
    if (value.length >= LARGE) {
      this.append(value);
      return;
    }
    this.reserve(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  /** A string field (UTF-8). */
  string(field: number, value: string): void {
    this.bytes(field, textEncoder.encode(value));
  }

  /** An embedded message, written by `write` into a writer of its own. */
  message(field: number, write: (w: ProtoWriter) => void): void {
    const inner = new ProtoWriter();
    write(inner);
    this.tag(field, WIRE.bytes);
    this.rawVarint(inner.length);
    for (const part of inner.segments()) this.raw(part);
  }

  /** A packed repeated float field. */
  packedFloats(field: number, values: ArrayLike<number>): void {
    const data = new Float32Array(values.length);
    data.set(Array.from(values));
    this.bytes(field, new Uint8Array(data.buffer));
  }

  /** The bytes written so far. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const part of this.segments()) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }
}

/** One field of a message: its number, wire type and payload (a number, or the bytes of a length-delimited field). */
export interface ProtoField {
  field: number;
  wire: number;
  /** The value of a varint field (int64 as a number) or the bits of a fixed field as a float/double. */
  value: number;
  /** The payload of a length-delimited field. */
  data: Uint8Array;
}

const EMPTY = new Uint8Array(0);

function corrupt(what: string): never {
  throw new NodegradError('ERR_NODEGRAD_ONNX', `onnx: corrupt protobuf data (${what})`);
}

/** Reads a varint at `pos`; returns the value and the position after it. int64 two's complement becomes negative. */
export function readVarint(bytes: Uint8Array, pos: number): [number, number] {
  let lo = 0;
  let hi = 0;
  let shift = 0;
  let p = pos;
  for (;;) {
    if (p >= bytes.length) corrupt('a varint runs past the end');
    const b = bytes[p++] ?? 0;
    if (shift < 28) lo |= (b & 0x7f) << shift;
    else if (shift === 28) {
      lo |= (b & 0x0f) << 28;
      hi |= (b & 0x7f) >> 4;
    } else if (shift < 64) hi |= (b & 0x7f) << (shift - 32);
    if ((b & 0x80) === 0) break;
    shift += 7;
    if (shift >= 70) corrupt('a varint is longer than 10 bytes');
  }
  lo >>>= 0;
  if (hi & 0x80000000) return [-((~hi >>> 0) * TWO_32 + (~lo >>> 0) + 1), p];
  return [(hi >>> 0) * TWO_32 + lo, p];
}

/** Walks a message's fields in order, calling `visit` for each. */
export function readFields(bytes: Uint8Array, visit: (f: ProtoField) => void): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  while (pos < bytes.length) {
    const [key, afterKey] = readVarint(bytes, pos);
    pos = afterKey;
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (field === 0) corrupt('field number 0');
    if (wire === WIRE.varint) {
      const [value, next] = readVarint(bytes, pos);
      pos = next;
      visit({ field, wire, value, data: EMPTY });
    } else if (wire === WIRE.fixed64) {
      if (pos + 8 > bytes.length) corrupt('a 64-bit field runs past the end');
      visit({ field, wire, value: view.getFloat64(pos, true), data: EMPTY });
      pos += 8;
    } else if (wire === WIRE.fixed32) {
      if (pos + 4 > bytes.length) corrupt('a 32-bit field runs past the end');
      visit({ field, wire, value: view.getFloat32(pos, true), data: EMPTY });
      pos += 4;
    } else if (wire === WIRE.bytes) {
      const [length, next] = readVarint(bytes, pos);
      if (length < 0 || next + length > bytes.length) corrupt(`field ${field}'s length ${length} runs past the end`);
      visit({ field, wire, value: length, data: bytes.subarray(next, next + length) });
      pos = next + length;
    } else corrupt(`unsupported wire type ${wire} in field ${field}`);
  }
}

/** A string field's text. */
export function fieldString(f: ProtoField): string {
  if (f.wire !== WIRE.bytes) corrupt(`field ${f.field} is not a string`);
  return textDecoder.decode(f.data);
}

/** The integers of a repeated int field, whether written one per field or packed. */
export function fieldInts(f: ProtoField, into: number[]): void {
  if (f.wire === WIRE.varint) {
    into.push(f.value);
    return;
  }
  if (f.wire !== WIRE.bytes) corrupt(`field ${f.field} is not an integer list`);
  let pos = 0;
  while (pos < f.data.length) {
    const [v, next] = readVarint(f.data, pos);
    into.push(v);
    pos = next;
  }
}

/** The values of a repeated float (or, with `bytesPer = 8`, double) field, packed or not. */
export function fieldFloats(f: ProtoField, into: number[], bytesPer: 4 | 8 = 4): void {
  if (f.wire === WIRE.fixed32 || f.wire === WIRE.fixed64) {
    into.push(f.value);
    return;
  }
  if (f.wire !== WIRE.bytes || f.data.length % bytesPer !== 0) corrupt(`field ${f.field} is not a float list`);
  const view = new DataView(f.data.buffer, f.data.byteOffset, f.data.byteLength);
  for (let p = 0; p < f.data.length; p += bytesPer)
    into.push(bytesPer === 4 ? view.getFloat32(p, true) : view.getFloat64(p, true));
}
