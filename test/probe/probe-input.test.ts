// The probe's input: any format the analysis reads, with its options and errors; labels joined by
// word for GloVe files; NaN/Inf rows as in the analysis, or left out with their labels.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NpyError, readEmbeddings } from '../../src/io/index.ts';
import { ProbeError, loadProbeInput } from '../../src/probe/index.ts';
import { StatsError } from '../../src/stats/index.ts';
import { buildNpy, makeTempDir } from '../io/helpers.ts';

const tmp = makeTempDir();
test.after(() => tmp.cleanup());
const text = (s: string) => new TextEncoder().encode(s);
const FORMATS = new URL('../../fixtures/formats/', import.meta.url).pathname;
const base = JSON.parse(readFileSync(`${FORMATS}base.json`, 'utf8')) as { rows: number[][]; words: string[] };
const N = base.rows.length;
const D = base.rows[0].length;
/** one label per row, in order: the sign of dimension 7 */
const sign = (r: number[]) => (r[7] > 0 ? 'pos' : 'neg');
const labels = tmp.file('labels.txt', text(base.rows.map(sign).join('\n') + '\n'));

async function rejects(p: Promise<unknown>, type: Function, re: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, type);
    assert.match((e as Error).message, re);
    assert.not.match((e as Error).message, /\n/);
    return;
  }
  assert.unreachable(`expected ${re}`);
}

test('a safetensors tensor (key) gives the same rows as the .npy; labels in row order', async () => {
  const npy = await readEmbeddings(`${FORMATS}base.npy`);
  const input = await loadProbeInput(`${FORMATS}tensors.safetensors`, labels, { key: 'emb' });
  assert.is(input.rows, N);
  assert.is(input.dims, D);
  assert.equal(input.data, npy.data);
  assert.equal(input.labels.classes, ['neg', 'pos']);
  assert.equal(Array.from(input.labels.y), base.rows.map((r) => (sign(r) === 'pos' ? 1 : 0)));
  assert.is(input.droppedRows, 0);
  assert.is(input.unlabelledRows, null);
  const layer = await loadProbeInput(`${FORMATS}tensors.safetensors`, labels, { key: 'layers', layer: 1 });
  assert.is(layer.layer, 1);
});

test("the analysis' reading errors and flags, one line each", async () => {
  await rejects(loadProbeInput(`${FORMATS}tensors.safetensors`, labels), NpyError, /has 4 2-D\/3-D tensors: .* pick one with the key option \(--key\)/);
  await rejects(loadProbeInput(`${FORMATS}pandas.csv`, labels, { key: 'emb' }), NpyError, /the key option \(--key\) applies to .npz, safetensors, HDF5 files, but this is a CSV file/);
  await rejects(loadProbeInput(`${FORMATS}glove.txt`, labels, { layer: 0 }), NpyError, /drop the layer option \(--layer\)/);
  const short = tmp.file('short.txt', text('a\nb\n'));
  await rejects(loadProbeInput(`${FORMATS}pandas.jsonl`, short), ProbeError, /short\.txt: 2 labels for the 257 rows of .*pandas\.jsonl; give one label per row/);
});

test('GloVe: labels joined by word; rows without a label left out, in file order', async () => {
  // every third word unlabelled, one labelled word absent from the vectors, one word twice with the same label
  const pairs = base.words.map((w, i) => [w, sign(base.rows[i])]).filter((_, i) => i % 3 !== 0);
  const csv = tmp.file('lexicon.csv', text('word,valence\n' + [...pairs, ['zzz', 'pos'], pairs[0]].map((p) => p.join(',')).join('\n') + '\n'));
  const warnings: string[] = [];
  const input = await loadProbeInput(`${FORMATS}glove.txt`, csv, { labelWord: 'word', labelColumn: 'valence', onWarning: (m) => warnings.push(m) });
  const kept = base.rows.filter((_, i) => i % 3 !== 0);
  assert.is(input.rows, kept.length);
  assert.is(input.unlabelledRows, N - kept.length);
  assert.equal(input.data, Float64Array.from(kept.flat()));
  assert.equal(Array.from(input.labels.y), kept.map((r) => (sign(r) === 'pos' ? 1 : 0)));
  assert.equal(warnings.length, 2);
  assert.match(warnings[0], `${N - kept.length} of ${N} rows have no label`);
  assert.match(warnings[1], `1 of ${pairs.length + 1} labelled words are not in`);
  // a JSONL lexicon, the non-ASCII word included
  const jsonl = tmp.file('lexicon.jsonl', text(base.words.map((w, i) => JSON.stringify({ w, y: i % 2 })).join('\n') + '\n'));
  const all = await loadProbeInput(`${FORMATS}glove.txt`, jsonl, { labelWord: 'w', labelColumn: 'y' });
  assert.is(all.rows, N);
  assert.is(all.unlabelledRows, 0);
});

test('joining by word: its errors', async () => {
  const clash = tmp.file('clash.csv', text('word,y\nw0,a\nw1,b\nw0,b\n'));
  await rejects(loadProbeInput(`${FORMATS}glove.txt`, clash, { labelWord: 'word', labelColumn: 'y' }), ProbeError, /clash\.csv: the word "w0" has two labels, "a" \(line 2\) and "b" \(line 4\)/);
  const none = tmp.file('none.csv', text('word,y\nW0,a\nW1,b\n'));
  await rejects(loadProbeInput(`${FORMATS}glove.txt`, none, { labelWord: 'word', labelColumn: 'y' }), ProbeError, /none of the 257 words of .*glove\.txt is in the "word" column of .*none\.csv; check --label-word \(words are matched exactly, case included\)/);
  await rejects(loadProbeInput(`${FORMATS}base.npy`, none, { labelWord: 'word', labelColumn: 'y' }), ProbeError, /base\.npy: --label-word joins labels to rows by word, but the rows of this file carry no words/);
  await rejects(loadProbeInput(`${FORMATS}glove.txt`, labels, { labelWord: 'word' }), ProbeError, /labels\.txt: --label-word needs a CSV\/TSV or JSONL labels file/);
  await rejects(loadProbeInput(`${FORMATS}glove.txt`, clash, { labelWord: 'nope', labelColumn: 'y' }), ProbeError, /clash\.csv: no column "nope"/);
});

test('NaN/Inf rows: the analysis error, or left out with their labels (dropNonfinite)', async () => {
  const values = Float64Array.from({ length: 6 * 2 }, (_, k) => k + 1);
  values[2 * 2 + 1] = NaN;
  const npy = tmp.file('nan.npy', buildNpy({ descr: '<f8', shape: [6, 2], values }));
  const six = tmp.file('six.txt', text('a\nb\nc\na\nb\na\n'));
  await rejects(loadProbeInput(npy, six), StatsError, /nan\.npy: row 2 \(0-based\) holds NaN in dimension 1: fix the embeddings, or pass --drop-nonfinite/);
  const warnings: string[] = [];
  const input = await loadProbeInput(npy, six, { dropNonfinite: true, onWarning: (m) => warnings.push(m) });
  assert.is(input.rows, 5);
  assert.is(input.droppedRows, 1);
  assert.equal(Array.from(input.data), [1, 2, 3, 4, 7, 8, 9, 10, 11, 12]);
  assert.equal(input.labels.classes, ['a', 'b'], 'the only "c" went with its row');
  assert.equal(Array.from(input.labels.y), [0, 1, 0, 1, 0]);
  assert.match(warnings[0], /nan\.npy: 1 row holding NaN\/Inf left out, with its label/);
});

test.run();
