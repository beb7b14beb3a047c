// analyze, stats and transform read every format, with --key / --column / --field; bad input in
// any format is one line on stderr and exit code 2.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeTempDir } from '../io/helpers.ts';
import { isotropy } from './run.ts';

const tmp = makeTempDir();
test.after(() => tmp.cleanup());
const fx = (name: string) => `fixtures/formats/${name}`;

function json(...args: string[]) {
  const r = isotropy('analyze', ...args, '--json', '--no-report', '-q', '--transform', 'none,isobn');
  assert.is(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('analyze: Parquet --column, .npz --key, JSONL --field give the numbers of the .npy', () => {
  const ref = json(fx('base.npy')).results;
  for (const args of [
    [fx('duckdb_columns.parquet'), '--column', 'emb'],
    [fx('savez_compressed.npz'), '--key', 'emb'],
    [fx('nested.jsonl'), '--field', 'data.vector'],
    [fx('glove.txt')],
  ]) {
    const got = json(...args).results;
    for (let k = 0; k < ref.length; k++) {
      for (const m of ['isoScore', 'avgCosine', 'partitionIsotropy', 'meanNorm']) {
        const a = ref[k][m], b = got[k][m];
        assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(a)), `${args[0]} ${m}: ${a} vs ${b}`);
      }
    }
  }
});

test('stats and transform read Parquet and HDF5', () => {
  const s = isotropy('stats', fx('duckdb_snappy.parquet'), '-q');
  assert.is(s.code, 0, s.stderr);
  assert.is(JSON.parse(s.stdout).count, 257);
  const out = join(tmp.dir, 'iso.npy');
  const t = isotropy('transform', fx('h5py.h5'), out, '--key', '/model/chunked', '-q');
  assert.is(t.code, 0, t.stderr);
  assert.match(t.stdout, /iso\.npy: 257 x 12 <f4, isobn/);
  assert.ok(readFileSync(out).length > 257 * 12 * 4);
});

test('bad input in any format: one line, exit 2, no output', () => {
  for (const [args, pattern] of [
    [[fx('duckdb_nulls.parquet')], /duckdb_nulls\.parquet: row 7 \(0-based\) of column "emb" is null.*--drop-nonfinite/],
    [[fx('ragged.csv')], /ragged\.csv: line 3 has 2 fields/],
    [[fx('tensor.pt')], /tensor\.pt: is a PyTorch file.*np\.save/],
    [[fx('savez.npz'), '--column', 'emb'], /savez\.npz: the column option \(--column\)/],
    [[fx('savez_compressed.npz')], /has 2 2-D\/3-D members: "emb" \(257, 12\) <f4, "layers" \(257, 3, 12\) <f4/],
  ] as [string[], RegExp][]) {
    const out = join(tmp.dir, 'r.html');
    const r = isotropy('analyze', ...args, '--out', out);
    assert.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.is(r.stdout, '');
    const lines = r.stderr.trimEnd().split('\n');
    assert.is(lines.length, 1, r.stderr);
    assert.match(lines[0], /^isotropy: /);
    assert.match(lines[0], pattern);
    assert.ok(!readdirSync(tmp.dir).includes('r.html'), 'no report');
  }
  const dropped = isotropy('analyze', fx('duckdb_nulls.parquet'), '--drop-nonfinite', '--json', '--no-report', '-q');
  assert.is(dropped.code, 0, dropped.stderr);
  assert.is(JSON.parse(dropped.stdout).inputs[0].droppedRows, 1);
});

test.run();
