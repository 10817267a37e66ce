/** Builders for small ONNX graphs in tests (encoded with lib/onnx/schema.ts's encodeModel). */
import {
  AttributeType,
  DataType,
  encodeModel,
  type AttributeProto,
  type NodeProto,
  type TensorProto,
} from '../../lib/onnx/schema.js';

export const ints = (name: string, values: number[], dims = [values.length]): TensorProto => ({
  name,
  dims,
  dataType: DataType.INT64,
  int64Data: values,
});
export const floats = (name: string, dims: number[], values: number[]): TensorProto => ({
  name,
  dims,
  dataType: DataType.FLOAT,
  floatData: values,
});
export const intAttr = (name: string, i: number): AttributeProto => ({ name, type: AttributeType.INT, i });
export const floatAttr = (name: string, f: number): AttributeProto => ({ name, type: AttributeType.FLOAT, f });
export const intsAttr = (name: string, values: number[]): AttributeProto => ({
  name,
  type: AttributeType.INTS,
  ints: values,
});
export const node = (
  opType: string,
  input: string[],
  output: string[],
  attribute: AttributeProto[] = [],
): NodeProto => ({
  name: `${opType.toLowerCase()}_node`,
  opType,
  domain: '',
  input,
  output,
  attribute,
});

/** The bytes of a model with one float input `x`, the given nodes and initializers, and float output `y`. */
export function graphBytes(opset: number, nodes: NodeProto[], initializer: TensorProto[] = []): Uint8Array {
  return encodeModel({
    irVersion: 8,
    producerName: 'test',
    producerVersion: '',
    opsetImport: [{ domain: '', version: opset }],
    graph: {
      name: 'g',
      node: nodes,
      initializer,
      input: [{ name: 'x', elemType: DataType.FLOAT }],
      output: [{ name: 'y', elemType: DataType.FLOAT }],
      valueInfo: [],
    },
  });
}
