/** Error codes nodegrad throws; tests and callers can switch on `error.code`. */
export type ErrorCode =
  | 'ERR_NODEGRAD_SHAPE'
  | 'ERR_NODEGRAD_DTYPE'
  | 'ERR_NODEGRAD_DIM'
  | 'ERR_NODEGRAD_ARGUMENT'
  | 'ERR_NODEGRAD_AUTOGRAD'
  | 'ERR_NODEGRAD_DISPOSED'
  | 'ERR_NODEGRAD_ADDON'
  | 'ERR_NODEGRAD_NATIVE'
  /** An optional package (the demo data sets) is not installed. */
  | 'ERR_NODEGRAD_DEPENDENCY'
  /** A native kernel could not allocate its workspace (thrown as a RangeError). */
  | 'ERR_NODEGRAD_ALLOC'
  /** ng.serve: a request aborted by its signal or past its timeoutMs. */
  | 'ERR_NODEGRAD_ABORTED'
  /** ng.serve: a worker died while running a request, or the pool was closed. */
  | 'ERR_NODEGRAD_WORKER'
  /** ng.onnx: a file that is not valid ONNX, or an operator or attribute nodegrad does not support. */
  | 'ERR_NODEGRAD_ONNX'
  /** ng.distributed: a collective or the rendezvous failed (a peer exited, a timeout, a broken group). */
  | 'ERR_NODEGRAD_DISTRIBUTED'
  /** ng.runAsync: values read (or an op that computes in TypeScript) while its kernels are deferred. */
  | 'ERR_NODEGRAD_DEFERRED'
  /** A feature this build or backend lacks (e.g. ng.distributed without Gloo); the message says how to get it. */
  | 'ERR_NODEGRAD_UNSUPPORTED';

/** Every error nodegrad raises on bad input. The message starts with the op's name. */
export class NodegradError extends Error {
  /** Stable code for the kind of failure, to switch on. */
  readonly code: ErrorCode;

  /** An error with `code`; the message should start with the op's name. */
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'NodegradError';
    this.code = code;
  }
}

/** Formats a shape the way messages show it: `[8, 1, 28, 28]`. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
