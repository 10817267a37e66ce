// Keeps `npm run bench -- cnn` from rotting: bench/cnn.mjs's smoke mode prints every table with
// finite figures, ResNet-18's shape list is the architecture's, and the PyTorch peer's models
// (bench/cnn_peer.py, torchvision's written out) have the zoo's parameter counts and state-dict keys.
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { fixturesDir } from '../fixtures.js';

const root = resolve(import.meta.dirname, '..', '..');
const python = '/usr/bin/python3';
const hasTorch = spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;

interface Row {
  section: string;
  cells: string[];
}

/** The markdown tables' data rows, each with the `###` heading it sits under. */
function rows(stdout: string): Row[] {
  let section = '';
  const out: Row[] = [];
  for (const line of stdout.split('\n')) {
    if (line.startsWith('### ')) section = line;
    else if (line.startsWith('| ') && !line.startsWith('|---'))
      out.push({ section, cells: line.slice(2, -2).split(' | ') });
  }
  // Drop each table's header row (the first row under each heading).
  return out.filter((r, i) => i > 0 && out[i - 1].section === r.section);
}

const positive = (cell: string) => {
  const v = Number(cell);
  return Number.isFinite(v) && v > 0;
};

describe('bench/cnn.mjs', () => {
  it('prints every table with finite figures in its smoke mode (--quick --no-peers, ResNet-18)', () => {
    const run = spawnSync(process.execPath, ['bench/cnn.mjs', '--quick', '--no-peers', '--models=resnet18'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, NODEGRAD_NUM_THREADS: '1' },
    });
    expect(run.stderr).not.toMatch(/Error|failed/);
    expect(run.status).toBe(0);
    const out = run.stdout;
    for (const heading of [
      '## Deep CNNs (1 thread; no peers; QUICK',
      '### Training: SGD momentum 0.9, cross-entropy',
      '### Inference: eval mode',
      '### ResNet-18 convolutions at 3×32×32, batch 2',
      '### ResNet-18 BatchNorm2d, training forward + backward',
      '### GEMM through the public API: a.matmul(b)',
    ])
      expect(out).toContain(heading);
    const data = rows(out);
    const bySection = (prefix: string) => data.filter((r) => r.section.startsWith(prefix)).map((r) => r.cells);

    const [train] = bySection('### Training');
    expect(train.slice(0, 4)).toEqual(['resnet18', '3×32×32', '2', '11,181,642 / —']);
    expect(positive(train[4]) && train[5] === '—').toBe(true);
    expect(Number.isFinite(Number(train[7]))).toBe(true);

    const infer = bySection('### Inference');
    expect(infer.map((c) => [c[2], c[7]])).toEqual([
      ['1', 'ms'],
      ['2', 'images/s'],
    ]);
    expect(infer.every((c) => c[3] === '11,689,512 / —' && positive(c[4]))).toBe(true);

    const convs = bySection('### ResNet-18 convolutions');
    expect(convs[0][0]).toBe('3→64 32×32 k7 s2 p3');
    for (const c of convs) for (const i of [2, 4, 6]) expect(positive(c[i].replace(' / —', ''))).toBe(true);

    const bns = bySection('### ResNet-18 BatchNorm2d');
    expect(bns[0].slice(0, 2)).toEqual(['64×16×16', '1']);
    expect(positive(bns[0][2])).toBe(true);

    const [gemm] = bySection('### GEMM');
    expect(gemm[0]).toBe('256');
    expect(positive(gemm[1]) && Number.isFinite(Number(gemm[2]))).toBe(true);
  }, 120_000);

  it("lists ResNet-18's 11 distinct convolution shapes (20 convolutions) at 3×32×32", async () => {
    const { resnet18Shapes } = (await import(join(root, 'bench', 'cnn.mjs'))) as {
      resnet18Shapes: (size: number, batch: number) => { convs: { key: string; count: number; n: number }[] };
    };
    const { convs } = resnet18Shapes(32, 32);
    expect(convs.length).toBe(11);
    expect(convs.reduce((n, s) => n + s.count, 0)).toBe(20);
    expect(convs.every((s) => s.n === 32)).toBe(true);
    const counts = Object.fromEntries(convs.map((s) => [s.key, s.count]));
    // Stage 1's four 3×3 convolutions on the 8×8 map after the stem; one 1×1 stride-2 shortcut per later stage.
    expect(counts['64→64 8×8 k3 s1 p1']).toBe(4);
    expect(counts['128→256 4×4 k1 s2 p0']).toBe(1);
    expect(counts['512→512 1×1 k3 s1 p1']).toBe(3);
  });
});

describe.skipIf(!hasTorch)('bench/cnn_peer.py (needs /usr/bin/python3 with torch)', () => {
  const models = ['resnet18', 'resnet50', 'vgg11_bn', 'googlenet', 'alexnet'];
  let lines: { name: string; value?: number; keys?: string[] }[] = [];
  beforeAll(() => {
    const spec = JSON.stringify({ models: models.map((model) => ({ model, numClasses: 1000 })) });
    const run = spawnSync(python, ['cnn_peer.py', 'keys', spec], { cwd: join(root, 'bench'), encoding: 'utf8' });
    expect(run.status).toBe(0);
    lines = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { name: string; value?: number; keys?: string[] });
  });

  it("has the zoo's parameter counts with 1000 classes", () => {
    for (const name of models) {
      const model =
        name === 'vgg11_bn' ? ng.models.vgg11({ batchNorm: true }) : ng.models.registry[name]({ numClasses: 1000 });
      const theirs = lines.find((l) => l.name === `${name} 1000`)?.value;
      expect([name, theirs]).toEqual([name, model.parameters().reduce((n, p) => n + p.numel, 0)]);
    }
  }, 120_000);

  it("has torchvision's state-dict keys (test/fixtures/zoo.safetensors)", () => {
    const { metadata } = ng.readSafetensors(join(fixturesDir, 'zoo.safetensors'));
    const cases = JSON.parse(metadata.cases) as { name: string; keys: string[] }[];
    const withKeys = lines.filter((l) => l.keys);
    expect(withKeys.map((l) => l.name)).toEqual(models);
    for (const { name, keys } of withKeys) expect(keys).toEqual(cases.find((c) => c.name === name)?.keys);
  });
});
