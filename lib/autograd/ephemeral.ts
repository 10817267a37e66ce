/**
 * Backward's release of graph-only intermediates. A storage marked ephemeral (an activation between
 * two layers of a Sequential: no user code holds it) is read in backward only by the nodes that list
 * it as input, saved tensor or output; once all of them have run, it goes back to the pool instead of
 * waiting for the garbage collector, so a backward's memory falls as it proceeds, as in PyTorch.
 */
import type { Storage } from '../tensor/storage.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Node } from './node.js';

function ephemeralReads(node: Node, minSerial: number): Storage[] {
  const found = new Set<Storage>();
  const consider = (s: Storage): void => {
    if (s.ephemeral && s.serial >= minSerial) found.add(s);
  };
  for (const t of node.inputs) consider(t.storage);
  for (const t of node.savedTensors) consider(t.storage);
  if (node.readsOutputs) for (const s of node.outputs) consider(s);
  return [...found];
}

export class EphemeralRelease {
  private readonly readers = new Map<Storage, number>();
  private readonly reads = new Map<Node, Storage[]>();

  /**
   * `minSerial`: for a backward nested in another node's backward (a checkpoint recomputing its
   * segment), the outer walk's start: storages made before it may still be read by the outer graph.
   */
  constructor(order: readonly Node[], minSerial: number) {
    for (const node of order) {
      const storages = ephemeralReads(node, minSerial);
      if (storages.length === 0) continue;
      this.reads.set(node, storages);
      for (const s of storages) this.readers.set(s, (this.readers.get(s) ?? 0) + 1);
    }
  }

  /** After `node` ran (and dropped its closure): recycles what no node left to run reads. */
  ran(node: Node, grads: readonly (Tensor | null)[]): void {
    // A gradient that is (a view of) an activation flows on: that storage is no longer the graph's alone.
    for (const g of grads) if (g) this.readers.delete(g.storage);
    for (const storage of this.reads.get(node) ?? []) {
      const left = this.readers.get(storage);
      if (left === undefined) continue;
      if (left > 1) {
        this.readers.set(storage, left - 1);
        continue;
      }
      this.readers.delete(storage);
      if (!storage.kept) storage.recycle('released by backward once every node that read it had run');
    }
  }
}
