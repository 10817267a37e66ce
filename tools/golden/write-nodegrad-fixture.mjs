// Writes test/fixtures/written-by-nodegrad.safetensors with nodegrad's own writer (run after
// `npm run build`). tools/golden/make_goldens.py then checks that the safetensors library loads it,
// and test/io/safetensors.test.ts checks that the writer still produces these exact bytes.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ng from '../../dist/index.js';

export function fixtureTensors() {
  return {
    weight: ng.arange(12).reshape([3, 4]).div(4),
    bias: ng.tensor([-1.5, 0, 2.25], { dtype: 'float64' }),
    steps: ng.tensor([[7, -3]], { dtype: 'int32' }),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const path = join(
    dirname(fileURLToPath(import.meta.url)),
    '..',
    '..',
    'test',
    'fixtures',
    'written-by-nodegrad.safetensors',
  );
  ng.save(fixtureTensors(), path, { writer: 'nodegrad' });
  console.log('wrote', path);
}
