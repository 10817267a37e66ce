/**
 * ONNX's messages (onnx.proto, IR version 8) as plain objects, with their encoder and decoder. Only
 * the fields nodegrad reads or writes are kept; decoding skips the others. Field numbers follow
 * onnx.proto; repeated integers are written unpacked (proto2's default) and read in either form.
 */
import { NodegradError } from '../errors.js';
import { fieldFloats, fieldInts, fieldString, type ProtoField, ProtoWriter, readFields } from './protobuf.js';

/** TensorProto.DataType values. */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
} as const;

/** AttributeProto.AttributeType values. */
export const AttributeType = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
} as const;

/** A tensor: initializer, constant or attribute value. Data is in `rawData` (little-endian) or a typed list. */
export interface TensorProto {
  name: string;
  dims: number[];
  dataType: number;
  rawData?: Uint8Array;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: number[];
  doubleData?: number[];
  /** External data entries (location, offset, length) when the data lives in another file. */
  externalData?: Record<string, string>;
}

/** A node attribute; which value field is set follows `type`. */
export interface AttributeProto {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
}

/** One operator application. */
export interface NodeProto {
  name: string;
  opType: string;
  domain: string;
  input: string[];
  output: string[];
  attribute: AttributeProto[];
}

/** A dimension: a fixed size or a symbolic name (e.g. a dynamic batch). */
export type Dim = number | string;

/** A graph input/output: its name, element type and shape (undefined when not given). */
export interface ValueInfoProto {
  name: string;
  elemType: number;
  shape?: Dim[];
}

/** A computation graph. */
export interface GraphProto {
  name: string;
  node: NodeProto[];
  initializer: TensorProto[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  valueInfo: ValueInfoProto[];
}

/** A model file: the graph and the operator sets it uses. */
export interface ModelProto {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  opsetImport: { domain: string; version: number }[];
  graph: GraphProto;
  metadata?: Record<string, string>;
}

// ---- encoding ----

function writeTensor(w: ProtoWriter, t: TensorProto): void {
  for (const d of t.dims) w.varint(1, d);
  w.varint(2, t.dataType);
  if (t.floatData) w.packedFloats(4, t.floatData);
  if (t.int64Data) for (const v of t.int64Data) w.varint(7, v);
  if (t.int32Data) for (const v of t.int32Data) w.varint(5, v);
  w.string(8, t.name);
  if (t.rawData) w.bytes(9, t.rawData);
  if (t.externalData) {
    for (const [key, value] of Object.entries(t.externalData))
      w.message(13, (e) => {
        e.string(1, key);
        e.string(2, value);
      });
    w.varint(14, 1);
  }
}

function writeAttribute(w: ProtoWriter, a: AttributeProto): void {
  w.string(1, a.name);
  if (a.f !== undefined) w.float(2, a.f);
  if (a.i !== undefined) w.varint(3, a.i);
  if (a.s) w.bytes(4, a.s);
  const t = a.t;
  if (t) w.message(5, (m) => writeTensor(m, t));
  const g = a.g;
  if (g) w.message(6, (m) => writeGraph(m, g));
  if (a.floats) for (const v of a.floats) w.float(7, v);
  if (a.ints) for (const v of a.ints) w.varint(8, v);
  if (a.strings) for (const v of a.strings) w.bytes(9, v);
  w.varint(20, a.type);
}

function writeValueInfo(w: ProtoWriter, v: ValueInfoProto): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.varint(1, v.elemType);
      const shape = v.shape;
      if (shape)
        tensor.message(2, (s) => {
          for (const d of shape) s.message(1, (dim) => (typeof d === 'number' ? dim.varint(1, d) : dim.string(2, d)));
        });
    }),
  );
}

function writeGraph(w: ProtoWriter, g: GraphProto): void {
  for (const n of g.node)
    w.message(1, (m) => {
      for (const i of n.input) m.string(1, i);
      for (const o of n.output) m.string(2, o);
      if (n.name) m.string(3, n.name);
      m.string(4, n.opType);
      for (const a of n.attribute) m.message(5, (am) => writeAttribute(am, a));
      if (n.domain) m.string(7, n.domain);
    });
  w.string(2, g.name);
  for (const t of g.initializer) w.message(5, (m) => writeTensor(m, t));
  for (const v of g.input) w.message(11, (m) => writeValueInfo(m, v));
  for (const v of g.output) w.message(12, (m) => writeValueInfo(m, v));
  for (const v of g.valueInfo) w.message(13, (m) => writeValueInfo(m, v));
}

/** Serializes a model to the bytes of an .onnx file. */
export function encodeModel(model: ModelProto): Uint8Array {
  const w = new ProtoWriter();
  w.varint(1, model.irVersion);
  w.string(2, model.producerName);
  w.string(3, model.producerVersion);
  w.message(7, (m) => writeGraph(m, model.graph));
  for (const o of model.opsetImport)
    w.message(8, (m) => {
      if (o.domain) m.string(1, o.domain);
      m.varint(2, o.version);
    });
  for (const [key, value] of Object.entries(model.metadata ?? {}))
    w.message(14, (m) => {
      m.string(1, key);
      m.string(2, value);
    });
  return w.finish();
}

// ---- decoding ----

function readEntry(data: Uint8Array): [string, string] {
  let key = '';
  let value = '';
  readFields(data, (f) => {
    if (f.field === 1) key = fieldString(f);
    else if (f.field === 2) value = fieldString(f);
  });
  return [key, value];
}

/** Decodes a TensorProto message. */
export function decodeTensor(data: Uint8Array): TensorProto {
  const t: TensorProto = { name: '', dims: [], dataType: 0 };
  readFields(data, (f) => {
    switch (f.field) {
      case 1:
        fieldInts(f, t.dims);
        break;
      case 2:
        t.dataType = f.value;
        break;
      case 4:
        fieldFloats(f, (t.floatData ??= []));
        break;
      case 5:
        fieldInts(f, (t.int32Data ??= []));
        break;
      case 7:
        fieldInts(f, (t.int64Data ??= []));
        break;
      case 8:
        t.name = fieldString(f);
        break;
      case 9:
        t.rawData = f.data;
        break;
      case 10:
        fieldFloats(f, (t.doubleData ??= []), 8);
        break;
      case 13: {
        const [key, value] = readEntry(f.data);
        (t.externalData ??= {})[key] = value;
        break;
      }
    }
  });
  return t;
}

function decodeAttribute(data: Uint8Array): AttributeProto {
  const a: AttributeProto = { name: '', type: 0 };
  readFields(data, (f: ProtoField) => {
    switch (f.field) {
      case 1:
        a.name = fieldString(f);
        break;
      case 2:
        a.f = f.value;
        break;
      case 3:
        a.i = f.value;
        break;
      case 4:
        a.s = f.data;
        break;
      case 5:
        a.t = decodeTensor(f.data);
        break;
      case 6:
        a.g = decodeGraph(f.data);
        break;
      case 7:
        fieldFloats(f, (a.floats ??= []));
        break;
      case 8:
        fieldInts(f, (a.ints ??= []));
        break;
      case 9:
        (a.strings ??= []).push(f.data);
        break;
      case 20:
        a.type = f.value;
        break;
    }
  });
  return a;
}

function decodeNode(data: Uint8Array): NodeProto {
  const n: NodeProto = { name: '', opType: '', domain: '', input: [], output: [], attribute: [] };
  readFields(data, (f) => {
    if (f.field === 1) n.input.push(fieldString(f));
    else if (f.field === 2) n.output.push(fieldString(f));
    else if (f.field === 3) n.name = fieldString(f);
    else if (f.field === 4) n.opType = fieldString(f);
    else if (f.field === 5) n.attribute.push(decodeAttribute(f.data));
    else if (f.field === 7) n.domain = fieldString(f);
  });
  return n;
}

function decodeShape(data: Uint8Array): Dim[] {
  const dims: Dim[] = [];
  readFields(data, (f) => {
    if (f.field !== 1) return;
    let dim: Dim = '?';
    readFields(f.data, (d) => {
      if (d.field === 1) dim = d.value;
      else if (d.field === 2) dim = fieldString(d);
    });
    dims.push(dim);
  });
  return dims;
}

function decodeValueInfo(data: Uint8Array): ValueInfoProto {
  const v: ValueInfoProto = { name: '', elemType: 0 };
  readFields(data, (f) => {
    if (f.field === 1) v.name = fieldString(f);
    else if (f.field === 2)
      readFields(f.data, (type) => {
        if (type.field !== 1) return;
        readFields(type.data, (tensor) => {
          if (tensor.field === 1) v.elemType = tensor.value;
          else if (tensor.field === 2) v.shape = decodeShape(tensor.data);
        });
      });
  });
  return v;
}

/** Decodes a GraphProto message. */
export function decodeGraph(data: Uint8Array): GraphProto {
  const g: GraphProto = { name: '', node: [], initializer: [], input: [], output: [], valueInfo: [] };
  readFields(data, (f) => {
    if (f.field === 1) g.node.push(decodeNode(f.data));
    else if (f.field === 2) g.name = fieldString(f);
    else if (f.field === 5) g.initializer.push(decodeTensor(f.data));
    else if (f.field === 11) g.input.push(decodeValueInfo(f.data));
    else if (f.field === 12) g.output.push(decodeValueInfo(f.data));
    else if (f.field === 13) g.valueInfo.push(decodeValueInfo(f.data));
  });
  return g;
}

/** Parses the bytes of an .onnx file. */
export function decodeModel(bytes: Uint8Array): ModelProto {
  const model: ModelProto = {
    irVersion: 0,
    producerName: '',
    producerVersion: '',
    opsetImport: [],
    graph: { name: '', node: [], initializer: [], input: [], output: [], valueInfo: [] },
  };
  const seen = { graph: false };
  readFields(bytes, (f) => {
    if (f.field === 1) model.irVersion = f.value;
    else if (f.field === 2) model.producerName = fieldString(f);
    else if (f.field === 3) model.producerVersion = fieldString(f);
    else if (f.field === 7) {
      model.graph = decodeGraph(f.data);
      seen.graph = true;
    } else if (f.field === 8) {
      const o = { domain: '', version: 0 };
      readFields(f.data, (s) => {
        if (s.field === 1) o.domain = fieldString(s);
        else if (s.field === 2) o.version = s.value;
      });
      model.opsetImport.push(o);
    } else if (f.field === 14) {
      const [key, value] = readEntry(f.data);
      (model.metadata ??= {})[key] = value;
    }
  });
  if (!seen.graph) throw new NodegradError('ERR_NODEGRAD_ONNX', 'onnx: the model has no graph (is this an ONNX file?)');
  return model;
}
