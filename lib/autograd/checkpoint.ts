/**
 * Recomputation (gradient checkpointing): run a segment without recording its graph, keep only its
 * inputs, and recompute it inside backward — trading one extra forward of the segment for not
 * storing its intermediates. The generator's state is restored for the recomputation, so dropout
 * draws the same masks.
 */
import { NodegradError } from '../errors.js';
import { getRngState, setRngState } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { backwardFromNodeGradient } from './engine.js';
import { enableGrad, forwardScope, isGradEnabled, withReleasedIntermediates } from './grad-mode.js';
import { Node } from './node.js';

/**
 * checkpoint(fn, ...inputs): fn(...inputs) with only `inputs` saved for backward, as
 * torch.utils.checkpoint.checkpoint. Parameters used inside fn receive their gradients when
 * backward recomputes the segment; the generator state is restored so dropout masks repeat.
 * @example
 * ```ts
 * const h = ng.checkpoint((x) => block.forward(x), input); // block's activations are recomputed in backward
 * ```
 */
export function checkpoint(fn: (...inputs: Tensor[]) => Tensor, ...inputs: Tensor[]): Tensor {
  if (typeof fn !== 'function') {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `checkpoint: expected a function as the first argument, got ${typeof fn}`,
    );
  }
  const rngState = getRngState();
  // The segment's intermediates are recycled as they are consumed: only its output survives.
  const out = withReleasedIntermediates(() =>
    forwardScope(() => {
      const y: unknown = fn(...inputs);
      if (!(y instanceof Tensor)) {
        throw new NodegradError(
          'ERR_NODEGRAD_ARGUMENT',
          `checkpoint: the function must return a Tensor, got ${y === null ? 'null' : typeof y}`,
        );
      }
      return y;
    }),
  );
  if (!isGradEnabled()) return out;
  // The segment may reach parameters that are not among `inputs`, so the node is attached whenever
  // grad is on (its backward finds out by recomputing).
  const node = new Node(
    'checkpoint',
    inputs,
    (g) => {
      const current = getRngState();
      setRngState(rngState);
      const detached = inputs.map((t) => {
        const d = t.detach();
        if (t.requiresGrad) d.requiresGrad = true;
        return d;
      });
      let recomputed: Tensor;
      try {
        recomputed = enableGrad(() => fn(...detached));
      } finally {
        setRngState(current);
      }
      // The recomputed output is the nested backward's alone: released once its node ran.
      const own = recomputed.storage;
      if (!detached.some((d) => d.storage === own) && recomputed.gradFn) own.ephemeral = true;
      if (recomputed.requiresGrad) backwardFromNodeGradient(recomputed, g);
      return detached.map((d) => (d.requiresGrad ? (d.grad ?? null) : null));
    },
    inputs,
  );
  // Backward recomputes the segment: its output (a boundary between segments) may go once its readers ran.
  node.readsOutputs = false;
  out.gradFn = node;
  out.requiresGrad = true;
  return out;
}
