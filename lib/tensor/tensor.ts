/**
 * Tensor: a strided view (shape, strides, offset) of a typed-array Storage. Views share storage;
 * ops that need dense input call `contiguous()` first. Arithmetic, shape ops and autograd methods
 * are attached in lib/ops/methods.ts so this file stays free of op imports.
 */
import { getBackend } from '../backend/index.js';
import type { DataArray, DType } from '../backend/types.js';
import { NodegradError, formatShape } from '../errors.js';
import type { Node } from '../autograd/node.js';
import { contiguousStrides, numelOf, type Shape } from './shape.js';
import { assertReadable } from './deferral.js';
import { allocate, allocateUninitialized, arrayFor, dtypeOf, Storage } from './storage.js';

/** Where a tensor's data lives; nodegrad runs on the CPU only. */
export type Device = 'cpu';
/** Nested arrays of elements: numbers, or booleans for a bool tensor. */
export type NestedArray = number | boolean | NestedArray[];

/**
 * An n-dimensional array of float32, float64, int32 or bool elements, as torch.Tensor: a strided
 * view (shape, strides, offset) of a {@link Storage}, with autograd state (requiresGrad, grad, gradFn).
 * Create tensors with {@link tensor}, {@link zeros}, {@link randn}, ...; ops are methods (`x.add(y)`) and
 * functions (`ng.add(x, y)`). The constructor wraps a storage without copying; views share it.
 */
export class Tensor {
  /** Size of each dimension (frozen). */
  readonly shape: Shape;
  /** Elements to step in storage per index of each dimension (frozen). */
  readonly strides: readonly number[];
  /** Index in the storage of the first element. */
  readonly offset: number;
  /** The typed-array buffer this tensor views (shared with its views). */
  readonly storage: Storage;
  /** Always 'cpu'. */
  readonly device: Device = 'cpu';
  /** The gradient (see `grad`); its storage is kept by memory scopes. */
  private gradient: Tensor | null = null;
  /** The node (see `gradFn`). */
  private producer: Node | null = null;
  private needsGrad = false;

  /** A view of `storage`; `strides` default to contiguous (row-major). */
  constructor(storage: Storage, shape: Shape, strides?: readonly number[], offset = 0) {
    this.storage = storage;
    this.shape = Object.freeze([...shape]);
    this.strides = Object.freeze(strides ? [...strides] : contiguousStrides(shape));
    this.offset = offset;
  }

  /** The element type: 'float32', 'float64', 'int32' or 'bool'. */
  get dtype(): DType {
    return this.storage.dtype;
  }

  /** Number of dimensions (0 for a scalar tensor). */
  get ndim(): number {
    return this.shape.length;
  }

  /** Number of elements (the product of the shape). */
  get numel(): number {
    return numelOf(this.shape);
  }

  /**
   * Whether autograd records ops on this tensor. Setting true is allowed on float32/float64 only;
   * setting false on a non-leaf throws (use detach()).
   */
  get requiresGrad(): boolean {
    return this.needsGrad;
  }

  /** See the getter: float tensors only; false on a non-leaf throws. */
  set requiresGrad(flag: boolean) {
    if (flag && (this.dtype === 'int32' || this.dtype === 'bool')) {
      throw new NodegradError(
        'ERR_NODEGRAD_DTYPE',
        `requiresGrad: only float32 and float64 tensors can require gradients, got ${this.dtype}`,
      );
    }
    if (!flag && this.gradFn) {
      throw new NodegradError(
        'ERR_NODEGRAD_AUTOGRAD',
        'requiresGrad: cannot turn off gradients of a non-leaf tensor; use detach()',
      );
    }
    this.needsGrad = flag;
  }

  /** Accumulated gradient of a leaf that requires grad, filled by backward(); ng.tidy never releases it. */
  get grad(): Tensor | null {
    return this.gradient;
  }

  /** Sets the gradient (null clears it); memory scopes keep the tensor it is set to. */
  set grad(value: Tensor | null) {
    if (value) value.storage.kept = true;
    this.gradient = value;
  }

  /** The graph node that produced this tensor; null for leaves. The node learns its output's storage. */
  get gradFn(): Node | null {
    return this.producer;
  }

  /** Attaches the node that produced this tensor (ops do this; user code rarely needs to). */
  set gradFn(node: Node | null) {
    node?.addOutput(this.storage);
    this.producer = node;
  }

  /** A leaf is a tensor not produced by a recorded op. */
  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  /** True when the elements lie in row-major order without gaps (size-1 dims ignored). */
  isContiguous(): boolean {
    let expected = 1;
    for (let d = this.ndim - 1; d >= 0; d--) {
      if (this.shape[d] === 1) continue;
      if (this.strides[d] !== expected) return false;
      expected *= this.shape[d];
    }
    return true;
  }

  /** The elements in row-major order, as a new typed array (writes do not reach the tensor). */
  data(): DataArray {
    const src = this.storage.data;
    assertReadable('data()', src);
    if (this.isContiguous()) return src.slice(this.offset, this.offset + this.numel);
    const out = arrayFor(this.dtype, this.numel);
    getBackend().copyStrided(
      this.shape,
      { data: src, offset: this.offset, strides: this.strides },
      { data: out, offset: 0, strides: contiguousStrides(this.shape) },
    );
    return out;
  }

  /** The single value of a one-element tensor (1 or 0 for a bool tensor). */
  item(): number {
    if (this.numel !== 1) {
      throw new NodegradError(
        'ERR_NODEGRAD_SHAPE',
        `item: expected a tensor with one element, got shape ${formatShape(this.shape)} (${this.numel} elements)`,
      );
    }
    const data = this.storage.data;
    assertReadable('item()', data);
    return data[this.offset];
  }

  /** Nested arrays of numbers (booleans for bool) in the tensor's shape (one value for a 0-d tensor). */
  toArray(): NestedArray {
    const data = this.data();
    const flat: ArrayLike<number | boolean> = this.dtype === 'bool' ? Array.from(data, (v) => v !== 0) : data;
    if (this.ndim === 0) return flat[0];
    let position = 0;
    const build = (d: number): NestedArray[] => {
      const out: NestedArray[] = [];
      for (let i = 0; i < this.shape[d]; i++) {
        out.push(d === this.ndim - 1 ? flat[position++] : build(d + 1));
      }
      return out;
    };
    return build(0);
  }

  /** Releases the storage now; any later use of this tensor (or a view of it) throws. */
  dispose(): void {
    this.storage.dispose();
    this.grad = null;
    this.gradFn = null;
  }

  /** `using t = ...` (TypeScript 5.2+) disposes the tensor at the end of the block. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** `tensor([...], shape=[...], dtype=...)`; tensors over 64 elements print their count only. */
  toString(): string {
    const body = this.numel <= 64 ? JSON.stringify(this.toArray()) : `<${this.numel} elements>`;
    const grad = this.gradFn ? `, gradFn=${this.gradFn.name}` : this.requiresGrad ? ', requiresGrad=true' : '';
    return `tensor(${body}, shape=${formatShape(this.shape)}, dtype=${this.dtype}${grad})`;
  }
}

/** A fresh contiguous tensor of zeros. */
export function zerosTensor(shape: Shape, dtype: DType): Tensor {
  return new Tensor(allocate(dtype, numelOf(shape)), shape);
}

/** A contiguous tensor with unspecified contents, for a kernel output that writes every element. */
export function uninitTensor(shape: Shape, dtype: DType): Tensor {
  return new Tensor(allocateUninitialized(dtype, numelOf(shape)), shape);
}

/** Wraps an existing typed array (no copy) as a contiguous tensor. */
export function fromArray(array: DataArray, shape: Shape): Tensor {
  if (array.length !== numelOf(shape)) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `tensor: ${array.length} values do not fill shape ${formatShape(shape)} (${numelOf(shape)} elements)`,
    );
  }
  return new Tensor(new Storage(dtypeOf(array), array), shape);
}
