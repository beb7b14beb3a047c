import { existsSync, readFileSync, readdirSync, symlinkSync, linkSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NpyError, NpyWriter, openNpy, parseNpyHeader, readEmbeddings, writeNpy } from '../../src/io/index.js';
import { buildNpy, collect, describeMismatch, makeTempDir, ramp, rejects, sameValues } from './helpers.js';

const tmp = makeTempDir();
test.after(() => tmp.cleanup());

function check(actual: ArrayLike<number>, expected: ArrayLike<number>, what = 'values'): void {
  assert.ok(sameValues(actual, expected), `${what}: ${describeMismatch(actual, expected)}`);
}
function freshDir(name: string): string {
  const dir = join(tmp.dir, name);
  mkdirSync(dir);
  return dir;
}

test('round trip f4 (default) and f8, from Float64Array and Float32Array', async () => {
  const dir = freshDir('roundtrip');
  const values = new Float64Array([Math.PI, -1e-30, 1e30, 0, -0, NaN, Infinity, -Infinity, 65504.5, 1 / 3, -7, 2 ** -149]);
  const p4 = join(dir, 'a4.npy');
  await writeNpy(p4, values, 3, 4);
  const r4 = await readEmbeddings(p4);
  assert.is(r4.dtype, '<f4');
  assert.equal(r4.shape, [3, 4]);
  check(r4.data, Array.from(new Float32Array(values)), 'f4');

  const p8 = join(dir, 'a8.npy');
  await writeNpy(p8, values, 3, 4, { dtype: 'f8' });
  const r8 = await readEmbeddings(p8);
  assert.is(r8.dtype, '<f8');
  check(r8.data, values, 'f8');

  const f32 = new Float32Array(values);
  const p32 = join(dir, 'b4.npy');
  await writeNpy(p32, f32, 4, 3);
  check((await readEmbeddings(p32)).data, Array.from(f32), 'f4 from Float32Array');
  const p32to8 = join(dir, 'b8.npy');
  await writeNpy(p32to8, f32, 2, 6, { dtype: 'f8' });
  check((await readEmbeddings(p32to8)).data, Array.from(f32), 'f8 from Float32Array');
  assert.equal(readdirSync(dir).sort(), ['a4.npy', 'a8.npy', 'b4.npy', 'b8.npy']);
});

test('header layout: version 1.0, 64-byte aligned data, numpy-style dict', async () => {
  const p = join(freshDir('layout'), 'h.npy');
  await writeNpy(p, ramp(6), 2, 3);
  const bytes = new Uint8Array(readFileSync(p));
  const h = parseNpyHeader(bytes);
  assert.equal(h.version, [1, 0]);
  assert.is(h.dataOffset % 64, 0);
  assert.is(bytes.length, h.dataOffset + 6 * 4);
  const text = new TextDecoder().decode(bytes.subarray(10, h.dataOffset));
  assert.ok(text.startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"), text);
  assert.ok(text.endsWith(' \n'));
});

test('streaming writer: rows in several chunks, data longer than needed', async () => {
  const dir = freshDir('stream');
  const p = join(dir, 's.npy');
  const w = await NpyWriter.create(p, 5, 3, { dtype: 'f8' });
  assert.not.ok(existsSync(p), 'target appears only at commit');
  const temps = readdirSync(dir);
  assert.is(temps.length, 1);
  assert.match(temps[0], /^s\.npy\.tmp-\d+-[0-9a-f]+$/);
  await w.write(ramp(6), 2);
  await w.write(ramp(9, 0.5, -2).subarray(6), 1);
  await w.write(new Float64Array([10, 11, 12, 13, 14, 15, 99, 99]), 2);
  await w.commit();
  await w.abort(); // no-op after commit
  assert.equal(readdirSync(dir), ['s.npy']);
  const src = await openNpy(p);
  try {
    check(await collect(src, { blockRows: 2 }), [...ramp(6), 1, 1.5, 2, 10, 11, 12, 13, 14, 15]);
  } finally {
    await src.close();
  }
});

test('abort leaves neither the target nor a temp file; twice is fine', async () => {
  const dir = freshDir('abort');
  const p = join(dir, 'x.npy');
  const w = await NpyWriter.create(p, 4, 2);
  await w.write(ramp(4), 2);
  await w.abort();
  await w.abort();
  assert.equal(readdirSync(dir), []);
  await rejects(w.write(ramp(2), 1), 'aborted');
  await rejects(w.commit(), 'aborted');
});

test('too many rows fail on write; too few fail on commit; the old target is untouched', async () => {
  const dir = freshDir('wrongrows');
  const p = join(dir, 'old.npy');
  const old = buildNpy({ descr: '<f4', shape: [1, 2], values: [7, 8] });
  writeFileSync(p, old);

  const w1 = await NpyWriter.create(p, 3, 2);
  await w1.write(ramp(4), 2);
  await rejects(w1.commit(), '2 rows written', 'declares 3');
  assert.equal(readdirSync(dir), ['old.npy']);
  assert.equal(new Uint8Array(readFileSync(p)), old);

  const w2 = await NpyWriter.create(p, 3, 2);
  await w2.write(ramp(4), 2);
  await rejects(w2.write(ramp(4), 2), 'declares 3');
  assert.equal(readdirSync(dir), ['old.npy']);
  assert.equal(new Uint8Array(readFileSync(p)), old);

  const w3 = await NpyWriter.create(p, 3, 2);
  await rejects(w3.write(ramp(4), 3), 'need 6 values');
  assert.equal(readdirSync(dir), ['old.npy']);

  // A successful write replaces it.
  await writeNpy(p, ramp(6), 3, 2);
  check((await readEmbeddings(p)).data, ramp(6));
  assert.equal(readdirSync(dir), ['old.npy']);
});

test('refuses to overwrite an input: same path, relative path, symlink, hard link', async () => {
  const dir = freshDir('protect');
  const input = join(dir, 'in.npy');
  const bytes = buildNpy({ descr: '<f4', shape: [2, 2], values: [1, 2, 3, 4] });
  writeFileSync(input, bytes);
  const link = join(dir, 'link.npy');
  symlinkSync(input, link);
  const hard = join(dir, 'hard.npy');
  linkSync(input, hard);
  const dirLink = join(tmp.dir, 'protect-link');
  symlinkSync(dir, dirLink);

  const targets = [input, join(dir, '.', 'in.npy'), link, hard, join(dirLink, 'in.npy')];
  for (const target of targets) {
    const err = await rejects(writeNpy(target, ramp(4), 2, 2, { protect: [input] }), `refusing to overwrite the input file ${input}: choose another output path`);
    assert.instance(err, NpyError);
    // Also when the input is named through the link.
    await rejects(NpyWriter.create(input, 2, 2, { protect: [target] }), 'refusing to overwrite the input file');
  }
  const rel = await rejects(writeNpy(input, ramp(4), 2, 2, { protect: [join(dir, '..', 'protect', 'in.npy')] }), 'refusing');
  assert.instance(rel, NpyError);
  assert.equal(new Uint8Array(readFileSync(input)), bytes);
  assert.equal(readdirSync(dir).sort(), ['hard.npy', 'in.npy', 'link.npy']);

  // Other outputs next to the input are fine.
  await writeNpy(join(dir, 'out.npy'), ramp(4), 2, 2, { protect: [input, join(dir, 'missing.npy')] });
  check((await readEmbeddings(join(dir, 'out.npy'))).data, ramp(4));
});

test('missing output folder and directory target are NpyErrors naming them', async () => {
  const missingDir = join(tmp.dir, 'no', 'such');
  const target = join(missingDir, 'o.npy');
  const err = await rejects(writeNpy(target, ramp(4), 2, 2), target, missingDir, 'does not exist');
  assert.instance(err, NpyError);
  const dir = freshDir('isdir');
  await rejects(writeNpy(dir, ramp(4), 2, 2), dir, 'is a directory');
  assert.equal(readdirSync(dir), []);
});

test('bad sizes are programmer errors', async () => {
  const p = join(freshDir('sizes'), 'x.npy');
  await rejects(NpyWriter.create(p, -1, 2), 'non-negative');
  await rejects(NpyWriter.create(p, 1.5, 2), 'non-negative');
  await rejects(NpyWriter.create(p, 1, 2, { dtype: 'f2' as 'f4' }), 'dtype');
});

test('rowShape writes an (n, L, d) array that reads back layer by layer', async () => {
  const values = ramp(2 * 3 * 4); // 2 rows of 3 layers x 4 dims
  const p = join(freshDir('rowshape'), 'layers.npy');
  await writeNpy(p, values, 2, 12, { rowShape: [3, 4] });
  const back = await readEmbeddings(p, { layer: 1 });
  assert.equal(back.shape, [2, 3, 4]);
  check(back.data, [...values.subarray(4, 8), ...values.subarray(16, 20)]);
  await rejects(NpyWriter.create(p, 2, 12, { rowShape: [5, 4] }), 'rowShape');
  assert.equal(readdirSync(join(p, '..')), ['layers.npy'], 'a refused create leaves no temp file');
});

test('allowFewerRows: the header is rewritten in place with the rows actually written', async () => {
  const dir = freshDir('fewer');
  const values = ramp(7 * 3 * 4);
  for (const written of [7, 3, 0]) {
    const p = join(dir, `fewer-${written}.npy`);
    // 123456 declared rows print longer than 3: the shorter shape is padded to the same header size.
    const w = await NpyWriter.create(p, 123456, 12, { rowShape: [3, 4], allowFewerRows: true });
    await w.write(values, written);
    await w.commit();
    const bytes = readFileSync(p);
    assert.is(bytes.length, 128 + written * 12 * 4, 'the data still starts at byte 128');
    assert.is(parseNpyHeader(bytes).shape.join(','), `${written},3,4`);
    if (written > 0) check((await readEmbeddings(p, { layer: 2 })).data.subarray(0, 4), values.subarray(8, 12));
  }
  const strict = await NpyWriter.create(join(dir, 'strict.npy'), 5, 12);
  await strict.write(values, 3);
  await rejects(strict.commit(), '3 rows written but the header declares 5');
});

test('a larger write goes through the chunked conversion', async () => {
  const [n, d] = [3000, 500]; // 1.5M values: more than one conversion chunk
  const values = new Float64Array(n * d);
  for (let k = 0; k < values.length; k++) values[k] = (k % 977) - 400.25;
  const p = join(freshDir('large'), 'big.npy');
  await writeNpy(p, values, n, d);
  check((await readEmbeddings(p)).data, values);
});

test.run();
