// `analyze --layers all` on an (n, 13, 768) file against 13 runs of `--layer l`, alternated
// (the machine is shared: compare neighbouring rounds), and the largest relative difference.
//   node --import tsx bench/layers-all.ts [--rows 5000] [--rounds 2]   (after npm run build)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeNpy } from '../src/index.js';
import { mulberry32 } from '../src/analyze/sample.js';

const arg = (name: string, def: number) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : def);
const n = arg('--rows', 5000);
const rounds = arg('--rounds', 2);
const L = 13;
const d = 768;
const bin = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'isotropy-layers-'));
const file = join(dir, 'layers.npy');
const rand = mulberry32(1);
const x = new Float32Array(n * L * d);
// each layer a little more anisotropic than the last: a few dims with a large scale
for (let i = 0; i < n; i++) for (let l = 0; l < L; l++) for (let j = 0; j < d; j++) x[(i * L + l) * d + j] = (rand() - 0.5) * (j < l + 1 ? 4 + l : 1) + (j === l ? 0.3 * l : 0);
await writeNpy(file, x, n, L * d, { rowShape: [L, d] });

const run = (...args: string[]) => {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [bin, 'analyze', file, '--no-report', '--json', '-q', ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(r.stderr);
  return { s: (Date.now() - t0) / 1000, json: JSON.parse(r.stdout) };
};
console.log(`(${n}, ${L}, ${d}) float32, ${(x.byteLength / 2 ** 20).toFixed(0)} MiB; isobn; runs alternated, ${rounds} rounds`);
let worst = 0;
for (let k = 0; k < rounds; k++) {
  const all = run('--layers', 'all');
  let sep = 0;
  for (let l = 0; l < L; l++) {
    const one = run('--layer', String(l));
    sep += one.s;
    const mine = all.json.results.filter((r: { layer: number }) => r.layer === l);
    mine.forEach((r: Record<string, number>, t: number) => {
      for (const key of ['isoScore', 'avgCosine', 'partitionIsotropy', 'meanNorm']) {
        worst = Math.max(worst, Math.abs(r[key] - one.json.results[t][key]) / Math.abs(one.json.results[t][key]));
      }
    });
  }
  console.log(`round ${k + 1}: --layers all ${all.s.toFixed(1)} s; 13 x --layer ${sep.toFixed(1)} s; ratio ${(all.s / sep).toFixed(2)}`);
}
console.log(`largest relative difference (isoScore, avgCosine, I(W), meanNorm): ${worst.toExponential(2)}`);
rmSync(dir, { recursive: true, force: true });
