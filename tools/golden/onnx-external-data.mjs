// Makes test/fixtures/onnx/resnet18{,-bn}.onnx from the full exports make_onnx_goldens.py leaves in /tmp:
// PyTorch's graph unchanged, with every initializer of 4096 elements or more moved to external data
// (resnet18{,-bn}.weights, not committed). Each moved tensor must equal resnetWeight(dims), the formula
// make_onnx_goldens.py filled the weights with, which test/onnx/import.test.ts uses to write the file
// again. Run after `npx tsc -p tsconfig.build.json`:  node tools/golden/onnx-external-data.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeModel, encodeModel } from '../../dist/onnx/schema.js';

export const EXTERNAL_MIN_ELEMENTS = 4096;

/** w[i] = 1.5 * sqrt(dims[0] / numel) * sin(0.37 i + 0.0013 i² + 0.011 numel), in float64, rounded to float32. */
export function resnetWeight(dims) {
  const numel = dims.reduce((a, b) => a * b, 1);
  const scale = 1.5 * Math.sqrt(dims[0] / numel);
  return Float32Array.from({ length: numel }, (_, i) => scale * Math.sin(0.37 * i + 0.0013 * i * i + 0.011 * numel));
}

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'onnx');
for (const name of ['resnet18', 'resnet18-bn']) {
  const model = decodeModel(readFileSync(`/tmp/${name}-full.onnx`));
  let offset = 0;
  let worst = 0;
  for (const t of model.graph.initializer) {
    const numel = t.dims.reduce((a, b) => a * b, 1);
    if (numel < EXTERNAL_MIN_ELEMENTS || !t.rawData) continue;
    const stored = new Float32Array(new Uint8Array(t.rawData).buffer);
    const formula = resnetWeight(t.dims);
    for (let i = 0; i < numel; i++) worst = Math.max(worst, Math.abs(stored[i] - formula[i]));
    t.externalData = { location: `${name}.weights`, offset: String(offset), length: String(numel * 4) };
    delete t.rawData;
    offset += numel * 4;
  }
  if (worst > 1e-6) throw new Error(`${name}: the exported weights differ from the formula by up to ${worst}`);
  writeFileSync(join(fixtures, `${name}.onnx`), encodeModel(model));
  console.log(`${name}.onnx: ${offset} bytes moved to ${name}.weights; formula matches within ${worst}`);
}
