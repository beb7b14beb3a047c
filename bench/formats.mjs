// Peak RSS and wall time of `isotropy analyze` on the same 100k x 768 float32 embeddings in every
// input format (files from bench/formats-make.py and bench/formats-make.mjs):
//   npm run build && node bench/formats.mjs DIR
// Each file is analysed once, in the order below, with .npy runs spread between the others so that
// a change of load on a shared machine shows up as a change between the .npy runs.
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
const bin = new URL('../dist/cli/main.js', import.meta.url).pathname;
const runs = [
  ['.npy', 'emb.npy'], ['.npz (stored)', 'emb.npz'], ['.npz (deflated)', 'emb.compressed.npz'], ['safetensors', 'emb.safetensors'],
  ['HDF5', 'emb.h5'], ['.npy', 'emb.npy'], ['Parquet (DuckDB)', 'emb.parquet'], ['Parquet (arrow-rs)', 'emb.arrowrs.parquet'], ['Arrow IPC', 'emb.arrow'], ['word2vec binary', 'emb.w2v.bin'],
  ['.npy', 'emb.npy'], ['CSV', 'emb.csv'], ['JSONL', 'emb.jsonl'], ['GloVe text', 'emb.glove.txt'], ['.npy', 'emb.npy'],
];
const rows = [];
for (const [name, file] of runs) {
  const path = join(dir, file);
  const r = spawnSync('/usr/bin/time', ['-f', '%M %e', process.execPath, bin, 'analyze', path, '--no-report', '--json', '-q'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const [kb, secs] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  if (r.status !== 0) throw new Error(`${file}: ${r.stderr}`);
  const iso = JSON.parse(r.stdout).results[0].isoScore;
  rows.push({ name, file, mb: statSync(path).size / 2 ** 20, rss: kb / 1024, secs, iso });
  console.error(`${name}: ${secs} s, ${(kb / 1024).toFixed(0)} MiB`);
}
const npy = rows.filter((r) => r.file === 'emb.npy').map((r) => r.secs);
const npyMean = npy.reduce((a, b) => a + b, 0) / npy.length;
console.log(`format               file MiB   peak RSS MiB   wall s   vs .npy   isoScore`);
for (const r of rows) {
  console.log(`${r.name.padEnd(20)} ${r.mb.toFixed(0).padStart(8)} ${r.rss.toFixed(0).padStart(14)} ${r.secs.toFixed(1).padStart(8)} ${(r.secs / npyMean).toFixed(2).padStart(8)}x   ${r.iso.toFixed(6)}`);
}
console.log(`(.npy runs: ${npy.join(', ')} s; "vs .npy" divides by their mean ${npyMean.toFixed(1)} s)`);
