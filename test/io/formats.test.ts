// Every input format reads the same rows as the .npy they were written from. The fixtures in
// fixtures/formats were written by the tools users have (numpy, h5py, pandas, gensim, torch,
// DuckDB, apache-arrow; see make_formats.py / make_formats.mjs); python is not needed here.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { analyze } from '../../src/analyze/index.js';
import { openEmbeddings, openNpy, type EmbeddingSource, type OpenOptions } from '../../src/io/index.js';

const dir = fileURLToPath(new URL('../../fixtures/formats/', import.meta.url));
const f = (name: string) => dir + name;
const { words } = JSON.parse(readFileSync(f('base.json'), 'utf8')) as { words: string[] };

async function all(src: EmbeddingSource, blockRows?: number): Promise<Float64Array> {
  const out = new Float64Array(src.rows * src.dims);
  for await (const b of src.blocks({ blockRows })) out.set(b.data, b.start * src.dims);
  return out;
}

const base = await openNpy(f('base.npy'));
const BASE = await all(base);
await base.close();
const base3 = await openNpy(f('base3.npy'), { layer: 1 });
const LAYER1 = await all(base3);
await base3.close();

/** [file, options, format] read as the 257 x 12 rows of base.npy */
const SAME_ROWS: [string, OpenOptions, string][] = [
  ['savez.npz', {}, 'npz'],
  ['savez_compressed.npz', { key: 'emb' }, 'npz'],
  ['savez_compressed.npz', { key: 'emb.npy' }, 'npz'],
  ['f16.npz', {}, 'npz'],
  ['tensors.safetensors', { key: 'emb' }, 'safetensors'],
  ['tensors.safetensors', { key: 'emb_f16' }, 'safetensors'],
  ['tensors.safetensors', { key: 'emb_bf16' }, 'safetensors'],
  ['h5py.h5', { key: 'emb' }, 'hdf5'],
  ['h5py.h5', { key: '/model/chunked' }, 'hdf5'],
  ['h5py.h5', { key: 'model/f8be' }, 'hdf5'],
  ['h5py_one.h5', {}, 'hdf5'],
  ...(['uncompressed', 'snappy', 'gzip', 'zstd', 'lz4', 'brotli'].map((c) => [`duckdb_${c}.parquet`, {}, 'parquet']) as [string, OpenOptions, string][]),
  ['arrowrs_lz4_v1.parquet', {}, 'parquet'],
  ['arrowrs_zstd_v2.parquet', {}, 'parquet'],
  ['arrowrs_gzip_v2.parquet', {}, 'parquet'],
  ['duckdb_columns.parquet', { column: 'emb' }, 'parquet'],
  ['duckdb_columns.parquet', { column: 'embl' }, 'parquet'],
  ['duckdb_columns.parquet', { column: 'embd' }, 'parquet'],
  ['duckdb_columns.parquet', { column: 'blob' }, 'parquet'],
  ['duckdb_blob.parquet', {}, 'parquet'],
  ['duckdb_double.parquet', {}, 'parquet'],
  ['arrow_file.arrow', {}, 'arrow'],
  ['arrow_stream.arrows', {}, 'arrow'],
  ['arrow_lz4.feather', {}, 'arrow'],
  ['arrow_list.arrow', { column: 'embl' }, 'arrow'],
  ['arrow_list.arrow', { column: 'blob' }, 'arrow'],
  ['glove.txt', {}, 'glove'],
  ['gensim.w2v.txt', {}, 'glove'],
  ['gensim.w2v.bin', {}, 'word2vec'],
  ['pandas.csv', {}, 'csv'],
  ['pandas_index.csv', {}, 'csv'],
  ['pandas.tsv', {}, 'tsv'],
  ['savetxt.txt', {}, 'csv'],
  ['pandas.jsonl', {}, 'jsonl'],
  ['nested.jsonl', { field: 'data.vector' }, 'jsonl'],
];

test('a stored .npz member and a float32 safetensors tensor keep the .npy reader\'s float32 blocks, under the user\'s file name', async () => {
  for (const [file, opts, format] of [['savez.npz', {}, 'npz'], ['tensors.safetensors', { key: 'emb' }, 'safetensors']] as const) {
    const src = await openEmbeddings(f(file), opts);
    try {
      assert.is(src.path, f(file));
      assert.is(src.format, format);
      assert.ok(src.rawBlocks, `${file}: rawBlocks`);
      const got: number[] = [];
      for await (const b of src.rawBlocks!({ blockRows: 50 })) {
        assert.instance(b.data, Float32Array, file);
        got.push(...b.data);
      }
      assert.equal(got, [...BASE], file);
    } finally {
      await src.close();
    }
  }
});

for (const [file, opts, format] of SAME_ROWS) {
  test(`${file} ${JSON.stringify(opts)}: the rows of base.npy, in blocks and in ranges`, async () => {
    const src = await openEmbeddings(f(file), opts);
    try {
      assert.is(src.format, format);
      assert.is(src.rows, 257);
      assert.is(src.dims, 12);
      assert.equal([...(await all(src))], [...BASE]);
      assert.equal([...(await all(src, 7))], [...BASE]);
      // ascending ranges (the report's sample) and a range behind the last one
      for (const [s, e] of [[0, 3], [100, 101], [120, 140], [250, 257], [5, 9]]) {
        const got: number[] = [];
        for await (const b of src.blocks({ start: s, end: e })) got.push(...b.data);
        assert.equal(got, [...BASE.subarray(s * 12, e * 12)], `rows ${s}..${e}`);
      }
    } finally {
      await src.close();
    }
  });
}

/** Relative difference of two analyses' numbers, over every metric. */
function maxRelDiff(a: unknown, b: unknown, path = ''): { diff: number; at: string } {
  if (typeof a === 'number' && typeof b === 'number') {
    const d = a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-300);
    return { diff: d, at: path };
  }
  let worst = { diff: 0, at: '' };
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    for (const k of Object.keys(a)) {
      const r = maxRelDiff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
      if (r.diff > worst.diff) worst = r;
    }
  }
  return worst;
}

test('every format gives the statistics of base.npy (1e-12 relative)', async () => {
  const opts = { transforms: 'none,isobn,whiten', diagnostics: false, backend: 'js', threads: 1 } as const;
  const ref = (await analyze([f('base.npy')], opts)).results;
  const seen = new Set<string>();
  for (const [file, o] of SAME_ROWS) {
    // one case per format and codec keeps this quick; the row test above covers the rest
    const id = `${file}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const got = (await analyze([f(file)], { ...opts, ...o })).results;
    const { diff, at } = maxRelDiff(ref, got);
    assert.ok(diff <= 1e-12, `${file}: ${diff} at ${at}`);
  }
});

test('integer members are converted with a note (np.savez_compressed int16)', async () => {
  const src = await openEmbeddings(f('ints.npz'));
  assert.is(src.dtype, '<i2');
  assert.match(src.notes.join(' '), /integer dtype <i2 converted to float64/);
  assert.equal([...(await all(src))], [...BASE].map((v) => Math.trunc(v * 64)));
  await src.close();
});

test('3-D arrays in .npz, safetensors and HDF5: the layer option picks a layer', async () => {
  for (const [file, key] of [['savez_compressed.npz', 'layers'], ['tensors.safetensors', 'layers'], ['h5py.h5', '/model/layers']]) {
    const src = await openEmbeddings(f(file), { key, layer: 1 });
    assert.is(src.layer, 1, file);
    assert.equal(src.shape, [257, 3, 12], file);
    assert.equal([...(await all(src, 10))], [...LAYER1], file);
    await src.close();
    const last = await openEmbeddings(f(file), { key });
    assert.is(last.layer, 2, file);
    await last.close();
  }
});

test('GloVe and word2vec words are the row labels', async () => {
  for (const file of ['glove.txt', 'gensim.w2v.txt', 'gensim.w2v.bin']) {
    const src = await openEmbeddings(f(file));
    assert.ok(src.labels, file);
    assert.equal(await src.labels!(), words, file);
    await src.close();
  }
});

test('null vectors: dropNonfinite reads them as NaN rows, which the analysis drops and counts', async () => {
  for (const [file, o, row] of [
    ['duckdb_nulls.parquet', {}, 7],
    ['arrow_nulls.arrow', {}, 4],
    ['nulls.jsonl', {}, 7],
    ['duckdb_null_element.parquet', {}, 9],
  ] as [string, OpenOptions, number][]) {
    const src = await openEmbeddings(f(file), { ...o, dropNonfinite: true });
    const data = await all(src);
    const d = src.dims;
    assert.ok(data.subarray(row * d, row * d + d).some(Number.isNaN), `${file} row ${row}`);
    await src.close();
    const a = await analyze([f(file)], { ...o, dropNonfinite: true, transforms: 'none', diagnostics: false });
    assert.is(a.inputs[0].droppedRows, 1, file);
  }
});

test.run();
