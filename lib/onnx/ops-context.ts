/**
 * What an ONNX operator implementation sees: its node, attributes and the opset, plus the helpers the
 * implementations share. Convention: float values are float32 tensors; integer values (int64 shapes,
 * indices, axes) are float64 tensors, exact up to 2^53, so shape arithmetic runs through the same
 * tensor ops as the model; bool values are bool tensors.
 */
import { NodegradError } from '../errors.js';
import { tensor } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import type { AttributeProto, NodeProto, TensorProto } from './schema.js';

/** One node's view of the run: node, attributes, opset of the default domain, training mode. */
export class OpContext {
  private readonly attributes: Map<string, AttributeProto>;

  constructor(
    readonly node: NodeProto,
    readonly opset: number,
    readonly training = false,
  ) {
    this.attributes = new Map(node.attribute.map((a) => [a.name, a]));
  }

  /** Throws ERR_NODEGRAD_ONNX naming the op and node. */
  fail(message: string): never {
    throw new NodegradError('ERR_NODEGRAD_ONNX', `onnx: ${this.node.opType} node '${this.node.name}': ${message}`);
  }

  has(name: string): boolean {
    return this.attributes.has(name);
  }

  int(name: string, fallback: number): number {
    return this.attributes.get(name)?.i ?? fallback;
  }

  ints(name: string): number[] | undefined {
    return this.attributes.get(name)?.ints;
  }

  float(name: string, fallback: number): number {
    return this.attributes.get(name)?.f ?? fallback;
  }

  floats(name: string): number[] | undefined {
    return this.attributes.get(name)?.floats;
  }

  string(name: string, fallback: string): string {
    const s = this.attributes.get(name)?.s;
    return s ? new TextDecoder().decode(s) : fallback;
  }

  tensor(name: string): TensorProto | undefined {
    return this.attributes.get(name)?.t;
  }

  /** Input i, which the op requires. */
  input(inputs: readonly (Tensor | undefined)[], i: number): Tensor {
    const x = inputs[i];
    if (!x) this.fail(`input ${i} is required`);
    return x;
  }
}

/** An op: the node's inputs (undefined where omitted) to its outputs. */
export type OnnxOp = (inputs: readonly (Tensor | undefined)[], ctx: OpContext) => Tensor[];

/** Whether a value carries integers (float64 by the importer's convention, or a user's int32). */
export function isInt(t: Tensor): boolean {
  return t.dtype === 'float64' || t.dtype === 'int32';
}

/** The elements of a small integer (or any) tensor as numbers. */
export function numbers(t: Tensor): number[] {
  return Array.from(t.data());
}

/** A float64 "integer" tensor holding `values`. */
export function ints(values: readonly number[], shape: readonly number[] = [values.length]): Tensor {
  return tensor(Float64Array.from(values), { shape });
}

/** Normalizes an axis against a rank (negative counts from the end). */
export function axis(ctx: OpContext, a: number, rank: number): number {
  if (a < -rank || a >= rank) ctx.fail(`axis ${a} is out of range for rank ${rank}`);
  return a < 0 ? a + rank : a;
}
