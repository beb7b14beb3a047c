import { existsSync, mkdirSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NpyError, openNpy, readEmbeddings } from '../../src/io/index.js';
import { readerTuning } from '../../src/io/npy-reader.js';
import { buildNpy, collect, describeMismatch, makeTempDir, ramp, rejects, sameValues } from './helpers.js';

const isRangeError = (e: unknown): boolean => e instanceof RangeError;

const tmp = makeTempDir();
test.after(() => tmp.cleanup());

let counter = 0;
function file(bytes: Uint8Array, name = `r${counter++}.npy`): string {
  return tmp.file(name, bytes);
}
function check(actual: ArrayLike<number>, expected: ArrayLike<number>, what = 'values'): void {
  assert.ok(sameValues(actual, expected), `${what}: ${describeMismatch(actual, expected)}`);
}
/** Row-major (n, d) slice of layer l from C-order (n, L, d) values. */
function layerOf(values: Float64Array, n: number, L: number, d: number, l: number): Float64Array {
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) out.set(values.subarray((i * L + l) * d, (i * L + l + 1) * d), i * d);
  return out;
}
/** Open descriptors of this process; -1 where /proc is missing (non-Linux), which makes the fd checks trivially pass. */
function openFds(): number {
  return existsSync('/proc/self/fd') ? readdirSync('/proc/self/fd').length : -1;
}
const HAS_PROC = existsSync('/proc/self/fd');

test('format versions 1.0, 2.0 and 3.0 read the same data', async () => {
  const values = ramp(5 * 7);
  for (const version of [1, 2, 3] as const) {
    const src = await openNpy(file(buildNpy({ descr: '<f4', shape: [5, 7], values, version })));
    assert.is(src.rows, 5);
    assert.is(src.dims, 7);
    assert.equal([...src.shape], [5, 7]);
    assert.is(src.layer, null);
    assert.is(src.fortranOrder, false);
    check(await collect(src), values, `v${version}`);
    await src.close();
  }
});

test('source metadata and readEmbeddings result', async () => {
  const p = file(buildNpy({ descr: '<f8', shape: [4, 3], values: ramp(12) }));
  const r = await readEmbeddings(p);
  assert.is(r.rows, 4);
  assert.is(r.dims, 3);
  assert.is(r.dtype, '<f8');
  assert.is(r.fortranOrder, false);
  assert.equal(r.shape, [4, 3]);
  assert.is(r.layer, null);
  assert.equal(r.notes, []);
  check(r.data, ramp(12));
  const src = await openNpy(p);
  assert.is(src.path, p);
});

test('Fortran order 2-D, every dtype family and block size', async () => {
  const n = 7;
  const d = 5;
  const values = ramp(n * d);
  for (const descr of ['<f4', '>f8', '<f2', '>i2', '|u1']) {
    const vals = descr === '|u1' ? ramp(n * d, 1, 0) : descr === '>i2' ? ramp(n * d, 1, -20) : values;
    const src = await openNpy(file(buildNpy({ descr, shape: [n, d], values: vals, fortranOrder: true })));
    assert.is(src.fortranOrder, true);
    for (const blockRows of [1, 3, 7, 1000]) check(await collect(src, { blockRows }), vals, `${descr} F blockRows=${blockRows}`);
    check(await collect(src, { start: 2, end: 6, blockRows: 3 }), vals.subarray(2 * d, 6 * d), `${descr} F range`);
  }
});

test('3-D C order: default last layer, explicit, negative', async () => {
  const [n, L, d] = [6, 4, 3];
  const values = ramp(n * L * d);
  const p = file(buildNpy({ descr: '<f4', shape: [n, L, d], values }));
  const last = await openNpy(p);
  assert.is(last.layer, 3);
  assert.is(last.rows, n);
  assert.is(last.dims, d);
  assert.equal([...last.shape], [n, L, d]);
  assert.equal(last.notes, []);
  check(await collect(last), layerOf(values, n, L, d, 3), 'default layer');
  for (const [layer, idx] of [[0, 0], [2, 2], [-1, 3], [-4, 0], [-3, 1]]) {
    const src = await openNpy(p, { layer });
    assert.is(src.layer, idx);
    for (const blockRows of [1, 4, 100]) {
      check(await collect(src, { blockRows }), layerOf(values, n, L, d, idx), `layer ${layer} blockRows=${blockRows}`);
    }
    check(await collect(src, { start: 1, end: 5, blockRows: 2 }), layerOf(values, n, L, d, idx).subarray(d, 5 * d), `layer ${layer} range`);
    const r = await readEmbeddings(p, { layer });
    check(r.data, layerOf(values, n, L, d, idx));
    assert.is(r.layer, idx);
  }
});

test('3-D Fortran order and big-endian f2', async () => {
  const [n, L, d] = [5, 3, 4];
  const values = ramp(n * L * d);
  for (const descr of ['<f4', '>f2', '>f8']) {
    const p = file(buildNpy({ descr, shape: [n, L, d], values, fortranOrder: true }));
    for (const layer of [0, 1, -1]) {
      const src = await openNpy(p, { layer });
      for (const blockRows of [1, 2, 5, 99]) {
        check(await collect(src, { blockRows }), layerOf(values, n, L, d, src.layer!), `${descr} F layer ${layer} blockRows=${blockRows}`);
      }
      check(await collect(src, { start: 3, end: 5 }), layerOf(values, n, L, d, src.layer!).subarray(3 * d), `${descr} F layer ${layer} range`);
    }
  }
});

test('layer errors: out of range, non-integer, given for a 2-D file', async () => {
  const p3 = file(buildNpy({ descr: '<f4', shape: [2, 3, 2], values: ramp(12) }));
  await rejects(openNpy(p3, { layer: 3 }), `${p3}: `, 'layer 3 is out of range', '3 layers');
  await rejects(openNpy(p3, { layer: -4 }), `${p3}: `, 'layer -4 is out of range');
  await rejects(openNpy(p3, { layer: 1.5 }), `${p3}: `, 'integer');
  const p2 = file(buildNpy({ descr: '<f4', shape: [2, 3], values: ramp(6) }));
  await rejects(openNpy(p2, { layer: 0 }), `${p2}: `, 'has no layer axis');
  await rejects(openNpy(p2, { layer: -1 }), `${p2}: `, 'has no layer axis');
});

test('blockRows 1 / 3 / huge / default give identical data; start/end ranges', async () => {
  const [n, d] = [10, 6];
  const values = ramp(n * d);
  const src = await openNpy(file(buildNpy({ descr: '<f4', shape: [n, d], values })));
  const whole = await collect(src);
  check(whole, values);
  for (const blockRows of [1, 3, 4, 10, 11, 1e9]) check(await collect(src, { blockRows }), values, `blockRows=${blockRows}`);
  const sizes: number[] = [];
  for await (const b of src.blocks({ blockRows: 3 })) sizes.push(b.rows);
  assert.equal(sizes, [3, 3, 3, 1]);
  for (const [start, end] of [[0, 10], [0, 1], [3, 7], [9, 10], [4, 4]]) {
    check(await collect(src, { start, end, blockRows: 3 }), values.subarray(start * d, end * d), `[${start}, ${end})`);
  }
  check(await collect(src, { start: 8 }), values.subarray(8 * d), 'start only');
  check(await collect(src, { end: 2 }), values.subarray(0, 2 * d), 'end only');
});

test('blocks() rejects bad options synchronously', async () => {
  const src = await openNpy(file(buildNpy({ descr: '<f4', shape: [3, 2], values: ramp(6) })));
  for (const opts of [{ blockRows: 0 }, { blockRows: 1.5 }, { start: -1 }, { end: 4 }, { start: 2, end: 1 }]) {
    assert.throws(() => src.blocks(opts), isRangeError);
  }
});

test('blocks are fresh arrays and several passes work', async () => {
  const src = await openNpy(file(buildNpy({ descr: '<f8', shape: [4, 2], values: ramp(8) })));
  const kept: Float64Array[] = [];
  for await (const b of src.blocks({ blockRows: 2 })) kept.push(b.data);
  kept[0][0] = 1234;
  check(await collect(src), ramp(8), 'second pass unaffected');
  assert.is.not(kept[0].buffer, kept[1].buffer);
  const [a, b] = await Promise.all([collect(src, { blockRows: 1 }), collect(src, { blockRows: 3 })]);
  check(a, ramp(8));
  check(b, ramp(8));
});

test('rawBlocks: float32 as stored in two reused arrays, other layouts as blocks() gives them', async () => {
  const [n, d] = [10, 3];
  const values = ramp(n * d);
  const src = await openNpy(file(buildNpy({ descr: '<f4', shape: [n, d], values })));
  for (const opts of [{ blockRows: 3 }, { blockRows: 3, start: 2, end: 9 }, {}]) {
    const got: number[] = [];
    const buffers = new Set<ArrayBufferLike>();
    let at = opts.start ?? 0;
    for await (const b of src.rawBlocks!(opts)) {
      assert.ok(b.data instanceof Float32Array);
      assert.is(b.start, at);
      assert.is(b.data.length, b.rows * d);
      at += b.rows;
      buffers.add(b.data.buffer);
      got.push(...b.data); // copied now: the array is reused by the block after next
    }
    assert.is(at, opts.end ?? n);
    assert.ok(buffers.size <= 2, `${buffers.size} buffers`);
    check(Float64Array.from(got), values.subarray((opts.start ?? 0) * d, (opts.end ?? n) * d), JSON.stringify(opts));
  }
  // float64, big-endian, Fortran order and layered files: float64 blocks, the same values as blocks()
  for (const build of [
    { descr: '<f8', shape: [n, d] },
    { descr: '>f4', shape: [n, d] },
    { descr: '<f4', shape: [n, d], fortranOrder: true },
    { descr: '<f4', shape: [n / 2, 2, d] },
  ]) {
    const other = await openNpy(file(buildNpy({ ...build, values })));
    const got: number[] = [];
    for await (const b of other.rawBlocks!({ blockRows: 4 })) {
      assert.ok(b.data instanceof Float64Array, build.descr);
      got.push(...b.data);
    }
    check(Float64Array.from(got), await collect(other), JSON.stringify(build));
  }
});

test('abandoning an iteration (break or throw) closes its file handle', async () => {
  const src = await openNpy(file(buildNpy({ descr: '<f4', shape: [50, 4], values: ramp(200) })));
  const before = openFds();
  for await (const b of src.blocks({ blockRows: 1 })) {
    if (HAS_PROC) assert.ok(openFds() > before, 'a handle is open during iteration');
    if (b.start === 3) break;
  }
  assert.is(openFds(), before);
  try {
    for await (const b of src.blocks({ blockRows: 1 })) if (b.start === 2) throw new Error('consumer failed');
  } catch (err) {
    assert.is((err as Error).message, 'consumer failed');
  }
  assert.is(openFds(), before);
});

test('close() releases handles of a running iteration and forbids new ones', async () => {
  const src = await openNpy(file(buildNpy({ descr: '<f4', shape: [5, 4], values: ramp(20) })));
  const before = openFds();
  const it = src.blocks({ blockRows: 1 })[Symbol.asyncIterator]();
  await it.next();
  if (HAS_PROC) assert.ok(openFds() > before);
  await src.close();
  assert.is(openFds(), before);
  await rejects(it.next(), 'closed');
  await src.close();
  assert.throws(() => src.blocks(), /close/);
});

test('shapes other than 2-D and 3-D are refused with the fix', async () => {
  const p1 = file(buildNpy({ descr: '<f4', shape: [768], values: ramp(768) }));
  await rejects(
    openNpy(p1),
    `${p1}: `,
    'expected a 2-D (n, d) or 3-D (n, layers, d) array; got shape (768,): reshape with arr.reshape(1, -1) or save the stacked embeddings',
  );
  const p0 = file(buildNpy({ descr: '<f4', shape: [], values: [1] }));
  await rejects(openNpy(p0), `${p0}: `, 'got shape ()');
  const p4 = file(buildNpy({ descr: '<f4', shape: [2, 1, 1, 3], values: ramp(6) }));
  await rejects(openNpy(p4), `${p4}: `, 'got shape (2, 1, 1, 3)', 'reshape');
});

test('no rows / no columns / no layers are refused', async () => {
  for (const shape of [[0, 768], [5, 0], [0, 0], [3, 0, 4], [0, 2, 4]]) {
    const p = file(buildNpy({ descr: '<f4', shape, values: [] }));
    await rejects(openNpy(p), `${p}: `, 'no rows');
  }
});

test('data size must match the header exactly', async () => {
  const good = buildNpy({ descr: '<f4', shape: [3, 4], values: ramp(12) });
  const short = file(good.subarray(0, good.length - 8));
  await rejects(
    openNpy(short),
    `${short}: `,
    'truncated: header says (3, 4) <f4 = 48 bytes of data but the file holds 40 bytes; the file was cut off while writing, re-save it',
  );
  const long = new Uint8Array(good.length + 5);
  long.set(good);
  const lp = file(long);
  await rejects(openNpy(lp), `${lp}: `, 'has 5 bytes after the data');
  const headerOnly = file(good.subarray(0, good.length - 48));
  await rejects(openNpy(headerOnly), 'holds 0 bytes');
});

test('missing file, directory, empty file, bad magic, header past EOF', async () => {
  const missing = `${tmp.dir}/nope.npy`;
  const e = await rejects(openNpy(missing), `${missing}: `, `no such file: ${missing}`);
  assert.instance(e, NpyError);
  assert.is((e as NpyError).isUserError, true);
  await rejects(openNpy(`${tmp.dir}/nope/dir/x.npy`), 'no such file');
  await rejects(readEmbeddings(missing), 'no such file');

  const dir = `${tmp.dir}/adir.npy`;
  mkdirSync(dir);
  await rejects(openNpy(dir), `${dir}: `, 'is a directory');

  const empty = file(new Uint8Array(0));
  await rejects(openNpy(empty), `${empty}: `, 'empty file');

  const text = file(new TextEncoder().encode('0.1 0.2 0.3\n0.4 0.5 0.6\n'), 'vectors.txt');
  await rejects(openNpy(text), `${text}: `, 'not a .npy file (bad magic)');
  const tiny = file(Uint8Array.of(1, 2));
  await rejects(openNpy(tiny), `${tiny}: `, 'not a .npy file (bad magic)');

  const good = buildNpy({ descr: '<f4', shape: [3, 4], values: ramp(12) });
  const cut = file(good.subarray(0, 40));
  await rejects(openNpy(cut), `${cut}: `, 'past the end of the file');
  const preamble = file(good.subarray(0, 7));
  await rejects(openNpy(preamble), `${preamble}: `, 'truncated');
  const hugeLen = good.slice();
  new DataView(hugeLen.buffer).setUint16(8, 60000, true);
  const hl = file(hugeLen);
  await rejects(openNpy(hl), `${hl}: `, 'past the end of the file');
});

test('zip (.npz) and pickle files get their own messages', async () => {
  const zip = file(Uint8Array.of(0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0, 8, 0, 1, 2, 3, 4), 'a.npz');
  await rejects(openNpy(zip), `${zip}: `, 'not a .npy file', "extract the array with np.load(f)['name'] and np.save it");
  const pkl = file(Uint8Array.of(0x80, 0x04, 0x95, 0x10, 0, 0, 0, 0, 0, 0, 0, 0), 'a.pkl');
  await rejects(openNpy(pkl), `${pkl}: `, 'not a .npy file', 'pickle');
});

test('a hostile header is never evaluated', async () => {
  const marker = `${tmp.dir}/pwned`;
  const header = `{'descr': '<f4', 'fortran_order': __import__('os').system('touch ${marker}'), 'shape': (1, 1), }`;
  const p = file(buildNpy({ descr: '<f4', shape: [1, 1], header, values: [1] }));
  await rejects(openNpy(p), `${p}: `, 'unparseable');
  assert.not.ok(readdirSync(tmp.dir).includes('pwned'));
});

test('a file that shrinks after opening fails clearly', async () => {
  const p = file(buildNpy({ descr: '<f4', shape: [4, 4], values: ramp(16) }));
  const src = await openNpy(p);
  truncateSync(p, 100);
  await rejects(collect(src), `${p}: `, 'changed');
  writeFileSync(p, new Uint8Array(0));
});

test('large C-order f4 file reads exactly (fast path)', async () => {
  const [n, d] = [4000, 256];
  const values = new Float64Array(n * d);
  for (let k = 0; k < values.length; k++) values[k] = Math.fround(Math.sin(k) * 10);
  const p = file(buildNpy({ descr: '<f4', shape: [n, d], values }));
  // no assertion on the time it takes: the tests run on busy machines (bench/ measures speed)
  const r = await readEmbeddings(p);
  check(r.data, values, 'big <f4');
  check(await collect(await openNpy(p), { blockRows: 333 }), values, 'big <f4 blocks');
});

test('large-file read strategies (per-row, grouped spans, per-column, panels) agree', async () => {
  const saved = { ...readerTuning };
  try {
    const [n, L, d] = [9, 3, 5];
    const values = ramp(n * L * d);
    for (const fortranOrder of [false, true]) {
      for (const descr of ['<f4', '>f8', '<f2']) {
        const p = file(buildNpy({ descr, shape: [n, L, d], values, fortranOrder }));
        for (const tuning of [
          { maxSpanBytes: 1, panelBytes: 1, smallGapBytes: 0 }, // per-row / per-column reads
          { maxSpanBytes: 2 * L * d * 8, panelBytes: 3 * n * L * 8, smallGapBytes: 1 << 20 }, // small groups / panels
          saved,
        ]) {
          Object.assign(readerTuning, tuning);
          for (const layer of [0, 1, -1]) {
            const src = await openNpy(p, { layer });
            const want = layerOf(values, n, L, d, src.layer!);
            for (const blockRows of [1, 2, 4, 9]) {
              check(await collect(src, { blockRows }), want, `${descr} F=${fortranOrder} ${JSON.stringify(tuning)} layer ${layer} blockRows ${blockRows}`);
            }
            check(await collect(src, { start: 2, end: 7, blockRows: 2 }), want.subarray(2 * d, 7 * d), 'range');
          }
        }
      }
    }
  } finally {
    Object.assign(readerTuning, saved);
  }
});

test.run();
