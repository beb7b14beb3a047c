// Bad input in every format: one-line user errors naming the file and what to do, never a
// stack trace or a silently wrong number. Damaged files are made here from the good fixtures.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openEmbeddings, type OpenOptions } from '../../src/io/index.js';
import { makeTempDir } from './helpers.js';

const dir = fileURLToPath(new URL('../../fixtures/formats/', import.meta.url));
const f = (name: string) => dir + name;
const tmp = makeTempDir();
test.after(() => tmp.cleanup());

/** Opens and reads `path` to the end; expects a user error holding every fragment, on one line. */
async function bad(path: string, opts: OpenOptions, ...fragments: (string | RegExp)[]): Promise<void> {
  let err: (Error & { isUserError?: boolean }) | null = null;
  try {
    const src = await openEmbeddings(path, opts);
    try {
      for await (const _ of src.blocks()) void _;
    } finally {
      await src.close();
    }
  } catch (e) {
    err = e as Error;
  }
  assert.ok(err, `${path}: expected an error`);
  assert.ok(err!.isUserError, `${path}: not a user error: ${err!.stack}`);
  assert.not.match(err!.message, /\n/, 'one line');
  assert.ok(err!.message.startsWith(path), `names the file: ${err!.message}`);
  for (const p of fragments) {
    if (typeof p === 'string') assert.ok(err!.message.includes(p), `${JSON.stringify(err!.message)} lacks ${JSON.stringify(p)}`);
    else assert.match(err!.message, p);
  }
}

const bytes = (name: string) => new Uint8Array(readFileSync(f(name)));
const cut = (name: string, keep: number) => tmp.file(`cut-${name}`, bytes(name).subarray(0, keep));
function patched(name: string, at: number, values: number[], as = `patched-${name}`): string {
  const b = bytes(name);
  values.forEach((v, i) => (b[at + i] = v));
  return tmp.file(as, b);
}
function indexOf(b: Uint8Array, needle: string, from = 0): number {
  const n = new TextEncoder().encode(needle);
  outer: for (let i = from; i <= b.length - n.length; i++) {
    for (let j = 0; j < n.length; j++) if (b[i + j] !== n[j]) continue outer;
    return i;
  }
  return -1;
}

test('.npz: ambiguous default and unknown key list the members with shapes and dtypes', async () => {
  await bad(f('savez_compressed.npz'), {}, 'has 2 2-D/3-D members', '"emb" (257, 12) <f4', '"layers" (257, 3, 12) <f4', '--key');
  await bad(f('savez.npz'), { key: 'nope' }, 'has no member "nope"', '"emb" (257, 12) <f4', '"ids" (257,) <i8');
  await bad(f('savez.npz'), { key: 'ids' }, 'expected a 2-D (n, d)');
});

test('.npz: truncated archive, corrupt deflate data, lying sizes', async () => {
  await bad(cut('savez.npz', 3000), {}, 'damaged zip/.npz archive');
  await bad(cut('savez_compressed.npz', 4000), {}, 'damaged zip/.npz archive');
  const b = bytes('savez_compressed.npz');
  // flip bytes inside the first member's deflate stream
  await bad(patched('savez_compressed.npz', 400, [0xff, 0x00, 0xff, 0x00, 0x13, 0x37], 'flipped.npz'), { key: 'emb' }, 'member emb.npy', 're-save it with np.savez');
  // the central directory's uncompressed size of emb.npy, plus 4
  const cd = indexOf(b, 'PK\x01\x02');
  const size = new DataView(b.buffer).getUint32(cd + 24, true) + 4;
  await bad(patched('savez_compressed.npz', cd + 24, [size & 255, (size >> 8) & 255, (size >> 16) & 255, size >>> 24], 'lying.npz'), { key: 'emb' }, /emb/);
});

test('PyTorch files are named as such, with the conversion', async () => {
  await bad(f('tensor.pt'), {}, 'is a PyTorch file', 'isotropy never unpickles', "np.save('emb.npy', t.float().numpy())");
  await bad(f('legacy.pth'), {}, 'is a PyTorch file', 'np.save');
});

test('safetensors: ambiguous default, a 1-D tensor, truncation, a lying header', async () => {
  await bad(f('tensors.safetensors'), {}, 'has 4 2-D/3-D tensors', '"emb_bf16" (257, 12) BF16');
  await bad(f('tensors.safetensors'), { key: 'ids' }, 'expected a 2-D (n, d)');
  const b = bytes('tensors.safetensors');
  await bad(cut('tensors.safetensors', b.length - 100), { key: 'emb' }, 'truncated');
  const n = Number(new DataView(b.buffer).getBigUint64(0, true)) + 1_000_000;
  await bad(patched('tensors.safetensors', 0, [n & 255, (n >> 8) & 255, (n >> 16) & 255, n >>> 24, 0, 0, 0, 0], 'lying.safetensors'), { key: 'emb' }, /runs past the end|not in a format/);
});

test('Parquet: truncated file, damaged pages, column choice', async () => {
  const b = bytes('duckdb_zstd.parquet');
  await bad(cut('duckdb_zstd.parquet', b.length - 50), {}, 'damaged Parquet file');
  const footer = new DataView(b.buffer).getUint32(b.length - 8, true);
  await bad(patched('duckdb_zstd.parquet', 4, new Array(b.length - footer - 12).fill(0x5a), 'flipped.parquet'), {}, 'row group 0 of column "emb" is damaged');
  await bad(f('duckdb_columns.parquet'), {}, 'has 4 vector columns', '"emb" (list of <f4)', '"blob" (float32 blobs)', '--column');
  await bad(f('duckdb_columns.parquet'), { column: 'name' }, '"name" is not a list of numbers');
  await bad(f('duckdb_strings.parquet'), {}, 'has no column of vectors', 'id, name');
});

test('Parquet: null vectors and elements name the row (or are dropped); ragged rows name the row', async () => {
  await bad(f('duckdb_nulls.parquet'), {}, 'row 7 (0-based) of column "emb" is null', 'dropNonfinite (--drop-nonfinite)');
  await bad(f('duckdb_null_element.parquet'), {}, 'row 9 (0-based) of column "embl" has a null element');
  await bad(f('duckdb_ragged.parquet'), {}, 'row 11 (0-based) of column "embl" has 5 values but the first row has 12');
});

test('Arrow: truncated file, null rows, column choice', async () => {
  const b = bytes('arrow_file.arrow');
  await bad(cut('arrow_file.arrow', b.length - 300), {}, 'damaged Arrow IPC file');
  await bad(cut('arrow_stream.arrows', 5000), {}, 'damaged Arrow IPC file');
  await bad(f('arrow_nulls.arrow'), {}, 'row 4 (0-based) of column "embl" is null', '--drop-nonfinite');
  await bad(f('arrow_list.arrow'), {}, 'has 2 vector columns');
});

test('HDF5: truncated file, a string dataset, ambiguous default', async () => {
  await bad(cut('h5py.h5', 3000), {}, 'HDF5 cannot');
  await bad(f('h5py.h5'), { key: '/words' }, 'not numbers');
  await bad(f('h5py.h5'), {}, '2-D/3-D datasets', '"/emb" (257, 12) <f4', '"/model/f8be" (257, 12) >f8');
  await bad(f('h5py.h5'), { key: '/nope' }, 'has no dataset "/nope"');
});

test('text: ragged rows and non-numbers name the line', async () => {
  await bad(f('ragged.csv'), {}, 'line 3 has 2 fields but line 1 has 3');
  await bad(f('strings.csv'), {}, 'line 3, column 2: "oops" is not a number');
  await bad(f('bad.jsonl'), {}, 'line 3, value 1 is a nested list');
  await bad(f('ragged.jsonl'), {}, 'line 2 has 3 values but line 1 has 2');
  await bad(f('nulls.jsonl'), {}, 'line 8: the vector is null', '--drop-nonfinite');
  await bad(f('pandas.jsonl'), { field: 'vec' }, 'line 1 has no field "vec"', '--field');
  await bad(tmp.file('notjson.jsonl', new TextEncoder().encode('{"embedding": [1, 2]}\n{"embedding": [1, 2\n')), {}, 'line 2 is not valid JSON');
  const glove = readFileSync(f('glove.txt'), 'utf8').split('\n');
  glove[9] = glove[9].split(' ').slice(0, 8).join(' ');
  await bad(tmp.file('ragged-glove.txt', new TextEncoder().encode(glove.join('\n'))), {}, 'line 10 has 7 values after the word but line 1 has 12');
  glove[9] = 'word 1 2 3 4 5 6 7 8 9 10 eleven 12';
  await bad(tmp.file('word-glove.txt', new TextEncoder().encode(glove.join('\n'))), {}, 'line 10, value 11: "eleven" is not a number');
});

test('word2vec: truncated binary, a header that lies', async () => {
  const b = bytes('gensim.w2v.bin');
  await bad(cut('gensim.w2v.bin', b.length - 30), {}, 'truncated');
  await bad(cut('gensim.w2v.bin', b.length - 3000), {}, 'truncated');
  const text = readFileSync(f('gensim.w2v.txt'), 'utf8').replace(/^257 12/, '300 12');
  await bad(tmp.file('lying.w2v.txt', new TextEncoder().encode(text)), {}, 'the word2vec header says 300 rows but the file has 257');
});

test('options a format does not take, unknown and unsupported files', async () => {
  await bad(f('savez.npz'), { column: 'emb' }, 'the column option (--column) applies to Parquet, Arrow IPC / Feather files', 'use key (--key)');
  await bad(f('pandas.csv'), { layer: 0 }, 'without a layer axis', '--layer');
  await bad(f('duckdb_snappy.parquet'), { key: 'emb' }, 'use column (--column)');
  await bad(f('pandas.csv'), { field: 'x' }, 'the field option (--field) applies to JSONL');
  await bad(tmp.file('blob.bin', Uint8Array.from({ length: 300 }, (_, i) => (i * 7919) % 256)), {}, 'not in a format isotropy reads');
  await bad(tmp.file('x.csv.gz', Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0)), {}, 'is gzip-compressed');
  await bad(tmp.file('old.feather', new TextEncoder().encode('FEA1....')), {}, 'Feather v1');
  await bad(tmp.file('empty.csv', new Uint8Array(0)), {}, 'empty file');
  await bad(tmp.file('text.npy', new TextEncoder().encode('1,2,3\n')), {}, 'not a .npy file (bad magic');
  await bad(tmp.file('header-only.csv', new TextEncoder().encode('a,b,c\n')), {}, 'no rows to analyze');
  await bad(f('savez.npz'), { format: 'yaml' }, 'unknown format "yaml"');
});

test.run();
