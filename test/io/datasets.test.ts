// Many files as one dataset: a directory, a glob, a list (--concat): natural order, widths checked,
// and the same numbers as the concatenated file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { analyze, expandInput, naturalSort, openEmbeddings } from '../../src/index.js';
import { anisotropic } from '../helpers/random.js';
import { analysisMismatch } from '../helpers/compare.js';
import { buildNpy, collect, makeTempDir, rejects } from './helpers.js';

const D = 12;
const N = 900;
const all = anisotropic(N, D, 7);
all.fill(NaN, 5 * D, 6 * D); // a NaN row in the first shard
all.fill(0, 700 * D, 701 * D); // a zero row in a later one
const npy = (rows: Float64Array, n: number, d = D) => buildNpy({ descr: '<f8', shape: [n, d], values: rows });
// shards of unequal sizes, named so that plain string order is not natural order
const cuts = [0, 90, 300, 301, 640, 900];
const names = ['part-1.npy', 'part-2.npy', 'part-10.npy', 'part-11.npy', 'part-100.npy'];

const tmp = makeTempDir();
const whole = tmp.file('whole.npy', npy(all, N));
mkdirSync(join(tmp.dir, 'shards'));
names.forEach((name, k) => writeFileSync(join(tmp.dir, 'shards', name), npy(all.subarray(cuts[k] * D, cuts[k + 1] * D), cuts[k + 1] - cuts[k])));
writeFileSync(join(tmp.dir, 'shards', '_SUCCESS'), '');
writeFileSync(join(tmp.dir, 'shards', '.part-1.npy.crc'), 'x');
test.after(() => tmp.cleanup());

// not whiten: its I(W) depends on the eigenbasis picked for equal eigenvalues (see the README)
const opts = { transforms: 'isobn,abtt,isobn-running', dropNonfinite: true, sampleRows: 50 };

test('natural order: part-2 before part-10', () => {
  assert.equal(naturalSort(['a/part-10.npy', 'a/part-2.npy', 'a/part-1.npy']), ['a/part-1.npy', 'a/part-2.npy', 'a/part-10.npy']);
});

test('a directory is its files in natural order (hidden and _* left out), and reads as the concatenated file', async () => {
  const dir = join(tmp.dir, 'shards');
  assert.equal(await expandInput(dir), names.map((n) => join(dir, n)));
  const src = await openEmbeddings(dir);
  assert.is(src.rows, N);
  assert.is(src.dims, D);
  assert.equal(src.files!.map((f) => f.rows), cuts.slice(1).map((c, k) => c - cuts[k]));
  const data = await collect(src, { blockRows: 64 });
  assert.ok(data.every((v, i) => Object.is(v, all[i])), 'same values, in order');
  // a range across shard boundaries
  const mid = await collect(src, { start: 250, end: 650, blockRows: 33 });
  assert.ok(mid.every((v, i) => Object.is(v, all[250 * D + i])));
  await src.close();
});

test('a sharded dataset analyses like the concatenated file (1e-12)', async () => {
  const dir = join(tmp.dir, 'shards');
  const a = await analyze([dir], opts);
  const b = await analyze([whole], opts);
  assert.is(analysisMismatch(a, b), null);
  assert.is(a.inputs[0].rows, N);
  assert.is(a.inputs[0].droppedRows, 1);
  assert.is(a.inputs[0].zeroRows, 1);
  assert.equal(a.inputs[0].files!.map((f) => f.path), names.map((n) => join(dir, n)));
  assert.ok(a.inputs[0].files!.every((f) => /^[0-9a-f]{64}$/.test(f.sha256!)), 'every shard has its sha256');
  // a glob and a --concat list give the same
  const glob = await analyze([join(dir, 'part-*.npy')], opts);
  assert.is(analysisMismatch(glob, b), null);
  const list = await analyze(names.map((n) => join(dir, n)), { ...opts, concat: true });
  assert.is(analysisMismatch(list, b), null);
  assert.is(list.inputs.length, 1);
});

test('more shards than stay open at once are reopened as they are read', async () => {
  mkdirSync(join(tmp.dir, 'many'));
  for (let k = 0; k < 20; k++) writeFileSync(join(tmp.dir, 'many', `s${k}.npy`), npy(all.subarray(k * 45 * D, (k + 1) * 45 * D), 45));
  const a = await analyze([join(tmp.dir, 'many')], opts);
  assert.is(analysisMismatch(a, await analyze([whole], opts)), null);
  assert.is(a.inputs[0].files!.length, 20);
});

test('a shard of another width, an empty directory, a glob matching nothing, mixed kinds: one-line errors', async () => {
  mkdirSync(join(tmp.dir, 'mixed-dims'));
  writeFileSync(join(tmp.dir, 'mixed-dims', 'a-1.npy'), npy(all.subarray(0, 10 * D), 10));
  writeFileSync(join(tmp.dir, 'mixed-dims', 'a-2.npy'), npy(all.subarray(0, 10 * D), 10));
  writeFileSync(join(tmp.dir, 'mixed-dims', 'a-3.npy'), npy(all.subarray(0, 10 * 11), 10, 11));
  const e = await rejects(openEmbeddings(join(tmp.dir, 'mixed-dims')), 'shard', 'a-3.npy has shape (10, 11)', 'first shard', 'a-1.npy has (10, 12)', 'same width');
  assert.not.match(e.message, /\n/);
  mkdirSync(join(tmp.dir, 'empty'));
  writeFileSync(join(tmp.dir, 'empty', '.hidden'), '');
  await rejects(openEmbeddings(join(tmp.dir, 'empty')), 'empty directory');
  await rejects(openEmbeddings(join(tmp.dir, 'nothing-*.npy')), 'matches no file');
  mkdirSync(join(tmp.dir, 'kinds'));
  writeFileSync(join(tmp.dir, 'kinds', 'a.npy'), npy(all.subarray(0, 10 * D), 10));
  writeFileSync(join(tmp.dir, 'kinds', 'b.npy'), npy(all.subarray(0, 10 * D), 10));
  writeFileSync(join(tmp.dir, 'kinds', 'a.json'), '{}');
  await rejects(openEmbeddings(join(tmp.dir, 'kinds')), 'several kinds (.json, .npy)', "kinds/*.npy'");
  await rejects(analyze([whole, whole], { concat: true, transforms: 'none', diagnostics: false, layer: 0 }), 'no layer axis');
});

test.run();
