/** What Module.to accepts, and the in-place data swap it does on parameters (PyTorch's `param.data = ...`). */
import { NodegradError } from '../errors.js';
import type { Device, Tensor } from '../tensor/tensor.js';

/** The dtypes a module's parameters and floating-point buffers can be converted to. */
export type ModuleDType = 'float32' | 'float64';

/** Module.to's options form: `{ dtype: 'float64' }`, `{ device: 'cpu' }`. */
export interface ModuleToOptions {
  /** The dtype to convert floating-point parameters and buffers to. */
  dtype?: ModuleDType;
  /** Only 'cpu' exists: any other device throws. */
  device?: Device;
}

const moduleDTypes: readonly string[] = ['float32', 'float64'];
const devicePattern = /^(cpu|cuda|mps|xpu|meta|hip|xla|vulkan)(:\d+)?$/;

/** Splits `.to(...)`'s argument into a checked dtype (or null: keep) and refuses every device but the CPU. */
export function parseToTarget(target: ModuleDType | Device | ModuleToOptions): ModuleDType | null {
  const options: { dtype?: string; device?: string } =
    typeof target === 'string' ? (devicePattern.test(target) ? { device: target } : { dtype: target }) : target;
  if (options.device !== undefined && options.device !== 'cpu') {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `Module.to: device '${options.device}' is not available; nodegrad runs on 'cpu' only (there is no CUDA backend yet)`,
    );
  }
  if (options.dtype === undefined) return null;
  return checkModuleDType('Module.to', options.dtype);
}

export function checkModuleDType(op: string, dtype: string): ModuleDType {
  if (!moduleDTypes.includes(dtype)) {
    throw new NodegradError(
      'ERR_NODEGRAD_DTYPE',
      `${op}: dtype '${dtype}' is not supported; modules convert to 'float32' or 'float64'`,
    );
  }
  return dtype as ModuleDType;
}

type WritableData = { -readonly [K in 'storage' | 'strides' | 'offset']: Tensor[K] };

/** Makes `target` hold `source`'s data (same shape): the object, its requiresGrad and its identity stay. */
export function setData(target: Tensor, source: Tensor): void {
  const writable: WritableData = target;
  writable.storage = source.storage;
  writable.strides = source.strides;
  writable.offset = source.offset;
}
