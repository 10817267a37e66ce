import { describe, expect, it } from 'vitest';
import { NodegradError } from '../../lib/errors.js';
import { ProtoWriter, readFields, readVarint } from '../../lib/onnx/protobuf.js';
import { decodeModel, encodeModel, type ModelProto, DataType, AttributeType } from '../../lib/onnx/schema.js';

describe('onnx protobuf wire format', () => {
  it("varints round-trip, int64 negatives as ten-byte two's complement", () => {
    for (const v of [0, 1, 127, 128, 300, 2 ** 31, 2 ** 32 + 5, 2 ** 53 - 1, -1, -2, -(2 ** 31), -(2 ** 40) - 3]) {
      const w = new ProtoWriter();
      w.rawVarint(v);
      const bytes = w.finish();
      if (v < 0) expect(bytes.length).toBe(10);
      expect(readVarint(bytes, 0)).toEqual([v, bytes.length]);
    }
    // 300 is 0xAC 0x02 on the wire.
    const w = new ProtoWriter();
    w.rawVarint(300);
    expect(Array.from(w.finish())).toEqual([0xac, 0x02]);
  });

  it('fields of each wire type are read back in order', () => {
    const w = new ProtoWriter();
    w.varint(1, 150);
    w.string(2, 'testing');
    w.float(3, 1.5);
    w.message(4, (m) => m.varint(1, 7));
    const seen: [number, number][] = [];
    readFields(w.finish(), (f) => seen.push([f.field, f.wire]));
    expect(seen).toEqual([
      [1, 0],
      [2, 2],
      [3, 5],
      [4, 2],
    ]);
  });

  it('large payloads inside nested messages keep their bytes and lengths', () => {
    const big = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 7) % 256);
    const w = new ProtoWriter();
    w.varint(1, 5);
    w.message(2, (outer) => {
      outer.string(1, 'before');
      outer.message(2, (inner) => {
        inner.bytes(1, big);
        inner.varint(2, 9);
      });
      outer.bytes(3, big.subarray(0, 5000));
    });
    w.varint(3, 6);
    const bytes = w.finish();
    expect(bytes.length).toBe(w.length);
    const top: number[] = [];
    readFields(bytes, (f) => {
      top.push(f.field);
      if (f.field !== 2) return;
      const fields: [number, number][] = [];
      readFields(f.data, (g) => {
        fields.push([g.field, g.data.length]);
        if (g.field === 2) {
          readFields(g.data, (h) => {
            if (h.field === 1) expect(Array.from(h.data)).toEqual(Array.from(big));
            else expect(h.value).toBe(9);
          });
        }
        if (g.field === 3) expect(Array.from(g.data)).toEqual(Array.from(big.subarray(0, 5000)));
      });
      expect(fields.map(([field]) => field)).toEqual([1, 2, 3]);
    });
    expect(top).toEqual([1, 2, 3]);
  });

  it('truncated or malformed data throws ERR_NODEGRAD_ONNX', () => {
    const w = new ProtoWriter();
    w.string(2, 'testing');
    const bytes = w.finish();
    expect(() => readFields(bytes.subarray(0, 4), () => undefined)).toThrow(/runs past the end/);
    expect(() => readFields(new Uint8Array([0x0b]), () => undefined)).toThrow(NodegradError);
    expect(() => decodeModel(new TextEncoder().encode('not onnx'))).toThrow(/onnx/);
  });

  it('a model round-trips through encode and decode', () => {
    const model: ModelProto = {
      irVersion: 8,
      producerName: 'nodegrad',
      producerVersion: '0.1.0',
      opsetImport: [{ domain: '', version: 17 }],
      metadata: { note: 'x' },
      graph: {
        name: 'g',
        node: [
          {
            name: 'n0',
            opType: 'Gemm',
            domain: '',
            input: ['x', 'w', 'b'],
            output: ['y'],
            attribute: [
              { name: 'alpha', type: AttributeType.FLOAT, f: 0.5 },
              { name: 'transB', type: AttributeType.INT, i: 1 },
              { name: 'pads', type: AttributeType.INTS, ints: [0, -1, 2] },
            ],
          },
        ],
        initializer: [
          {
            name: 'w',
            dims: [2, 3],
            dataType: DataType.FLOAT,
            rawData: new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer),
          },
          { name: 'shape', dims: [2], dataType: DataType.INT64, int64Data: [-1, 6] },
        ],
        input: [{ name: 'x', elemType: DataType.FLOAT, shape: ['batch', 3] }],
        output: [{ name: 'y', elemType: DataType.FLOAT, shape: ['batch', 2] }],
        valueInfo: [],
      },
    };
    const back = decodeModel(encodeModel(model));
    expect(back.irVersion).toBe(8);
    expect(back.opsetImport).toEqual([{ domain: '', version: 17 }]);
    expect(back.metadata).toEqual({ note: 'x' });
    expect(back.graph.node[0]?.attribute).toEqual(model.graph.node[0]?.attribute);
    expect(back.graph.input).toEqual(model.graph.input);
    const w = back.graph.initializer[0];
    expect(w.dims).toEqual([2, 3]);
    expect(Array.from(new Float32Array(Uint8Array.from(w.rawData!).buffer))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(back.graph.initializer[1]?.int64Data).toEqual([-1, 6]);
  });
});
