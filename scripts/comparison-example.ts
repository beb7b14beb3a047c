/**
 * The comparison report of the README screenshot (`npm run screenshot`): three seeded synthetic
 * BERT-like inputs (2,000 x 768, float32; a common offset, a few latent factors, outlier
 * dimensions, and 3, 5 or 0 rogue dimensions with a large same-signed value), written to
 * reports/example/, then analysed by the CLI with IsoBN, whitening and ABTT into
 * reports/comparison.html.
 *
 *   node --import tsx scripts/comparison-example.ts     # needs `npm run build` first
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeNpy } from '../src/io/index.ts';
import { syntheticEmbeddings } from '../test/report/fixture.ts';

const ROWS = 2000, DIMS = 768;
const inputs = [
  { file: 'model-a.npy', label: 'A: 3 rogue dims', seed: 7, rogue: 3 },
  { file: 'model-b.npy', label: 'B: 5 rogue dims', seed: 108, rogue: 5 },
  { file: 'model-c.npy', label: 'C: no rogue dims', seed: 209, rogue: 0 },
];
const dir = join('reports', 'example');
mkdirSync(dir, { recursive: true });
for (const x of inputs) {
  await writeNpy(join(dir, x.file), Float32Array.from(syntheticEmbeddings(ROWS, DIMS, x.seed, x.rogue)), ROWS, DIMS);
}
execFileSync(process.execPath, [
  'dist/cli/main.js', 'analyze', ...inputs.map((x) => join(dir, x.file)), ...inputs.flatMap((x) => ['--label', x.label]),
  '-t', 'isobn,whiten,abtt', '-q', '--out', join('reports', 'comparison.html'),
], { stdio: ['ignore', 'ignore', 'inherit'] });
process.stdout.write('reports/comparison.html\n');
