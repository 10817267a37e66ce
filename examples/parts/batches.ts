/** Training batches drawn from a DataLoader for a fixed number of steps, starting a new epoch as needed. */
import type * as ng from 'nodegrad';

export function* batches(loader: ng.data.DataLoader, steps: number): Generator<ng.Tensor[]> {
  let step = 0;
  while (step < steps) {
    for (const batch of loader) {
      if (step++ === steps) return;
      yield batch;
    }
  }
}
